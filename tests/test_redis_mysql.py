"""redis (redis-server's log) and mysql_error (the MySQL and MariaDB server's error log).

The real files are the samples PROVENANCE.md lists under redis and mysql; the values checked on them
were read off the text by hand.  The other texts here are written from the servers' format strings
and messages: redis's serverLogRaw ("%d:%c %s %c %s\\n" with "%d %b %Y %H:%M:%S." and the
milliseconds; "%d %b %H:%M:%S." before 6.0; "[%d] %s %c %s\\n" in 2.x), serverLogFromHandler
("%d:signal-handler (%ld) %s\\n"; 2.x "[%d | signal handler] (%ld) %s\\n"), asciilogo.h, server.c's
start and shutdown messages, debug.c's crash report ("Redis %s crashed by signal: %d, si_code: %d"),
rdb.c's and zmalloc's errors; MariaDB's print_buffer_to_file ("%d-%02d-%02d %2d:%02d:%02d %lu [%s] "),
its signal_handler.cc ("%02d%02d%02d %2d:%02d:%02d " then "[ERROR] mysqld got signal %d ;" and the
report after it), mysqld_safe's "%y%m%d %H:%M:%S" lines, MySQL 8's "TIME THREAD [Level] [MY-N]
[Subsystem]" layout and its crash line ("%s UTC - mysqld got signal %d ;"), and the servers'
ER_STARTUP / ER_NORMAL_SHUTDOWN / ER_SHUTDOWN_COMPLETE / "starting as process" / "Aborted connection"
texts.  The MariaDB lines of the first text are the lab sample's messages without their syslog prefix.
"""
from __future__ import annotations

import io
import shutil
from datetime import datetime, timezone

import parsers
from parsers import mysql_error, redis
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import accounted, assert_accounted, ingest, line_count, sample

ENOMEM = "redis/issue-pulibrary-bibdata-500-redis-fork-enomem-excerpt.log"
REDIS6 = "redis/issue-nextcloud-snap-1836-redis6-with-year-excerpt.log"
REDIS28 = "redis/issue-overleaf-107-redis2.8-pid-bracket-excerpt.log"
MYSQL8 = "mysql/lnav-logfile_mysql_error.0"
CLI = "mysql/lab-mariadb-10.11-mysql-cli-error-1040.txt"
RSYSLOG = "mysql/lab-mariadb-10.11-via-rsyslog-startup-excerpt.log"


def ms(y, mo, d, h, mi, s, milli=0):
    return utc_us(y, mo, d, h, mi, s, milli * 1000)


# ---------------------------------------------------------------- redis, real files

def test_redis_fork_enomem_sample():
    data = sample(ENOMEM).read_bytes()
    # "14 Oct" without a year: --year 2017; the host in New York (EDT, UTC-4)
    events, rejects = run("parsers.redis", data, Context(path=ENOMEM, tz=zone("America/New_York"), year=2017))
    assert rejects == [] and len(events) == 12 == line_count(data)
    assert_accounted(data, events, rejects)
    assert {(e.unit, e.process, e.pid, e.ts_quality) for e in events} == {
        ("redis-server", "redis-server", 1255, "year_inferred")}
    errors = [e for e in events if e.kind == "app_error"]
    assert [e.line for e in errors] == [3, 5, 7, 9, 11]
    assert {e.kind for e in events if e not in errors} == {"log"}
    assert (errors[0].ts_us, errors[0].severity, errors[0].message) == (
        ms(2017, 10, 14, 7, 0, 46, 69), 4, "Can't save in background: fork: Cannot allocate memory")
    assert errors[0].attrs == {"role": "master", "level": "warning", "error": "fork: Cannot allocate memory",
                               "out_of_memory": True}
    assert (events[0].ts_us, events[0].severity, events[0].attrs) == (
        ms(2017, 10, 14, 6, 55, 45, 157), 5, {"role": "master", "level": "notice"})


