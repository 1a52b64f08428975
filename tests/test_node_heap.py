"""node_heap: V8's heap-death report, GC lines and process.memoryUsage() in a Node process's stderr.

Expected figures are read off the sample text by hand (V8's MB are MiB: x 1048576, rounded).
"""
from __future__ import annotations

import io


import parsers
from parsers import node_heap
from parsers.context import Context
from parsers.testing import run

from .helpers import accounted, assert_accounted, ingest, line_count, sample

MOD = "parsers.node_heap"
DIR = "node-heap-oom/"
MB = 1048576


def mb(x: str) -> int:
    return round(float(x) * MB)


def read(name: str):
    data = sample(DIR + name).read_bytes()
    events, rejects = run(MOD, data)
    assert_accounted(data, events, rejects)
    assert {e.ts_us for e in events} == {None} and {e.ts_quality for e in events} == {"untimed"}
    return data, events, rejects


# --- the real files ---------------------------------------------------------------------------------------------

def test_lab_reached_heap_limit():
    _, events, rejects = read("lab-node20.20.2-reached-heap-limit.stderr.txt")
    assert [(r.line, r.reason) for r in rejects] == [(1, "blank line")]
    assert [(e.kind, e.line, e.line_end, e.nlines) for e in events] == [("heap_oom", 2, 25, 23), ("gc", 4, 4, None)]
    oom, gc = events
    assert oom.attrs == {"reason": "Reached heap limit", "heap_bytes": mb("46.4"), "pid": 21088,
                         "isolate": "0x3b87bfb0", "ms_since_start": 570}
    assert oom.pid == 21088
    assert oom.message.startswith("<--- Last few GCs --->\n\n\n\n<--- JS stacktrace --->")
    assert "[21088:" not in oom.message
    assert oom.message.endswith("14: 0x195e476  [node]")
    assert gc.attrs == {"gc_type": "Mark-Compact (reduce)", "pid": 21088, "isolate": "0x3b87bfb0",
                        "ms_since_start": 570, "heap_before_bytes": mb("46.6"), "heap_after_bytes": mb("46.4"),
                        "committed_before_bytes": mb("49.7"), "committed_after_bytes": mb("50.4"),
                        "pause_ms": 38.95, "reason": "allocation failure; GC in old space requested",
                        "average_mu": 0.271, "current_mu": 0.265}
    assert gc.attrs["heap_after_bytes"] == 48653926


def test_lab_ineffective_mark_compacts_with_scavenges_and_trailing_spaces():
    _, events, rejects = read("lab-node20.20.2-ineffective-mark-compacts.stderr.txt")
    assert [r.line for r in rejects] == [1]
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 2, 23), ("gc", 4, 4), ("gc", 5, 5)]
    oom, g1, g2 = events
    assert oom.attrs["reason"] == "Ineffective mark-compacts near heap limit"
    assert oom.attrs["heap_bytes"] == mb("92.9") and oom.attrs["ms_since_start"] == 1929
    assert (g1.attrs["gc_type"], g1.attrs["reason"], g1.attrs["pause_ms"], g1.attrs["ms_since_start"]) == (
        "Scavenge", "allocation failure", 1.99, 1858)
    assert (g2.attrs["gc_type"], g2.attrs["reason"], g2.attrs["heap_before_bytes"],
            g2.attrs["committed_after_bytes"]) == ("Scavenge (reduce)", "task", mb("93.8"), mb("96.0"))


def test_linux_issue_excerpt():
    _, events, rejects = read("issue-nodejs-node-8162-linux-excerpt.txt")
    assert rejects == []
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 1, 18), ("gc", 3, 3), ("gc", 4, 4)]
    assert events[0].attrs == {"reason": "Ineffective mark-compacts near heap limit", "heap_bytes": mb("948.4"),
                               "pid": 398, "isolate": "0x58e8740", "ms_since_start": 192901}
    g = events[2].attrs
    assert (g["gc_type"], g["heap_before_bytes"], g["committed_before_bytes"], g["pause_ms"], g["reason"]) == (
        "Mark-sweep", mb("949.5"), mb("965.9"), 1703.2, "allocation failure; scavenge might not succeed")


