"""dmesg: the kernel ring buffer in each of dmesg's outputs.

The lab files are one memcg OOM report (80 kernel messages) printed by dmesg
five ways: plain, -r, -x, -T and --time-format iso, on a host whose local
time is UTC.  The values checked here were read off the files by hand.
"""
from __future__ import annotations

import io
from pathlib import Path

import pytest

import parsers
from parsers import dmesg
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import SAMPLES, accounted, assert_accounted, ingest, line_count, sample

MOD = "parsers.dmesg"
LAB = "dmesg/lab-k6.18-memcg-oom-node.dmesg"
KILLED = ("Memory cgroup out of memory: Killed process 21140 (node) total-vm:1116048kB, anon-rss:129908kB, "
          "file-rss:34388kB, shmem-rss:0kB, UID:0 pgtables:700kB oom_score_adj:0")
INVOKED = "node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"
WALL = utc_us(2026, 11, 22, 19, 52, 38, 0)  # [Sun Nov 22 19:52:38 2026], local time = UTC


def parse_file(p: Path, ctx: Context | None = None):
    data = p.read_bytes()
    events, rejects = run(MOD, data, ctx)
    return data, events, rejects


# --- the real files ---------------------------------------------------------------------------------------------

# file -> (events, rejects, ts_quality of all events, first message, last message)
FILES = {
    "dmesg/issue-inducer-relate-1383-dmesg-T-task-table-rss_anon-excerpt.txt":
        (12, 0, "zone_assumed", "63159 pages reserved",
         "[    742]     0   742     1498      662      128      534         0    49152       96             0 dhclient"),
    "dmesg/issue-k3s-12028-k6.14-cachyos-oom-header-excerpt.txt":
        (20, 0, "unaligned", "StreamTrans #72 invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|"
                             "__GFP_ZERO), order=0, oom_score_adj=167", " ? asm_exc_page_fault+0x26/0x30"),
    "dmesg/issue-kubernetes-56891-k3.10-el7-dmesg-T-memcg-oom-excerpt.txt":
        (10, 0, "zone_assumed", "Memory cgroup stats for /kubepods/pod95387fa4-da9c-11e7-9d36-5254b24cbf5e/"
                                "6895a3e13439535852d3184ac2aadd26d7363cc035f171545ec7d4ce74073b0b: cache:32KB "
                                "rss:524188KB rss_huge:370688KB mapped_file:0KB swap:524356KB inactive_anon:267804KB "
                                "active_anon:256384KB inactive_file:12KB active_file:4KB unevictable:0KB",
         " ffff8807f0d6b980 0000000051be382e ffff88039bc07ca8 ffffffff8163515c"),
    "dmesg/issue-nano-node-4451-k6.2-ubuntu-global-oom-header-excerpt.txt":
        (27, 0, "unaligned", "nginx invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, "
                             "oom_score_adj=0", " asm_exc_page_fault+0x27/0x30"),
    LAB + ".txt": (80, 0, "unaligned", INVOKED, KILLED),
    LAB + "-r.txt": (80, 0, "unaligned", INVOKED, KILLED),
    LAB + "-x.txt": (80, 0, "unaligned", INVOKED, KILLED),
    LAB + "-T.txt": (80, 0, "zone_assumed", INVOKED, KILLED),
    LAB + "-iso.txt": (80, 0, "exact", INVOKED, KILLED),
    "dmesg/s4-ubuntu22-dmesg": (15, 0, "unaligned", "booting...", "signal: max sigframe size: 1776"),
}


@pytest.mark.parametrize("rel", sorted(FILES))
def test_sample_files(rel):
    n_events, n_rejects, quality, first, last = FILES[rel]
    data, events, rejects = parse_file(sample(rel))
    assert (len(events), len(rejects)) == (n_events, n_rejects)
    assert {e.ts_quality for e in events} == {quality}
    assert events[0].message == first and events[-1].message == last
    assert {(e.kind, e.process, e.host, e.unit, e.pid) for e in events} == {("log", "kernel", None, None, None)}
    assert_accounted(data, events, rejects)
    assert sum(e.line_end - e.line + 1 for e in events) + len(rejects) == line_count(data)
    if quality == "unaligned":
        assert all(e.ts_us is None and e.attrs["boot_seq"] == 0 for e in events)
        monos = [e.attrs["monotonic_us"] for e in events]
        assert monos == sorted(monos)  # one boot, in order
    else:
        assert all(e.ts_us is not None and e.attrs["ctime"] is True and "monotonic_us" not in e.attrs
                   for e in events)