def test_redis6_sample_with_year_and_children():
    data = sample(REDIS6).read_bytes()
    events, rejects = run("parsers.redis", data, Context(tz=zone("Europe/Berlin")))
    assert rejects == [] and len(events) == 16
    assert_accounted(data, events, rejects)
    # 09 Sep 2021 14:12:06.299, CEST (UTC+2): the year is on the line, only the zone is assumed
    assert (events[0].ts_us, events[0].ts_quality, events[0].severity) == (
        ms(2021, 9, 9, 12, 12, 6, 299), "zone_assumed", 4)
    assert events[0].message.startswith("WARNING overcommit_memory is set to 0!")
    ready = events[5]
    assert (ready.line, ready.kind, ready.pid, ready.attrs) == (
        6, "service_start", 1141, {"role": "master", "level": "notice", "phase": "running",
                                   "socket": "/tmp/sockets/redis.sock"})
    assert [(e.line, e.attrs["child_pid"]) for e in events if "child_pid" in e.attrs] == [(8, 3793), (13, 6455)]
    children = [(e.line, e.pid) for e in events if e.attrs["role"] == "child"]
    assert children == [(9, 3793), (10, 3793), (14, 6455), (15, 6455)]
    assert {e.kind for e in events} == {"log", "service_start"}
    assert events[-1].ts_us == ms(2021, 9, 9, 12, 22, 8, 218)


def test_redis28_sample():
    data = sample(REDIS28).read_bytes()
    # "11 Apr" and no year: from a modification time in 2014
    ctx = Context(mtime=datetime(2014, 6, 1, tzinfo=timezone.utc))
    events, rejects = run("parsers.redis", data, ctx)
    assert rejects == [] and len(events) == 17
    assert_accounted(data, events, rejects)
    assert [(e.line, e.kind, e.attrs) for e in events if e.kind != "log"] == [
        (1, "service_start", {"level": "warning", "phase": "starting", "version": "2.8.7"}),
        (4, "service_start", {"level": "notice", "phase": "running", "port": 6379})]
    assert (events[0].ts_us, events[0].ts_quality, events[0].pid) == (
        ms(2014, 4, 11, 10, 9, 15, 985), "year_inferred", 6343)
    assert [(e.line, e.pid) for e in events if e.pid != 6343] == [(7, 6508), (8, 6508), (12, 6536), (13, 6536),
                                                                  (17, 6549)]
    assert "role" not in events[6].attrs   # 2.x has no role character


# ---------------------------------------------------------------- redis, written from the source

LOGO = (   # asciilogo.h with "Redis %s (%s/%d) %s bit", "Running in %s mode", "Port: %d", "PID: %ld"
    "                _._                                                  \n"
    "           _.-``__ ''-._                                             \n"
    "      _.-``    `.  `_.  ''-._           Redis 3.0.6 (00000000/0) 64 bit\n"
    "  .-`` .-```.  ```\\/    _.,_ ''-._                                   \n"
    " (    '      ,       .-`  | `,    )     Running in standalone mode\n"
    " |`-._`-...-` __...-.``-._|'` _.-'|     Port: 6379\n"
    " |    `-._   `._    /     _.-'    |     PID: 1213\n"
    "  `-._    `-._  `-./  _.-'    _.-'                                   \n"
    " |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n"
    " |    `-._`-._        _.-'_.-'    |           http://redis.io        \n"
    "  `-._    `-._`-.__.-'_.-'    _.-'                                   \n"
    " |`-._`-._    `-.__.-'    _.-'_.-'|                                  \n"
    " |    `-._`-._        _.-'_.-'    |                                  \n"
    "  `-._    `-._`-.__.-'_.-'    _.-'                                   \n"
    "      `-._    `-.__.-'    _.-'                                       \n"
    "          `-._        _.-'                                           \n"
    "              `-.__.-'                                               \n"
    "\n")


