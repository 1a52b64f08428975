"""supervisord: supervisor's main log.

The values checked against the real files were read off the text by hand
(the lab host's local time is UTC, so its times are UTC as printed).  The
texts written here for edge cases use supervisor 4.x's wording
(supervisor/process.py, supervisord.py, options.py); the debug-level memmon
and core-dump pieces are cut from logs that supervisor 4.3.0 and superlance
2.0.0 wrote.
"""
from __future__ import annotations

import io
from collections import Counter

import pytest

import parsers
from parsers import supervisord
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import accounted, assert_accounted, ingest, line_count, sample

MOD = "parsers.supervisord"
RUN3 = "supervisor/lab-run3-supervisord-4.2.5.log"
RUN1 = "supervisor/lab-run1-supervisord-4.2.5.log"
BAGISTO = "supervisor/bagisto-fork-supervisord.log"
ALAN = "supervisor/alancoding-supervisor_examples-supervisord.log"


def parse_file(rel: str, ctx: Context | None = None):
    data = sample(rel).read_bytes()
    events, rejects = run(MOD, data, ctx)
    return data, events, rejects


def kinds(events) -> dict:
    return dict(Counter(e.kind for e in events))


def t(y, mo, d, h, mi, s, ms) -> int:
    return utc_us(y, mo, d, h, mi, s, ms * 1000)


# --- the real files ---------------------------------------------------------------------------------------------

# file -> (lines, kinds)
FILES = {
    RUN3: (33, {"log": 5, "service_start": 17, "process_exit": 9, "gave_up": 1, "service_stop": 1}),
    RUN1: (9, {"log": 5, "service_start": 3, "service_stop": 1}),
    # 8 starts of a container: "Set uid to user 0 succeeded", "supervisord started", 4 spawned, 4 success
    BAGISTO: (80, {"log": 8, "service_start": 72}),
    # 202 spawned + 160 success + 8 supervisord started; 195 exited; 9 gave up; 7 stopped + 8 SIGINT;
    # 10 "waiting for fail-slowly to die" + 5 CRIT + 2 RPC interface
    ALAN: (606, {"service_start": 370, "process_exit": 195, "gave_up": 9, "service_stop": 15, "log": 17}),
}


@pytest.mark.parametrize("rel", FILES)
def test_real_files_every_line_accounted(rel):
    data, events, rejects = parse_file(rel)
    lines, expected = FILES[rel]
    assert line_count(data) == lines
    assert rejects == []
    assert len(events) == lines                        # no record in these files has a second line
    assert kinds(events) == expected
    assert {e.ts_quality for e in events} == {"zone_assumed"}
    assert all(e.severity in (2, 3, 4, 6, 7) for e in events)
    assert_accounted(data, events, rejects)


