"""laravel (Monolog's line format in storage/logs/laravel.log) and php_fpm (php-fpm's error and slow log).

The values checked against the real Laravel files (lnav's test logs, see PROVENANCE.md) were read
off the text by hand.  There is no real php-fpm log among the samples: its lines here are written
from the format strings of php-src's sapi/fpm/fpm: fpm_children.c (fpm_children_bury: "[pool %s]
child %d exited %s after %ld.%06d seconds from start" with "on signal %d (%s%s)" / " - core dumped"
or "with code %d"; fpm_children_make: "[pool %s] child %d started"), fpm_process_ctl.c
("[pool %s] server reached pm.max_children setting (%d), consider raising it"; ondemand's
"server reached max_children setting"), fpm_request.c ("[pool %s] child %d, script '%s' (request:
\"%s %s\") executing too slow (%d.%06d sec), logging"), fpm_php_trace.c (the slow log's
"\\n%s [pool %s] pid %d\\n", "script_filename = %s\\n", "[0x%lx] %s() %s:%d\\n") and zlog.c (the
"[%d-%b-%Y %H:%M:%S] LEVEL: " prefix).  The Laravel database and Redis errors are written from
PDO's, Laravel's QueryException's and Predis's wording (no real file has them).
"""
from __future__ import annotations

import io


import parsers
from parsers import laravel, php_fpm
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import accounted, assert_accounted, ingest, line_count, sample

L0 = "laravel/lnav-logfile_laravel.0"
L1 = "laravel/lnav-logfile_laravel.1"


# ---------------------------------------------------------------- laravel, real files

def test_lnav_laravel_0_entries_kinds_and_fields():
    data = sample(L0).read_bytes()
    events, rejects = run("parsers.laravel", data, Context(tz=zone("Europe/Berlin")))
    assert rejects == [] and len(events) == 82
    assert_accounted(data, events, rejects)
    assert line_count(data) == 1416
    di = [e for e in events if e.attrs.get("exception", "").endswith("BindingResolutionException")]
    assert [(e.line, e.line_end, e.kind, e.attrs["target_class"]) for e in di] == [
        (1, 33, "di_error", "Fruitcake\\Cors\\HandleCors"), (34, 58, "di_error", "Fruitcake\\Cors\\HandleCors")]
    a = di[0].attrs
    assert (a["env"], a["level"], a["exception_code"], a["line"]) == ("local", "ERROR", "0", 916)
    assert a["file"] == "/Users/zhebaoting/Sites/laravel/crm/vendor/laravel/framework/src/Illuminate/Container/Container.php"
    # [2023-05-15 18:19:32] in Europe/Berlin (CEST, UTC+2)
    assert (di[0].ts_us, di[0].ts_quality) == (utc_us(2023, 5, 15, 16, 19, 32, 0), "zone_assumed")
    assert (di[0].severity, di[0].process, di[0].unit) == (3, "php", None)
    assert di[0].message.startswith("Target class [Fruitcake\\Cors\\HandleCors] does not exist.")
    assert di[0].message.endswith('#13 {main}\n"} ')
    # "Uncaught ReflectionException: Class "App\Providers\App\Policies\CustomerPolicy" does not exist", 78 times,
    # logged as a Symfony FatalError; 16 lines each
    refl = [e for e in events if "ReflectionException" in e.message.split("\n")[0]]
    assert len(refl) == 78
    assert {(e.kind, e.attrs["target_class"], e.attrs["exception"], e.line_end - e.line + 1) for e in refl} == {
        ("di_error", "App\\Providers\\App\\Policies\\CustomerPolicy",
         "Symfony\\Component\\ErrorHandler\\Error\\FatalError", 16)}
    assert (refl[0].line, refl[0].line_end) == (59, 74)
    parse_errors = [e for e in events if e.kind == "app_error"]
    assert [(e.line, e.line_end, e.attrs["exception"], e.attrs["line"]) for e in parse_errors] == [
        (363, 417, "ParseError", 79), (434, 488, "ParseError", 65)]
    assert parse_errors[0].attrs["file"] == "/Users/zhebaoting/Sites/laravel/crm/app/Admin/bootstrap.php"
    assert (events[-1].line, events[-1].line_end) == (1401, 1416)
    assert events[-1].ts_us == utc_us(2023, 5, 15, 18, 2, 50, 0)


