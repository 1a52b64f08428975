"""The bundled demo corpus, as the README's first command runs it."""
from __future__ import annotations

from .helpers import CORPUS, accounted, ingest


def test_demo_bundle(tmp_path):
    con, res = ingest(tmp_path, CORPUS)
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