def test_redis3_start_logo_bgsave_killed_and_shutdown():
    epoch = utc_us(2024, 5, 28, 14, 45, 0, 0) // 1_000_000
    text = ("1213:M 28 May 14:35:10.120 * Increased maximum number of open files to 10032 (it was originally set to "
            "1024).\n" + LOGO +
            "1213:M 28 May 14:35:10.121 # Server started, Redis version 3.0.6\n"                      # 20
            "1213:M 28 May 14:35:10.121 # WARNING: The TCP backlog setting of 511 cannot be enforced because "
            "/proc/sys/net/core/somaxconn is set to the lower value of 128.\n"
            "1213:M 28 May 14:35:10.122 * The server is now ready to accept connections on port 6379\n"
            "1213:M 28 May 14:40:11.010 * 10 changes in 300 seconds. Saving...\n"
            "1213:M 28 May 14:40:11.012 * Background saving started by pid 1290\n"
            "1213:M 28 May 14:40:14.500 # Background saving terminated by signal 9\n"               # 25
            f"1213:signal-handler ({epoch}) Received SIGTERM scheduling shutdown...\n"
            "1213:M 28 May 14:45:00.101 # User requested shutdown...\n"
            "1213:M 28 May 14:45:00.150 # Redis is now ready to exit, bye bye...\n")
    events, rejects = run("parsers.redis", text, Context(year=2024, path="web1/var/log/redis/redis-server.log.1"))
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.line_end, e.kind) for e in events] == [
        (1, 1, "log"), (2, 19, "log"), (20, 20, "service_start"), (21, 21, "log"), (22, 22, "service_start"),
        (23, 23, "log"), (24, 24, "log"), (25, 25, "app_error"), (26, 26, "service_stop"), (27, 27, "log"),
        (28, 28, "service_stop")]
    logo = events[1]
    # the logo has no time of its own: that of the "Server started" line after it
    assert (logo.ts_us, logo.ts_quality, logo.pid, logo.severity) == (
        ms(2024, 5, 28, 14, 35, 10, 121), "inherited", 1213, 5)
    assert logo.attrs == {"logo": True, "version": "3.0.6", "mode": "standalone", "port": 6379}
    assert logo.message.splitlines()[6].endswith("PID: 1213") and not logo.message.endswith("\n")
    assert events[2].attrs == {"role": "master", "level": "warning", "phase": "starting", "version": "3.0.6"}
    assert events[4].attrs == {"role": "master", "level": "notice", "phase": "running", "port": 6379}
    assert events[6].attrs["child_pid"] == 1290
    # the OOM killer took the background save's child: the server lives on
    assert events[7].attrs == {"role": "master", "level": "warning", "signal": "KILL", "status": 9, "child_pid": 1290}
    stop = events[8]
    assert (stop.ts_us, stop.ts_quality, stop.pid, stop.severity, stop.attrs) == (
        epoch * 1_000_000, "exact", 1213, 4, {"level": "warning", "signal": "TERM", "phase": "requested"})
    assert (events[10].ts_us, events[10].attrs["phase"]) == (ms(2024, 5, 28, 14, 45, 0, 150), "complete")
    assert {(e.unit, e.process) for e in events} == {("redis-server", "redis-server")}


def test_redis6_start_oom_and_crash_report():
    text = ("1:C 09 Sep 2021 14:12:05.001 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo\n"
            "1:C 09 Sep 2021 14:12:05.001 # Redis version=6.2.6, bits=64, commit=00000000, modified=0, pid=1, "
            "just started\n"
            "1:M 09 Sep 2021 14:12:05.003 * Running mode=standalone, port=6379.\n"
            "1:M 09 Sep 2021 14:12:05.004 * Ready to accept connections\n"
            "1:M 09 Sep 2021 15:00:00.000 # Can't save in background: fork: Resource temporarily unavailable\n"
            "1:M 09 Sep 2021 15:01:00.000 # Out Of Memory allocating 1048576 bytes!\n"
            "1:M 09 Sep 2021 15:01:00.002 # Redis 6.2.6 crashed by signal: 11, si_code: 1\n"
            "1:M 09 Sep 2021 15:01:00.002 # Accessing address: 0x1\n"
            "\n"
            "------ STACK TRACE ------\n"
            "EIP:\n"
            "/usr/bin/redis-server *:6379(debugCommand+0x1d4)[0x55d1c0b3c2a4]\n")
    events, rejects = run("parsers.redis", text, Context(tz=zone("Europe/Berlin")))
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.line_end, e.kind, e.severity) for e in events] == [
        (1, 1, "service_start", 4), (2, 2, "log", 4), (3, 3, "log", 5), (4, 4, "service_start", 5),
        (5, 5, "app_error", 4), (6, 6, "app_error", 4), (7, 7, "process_exit", 4), (8, 12, "log", 4)]
    # "C" before the server has noted its own pid at start
    assert events[0].attrs == {"role": "child", "level": "warning", "phase": "starting"}
    assert (events[0].ts_us, events[0].ts_quality) == (ms(2021, 9, 9, 12, 12, 5, 1), "zone_assumed")
    assert events[1].attrs["version"] == "6.2.6"
    assert (events[2].attrs["mode"], events[2].attrs["port"]) == ("standalone", 6379)
    assert events[3].attrs == {"role": "master", "level": "notice", "phase": "running"}
    assert events[4].attrs == {"role": "master", "level": "warning", "error": "fork: Resource temporarily unavailable"}
    assert events[5].attrs == {"role": "master", "level": "warning", "out_of_memory": True, "bytes": 1048576}
    assert events[6].attrs == {"role": "master", "level": "warning", "version": "6.2.6", "signal": "SEGV",
                               "status": 11, "code": "dumped"}
    assert events[6].pid == 1
    assert events[7].message.endswith("EIP:\n/usr/bin/redis-server *:6379(debugCommand+0x1d4)[0x55d1c0b3c2a4]")