def test_lnav_laravel_1_emergency_and_context():
    data = sample(L1).read_bytes()
    events, rejects = run("parsers.laravel", data)
    assert rejects == []
    assert_accounted(data, events, rejects)
    assert [(e.line, e.line_end, e.kind, e.severity, e.attrs["env"], e.attrs["level"]) for e in events] == [
        (1, 31, "app_error", 0, "laravel", "EMERGENCY"), (32, 62, "app_error", 0, "laravel", "EMERGENCY"),
        (63, 63, "log", 6, "local", "INFO"), (64, 64, "log", 6, "local", "INFO")]
    assert (events[0].attrs["exception"], events[0].attrs["line"]) == ("Error", 181)
    assert events[0].ts_us == utc_us(2025, 1, 2, 11, 19, 6, 0)
    ctx = events[2].attrs["context"]
    assert (ctx["path"], ctx["method"], ctx["ip"], ctx["x_amzn_trace_id"]) == ("/", "GET", "192.168.160.1", None)


# ---------------------------------------------------------------- laravel, written from the wording

MYSQL_1040 = (
    "[2024-05-28 14:35:15] production.ERROR: SQLSTATE[HY000] [1040] Too many connections (Connection: mysql, "
    "SQL: select * from `users` where `id` = 1 limit 1) {\"exception\":\"[object] (Illuminate\\\\Database\\\\"
    "QueryException(code: 1040): SQLSTATE[HY000] [1040] Too many connections (Connection: mysql, SQL: select * "
    "from `users` where `id` = 1 limit 1) at /var/www/vendor/laravel/framework/src/Illuminate/Database/"
    "Connection.php:822)\n"
    "[stacktrace]\n"
    "#0 /var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php(776): Illuminate\\\\Database\\\\"
    "Connection->runQueryCallback('select * from `...', Array, Object(Closure))\n"
    "#1 {main}\n"
    "\n"
    "[previous exception] [object] (PDOException(code: 1040): SQLSTATE[HY000] [1040] Too many connections at "
    "/var/www/vendor/laravel/framework/src/Illuminate/Database/Connectors/Connector.php:65)\n"
    "[stacktrace]\n"
    "#0 {main}\n"
    "\"} \n")


def test_connection_errors():
    text = (MYSQL_1040 +
            "[2024-05-28 14:35:16] production.ERROR: SQLSTATE[HY000] [2002] Connection refused (Connection: mysql, "
            "Host: 10.0.0.5, Port: 3306, Database: app, SQL: select 1) {\"exception\":\"[object] (Illuminate\\\\"
            "Database\\\\QueryException(code: 2002): SQLSTATE[HY000] [2002] Connection refused at /var/www/x.php:1)\"} \n"
            "[2024-05-28 14:35:17] production.ERROR: SQLSTATE[08006] [7] connection to server at \"10.0.0.6\", port "
            "5432 failed: FATAL:  sorry, too many clients already (Connection: pgsql, SQL: select 1)\n"
            "[2024-05-28 14:35:18] production.ERROR: Connection refused [tcp://127.0.0.1:6379] "
            "{\"exception\":\"[object] (Predis\\\\Connection\\\\ConnectionException(code: 111): Connection refused "
            "[tcp://127.0.0.1:6379] at /var/www/vendor/predis/predis/src/Connection/AbstractConnection.php:155)\n"
            "[stacktrace]\n#0 {main}\n\"} \n"
            "[2024-05-28 14:35:19] production.ERROR: Connection refused {\"exception\":\"[object] (RedisException"
            "(code: 0): Connection refused at /var/www/vendor/laravel/framework/src/Illuminate/Redis/Connectors/"
            "PhpRedisConnector.php:159)\"} \n"
            "[2024-05-28 14:35:20] production.ERROR: Undefined variable $x {\"exception\":\"[object] (ErrorException"
            "(code: 0): Undefined variable $x at /var/www/app/Http/Controllers/A.php:12)\"} \n"
            "[2024-05-28 14:35:21] production.WARNING: slow thing {\"ms\":1200} \n")
    events, rejects = run("parsers.laravel", text)
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.kind) for e in events] == [
        (1, "connection_error"), (10, "connection_error"), (11, "connection_error"), (12, "connection_error"),
        (16, "connection_error"), (17, "app_error"), (18, "log")]
    a = events[0].attrs
    assert (a["sqlstate"], a["code"], a["target"], a["connection"]) == ("HY000", 1040, "mysql", "mysql")
    assert (a["exception"], a["exception_code"], a["line"]) == ("Illuminate\\Database\\QueryException", "1040", 822)
    a = events[1].attrs
    assert (a["code"], a["target"], a["target_host"], a["target_port"]) == (2002, "mysql", "10.0.0.5", 3306)
    a = events[2].attrs
    assert (a["sqlstate"], a["code"], a["target"], a["target_host"], a["target_port"]) == (
        "08006", 7, "postgresql", "10.0.0.6", 5432)
    a = events[3].attrs
    assert (a["target"], a["target_host"], a["target_port"]) == ("redis", "127.0.0.1", 6379)
    assert a["exception"] == "Predis\\Connection\\ConnectionException"
    assert events[4].attrs["target"] == "redis" and "target_host" not in events[4].attrs
    assert (events[5].severity, events[6].severity, events[6].attrs["context"]) == (3, 4, {"ms": 1200})