def test_macos_issue_excerpt():
    _, events, rejects = read("issue-mantlenetworkio-blockscout-21-macos-excerpt.txt")
    assert rejects == []
    assert [(e.kind, e.line, e.line_end, e.nlines) for e in events] == [
        ("heap_oom", 1, 15, 13), ("gc", 3, 3, None), ("gc", 4, 4, None)]
    assert events[0].attrs["heap_bytes"] == mb("3807.8") and events[0].attrs["pid"] == 51553
    assert events[0].message.endswith("[/usr/local/bin/node]")
    assert events[1].attrs["reason"] == "allocation failure scavenge might not succeed"
    assert events[2].attrs["reason"] == "task scavenge might not succeed"
    assert events[2].attrs["ms_since_start"] == 1059473


def test_windows_issue_excerpt_with_js_stack():
    _, events, rejects = read("issue-nodejs-node-29800-windows-js-stack-excerpt.txt")
    assert rejects == []
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 1, 20), ("gc", 3, 3), ("gc", 4, 4)]
    oom = events[0]
    assert oom.attrs == {"reason": "Ineffective mark-compacts near heap limit", "heap_bytes": mb("6728.3"),
                         "pid": 6688, "isolate": "00000265CEB76EB0", "ms_since_start": 410012447}
    assert "==== JS stack trace ====" in oom.message and "Security context:" in oom.message
    assert oom.message.endswith("v8::internal::FatalProcessOutOfMemory+846")


# --- forms not in the samples ----------------------------------------------------------------------------------

def test_trace_gc_lines_and_app_output():
    text = ("listening on 3000\n"
            "[12345:0x5a0c1e0]      123 ms: Scavenge 5.1 (6.2) -> 4.9 (7.2) MB, 0.8 / 0.0 ms  "
            "(average mu = 1.000, current mu = 1.000) allocation failure; \n"
            "[12345:0x5a0c1e0]    65432 ms: Mark-Compact 2040.3 (2083.2) -> 2039.8 (2084.4) MB, 1234.5 / 0.0 ms  "
            "(average mu = 0.123, current mu = 0.045) allocation failure; scavenge might not succeed\n"
            "[12345:0x5a0c1e0]    70000 ms: Scavenge 5.1 (6.2) -> 4.9 (7.2) MB, pooled: 0.0 MB, 0.5 / 0.0 ms  "
            "(average mu = 0.9, current mu = 0.9) task; \n"
            "    6012 ms: Mark-sweep 1391.2 (1458.5) -> 1391.2 (1458.5) MB, 1708.5 / 0.0 ms "
            "[allocation failure] [GC in old space requested].\n"
            "Error: boom\n    at f (/app/x.js:1:2)\n\n")
    events, rejects = run(MOD, text)
    assert_accounted(text.encode(), events, rejects)
    assert [(e.kind, e.line, e.line_end) for e in events] == [
        ("log", 1, 1), ("gc", 2, 2), ("gc", 3, 3), ("gc", 4, 4), ("gc", 5, 5), ("log", 6, 7)]
    assert [(r.line, r.reason) for r in rejects] == [(8, "blank line")]
    a = events[2].attrs
    assert a == {"gc_type": "Mark-Compact", "pid": 12345, "isolate": "0x5a0c1e0", "ms_since_start": 65432,
                 "heap_before_bytes": 2139409613, "heap_after_bytes": 2138885325,
                 "committed_before_bytes": 2184393523, "committed_after_bytes": 2185651814, "pause_ms": 1234.5,
                 "reason": "allocation failure; scavenge might not succeed", "average_mu": 0.123,
                 "current_mu": 0.045}
    assert events[3].attrs["reason"] == "task" and events[3].attrs["heap_after_bytes"] == mb("4.9")
    old = events[4].attrs
    assert (old["pid"], old["isolate"], old["reason"]) == (None, None, "allocation failure; GC in old space requested")