def test_every_dmesg_sample_is_covered_here():
    folder = SAMPLES / "dmesg"
    if not folder.exists():
        pytest.skip(f"{folder} not present")
    assert sorted(f"dmesg/{p.name}" for p in folder.iterdir()) == sorted(FILES)


def test_lab_event_is_the_same_in_all_five_outputs():
    out = {k: parse_file(sample(f"{LAB}{k}.txt"))[1] for k in ("", "-r", "-x", "-T", "-iso")}
    messages = [e.message for e in out[""]]
    assert all([e.message for e in evs] == messages for evs in out.values())
    assert messages[3] == " <TASK>"           # the kernel's own leading space is part of the message
    assert messages[19] == "RIP: 0033:0x7fc7c1b8c0ba"
    # seconds since boot where the line has them: [10149.967323] on the last line
    for k in ("", "-r", "-x"):
        assert out[k][-1].attrs["monotonic_us"] == 10149967323
        assert out[k][0].attrs["monotonic_us"] == 10149950058
        assert [e.attrs["monotonic_us"] for e in out[k]] == [e.attrs["monotonic_us"] for e in out[""]]
    # severities: <4> / warn for the report head, <6> / info from "memory: usage", <3> / err for the kill
    for k in ("-r", "-x"):
        sev = [e.severity for e in out[k]]
        assert sev == [4] * 28 + [6] * 51 + [3]
        assert out[k][28].message == "memory: usage 131072kB, limit 131072kB, failcnt 310"
        assert {e.attrs["facility"] for e in out[k]} == {"kern"}
    assert {e.severity for e in out[""]} == {None}
    # wall time: -T to the second, iso to the microsecond, both 2026-11-22 19:52:38 UTC
    assert {e.ts_us for e in out["-T"]} == {WALL}
    assert out["-iso"][0].ts_us == WALL + 950058
    assert out["-iso"][-1].ts_us == WALL + 967323
    assert [e.ts_us // 1_000_000 for e in out["-iso"]] == [e.ts_us // 1_000_000 for e in out["-T"]]
    # the iso microseconds are the raw ones: boot time + seconds since boot
    assert [e.ts_us % 1_000_000 for e in out["-iso"]] == [e.attrs["monotonic_us"] % 1_000_000 for e in out[""]]


def test_ctime_is_local_time_in_the_files_zone():
    rel = "dmesg/issue-kubernetes-56891-k3.10-el7-dmesg-T-memcg-oom-excerpt.txt"
    _, utc_events, _ = parse_file(sample(rel))
    assert utc_events[0].ts_us == utc_us(2017, 12, 7, 0, 5, 14, 0)   # [Thu Dec  7 00:05:14 2017]
    assert utc_events[5].ts_us == utc_us(2017, 12, 7, 0, 13, 22, 0)  # [Thu Dec  7 00:13:22 2017]
    assert utc_events[5].message == "java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998"
    _, berlin, _ = parse_file(sample(rel), Context(tz=zone("Europe/Berlin")))
    assert berlin[0].ts_us == utc_events[0].ts_us - 3600 * 1_000_000  # CET is UTC+1 in December
    # "%e": a one-digit day is padded with a space ([Mon Dec  8 17:51:31 2025])
    _, ev, _ = parse_file(sample("dmesg/issue-inducer-relate-1383-dmesg-T-task-table-rss_anon-excerpt.txt"))
    assert ev[0].ts_us == utc_us(2025, 12, 8, 17, 51, 31, 0)


def test_var_log_dmesg_kernel_tag_is_dropped():
    data, events, _ = parse_file(sample("dmesg/s4-ubuntu22-dmesg"))
    assert not data.endswith(b"\n")  # the last line has no newline and still counts
    assert events[0].attrs["monotonic_us"] == 0                        # [    0.0000] kernel: booting...
    assert events[1].attrs["monotonic_us"] == 407400                   # [    0.4074]: 4 digits, not 6
    assert events[1].message.startswith("Linux version 5.15.0-47-generic (buildd@lcy02-amd64-060)")
    assert events[4].message == "  Intel GenuineIntel"                 # "kernel:   Intel": one space is the tag's
    assert events[8].message == "  zhaoxin   Shanghai  "
    assert events[-1].attrs["monotonic_us"] == 6407400 and events[-1].line == 15


# --- sniffing ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "[    1.234567] web1 node[812]: GET /api/orders took 5012ms",                       # journalctl short-monotonic
    "[    1.234567] web1 kernel: Linux version 6.1\n[    1.334567] web1 systemd[1]: Started x.\n"
    "[    2.000000] web1 kernel: usb 1-1: new high-speed USB device\n[    2.5] web1 node[812]: hello",
    "May 28 14:35:12 web1 kernel: [ 1.2] Out of memory: Killed process 812 (node)",     # syslog
    "2024-05-28T14:35:12.123456+02:00 web1 kernel: [75669.581768] oom-kill:constraint=CONSTRAINT_MEMCG",
    '{"__REALTIME_TIMESTAMP":"1716906912123456","MESSAGE":"[ 1.0] x"}',                  # JSON
    '203.0.113.9 - - [28/May/2024:14:35:12 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.5.0"',  # nginx
    "2024-05-28 14:35:12,123 INFO success: api entered RUNNING state",                 # supervisor
    "[2024-05-28 14:35:12] production.ERROR: boom",                                    # laravel
    "<13>May 28 14:35:12 web1 app: a syslog line as sent on the wire",
    "",
])
def test_sniff_leaves_other_formats_alone(text):
    assert dmesg.sniff(text.split("\n")) == 0