def test_long_stack_trace_is_one_event():
    frames = "".join(f"#{i} /var/www/vendor/x/File{i}.php({i}): A\\\\B->c()\n" for i in range(500))
    text = ("[2024-05-28 14:35:15] production.CRITICAL: boom {\"exception\":\"[object] (RuntimeException(code: 3): "
            "boom at /var/www/app/X.php:7)\n[stacktrace]\n" + frames + "#500 {main}\n\"} \n"
            "[2024-05-28 14:35:16] production.DEBUG: next\n")
    events, rejects = run("parsers.laravel", text)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.severity) for e in events] == [
        (1, 504, "app_error", 2), (505, 505, "log", 7)]
    assert (events[0].attrs["exception_code"], events[0].attrs["file"]) == ("3", "/var/www/app/X.php")


def test_target_class_from_other_di_wordings():
    text = ("[2024-05-28 14:35:15] production.ERROR: Class \"App\\Foo\" does not exist {\"exception\":\"[object] "
            "(ReflectionException(code: -1): Class \"App\\\\Foo\" does not exist at /var/www/Container.php:889)\"} \n"
            "[2024-05-28 14:35:16] production.ERROR: Unresolvable dependency resolving [Parameter #0 [ <required> "
            "$key ]] in class App\\Services\\Api {\"exception\":\"[object] (Illuminate\\\\Contracts\\\\Container\\\\"
            "BindingResolutionException(code: 0): Unresolvable ... at /var/www/Container.php:1118)\"} \n")
    events, _ = run("parsers.laravel", text)
    assert [(e.kind, e.attrs.get("target_class")) for e in events] == [
        ("di_error", "App\\Foo"), ("di_error", "App\\Services\\Api")]


def test_exact_time_with_zone_and_garbage():
    text = ("garbage first\n"
            "\n"
            "[2024-05-28T14:35:15.123456+02:00] app.NOTICE: with zone\n"
            "[2024-02-30 14:35:15] app.INFO: no such day\n"
            "continuation of a broken record\n"
            "[2024-05-28 14:35:15.5] app.INFO: fraction, no zone\n"
            "[2024-05-28T12:00:00Z] app.ALERT: utc\n")
    events, rejects = run("parsers.laravel", text)
    assert [(e.line, e.ts_us, e.ts_quality, e.severity) for e in events] == [
        (3, utc_us(2024, 5, 28, 12, 35, 15, 123456), "exact", 5),
        (6, utc_us(2024, 5, 28, 14, 35, 15, 500000), "zone_assumed", 6),
        (7, utc_us(2024, 5, 28, 12, 0, 0, 0), "exact", 1)]
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a laravel line, and no record before it to continue"), (2, "blank line"),
        (4, "invalid date in a laravel timestamp"), (5, "not a laravel line, and no record before it to continue")]
    assert_accounted(text.encode(), events, rejects)