def test_run3_oom_kills_of_api_and_the_fatal_give_up_of_queue_worker():
    _, events, _ = parse_file(RUN3)
    exits = [e for e in events if e.kind == "process_exit"]
    # "WARN exited: api (terminated by SIGKILL; not expected)", times as printed (the host is on UTC)
    assert [(e.line, e.unit, e.ts_us) for e in exits] == [
        (8, "api", t(2026, 11, 22, 19, 59, 4, 735)),
        (11, "api", t(2026, 11, 22, 19, 59, 11, 760)),
        (14, "api", t(2026, 11, 22, 19, 59, 18, 768)),
        (17, "api", t(2026, 11, 22, 19, 59, 25, 796)),
        (20, "api", t(2026, 11, 22, 19, 59, 32, 811)),
        (24, "queue-worker", t(2026, 11, 22, 19, 59, 47, 570)),
        (26, "queue-worker", t(2026, 11, 22, 19, 59, 49, 91)),
        (28, "queue-worker", t(2026, 11, 22, 19, 59, 51, 548)),
        (30, "queue-worker", t(2026, 11, 22, 19, 59, 54, 996))]
    assert exits[0].ts_us == 1795377544735000          # 2026-11-22T19:59:04.735Z
    for e in exits:
        assert e.severity == 4 and e.pid is None and e.process is None
        assert {k: e.attrs[k] for k in ("program", "code", "signal", "status", "expected")} == {
            "program": e.unit, "code": "killed", "signal": "KILL", "status": 9, "expected": False}
    # the pid each one had, from the "spawned:" line before it
    assert [e.attrs["spawned_pid"] for e in exits] == [22546, 22679, 22808, 22935, 23064, 23297, 23305, 23312, 23319]
    # api had reached RUNNING each time; queue-worker never did (startsecs=3)
    assert [e.attrs["was_running"] for e in exits] == [True] * 5 + [False] * 4
    assert exits[0].attrs["uptime_s"] == 8.836          # spawned 19:58:55,899
    assert exits[5].attrs["uptime_s"] == 0.477          # spawned 19:59:47,093

    gave_up = [e for e in events if e.kind == "gave_up"]
    assert [(e.line, e.unit, e.ts_us, e.severity, e.attrs["program"]) for e in gave_up] == [
        (31, "queue-worker", t(2026, 11, 22, 19, 59, 55, 997), 6, "queue-worker")]
    assert gave_up[0].message == "gave up: queue-worker entered FATAL state, too many start retries too quickly"

    spawns = [e for e in events if e.kind == "service_start" and e.attrs.get("phase") == "spawned"]
    assert [(e.unit, e.pid) for e in spawns] == [
        ("api", 22546), ("api", 22679), ("api", 22808), ("api", 22935), ("api", 23064), ("api", 23193),
        ("queue-worker", 23297), ("queue-worker", 23305), ("queue-worker", 23312), ("queue-worker", 23319)]
    assert [e.attrs["respawn"] for e in spawns] == [False] + [True] * 5 + [False] + [True] * 3
    running = [e for e in events if e.kind == "service_start" and e.attrs.get("phase") == "running"
               and e.unit == "api"]
    assert len(running) == 6 and all(e.attrs["startsecs"] == 2 for e in running)

    sup = events[4]
    assert (sup.kind, sup.unit, sup.process, sup.pid, sup.ts_us) == (
        "service_start", "supervisord", "supervisord", 22544, t(2026, 11, 22, 19, 58, 54, 896))
    stop = events[-1]
    assert (stop.kind, stop.unit, stop.severity, stop.ts_us) == (
        "service_stop", "api", 4, t(2026, 11, 22, 20, 0, 2, 41))
    assert {k: stop.attrs[k] for k in ("code", "signal", "status", "spawned_pid", "was_running")} == {
        "code": "killed", "signal": "TERM", "status": 15, "spawned_pid": 23193, "was_running": True}
    assert "expected" not in stop.attrs
    waiting = events[-2]
    assert (waiting.kind, waiting.unit, waiting.attrs) == (
        "log", "api", {"programs": ["api"], "program": "api"})
    crit = events[0]
    assert (crit.kind, crit.severity, crit.unit, crit.process) == ("log", 2, None, "supervisord")
    assert crit.message.startswith("Supervisor is running as root.  Privileges were not dropped")


def test_run3_exits_follow_the_kernels_kills_of_the_same_pids():
    """The correlated kern.log of the same run: each kill's pid is a spawned_pid, and supervisor saw it die
    within a fraction of a second."""
    _, events, _ = parse_file(RUN3)
    kern = sample("kern-log/lab-debian12-rsyslog-run3-memcg-oom-x9.kern.log").read_text()
    kills = []
    for line in kern.splitlines():
        if "Memory cgroup out of memory: Killed process " in line:
            stamp = line.split(" ", 1)[0]            # 2026-11-22T19:59:04.714037+00:00
            hh, mm, ss = stamp[11:13], stamp[14:16], stamp[17:26]
            us = utc_us(2026, 11, 22, int(hh), int(mm), int(ss[:2]), int(ss[3:]))
            kills.append((int(line.split("Killed process ")[1].split()[0]), us))
    exits = [e for e in events if e.kind == "process_exit"]
    assert [e.attrs["spawned_pid"] for e in exits] == [pid for pid, _ in kills]
    for e, (_, kill_us) in zip(exits, kills):
        assert 0 < e.ts_us - kill_us < 100_000


def test_run1_start_and_stop():
    _, events, _ = parse_file(RUN1)
    assert [(e.kind, e.unit, e.pid) for e in events if e.kind != "log"] == [
        ("service_start", "supervisord", 21624), ("service_start", "api", 21626), ("service_start", "api", None),
        ("service_stop", "api", None)]
    assert events[-1].ts_us == t(2026, 11, 22, 19, 56, 13, 221)
    assert events[-2].message == "waiting for api to die"
    assert events[3].message == "daemonizing the supervisord process"


