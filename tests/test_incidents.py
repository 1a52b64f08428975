"""The correlation rules of docs/incidents.md, one shape at a time, on small bundles of real-format lines.

Each test writes the logs of one failure shape (the lines as PM2, supervisor, systemd, the kernel and nginx
print them), ingests them with the real pipeline into a real DuckDB file, and checks the incidents.
The expected figures are worked out in the comments from the lines written.
"""
from __future__ import annotations

import json

import duckdb

from forensics.correlate import human_bytes, human_duration, incidents

from .conftest import run_cli
from .helpers import ingest


def write(root, files: dict[str, str]):
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text.lstrip("\n"))
    return root


def kern(host: str, t: str, up: float, pid: int, memcg: str, constraint: str = "CONSTRAINT_NONE",
         anon_kb: int = 500000, file_kb: int = 1000) -> str:
    """A kernel OOM kill as rsyslog writes it to kern.log (RFC 3339 time), invoker line first."""
    scope = "global_oom" if constraint == "CONSTRAINT_NONE" else f"oom_memcg={memcg}"
    return (f"{t}.100000+00:00 {host} kernel: [{up:12.6f}] node invoked oom-killer: gfp_mask=0x140cca"
            f"(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0\n"
            f"{t}.150000+00:00 {host} kernel: [{up + 0.05:12.6f}] oom-kill:constraint={constraint},nodemask=(null),"
            f"cpuset=/,mems_allowed=0,{scope},task_memcg={memcg},task=node,pid={pid},uid=1000\n"
            f"{t}.160000+00:00 {host} kernel: [{up + 0.06:12.6f}] Out of memory: Killed process {pid} (node) "
            f"total-vm:1000000kB, anon-rss:{anon_kb}kB, file-rss:{file_kb}kB, shmem-rss:0kB, UID:1000 "
            f"pgtables:2000kB oom_score_adj:0\n")


def queue_bundle(root, hour: int = 12, respawn: bool = True, files: dict[str, str] | None = None):
    """supervisor spawns 'queue' as pid 777 at HOUR:00 (its log in local time, no zone) and reports it killed
    at HOUR:10:00.300, respawning it (pid 778) a second later; the kernel's kill of pid 777, in supervisor's
    cgroup at its limit, is at 12:10:00.160Z in kern.log (which states its offset)."""
    log = (f"2024-05-28 {hour}:00:00,000 INFO spawned: 'queue' with pid 777\n"
           f"2024-05-28 {hour}:10:00,300 WARN exited: queue (terminated by SIGKILL; not expected)\n")
    if respawn:
        log += f"2024-05-28 {hour}:10:01,000 INFO spawned: 'queue' with pid 778\n"
    return write(root, {
        "box/var/log/supervisor/supervisord.log": log,
        "box/var/log/kern.log": kern("box", "2024-05-28T12:10:00", 600.0, 777, "/system.slice/supervisor.service",
                                     constraint="CONSTRAINT_MEMCG"),
        **(files or {})})


def test_crash_loop_is_one_incident_with_a_count(tmp_path):
    # supervisor spawns the worker, it dies by exit status 1 four times 10 s apart, then FATAL
    log = ["2024-05-28 12:00:00,000 INFO spawned: 'worker' with pid 100",
           "2024-05-28 12:00:02,000 INFO success: worker entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)"]
    for n in range(4):
        log.append(f"2024-05-28 12:00:{10 + 10 * n:02d},000 WARN exited: worker (exit status 1; not expected)")
        if n < 3:
            log.append(f"2024-05-28 12:00:{11 + 10 * n:02d},000 INFO spawned: 'worker' with pid {101 + n}")
    log.append("2024-05-28 12:00:41,000 INFO gave up: worker entered FATAL state, too many start retries too quickly")
    write(tmp_path / "b", {"box/var/log/supervisor/supervisord.log": "\n".join(log) + "\n"})
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    assert (inc["host"], inc["service"], inc["trigger"], inc["limit"]) == ("box", "worker", "crash", None)
    assert (inc["deaths"], inc["gave_up"], inc["exit_code"], inc["signal"]) == (4, True, 1, None)
    assert (inc["ts"], inc["end_ts"]) == ("2024-05-28T12:00:10Z", "2024-05-28T12:00:40Z")
    # spawned at :11, :21, :31: three restarts; it never ran again
    assert (inc["restarts"], inc["recovered_ts"], inc["downtime_s"]) == (3, None, None)
    assert "not restarted within the logs" in inc["unknowns"]
    assert "died 4 times in 30 s" in inc["summary"] and "supervisor gave up" in inc["summary"]