def test_laravel_empty_and_start_line():
    assert run("parsers.laravel", b"") == ([], [])
    out = list(laravel.parse(io.BytesIO(b"[2024-05-28 14:35:15] a.INFO: x\n#0\n"), Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42)]


# ---------------------------------------------------------------- php-fpm (lines from php-src's format strings)

FPM = """\
[28-May-2024 14:35:00] NOTICE: fpm is running, pid 812
[28-May-2024 14:35:00] NOTICE: ready to handle connections
[28-May-2024 14:35:12] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it
[28-May-2024 14:35:20] WARNING: [pool www] child 1234, script '/var/www/public/index.php' (request: "GET /index.php") executing too slow (5.123456 sec), logging
[28-May-2024 14:35:20] NOTICE: child 1234 stopped for tracing
[28-May-2024 14:35:20] NOTICE: about to trace 1234
[28-May-2024 14:35:20] NOTICE: finished trace of 1234
[28-May-2024 14:35:30] WARNING: [pool www] child 1234 exited on signal 9 (SIGKILL) after 12.345000 seconds from start
[28-May-2024 14:35:30] NOTICE: [pool www] child 1240 started
[28-May-2024 14:35:31] WARNING: [pool api] child 1241 exited on signal 11 (SIGSEGV - core dumped) after 0.500000 seconds from start
[28-May-2024 14:35:32] WARNING: [pool api] child 1242 exited with code 255 after 3.000000 seconds from start
[28-May-2024 14:35:33] WARNING: [pool www] child 1240 said into stderr: "PHP Warning:  foo"
[28-May-2024 14:35:34] WARNING: [pool api] server reached max_children setting (10), consider raising it
[28-May-2024 14:35:40] NOTICE: Terminating ...
[28-May-2024 14:35:40] NOTICE: exiting, bye-bye!
"""

SLOW = """\

[28-May-2024 14:35:20]  [pool www] pid 1234
script_filename = /var/www/public/index.php
[0x00007f3a1c013f00] sleep() /var/www/app/Http/Controllers/Slow.php:12
[0x00007f3a1c013e70] handle() /var/www/vendor/laravel/framework/src/Illuminate/Pipeline/Pipeline.php:183
[0x00007f3a1c0138a0] main() /var/www/public/index.php:52

[28-May-2024 14:35:25]  [pool www] pid 1235
script_filename = /var/www/public/index.php
[0x00007f3a1c013f00] curl_exec() /var/www/app/Http/Client.php:40
"""


def test_php_fpm_error_log():
    events, rejects = run("parsers.php_fpm", FPM, Context(tz=zone("Europe/Berlin")))
    assert rejects == []
    assert_accounted(FPM.encode(), events, rejects)
    got = [(e.line, e.kind, e.pid, e.severity) for e in events]
    assert got == [(1, "service_start", 812, 5), (2, "log", None, 5), (3, "log", None, 4), (4, "log", 1234, 4),
                   (5, "log", None, 5), (6, "log", None, 5), (7, "log", None, 5), (8, "process_exit", 1234, 4),
                   (9, "service_start", 1240, 5), (10, "process_exit", 1241, 4), (11, "process_exit", 1242, 4),
                   (12, "log", 1240, 4), (13, "log", None, 4), (14, "log", None, 5), (15, "service_stop", None, 5)]
    assert events[2].attrs == {"pool": "www", "max_children_reached": True, "max_children": 5}
    assert events[12].attrs == {"pool": "api", "max_children_reached": True, "max_children": 10}
    assert events[3].attrs == {"pool": "www", "script": "/var/www/public/index.php", "request": "GET /index.php",
                               "duration_s": 5.123456, "slow_request": True}
    assert events[7].attrs == {"pool": "www", "code": "killed", "signal": "KILL", "status": 9, "uptime_s": 12.345}
    assert events[9].attrs == {"pool": "api", "code": "dumped", "signal": "SEGV", "status": 11, "core_dumped": True,
                               "uptime_s": 0.5}
    assert events[10].attrs == {"pool": "api", "code": "exited", "status": 255, "uptime_s": 3.0}
    assert events[8].attrs == {"pool": "www", "phase": "spawned"}
    # 14:35:30 CEST is 12:35:30 UTC
    assert (events[7].ts_us, events[7].ts_quality, events[7].process, events[7].unit) == (
        utc_us(2024, 5, 28, 12, 35, 30, 0), "zone_assumed", "php-fpm", None)


