"""A Node/NestJS app run by systemd: each line it writes to stdout or stderr is a journal entry of its own
(rsyslog copies each to /var/log/syslog).  Those entries are typed as the same text is in an app log file
(parsers.nestjs, parsers.node_heap), whichever reader reads them: journal json, export (DuckDB and the
Python reference), short-iso-precise, syslog (DuckDB and the reference).

The app text is real (../shared/samples/nestjs, node-heap-oom, and the texts of test_nestjs and
test_node_heap); every expected value below was worked out from that text by hand.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from forensics.ingest import Options, ingest_paths
from forensics.store import connect
from parsers import journal_fields, nestjs, node_heap
from parsers.context import Context
from parsers.model import Event
from parsers.testing import run

from .helpers import SAMPLES, accounted, sample

MB = 1048576
T0 = 1763841873_000000          # 2026-11-22T20:04:33Z
HOST = "vps1"
UNIT = "nest-api.service"

# Node's own example of console.log(process.memoryUsage()) (util.inspect splits it over lines), and the
# one-line forms test_node_heap reads
MEMORY = "{\n  rss: 4935680,\n  heapTotal: 1826816,\n  heapUsed: 650472,\n  external: 49879,\n  arrayBuffers: 9386\n}"
MEMORY_JSON = '{"rss":30932992,"heapTotal":4730880,"heapUsed":4000664,"external":1401583,"arrayBuffers":10515}'
LEAK = ("(node:24558) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 error listeners "
        "added to [Redis]. Use emitter.setMaxListeners() to increase limit")
WARN = ("[Nest] 9  - 11/22/2026, 8:04:48 PM    WARN [CacheService] cache miss storm +3ms\n"
        "Error: boom\n    at CacheService.get (/app/dist/cache.service.js:10:11)")
APP_KINDS = ("di_error", "connection_error", "app_error", "gc", "heap_oom", "memory_sample")
JOURNAL_ATTRS = (set(journal_fields.KEEP_TEXT.values()) | set(journal_fields.KEEP_INT.values())
                 | {"received_us", "comm", "monotonic_us", "zone_abbrev", "repeated"})


# --- writing the same entries as each reader gets them ------------------------------------------------------------

def entries(*streams: tuple[str, int, str | None, str], noise: bool = True) -> list[tuple]:
    """(t_us, ident, pid, unit, message): each stream's lines in turn, one entry each, 100 us apart, another
    process's entry (sshd) after every third so that the app's lines are interleaved as in a real journal."""
    out = []
    t = T0
    for ident, pid, unit, text in streams:
        for i, line in enumerate(text.split("\n")):
            out.append((t, ident, pid, unit, line))
            t += 100
            if noise and i % 3 == 2:
                out.append((t, "sshd", 9000 + i, "ssh.service", f"Invalid user admin from 198.51.100.{i % 250} port 22"))
                t += 100
    return out


def fields(e: tuple) -> dict[str, str]:
    t, ident, pid, unit, msg = e
    f = {"__REALTIME_TIMESTAMP": str(t), "_HOSTNAME": HOST, "SYSLOG_IDENTIFIER": ident, "_COMM": ident,
         "_PID": str(pid), "PRIORITY": "6", "_TRANSPORT": "stdout", "MESSAGE": msg}
    if unit:
        f["_SYSTEMD_UNIT"] = unit
    return f


def journal_json(es: list[tuple]) -> str:
    return "".join(json.dumps(fields(e)) + "\n" for e in es)


def journal_export(es: list[tuple]) -> bytes:
    """journalctl -o export: a value with a newline or a control character (ESC) is written as binary."""
    out = []
    for e in es:
        for k, v in fields(e).items():
            b = v.encode()
            if "\n" in v or any(ord(c) < 32 for c in v):
                out.append(k.encode() + b"\n" + len(b).to_bytes(8, "little") + b + b"\n")
            else:
                out.append(k.encode() + b"=" + b + b"\n")
        out.append(b"\n")
    return b"".join(out)


def _iso(t_us: int, colon: bool) -> str:
    s = datetime.fromtimestamp(t_us / 1e6, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return s + ("+00:00" if colon else "+0000")


def short_iso_precise(es: list[tuple]) -> str:
    """journalctl -o short-iso-precise (texts without colour codes: journalctl shows those as blob data)."""
    return "".join(f"{_iso(t, False)} {HOST} {ident}[{pid}]: {msg}\n" for t, ident, pid, _, msg in es)


def rsyslog(es: list[tuple]) -> str:
    """rsyslog's RFC 3339 file format: control characters escaped (ESC as #033), a space after the tag
    unless the message starts with one."""
    lines = []
    for t, ident, pid, _, msg in es:
        msg = re.sub(r"[\x00-\x08\x0a-\x1f]", lambda m: "#%03o" % ord(m.group()), msg)
        lines.append(f"{_iso(t, True)} {HOST} {ident}[{pid}]:{'' if msg[:1] == ' ' else ' '}{msg}\n")
    return "".join(lines)


def ingest(tmp_path: Path, name: str, content: str | bytes, **opts):
    d = tmp_path / f"{name}-{'ref' if opts.get('reference') else 'sql'}"
    while d.exists():
        d = d.with_name(d.name + "+")
    d.mkdir()
    p = d / name
    if isinstance(content, bytes):
        p.write_bytes(content)
    else:
        p.write_text(content, newline="")
    con = connect(d / "t.duckdb")
    results, missing = ingest_paths(con, [str(p)], Options(**opts))
    assert not missing and results[0].status == "ingested", results
    return con, results[0]


def typed(con) -> list[tuple]:
    """The app's typed events: (ts_us, kind, process, pid, unit, severity, nlines, message, app attrs)."""
    rows = con.execute("SELECT epoch_us(ts), kind, process, pid, unit, severity, nlines, message, attrs "
                       "FROM events WHERE kind IN (SELECT unnest(?)) OR json_exists(attrs, '$.leak_hint') "
                       "ORDER BY ts, line, nlines DESC, attrs::VARCHAR", [list(APP_KINDS)]).fetchall()
    out = []
    for ts, kind, process, pid, unit, sev, nlines, msg, attrs in rows:
        a = {k: v for k, v in json.loads(attrs or "{}").items() if k not in JOURNAL_ATTRS}
        out.append((ts, kind, process, pid, unit, sev, nlines, msg, a))
    return out


