"""The bundled demo corpus, as the README's first command runs it."""
from __future__ import annotations

from .helpers import CORPUS, accounted, ingest


def test_demo_bundle(tmp_path):
    con, res = ingest(tmp_path, CORPUS / "vps-nest-oom")
    assert {r.status for r in res} == {"ingested"}
    assert {r.host for r in res} == {"web1"}
    for r in res:
        lines, acc = accounted(con, r.file_id)
        assert lines == acc and con.execute("SELECT count(*) FROM rejects").fetchone()[0] == 0
    # the kernel's kill, as dmesg and syslog say it: written with pid 41230, 2 GiB memory.max,
    # anon-rss 2029532 kB; the syslog copy (12:56:41.116000Z at [24401.552210]) puts the boot at
    # 12:56:41.116000 - 6:46:41.552210 = 06:09:59.563790Z
    kills = con.execute("SELECT pid, unit, limit_bytes, anon_rss_bytes, strftime(ts, '%H:%M:%S.%f'), ts_quality, "
                        "also_in_other_files FROM oom_kills").fetchall()
    assert kills == [(41230, "nest-api.service", 2 << 30, 2029532 * 1024, "12:56:41.116000", "monotonic_aligned", 1)]
    assert con.execute("SELECT strftime(boot_time, '%H:%M:%S.%f'), method FROM clock_offsets").fetchall() == \
        [("06:09:59.563790", "message match")]
    # systemd's view of it, from the journal and from syslog (the kill line syslog holds names no cgroup,
    # so it has no unit: its full report is in dmesg)
    kinds = con.execute("SELECT kind, count(*) FROM events WHERE unit = 'nest-api.service' AND source <> 'dmesg' "
                        "AND kind <> 'log' GROUP BY kind ORDER BY kind").fetchall()
    assert kinds == [("memory_sample", 1), ("oom_kill", 2), ("process_exit", 2), ("restart", 2),
                     ("service_failed", 2), ("service_start", 4), ("service_stop", 1)]


def test_demo_bundle_lifecycle_and_copies(tmp_path):
    con, _ = ingest(tmp_path, CORPUS / "vps-nest-oom")
    # the journal's systemd lines (Started, Main process exited, Failed with result, Scheduled restart,
    # Stopped, Started); syslog's forwarded copies of them are linked to them, not listed again
    rows = con.execute("SELECT manager, kind, code, signal, restart_counter, detail FROM lifecycle ORDER BY ts, kind"
                       ).fetchall()
    assert rows == [("systemd", "service_start", None, None, None, None),
                    ("systemd", "process_exit", "killed", "KILL", None, None),
                    ("systemd", "service_failed", None, None, None, "oom-kill"),
                    ("systemd", "restart", None, None, 1, None),
                    ("systemd", "service_stop", None, None, None, None),
                    ("systemd", "service_start", None, None, None, None)]
    # every line of web1/var/log/syslog is a copy: six forwarded from the journal, the kernel's kill from dmesg
    copies = con.execute("SELECT count(*), count(duplicate_of) FROM events JOIN files USING (file_id) "
                         "WHERE path LIKE '%/var/log/syslog'").fetchone()
    assert copies == (7, 7)
    # the killed pid is known as nest-api.service's from the journal (its stdout) and the kernel
    assert con.execute("SELECT unit FROM pid_names WHERE pid = 41230").fetchall() == [("nest-api.service",)]