def test_php_fpm_slow_log_one_event_per_entry():
    events, rejects = run("parsers.php_fpm", SLOW)
    assert [(r.line, r.reason) for r in rejects] == [(1, "blank line")]
    assert [(e.line, e.line_end, e.pid, e.kind, e.severity) for e in events] == [
        (2, 7, 1234, "log", None), (8, 10, 1235, "log", None)]
    assert events[0].attrs == {"pool": "www", "slow_request": True, "script_filename": "/var/www/public/index.php",
                               "frames": 3}
    assert events[0].message.endswith("index.php:52")
    assert events[0].ts_us == utc_us(2024, 5, 28, 14, 35, 20, 0)
    assert_accounted(SLOW.encode(), events, rejects)


def test_php_fpm_debug_microseconds_and_garbage():
    text = ("junk\n"
            "[28-May-2024 14:35:12.123456] DEBUG: pid 812, fpm_pctl_perform_idle_server_maintenance(), line 378: "
            "[pool www] currently 0 active children, 2 spare children\n"
            "[31-Foo-2024 14:35:12] NOTICE: bad month\n"
            "[30-Feb-2024 14:35:12] NOTICE: bad day\n")
    events, rejects = run("parsers.php_fpm", text)
    assert [(e.line, e.ts_us, e.severity) for e in events] == [(2, utc_us(2024, 5, 28, 14, 35, 12, 123456), 7)]
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a php-fpm line, and no record before it to continue"), (3, "invalid time in a php-fpm timestamp"),
        (4, "invalid date in a php-fpm timestamp")]


# ---------------------------------------------------------------- sniffing

def test_sniff_php_fpm_text():
    assert php_fpm.sniff(FPM.splitlines()) == 90
    assert php_fpm.sniff(SLOW.splitlines()) == 90
    assert laravel.sniff(FPM.splitlines()) == 0 and php_fpm.sniff(MYSQL_1040.splitlines()) == 0
    assert max(m.sniff(FPM.splitlines()) for m in parsers.MODULES if m.NAME != "php_fpm") < 90
    assert laravel.sniff([laravel.SAMPLE]) == 90 and php_fpm.sniff([php_fpm.SAMPLE]) == 90


# ---------------------------------------------------------------- the pipeline

def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the files go into the database with every line accounted for."""
    for mod in (laravel, php_fpm):
        if mod.NAME not in parsers.FORMATS:
            monkeypatch.setitem(parsers.FORMATS, mod.NAME, mod)
            monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, mod])
    fpm = tmp_path / "php-fpm.log"
    fpm.write_text(FPM)
    l0 = sample(L0)
    con, results = ingest(tmp_path, l0, fpm, tz="Europe/Berlin")
    assert sorted((r.format, r.status, r.rejected) for r in results) == [("laravel", "ingested", 0),
                                                                          ("php_fpm", "ingested", 0)]
    assert sorted(accounted(con, r.file_id) for r in results) == [(15, 15), (1416, 1416)]
    rows = con.execute("SELECT kind, count(*) FROM events WHERE source = 'laravel' GROUP BY kind ORDER BY kind"
                       ).fetchall()
    assert rows == [("app_error", 2), ("di_error", 80)]
    rows = con.execute("SELECT pid, attrs->>'signal' FROM events WHERE kind = 'process_exit' AND source = 'php_fpm' "
                       "ORDER BY line").fetchall()
    assert rows == [(1234, "KILL"), (1241, "SEGV"), (1242, None)]