def test_bagisto_container_restarts():
    _, events, _ = parse_file(BAGISTO)
    starts = [e for e in events if e.unit == "supervisord"]
    assert [(e.line, e.pid, e.ts_us) for e in starts] == [
        (2, 8, t(2024, 2, 29, 15, 52, 25, 500)),       # a leap day
        (12, 8, t(2024, 2, 29, 21, 33, 23, 4)),
        (22, 9, t(2024, 2, 29, 21, 59, 2, 759)),
        (32, 8, t(2024, 3, 1, 12, 6, 52, 123)),
        (42, 8, t(2024, 3, 1, 12, 19, 35, 328)),
        (52, 9, t(2024, 3, 1, 12, 35, 57, 311)),
        (62, 8, t(2024, 3, 1, 14, 12, 55, 10)),
        (72, 8, t(2024, 3, 1, 14, 29, 53, 60))]
    spawns = [e for e in events if e.attrs and e.attrs.get("phase") == "spawned"]
    assert len(spawns) == 32
    assert not any(e.attrs["respawn"] for e in spawns)       # each spawn is the first under its supervisord
    assert [(e.unit, e.pid) for e in spawns[:4]] == [("worker_00", 9), ("worker_01", 10), ("worker_02", 11),
                                                     ("worker_03", 12)]
    assert [(e.unit, e.pid) for e in spawns[8:12]] == [("worker_00", 10), ("worker_01", 11), ("worker_02", 12),
                                                       ("worker_03", 13)]
    assert events[0].message == "Set uid to user 0 succeeded" and events[0].kind == "log"
    # the success after the third start refers to that start's pid, not an earlier supervisord's
    assert events[26].attrs == {"program": "worker_00", "phase": "running", "startsecs": 1, "spawned_pid": 10}


def test_alancoding_crash_loops_and_sigint():
    _, events, _ = parse_file(ALAN)
    exits = [e for e in events if e.kind == "process_exit"]
    assert Counter((e.attrs["code"], e.attrs["status"], e.attrs["expected"]) for e in exits) == {
        ("exited", 1, False): 8, ("exited", 2, False): 187}
    assert all(e.severity == 6 for e in exits)          # this supervisor logged them at INFO
    assert Counter(e.unit for e in events if e.kind == "gave_up") == {"fail-too-fast": 8, "fail-slowly": 1}
    sigint = [e for e in events if e.unit == "supervisord" and e.kind == "service_stop"]
    assert len(sigint) == 8 and all(e.attrs == {"signal": "INT"} and e.severity == 4 for e in sigint)
    assert sigint[0].ts_us == t(2022, 11, 8, 11, 14, 2, 830)
    stops = [e for e in events if e.kind == "service_stop" and e.unit == "fail-slowly"]
    assert Counter((e.attrs["code"], e.attrs.get("status"), e.attrs.get("signal")) for e in stops) == {
        ("exited", 2, None): 3, ("killed", 15, "TERM"): 4}
    # lines 1-4: the first exits, 63 ms after their spawns
    assert (events[3].unit, events[3].attrs["spawned_pid"], events[3].attrs["uptime_s"]) == ("fail-too-fast",
                                                                                           1115629, 0.067)


# --- sniffing ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "May 28 14:35:12 web1 supervisord[812]: 2024-05-28 14:35:12,123 INFO spawned: 'api' with pid 9",  # syslog
    "Jul 05 12:41:42 ubuntu supervisord[19944]: 2021-07-05 12:41:42,367 CRIT Supervisor is running as root.",
    "2024-05-28T14:35:12.123456+02:00 vps1 supervisord[812]: 2024-05-28 14:35:12,123 INFO exited: api",
    "-- Logs begin at Thu 2016-06-09 22:30:35 UTC. --\nJun 09 22:30:35 vps1 systemd[1]: Started x.",
    '203.0.113.9 - - [28/May/2024:14:35:12 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/8.5.0"',
    "[10149.950058] Memory cgroup out of memory: Killed process 21140 (node)",
    "2024-05-28T14:35:12: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]",
    "2017-10-08 14:18:40: App [X] with id [0] and pid [1], exited with code [0] via signal [SIGTERM]",
    "[2023-05-15 19:53:50] local.ERROR: Target class [x] does not exist.",
    "[Nest] 24545  - 11/22/2026, 8:04:37 PM     LOG [NestFactory] Starting Nest application...",
    "2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487] [InnoDB] DDL log recovery : begin",
    "2026-11-22 20:08:24 0 [Warning] Could not increase number of max_open_files",          # MariaDB
    "2024-05-28 14:35:12,123 WARNING root: Python logging's WARNING is not supervisor's WARN",
    "2024-05-28 14:35:12.123 INFO a dot, not a comma",
    "2024-05-28 14:35:12 INFO no milliseconds",
    "",
])
def test_sniff_leaves_other_formats_alone(text):
    assert supervisord.sniff(text.split("\n")) == 0