def test_old_node_report_with_js_stack_then_call_and_retry_last():
    text = ("<--- Last few GCs --->\n\n"
            "    6012 ms: Mark-sweep 1391.2 (1458.5) -> 1391.2 (1458.5) MB, 1708.5 / 0.0 ms "
            "[allocation failure] [GC in old space requested].\n\n"
            "<--- JS stacktrace --->\n\n"
            "==== JS stack trace =========================================\n\n"
            "Security context: 0x2c8f3fccfb51 <JSObject>\n"
            "    1: stringify(aka stringify) [native json.js:178] [pc=0x3d9a5b6d4c2b] (this=0x2c8f3fce4b61)\n"
            "\n"
            "FATAL ERROR: CALL_AND_RETRY_LAST Allocation failed - JavaScript heap out of memory\n"
            " 1: node::Abort() [node]\n"
            " 2: 0x10d3f9c [node]\n"
            "Aborted (core dumped)\n")
    events, rejects = run(MOD, text)
    assert_accounted(text.encode(), events, rejects)
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 1, 14), ("gc", 3, 3), ("log", 15, 15)]
    assert events[0].attrs == {"reason": "CALL_AND_RETRY_LAST", "heap_bytes": mb("1391.2"), "pid": None,
                               "isolate": None, "ms_since_start": 6012}


def test_report_cut_before_fatal_and_fatal_alone():
    text = ("<--- Last few GCs --->\n\n"
            "[1:0x1]  10 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.1 / 0.0 ms  allocation failure; \n\n"
            "<--- JS stacktrace --->\n")
    events, rejects = run(MOD, text)
    assert_accounted(text.encode(), events, rejects)
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 1, 5), ("gc", 3, 3)]
    assert events[0].attrs["reason"] is None and events[0].attrs["heap_bytes"] == mb("0.5")
    text = "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb7 x [node]\n\nbye\n"
    events, rejects = run(MOD, text)
    assert [(e.kind, e.line, e.line_end) for e in events] == [("heap_oom", 1, 2), ("log", 4, 4)]
    assert events[0].attrs == {"reason": "Reached heap limit", "heap_bytes": None, "pid": None, "isolate": None,
                               "ms_since_start": None}
    assert [r.line for r in rejects] == [3]
    # a JS stack part with no FATAL line for longer than V8 writes ends at its marker
    text = "<--- JS stacktrace --->\n" + "app line\n" * (node_heap.JS_MAX + 5) + "<--- JS stacktrace --->\n"
    events, rejects = run(MOD, text)
    assert_accounted(text.encode(), events, rejects)
    assert (events[0].kind, events[0].line, events[0].line_end) == ("heap_oom", 1, 1)
    assert events[1].kind == "log" and events[-1].kind == "heap_oom"


def test_memory_usage_json_inspect_and_multiline():
    text = ('{"rss":30932992,"heapTotal":4730880,"heapUsed":4000664,"external":1401583,"arrayBuffers":10515}\n'
            "mem { rss: 100, heapTotal: 200, heapUsed: 150, external: 5 }\n"
            "memory usage {\n"
            "  rss: 49152000,\n"
            "  heapTotal: 6000000,\n"
            "  heapUsed: 5000000,\n"
            "  external: 1000,\n"
            "  arrayBuffers: 20\n"
            "}\n"
            "{ a: 1 }\n"
            "{\n  rss: 1,\n  other: 2\n}\n")
    events, rejects = run(MOD, text)
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    ms = [e for e in events if e.kind == "memory_sample"]
    assert [(e.line, e.line_end, e.nlines, e.attrs["metric"], e.attrs["bytes"]) for e in ms] == [
        (1, 1, None, "rss", 30932992), (1, 1, 0, "heap_total", 4730880), (1, 1, 0, "heap_used", 4000664),
        (1, 1, 0, "external", 1401583), (1, 1, 0, "array_buffers", 10515),
        (2, 2, None, "rss", 100), (2, 2, 0, "heap_total", 200), (2, 2, 0, "heap_used", 150),
        (2, 2, 0, "external", 5),
        (3, 9, None, "rss", 49152000), (3, 9, 0, "heap_total", 6000000), (3, 9, 0, "heap_used", 5000000),
        (3, 9, 0, "external", 1000), (3, 9, 0, "array_buffers", 20)]
    assert ms[-1].message.startswith("memory usage {\n  rss: 49152000,")
    assert [(e.kind, e.line) for e in events if e.kind != "memory_sample"] == [
        ("log", 10), ("log", 11), ("log", 12), ("log", 13), ("log", 14)]