def kinds_attrs(rows) -> list[tuple[str, dict]]:
    return [(r[1], r[8]) for r in rows]


def file_typed(module: str, text: str) -> list[tuple[str, dict]]:
    """What the app-log parser gives for the same text in a file: the typed events' kind and attrs."""
    events, _ = run(module, text + "\n")
    return [(e.kind, {k: v for k, v in (e.attrs or {}).items() if v is not None})
            for e in events if e.kind != "log" or (e.attrs or {}).get("leak_hint")]


# --- one kind of output at a time, through journalctl -o json ------------------------------------------------------

def test_nest_di_error_is_one_event_on_its_first_entry(tmp_path):
    text = sample("nestjs/lab-nest10.4-di-error-startup.ansi.log").read_text().rstrip("\n")
    con, res = ingest(tmp_path, "j.json", journal_json(entries(("node", 24520, UNIT, text))))
    assert res.format == "journal_json"
    assert accounted(con, res.file_id)[0] == accounted(con, res.file_id)[1]
    got = typed(con)
    # the sample's third line is the ERROR record; "Potential solutions:", its "- " lines, the object, the colour
    # reset, the blank lines, "Error: Nest can't resolve ..." and its 10 frames continue it: one event, no
    # second di_error for the Error line
    assert len(got) == 1
    ts, kind, process, pid, unit, sev, nlines, msg, a = got[0]
    assert (ts, kind, process, pid, unit, sev, nlines) == (T0 + 2 * 100, "di_error", "node", 24520, UNIT, 3, 1)
    assert msg.startswith("\x1b[31m[Nest] 24520  - \x1b[39m11/22/2026, 8:04:33 PM \x1b[31m  ERROR")  # as logged
    assert a == {"context": "ExceptionHandler", "exception": "UnknownDependenciesException", "provider": "OrdersService",
                 "dependencies": ["?"], "token": True, "missing": "REDIS_CLIENT", "index": 0, "module": "OrdersModule"}
    assert kinds_attrs(got) == file_typed("parsers.nestjs", text)