def test_sniff_python_logging_lookalike_scores_lower():
    """Python logging's '%(asctime)s %(levelname)s %(message)s' prints INFO the same way: without a line only
    supervisor writes, the claim is weaker."""
    assert supervisord.sniff(["2024-05-28 14:35:12,123 INFO Application started",
                              "2024-05-28 14:35:13,456 INFO listening on :8000"]) == 60


def test_sniff_debug_log_whose_program_output_outnumbers_its_lines():
    text = ("2026-11-23 16:12:47,612 INFO spawned: 'hog' with pid 2528\n"
            + "2026-11-23 16:12:47,650 DEBG 'hog' stdout output:\nallocated 5 MiB\n\n" * 8)
    lines = text.split("\n")
    assert supervisord.sniff(lines) == 90
    assert all(m.sniff(lines) < 90 for m in parsers.MODULES if m is not supervisord)


# --- written here -------------------------------------------------------------------------------------------------

def test_restart_storm_keeps_every_line_in_order():
    lines = ["2024-05-28 14:00:00,000 INFO supervisord started with pid 100"]
    ms = 0
    for i in range(400):
        ms += 7
        lines.append(f"2024-05-28 14:{ms // 60000:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d} INFO spawned: 'worker' "
                     f"with pid {1000 + i}")
        ms += 5
        lines.append(f"2024-05-28 14:{ms // 60000:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d} WARN exited: worker "
                     f"(exit status {i % 3}; not expected)")
    text = "\n".join(lines) + "\n"
    events, rejects = run(MOD, text)
    assert rejects == [] and len(events) == 801
    assert [e.line for e in events] == list(range(1, 802))
    assert [e.message for e in events] == [l.split(" ", 3)[3] for l in lines]
    assert kinds(events) == {"service_start": 401, "process_exit": 400}
    exits = events[2::2]
    assert [e.attrs["spawned_pid"] for e in exits] == list(range(1000, 1400))
    assert [e.attrs["status"] for e in exits] == [i % 3 for i in range(400)]
    assert all(e.attrs["uptime_s"] == 0.005 and e.attrs["was_running"] is False for e in exits)
    assert [e.attrs["respawn"] for e in events[1::2]] == [False] + [True] * 399
    assert [e.ts_us for e in events] == sorted(e.ts_us for e in events)
    assert events[-1].ts_us == t(2024, 5, 28, 14, 0, 4, 800)
    assert_accounted(text.encode(), events, rejects)