def test_redis2_signal_handler_replica_sentinel_and_rejects():
    epoch = utc_us(2016, 4, 11, 10, 10, 0, 0) // 1_000_000
    text = ("garbage before the first record\n"
            "[4321] 11 Apr 10:09:15.985 # Server started, Redis version 2.8.19\n"
            f"[4321 | signal handler] ({epoch}) Received SIGTERM, scheduling shutdown...\n"
            "[4321] 31 Apr 10:10:00.001 # no such day\n"
            "[4321] 11 Apr 10:10:00.010 # Redis is now ready to exit, bye bye...\n"
            "77:S 11 Apr 10:11:00.000 # Error condition on socket for SYNC: Connection refused\n"
            "88:X 11 Apr 10:12:00.000 # +sdown master mymaster 10.0.0.5 6379\n"
            "88:X 11 Apr 10:12:01.000 # Sentinel is now ready to exit, bye bye...\n")
    events, rejects = run("parsers.redis", text, Context(year=2016))
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a redis line, and no record before it to continue"), (4, "invalid date in a redis timestamp")]
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.kind, e.pid, e.ts_quality) for e in events] == [
        (2, "service_start", 4321, "year_inferred"), (3, "service_stop", 4321, "exact"),
        (5, "service_stop", 4321, "year_inferred"), (6, "connection_error", 77, "year_inferred"),
        (7, "log", 88, "year_inferred"), (8, "service_stop", 88, "year_inferred")]
    assert events[1].attrs == {"level": "warning", "signal": "TERM", "phase": "requested"}
    assert events[1].ts_us == epoch * 1_000_000
    assert events[3].attrs == {"role": "replica", "level": "warning", "error": "Connection refused"}
    assert [(e.unit, e.process, e.attrs.get("role")) for e in events[4:]] == [
        ("redis-sentinel", "redis-sentinel", "sentinel")] * 2


def test_redis_logo_alone_or_last_and_empty():
    events, rejects = run("parsers.redis", LOGO)
    assert rejects == [] and [(e.line, e.line_end, e.ts_us, e.ts_quality) for e in events] == [
        (1, 18, None, "untimed")]
    text = "1213:M 28 May 14:35:10.120 * x\n" + LOGO
    events, _ = run("parsers.redis", text, Context(year=2024))
    assert [(e.line, e.ts_us, e.ts_quality) for e in events] == [
        (1, ms(2024, 5, 28, 14, 35, 10, 120), "year_inferred"), (2, ms(2024, 5, 28, 14, 35, 10, 120), "inherited")]
    assert run("parsers.redis", b"") == ([], [])
    out = list(redis.parse(io.BytesIO(b"1:M 28 May 2024 14:35:10.120 * x\n more\n"), Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42)]


def test_redis_unit_from_path_and_sniff():
    assert [redis.unit_from_path(p) for p in (
        "b/var/log/redis/redis-server.log", "redis_6379.log.2.gz", "redis-sentinel.log-20240528", "redis.log",
        "web1/issue-x.log", None)] == ["redis-server", "redis_6379", "redis-sentinel", "redis", None, None]
    events, _ = run("parsers.redis", "1:M 28 May 2024 14:35:10.120 * x\n", Context(path="x/redis_6379.log"))
    assert (events[0].unit, events[0].process) == ("redis_6379", "redis-server")
    # the logo first, then the lines: still redis
    assert parsers.sniff((LOGO + "1213:M 28 May 14:35:10.121 # Server started, Redis version 3.0.6\n").encode()) \
        == "redis"
    assert parsers.sniff(b"[4321] 11 Apr 10:09:15.985 # Server started, Redis version 2.8.19\n") == "redis"
    assert redis.sniff(["2026-11-22 20:08:24 0 [Note] x"]) == 0


