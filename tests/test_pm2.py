"""PM2: the daemon log (pm2), the apps' output (pm2_app) and saved process lists (pm2_jlist).

The real files are those of ../shared/samples/pm2 (PM2 5.4.2, 5.4.3 and
2.7.1); the values checked were read off them by hand.  The excerpts written
out below (a cluster reload, ``pm2 kill`` with several apps, the app logs in
cluster mode, with a custom log_date_format and with --log-type json, a
jlist and a prettylist) are what PM2 5.4.3 on Node 20.20.2 wrote in a run
made for these tests (TZ=Europe/Berlin, trimmed: ids, pids and times are
PM2's own).
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest

import parsers
from parsers import head_lines, pm2, pm2_app, pm2_jlist
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import assert_accounted, line_count, sample

DAEMON = "parsers.pm2"
APP = "parsers.pm2_app"
JLIST = "parsers.pm2_jlist"
LAB = "pm2/lab-pm2-5.4.3-maxmem-and-kernel-oom-excerpt.pm2.log"
SALIL = "pm2/salilw1999-pm2.log"
PI = "pm2/kqsmea8-pibackup-pm2-v2.7.log"
TIMED = "pm2/lab-pm2-5.4.3-api-out-time-prefix.log"
INDEX_ERR = "pm2/salilw1999-index-error.log"
MM_ERR = "pm2/kqsmea8-pibackup-MagicMirror-error-0.log"
BERLIN = zone("Europe/Berlin")


def parse(module: str, rel_or_text: str, ctx: Context | None = None):
    """Parse a sample ("pm2/NAME", read from ../shared/samples) or a text; check its lines are accounted for."""
    is_sample = rel_or_text.startswith("pm2/") and "\n" not in rel_or_text
    data = sample(rel_or_text).read_bytes() if is_sample else rel_or_text.encode()
    events, rejects = run(module, data, ctx)
    assert_accounted(data, events, rejects)
    return events, rejects


def kinds(events) -> dict:
    return dict(Counter(e.kind for e in events))


# --- the daemon log: the real files -----------------------------------------------------------------------------

def test_lab_max_memory_restarts_and_kernel_oom_kills():
    events, rejects = parse(DAEMON, LAB)
    assert rejects == [] and len(events) == 46
    assert kinds(events) == {"service_start": 18, "process_exit": 9, "service_stop": 6, "log": 5,
                             "memory_limit_restart": 4, "restart": 4}
    mem = [e for e in events if e.kind == "memory_limit_restart"]
    assert [e.line for e in mem] == [3, 10, 17, 36]
    assert [e.attrs["current_bytes"] for e in mem] == [134017024, 168456192, 155971584, 153001984]
    assert {e.attrs["limit_bytes"] for e in mem} == {104857600}
    assert {(e.unit, e.attrs["app_id"], e.attrs["app"]) for e in mem} == {("api", 0, "api")}
    restarts = [e for e in events if e.kind == "restart"]
    assert [(e.line, e.attrs["reason"], e.unit) for e in restarts] == [
        (4, "max_memory_restart", "api"), (11, "max_memory_restart", "api"), (18, "max_memory_restart", "api"),
        (37, "max_memory_restart", "api")]
    exits = [e for e in events if e.kind == "process_exit"]
    assert [e.line for e in exits] == [6, 13, 20, 24, 27, 30, 33, 39, 44]
    assert [e.attrs["signal"] for e in exits] == ["SIGINT"] * 3 + ["SIGKILL"] * 4 + ["SIGINT"] * 2
    assert [e.attrs["expected"] for e in exits] == [True] * 3 + [False] * 4 + [True] * 2  # the OOM kills
    assert {(e.attrs["code"], e.unit, e.attrs["app_id"], e.pid, e.process) for e in exits} == {(0, "api", 0, None, None)}
    starts = [e for e in events if e.kind == "service_start"]
    assert [e.attrs["phase"] for e in starts] == ["starting", "online"] * 9
    assert {e.attrs.get("mode") for e in starts} == {"fork", None}
    stops = [e for e in events if e.kind == "service_stop"]
    assert [(e.line, e.unit, e.attrs["phase"]) for e in stops] == [
        (5, "api", "stopping"), (12, "api", "stopping"), (19, "api", "stopping"), (38, "api", "stopping"),
        (43, "api", "stopping"), (46, "pm2", "stopped")]
    assert stops[-1].attrs["reason"] == "kill"
    # "pid=N msg=process killed" after a stop: the app's pid, tied to it
    killed = [e for e in events if e.kind == "log"]
    assert [(e.pid, e.unit, e.attrs["msg"]) for e in killed] == [
        (23545, "api", "process killed"), (23638, "api", "process killed"), (23724, "api", "process killed"),
        (24204, "api", "process killed"), (24281, "api", "process killed")]
    # 2026-11-22T20:01:06 without a zone: read in the file's zone (UTC here)
    assert (events[0].ts_us, events[0].ts_quality) == (utc_us(2026, 11, 22, 20, 1, 6, 0), "zone_assumed")
    assert events[-1].ts_us == utc_us(2026, 11, 22, 20, 3, 38, 0)
    assert {e.attrs["level"] for e in events} == {"log"} and {e.severity for e in events} == {None}
    assert {e.host for e in events} == {None}


def test_salilw1999_crash_loop_gives_up_twice():
    events, rejects = parse(DAEMON, SALIL)
    assert rejects == [] and len(events) == 114
    assert kinds(events) == {"service_start": 69, "process_exit": 34, "service_stop": 5, "log": 4, "gave_up": 2}
    banner = events[0]
    assert (banner.line, banner.line_end, banner.kind, banner.unit) == (1, 16, "service_start", "pm2")
    assert banner.message.splitlines()[1] == "--- New PM2 Daemon started ----------------------------------------------------"
    assert {k: banner.attrs[k] for k in ("title", "pm2_version", "node_version", "pm2_home", "worker_interval_ms",
                                         "kill_timeout_ms", "utc_offset", "zone_name")} == {
        "title": "New PM2 Daemon started", "pm2_version": "5.4.2", "node_version": "18.19.1",
        "pm2_home": "/home/ubuntu/.pm2", "worker_interval_ms": 30000, "kill_timeout_ms": 1600,
        "utc_offset": "+00:00", "zone_name": "Coordinated Universal Time"}
    gave_up = [e for e in events if e.kind == "gave_up"]
    assert [(e.line, e.unit, e.attrs["app_id"], e.attrs["restarts"], e.attrs["script"], e.attrs["status"])
            for e in gave_up] == [(65, "index", 0, 16, "/home/ubuntu/mynodeapp/index.js", "errored"),
                                  (114, "index", 0, 16, "/home/ubuntu/mynodeapp/index.js", "errored")]
    exits = [e for e in events if e.kind == "process_exit"]
    crash = [e for e in exits if e.attrs["code"] == 1]
    assert len(crash) == 32 and {(e.attrs["signal"], e.attrs["expected"]) for e in crash} == {("SIGINT", False)}
    assert [(e.line, e.attrs["code"], e.attrs["expected"]) for e in exits if e.attrs["code"] == 0] == [
        (120, 0, True), (125, 0, True)]
    assert {e.unit for e in events} == {"pm2", "index"}
    error = events[[e.line for e in events].index(116)]
    assert (error.kind, error.severity, error.unit, error.attrs["level"], error.message) == (
        "log", 3, "index", "error", "app=index id=0 does not have a pid")
    assert [(e.line, e.pid) for e in events if e.pid] == [(121, 14603), (126, 14666)]
    tail = [(e.line, e.kind, e.unit, e.attrs.get("phase"), e.attrs.get("reason")) for e in events[-3:]]
    assert tail == [(127, "service_stop", "pm2", "stopping", "signal"), (128, "log", "index", None, None),
                    (129, "service_stop", "pm2", "stopped", "signal")]


def test_pm2_2_7_daemon_restarts_and_time_going_back():
    events, rejects = parse(DAEMON, PI)
    assert rejects == [] and len(events) == 55
    assert kinds(events) == {"service_stop": 21, "service_start": 19, "log": 10, "process_exit": 5}
    banners = [e for e in events if e.unit == "pm2" and e.kind == "service_start"]
    assert [(e.line, e.line_end) for e in banners] == [(1, 15), (25, 39), (53, 67), (68, 82), (85, 99), (110, 124),
                                                      (133, 147), (150, 164), (167, 181)]
    assert {(e.attrs["pm2_version"], e.attrs["node_version"], e.attrs["utc_offset"], e.attrs["zone_name"])
            for e in banners} == {("2.7.1", "6.11.4", "+01:00", "BST")}
    exits = [e for e in events if e.kind == "process_exit"]
    assert [(e.line, e.unit, e.pid, e.attrs["app_id"], e.attrs["code"], e.attrs["signal"], e.attrs["expected"])
            for e in exits] == [(22, "MagicMirror", 2938, 0, 0, "SIGTERM", True),
                                (43, "MagicMirror", 2078, 0, 0, "SIGINT", True),
                                (50, "MagicMirror", 2213, 0, 0, "SIGTERM", True),
                                (107, "MagicMirror", 2086, 0, 0, "SIGTERM", True),
                                (130, "mm", 3935, 0, 0, "SIGTERM", True)]
    starts = [(e.line, e.unit, e.attrs["phase"]) for e in events if e.kind == "service_start" and e.unit != "pm2"]
    assert starts == [(17, "MagicMirror", "starting"), (18, "MagicMirror", "online"), (40, "MagicMirror", "starting"),
                      (41, "MagicMirror", "online"), (45, "MagicMirror", "starting"), (46, "MagicMirror", "online"),
                      (100, "MagicMirror", "starting"), (101, "MagicMirror", "online"), (125, "mm", "starting"),
                      (126, "mm", "online")]
    # 17:54:43 (the banner of line 85), then 17:06:20: kept as written, in file order
    by_line = {e.line: e for e in events}
    assert by_line[85].ts_us == utc_us(2017, 10, 8, 17, 54, 43, 0)
    assert by_line[100].ts_us == utc_us(2017, 10, 8, 17, 6, 20, 0) < by_line[85].ts_us
    assert by_line[16].message == "[Watch] Start watching MagicMirror" and by_line[16].unit == "MagicMirror"
    assert "level" not in by_line[17].attrs  # PM2 2.x has no "PM2 log:" tag
    daemon_stops = [(e.line, e.attrs["phase"]) for e in events if e.kind == "service_stop" and e.unit == "pm2"]
    assert daemon_stops[:2] == [(19, "stopping"), (24, "stopped")] and len(daemon_stops) == 16


def test_local_time_in_berlin():
    events, _ = parse(DAEMON, LAB, Context(tz=BERLIN))
    assert events[0].ts_us == utc_us(2026, 11, 22, 19, 1, 6, 0)    # CET, UTC+1, in November
    events, _ = parse(DAEMON, SALIL, Context(tz=BERLIN))
    assert events[0].ts_us == utc_us(2024, 8, 2, 12, 42, 18, 0)    # CEST, UTC+2, in August
    assert events[-1].ts_us == utc_us(2024, 8, 2, 14, 17, 12, 0)
    assert {e.ts_quality for e in events} == {"zone_assumed"}
    events, _ = parse(APP, TIMED, Context(tz=BERLIN))
    assert events[0].ts_us == utc_us(2026, 11, 22, 19, 1, 6, 0)


# --- the daemon log: written by hand and by PM2 5.4.3 -------------------------------------------------------------

def _banner(t: str, version: str = "5.4.3") -> list[str]:
    fields = [("Time", "Mon Nov 23 2026 17:18:06 GMT+0100 (Central European Standard Time)"),
              ("PM2 version", version), ("Node.js version", "20.20.2"), ("Current arch", "x64"),
              ("PM2 home", "/root/.pm2"), ("Worker Interval", "30000"), ("SIGTERM timeout", "1600")]
    return ([f"{t}: PM2 log: " + "=" * 79, f"{t}: PM2 log: --- New PM2 Daemon started " + "-" * 52]
            + [f"{t}: PM2 log: {k:<21}: {v}" for k, v in fields] + [f"{t}: PM2 log: " + "=" * 79])


def test_restart_storm_keeps_every_line_and_its_order():
    lines = _banner("2024-05-28T14:00:00")
    for i in range(400):
        t = f"2024-05-28T14:{i // 60:02d}:{i % 60:02d}"
        lines += [f"{t}: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]",
                  f"{t}: PM2 log: App [api:0] starting in -fork mode-",
                  f"{t}: PM2 log: App [api:0] online"]
    mid = len(lines)
    lines += _banner("2024-05-28T13:59:00")  # the daemon restarted, its clock now earlier
    for i in range(300):
        t = f"2024-05-28T14:{i // 60:02d}:{i % 60:02d}"
        lines += [f"{t}: PM2 log: App [api:0] starting in -cluster mode-", f"{t}: PM2 log: App [api:0] online",
                  f"{t}: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]"]
    events, rejects = parse(DAEMON, "\n".join(lines) + "\n")
    assert rejects == []
    assert len(events) == 2 + 400 * 3 + 300 * 3
    assert [e.line for e in events] == [1] + list(range(11, mid + 1)) + [mid + 1] + list(range(mid + 11, len(lines) + 1))
    assert kinds(events) == {"service_start": 2 + 400 * 2 + 300 * 2, "process_exit": 700}
    exits = [e for e in events if e.kind == "process_exit"]
    assert {e.attrs["expected"] for e in exits} == {False}
    assert [e.attrs["code"] for e in exits] == [1] * 400 + [0] * 300
    second = events[1 + 400 * 3]
    assert (second.unit, second.line, second.line_end) == ("pm2", mid + 1, mid + 10)
    assert second.ts_us < events[1 + 400 * 3 - 1].ts_us  # time went back; nothing rejected for it


def test_daemon_restart_in_the_middle_forgets_the_old_daemons_state():
    text = "\n".join([
        "2024-05-28T14:35:00: PM2 log: App [api:0] online",
        "2024-05-28T14:35:10: PM2 log: Stopping app:api id:0",      # the daemon dies before the exit
        *_banner("2024-05-28T14:36:00"),
        "2024-05-28T14:36:01: PM2 log: [PM2][WORKER] Process 0 restarted because it exceeds --max-memory-restart "
        "value (current_memory=200000000 max_memory_limit=104857600 [octets])",  # no name known yet
        "2024-05-28T14:36:02: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]",
        "2024-05-28T14:36:03: PM2 log: [PM2][WORKER] Process 0 restarted because it exceeds --max-memory-restart "
        "value (current_memory=200000001 max_memory_limit=104857600 [octets])",
        "2024-05-28T14:36:03: PM2 log: pm2 has been killed by signal, dumping process list before exit...",
        "2024-05-28T14:36:03: PM2 log: App [api:0] exited with code [0] via signal [SIGINT]",
        "2024-05-28T14:36:04: PM2 log: PM2 successfully daemonized",
        "2024-05-28T14:36:05: PM2 log: App [api:0] exited with code [0] via signal [SIGINT]",
    ])
    events, rejects = parse(DAEMON, text)
    assert rejects == []
    assert [(e.kind, e.unit, e.line, e.line_end) for e in events] == [
        ("service_start", "api", 1, 1), ("service_stop", "api", 2, 2), ("service_start", "pm2", 3, 12),
        ("memory_limit_restart", None, 13, 13), ("process_exit", "api", 14, 14),
        ("memory_limit_restart", "api", 15, 15), ("service_stop", "pm2", 16, 16), ("process_exit", "api", 17, 17),
        ("service_start", "pm2", 18, 18), ("process_exit", "api", 19, 19)]
    assert [e.attrs["expected"] for e in events if e.kind == "process_exit"] == [False, True, False]
    assert events[2].attrs["utc_offset"] == "+01:00"
    assert events[3].attrs == {"level": "log", "app_id": 0, "current_bytes": 200000000, "limit_bytes": 104857600}


def test_lines_without_a_time_continue_the_message_before():
    text = "\n".join([
        "garbage before any PM2 line",
        "",
        "2024-05-28T14:35:12: PM2 error: [PM2][WORKER] Error caught by domain:",
        "Error: spawn ps ENOENT",
        "    at Process.ChildProcess._handle.onexit (node:internal/child_process:282:19)",
        "",
        "    at onErrorNT (node:internal/child_process:477:16)",
        "2024-05-28T14:35:13: PM2 log: App [api:0] online",
        "",
        "",
        "2024-13-28T14:35:14: PM2 log: a month that does not exist",
    ])
    events, rejects = parse(DAEMON, text)
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a PM2 log line, and no line before it to continue"), (2, "blank line"), (9, "blank line"),
        (10, "blank line"), (11, "invalid date in a PM2 time prefix")]
    assert [(e.line, e.line_end, e.severity) for e in events] == [(3, 7, 3), (8, 8, None)]
    assert events[0].message.splitlines() == ["[PM2][WORKER] Error caught by domain:", "Error: spawn ps ENOENT",
                                              "    at Process.ChildProcess._handle.onexit "
                                              "(node:internal/child_process:282:19)", "",
                                              "    at onErrorNT (node:internal/child_process:477:16)"]


def test_other_wordings():
    text = "\n".join(f"2024-05-28 14:35:{i:02d}: {m}" for i, m in enumerate([
        "PM2 log: Launching in no daemon mode",
        "PM2 log: App [my:api:3] starting in -cluster mode-",
        "PM2 log: App [my:api:3] will restart in 1500ms",
        "PM2 log: Change detected on path src/a.js for app my:api - restarting",
        "PM2 log: [PM2][WORKER] Process 3 restarted because it exceeds --max-memory-restart value",
        "PM2 log: Process 3 in a stopped status, starting it",
        "PM2 log: Process 3 in a stopped status, starting it",
        "PM2 log: [PM2][WORKER] Process 3 restarted because it uses 0 memory and has ONLINE status",
        "PM2 log: Stopping app:my:api id:3",
        "PM2 log: Process with pid 4242 still alive after 1600ms, sending it SIGKILL now...",
        "PM2 log: App [my:api:3] exited with code [0] via signal [SIGKILL]",
        "PM2 log: pid=4242 msg=process killed",
        "PM2 warn: something PM2 warns about",
        "Entering in node wrap logic (cluster_mode) for script /srv/app.js",
        "App [old] with id [0] and pid [12], exited with code [143] via signal [null]",
        "[PM2] PM2 Successfully daemonized",
    ]))
    events, rejects = parse(DAEMON, text)
    assert rejects == []
    got = [(e.kind, e.unit, e.pid, {k: v for k, v in (e.attrs or {}).items() if k != "level"}) for e in events]
    assert got == [
        ("service_start", "pm2", None, {}),
        ("service_start", "my:api", None, {"app": "my:api", "app_id": 3, "mode": "cluster", "phase": "starting"}),
        ("restart", "my:api", None, {"app": "my:api", "app_id": 3, "reason": "restart_delay", "delay_ms": 1500}),
        ("restart", "my:api", None, {"app": "my:api", "reason": "watch", "path": "src/a.js"}),
        ("memory_limit_restart", "my:api", None, {"app_id": 3, "app": "my:api"}),
        ("restart", "my:api", None, {"app_id": 3, "reason": "max_memory_restart", "app": "my:api"}),
        ("restart", "my:api", None, {"app_id": 3, "reason": "reload", "app": "my:api"}),
        ("restart", "my:api", None, {"app_id": 3, "reason": "zero_memory", "app": "my:api"}),
        ("service_stop", "my:api", None, {"app": "my:api", "app_id": 3, "phase": "stopping"}),
        ("log", "my:api", 4242, {"kill_timeout_ms": 1600, "app": "my:api", "app_id": 3}),
        ("process_exit", "my:api", None, {"app": "my:api", "app_id": 3, "code": 0, "signal": "SIGKILL",
                                          "expected": True}),
        ("log", "my:api", 4242, {"msg": "process killed", "app": "my:api", "app_id": 3}),
        ("log", None, None, {}),
        ("service_start", None, None, {"mode": "cluster", "phase": "starting", "script": "/srv/app.js"}),
        ("process_exit", "old", 12, {"app": "old", "app_id": 0, "code": 143, "signal": None, "expected": False}),
        ("service_start", "pm2", None, {}),
    ]
    assert events[12].severity == 4 and events[12].attrs["level"] == "warn"


# PM2 5.4.3: "pm2 reload web" (cluster, 2 instances) then "pm2 kill" with five apps
RELOAD_AND_KILL = """\
2026-11-23T17:18:33: PM2 log: App [web:2] starting in -cluster mode-
2026-11-23T17:18:34: PM2 log: App [web:2] online
2026-11-23T17:18:37: PM2 log: Stopping app:web id:_old_2
2026-11-23T17:18:37: PM2 log: App name:web id:_old_2 disconnected
2026-11-23T17:18:37: PM2 log: App [web:_old_2] exited with code [0] via signal [SIGINT]
2026-11-23T17:18:37: PM2 log: pid=6659 msg=process killed
2026-11-23T17:18:37: PM2 log: App [web:3] starting in -cluster mode-
2026-11-23T17:18:37: PM2 log: App [web:3] online
2026-11-23T17:18:44: PM2 log: Stopping app:crash id:0
2026-11-23T17:18:44: PM2 error: app=crash id=0 does not have a pid
2026-11-23T17:18:44: PM2 log: Stopping app:mem id:1
2026-11-23T17:18:44: PM2 log: Stopping app:web id:2
2026-11-23T17:18:44: PM2 log: Stopping app:web id:3
2026-11-23T17:18:44: PM2 log: Stopping app:webjson id:4
2026-11-23T17:18:44: PM2 log: App name:web id:3 disconnected
2026-11-23T17:18:44: PM2 log: App name:web id:2 disconnected
2026-11-23T17:18:44: PM2 log: App [web:2] exited with code [0] via signal [SIGINT]
2026-11-23T17:18:44: PM2 log: App [web:3] exited with code [0] via signal [SIGINT]
2026-11-23T17:18:44: PM2 log: App [webjson:4] exited with code [0] via signal [SIGINT]
2026-11-23T17:18:44: PM2 log: App [mem:1] exited with code [0] via signal [SIGINT]
2026-11-23T17:18:44: PM2 log: pid=8480 msg=process killed
2026-11-23T17:18:44: PM2 log: pid=8855 msg=process killed
2026-11-23T17:18:44: PM2 log: PM2 successfully stopped
"""


def test_cluster_reload_and_kill_of_several_apps():
    events, rejects = parse(DAEMON, RELOAD_AND_KILL)
    assert rejects == [] and len(events) == 23
    old = events[2:6]
    assert [(e.kind, e.unit, e.attrs["app_id"], e.attrs.get("old_worker")) for e in old] == [
        ("service_stop", "web", 2, True), ("log", "web", 2, True), ("process_exit", "web", 2, True),
        ("log", "web", 2, None)]
    assert old[2].attrs["expected"] is True and old[3].pid == 6659
    exits = [e for e in events[8:] if e.kind == "process_exit"]
    assert [(e.unit, e.attrs["app_id"], e.attrs["expected"]) for e in exits] == [
        ("web", 2, True), ("web", 3, True), ("webjson", 4, True), ("mem", 1, True)]
    # four stops under way: a "pid=N msg=process killed" cannot be tied to one app
    assert [(e.pid, e.unit) for e in events[20:22]] == [(8480, None), (8855, None)]
    assert (events[9].severity, events[9].unit) == (3, "crash")


# --- the apps' output --------------------------------------------------------------------------------------------

def test_untimed_error_log_with_stack_traces_and_error_fields():
    events, rejects = parse(APP, INDEX_ERR, Context(path="/home/ubuntu/.pm2/logs/index-error.log"))
    assert rejects == [] and len(events) == 36
    errors = events[:32]
    assert [(e.line, e.line_end) for e in errors] == [(1 + 17 * i, 17 + 17 * i) for i in range(32)]
    first = errors[0].message.splitlines()
    assert first[0] == "Error: listen EADDRINUSE: address already in use :::3000"
    assert first[1] == "    at Server.setupListenHandle [as _listen2] (node:net:1811:16)"
    assert first[11:] == ["  code: 'EADDRINUSE',", "  errno: -98,", "  syscall: 'listen',", "  address: '::',",
                          "  port: 3000", "}"]
    assert [e.message for e in events[32:]] == [
        "(node:14603) [DEP0066] DeprecationWarning: OutgoingMessage.prototype._headers is deprecated",
        "(Use `node --trace-deprecation ...` to show where the warning was created)",
        "(node:14666) [DEP0066] DeprecationWarning: OutgoingMessage.prototype._headers is deprecated",
        "(Use `node --trace-deprecation ...` to show where the warning was created)"]
    assert {(e.ts_us, e.ts_quality, e.kind, e.unit, e.process, e.pid) for e in events} == {
        (None, "untimed", "log", "index", None, None)}
    assert {tuple(sorted(e.attrs.items())) for e in events} == {(("stream", "error"),)}
    # under its name as stored in the samples the app is what the name says
    events, _ = parse(APP, INDEX_ERR, Context(path=str(sample(INDEX_ERR))))
    assert {e.unit for e in events} == {"salilw1999-index"}


def test_untimed_cluster_error_log_with_native_frames_and_blank_lines():
    events, rejects = parse(APP, MM_ERR, Context(path="/home/pi/.pm2/logs/MagicMirror-error-0.log"))
    assert len(events) == 14
    # each blank line (16, 18, 20, ... 40) ends the record before it
    assert rejects == []
    assert [(e.line, e.line_end) for e in events] == [(1, 11), (12, 16)] + [(n, n + 1) for n in range(17, 40, 2)]
    assert events[0].message.splitlines()[-1] == "    at /home/pi/MagicMirror/node_modules/express/lib/router/index.js:281:22"
    assert events[1].message.splitlines() == [
        "[2983:1008/143217.683354:FATAL:bus.cc(1197)] D-Bus connection was disconnected. Aborting.",
        "#0 0x00000139f0c0 <unknown>", "#1 0x0000013ae0be <unknown>", "#2 0x0000009d3172 <unknown>"]
    assert {e.message for e in events[2:]} == {"fatal: Not a git repository (or any of the parent directories): .git"}
    assert {(e.unit, e.attrs["app_id"], e.attrs["stream"], e.ts_quality) for e in events} == {
        ("MagicMirror", 0, "error", "untimed")}


def test_time_prefixed_out_log():
    events, rejects = parse(APP, TIMED, Context(path="/root/.pm2/logs/api-out.log"))
    assert rejects == [] and len(events) == 9
    assert [e.message.rsplit("pid=", 1)[1] for e in events] == [
        "23545", "23638", "23724", "23820", "23919", "24014", "24109", "24204", "24281"]
    assert events[0].message == "api listening on 127.0.0.1:3000 pid=23545"
    assert [e.ts_us for e in events][:2] == [utc_us(2026, 11, 22, 20, 1, 6, 0), utc_us(2026, 11, 22, 20, 1, 37, 0)]
    assert events[-1].ts_us == utc_us(2026, 11, 22, 20, 3, 37, 0)
    assert {(e.ts_quality, e.unit, e.attrs["stream"]) for e in events} == {("zone_assumed", "api", "out")}
    events, _ = parse(APP, TIMED, Context(path=str(sample(TIMED))))  # the sample's own name says no app
    assert {(e.unit, e.attrs) for e in events} == {(None, None)}


# PM2 5.4.3, cluster mode with --time: the prefix comes once per write
CLUSTER_OUT = """\
2026-11-23T17:18:07: web listening pid=6659
second line of the same write
2026-11-23T17:18:11: tick
"""
CLUSTER_ERR = """\
2026-11-23T17:18:07: TypeError: Cannot read properties of undefined (reading 'items')
    at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