def test_supervisord_restarting_in_the_middle_of_the_file():
    text = "\n".join([
        "2024-05-28 14:00:00,000 INFO supervisord started with pid 100",
        "2024-05-28 14:00:01,000 INFO spawned: 'api' with pid 101",
        "2024-05-28 14:00:03,000 INFO success: api entered RUNNING state, process has stayed up for > than 2 seconds (startsecs)",
        "2024-05-28 14:05:00,000 WARN received SIGHUP indicating restart request",
        "2024-05-28 14:05:00,010 INFO waiting for api, queue_00, queue_01 to die",
        "2024-05-28 14:05:00,020 WARN stopped: api (terminated by SIGTERM)",
        "2024-05-28 14:05:01,000 INFO RPC interface 'supervisor' initialized",
        "2024-05-28 14:05:01,001 INFO supervisord started with pid 100",
        "2024-05-28 14:05:02,000 WARN exited: api (exit status 1; not expected)",   # no spawn since the restart
        "2024-05-28 14:05:02,500 INFO spawned: 'api' with pid 202",
        # supervisord killed outright: no shutdown lines, the next one starts
        "2024-05-28 15:00:00,000 INFO supervisord started with pid 300",
        "2024-05-28 15:00:01,000 INFO spawned: 'api' with pid 301",
        "2024-05-28 15:00:09,000 INFO exited: api (exit status 0; expected)",
        "2024-05-28 15:00:10,000 WARN received SIGQUIT indicating exit request",
        "2024-05-28 15:00:10,000 WARN ignored SIGHUP indicating restart request (shutdown in progress)",
    ])
    events, rejects = run(MOD, text)
    assert rejects == []
    assert [(e.kind, e.unit, e.pid) for e in events] == [
        ("service_start", "supervisord", 100), ("service_start", "api", 101), ("service_start", "api", None),
        ("restart", "supervisord", None), ("log", None, None), ("service_stop", "api", None),
        ("log", None, None), ("service_start", "supervisord", 100), ("process_exit", "api", None),
        ("service_start", "api", 202), ("service_start", "supervisord", 300), ("service_start", "api", 301),
        ("process_exit", "api", None), ("service_stop", "supervisord", None), ("log", None, None)]
    assert events[3].attrs == {"signal": "HUP"}
    assert events[4].attrs == {"programs": ["api", "queue_00", "queue_01"]}
    assert events[5].attrs["spawned_pid"] == 101 and events[5].attrs["uptime_s"] == 299.02
    assert "spawned_pid" not in events[8].attrs          # the pid of the earlier supervisord's spawn is not this one's
    assert events[9].attrs["respawn"] is False
    assert events[12].attrs == {"program": "api", "code": "exited", "status": 0, "expected": True,
                                "spawned_pid": 301, "was_running": False, "uptime_s": 8.0}
    assert events[13].attrs == {"signal": "QUIT"}
    assert events[14].attrs == {"signal": "HUP"}


def test_local_time_in_a_non_utc_zone():
    ctx = Context(tz=zone("America/New_York"))
    text = ("2024-01-15 12:00:00,250 INFO spawned: 'api' with pid 9\n"          # EST, UTC-5
            "2024-07-15 12:00:00,250 INFO spawned: 'api' with pid 10\n"         # EDT, UTC-4
            "2024-03-10 01:59:59,999 WARN exited: api (exit status 1; not expected)\n"  # the last EST second
            "2024-03-10 03:00:00,000 INFO spawned: 'api' with pid 11\n"         # the first EDT one
            "2024-12-31 23:59:59,999 INFO spawned: 'api' with pid 12\n")        # next year in UTC
    events, rejects = run(MOD, text, ctx)
    assert rejects == []
    assert [e.ts_us for e in events] == [
        t(2024, 1, 15, 17, 0, 0, 250), t(2024, 7, 15, 16, 0, 0, 250), t(2024, 3, 10, 6, 59, 59, 999),
        t(2024, 3, 10, 7, 0, 0, 0), t(2025, 1, 1, 4, 59, 59, 999)]
    assert {e.ts_quality for e in events} == {"zone_assumed"}
    # the same text in UTC is five hours earlier in January
    utc_events, _ = run(MOD, text)
    assert utc_events[0].ts_us - events[0].ts_us == -5 * 3600 * 1_000_000


def test_traceback_folds_into_its_record():
    text = ("2024-05-28 14:00:00,000 INFO spawned: 'api' with pid 101\n"
            "2024-05-28 14:00:05,000 CRIT unknown problem killing api (101):Traceback (most recent call last):\n"
            '  File "/usr/lib/python3/dist-packages/supervisor/process.py", line 463, in kill\n'
            "    options.kill(pid, sig)\n"
            "PermissionError: [Errno 1] Operation not permitted\n"
            "\n"
            "2024-05-28 14:00:06,000 INFO waiting for api to stop\n")
    events, rejects = run(MOD, text)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.severity) for e in events] == [
        (1, 1, "service_start", 6), (2, 6, "log", 2), (7, 7, "log", 6)]
    tb = events[1]
    assert (tb.unit, tb.pid, tb.attrs["program"]) == ("api", 101, "api")
    assert tb.message == ("unknown problem killing api (101):Traceback (most recent call last):\n"
                          '  File "/usr/lib/python3/dist-packages/supervisor/process.py", line 463, in kill\n'
                          "    options.kill(pid, sig)\n"
                          "PermissionError: [Errno 1] Operation not permitted")
    assert_accounted(text.encode(), events, rejects)