@pytest.mark.parametrize("text", [
    "[    2.100000] usb 1-1: new high-speed USB device number 2 using ehci-pci\n"
    "[    2.250000] usb 1-1: New USB device found, idVendor=0627, idProduct=0001\n"
    "[    2.250010] usb 1-1: Product: QEMU USB Tablet",                 # looks like "host tag:" without a pid
    "[    0.000000] Linux version 6.1\n      continued\n      and more\n[    0.100000] next",
    "<6>[    0.000000] Linux version 6.1",
    "kern  :info  : Linux version 6.1 (dmesg -x -t)",
    "[Nov22 19:52] node invoked oom-killer\n[  +0.000045] CPU: 1",
    "[    0.000000] [    T0] Linux version 6.1",
])
def test_sniff_takes_dmesg_forms(text):
    lines = text.split("\n")
    score = dmesg.sniff(lines)
    assert score > 0
    assert all(score > m.sniff(lines) for m in parsers.MODULES if m is not dmesg)


# --- forms and edge cases, written by hand ------------------------------------------------------------------------

def test_decode_with_ctime_and_iso_and_delta_and_caller():
    events, rejects = run(MOD, "\n".join([
        "kern  :err   : [Sun Nov 22 19:52:38 2026] Memory cgroup out of memory",     # -x -T
        "daemon:info  : 2026-11-22T20:52:38,000001+01:00 systemd[1]: started",       # -x --time-format iso
        "[10149.950058 <    0.000045>] with a delta",                                # -d
        "[Sun Nov 22 19:52:38 2026 <    0.000045>] ctime with a delta",             # -T -d
        "[<    0.000045>] only the delta",                                           # -d -t
        "[    0.000000] [    T0] Linux version 6.18",                                 # PRINTK_CALLER
        "authpriv:notice: [   12.5] decode of an 8-letter facility",
        "kern  :warn  : no time at all",                                             # -x -t
        "2026-11-22T19:52:38,950058+0000 old util-linux offset",
    ]))
    assert rejects == []
    e = events
    assert (e[0].severity, e[0].attrs, e[0].ts_us, e[0].ts_quality, e[0].message) == (
        3, {"facility": "kern", "ctime": True}, WALL, "zone_assumed", "Memory cgroup out of memory")
    assert (e[1].severity, e[1].attrs["facility"], e[1].ts_us, e[1].ts_quality, e[1].message) == (
        6, "daemon", WALL + 1, "exact", "systemd[1]: started")
    assert (e[2].attrs["monotonic_us"], e[2].message) == (10149950058, "with a delta")
    assert (e[3].ts_us, e[3].message) == (WALL, "ctime with a delta")
    assert (e[4].ts_us, e[4].ts_quality, e[4].attrs, e[4].message) == (None, "unaligned", None, "only the delta")
    assert (e[5].attrs["caller"], e[5].attrs["monotonic_us"], e[5].message) == ("T0", 0, "Linux version 6.18")
    assert (e[6].severity, e[6].attrs["facility"], e[6].attrs["monotonic_us"]) == (5, "authpriv", 12500000)
    assert (e[7].severity, e[7].ts_us, e[7].message) == (4, None, "no time at all")
    assert (e[8].ts_us, e[8].ts_quality) == (WALL + 950058, "exact")


