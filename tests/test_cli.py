"""The command line as a user runs it: ``forensics sql``, ``formats``, re-ingest, growth,
interruption, and what a bundle says about host, zone and year.

Every expected time below is worked out by hand in a comment, never copied
from the program's output.
"""
from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

import parsers

from .conftest import CLI, assert_lines_accounted, file_rows, one_error_line, query, write

# ---------------------------------------------------------------------------------------------
# A small incident: an rsyslog file and a journalctl -o json file.

APP_LOG = (
    # 14:35:12.123456+02:00 -> 12:35:12.123456Z
    '2024-05-28T14:35:12.123456+02:00 web1 node[812]: POST /api/orders said "hi", then left\n'
    # Z: stays 14:35:13Z
    "2024-05-28T14:35:13Z web2 nginx[90]: upstream timed out (110: Connection timed out), client: 203.0.113.9\n"
    # no year, no zone: --year 2024, UTC -> 2024-05-28T14:35:14Z
    "May 28 14:35:14 web1 CRON[5]: caf\u00e9 \u2615 tick\n"
)
# 1716906915000000 us: 2024-05-28 00:00:00Z is 1716854400 s (1704067200 for 2024-01-01 + 148 days * 86400);
# 1716906915 - 1716854400 = 52515 s = 14:35:15 -> 2024-05-28T14:35:15Z
JOURNAL_MSG = 'Error: boom\n    at main (/app/main.js:1:1), "quoted"'
JOURNAL_JSON = json.dumps({"__REALTIME_TIMESTAMP": "1716906915000000", "_HOSTNAME": "web1",
                           "SYSLOG_IDENTIFIER": "node", "_PID": "812", "PRIORITY": "3",
                           "MESSAGE": JOURNAL_MSG}) + "\n"

EXPECTED_ROWS = [  # path, line, ts, ts_quality, host, process, pid, severity, message
    ("inc/app.log", 1, "2024-05-28T12:35:12.123456Z", "exact", "web1", "node", 812, None,
     'POST /api/orders said "hi", then left'),
    ("inc/app.log", 2, "2024-05-28T14:35:13.000000Z", "exact", "web2", "nginx", 90, None,
     "upstream timed out (110: Connection timed out), client: 203.0.113.9"),
    ("inc/app.log", 3, "2024-05-28T14:35:14.000000Z", "year_inferred", "web1", "CRON", 5, None,
     "caf\u00e9 \u2615 tick"),
    ("inc/journal.json", 1, "2024-05-28T14:35:15.000000Z", "exact", "web1", "node", 812, 3, JOURNAL_MSG),
]
COLUMNS = ["path", "line", "ts", "ts_quality", "host", "process", "pid", "severity", "message"]
ROWS_SQL = ("SELECT f.path, e.line, e.ts, e.ts_quality, e.host, e.process, e.pid, e.severity, e.message "
            "FROM events e JOIN files f USING (file_id) ORDER BY e.ts")