def test_nest_runtime_errors_and_ioredis(tmp_path):
    text = sample("nestjs/lab-nest10.4-runtime-errors-ioredis-econnrefused.ansi.log").read_text().rstrip("\n")
    con, res = ingest(tmp_path, "j.json", journal_json(entries(("node", 24558, UNIT, text))))
    got = typed(con)
    redis = {"code": "ECONNREFUSED", "target_host": "127.0.0.1", "target_port": 6379, "target": "redis"}
    # 31 "[ioredis] Unhandled error event: Error: connect ECONNREFUSED 127.0.0.1:6379" lines (each with a frame
    # line folded), the ERROR [ExceptionsHandler] max-retries record (its MaxRetriesPerRequestError stack folded),
    # the ERROR [ExceptionsHandler] TypeError record
    assert [r[1] for r in got].count("connection_error") == 32 and [r[1] for r in got].count("app_error") == 1
    assert [r[8] for r in got if r[7].startswith("[ioredis]")] == [redis] * 31
    retries = [r for r in got if "max retries" in r[7]]
    assert [(r[1], r[5], r[8]) for r in retries] == [
        ("connection_error", 3, {"context": "ExceptionsHandler", "code": "MaxRetriesPerRequestError", "target": "redis"})]
    err = [r for r in got if r[1] == "app_error"][0]
    assert (err[5], err[8]) == (3, {"context": "ExceptionsHandler"}) and "reading 'items'" in err[7]
    assert all((r[2], r[3], r[4]) == ("node", 24558, UNIT) for r in got)
    assert kinds_attrs(got) == file_typed("parsers.nestjs", text)


def test_nest6_retry_with_its_error_on_the_next_entry(tmp_path):
    text = sample("nestjs/issue-typeorm-4377-nest6-format-excerpt.txt").read_text().rstrip("\n")
    con, _ = ingest(tmp_path, "j.json", journal_json(entries(("node", 22388, UNIT, text))))
    got = typed(con)
    # "[Nest] 22388   - 2019-06-30 1:40 AM   [TypeOrmModule] Unable to connect to the database. Retrying (1)...
    # +527ms", then "Error: getaddrinfo ENOTFOUND nest-mysql nest-mysql:3306" (Nest 6 printed no level: the
    # error line continues the record); port 3306 is MySQL's.  The minutes-only date says nothing here: the
    # journal's time is the event's (no ts_resolution_s)
    assert kinds_attrs(got) == [("connection_error", {"context": "TypeOrmModule", "delta_ms": 527,
                                                      "code": "ENOTFOUND", "target_host": "nest-mysql",
                                                      "target_port": 3306, "target": "mysql", "retry": 1})]
    assert got[0][5] == 6   # no level word and no colour: the journal's priority stays


def test_v8_heap_death_and_gc_lines(tmp_path):
    text = sample("node-heap-oom/lab-node20.20.2-reached-heap-limit.stderr.txt").read_text().rstrip("\n")
    ineffective = sample("node-heap-oom/lab-node20.20.2-ineffective-mark-compacts.stderr.txt").read_text().rstrip("\n")
    # the second app runs under npm: the journal's pid is npm's (21100), V8's lines say node's (21112)
    con, res = ingest(tmp_path, "j.json", journal_json(entries(("node", 21088, UNIT, text),
                                                               ("npm", 21100, "worker.service", ineffective))))
    assert accounted(con, res.file_id)[0] == accounted(con, res.file_id)[1]
    got = typed(con)
    assert [(r[1], r[2], r[3], r[4], r[6]) for r in got] == [
        ("gc", "node", 21088, UNIT, 1), ("heap_oom", "node", 21088, UNIT, 1),
        ("gc", "npm", 21100, "worker.service", 1), ("gc", "npm", 21100, "worker.service", 1),
        ("heap_oom", "npm", 21100, "worker.service", 1)]
    # [21088:0x3b87bfb0] 570 ms: Mark-Compact (reduce) 46.6 (49.7) -> 46.4 (50.4) MB, 38.95 / 0.00 ms
    # (average mu = 0.271, current mu = 0.265) allocation failure; GC in old space requested
    assert got[0][8] == {"gc_type": "Mark-Compact (reduce)", "pid": 21088, "isolate": "0x3b87bfb0",
                         "ms_since_start": 570, "heap_before_bytes": 48863642,      # 46.6 * 1048576 = 48863641.6
                         "heap_after_bytes": 48653926, "committed_before_bytes": 52114227,  # 46.4, 49.7 MiB
                         "committed_after_bytes": 52848230, "pause_ms": 38.95,            # 50.4 MiB
                         "reason": "allocation failure; GC in old space requested",
                         "average_mu": 0.271, "current_mu": 0.265}
    # the FATAL ERROR entry is the death; its heap is the GC line's heap after: 46.4 MiB
    assert got[1][7] == "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"
    assert got[1][8] == {"reason": "Reached heap limit", "heap_bytes": 48653926, "pid": 21088,
                         "isolate": "0x3b87bfb0", "ms_since_start": 570}
    # the last GC line before it: [21112:0x3d9b10d0] 1929 ms: Scavenge (reduce) 93.8 (98.7) -> 92.9 (96.0) MB
    assert got[4][8] == {"reason": "Ineffective mark-compacts near heap limit", "heap_bytes": round(92.9 * MB),
                         "pid": 21112, "isolate": "0x3d9b10d0", "ms_since_start": 1929}
    # the same events as parsers.node_heap gives for the text as a file (there the death comes first: it
    # starts at "<--- Last few GCs --->")
    for t, rows in ((text, got[:2]), (ineffective, got[2:])):
        assert sorted(map(repr, kinds_attrs(rows))) == sorted(map(repr, file_typed("parsers.node_heap", t)))