def test_raw_priority_gives_level_and_facility():
    events, rejects = run(MOD, "<0>[    1.000000] a\n<14>[    1.000001] b\n<30>[    1.000002] c\n"
                               "<191>[    1.000003] d\n<6>no time: a kernel without CONFIG_PRINTK_TIME\n"
                               "<200>[    1.000004] e")
    assert [(e.severity, e.attrs["facility"]) for e in events] == [
        (0, "kern"), (6, "user"), (6, "daemon"), (7, "local7"), (6, "kern")]
    assert events[4].ts_us is None and "monotonic_us" not in events[4].attrs
    assert [(r.line, r.reason) for r in rejects] == [(6, "syslog priority <200> out of range")]


def test_reltime():
    ctx = Context(year=2026)
    events, rejects = run(MOD, "[Nov22 19:52] node invoked oom-killer\n[  +0.000045] CPU: 1\n"
                               "[Dec 1 08:00] next day\n[ +12.000000] later", ctx)
    assert rejects == []
    assert [(e.ts_us, e.ts_quality, e.message) for e in events] == [
        (utc_us(2026, 11, 22, 19, 52, 0, 0), "year_inferred", "node invoked oom-killer"),
        (utc_us(2026, 11, 22, 19, 52, 0, 0), "inherited", "CPU: 1"),
        (utc_us(2026, 12, 1, 8, 0, 0, 0), "year_inferred", "next day"),
        (utc_us(2026, 12, 1, 8, 0, 0, 0), "inherited", "later")]
    assert all(e.attrs["ctime"] for e in events)


def test_reboot_counts_restarts_of_the_monotonic_clock():
    events, rejects = run(MOD, "\n".join([
        "[ 5000.000000] first boot",
        "[ 5000.000100] skew",
        "[ 4999.999900] a few microseconds back (CPUs disagree): same boot",
        "[    0.000000] Linux version 6.18 (second boot)",
        "[    0.000000] still at zero",
        "[    3.000000] second boot goes on",
        "[    1.000000] back by two seconds: third boot",
        "[  900.000000] and on",
        "-- Boot 5f1bd0e1d0ba4c7a9cb4a7a2c3b5a1d0 --",
        "[ 1000.000000] after a journalctl boot marker: fourth boot even though the clock went up",
    ]))
    assert [e.attrs["boot_seq"] for e in events] == [0, 0, 0, 1, 1, 1, 2, 2, 3]
    assert [e.line for e in events] == [1, 2, 3, 4, 5, 6, 7, 8, 10]
    assert [(r.line, r.reason) for r in rejects] == [(9, "journalctl banner, not a kernel message")]
    assert [e.attrs["monotonic_us"] for e in events][3:6] == [0, 0, 3000000]


def test_continuation_lines_fold_into_the_message():
    text = ("[ 1234.567890] first line\n"
            "               second line, indented to the message by dmesg\n"
            "                  deeper\n"
            "bare printk continuation\n"
            "\n"
            "               after a blank line inside the message\n"
            "[ 1234.600000] next\n"
            "   \n"
            "\n"
            "[ 1234.700000] kernel: journalctl form\n"
            "                       its second line\n")
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end) for e in events] == [(1, 6), (7, 7), (10, 11)]
    assert events[0].message == ("first line\nsecond line, indented to the message by dmesg\n   deeper\n"
                                 "bare printk continuation\n\nafter a blank line inside the message")
    assert events[2].message == "journalctl form\nits second line"
    # blank lines that lead to no further text are not the message's
    assert [(r.line, r.reason, r.text) for r in rejects] == [(8, "blank line", "   "), (9, "blank line", "")]
    assert_accounted(text.encode(), events, rejects)


def test_garbage_lines():
    text = ("some garbage before anything\n"
            "\n"
            "[  pid  ]   uid  tgid total_vm      rss name\n"
            "[   10.000000] a message\n"
            "garbage after a message is taken as its continuation\n"
            "-- No entries --\n"
            "more garbage, now after no message\n")
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end, e.message) for e in events] == [
        (4, 5, "a message\ngarbage after a message is taken as its continuation")]
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a dmesg line, and no message before it to continue"),
        (2, "blank line"),
        (3, "not a dmesg line, and no message before it to continue"),
        (6, "journalctl banner, not a kernel message"),
        (7, "not a dmesg line, and no message before it to continue")]
    assert_accounted(text.encode(), events, rejects)