def test_routine_restarts_and_stops_are_no_incident(tmp_path):
    write(tmp_path / "b", {
        "quiet/var/log/syslog": """
2024-05-28T12:00:00.000000+00:00 quiet systemd[1]: Stopping api.service - API...
2024-05-28T12:00:00.200000+00:00 quiet systemd[1]: api.service: Main process exited, code=killed, status=15/TERM
2024-05-28T12:00:00.210000+00:00 quiet systemd[1]: api.service: Deactivated successfully.
2024-05-28T12:00:00.220000+00:00 quiet systemd[1]: Stopped api.service - API.
2024-05-28T12:00:00.300000+00:00 quiet systemd[1]: Started api.service - API.
2024-05-28T12:05:00.000000+00:00 quiet systemd[1]: api.service: Main process exited, code=exited, status=0/SUCCESS
""",
        "quiet/.pm2/pm2.log": """
2024-05-28T12:10:00: PM2 log: Stopping app:web id:1
2024-05-28T12:10:00: PM2 log: App [web:1] exited with code [0] via signal [SIGINT]
2024-05-28T12:10:00: PM2 log: App [web:1] starting in -fork mode-
2024-05-28T12:10:01: PM2 log: App [web:1] online
""",
        # a client that gave up (499) and one 502 with no death behind it
        "quiet/var/log/nginx/access.log": """
203.0.113.9 - - [28/May/2024:12:20:00 +0000] "GET /api/report HTTP/1.1" 499 0 "-" "curl/8.5.0"
203.0.113.9 - - [28/May/2024:12:20:05 +0000] "GET /api/report HTTP/1.1" 502 157 "-" "curl/8.5.0"
"""})
    con, _ = ingest(tmp_path, tmp_path / "b")
    assert con.execute("SELECT count(*) FROM lifecycle WHERE kind = 'process_exit'").fetchone()[0] == 3
    assert incidents(con) == []


def test_two_services_in_the_same_second_stay_two_incidents(tmp_path):
    write(tmp_path / "b", {"box/var/log/supervisor/supervisord.log": """
2024-05-28 12:00:00,000 INFO spawned: 'api' with pid 200
2024-05-28 12:00:00,100 INFO spawned: 'worker' with pid 201
2024-05-28 12:30:00,000 WARN exited: api (terminated by SIGKILL; not expected)
2024-05-28 12:30:00,500 WARN exited: worker (terminated by SIGSEGV (core dumped); not expected)
2024-05-28 12:30:01,000 INFO spawned: 'api' with pid 202
2024-05-28 12:30:01,100 INFO spawned: 'worker' with pid 203
"""})
    con, _ = ingest(tmp_path, tmp_path / "b")
    got = incidents(con)
    assert [(i["service"], i["signal"], i["pid"], i["recovered_ts"]) for i in got] == [
        ("api", "KILL", 200, "2024-05-28T12:30:01Z"), ("worker", "SEGV", 201, "2024-05-28T12:30:01.100000Z")]