def test_memory_usage_printed_over_entries_and_on_one(tmp_path):
    es = entries(("node", 777, UNIT, MEMORY), ("node", 777, UNIT, MEMORY_JSON))
    con, res = ingest(tmp_path, "j.json", journal_json(es))
    assert accounted(con, res.file_id)[0] == accounted(con, res.file_id)[1]
    got = typed(con)
    # over entries: each figure on the entry that prints it, "{" and "}" stay log; on one entry (JSON): that
    # entry is the first figure, the others are events added on its line with nlines 0
    assert [(r[7], r[6], r[8]) for r in got] == [
        ("  rss: 4935680,", 1, {"metric": "rss", "bytes": 4935680}),
        ("  heapTotal: 1826816,", 1, {"metric": "heap_total", "bytes": 1826816}),
        ("  heapUsed: 650472,", 1, {"metric": "heap_used", "bytes": 650472}),
        ("  external: 49879,", 1, {"metric": "external", "bytes": 49879}),
        ("  arrayBuffers: 9386", 1, {"metric": "array_buffers", "bytes": 9386}),
        (MEMORY_JSON, 1, {"metric": "rss", "bytes": 30932992}),
        (MEMORY_JSON, 0, {"metric": "array_buffers", "bytes": 10515}),
        (MEMORY_JSON, 0, {"metric": "external", "bytes": 1401583}),
        (MEMORY_JSON, 0, {"metric": "heap_total", "bytes": 4730880}),
        (MEMORY_JSON, 0, {"metric": "heap_used", "bytes": 4000664})]
    assert all((r[1], r[3], r[4]) == ("memory_sample", 777, UNIT) for r in got)
    assert con.execute("SELECT count(*), count(DISTINCT event_id) FROM events").fetchone() == (len(es) + 4,) * 2
    assert sorted(map(repr, kinds_attrs(got))) == sorted(
        map(repr, file_typed("parsers.node_heap", MEMORY) + file_typed("parsers.node_heap", MEMORY_JSON)))


def test_what_breaks_a_fold(tmp_path):
    es = [(T0, "node", 5, UNIT, "{"), (T0 + 1, "node", 5, UNIT, "GET /health 200"),       # the same process:
          *[(T0 + 2 + i, "node", 5, UNIT, l) for i, l in enumerate(MEMORY.split("\n")[1:])],  # no object
          (T0 + 20, "node", 6, UNIT, "{"), (T0 + 21, "node", 7, UNIT, "{"),                  # another process
          *[(T0 + 22 + i, "node", 6, UNIT, l) for i, l in enumerate(MEMORY.split("\n")[1:])],  # between: folds
          (T0 + 40, "node", 8, UNIT, "[Nest] 8  - 11/22/2026, 8:04:48 PM   ERROR [TypeOrmModule] Unable to "
                                     "connect to the database. Retrying (2)..."),
          (T0 + 41, "node", 8, UNIT, "listening on :3000"),                                 # ends the record
          (T0 + 42, "node", 8, UNIT, "Error: connect ECONNREFUSED 127.0.0.1:5432"),        # an error on its own
          *[(T0 + 50 + i, "node", 9, UNIT, l) for i, l in enumerate(WARN.split("\n"))]]
    con, _ = ingest(tmp_path, "j.json", journal_json(es))
    got = typed(con)
    # a WARN record takes the error printed after it, and stays a log line: as in a file
    assert file_typed("parsers.nestjs", WARN) == [] and [r for r in got if r[3] == 9] == []
    assert [(r[3], r[1], r[8].get("metric")) for r in got if r[1] == "memory_sample"] == [
        (6, "memory_sample", m) for m in ("rss", "heap_total", "heap_used", "external", "array_buffers")]
    assert [(r[3], r[1], r[5], r[8]) for r in got if r[3] == 8] == [
        (8, "connection_error", 3, {"context": "TypeOrmModule", "retry": 2}),
        (8, "connection_error", 6, {"code": "ECONNREFUSED", "target_host": "127.0.0.1", "target_port": 5432,
                                    "target": "postgres"})]


