"""Process managers in a bundle: supervisor's program logs found through its configuration, and a
PM2 log rotated in the middle of an incident."""
from __future__ import annotations

from .helpers import accounted, ingest, sample


def test_supervisor_program_logs_named_by_the_configuration(tmp_path):
    host = tmp_path / "web1"
    conf = host / "etc/supervisor/conf.d/queue.conf"
    conf.parent.mkdir(parents=True)
    conf.write_text("[program:queue-worker]\ncommand=php artisan queue:work\nnumprocs=1\n"
                    "stdout_logfile=/var/log/%(program_name)s.out.log\nstderr_logfile=AUTO\n")
    logs = host / "var/log"
    (logs / "supervisor").mkdir(parents=True)
    (logs / "queue-worker.out.log").write_text("Processing job 1\nProcessed job 1\n")
    (logs / "supervisor/queue-worker-stderr---supervisor-3kq0vtp_.log").write_text(
        "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted\n")
    (logs / "supervisor/supervisord.log").write_text(
        "2024-05-28 14:35:12,001 INFO spawned: 'queue-worker' with pid 4242\n"
        "2024-05-28 14:35:15,010 INFO success: queue-worker entered RUNNING state, process has stayed up for > "
        "than 3 seconds (startsecs)\n")
    con, res = ingest(tmp_path, host)
    by_path = {r.path.split("web1/", 1)[1]: r for r in res}
    assert by_path["var/log/queue-worker.out.log"].format == "supervisor_app"
    assert by_path["var/log/supervisor/queue-worker-stderr---supervisor-3kq0vtp_.log"].format == "supervisor_app"
    assert by_path["var/log/supervisor/supervisord.log"].format == "supervisord"
    rows = con.execute("SELECT unit, ts_quality, attrs->>'stream', message FROM events WHERE source = 'supervisor_app' "
                       "ORDER BY file_id, line").fetchall()
    assert rows == [("queue-worker", "untimed", "out", "Processing job 1"),
                    ("queue-worker", "untimed", "out", "Processed job 1"),
                    ("queue-worker", "untimed", "error",
                     "PHP Fatal error:  Allowed memory size of 134217728 bytes exhausted")]
    assert con.execute("SELECT unit, pid FROM pid_names").fetchall() == [("queue-worker", 4242)]


def test_pm2_log_rotated_mid_incident_loses_nothing(tmp_path):
    """pm2-logrotate cut the daemon log in the middle of the OOM kills: pm2.log.1 then pm2.log."""
    lab = sample("pm2/lab-pm2-5.4.3-maxmem-and-kernel-oom-excerpt.pm2.log").read_text().splitlines(keepends=True)
    whole = tmp_path / "whole" / ".pm2"
    whole.mkdir(parents=True)
    (whole / "pm2.log").write_text("".join(lab))
    cut = tmp_path / "cut" / ".pm2"
    cut.mkdir(parents=True)
    (cut / "pm2.log.1").write_text("".join(lab[:23]))
    (cut / "pm2.log").write_text("".join(lab[23:]))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    con1, r1 = ingest(tmp_path / "a", whole)
    con2, r2 = ingest(tmp_path / "b", cut)
    assert [r.path.rsplit("/", 1)[1] for r in r2] == ["pm2.log.1", "pm2.log"]      # the older part first
    q = "SELECT epoch_us(ts), kind, unit, message FROM events ORDER BY ts, file_id, line"
    assert con1.execute(q).fetchall() == con2.execute(q).fetchall()
    for con, res in ((con1, r1), (con2, r2)):
        for r in res:
            lines, acc = accounted(con, r.file_id)
            assert lines == acc
    assert sum(r.lines for r in r2) == len(lab)


PM2_HEAP_DEATH = """2024-05-28T03:41:02: api listening on :3000

<--- Last few GCs --->

[4242:0x6a8c4c0]  3451212 ms: Mark-Compact 2039.2 (2081.5) -> 2038.9 (2082.2) MB, 1876.4 / 0.0 ms  (average mu = 0.121, current mu = 0.034) allocation failure; scavenge might not succeed

<--- JS stacktrace --->

FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory
 1: 0xb7b3e0 node::OOMErrorHandler(char const*, v8::OOMDetails const&) [node]
 2: 0xf03b10 v8::Utils::ReportOOMFailure(v8::internal::Isolate*, char const*, v8::OOMDetails const&) [node]
"""


def test_v8_heap_death_in_a_pm2_error_log(tmp_path):
    logs = tmp_path / "web1/.pm2/logs"
    logs.mkdir(parents=True)
    (logs / "api-error.log").write_text(PM2_HEAP_DEATH)
    con, (res,) = ingest(tmp_path, tmp_path / "web1")
    assert res.format == "pm2_app"           # PM2's place and name decide, though V8 wrote most of it
    rows = con.execute("SELECT line, line_end, kind, unit, TRY_CAST(attrs->>'heap_bytes' AS BIGINT), "
                       "TRY_CAST(attrs->>'heap_after_bytes' AS BIGINT), attrs->>'reason' FROM events "
                       "WHERE kind IN ('gc', 'heap_oom') ORDER BY line").fetchall()
    # 2038.9 MB after the last Mark-Compact = 2038.9 * 1048576 = 2137941606 bytes
    assert rows == [(5, 6, "gc", "api", None, 2137941606, "allocation failure; scavenge might not succeed"),
                    (9, 11, "heap_oom", "api", 2137941606, None, "Reached heap limit")]
    assert accounted(con, res.file_id) == (11, 11)


def test_memory_usage_printed_by_the_app(tmp_path):
    logs = tmp_path / "web1/.pm2/logs"
    logs.mkdir(parents=True)
    (logs / "api-out.log").write_text(
        "2024-05-28T03:41:02: {\n2024-05-28T03:41:02:   rss: 734003200,\n2024-05-28T03:41:02:   heapTotal: 612368384,\n"
        "2024-05-28T03:41:02:   heapUsed: 598736896,\n2024-05-28T03:41:02:   external: 2148563,\n"
        "2024-05-28T03:41:02:   arrayBuffers: 18915\n2024-05-28T03:41:02: }\n"
        '2024-05-28T03:42:02: {"rss":801112064,"heapTotal":680525824,"heapUsed":667418624,"external":2148563,'
        '"arrayBuffers":18915}\n')
    con, (res,) = ingest(tmp_path, tmp_path / "web1")
    rows = con.execute("SELECT line, attrs->>'metric', TRY_CAST(attrs->>'bytes' AS BIGINT), unit FROM events "
                       "WHERE kind = 'memory_sample' ORDER BY line, event_id").fetchall()
    assert [(l, m, b) for l, m, b, _ in rows if m == "rss"] == [(1, "rss", 734003200), (8, "rss", 801112064)]
    assert len(rows) == 10 and {u for *_, u in rows} == {"api"}
    assert accounted(con, res.file_id) == (8, 8)