# ---------------------------------------------------------------- mysql, real files

def test_mysql8_sample():
    data = sample(MYSQL8).read_bytes()
    events, rejects = run("parsers.mysql_error", data, Context(tz=zone("Europe/Berlin")))
    assert rejects == [] and len(events) == 4
    assert_accounted(data, events, rejects)
    # the Z times are UTC whatever the host's zone
    assert [(e.ts_us, e.ts_quality, e.severity, e.kind) for e in events] == [
        (utc_us(2020, 8, 6, 14, 25, 2, 835618), "exact", 6, "log"),
        (utc_us(2020, 8, 6, 14, 25, 2, 936146), "exact", 4, "log"),
        (utc_us(2020, 8, 6, 14, 25, 2, 963127), "exact", 6, "log"),
        (utc_us(2020, 8, 6, 14, 25, 3, 109022), "exact", 6, "log")]
    assert events[0].attrs == {"thread": 0, "level": "Note", "code": "MY-012487", "subsystem": "InnoDB"}
    assert events[0].message == "DDL log recovery : begin"
    assert events[3].attrs == {"thread": 5, "level": "Note", "code": "MY-010051", "subsystem": "Server"}
    assert {(e.unit, e.process, e.pid) for e in events} == {("mysql", "mysqld", None)}


def test_mysql_client_output_and_rsyslog_lines_are_not_this_format():
    assert parsers.sniff(sample(CLI).read_bytes()) is None       # a client's screen, not a server's log
    assert parsers.sniff(sample(RSYSLOG).read_bytes()) == "syslog"
    assert mysql_error.sniff(sample(RSYSLOG).read_text().splitlines()) == 0


# ---------------------------------------------------------------- mysql, written from the source

def test_mariadb_start_connections_and_shutdown():
    text = ("2026-11-22 20:08:24 0 [Warning] Could not increase number of max_open_files to more than 20000 "
            "(request: 32043)\n"
            "2026-11-22 20:08:24 0 [Note] Starting MariaDB 10.11.19-MariaDB-0+deb12u1 source revision "
            "5843d8475120241667a7ce0f8a1abb6c9b43a273 server_uid fXdYp7ZWAMMBm0PUMZFJoAcM0o0= as process 25296\n"
            "2026-11-22 20:08:24 0 [Note] InnoDB: Completed initialization of buffer pool\n"
            "2026-11-22 20:08:24 0 [Note] /usr/sbin/mariadbd: ready for connections.\n"
            "Version: '10.11.19-MariaDB-0+deb12u1'  socket: '/run/mysqld/mysqld.sock'  port: 3306  Debian 12\n"
            "2026-11-22 20:15:02 31 [Warning] Aborted connection 31 to db: 'app' user: 'web' host: 'localhost' "
            "(Got timeout reading communication packets)\n"
            "2026-11-23  1:00:03 0 [Note] /usr/sbin/mariadbd (initiated by: unknown): Normal shutdown\n"
            "2026-11-23  1:00:04 0 [Note] /usr/sbin/mariadbd: Shutdown complete\n"
            "\n"
            "261123 01:00:05 mysqld_safe mysqld from pid file /run/mysqld/mysqld.pid ended\n")
    events, rejects = run("parsers.mysql_error", text,
                          Context(tz=zone("Europe/Berlin"), path="var/log/mysql/error.log"))
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.line_end, e.kind, e.severity, e.pid) for e in events] == [
        (1, 1, "log", 4, None), (2, 2, "service_start", 6, 25296), (3, 3, "log", 6, 25296),
        (4, 5, "service_start", 6, 25296), (6, 6, "connection_error", 4, 25296), (7, 7, "service_stop", 6, 25296),
        (8, 9, "service_stop", 6, 25296), (10, 10, "log", None, None)]
    # the server is known as MariaDB from line 2 on: the line before it is named so too
    assert [(e.unit, e.process) for e in events] == [("mariadb", "mariadbd")] * 7 + [("mariadb", "mysqld_safe")]
    # 20:08:24 in Berlin (CET, UTC+1); " 1:00:03" is the hour padded with a space
    assert (events[0].ts_us, events[0].ts_quality) == (utc_us(2026, 11, 22, 19, 8, 24, 0), "zone_assumed")
    assert (events[5].ts_us, events[6].ts_us) == (utc_us(2026, 11, 23, 0, 0, 3, 0), utc_us(2026, 11, 23, 0, 0, 4, 0))
    assert events[-1].ts_us == utc_us(2026, 11, 23, 0, 0, 5, 0)
    assert events[1].attrs == {"thread": 0, "level": "Note", "phase": "starting",
                               "version": "10.11.19-MariaDB-0+deb12u1"}
    assert events[2].attrs == {"thread": 0, "level": "Note", "subsystem": "InnoDB"}
    assert events[3].attrs == {"thread": 0, "level": "Note", "phase": "running",
                               "version": "10.11.19-MariaDB-0+deb12u1", "socket": "/run/mysqld/mysqld.sock",
                               "port": 3306}
    assert events[3].message == ("/usr/sbin/mariadbd: ready for connections.\nVersion: '10.11.19-MariaDB-0+deb12u1'"
                                 "  socket: '/run/mysqld/mysqld.sock'  port: 3306  Debian 12")
    assert events[4].attrs == {"thread": 31, "level": "Warning", "connection_id": 31, "db": "app", "user": "web",
                               "client_host": "localhost", "reason": "Got timeout reading communication packets"}
    assert events[5].attrs == {"thread": 0, "level": "Note", "phase": "requested", "initiated_by": "unknown"}
    assert events[6].attrs == {"thread": 0, "level": "Note", "phase": "complete"}