def test_exit_and_stop_forms():
    text = "\n".join([
        "2026-11-23 16:16:29,339 INFO spawned: 'aborter' with pid 6099",
        "2026-11-23 16:16:32,370 WARN exited: aborter (terminated by SIGABRT (core dumped); not expected)",
        "2026-11-23 16:16:33,000 INFO exited: api (terminated by SIGKILL; expected)",
        "2026-11-23 16:16:34,000 WARN exited: api (terminated by signal 42; not expected)",
        "2026-11-23 16:16:35,000 WARN exited: api (unknown termination cause 0x057f; not expected)",
        "2026-11-23 16:16:36,000 INFO stopped: api (exit status 0)",
        "2026-11-23 16:16:37,000 INFO stopped: api",                                    # supervisor 2.x
        "2026-11-23 16:16:38,000 WARN killing 'api' (6100) with SIGKILL",
        "2026-11-23 16:16:38,001 DEBG killing api (pid 6100) process group with signal SIGKILL",
        "2026-11-23 16:16:39,000 INFO reaped unknown pid 512 (exit status 0)",
        "2026-11-23 16:16:40,000 INFO spawnerr: too many open files to spawn 'api'",
        "2026-11-23 16:16:41,000 INFO spawnerr: can't find command '/nonexistent/binary'",
        "2026-11-23 16:16:42,000 ERRO pool listener event buffer overflowed, discarding event 7",
        "2026-11-23 16:16:43,000 TRAC XML-RPC method called: supervisor.getAllProcessInfo()",
        "2026-11-23 16:16:44,000 BLAT write event caused by <PInputDispatcher>",
        "2026-11-23 16:16:45,000 WARN received SIGUSR2 indicating log reopen request",
    ])
    events, rejects = run(MOD, text)
    assert rejects == []
    e = events
    assert e[1].kind == "process_exit" and e[1].attrs == {
        "program": "aborter", "code": "dumped", "signal": "ABRT", "status": 6, "core_dumped": True,
        "expected": False, "spawned_pid": 6099, "was_running": False, "uptime_s": 3.031}
    assert e[2].attrs == {"program": "api", "code": "killed", "signal": "KILL", "status": 9, "expected": True}
    assert e[3].attrs == {"program": "api", "code": "killed", "status": 42, "expected": False}
    assert e[4].attrs == {"program": "api", "code": "unknown", "cause": "0x057f", "expected": False}
    assert (e[5].kind, e[5].attrs) == ("service_stop", {"program": "api", "code": "exited", "status": 0})
    assert (e[6].kind, e[6].unit, e[6].attrs) == ("service_stop", "api", {"program": "api"})
    assert (e[7].kind, e[7].unit, e[7].pid, e[7].severity, e[7].attrs) == (
        "log", "api", 6100, 4, {"program": "api", "signal": "KILL"})
    assert e[8].attrs == {"program": "api", "signal": "KILL", "process_group": True} and e[8].pid == 6100
    assert (e[9].pid, e[9].unit, e[9].process) == (512, None, "supervisord")
    assert (e[10].unit, e[10].attrs) == ("api", {"spawnerr": "too many open files to spawn 'api'",
                                                  "program": "api"})
    assert (e[11].unit, e[11].attrs) == (None, {"spawnerr": "can't find command '/nonexistent/binary'"})
    assert [x.severity for x in e[12:15]] == [3, 7, 7]
    assert (e[15].kind, e[15].attrs) == ("log", {"signal": "USR2"})


def test_group_process_names_are_kept_whole():
    events, _ = run(MOD, "2024-05-28 14:00:00,000 INFO spawned: 'queue:queue_00' with pid 7\n"
                         "2024-05-28 14:00:09,000 WARN exited: queue:queue_00 (terminated by SIGKILL; not expected)\n"
                         "2024-05-28 14:00:10,000 INFO gave up: queue:queue_00 entered FATAL state, too many start "
                         "retries too quickly\n")
    assert [(e.kind, e.unit) for e in events] == [
        ("service_start", "queue:queue_00"), ("process_exit", "queue:queue_00"), ("gave_up", "queue:queue_00")]
    for e in events:
        assert (e.attrs["program"], e.attrs["group"], e.attrs["process"]) == ("queue:queue_00", "queue", "queue_00")
    assert events[1].attrs["spawned_pid"] == 7