def test_leak_warning(tmp_path):
    con, _ = ingest(tmp_path, "j.json", journal_json(entries(("node", 24558, UNIT, LEAK))))
    # "(node:24558) MaxListenersExceededWarning: ... 11 error listeners added to [Redis]": still a log line,
    # with the hint; V8's pid stays in attrs, the column is the journal's
    assert [(r[1], r[3], r[8]) for r in typed(con)] == [
        ("log", 24558, {"leak_hint": True, "listeners": 11, "event": "error", "emitter": "Redis", "pid": 24558})]


# --- every reader, the same events -------------------------------------------------------------------------------

def _mixed(colour: bool) -> list[tuple]:
    di = sample("nestjs/lab-nest10.4-di-error-startup." + ("ansi" if colour else "NO_COLOR") + ".log")
    rt = sample("nestjs/lab-nest10.4-runtime-errors-ioredis-econnrefused.ansi.log").read_text()
    if not colour:
        rt = nestjs.strip_ansi(rt)
    heap = sample("node-heap-oom/lab-node20.20.2-reached-heap-limit.stderr.txt")
    es = entries(("node", 24520, UNIT, di.read_text().rstrip("\n")), ("node", 24558, UNIT, rt.rstrip("\n")),
                 ("node", 21088, UNIT, heap.read_text().rstrip("\n")), ("node", 777, UNIT, MEMORY),
                 ("node", 777, UNIT, MEMORY_JSON), ("node", 24558, UNIT, LEAK))
    es.insert(40, (T0 + 41, "systemd", 1, "init.scope", "nest-api.service: Failed with result 'oom-kill'."))
    return es


def test_every_reader_types_alike(tmp_path):
    colour, plain = _mixed(True), _mixed(False)
    runs = {
        "json": ingest(tmp_path, "j.json", journal_json(colour)),
        "export": ingest(tmp_path, "j.export", journal_export(colour)),
        "export-ref": ingest(tmp_path, "j.export", journal_export(colour), reference=True),
        "short": ingest(tmp_path, "j.short", short_iso_precise(plain)),
        "syslog": ingest(tmp_path, "syslog", rsyslog(colour)),
        "syslog-ref": ingest(tmp_path, "syslog", rsyslog(colour), reference=True),
        "syslog-plain": ingest(tmp_path, "syslog", rsyslog(plain)),
    }
    assert {k: r.format for k, (_, r) in runs.items()} == {
        "json": "journal_json", "export": "journal_export", "export-ref": "journal_export",
        "short": "journal_short", "syslog": "syslog", "syslog-ref": "syslog", "syslog-plain": "syslog"}
    for name, (con, r) in runs.items():
        assert accounted(con, r.file_id)[0] == accounted(con, r.file_id)[1], name
    got = {k: typed(con) for k, (con, _) in runs.items()}
    # 1 di_error, 32 connection_error + 1 app_error, gc + heap_oom, 10 memory samples, the leak warning
    assert len(got["json"]) == 1 + 33 + 2 + 10 + 1
    # the journal keeps the unit and its priority; syslog and journalctl's text have neither.  An entry is one
    # line in these formats, several in an export (nlines): an event added on an entry's line holds none
    journal = [(r[0], r[1], r[2], r[3], r[6] > 0, r[8]) for r in got["json"]]
    for name in runs:
        assert [(r[0], r[1], r[2], r[3], r[6] > 0, r[8]) for r in got[name]] == journal, name
    assert got["export"] == got["export-ref"]
    assert [r[:6] + r[7:] for r in got["export"]] == [r[:6] + r[7:] for r in got["json"]]
    assert got["syslog"] == got["syslog-ref"]
    # rsyslog writes "node[777]:  rss: ..." for "  rss: ...": the reader takes the space after the colon
    assert [r[7].strip() for r in got["syslog-plain"]] == [r[7].strip() for r in got["short"]]
    assert {r[4] for r in got["json"]} == {UNIT} and {r[4] for r in got["syslog"]} == {None}