2026-11-23T17:18:34: TypeError: Cannot read properties of undefined (reading 'items')
    at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)
"""
# fork mode with log_date_format "YYYY-MM-DD HH:mm:ss.SSS Z": the prefix on every line
FORMAT_ERR = """\
2026-11-23 17:18:08.310 +01:00: TypeError: Cannot read properties of undefined (reading 'items')
2026-11-23 17:18:08.310 +01:00:     at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)
2026-11-23 17:18:08.311 +01:00:     at Module._compile (node:internal/modules/cjs/loader:1521:14)
2026-11-23 17:18:12.313 +01:00: tick
"""
JSON_OUT = """\
{"message":"web listening pid=6712\\nsecond line of the same write\\n","timestamp":"2026-11-23T16:18:08.100Z",\
"type":"out","process_id":4,"app_name":"webjson"}
{"message":"TypeError: boom\\n    at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)\\n","timestamp":\
"2026-11-23T16:18:08.106Z","type":"err","process_id":4,"app_name":"webjson"}
{"message":"tick\\n","timestamp":"2026-11-23T16:18:12.106Z","type":"out","process_id":4,"app_name":"webjson"}
"""


def test_cluster_mode_prefix_once_per_write():
    events, rejects = parse(APP, CLUSTER_OUT, Context(path="/root/.pm2/logs/web-out-2.log", tz=BERLIN))
    assert rejects == []
    t = utc_us(2026, 11, 23, 16, 18, 7, 0)  # 17:18:07 CET
    assert [(e.message, e.ts_us, e.ts_quality) for e in events] == [
        ("web listening pid=6659", t, "zone_assumed"), ("second line of the same write", t, "inherited"),
        ("tick", t + 4_000_000, "zone_assumed")]
    assert {(e.unit, e.attrs["app_id"], e.attrs["stream"]) for e in events} == {("web", 2, "out")}
    events, rejects = parse(APP, CLUSTER_ERR, Context(path="/root/.pm2/logs/web-error-2.log"))
    assert rejects == [] and [(e.line, e.line_end) for e in events] == [(1, 3), (4, 5)]
    assert events[0].message.splitlines()[2] == "    at Module._compile (node:internal/modules/cjs/loader:1521:14)"


def test_custom_date_format_with_offset_and_prefixed_frames():
    events, rejects = parse(APP, FORMAT_ERR, Context(path="/root/.pm2/logs/webfmt-error.log"))
    assert rejects == []
    assert [(e.line, e.line_end, e.ts_us, e.ts_quality) for e in events] == [
        (1, 3, utc_us(2026, 11, 23, 16, 18, 8, 310000), "exact"), (4, 4, utc_us(2026, 11, 23, 16, 18, 12, 313000),
                                                                   "exact")]
    assert events[0].message.splitlines()[1] == "    at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)"


def test_json_log_type():
    events, rejects = parse(APP, JSON_OUT, Context(path="/root/.pm2/logs/webjson-out.log"))
    assert rejects == []
    assert [(e.message, e.ts_us, e.ts_quality, e.unit, e.attrs) for e in events] == [
        ("web listening pid=6712\nsecond line of the same write", utc_us(2026, 11, 23, 16, 18, 8, 100000), "exact",
         "webjson", {"stream": "out", "app_id": 4}),
        ("TypeError: boom\n    at Object.<anonymous> (/tmp/pm2lab/web.js:2:15)", utc_us(2026, 11, 23, 16, 18, 8, 106000),
         "exact", "webjson", {"stream": "error", "app_id": 4}),
        ("tick", utc_us(2026, 11, 23, 16, 18, 12, 106000), "exact", "webjson", {"stream": "out", "app_id": 4})]
    # a custom log_date_format in the record, no zone: the file's
    rec = '{"message":"x\\n","timestamp":"2026-11-23 17:18:08","type":"out","process_id":0,"app_name":"api"}'
    events, _ = parse(APP, rec, Context(tz=BERLIN))
    assert (events[0].ts_us, events[0].ts_quality, events[0].unit) == (utc_us(2026, 11, 23, 16, 18, 8, 0),
                                                                       "zone_assumed", "api")


def test_untimed_then_timed_and_require_stack():
    text = "\n".join([
        "starting",
        "Error: Cannot find module 'express'",
        "Require stack:",
        "- /srv/app/index.js",
        "    at Module._resolveFilename (node:internal/modules/cjs/loader:1140:15) {",
        "  code: 'MODULE_NOT_FOUND',",
        "  requireStack: [ '/srv/app/index.js' ]",
        "}",
        "- a list item the app printed",
        "2024-05-28T14:35:12: now with --time",
        "  an indented line, not after an error",
    ])
    events, rejects = parse(APP, text, Context(path="/srv/pm2/logs/api-out.log"))
    assert rejects == []
    assert [(e.line, e.line_end, e.ts_quality) for e in events] == [
        (1, 1, "untimed"), (2, 8, "untimed"), (9, 9, "untimed"), (10, 10, "zone_assumed"), (11, 11, "inherited")]


# --- sniffing ----------------------------------------------------------------------------------------------------

OURS = [pm2, pm2_app, pm2_jlist]


@pytest.mark.parametrize("text", [
    "2022-04-11 20:28:58,421 INFO spawned: 'x' with pid 1",                               # supervisord
    "2022-04-11 20:28:58,421 INFO success: api entered RUNNING state, process has stayed up",
    "[2023-05-15 19:53:50] local.ERROR: Target class [x] does not exist.",               # laravel
    "[Nest] 20964  - 05/28/2024, 2:35:12 PM     LOG [NestFactory] Starting Nest application...",
    "2024-05-28T14:35:12.123456+02:00 vps1 node[812]: GET /api/orders",                   # rsyslog
    "May 28 14:35:12 vps1 systemd[1]: Started nest-api.service.",
    "2024/05/28 14:35:12 [error] 812#812: *1 connect() failed (111: Connection refused)",   # nginx error
    '{"__REALTIME_TIMESTAMP":"1716906912123456","MESSAGE":"x"}',                          # journal json
    "[10149.967323] Memory cgroup out of memory: Killed process 21140 (node)",             # dmesg
    "2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487] [InnoDB] DDL log recovery",           # mysql
    "1141:M 09 Sep 2021 14:12:06.299 # WARNING overcommit_memory is set to 0!",            # redis
    '[{"a": 1}]',
    "",
])
def test_sniff_leaves_other_formats_alone(text):
    lines = text.split("\n")
    assert [m.sniff(lines) for m in OURS] == [0, 0, 0]


@pytest.mark.parametrize("text,name", [
    ("2024-05-28T14:35:12: PM2 log: App [api:0] online", "pm2"),
    ("2017-10-08 14:32:17: Stopping app:x id:0\n2017-10-08 14:32:17: pid=1 msg=process killed", "pm2"),
    (RELOAD_AND_KILL, "pm2"),
    (CLUSTER_OUT, "pm2_app"), (CLUSTER_ERR, "pm2_app"), (FORMAT_ERR, "pm2_app"), (JSON_OUT, "pm2_app"),
])
def test_sniff_takes_pm2_forms(text, name):
    lines = text.split("\n")
    scores = {m.NAME: m.sniff(lines) for m in [*parsers.MODULES, *OURS]}
    assert max(scores, key=scores.get) == name and scores[name] > 0


@pytest.mark.parametrize("path,score", [
    ("web1/home/deploy/.pm2/logs/api-out.log", 97),
    ("web1/root/.pm2/logs/api-error-3.log", 97),
    ("web1/var/log/pm2/api-error.log.2.gz", 97),
    ("/root/.pm2/logs/api-out__2024-05-28_00-00-00.log", 97),
    ("/root/.pm2/logs/api-err.log", 97),
    ("/var/log/nginx/api-error.log", 0),       # not a PM2 folder
    ("/root/.pm2/pm2.log", 0),
    ("/root/.pm2/logs/api.log", 0),
])
def test_sniff_path_for_untimed_app_logs(path, score):
    assert pm2_app.sniff_path(path) == score
    assert pm2.sniff_path(path) == (30 if path.endswith("/pm2.log") else 0)


def test_file_names():
    assert pm2_app.from_path("/root/.pm2/logs/my-api-error-12.log") == {"app": "my-api", "stream": "error",
                                                                       "app_id": 12}
    assert pm2_app.from_path("C:\\Users\\a\\.pm2\\logs\\tk-auto-out.log") == {"app": "tk-auto", "stream": "out"}
    assert pm2_app.from_path("notes.txt") == {}


# --- pm2 jlist / prettylist --------------------------------------------------------------------------------------

JLIST_TEXT = (
    '[{"pid":0,"name":"crash","pm2_env":{"status":"errored","restart_time":15,"unstable_restarts":0,'
    '"pm_uptime":1795450691282,"exec_mode":"fork_mode","exit_code":1,"pm_id":0,"name":"crash",'
    '"pm_exec_path":"/srv/api/it\'s here/index.js"},"pm_id":0,"monit":{"memory":0,"cpu":0}},'
    '{"pid":8321,"name":"mem","pm2_env":{"status":"online","restart_time":13,"unstable_restarts":0,'
    '"pm_uptime":1795450713516,"exec_mode":"fork_mode","max_memory_restart":62914560,"exit_code":0,"pm_id":1,'
    '"name":"mem","axm_monitor":{"Heap Size":{"value":"12.5","type":"internal/v8/heap/total","unit":"MiB",'
    '"historic":true}}},"pm_id":1,"monit":{"memory":45535232,"cpu":0}},'
    '{"pid":6659,"name":"web","pm2_env":{"status":"online","restart_time":0,"unstable_restarts":0,'
    '"pm_uptime":1795450687424,"exec_mode":"cluster_mode","pm_id":2,"name":"web"},"pm_id":2,'
    '"monit":{"memory":55316480,"cpu":0.3}}]')

# util.inspect(list, false, null, false) of the same processes, as `pm2 prettylist` prints it
PRETTY_TEXT = """\
[
  {
    pid: 0,
    name: 'crash',
    pm2_env: {
      status: 'errored',
      restart_time: 15,
      unstable_restarts: 0,
      pm_uptime: 1795450691282,
      exec_mode: 'fork_mode',
      exit_code: 1,
      pm_id: 0,
      name: 'crash',
      pm_exec_path: "/srv/api/it's here/index.js"
    },
    pm_id: 0,
    monit: { memory: 0, cpu: 0 }
  },
  {
    pid: 8321,
    name: 'mem',
    pm2_env: {
      status: 'online',
      restart_time: 13,
      unstable_restarts: 0,
      pm_uptime: 1795450713516,
      exec_mode: 'fork_mode',
      max_memory_restart: 62914560,
      exit_code: 0,
      pm_id: 1,
      name: 'mem',
      axm_monitor: {
        'Heap Size': {
          value: '12.5',
          type: 'internal/v8/heap/total',
          unit: 'MiB',
          historic: true
        }
      }
    },
    pm_id: 1,
    monit: { memory: 45535232, cpu: 0 }
  },
  {
    pid: 6659,
    name: 'web',
    pm2_env: {
      status: 'online',
      restart_time: 0,
      unstable_restarts: 0,
      pm_uptime: 1795450687424,
      exec_mode: 'cluster_mode',
      pm_id: 2,
      name: 'web'
    },
    pm_id: 2,
    monit: { memory: 55316480, cpu: 0.3 }
  }
]"""
MTIME = datetime(2026, 11, 23, 16, 18, 30, tzinfo=timezone.utc)
PROCESSES = [  # (unit, pid, bytes, app_id, restarts, status, mode)
    ("crash", None, 0, 0, 15, "errored", "fork"), ("mem", 8321, 45535232, 1, 13, "online", "fork"),
    ("web", 6659, 55316480, 2, 0, "online", "cluster")]


def _procs(events):
    return [(e.unit, e.pid, e.attrs["bytes"], e.attrs["app_id"], e.attrs["restarts"], e.attrs["status"],
             e.attrs["mode"]) for e in events]


@pytest.mark.parametrize("text", [JLIST_TEXT, PRETTY_TEXT])
def test_process_list_gives_one_memory_sample_per_process(text):
    assert pm2_jlist.sniff(head_lines(text.encode())) == 90
    events, rejects = parse(JLIST, text, Context(mtime=MTIME))
    assert rejects == []
    assert _procs(events) == PROCESSES
    assert {(e.kind, e.ts_us, e.ts_quality, e.attrs["metric"]) for e in events} == {
        ("memory_sample", utc_us(2026, 11, 23, 16, 18, 30, 0), "inherited", "rss")}
    assert events[1].attrs["limit_bytes"] == 62914560 and "limit_bytes" not in events[0].attrs
    assert (events[0].attrs["exit_code"], events[2].attrs["cpu"], events[1].attrs["pm_uptime"]) == (1, 0.3, 1795450713516)
    assert events[1].message == "mem (id 1) online: rss 45535232 bytes, cpu 0%, 13 restarts"
    if text is PRETTY_TEXT:  # "[" goes with the first process, "]" with the last
        assert [(e.line, e.line_end, e.nlines) for e in events] == [(1, 18, 18), (19, 43, 25), (44, 59, 16)]
    else:
        assert [(e.line, e.line_end, e.nlines) for e in events] == [(1, 1, 1), (1, 1, 0), (1, 1, 0)]


def test_process_lists_one_after_the_other_and_around_them():
    text = "$ pm2 jlist\n" + JLIST_TEXT + JLIST_TEXT + "\n\n" + PRETTY_TEXT + "\nsaved at 16:18\n"
    events, rejects = parse(JLIST, text)
    assert _procs(events) == PROCESSES * 3
    assert {(e.ts_us, e.ts_quality) for e in events} == {(None, "untimed")}
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not part of a PM2 process list"), (3, "blank line"), (63, "not part of a PM2 process list")]
    assert [e.nlines for e in events[:6]] == [1, 0, 0, 0, 0, 0]


def test_process_list_cut_short_and_unreadable():
    events, rejects = parse(JLIST, PRETTY_TEXT[:PRETTY_TEXT.index("    pid: 6659")])
    assert _procs(events) == PROCESSES[:2]
    assert {r.reason for r in rejects} == {"PM2 process list cut short"} and rejects[0].line == 44
    events, rejects = parse(JLIST, "[\n  { pid: 1, name: 'x' oops },\n  {\"pid\": 2, \"name\": \"y\", \"pm_id\": 0}\n]")
    assert [(r.line, r.reason) for r in rejects] == [(1, "not a PM2 process description"),
                                                    (2, "not a PM2 process description")]
    assert [(e.kind, e.unit, e.pid, e.line, e.line_end) for e in events] == [("log", "y", 2, 3, 4)]
    events, rejects = parse(JLIST, "[]")
    assert events == [] and [(r.line, r.reason) for r in rejects] == [(1, "empty PM2 process list")]


def test_nest_error_record_in_a_timed_fork_mode_log_is_one_event():
    # PM2 5 in fork mode puts its prefix on every line, blank ones and colour resets included; Nest prints
    # the error, "Potential solutions:", then the Error with its stack: one record, one di_error
    esc = "\x1b"
    text = "".join(f"2024-11-05T16:40:03: {line}\n" for line in [
        f"{esc}[31m[Nest] 51904  - {esc}[39m11/05/2024, 4:40:03 PM {esc}[31m  ERROR{esc}[39m {esc}[38;5;3m"
        f"[ExceptionHandler] {esc}[39m{esc}[31mNest can't resolve dependencies of the OrdersService "
        "(PrismaService, ?). Please make sure that the argument \"PAYMENTS_CLIENT\" at index [1] is available "
        "in the OrdersModule context.",
        "",
        "Potential solutions:",
        "- Is OrdersModule a valid NestJS module?",
        f"{esc}[39m",
        "Error: Nest can't resolve dependencies of the OrdersService (PrismaService, ?). Please make sure that "
        "the argument \"PAYMENTS_CLIENT\" at index [1] is available in the OrdersModule context.",
        "",
        "    at Injector.lookupComponentInParentModules (/home/deploy/api/node_modules/@nestjs/core/injector/"
        "injector.js:262:19)",
        "",
    ]) + "2024-11-05T16:40:04: PM2 | next line of another kind\n"
    events, rejects = parse(APP, text, Context(path="/home/deploy/.pm2/logs/api-error.log"))
    assert rejects == []
    assert [(e.line, e.line_end, e.kind) for e in events] == [(1, 9, "di_error"), (10, 10, "log")]
    di = events[0]
    assert (di.pid, di.severity, di.unit) == (51904, 3, "api")
    assert (di.attrs["context"], di.attrs["missing"], di.attrs["index"]) == ("ExceptionHandler", "PAYMENTS_CLIENT", 1)