# At loglevel=debug supervisord copies its programs' output into its log; memmon's (superlance 2.0.0,
# ``memmon -p hog=60MB``) shows its restarts.  Cut from the log supervisor 4.3.0 wrote.
MEMMON = """\
2026-11-23 16:12:47,587 INFO spawned: 'hog' with pid 2524
2026-11-23 16:12:55,551 DEBG event 1 sent to listener memmon
2026-11-23 16:12:55,551 DEBG 'memmon' stderr output:
Checking programs hog=62914560

2026-11-23 16:12:55,552 DEBG 'hog' stdout output:
allocated 135 MiB

2026-11-23 16:12:55,561 DEBG 'memmon' stderr output:
RSS of hog:hog is 150597632

2026-11-23 16:12:55,562 DEBG 'memmon' stderr output:
Restarting hog:hog

2026-11-23 16:12:55,562 DEBG killing hog (pid 2524) with signal SIGTERM
2026-11-23 16:12:55,564 INFO waiting for hog to stop
2026-11-23 16:12:55,580 WARN stopped: hog (terminated by SIGTERM)
2026-11-23 16:12:55,583 INFO spawned: 'hog' with pid 2568
2026-11-23 16:12:56,833 DEBG 'memmon' stdout output:
b'READY\\n'
"""


def test_memmon_restart_at_debug_level():
    events, rejects = run(MOD, MEMMON)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.unit) for e in events] == [
        (1, 1, "service_start", "hog"), (2, 2, "log", None), (3, 5, "log", "memmon"), (6, 8, "log", "hog"),
        (9, 11, "log", "memmon"), (12, 14, "memory_limit_restart", "hog:hog"), (15, 15, "log", "hog"),
        (16, 16, "log", "hog"), (17, 17, "service_stop", "hog"), (18, 18, "service_start", "hog"),
        (19, 20, "log", "memmon")]
    r = events[5]
    assert r.attrs == {"program": "hog:hog", "group": "hog", "process": "hog", "rss_bytes": 150597632,
                       "limit_bytes": 62914560, "listener": "memmon", "spawned_pid": 2524}
    assert (r.ts_us, r.severity, r.message) == (t(2026, 11, 23, 16, 12, 55, 562), 7,
                                                "'memmon' stderr output:\nRestarting hog:hog")
    assert events[3].attrs == {"program": "hog", "channel": "stdout"}
    assert events[3].message == "'hog' stdout output:\nallocated 135 MiB"
    assert events[8].attrs["spawned_pid"] == 2524
    assert_accounted(MEMMON.encode(), events, rejects)


def test_memmon_chunk_with_two_restarts_is_two_events_and_other_restarting_lines_are_not():
    text = ("2026-11-23 16:12:55,000 DEBG 'memmon' stderr output:\n"
            "Checking groups web=100, api=200\n"
            "Checking any=300\n"
            "RSS of web:web_00 is 150\n"
            "Restarting web:web_00\n"
            "RSS of other:other is 400\n"
            "Restarting other:other\n"
            "\n"
            "2026-11-23 16:12:56,000 DEBG 'app' stderr output:\n"
            "Restarting server\n"                       # an application's own words, not memmon's
            "2026-11-23 16:12:57,000 DEBG 'app' stdout output:\n"
            "RSS of a:a is 9\nRestarting a:a\n")        # on stdout: memmon writes to stderr
    events, rejects = run(MOD, text)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.unit) for e in events] == [
        (1, 5, "memory_limit_restart", "web:web_00"), (6, 8, "memory_limit_restart", "other:other"),
        (9, 10, "log", "app"), (11, 13, "log", "app")]
    assert (events[0].attrs["rss_bytes"], events[0].attrs["limit_bytes"]) == (150, 100)    # its group's limit
    assert (events[1].attrs["rss_bytes"], events[1].attrs["limit_bytes"]) == (400, 300)    # the 'any' limit
    assert events[1].message == "RSS of other:other is 400\nRestarting other:other"
    assert events[0].ts_us == events[1].ts_us
    assert_accounted(text.encode(), events, rejects)