def test_classify_block_for_other_parsers():
    lines = ["Server started", "",
             "<--- Last few GCs --->", "",
             "[9:0x2]   500 ms: Mark-Compact 46.6 (49.7) -> 46.4 (50.4) MB, 38.9 / 0.0 ms  allocation failure; ",
             "", "<--- JS stacktrace --->", "",
             "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
             "----- Native stack trace -----", "", " 1: 0xb78db3 node::OOMErrorHandler() [node]",
             "", '{"rss":1,"heapTotal":2,"heapUsed":3}']
    got = node_heap.classify_block(lines)
    assert [(k, f, l) for k, _, f, l in got] == [
        ("heap_oom", 2, 11), ("gc", 4, 4), ("memory_sample", 13, 13), ("memory_sample", 13, 13),
        ("memory_sample", 13, 13)]
    assert got[0][1]["heap_bytes"] == mb("46.4") and got[0][1]["pid"] == 9
    found = node_heap.scan(lines)
    assert sum(f.nlines for f in found) == len(lines)
    assert sorted(i for f in found for i in f.held) == list(range(len(lines)))
    assert node_heap.classify_block([]) == [] and node_heap.classify_block(["just text", ""]) == []


def test_empty_crlf_invalid_utf8_and_start_line():
    assert run(MOD, b"") == ([], [])
    data = (b"[1:0x1]  10 ms: Scavenge 1.0 (2.0) -> 0.5 (2.0) MB, 0.1 / 0.0 ms  task; \r\n\xff\xfe\r\n")
    events, rejects = run(MOD, data)
    assert [(e.kind, e.line) for e in events] == [("gc", 1), ("log", 2)] and events[1].message == "\ufffd\ufffd"
    out = list(node_heap.parse(io.BytesIO(b"a\n\nb"), Context(), 41))
    assert [(o.line, type(o).__name__) for o in out] == [(41, "Event"), (42, "Reject"), (43, "Event")]


# --- sniffing ---------------------------------------------------------------------------------------------------

def test_pm2_error_log_stays_with_pm2_app_unless_mostly_v8():
    # an app's error log with a stack trace and a heap death at the end: mostly the app's own lines
    head = ["Error: listen EADDRINUSE", "    at a (x.js:1:1)", "    at b (x.js:2:1)", "    at c (x.js:3:1)",
            "    at d (x.js:4:1)", "    at e (x.js:5:1)", "    at f (x.js:6:1)",
            "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", " 1: 0x1 x [node]"]
    assert node_heap.sniff(head) == 0
    # PM2's --time prefix: V8's lines are not at the start: pm2_app's
    assert node_heap.sniff(["2024-05-28T14:35:12: <--- Last few GCs --->"]) == 0
    assert node_heap.sniff(["plain text", ""]) == 0 and node_heap.sniff([]) == 0


def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the samples go into the database, every line accounted for."""
    if "node_stderr" not in parsers.FORMATS:
        monkeypatch.setitem(parsers.FORMATS, "node_stderr", node_heap)
        monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, node_heap])
    paths = [sample(DIR + n) for n in ("lab-node20.20.2-reached-heap-limit.stderr.txt",
                                       "issue-nodejs-node-29800-windows-js-stack-excerpt.txt")]
    con, results = ingest(tmp_path, *paths)
    assert [(r.format, r.status) for r in results] == [("node_stderr", "ingested")] * 2
    assert sorted(accounted(con, r.file_id) for r in results) == [(20, 20), (25, 25)]
    rows = con.execute("SELECT kind, ts, ts_quality, pid, (attrs->>'heap_bytes')::BIGINT, attrs->>'reason' "
                       "FROM events WHERE kind = 'heap_oom' ORDER BY file_id").fetchall()
    assert rows == [("heap_oom", None, "untimed", 21088, mb("46.4"), "Reached heap limit"),
                    ("heap_oom", None, "untimed", 6688, mb("6728.3"), "Ineffective mark-compacts near heap limit")]