def test_same_service_on_two_hosts_is_two_incidents(tmp_path):
    # the same second on both hosts (one file each, so not the same content: the second would be "unchanged")
    line = "2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [{}] via signal [null]\n"
    write(tmp_path / "b", {"app-1/.pm2/pm2.log": line.format(1), "app-2/.pm2/pm2.log": line.format(2)})
    con, _ = ingest(tmp_path, tmp_path / "b")
    got = incidents(con)
    assert [(i["host"], i["service"], i["exit_code"]) for i in got] == [("app-1", "api", 1), ("app-2", "api", 2)]
    assert [i["host"] for i in incidents(con, host="app-2")] == ["app-2"]


def test_gap_splits_and_joins(tmp_path):
    # two exits 30 min apart: two incidents with the 10 min gap, one with --gap 60
    write(tmp_path / "b", {"box/.pm2/pm2.log": """
2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [1] via signal [null]
2024-05-28T12:00:01: PM2 log: App [api:0] online
2024-05-28T12:30:00: PM2 log: App [api:0] exited with code [1] via signal [null]
2024-05-28T12:30:01: PM2 log: App [api:0] online
"""})
    con, _ = ingest(tmp_path, tmp_path / "b")
    assert [i["deaths"] for i in incidents(con)] == [1, 1]
    [one] = incidents(con, gap_minutes=60)
    assert (one["deaths"], one["ts"], one["end_ts"], one["recovered_ts"]) == (
        2, "2024-05-28T12:00:00Z", "2024-05-28T12:30:00Z", "2024-05-28T12:30:01Z")
    assert [i["ts"] for i in incidents(con, since="2024-05-28T12:10:00Z")] == ["2024-05-28T12:30:00Z"]
    assert [i["ts"] for i in incidents(con, until="2024-05-28 12:10")] == ["2024-05-28T12:00:00Z"]


def _pm2_bundle(root, samples: list[int], kill: bool = True):
    """PM2 runs app 'api' under pm2-root.service; memoryUsage() printed each minute from 12:00; a global OOM
    kill of its node at 12:29:59.960 names only the cgroup of PM2's unit."""
    files = {
        "box/.pm2/pm2.log": """
2024-05-28T12:00:00: PM2 log: App [api:0] starting in -fork mode-
2024-05-28T12:00:01: PM2 log: App [api:0] online
2024-05-28T12:30:00: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]
2024-05-28T12:30:00: PM2 log: App [api:0] starting in -fork mode-
2024-05-28T12:30:01: PM2 log: App [api:0] online
""",
        "box/.pm2/logs/api-out.log": "".join(
            f"2024-05-28T12:{i:02d}:00: {{ rss: {b}, heapTotal: 80000000, heapUsed: 60000000, external: 1000000, "
            f"arrayBuffers: 10000 }}\n" for i, b in enumerate(samples)),
        "box/deploy.log": "2024-05-28T11:55:00Z v2.0.0 abc1234 -- release\n",
    }
    if kill:
        files["box/var/log/kern.log"] = kern("box", "2024-05-28T12:29:59", 1799.0, 4321, "/system.slice/pm2-root.service")
    return write(root, files)