EVENTS = ("SELECT line, line_end, nlines, epoch_us(ts), ts_quality, host, source, kind, unit, process, pid, "
          "severity, message, attrs::VARCHAR FROM events ORDER BY line, nlines DESC, attrs::VARCHAR")


@pytest.mark.parametrize("fmt", ["export", "syslog"])
def test_duckdb_readers_and_references_agree_line_for_line(tmp_path, fmt):
    es = _mixed(True)
    # a memory object whose lines are more than GAP_LINES apart does not fold: 5001 other entries between
    far = [(T0 + 10**7, "node", 31, UNIT, "{")]
    far += [(T0 + 10**7 + 1 + i, "CRON", 40000 + i, "cron.service", "(root) CMD (true)") for i in range(5001)]
    far += [(T0 + 2 * 10**7 + i, "node", 31, UNIT, l) for i, l in enumerate(MEMORY.split("\n")[1:])]
    content = journal_export(es + far) if fmt == "export" else rsyslog(es + far)
    name = "j.export" if fmt == "export" else "syslog"
    (c1, r1), (c2, r2) = ingest(tmp_path, name, content), ingest(tmp_path, name, content, reference=True)
    assert (r1.lines, r1.events, r1.rejected) == (r2.lines, r2.events, r2.rejected)
    assert c1.execute(EVENTS).fetchall() == c2.execute(EVENTS).fetchall()
    assert c1.execute("SELECT count(*) FROM events WHERE pid = 31 AND kind <> 'log'").fetchone() == (0,)


def test_native_journal(tmp_path):
    """A native journal file (written here by systemd-journal-remote from the export) reads alike."""
    remote = shutil.which("systemd-journal-remote") or "/lib/systemd/systemd-journal-remote"
    if not Path(remote).exists() or not shutil.which("journalctl"):
        pytest.skip("systemd-journal-remote and journalctl are needed to write and read a native journal")
    es = _mixed(True)
    export = tmp_path / "in.export"
    export.write_bytes(journal_export(es))
    native = tmp_path / "native" / "system.journal"
    native.parent.mkdir()
    r = subprocess.run([remote, f"--output={native}", str(export)], capture_output=True)
    if r.returncode != 0 or not native.exists():
        pytest.skip(f"systemd-journal-remote failed: {r.stderr.decode(errors='replace')[-200:]}")
    con = connect(tmp_path / "n.duckdb")
    results, _ = ingest_paths(con, [str(native)], Options())
    assert results[0].format == "journal_native"
    got = typed(con)
    con2, _ = ingest(tmp_path, "j.json", journal_json(es))
    assert [(r[0], r[1], r[2], r[3], r[4], r[6] > 0, r[8]) for r in got] == \
        [(r[0], r[1], r[2], r[3], r[4], r[6] > 0, r[8]) for r in typed(con2)]


# --- the rules behind the bulk pre-filter ------------------------------------------------------------------------

def _messages() -> list[str]:
    msgs = [MEMORY_JSON, LEAK, "", "\n", "{", "{\n", "}", "  rss: 1,", "- item", "\x1b[39m", "#033[39m",
            "TypeError: x", "TypeError", "TypeError\n", "Error {", "java.lang.IllegalStateException: no",
            " 1: 0xb78db3 node::OOMErrorHandler() [node]", "10: 0x10baae6 v8::internal::Factory [node]",
            "#0 0x55d0c0 <unknown>", "errors: none", "plain text", "Uncaught Error: x", "Trace: here",
            "caf\u00e9Error: x", "\u00e9Error: x", "[Nest] 1  - 05/20/2024, 2:35:01 PM     LOG [A] ERROR in text",
            "\x1b[31m[Nest] 1  - ", "#033[1m[Nest]", "x\n  at y", "Error: boom\n    at main.js:3:7"]
    for d in ("nestjs", "node-heap-oom", "pm2", "supervisor"):    # the real samples' lines, where present
        if (SAMPLES / d).is_dir():
            for p in sorted((SAMPLES / d).iterdir()):
                msgs += p.read_text(errors="replace").split("\n")
    return msgs


