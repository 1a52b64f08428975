"""The journal in all its outputs, read from real files written by journalctl.

The derived- samples are journalctl's own exports of the native journals
beside them, so each output must give the same entries as the native file.
"""
from __future__ import annotations

import shutil

import pytest

from parsers import sniff

from .helpers import accounted, ingest, sample


def entries(con, path_like: str, limit: int | None = None):
    q = ("SELECT epoch_us(e.ts), e.host, e.process, e.pid, e.message, e.kind, e.unit "
         "FROM events e JOIN files f USING (file_id) "
         "WHERE f.path LIKE ? ORDER BY e.line")
    rows = con.execute(q, [f"%{path_like}"]).fetchall()
    return rows[:limit] if limit else rows


@pytest.mark.parametrize("rel,fmt", [
    ("journal-export/derived-s4-ubuntu16-system-excerpt.export", "journal_export"),
    ("journal-export/derived-s4-ubuntu22-user-1000x3.export", "journal_export"),
    ("journal-json/derived-s4-opensuse-system-excerpt.json", "journal_json"),
    ("journal-json/derived-s4-ubuntu22-user-1000x3.json", "journal_json"),
    ("journal-short/derived-s4-opensuse-system-excerpt.short-iso-precise.txt", "journal_short"),
    ("journal-short/dongluochen-ubuntu1604-journalctl-excerpt.txt", "journal_short"),
    ("syslog/plaso-syslog_rsyslog-rfc3339", "syslog"),
    ("syslog/lnav-logfile_syslog.0", "syslog"),
    ("syslog/s4-ubuntu22-syslog", "syslog"),
    ("kern-log/parseoom-messages-debian11-5.10-global-oom.log", "syslog"),
    ("nginx-access/lab-run3-nginx-1.22-access.log", "nginx_access"),
    ("nginx-access/s4-rockylinux9-nginx-access.log", "nginx_access"),
])
def test_sniff_and_account_for_every_line(tmp_path, rel, fmt):
    p = sample(rel)
    assert sniff(p.read_bytes()[:65536]) == fmt
    con, (res,) = ingest(tmp_path, p)
    assert res.format == fmt and res.status == "ingested"
    lines, acc = accounted(con, res.file_id)
    assert lines == acc
    # the line count is the file's own (wc -l, plus a last line without a newline)
    data = p.read_bytes()
    assert lines == data.count(b"\n") + (0 if data.endswith(b"\n") else 1)


def test_export_json_and_native_agree_entry_for_entry(tmp_path):
    native = sample("journal-native/s4-ubuntu22-user-1000x3.journal.gz")
    if not shutil.which("journalctl"):
        pytest.skip("journalctl not installed")
    con, res = ingest(tmp_path, native, sample("journal-export/derived-s4-ubuntu22-user-1000x3.export"),
                      sample("journal-json/derived-s4-ubuntu22-user-1000x3.json"))
    assert [r.format for r in res] == ["journal_native", "journal_export", "journal_json"]
    a, b, c = (entries(con, n) for n in ("1000x3.journal.gz", "1000x3.export", "1000x3.json"))
    assert len(a) == 3 and a == b == c
    # checked by hand against the export: the first entry, at its _SOURCE_REALTIME_TIMESTAMP as journalctl shows it
    assert a[0][:5] == (1680419200061777, "ubuntu22Acorn", "systemd", 1150,
                        "Starting Notification regarding a new release of Ubuntu...")


def test_native_matches_its_export_excerpt(tmp_path):
    native = sample("journal-native/s4-ubuntu16-system.journal.gz")
    if not shutil.which("journalctl"):
        pytest.skip("journalctl not installed")
    export = sample("journal-export/derived-s4-ubuntu16-system-excerpt.export")
    con, res = ingest(tmp_path, native, export)
    full, part = entries(con, "system.journal.gz"), entries(con, "excerpt.export")
    assert len(full) == 289 and len(part) == 187  # 289 entries in the journal; 187 blank-line-ended in the excerpt
    assert full[:187] == part


def test_short_output_matches_native(tmp_path):
    if not shutil.which("journalctl"):
        pytest.skip("journalctl not installed")
    short = sample("journal-short/derived-s4-ubuntu16-system.short.txt")
    native = sample("journal-native/s4-ubuntu16-system.journal.gz")
    con, res = ingest(tmp_path, short, native, year=2023)
    s, n = entries(con, "short.txt"), entries(con, "system.journal.gz")
    assert len(s) == len(n) == 289
    for a, b in zip(s, n):
        assert a[0] == b[0] // 1_000_000 * 1_000_000       # short has whole seconds (in UTC here)
        assert a[1:4] == b[1:4]                             # host, process, pid
        assert a[4] == b[4]                                 # MESSAGE
    q = con.execute("SELECT DISTINCT ts_quality FROM events JOIN files USING (file_id) WHERE path LIKE '%short.txt'")
    assert q.fetchall() == [("year_inferred",)]