def test_pm2_app_killed_by_the_kernel_leak_deploy_and_time_link(tmp_path):
    # rss 100 MB at 12:00 growing 20 MB a minute to 200 MB at 12:05: a straight line, r² = 1
    _pm2_bundle(tmp_path / "b", [100_000_000 + 20_000_000 * i for i in range(6)])
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    # the kernel names pm2-root.service; PM2's exit of 'api' in the same second names the app
    assert (inc["service"], inc["unit"], inc["process"], inc["pid"], inc["link"]) == ("api", "api", "node", 4321, "time")
    assert (inc["trigger"], inc["limit"], inc["limit_bytes"]) == ("oom_kill", "global", None)
    assert inc["rss_bytes"] == (500000 + 1000) * 1024
    assert (inc["ts"], inc["deaths"], inc["restarts"]) == ("2024-05-28T12:29:59.160000Z", 1, 1)
    # PM2 says online at 12:30:01: 1.84 s after the kill
    assert (inc["recovered_ts"], inc["downtime_s"]) == ("2024-05-28T12:30:01Z", 1.84)
    assert (inc["deploy_ts"], inc["deploy_version"], inc["deploy_commit"], inc["deploy_evidence"]) == (
        "2024-05-28T11:55:00Z", "v2.0.0", "abc1234", "deploy log")
    # samples from the process's start (12:00:00, PM2's "starting") to the kill: all six
    assert (inc["memory_metric"], inc["memory_samples"], inc["memory_start_bytes"], inc["memory_end_bytes"]) == (
        "rss", 6, 100_000_000, 200_000_000)
    assert (inc["memory_growth_bytes_per_min"], inc["memory_fit_r2"], inc["leak"]) == (20_000_000, 1.0, True)
    assert "tied to the service by time only" in inc["summary"] and "v2.0.0" in inc["summary"]
    assert "19.1 MiB/min" in inc["summary"]   # 20 000 000 B = 19.07 MiB
    claims = {e["claim"]: (e["file"].rsplit("/", 1)[-1], e["line"]) for e in inc["evidence"]}
    assert claims["trigger"] == ("kern.log", 3) and claims["deploy"] == ("deploy.log", 1)
    assert claims["memory_first"] == ("api-out.log", 1) and claims["recovered"] == ("pm2.log", 5)


def test_sawtooth_is_not_a_leak(tmp_path):
    # rises and falls back to its base after each GC: slope ~0, bad fit
    _pm2_bundle(tmp_path / "b", [100_000_000, 160_000_000, 100_000_000, 160_000_000, 100_000_000, 160_000_000])
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    assert inc["memory_samples"] == 6 and inc["leak"] is False
    assert inc["memory_fit_r2"] < 0.8 and "not a steady climb" in inc["summary"]


def test_pid_link_and_cgroup_limit(tmp_path):
    # supervisor spawned 'queue' as pid 777; the kernel kills pid 777 in supervisor's own cgroup at its limit
    queue_bundle(tmp_path / "b")
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    assert (inc["service"], inc["link"], inc["limit"], inc["pid"]) == ("queue", "pid", "cgroup", 777)
    # the kill at 12:10:00.160, spawned again at 12:10:01.000
    assert (inc["recovered_ts"], inc["downtime_s"], inc["restarts"]) == ("2024-05-28T12:10:01Z", 0.84, 1)


def test_errors_new_since_the_deploy(tmp_path):
    write(tmp_path / "b", {
        "box/deploy.log": "2024-05-28T12:00:00Z v3.1.0 -- config cache\n",
        "box/.pm2/pm2.log": "2024-05-28T12:20:00: PM2 log: App [api:0] exited with code [1] via signal [null]\n",
        "box/.pm2/logs/api-error.log": """
2024-05-28T11:30:00: [Nest] 42  - 05/28/2024, 11:30:00 AM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (1)...
2024-05-28T12:05:00: [Nest] 42  - 05/28/2024, 12:05:00 PM   ERROR [TypeOrmModule] Unable to connect to the database. Retrying (2)...
2024-05-28T12:06:00: [Nest] 42  - 05/28/2024, 12:06:00 PM   ERROR [ExceptionHandler] Nest can't resolve dependencies of the OrdersService (?). Please make sure that the argument "QueueService" at index [0] is available in the OrdersModule context.
""",
    })
    con, _ = ingest(tmp_path, tmp_path / "b")
    assert con.execute("SELECT list(kind ORDER BY ts) FROM errors").fetchone()[0] == [
        "connection_error", "connection_error", "di_error"]
    [inc] = incidents(con)
    # errors from the deploy (12:00) on; the connection errors were there before it (11:30), the DI error is new
    assert [(e["kind"], e["count"], e["new"]) for e in inc["errors"]] == [
        ("connection_error", 1, False), ("di_error", 1, True)]
    assert "new since the deploy: 1 × di_error" in inc["summary"]


