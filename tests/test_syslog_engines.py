"""Syslog files are read by DuckDB (forensics.syslog_load); parsers.syslog's Python engine is the
reference. Both must give the same events and rejects, line for line."""
from __future__ import annotations

from datetime import datetime, timezone
import os

import pytest

from forensics.ingest import Options, ingest_paths
from forensics.store import connect

from .helpers import SAMPLES

EDGE = (
    "Dec 31 23:59:58 web1 CRON[5]: tick\n"
    "Jan  1 00:00:01 web1 systemd[1]: nest-api.service: Failed with result 'oom-kill'.\n"
    "Jan  1 00:00:02 web1 node[812]: Error: boom\n"
    "    at main.js:3:7\n"
    "\tat node:internal/process:1\n"
    "\n"
    "    an indented line after a blank one is no continuation\n"
    "garbage without a header\n"
    "Feb 29 10:00:00 web1 node[812]: no such day in a year that is not leap\n"
    "Jan  2 03:04:05 localhost kernel: [ 1234.567890] Out of memory: Killed process 812 (node) total-vm:10kB, "
    "anon-rss:8kB, file-rss:1kB, shmem-rss:0kB, UID:1001 pgtables:4kB oom_score_adj:0\n"
    "Jan  2 03:04:06 web1 rsyslogd: message repeated 7 times: [ hello]\n"
    "avril 16 21:08:50 systemd-oomd[93234]: Considered 97 cgroups for killing\n"
    "5月 29 23:06:20 Analyse earlyoom[9]: sending SIGKILL to process 77 uid 0 \"java\": badness 900, VmRSS 512 MiB\n"
    "2024-05-28T14:35:12.123456789+02:00 web1 node[812]: nine digits of fraction\n"
    "2024-05-28T14:35:12Z web1 node: no pid\n"
    "2024-05-28T14:35:12 web1 node[812]: no zone\n"
    "2024-13-28T14:35:12+00:00 web1 node[812]: no such month\n"
    "Jan  3 01:02:03 web1 sudo: alice : TTY=pts/0 ; COMMAND=/bin/ls\n"
    "Jan  3 01:02:04.250 web1 node[812]: fraction\r\n"
    "last line without a newline"
)

EVENTS = ("SELECT f.path, e.line, e.line_end, e.nlines, epoch_us(e.ts), e.ts_quality, e.host, e.source, e.kind, "
          "e.unit, e.process, e.pid, e.message, e.attrs::VARCHAR FROM events e JOIN files f USING (file_id) "
          "ORDER BY f.path, e.line")


def _read(tmp_path, name, paths, **opts):
    con = connect(tmp_path / f"{name}.duckdb")
    results, _ = ingest_paths(con, [str(p) for p in paths], Options(**opts))
    ev = con.execute(EVENTS).fetchall()
    rj = con.execute("SELECT f.path, r.line, r.reason, r.text FROM rejects r JOIN files f USING (file_id) ORDER BY 1, 2").fetchall()
    return results, ev, rj


@pytest.mark.parametrize("opts", [{"year": 2024}, {}, {"tz": "Europe/Berlin", "year": 2023}, {"tz": "+05:30"}])
def test_edge_cases_read_alike(tmp_path, opts):
    f = tmp_path / "syslog"
    f.write_text(EDGE, newline="")
    ts = datetime(2025, 1, 3, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(f, (ts, ts))              # the file's date, for the year of its BSD lines
    r1, ev1, rj1 = _read(tmp_path, "sql", [f], **opts)
    r2, ev2, rj2 = _read(tmp_path, "ref", [f], reference=True, **opts)
    assert r1[0].format == "syslog"
    assert ev1 == ev2
    assert rj1 == rj2
    # counted by hand from EDGE: 12 headers read whatever the year; the blank line, the indented line after
    # it, the garbage, month 13 and the last line rejected; Feb 29 is read where its year is a leap year
    # (2024: from the file's date, or after --year 2023 turns at December) and rejected in 2025
    # (--year 2024 puts the first line in 2024, so the January lines are in 2025)
    leap = opts.get("year") != 2024
    assert (len(ev1), len(rj1)) == ((13, 5) if leap else (12, 6))


def test_real_syslog_files_read_alike(tmp_path):
    if not SAMPLES.exists():
        pytest.skip("../shared/samples not present")
    paths = [p for d in ("syslog", "kern-log", "journal-short", "oomd", "mysql", "supervisor")
             for p in sorted((SAMPLES / d).iterdir())]
    r1, ev1, rj1 = _read(tmp_path, "sql", paths, year=2024)
    r2, ev2, rj2 = _read(tmp_path, "ref", paths, year=2024, reference=True)
    assert [(r.path, r.format, r.lines, r.events, r.rejected) for r in r1] == \
        [(r.path, r.format, r.lines, r.events, r.rejected) for r in r2]
    assert sum(1 for r in r1 if r.format == "syslog") >= 15
    assert ev1 == ev2
    assert rj1 == rj2
