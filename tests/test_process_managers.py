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