def test_memory_limit_restart_and_heap_oom(tmp_path):
    write(tmp_path / "b", {"box/.pm2/pm2.log": """
2024-05-28T11:00:00: PM2 log: App [api:0] starting in -fork mode-
2024-05-28T11:00:00: PM2 log: App [api:0] online
2024-05-28T12:00:00: PM2 log: [PM2][WORKER] Process 0 restarted because it exceeds --max-memory-restart value (current_memory=1610612736 max_memory_limit=1073741824 [octets])
2024-05-28T12:00:00: PM2 log: Stopping app:api id:0
2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [0] via signal [SIGINT]
2024-05-28T12:00:00: PM2 log: App [api:0] starting in -fork mode-
2024-05-28T12:00:01: PM2 log: App [api:0] online
"""})
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    assert (inc["trigger"], inc["limit"], inc["limit_bytes"], inc["rss_bytes"]) == (
        "memory_limit_restart", "pm2_max_memory", 1 << 30, 1536 << 20)
    assert inc["deaths"] == 1 and inc["recovered_ts"] == "2024-05-28T12:00:01Z"
    assert "--max-memory-restart 1.0 GiB (at 1.5 GiB)" in inc["summary"]


def test_incidents_command(tmp_path):
    _pm2_bundle(tmp_path / "b", [100_000_000 + 20_000_000 * i for i in range(6)])
    db = tmp_path / "x.duckdb"
    run = lambda *a: run_cli(*a, cwd=tmp_path)  # noqa: E731
    assert run("ingest", "b", "--db", str(db)).returncode == 0
    out = run("incidents", "--db", str(db), "--format", "json")
    assert out.returncode == 0, out.stderr
    [inc] = json.loads(out.stdout)
    assert inc["service"] == "api" and inc["evidence"][0]["file"] == "b/box/var/log/kern.log"
    table = run("incidents", "--db", str(db))
    assert table.returncode == 0 and "box  api  oom_kill (global)" in table.stdout and "(1 incident)" in table.stdout
    csv = run("incidents", "--db", str(db), "--format", "csv")
    assert csv.stdout.splitlines()[0].startswith("id,host,service,unit,process,pid,ts,")
    bad = run("incidents", "--db", str(db), "--since", "yesterday-ish")
    assert bad.returncode == 1 and bad.stderr.startswith("forensics: error: --since") and "Traceback" not in bad.stderr


def test_words():
    assert [human_bytes(b) for b in (512, 1536, 2 << 30)] == ["512 B", "1.5 KiB", "2.0 GiB"]
    assert [human_duration(s) for s in (0.25, 47, 300, 18720, 200000)] == ["250 ms", "47 s", "5 min", "5 h 12 min",
                                                                          "2 d 8 h"]


def test_a_pm2_app_known_only_by_its_id_takes_the_name_pm2_gives_that_id(tmp_path):
    # the log begins at the restart: PM2 names app 0 only in the lines that follow
    write(tmp_path / "b", {"box/.pm2/pm2.log": """
2024-05-28T12:00:00: PM2 log: [PM2][WORKER] Process 0 restarted because it exceeds --max-memory-restart value (current_memory=1610612736 max_memory_limit=1073741824 [octets])
2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [0] via signal [SIGINT]
2024-05-28T12:00:01: PM2 log: App [api:0] online
"""})
    con, _ = ingest(tmp_path, tmp_path / "b")
    [inc] = incidents(con)
    assert (inc["service"], inc["trigger"], inc["link"]) == ("api", "memory_limit_restart", "unit")