def test_mariadb_crash_report_and_mysqld_safe_restart():
    text = ("2023-03-01  9:00:00 0 [Note] /usr/sbin/mysqld (mysqld 10.3.39-MariaDB-0+deb10u1) starting as process "
            "812 ...\n"
            "230301 10:00:00 [ERROR] mysqld got signal 11 ;\n"
            "This could be because you hit a bug. It is also possible that this binary\n"
            "or one of the libraries it was linked against is corrupt, improperly built,\n"
            "or misconfigured. This error can also be caused by malfunctioning hardware.\n"
            "\n"
            "To report this bug, see https://mariadb.com/kb/en/reporting-bugs\n"
            "\n"
            "Server version: 10.3.39-MariaDB-0+deb10u1\n"
            "Thread pointer: 0x7f0c38000c58\n"
            "Attempting backtrace. You can use the following information to find out\n"
            "where mysqld died. If you see no messages after this, something went\n"
            "terribly wrong...\n"
            "stack_bottom = 0x7f0c5c0c9e88 thread_stack 0x49000\n"
            "/usr/sbin/mysqld(my_print_stacktrace+0x2e)[0x55a4b3d1c9be]\n"
            "230301 10:00:05 mysqld_safe Number of processes running now: 0\n"
            "230301 10:00:05 mysqld_safe mysqld restarted\n"
            "2023-03-01 10:00:06 0 [Note] /usr/sbin/mysqld (mysqld 10.3.39-MariaDB-0+deb10u1) starting as process "
            "4242 ...\n")
    events, rejects = run("parsers.mysql_error", text)
    assert rejects == []
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.line_end, e.kind, e.process, e.pid) for e in events] == [
        (1, 1, "service_start", "mysqld", 812), (2, 15, "process_exit", "mysqld", 812),
        (16, 16, "log", "mysqld_safe", None), (17, 17, "restart", "mysqld_safe", None),
        (18, 18, "service_start", "mysqld", 4242)]
    assert {e.unit for e in events} == {"mariadb"}    # MariaDB before 10.5: its command is still mysqld
    crash = events[1]
    assert (crash.ts_us, crash.ts_quality, crash.severity) == (utc_us(2023, 3, 1, 10, 0, 0, 0), "zone_assumed", 3)
    assert crash.attrs == {"level": "ERROR", "signal": "SEGV", "status": 11, "code": "dumped"}
    assert crash.message.endswith("/usr/sbin/mysqld(my_print_stacktrace+0x2e)[0x55a4b3d1c9be]")
    assert events[0].ts_us == utc_us(2023, 3, 1, 9, 0, 0, 0)
    assert events[0].attrs["version"] == "10.3.39-MariaDB-0+deb10u1"