def test_garbage_and_cut_lines():
    text = ("garbage before the first record\n"
            "\n"
            "2024-05-28 14:00:00,000 INFO spawned: 'api' with pid 101\n"
            "garbage after a record is taken as its continuation\n"
            "2024-02-30 14:00:00,000 INFO no such day\n"
            "2024-05-28 14:61:00,000 INFO no such minute\n"
            "2024-05-28 14:00:01,000 WARN exited: api (terminated by SIG\n"       # cut in the middle of the file
            "2024-05-28 14:00:02,000 INFO\n"                                        # a record with no message
            "2024-05-28 14:00:0")                                                  # the file ends inside a prefix
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end, e.kind, e.message) for e in events] == [
        (3, 4, "service_start", "spawned: 'api' with pid 101\ngarbage after a record is taken as its continuation"),
        (7, 7, "log", "exited: api (terminated by SIG"),
        (8, 8, "log", "")]
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a supervisord line, and no record before it to continue"),
        (2, "blank line"),
        (5, "invalid date in a supervisord timestamp"),
        (6, "invalid time in a supervisord timestamp"),
        (9, "line cut short inside its supervisord prefix")]
    assert_accounted(text.encode(), events, rejects)


@pytest.mark.parametrize("cut", ["2024-05-28 ", "2024-05-28 14:00:01,00", "2024-05-28 14:00:01,000 WA",
                                 "2024-05-28 14:00:01,000 WARN"])
def test_last_line_cut_short(cut):
    events, rejects = run(MOD, "2024-05-28 14:00:00,000 INFO spawned: 'api' with pid 101\n" + cut)
    assert [(e.line, e.line_end) for e in events] == [(1, 1)]
    assert [r.line for r in rejects] == [2]
    assert rejects[0].reason in ("line cut short inside its supervisord prefix",
                                 "line cut short: a supervisord prefix and no message")


@pytest.mark.parametrize("short", ["2", "2024", "20 MiB", "2024-05-2"])
def test_short_output_at_the_end_is_a_continuation_not_a_cut_prefix(short):
    events, rejects = run(MOD, "2024-05-28 14:00:00,000 DEBG 'api' stdout output:\n" + short)
    assert rejects == [] and events[0].message == "'api' stdout output:\n" + short


def test_invalid_utf8_nul_and_crlf():
    data = (b"2024-05-28 14:00:00,000 INFO spawned: 'caf\xe9' with pid 1\r\n"
            b"2024-05-28 14:00:01,000 DEBG 'api' stdout output:\r\n\xff\xfe a\x00b\r\n"
            b"\xfe\xfe\n")
    events, rejects = run(MOD, data)
    assert rejects == []
    assert [(e.unit, e.pid, e.line, e.line_end) for e in events] == [("caf\ufffd", 1, 1, 1), ("api", None, 2, 4)]
    assert events[1].message == "'api' stdout output:\n\ufffd\ufffd a\ufffdb\n\ufffd\ufffd"
    events, rejects = run(MOD, b"\xfe\xfe\n")
    assert [(r.line, r.text) for r in rejects] == [(1, "\ufffd\ufffd")]


def test_start_line_offsets_line_numbers():
    out = list(supervisord.parse(io.BytesIO(b"2024-05-28 14:00:00,000 INFO a\n  b\n2024-05-28 14:00:01,000 INFO c"),
                                 Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42), (43, 43)]


def test_empty_file():
    assert run(MOD, b"") == ([], [])


def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the files go into the database with every line accounted for."""
    if "supervisord" not in parsers.FORMATS:
        monkeypatch.setitem(parsers.FORMATS, "supervisord", supervisord)
        monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, supervisord])
    run3, alan = sample(RUN3), sample(ALAN)
    con, results = ingest(tmp_path, run3, alan, tz="Europe/Berlin")
    assert [(r.format, r.status, r.rejected) for r in results] == [("supervisord", "ingested", 0)] * 2
    assert sorted(accounted(con, r.file_id) for r in results) == [(33, 33), (606, 606)]
    rows = con.execute("SELECT epoch_us(ts), ts_quality, kind, unit, attrs->>'signal', "
                       "(attrs->>'spawned_pid')::INT, (attrs->>'expected')::BOOLEAN FROM events "
                       "WHERE file_id = ? AND kind = 'process_exit' ORDER BY line LIMIT 1",
                       [next(r.file_id for r in results if r.path.endswith(RUN3.split("/")[1]))]).fetchall()
    # read in Europe/Berlin (CET, UTC+1) as --tz says: 19:59:04,735 local is 18:59:04.735 UTC
    assert rows == [(t(2026, 11, 22, 18, 59, 4, 735), "zone_assumed", "process_exit", "api", "KILL", 22546, False)]