def test_a_zone_read_wrongly_is_measured_reported_and_fixed(tmp_path):
    # supervisor writes local time without a zone; the server was in Europe/Berlin (UTC+2 in May) but the
    # bundle does not say so, so its lines are read as UTC: the exit of pid 777 lands 2 h after the kernel's
    # kill of pid 777 (12:10:00.160Z in kern.log, which states its offset)
    queue_bundle(tmp_path / "b", hour=14)
    db = tmp_path / "x.duckdb"
    run = lambda *a: run_cli(*a, cwd=tmp_path)  # noqa: E731
    assert run("ingest", "b", "--db", str(db)).returncode == 0
    before = run("incidents", "--db", str(db), "--format", "json")
    assert [i["trigger"] for i in json.loads(before.stdout)] == ["oom_kill", "crash"]   # one death, seen twice
    # 14:10:00.300 - 12:10:00.160 = 7200.14 s: a whole two hours, give or take the reaping delay
    assert "supervisord.log: its clock is +02:00: a zone read wrongly" in before.stderr
    assert "--fix-skew moves its times" in before.stderr
    fixed = run("incidents", "--db", str(db), "--format", "json", "--fix-skew")
    [inc] = json.loads(fixed.stdout)
    assert "clock fixed" in fixed.stderr and "moved by -7200 s" in fixed.stderr
    # the exit now lies 140 ms after the kill, and the respawn at 12:10:01.000: 840 ms of downtime
    assert (inc["service"], inc["deaths"], inc["downtime_s"], inc["link"]) == ("queue", 1, 0.84, "pid")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT shift_us, pairs FROM clock_fixes").fetchall() == [(7_200_000_000, 1)]
    assert con.execute("SELECT DISTINCT ts_quality FROM events JOIN files USING (file_id) "
                       "WHERE path LIKE '%supervisord.log'").fetchall() == [("skew_corrected",)]
    con.close()
    again = run("incidents", "--db", str(db))   # nothing left to warn of, nothing moved twice
    assert "clock" not in again.stderr and "(1 incident)" in again.stdout


def test_the_units_memorymax_gives_the_cgroup_limit_the_report_does_not_state(tmp_path):
    # a kernel report without its "memory: usage ..., limit ..." line; the bundle holds the unit's drop-in
    # with MemoryMax=512M: 512 * 1024 * 1024 = 536870912 bytes
    queue_bundle(tmp_path / "b", respawn=False, files={
        "box/etc/systemd/system/supervisor.service.d/memory.conf": "[Service]\nMemoryMax=512M\nOOMPolicy=continue\n"})
    con, res = ingest(tmp_path, tmp_path / "b", tz="UTC")
    assert {r.path.rsplit("/", 1)[-1]: r.format for r in res}["memory.conf"] == "systemd_unit"
    [inc] = incidents(con)
    assert (inc["limit"], inc["limit_bytes"], inc["unit_memory_max_bytes"]) == ("cgroup", 536870912, 536870912)
    assert "on the cgroup limit of 512.0 MiB of supervisor.service" in inc["summary"]
    assert [e["line"] for e in inc["evidence"] if e["claim"] == "unit_config"] == [1]