def test_candidate_regexp_reads_alike_in_python_and_duckdb():
    msgs = _messages()
    rx = re.compile(nestjs.ENTRY_CANDIDATE, re.ASCII)
    py = [bool(rx.search(m)) for m in msgs]
    assert py == [nestjs.entry_candidate(m) for m in msgs]
    con = duckdb.connect()
    con.execute("CREATE TABLE m (i INTEGER, t VARCHAR)")
    con.executemany("INSERT INTO m VALUES (?, ?)", list(enumerate(msgs)))
    sql = [r[0] for r in con.execute("SELECT regexp_matches(t, ?) FROM m ORDER BY i",
                                     [nestjs.ENTRY_CANDIDATE]).fetchall()]
    assert [m for m, a, b in zip(msgs, py, sql) if a != b] == []
    assert any(py) and not all(py)          # both answers occur (the samples, where present, add hundreds)


def test_every_typed_message_holds_a_trigger_and_an_anchor():
    """classify() types nothing without one of TRIGGERS, and every line that makes an event is an anchor:
    the bulk readers send Python only the processes with an anchor and, of those, only the candidates."""
    assert all(re.fullmatch(r"[A-Za-z0-9_' ]+", w) for w in nestjs.TRIGGERS)
    from . import test_nestjs
    cases = [m for mark in getattr(test_nestjs.test_classify, "pytestmark", []) if mark.name == "parametrize"
             for m, *_ in mark.args[1]]
    assert len(cases) >= 10
    texts = cases + [l for l in _messages() if l]
    for t in texts:
        if nestjs.classify(t) is not None:
            assert any(w in t for w in nestjs.TRIGGERS), t
    anchor = re.compile(nestjs.ENTRY_ANCHOR, re.ASCII)
    for t in texts:
        lines = [l for l in t.split("\n") if nestjs.entry_candidate(l)]   # what a reader feeds
        st = nestjs.AppStream()
        for i, l in enumerate(lines):
            st.feed(i, l)
        st.gap()
        if st.take():
            assert any(anchor.search(l) for l in lines), t


PINO = "\n".join([
    '{"level":30,"time":1716906912123,"pid":4242,"hostname":"vps1","msg":"Nest application successfully started"}',
    '{"level":50,"time":1716906913000,"pid":4242,"hostname":"vps1","err":{"type":"Error","message":"connect '
    'ECONNREFUSED 127.0.0.1:6379","stack":"Error: connect ECONNREFUSED 127.0.0.1:6379\\n    at TCPConnectWrap'
    '.afterConnect [as oncomplete] (node:net:1555:16)"},"msg":"queue worker lost Redis"}',
    '{"level":50,"time":1716906914000,"pid":4242,"hostname":"vps1","msg":"order 17 failed: total is NaN"}',
    '{"level":"error","message":"payment webhook rejected","timestamp":"2024-05-28T14:35:15.000Z"}',
])


def test_json_logger_errors_in_the_journal_are_typed(tmp_path):
    # pino (nestjs-pino) and winston lines under systemd: their errors become what a file of them gives
    # (parsers.nestjs), in every reader, the bulk export reader included
    es = entries(("node", 4242, UNIT, PINO))
    want = [("connection_error", {"logger": "pino", "code": "ECONNREFUSED", "target_host": "127.0.0.1",
                                  "target_port": 6379, "target": "redis"}),
            ("app_error", {"logger": "pino"}), ("app_error", {"logger": "winston"})]
    assert file_typed("parsers.nestjs", PINO) == want
    for name, content in (("j.json", journal_json(es)), ("j.export", journal_export(es))):
        con, _ = ingest(tmp_path, name, content)
        got = typed(con)
        assert kinds_attrs(got) == want, name
        assert [(r[2], r[3], r[4], r[5]) for r in got] == [("node", 4242, UNIT, 3)] * 3
        assert con.execute("SELECT kind FROM events WHERE message LIKE '%successfully started%'").fetchall() == [
            ("log",)]