def test_mysql_errors_crash_at_midnight_start_and_stop():
    text = ("garbage before the first record\n"
            "2024-05-28T23:59:58.123456Z 12 [ERROR] mysqld: Out of memory (Needed 16384 bytes)\n"
            "2024-05-28T23:59:59.5Z 0 [Warning] Too many connections\n"
            "00:00:01 UTC - mysqld got signal 6 ;\n"
            "Most likely, you have hit a bug, but this error can also be caused by malfunctioning hardware.\n"
            "\n"
            "2024-05-29T02:00:05.000000+02:00 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) "
            "starting as process 5150\n"
            "2024-05-29T00:00:07.000000Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. "
            "Version: '8.0.36'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.\n"
            "2024-05-29T00:00:07.000100Z 0 [System] [MY-011323] [Server] X Plugin ready for connections. "
            "Bind-address: '::' port: 33060, socket: /var/run/mysqld/mysqlx.sock\n"
            "2024-05-29T00:10:00.000000Z 8 [Note] [MY-010914] [Server] Aborted connection 8 to db: 'unconnected' "
            "user: 'root' host: 'localhost' (Got an error reading communication packets).\n"
            "2024-05-29T00:20:00.000000Z 0 [System] [MY-013172] [Server] Received SHUTDOWN from user <via user "
            "signal>. Shutting down mysqld (Version: 8.0.36).\n"
            "2024-05-29T00:20:02.000000Z 0 [System] [MY-010910] [Server] /usr/sbin/mysqld: Shutdown complete "
            "(mysqld 8.0.36)  MySQL Community Server - GPL.\n"
            "2024-02-30T00:00:00Z 0 [Note] no such day\n"
            "2024-05-29T00:30:00Z UTC - mysqld got signal 11 ;\n")
    events, rejects = run("parsers.mysql_error", text, Context(tz=zone("Europe/Berlin")))
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not a mysql error log line, and no record before it to continue"),
        (13, "invalid date in a mysql timestamp")]
    assert_accounted(text.encode(), events, rejects)
    assert [(e.line, e.line_end, e.kind, e.severity, e.pid) for e in events] == [
        (2, 2, "app_error", 3, None), (3, 3, "connection_error", 4, None), (4, 6, "process_exit", 3, None),
        (7, 7, "service_start", 5, 5150), (8, 8, "service_start", 5, 5150), (9, 9, "log", 5, 5150),
        (10, 10, "connection_error", 6, 5150), (11, 11, "service_stop", 5, 5150),
        (12, 12, "service_stop", 5, 5150), (14, 14, "process_exit", 3, None)]
    assert {(e.unit, e.process) for e in events} == {("mysql", "mysqld")}
    assert events[0].attrs == {"thread": 12, "level": "ERROR", "out_of_memory": True}
    assert events[1].ts_us == utc_us(2024, 5, 28, 23, 59, 59, 500000)
    crash = events[2]
    # a time of day in UTC after a record of the day before: the next day
    assert (crash.ts_us, crash.ts_quality) == (utc_us(2024, 5, 29, 0, 0, 1, 0), "inherited")
    assert crash.attrs == {"level": "ERROR", "signal": "ABRT", "status": 6, "code": "dumped"}
    assert (events[3].ts_us, events[3].ts_quality) == (utc_us(2024, 5, 29, 0, 0, 5, 0), "exact")
    assert events[3].attrs == {"thread": 0, "level": "System", "code": "MY-010116", "subsystem": "Server",
                               "phase": "starting", "version": "8.0.36"}
    assert (events[4].attrs["port"], events[4].attrs["version"]) == (3306, "8.0.36")
    assert events[6].attrs["client_host"] == "localhost" and events[6].attrs["db"] == "unconnected"
    assert events[7].attrs["initiated_by"] == "<via user signal>"
    assert events[8].attrs["phase"] == "complete"
    assert (events[9].ts_us, events[9].ts_quality, events[9].attrs["signal"]) == (
        utc_us(2024, 5, 29, 0, 30, 0, 0), "exact", "SEGV")