def test_requests_naming_another_upstream_are_not_the_services_impact(tmp_path):
    # nginx in front of a Node API (port 3000, which it says it listens on) and a PHP panel (php-fpm's
    # socket), logging $upstream_addr as ua=. The API dies at 12:00:00; in the window the panel's own
    # 500 does not count, the API's 502s do, and a line naming no upstream counts by time
    access = "".join(
        f'203.0.113.9 - - [28/May/2024:12:00:{s:02d} +0000] "GET {path} HTTP/1.1" {st} 157 "-" "curl/8.1" '
        f'rt=0.001 ua="{ua}" us="{st}"\n'.replace(' ua=""', '')
        for s, path, st, ua in [(1, "/api/a", 502, "127.0.0.1:3000"), (2, "/admin/x", 500, "unix:/run/php/php8.3-fpm.sock"),
                                (3, "/api/b", 502, "127.0.0.1:3000"), (4, "/health", 502, ""),
                                (5, "/admin/y", 200, "unix:/run/php/php8.3-fpm.sock"),
                                (6, "/other", 502, "127.0.0.1:4000")])
    write(tmp_path / "b", {
        "box/.pm2/pm2.log": """
2024-05-28T11:00:00: PM2 log: App [api:0] starting in -fork mode-
2024-05-28T11:00:01: PM2 log: App [api:0] online
2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]
2024-05-28T12:00:07: PM2 log: App [api:0] online
""",
        "box/.pm2/logs/api-out.log": "2024-05-28T11:00:01: api listening on port 3000\n",
        "box/.pm2/logs/worker-out.log": "2024-05-28T11:00:01: metrics server listening on port 4000\n",
        "box/var/log/nginx/access.log": access,
    })
    con, _ = ingest(tmp_path, tmp_path / "b", tz="UTC")
    assert sorted(con.execute("SELECT service, port FROM listen_ports").fetchall()) == [("api", 3000), ("worker", 4000)]
    [inc] = incidents(con)
    # counted: :01 and :03 (the API's), :04 (no upstream named); not: the panel's :02 and :05, the worker's :06
    assert (inc["http_requests"], inc["http_5xx"]) == (3, 3)
    assert (inc["first_5xx_ts"], inc["last_5xx_ts"]) == ("2024-05-28T12:00:01Z", "2024-05-28T12:00:04Z")


def test_the_page_says_which_clocks_were_checked_and_moved(tmp_path):
    from forensics.correlate import fix_skews
    from forensics.report import render_timeline
    queue_bundle(tmp_path / "b", hour=14, respawn=False)
    con, _ = ingest(tmp_path, tmp_path / "b", tz="UTC")
    page = render_timeline(con, incidents(con))
    assert "a zone read wrongly; <code>--fix-skew</code> would move it" in page
    fix_skews(con)
    page = render_timeline(con, incidents(con))
    assert "moved by -7200 s" in page and "agrees" in page


def test_an_apps_own_request_log_is_not_counted_beside_nginx(tmp_path):
    # nestjs-pino logs each request too; nginx's line for the same request is the one counted
    write(tmp_path / "b", {
        "box/.pm2/pm2.log": "2024-05-28T12:00:00: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]\n",
        "box/var/log/nginx/access.log":
            '203.0.113.9 - - [28/May/2024:12:00:01 +0000] "GET /api/a HTTP/1.1" 500 157 "-" "curl/8.1"\n',
        "box/srv/api/logs/app.log":
            '{"level":30,"time":1716897601000,"pid":7,"hostname":"box","req":{"method":"GET","url":"/api/a"},'
            '"res":{"statusCode":500},"responseTime":3,"msg":"request completed"}\n',
    })
    con, res = ingest(tmp_path, tmp_path / "b", tz="UTC")
    assert con.execute("SELECT source FROM events WHERE kind = 'http_request' ORDER BY source").fetchall() == [
        ("nestjs",), ("nginx_access",)]
    [inc] = incidents(con)
    assert (inc["http_requests"], inc["http_5xx"]) == (1, 1)


def test_logs_given_as_files_without_a_host_still_make_incidents(tmp_path):
    # files given one by one, outside a host folder, name no host: they are one host all the same
    log = tmp_path / "pm2.log"
    log.write_text("2024-05-28T12:00:00: PM2 log: App [api:0] starting in -fork mode-\n"
                   "2024-05-28T12:00:01: PM2 log: App [api:0] online\n"
                   "2024-05-28T12:30:00: PM2 log: App [api:0] exited with code [1] via signal [SIGINT]\n"
                   "2024-05-28T12:30:01: PM2 log: App [api:0] online\n")
    con, (res,) = ingest(tmp_path, log, tz="UTC")
    assert res.host is None
    [inc] = incidents(con)
    assert (inc["host"], inc["service"], inc["exit_code"], inc["recovered_ts"], inc["restarts"]) == (
        None, "api", 1, "2024-05-28T12:30:01Z", 0)
    assert inc["id"] == "-/api/2024-05-28T12:30:00Z"