@pytest.mark.parametrize("cut", [
    "[10149.96", "<4>[10149.9", "<4", "<4>[", "kern  :wa", "kern  :warn  : [1014", "kern  :warn  : 2026-11-2",
    "[Sun Nov 22 19:5", "2026-11-22T19:52:38,9500", "[    0.000000] [    T", "[Nov22 19:", "[  +0.0000",
])
def test_line_cut_short_inside_the_prefix(cut):
    text = "[10149.950058] a whole line\n" + cut
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end, e.message) for e in events] == [(1, 1, "a whole line")]
    assert [(r.line, r.reason, r.text) for r in rejects] == [(2, "line cut short inside its dmesg prefix", cut)]


@pytest.mark.parametrize("cut", ["[10149.967323]", "[10149.967323] ", "<3>[10149.967323] ", "kern  :err   : ", "<4>"])
def test_line_cut_short_after_the_prefix(cut):
    events, rejects = run(MOD, "[10149.950058] a whole line\n" + cut)
    assert len(events) == 1
    assert [(r.line, r.reason) for r in rejects] == [(2, "line cut short: a dmesg prefix and no message")]


def test_line_cut_short_in_the_message_is_a_short_message():
    events, rejects = run(MOD, "[10149.950058] a whole line\n[10149.967323] Memory cgroup out of mem")
    assert rejects == [] and events[1].message == "Memory cgroup out of mem"


def test_invalid_dates_are_rejected_not_folded():
    events, rejects = run(MOD, "[Sun Nov 22 19:52:38 2026] ok\n[Mon Feb 30 10:00:00 2026] no such day\n"
                               "2026-13-01T00:00:00,000000+00:00 no such month")
    assert [e.line for e in events] == [1]
    assert [(r.line, r.reason) for r in rejects] == [(2, "invalid date in a dmesg -T time"),
                                                     (3, "invalid date in a dmesg iso time")]


def test_invalid_utf8_nul_and_crlf():
    data = b"[    1.000000] caf\xe9 \xff\r\n[    2.000000] a\x00b\r\n\xfe\xfe garbage\r\n"
    events, rejects = run(MOD, data)
    assert [e.message for e in events] == ["caf\ufffd \ufffd", "a\ufffdb\n\ufffd\ufffd garbage"]
    assert rejects == []
    events, rejects = run(MOD, b"\xfe\xfe\n")
    assert [(r.line, r.text) for r in rejects] == [(1, "\ufffd\ufffd")]


def test_short_bare_lines_after_a_message_are_continuations_not_cut_prefixes():
    events, rejects = run(MOD, "[    1.000000] a\nc\nkern\n[\n")
    assert rejects == [] and events[0].message == "a\nc\nkern\n["


def test_start_line_offsets_line_numbers():
    out = list(dmesg.parse(io.BytesIO(b"[    1.000000] a\n  b\nc\n[    2.000000] d"), Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 43), (44, 44)]


def test_empty_file():
    assert run(MOD, b"") == ([], [])


def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the files go into the database with every line accounted for."""
    if "dmesg" not in parsers.FORMATS:
        monkeypatch.setitem(parsers.FORMATS, "dmesg", dmesg)
        monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, dmesg])
    raw, iso = sample(LAB + "-r.txt"), sample(LAB + "-iso.txt")
    con, results = ingest(tmp_path, raw, iso)
    assert [(r.format, r.status, r.rejected) for r in results] == [("dmesg", "ingested", 0)] * 2
    for r in results:
        assert accounted(con, r.file_id) == (80, 80)
    # (the pipeline may fold the OOM report's lines into one event: only the kill line is looked at)
    rows = con.execute("SELECT epoch_us(ts), ts_quality, severity, (attrs->>'monotonic_us')::BIGINT, "
                       "(attrs->>'boot_seq')::INT, attrs->>'facility' "
                       "FROM events WHERE line = 80 ORDER BY file_id").fetchall()
    assert rows == [(None, "unaligned", 3, 10149967323, 0, "kern"),
                    (WALL + 967323, "exact", None, None, None, None)]