@pytest.fixture
def incident_db(tmp_path, cli):
    write(tmp_path / "inc/app.log", APP_LOG)
    write(tmp_path / "inc/journal.json", JOURNAL_JSON)
    r = cli("ingest", "inc", "--db", "inc.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    return tmp_path / "inc.duckdb"


def bsd(stamp: str, host: str, tag: str, msg: str) -> str:
    """A BSD syslog line: ``May 28 14:35:12 web1 node[812]: msg``."""
    return f"{stamp} {host} {tag}: {msg}\n"


def set_mtime(p: Path, y: int, mo: int, d: int) -> None:
    t = datetime(y, mo, d, 12, 0, tzinfo=timezone.utc).timestamp()
    os.utime(p, (t, t))


def events(db: Path, path: str | None = None) -> list[tuple]:
    """(line, ts as ISO UTC text, ts_quality, host, message) of the events, in line order."""
    where = "WHERE f.path = ?" if path else ""
    return query(db, "SELECT e.line, strftime(e.ts, '%Y-%m-%dT%H:%M:%S.%fZ'), e.ts_quality, e.host, e.message "
                     f"FROM events e JOIN files f USING (file_id) {where} ORDER BY f.file_id, e.line",
                 [path] if path else [])


# ---------------------------------------------------------------------------------------------
# forensics sql

def test_sql_on_missing_database_is_one_line_error(cli, tmp_path):
    r = cli("sql", "SELECT 1", "--db", "nowhere.duckdb")
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert "nowhere.duckdb" in line
    assert r.stdout == ""
    assert not (tmp_path / "nowhere.duckdb").exists()  # a query does not create a database


@pytest.mark.parametrize("sql,words", [
    ("SELEC count(*) FROM events", "syntax error"),
    ("SELECT count(*) FROM no_such_table", "no_such_table"),
    ("SELECT no_such_column FROM events", "no_such_column"),
    ("SELECT 'abc'::INTEGER", "abc"),
], ids=["syntax", "unknown_table", "unknown_column", "conversion"])
def test_sql_error_is_one_line(cli, incident_db, sql, words):
    r = cli("sql", sql, "--db", incident_db.name)
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert words in line
    assert "Traceback" not in r.stderr
    assert r.stdout == ""


def test_sql_json_output_parses_back(cli, incident_db):
    r = cli("sql", ROWS_SQL, "--db", incident_db.name, "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data == [dict(zip(COLUMNS, row)) for row in EXPECTED_ROWS]
    assert isinstance(data[0]["pid"], int) and data[0]["severity"] is None and data[3]["severity"] == 3


def test_sql_csv_output_parses_back(cli, incident_db):
    r = cli("sql", ROWS_SQL, "--db", incident_db.name, "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == COLUMNS
    assert rows[1:] == [["" if v is None else str(v) for v in row] for row in EXPECTED_ROWS]


def test_sql_columns_with_the_same_name_keep_their_own_values(cli, tmp_path):
    # journal_json file: line 1 an entry, line 2 a line cut in half (a reject at line 2)
    write(tmp_path / "j/journal.json",
          '{"__REALTIME_TIMESTAMP":"1716906912123456","_HOSTNAME":"web1","MESSAGE":"ok"}\n'
          '{"__REALTIME_TIMESTAMP":"17169069')
    assert cli("ingest", "j", "--db", "j.duckdb").returncode == 0
    r = cli("sql", "SELECT e.line, r.line, e.ts, r.reason FROM events e JOIN rejects r USING (file_id)",
            "--db", "j.duckdb", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["line", "line", "ts", "reason"]
    assert rows[1][:3] == ["1", "2", "2024-05-28T14:35:12.123456Z"]


@pytest.mark.parametrize("sql", ["INSERT INTO files (file_id, path) VALUES (99, 'x')",
                                 "DROP TABLE events"], ids=["insert", "drop"])
def test_sql_opens_the_database_read_only(cli, incident_db, sql):
    before = query(incident_db, "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM events)")
    assert before == [(2, 4)]
    r = cli("sql", sql, "--db", incident_db.name)
    assert r.returncode == 1
    line = one_error_line(r.stderr)
    assert "read-only" in line or "read only" in line, line
    assert query(incident_db, "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM events)") == before


def test_ingest_while_another_process_writes_the_database(cli, tmp_path, incident_db):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time\n"
                               "con = duckdb.connect(sys.argv[1])\n"
                               "con.execute('SELECT count(*) FROM events').fetchall()\n"
                               "print('ready', flush=True)\n"
                               "time.sleep(60)\n", str(incident_db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        write(tmp_path / "more/extra.log", bsd("May 28 14:40:00", "web1", "node[812]", "later"))
        r = cli("ingest", "more", "--db", incident_db.name)
        assert r.returncode == 1
        line = one_error_line(r.stderr)
        assert "in use" in line and str(holder.pid) in line, line
        r = cli("sql", "SELECT 1", "--db", incident_db.name)  # reading is refused too, as one line
        assert r.returncode == 1
        one_error_line(r.stderr)
    finally:
        holder.kill()
        holder.wait()
    # once the other process is gone, the same command works and the database is intact
    r = cli("ingest", "more", "--db", incident_db.name)
    assert r.returncode == 0, r.stderr
    assert query(incident_db, "SELECT count(*) FROM events") == [(5,)]


def test_formats_lists_every_format(cli):
    r = cli("formats")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    sep = next(i for i, l in enumerate(lines) if l.startswith("---"))
    listed = [l.split()[0] for l in lines[sep + 1:] if l.strip() and not l.startswith("(")]
    assert set(listed) == set(parsers.FORMATS) | {"journal_native"}
    assert len(listed) == len(set(listed))


# ---------------------------------------------------------------------------------------------
# Ingesting again

def test_reingesting_the_same_file_adds_nothing(cli, tmp_path, incident_db):
    before = query(incident_db, "SELECT file_id, event_id, line, message FROM events ORDER BY event_id")
    files_before = query(incident_db, "SELECT file_id, path, sha256, lines FROM files ORDER BY file_id")
    r = cli("ingest", "inc", "--db", incident_db.name, "--year", "2024")
    assert r.returncode == 0, r.stderr
    summary = [l for l in r.stdout.splitlines() if l.startswith("inc/")]
    assert len(summary) == 2 and all("unchanged" in l for l in summary), r.stdout
    assert query(incident_db, "SELECT file_id, event_id, line, message FROM events ORDER BY event_id") == before
    assert query(incident_db, "SELECT file_id, path, sha256, lines FROM files ORDER BY file_id") == files_before


def test_appended_lines_are_added_once_with_their_line_numbers(cli, tmp_path):
    log = write(tmp_path / "b/syslog", bsd("May 28 14:35:12", "web1", "node[812]", "one")
                + bsd("May 28 14:35:13", "web1", "node[812]", "two")
                + bsd("May 28 14:35:14", "web1", "node[812]", "three"))
    assert cli("ingest", "b", "--db", "t.duckdb", "--year", "2024").returncode == 0
    db = tmp_path / "t.duckdb"
    ids_before = query(db, "SELECT line, event_id FROM events ORDER BY line")
    with open(log, "a") as f:
        f.write(bsd("May 28 14:35:15", "web1", "node[812]", "four")
                + bsd("May 28 14:35:16", "web1", "node[812]", "five"))
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    assert "appended" in r.stdout
    assert events(db) == [
        (1, "2024-05-28T14:35:12.000000Z", "year_inferred", "web1", "one"),
        (2, "2024-05-28T14:35:13.000000Z", "year_inferred", "web1", "two"),
        (3, "2024-05-28T14:35:14.000000Z", "year_inferred", "web1", "three"),
        (4, "2024-05-28T14:35:15.000000Z", "year_inferred", "web1", "four"),
        (5, "2024-05-28T14:35:16.000000Z", "year_inferred", "web1", "five"),
    ]
    f = file_rows(db)["b/syslog"]
    assert (f["lines"], f["events"], f["rejected"], f["status"]) == (5, 5, 0, "ingested")
    assert query(db, "SELECT line, event_id FROM events WHERE line <= 3 ORDER BY line") == ids_before
    assert query(db, "SELECT count(DISTINCT event_id) FROM events") == [(5,)]
    assert_lines_accounted(db)
    # and a third run with nothing new adds nothing
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    assert "unchanged" in r.stdout and query(db, "SELECT count(*) FROM events") == [(5,)]


def test_a_last_line_completed_later_is_read_again_whole(cli, tmp_path):
    # the first ingest sees the file while the writer is in the middle of line 2
    log = write(tmp_path / "b/syslog", bsd("May 28 14:35:12", "web1", "node[812]", "one")
                + "May 28 14:35:13 web1 node[812]: tw")
    assert cli("ingest", "b", "--db", "t.duckdb", "--year", "2024").returncode == 0
    db = tmp_path / "t.duckdb"
    assert [e[4] for e in events(db)] == ["one", "tw"]
    with open(log, "a") as f:
        f.write("o and a half\n" + bsd("May 28 14:35:14", "web1", "node[812]", "three"))
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    assert [(e[0], e[4]) for e in events(db)] == [(1, "one"), (2, "two and a half"), (3, "three")]
    assert file_rows(db)["b/syslog"]["lines"] == 3
    assert_lines_accounted(db)


# ---------------------------------------------------------------------------------------------
# An ingest killed halfway

KILL_SCRIPT = """
import os, signal, sys
import forensics.kernel as kernel
from forensics.cli import main

combine = kernel.combine_oom   # runs after a file's events are written, inside its transaction
def combine_then_die(con, file_id, first_line=1):
    n = combine(con, file_id, first_line)
    if file_id == 2:  # the second file's events are written, its transaction is not committed
        os.kill(os.getpid(), signal.SIGKILL)
    return n
kernel.combine_oom = combine_then_die
sys.argv = ["forensics"] + sys.argv[1:]
main()
"""


def make_kill_bundle(root: Path, sizes: dict[str, int]) -> dict[str, list[str]]:
    msgs = {}
    for name, n in sizes.items():
        msgs[name] = [f"{name} request {i} done" for i in range(n)]
        write(root / name, "".join(bsd(f"May 28 14:{(i // 60) % 60:02d}:{i % 60:02d}", "web1", "node[812]", m)
                                   for i, m in enumerate(msgs[name])))
    return msgs


def check_complete(db: Path, msgs: dict[str, list[str]], prefix: str) -> None:
    rows = file_rows(db)  # each path once
    assert set(rows) == {prefix + n for n in msgs}
    for name, m in msgs.items():
        f = rows[prefix + name]
        assert (f["status"], f["lines"], f["events"], f["rejected"]) == ("ingested", len(m), len(m), 0), f
        got = query(db, "SELECT line, message FROM events WHERE file_id = ? ORDER BY line", [f["file_id"]])
        assert got == [(i + 1, x) for i, x in enumerate(m)]
    assert_lines_accounted(db)


def test_ingest_killed_inside_a_file_leaves_no_half_file(cli, tmp_path):
    msgs = make_kill_bundle(tmp_path / "bundle", {"a.log": 3, "b.log": 2000, "c.log": 5})
    p = subprocess.run([sys.executable, "-c", KILL_SCRIPT, "ingest", "bundle", "--db", "k.duckdb"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == -signal.SIGKILL, p.stderr
    db = tmp_path / "k.duckdb"
    con = duckdb.connect(str(db))  # plain connect after the crash
    try:
        assert con.execute("SELECT path, status, lines FROM files").fetchall() == [("bundle/a.log", "ingested", 3)]
        assert con.execute("SELECT file_id, count(*) FROM events GROUP BY ALL").fetchall() == [(1, 3)]
        assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(0,)]
    finally:
        con.close()
    r = cli("ingest", "bundle", "--db", "k.duckdb")
    assert r.returncode == 0, r.stderr
    check_complete(db, msgs, "bundle/")
    duckdb.connect(str(db)).close()


def test_ingest_killed_at_any_moment_can_be_run_again(cli, tmp_path):
    msgs = make_kill_bundle(tmp_path / "bundle", {f"app{i}.log": 40000 for i in range(4)})
    db = tmp_path / "k.duckdb"
    p = subprocess.Popen([*CLI, "ingest", "bundle", "--db", "k.duckdb"], cwd=tmp_path,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not db.exists() and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.01)
        time.sleep(0.6)
        killed = p.poll() is None
        p.send_signal(signal.SIGKILL)
    finally:
        p.wait()
    if not killed:
        pytest.skip("the ingest finished before it could be killed")
    con = duckdb.connect(str(db))  # plain connect after kill -9
    con.close()
    assert_lines_accounted(db)  # what was committed is whole
    for path, f in file_rows(db).items():
        assert f["status"] == "ingested" and f["lines"] == 40000, (path, f)
    r = cli("ingest", "bundle", "--db", "k.duckdb")
    assert r.returncode == 0, r.stderr
    check_complete(db, msgs, "bundle/")
    duckdb.connect(str(db)).close()


# ---------------------------------------------------------------------------------------------
# Host, zone and year

HOST_LOG = (bsd("May 28 14:35:12", "app3", "node[812]", "host in the record")
            + bsd("May 28 14:35:13", "localhost", "node[812]", "localhost")
            + bsd("May 28 14:35:14", "localhost.localdomain", "kernel", "localhost.localdomain")
            + bsd("May 28 14:35:15", "app3", "node[812]", "app3 again"))


@pytest.mark.parametrize("arg", ["web1", "incident"], ids=["host_folder", "bundle_of_one_host"])
def test_host_comes_from_the_record_else_the_bundle_folder(cli, tmp_path, arg):
    base = tmp_path / "incident/web1" if arg == "incident" else tmp_path / "web1"
    write(base / "var/log/syslog", HOST_LOG)
    # a second host folder whose only log names no host: its events take the folder's name
    write(base.parent / "web2/var/log/nginx/access.log",
          '203.0.113.9 - - [28/May/2024:14:35:14 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.1"\n')
    r = cli("ingest", arg if arg == "incident" else ".", "--db", "t.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    # web1's records all name app3, so its lines from localhost (written before the hostname was set) are app3's
    assert [(e[3], e[4]) for e in events(db)][:4] == [("app3", "host in the record"), ("app3", "localhost"),
                                                      ("app3", "localhost.localdomain"), ("app3", "app3 again")]
    assert [e[3] for e in events(db)][4:] == ["web2"]
    path = "incident/web1/var/log/syslog" if arg == "incident" else "web1/var/log/syslog"
    assert file_rows(db)[path]["host"] == "app3"


def test_records_naming_several_hosts_leave_the_folder_name(cli, tmp_path):
    write(tmp_path / "web1/var/log/syslog", HOST_LOG + bsd("May 28 14:35:16", "db7", "mysqld[9]", "another host"))
    r = cli("ingest", "web1", "--db", "t.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    assert [e[3] for e in events(tmp_path / "t.duckdb")] == ["app3", "web1", "web1", "app3", "db7"]


def test_host_option_overrides_the_folder_name(cli, tmp_path):
    write(tmp_path / "web1/var/log/syslog", HOST_LOG)
    r = cli("ingest", "web1", "--db", "t.duckdb", "--year", "2024", "--host", "X")
    assert r.returncode == 0, r.stderr
    assert [e[3] for e in events(tmp_path / "t.duckdb")] == ["app3", "X", "X", "app3"]


def berlin_bundle(tmp_path: Path) -> Path:
    write(tmp_path / "web1/etc/timezone", "Europe/Berlin\n")
    log = write(tmp_path / "web1/var/log/syslog", bsd("Jan 15 09:00:00", "web1", "node[812]", "winter")
                + bsd("May 28 14:35:12", "web1", "node[812]", "summer"))
    set_mtime(log, 2024, 6, 10)  # the year comes from the file's date: both dates are before June 10 2024
    return log


def test_bundle_timezone_reads_yearless_lines_as_local_time(cli, tmp_path):
    berlin_bundle(tmp_path)
    r = cli("ingest", "web1", "--db", "t.duckdb")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    assert events(db) == [
        # Berlin in January is CET, UTC+1: 09:00 -> 08:00Z
        (1, "2024-01-15T08:00:00.000000Z", "year_inferred", "web1", "winter"),
        # Berlin in May is CEST, UTC+2: 14:35:12 -> 12:35:12Z
        (2, "2024-05-28T12:35:12.000000Z", "year_inferred", "web1", "summer"),
    ]
    assert file_rows(db)["web1/var/log/syslog"]["tz"] == "Europe/Berlin"


def test_tz_option_overrides_the_bundle_timezone(cli, tmp_path):
    berlin_bundle(tmp_path)
    r = cli("ingest", "web1", "--db", "t.duckdb", "--tz", "America/New_York")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    assert events(db) == [
        # New York in January is EST, UTC-5: 09:00 -> 14:00Z
        (1, "2024-01-15T14:00:00.000000Z", "year_inferred", "web1", "winter"),
        # New York in May is EDT, UTC-4: 14:35:12 -> 18:35:12Z
        (2, "2024-05-28T18:35:12.000000Z", "year_inferred", "web1", "summer"),
    ]
    assert file_rows(db)["web1/var/log/syslog"]["tz"] == "America/New_York"


def test_unknown_tz_option_is_one_line_error(cli, tmp_path):
    berlin_bundle(tmp_path)
    r = cli("ingest", "web1", "--db", "t.duckdb", "--tz", "Mars/Olympus_Mons")
    assert r.returncode == 1
    assert "Mars/Olympus_Mons" in one_error_line(r.stderr)


def test_year_option_sets_the_year(cli, tmp_path):
    log = write(tmp_path / "b/syslog", bsd("May 28 14:35:12", "web1", "node[812]", "x"))
    set_mtime(log, 2024, 6, 10)
    assert cli("ingest", "b", "--db", "a.duckdb").returncode == 0
    assert events(tmp_path / "a.duckdb")[0][1] == "2024-05-28T14:35:12.000000Z"  # from the file's date
    assert cli("ingest", "b", "--db", "b.duckdb", "--year", "2023").returncode == 0
    assert events(tmp_path / "b.duckdb") == [(1, "2023-05-28T14:35:12.000000Z", "year_inferred", "web1", "x")]


NEW_YEAR = (bsd("Dec 31 23:59:58", "web1", "CRON[5]", "last of the year")
            + bsd("Jan  1 00:00:01", "web1", "CRON[5]", "first of the year")  # BSD pads the day: "Jan  1"
            + bsd("Jan  1 00:00:05", "web1", "CRON[5]", "second"))


def test_year_rolls_over_from_december_to_january_with_year_option(cli, tmp_path):
    write(tmp_path / "b/syslog", NEW_YEAR)
    assert "Jan  1 00:00:01" in NEW_YEAR
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2023")
    assert r.returncode == 0, r.stderr
    assert [e[1] for e in events(tmp_path / "t.duckdb")] == [
        "2023-12-31T23:59:58.000000Z", "2024-01-01T00:00:01.000000Z", "2024-01-01T00:00:05.000000Z"]


def test_year_rolls_over_from_december_to_january_by_file_date(cli, tmp_path):
    log = write(tmp_path / "b/syslog", NEW_YEAR)
    set_mtime(log, 2025, 1, 2)  # written on Jan 2 2025: December is 2024's
    assert cli("ingest", "b", "--db", "t.duckdb").returncode == 0
    assert [e[1] for e in events(tmp_path / "t.duckdb")] == [
        "2024-12-31T23:59:58.000000Z", "2025-01-01T00:00:01.000000Z", "2025-01-01T00:00:05.000000Z"]


def test_zoneless_rfc3339_line_without_any_stated_zone_is_utc_zone_assumed(cli, tmp_path):
    write(tmp_path / "b/syslog", "2024-05-28T14:35:12.5 web1 node[812]: no zone\n")
    assert cli("ingest", "b", "--db", "t.duckdb").returncode == 0
    assert events(tmp_path / "t.duckdb") == [(1, "2024-05-28T14:35:12.500000Z", "zone_assumed", "web1", "no zone")]


@pytest.mark.parametrize("how", ["etc_timezone", "tz_option"])
def test_zoneless_rfc3339_line_in_a_stated_zone_is_read_there_zone_assumed(cli, tmp_path, how):
    write(tmp_path / "web1/var/log/syslog", "2024-05-28T14:35:12 web1 node[812]: no zone\n")
    if how == "etc_timezone":
        write(tmp_path / "web1/etc/timezone", "Europe/Berlin\n")
        args = ()
    else:
        args = ("--tz", "Europe/Berlin")
    assert cli("ingest", "web1", "--db", "t.duckdb", *args).returncode == 0
    # 14:35:12 in Berlin in May (CEST, UTC+2) = 12:35:12Z; the zone is still not the record's own
    assert events(tmp_path / "t.duckdb") == [(1, "2024-05-28T12:35:12.000000Z", "zone_assumed", "web1", "no zone")]