def test_native_without_journalctl_is_a_clear_error(tmp_path, monkeypatch):
    native = sample("journal-native/s4-ubuntu22-user-1000x3.journal.gz")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    con, (res,) = ingest(tmp_path, native)
    assert res.status == "error" and res.format == "journal_native"
    assert "journalctl" in res.note and "-o export" in res.note
    assert con.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_short_iso_precise_matches_json_of_same_journal(tmp_path):
    short = sample("journal-short/derived-s4-opensuse-system-excerpt.short-iso-precise.txt")
    js = sample("journal-json/derived-s4-opensuse-system-excerpt.json")
    con, res = ingest(tmp_path, short, js)
    s, j = entries(con, "short-iso-precise.txt"), entries(con, ".json")
    assert len(j) == 337
    for a, b in zip(s, j):
        assert (a[0], a[1], a[5], a[6]) == (b[0], b[1], b[5], b[6])  # time to the microsecond, host, kind, unit
        # journalctl expands tabs in its text output
        assert a[4].split() == b[4].split("\n")[0].split()


def test_systemd_unit_messages_become_typed_events(tmp_path):
    con, _ = ingest(tmp_path, sample("journal-short/issue-systemd-22032-oomd-kill-journal-excerpt.txt"),
                    sample("syslog/issue-openprescribing-5431-rsyslog-rfc3339-oom-unit-lines.log"),
                    sample("oomd/issue-earlyoom-321-journal-with-systemd-unit-excerpt.txt"), year=2022)
    rows = con.execute("SELECT kind, unit, attrs->>'signal', attrs->>'result' FROM events "
                       "WHERE kind <> 'log' ORDER BY file_id, line").fetchall()
    assert rows == [
        ("process_exit", "testsuite-55-testbloat.service", "KILL", None),
        ("service_failed", "testsuite-55-testbloat.service", None, "signal"),
        ("process_exit", "testsuite-55-testchill.service", "KILL", None),
        ("service_failed", "testsuite-55-testchill.service", None, "signal"),
        ("oom_kill", "user-1021.slice", None, None),
        ("oom_kill", "system-postgresql.slice", None, None),
        ("oom_kill", "user@1021.service", None, None),
        ("oom_kill", "user.slice", None, None),
        ("oom_kill", "system.slice", None, None),
        ("oom_kill", None, "SIGTERM", None),     # earlyoom: sending SIGTERM to process 2595764 ... "cellxgene"
        ("process_exit", "earlyoom.service", "SYS", None),
        ("service_failed", "earlyoom.service", None, "core-dump"),
    ]
    # RFC 3339 with an offset is exact; the journalctl short lines have no year
    q = dict(con.execute("SELECT source || ':' || ts_quality, count(*) FROM events GROUP BY 1").fetchall())
    assert q == {"syslog:year_inferred": 9 + 11, "syslog:exact": 5}


def test_localised_month_names_and_lines_without_a_host(tmp_path):
    """journalctl in a French and a Chinese locale: "avril 16 21:08:50 systemd-oomd[93234]: ..." (no host
    field in that excerpt) and "5月 29 23:06:20 Analyse systemd-oomd[111564]: ..."."""
    fr = sample("oomd/issue-systemd-32304-systemd-oomd-fr-locale-excerpt.txt")
    zh = sample("oomd/issue-systemd-42385-systemd-oomd-zh-locale-excerpt.txt")
    con, res = ingest(tmp_path, fr, zh, year=2024)
    assert [(r.format, r.lines, r.events, r.rejected) for r in res] == [("syslog", 10, 10, 0), ("syslog", 5, 5, 0)]
    rows = con.execute("SELECT strftime(ts, '%m-%d %H:%M:%S'), host, process, pid, message FROM events "
                       "WHERE line = 1 ORDER BY file_id").fetchall()
    assert rows == [("04-16 21:08:50", None, "systemd-oomd", 93234, "Considered 97 cgroups for killing, top candidates were:"),
                    ("05-29 23:06:20", "Analyse", "systemd-oomd", 111564, "Considered 10 cgroups for killing, top candidates were:")]