def test_mysql_which_server_and_innodb_assertion():
    def unit_process(text, path=None):
        events, _ = run("parsers.mysql_error", text, Context(path=path or "-"))
        return {(e.unit, e.process) for e in events}
    # nothing says which: MySQL's ISO times are MySQL's, the others MariaDB's (MySQL left them with 5.6)
    assert unit_process("2024-05-28T14:35:12.000000Z 0 [Note] x\n") == {("mysql", "mysqld")}
    assert unit_process("2024-05-28 14:35:12 0 [Note] x\n") == {("mariadb", "mariadbd")}
    assert unit_process("2024-05-28T14:35:12.000000Z 0 [Note] x\n", "/var/log/mariadb/mariadb.log") == {
        ("mariadb", "mariadbd")}
    text = ("2021-04-21 21:51:06 0x7f3c  InnoDB: Assertion failure in thread 3776 in file ut0ut.cc line 931\n"
            "InnoDB: Failing assertion: !m_fatal\n"
            "InnoDB: We intentionally generate a memory trap.\n")
    events, rejects = run("parsers.mysql_error", text)
    assert rejects == [] and [(e.line, e.line_end, e.kind, e.severity) for e in events] == [(1, 3, "app_error", 3)]
    assert events[0].attrs == {"thread": "0x7f3c", "subsystem": "InnoDB"}
    assert run("parsers.mysql_error", b"") == ([], [])
    out = list(mysql_error.parse(io.BytesIO(b"2024-05-28 14:35:12 0 [Note] x\nmore\n"), Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42)]
    assert parsers.sniff(b"150101  9:00:00 [Note] Plugin 'FEDERATED' is disabled.\n") == "mysql_error"
    # MySQL 5.7's mysqld_safe where date printed no nanoseconds
    events, _ = run("parsers.mysql_error",
                    "2017-06-07T18:59:59.6NZ mysqld_safe Logging to '/var/log/mysql/error.log'.\n")
    assert [(e.ts_us, e.ts_quality, e.process, e.unit) for e in events] == [
        (utc_us(2017, 6, 7, 18, 59, 59, 600000), "exact", "mysqld_safe", "mysql")]


# ---------------------------------------------------------------- through the ingest

def test_ingest_redis_and_mysql_logs(tmp_path):
    host = tmp_path / "bundle" / "db1"
    (host / "var/log/redis").mkdir(parents=True)
    (host / "var/log/mysql").mkdir(parents=True)
    shutil.copy(sample(ENOMEM), host / "var/log/redis/redis-server.log")
    shutil.copy(sample(REDIS28), host / "var/log/redis/redis-server.log.1")
    shutil.copy(sample(MYSQL8), host / "var/log/mysql/error.log")
    shutil.copy(sample(CLI), host / "mysql-cli-output.txt")
    con, results = ingest(tmp_path, tmp_path / "bundle", year=2017)
    by_name = {r.path.split("/")[-1]: r for r in results}
    assert {k: (r.format, r.status, r.lines, r.events, r.rejected) for k, r in by_name.items()} == {
        "redis-server.log": ("redis", "ingested", 12, 12, 0),
        "redis-server.log.1": ("redis", "ingested", 17, 17, 0),
        "error.log": ("mysql_error", "ingested", 4, 4, 0),
        "mysql-cli-output.txt": (None, "skipped", 0, 0, 0)}
    assert by_name["mysql-cli-output.txt"].note.startswith("format not recognised")
    for r in results:
        if r.status == "ingested":
            lines, inside = accounted(con, r.file_id)
            assert lines == inside == r.lines
    rows = con.execute("""SELECT source, unit, process, kind, count(*), min(ts_quality), max(ts_quality), min(host)
                          FROM events GROUP BY ALL ORDER BY ALL""").fetchall()
    assert rows == [
        ("mysql_error", "mysql", "mysqld", "log", 4, "exact", "exact", "db1"),
        ("redis", "redis-server", "redis-server", "app_error", 5, "year_inferred", "year_inferred", "db1"),
        ("redis", "redis-server", "redis-server", "log", 22, "year_inferred", "year_inferred", "db1"),
        ("redis", "redis-server", "redis-server", "service_start", 2, "year_inferred", "year_inferred", "db1")]
    oom = con.execute("""SELECT epoch_us(ts), pid, attrs->>'error', (attrs->>'out_of_memory')::BOOLEAN
                         FROM events WHERE kind = 'app_error' ORDER BY line LIMIT 1""").fetchone()
    # --year 2017, no zone in the bundle: UTC
    assert oom == (ms(2017, 10, 14, 3, 0, 46, 69), 1255, "fork: Cannot allocate memory", True)
