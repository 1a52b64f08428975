"""Bad input never stops an ingest and never loses a line without saying so.

Each test puts one bad input next to a good syslog file (sorted after it, so
the bad one is read first) and runs ``forensics ingest`` in a subprocess.
The requirement for every bad input: no traceback, the other files are
ingested, the bad one shows up in ``files``/``rejects`` with a reason (or as
a one-line error), and every line read is accounted for:
files.lines = sum(nlines) over its events (line_end - line + 1 unless other events' lines
fall inside the span) + its rejects.
"""
from __future__ import annotations

import gzip
import os
import random
import re
import struct
import zlib
from pathlib import Path

import pytest

from .conftest import assert_lines_accounted, why_unreadable_impossible, file_rows, one_error_line, query, write

# A good rsyslog (RFC 3339) file.  Expected UTC times worked out by hand:
# 14:35:12.123456+02:00 = 12:35:12.123456Z; 14:35:13-04:00 = 18:35:13Z; 14:35:14Z stays.
GOOD_LINES = [
    "2024-05-28T14:35:12.123456+02:00 web1 node[812]: listening on :3000",
    "2024-05-28T14:35:13.000000-04:00 web1 systemd[1]: Started nest-api.service - Nest API.",
    "2024-05-28T14:35:14Z web1 CRON[4242]: (root) CMD (run-parts /etc/cron.hourly)",
]
GOOD = "".join(l + "\n" for l in GOOD_LINES)
# the message is what the program said, after the "name[pid]: " tag
GOOD_MSGS = ["listening on :3000", "Started nest-api.service - Nest API.", "(root) CMD (run-parts /etc/cron.hourly)"]
GOOD_TS = ["2024-05-28 12:35:12.123456", "2024-05-28 18:35:13.000000", "2024-05-28 14:35:14.000000"]


def assert_good_ingested(db: Path, path: str) -> None:
    f = file_rows(db)[path]
    assert (f["status"], f["format"], f["lines"], f["events"], f["rejected"]) == ("ingested", "syslog", 3, 3, 0)
    rows = query(db, "SELECT line, line_end, strftime(ts, '%Y-%m-%d %H:%M:%S.%f'), ts_quality, host, process, pid,"
                     " message, kind FROM events WHERE file_id = ? ORDER BY line", [f["file_id"]])
    assert [r[0] for r in rows] == [1, 2, 3]
    assert [r[1] for r in rows] == [1, 2, 3]
    assert [r[2] for r in rows] == GOOD_TS
    assert {r[3] for r in rows} == {"exact"}
    assert [(r[4], r[5], r[6]) for r in rows] == [("web1", "node", 812), ("web1", "systemd", 1),
                                                  ("web1", "CRON", 4242)]
    assert [r[7] for r in rows] == GOOD_MSGS
    assert [r[8] for r in rows] == ["log", "service_start", "log"]


def small_png() -> bytes:
    """A valid 1x1 grey PNG, built by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x80")) + chunk(b"IEND", b""))


def random_binary() -> bytes:
    data = bytearray(random.Random(20240528).randbytes(4096))
    data[100:110] = b"\x00" * 10  # NULs for sure
    return bytes(data)


def syslog_lines(n: int) -> tuple[list[str], list[str]]:
    """n distinct BSD syslog lines, one second apart from May 28 14:00:00, and their messages."""
    msgs = [f"request {i:06d} handled in 12 ms" for i in range(n)]
    return [f"May 28 14:{(i // 60) % 60:02d}:{i % 60:02d} web1 node[812]: {m}" for i, m in enumerate(msgs)], msgs


# ---------------------------------------------------------------------------------------------

def test_empty_file_is_skipped_with_reason(cli, tmp_path):
    write(tmp_path / "b/a_empty.log", b"")
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    f = file_rows(tmp_path / "t.duckdb")["b/a_empty.log"]
    assert (f["status"], f["lines"], f["events"], f["rejected"], f["bytes"]) == ("skipped", 0, 0, 0, 0)
    assert f["note"] == "empty file"
    assert "b/a_empty.log" in r.stdout and "skipped: empty file" in r.stdout
    assert_good_ingested(tmp_path / "t.duckdb", "b/zz_good.log")
    assert_lines_accounted(tmp_path / "t.duckdb")


@pytest.mark.parametrize("name,data", [("a_random.bin", random_binary()), ("a_image.png", small_png())],
                         ids=["random_bytes_with_nuls", "png"])
def test_binary_file_is_skipped_with_reason(cli, tmp_path, name, data):
    write(tmp_path / "b" / name, data)
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    f = file_rows(db)[f"b/{name}"]
    assert f["status"] == "skipped"
    assert f["note"] == "binary file, not a log"
    assert f["bytes"] == len(data)
    assert query(db, "SELECT count(*) FROM events WHERE file_id = ?", [f["file_id"]]) == [(0,)]
    assert query(db, "SELECT count(*) FROM rejects WHERE file_id = ?", [f["file_id"]]) == [(0,)]
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)


def test_invalid_utf8_and_nul_bytes_become_replacement_characters(cli, tmp_path):
    raw = (b"May 28 14:35:12 web1 node[812]: bad bytes \xff\xfe here\n"
           b"May 28 14:35:13 web1 node[812]: nul\x00inside\n"
           b"May 28 14:35:14 web1 node[812]: latin-1 caf\xe9 ok\n"
           b"May 28 14:35:15 web1 node[812]: cut UTF-8 \xe2\x98\n"
           b"May 28 14:35:16 web1 node[812]: fine \xe2\x98\x95\n")
    write(tmp_path / "b/a_bad.log", raw)
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    f = file_rows(db)["b/a_bad.log"]
    assert (f["status"], f["format"], f["lines"], f["events"], f["rejected"]) == ("ingested", "syslog", 5, 5, 0)
    rows = query(db, "SELECT line, strftime(ts, '%Y-%m-%d %H:%M:%S'), host, pid, message FROM events "
                     "WHERE file_id = ? ORDER BY line", [f["file_id"]])
    assert rows == [
        (1, "2024-05-28 14:35:12", "web1", 812, "bad bytes \ufffd\ufffd here"),
        (2, "2024-05-28 14:35:13", "web1", 812, "nul\ufffdinside"),
        (3, "2024-05-28 14:35:14", "web1", 812, "latin-1 caf\ufffd ok"),
        (4, "2024-05-28 14:35:15", "web1", 812, "cut UTF-8 \ufffd"),
        (5, "2024-05-28 14:35:16", "web1", 812, "fine \u2615"),
    ]
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)


def test_ten_megabyte_line_between_normal_lines(cli, tmp_path):
    big = b"dump " + b"x" * (10 * 1024 * 1024)  # the message of line 2
    write(tmp_path / "b/a_big.log", b"May 28 14:35:12 web1 node[812]: before\n"
                                    b"May 28 14:35:13 web1 node[812]: " + big + b"\n"
                                    b"May 28 14:35:14 web1 node[812]: after\n")
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    db = tmp_path / "t.duckdb"
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)
    f = file_rows(db)["b/a_big.log"]
    assert f["status"] == "ingested", f["note"]
    assert f["lines"] == 3
    ev = dict(query(db, "SELECT line, message FROM events WHERE file_id = ? AND line <> 2", [f["file_id"]]))
    assert ev == {1: "before", 3: "after"}
    # the huge line: kept whole as an event, or rejected with a reason
    big_ev = query(db, "SELECT length(message), strftime(ts, '%H:%M:%S') FROM events WHERE file_id = ? AND line = 2",
                   [f["file_id"]])
    big_rj = query(db, "SELECT reason FROM rejects WHERE file_id = ? AND line = 2", [f["file_id"]])
    assert big_ev == [(len(big), "14:35:13")] or (big_ev == [] and len(big_rj) == 1 and big_rj[0][0])
    assert r.returncode == 0


@pytest.mark.parametrize("n_lines", [40, 20000], ids=["small", "over_1MiB"])
def test_truncated_gzip_ingests_readable_part_as_partial(cli, tmp_path, n_lines):
    lines, msgs = syslog_lines(n_lines)
    data = "".join(l + "\n" for l in lines).encode()
    gz = gzip.compress(data, mtime=0)
    cut = gz[:-12]  # the 8-byte trailer and the last 4 bytes of deflate data are gone
    write(tmp_path / "b/syslog.2.gz", cut)
    write(tmp_path / "b/zz_good.log", GOOD)
    # What is readable, worked out independently with zlib (raises nothing on a truncated stream):
    readable = zlib.decompressobj(wbits=31).decompress(cut)
    assert data.startswith(readable) and len(readable) < len(data)
    n_complete = readable.count(b"\n")
    assert n_complete >= n_lines - 5  # nearly everything is readable

    r = cli("ingest", "b", "--db", "t.duckdb", "--year", "2024")
    db = tmp_path / "t.duckdb"
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)
    f = file_rows(db)["b/syslog.2.gz"]
    assert f["status"] == "partial"
    assert re.search(r"gzip", f["note"]) and re.search(r"ends early|truncated|unexpected end", f["note"]), f["note"]
    assert f["lines"] == n_complete + (0 if readable.endswith(b"\n") else 1)
    got = query(db, "SELECT line, message FROM events WHERE file_id = ? AND line <= ? ORDER BY line",
                [f["file_id"], n_complete])
    assert got == [(i + 1, msgs[i]) for i in range(n_complete)]
    assert "partial" in r.stdout


@pytest.mark.parametrize("where", ["middle", "last_line_without_newline"])
def test_journal_json_line_cut_in_half_is_rejected(cli, tmp_path, where):
    # 1716906912123456 us = 1716854400 s (2024-05-28 00:00:00Z: 19723 days to 2024-01-01 + 148) + 52512.123456 s
    # = 2024-05-28 14:35:12.123456Z; the others are 2 s and 3 s later.
    e1 = ('{"__REALTIME_TIMESTAMP":"1716906912123456","_HOSTNAME":"web1","_COMM":"node","_PID":"812",'
          '"PRIORITY":"6","_SYSTEMD_UNIT":"nest-api.service","MESSAGE":"listening on :3000"}')
    e3 = ('{"__REALTIME_TIMESTAMP":"1716906914000000","_HOSTNAME":"web1","_COMM":"node","_PID":"812",'
          '"PRIORITY":"3","_SYSTEMD_UNIT":"nest-api.service","MESSAGE":"Error: connect ECONNREFUSED"}')
    cut = '{"__REALTIME_TIMESTAMP":"1716906915000000","_HOSTNAME":"web1","_COMM":"node","MESSAGE":"half a li'
    if where == "middle":
        text, cut_line = e1 + "\n" + cut + "\n" + e3 + "\n", 2
        expect_events = [(1, "2024-05-28 14:35:12.123456", 6, "listening on :3000"),
                         (3, "2024-05-28 14:35:14.000000", 3, "Error: connect ECONNREFUSED")]
    else:
        text, cut_line = e1 + "\n" + e3 + "\n" + cut, 3
        expect_events = [(1, "2024-05-28 14:35:12.123456", 6, "listening on :3000"),
                         (2, "2024-05-28 14:35:14.000000", 3, "Error: connect ECONNREFUSED")]
    write(tmp_path / "b/a_journal.json", text)
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb")
    assert r.returncode == 0, r.stderr
    db = tmp_path / "t.duckdb"
    f = file_rows(db)["b/a_journal.json"]
    assert (f["format"], f["status"], f["lines"], f["events"], f["rejected"]) == ("journal_json", "ingested", 3, 2, 1)
    assert query(db, "SELECT line, strftime(ts, '%Y-%m-%d %H:%M:%S.%f'), severity, message FROM events "
                     "WHERE file_id = ? ORDER BY line", [f["file_id"]]) == expect_events
    assert query(db, "SELECT DISTINCT host, process, pid, unit FROM events WHERE file_id = ?",
                 [f["file_id"]]) == [("web1", "node", 812, "nest-api.service")]
    rejects = query(db, "SELECT line, reason, text FROM rejects WHERE file_id = ?", [f["file_id"]])
    assert len(rejects) == 1
    assert rejects[0][0] == cut_line
    assert rejects[0][1].startswith("invalid JSON")
    assert rejects[0][2] == cut
    assert "rejected lines and why" in r.stdout
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)


def test_unreadable_file_is_an_error_row_and_the_others_go_on(cli, tmp_path, unreadable_ok):
    secret = write(tmp_path / "b/a_secret.log", GOOD)
    secret.chmod(0)
    write(tmp_path / "b/zz_good.log", GOOD)
    r = cli("ingest", "b", "--db", "t.duckdb", unprivileged=True)
    assert r.returncode == 1  # a file could not be read: said on stderr, and in the exit code
    db = tmp_path / "t.duckdb"
    rows = file_rows(db)
    f = rows["b/a_secret.log"]
    assert f["status"] == "error"
    assert "cannot read" in f["note"] and "Permission denied" in f["note"], f["note"]
    assert (f["lines"], f["events"], f["rejected"]) == (0, 0, 0)
    assert "b/a_secret.log" in r.stdout and "cannot read" in r.stdout
    assert_good_ingested(db, "b/zz_good.log")
    assert_lines_accounted(db)


def test_missing_path_is_one_line_error_and_the_others_are_ingested(cli, tmp_path):
    write(tmp_path / "zz_good.log", GOOD)
    r = cli("ingest", "no/such/file.log", "zz_good.log", "--db", "t.duckdb")
    assert r.returncode == 1
    assert one_error_line(r.stderr) == "forensics: error: no/such/file.log: no such file or folder"
    assert list(file_rows(tmp_path / "t.duckdb")) == ["zz_good.log"]
    assert_good_ingested(tmp_path / "t.duckdb", "zz_good.log")
    assert_lines_accounted(tmp_path / "t.duckdb")


@pytest.fixture
def can_make_unreadable():
    if os.geteuid() != 0:
        return True
    return why_unreadable_impossible() is None


def test_bundle_of_every_bad_input_with_one_good_file(cli, tmp_path, can_make_unreadable):
    b = tmp_path / "bundle"
    write(b / "a_empty.log", b"")
    write(b / "b_random.bin", random_binary())
    write(b / "c_image.png", small_png())
    write(b / "d_badutf8.log", b"May 28 14:35:12 web1 node[812]: \xff\xfe\nMay 28 14:35:13 web1 node[812]: a\x00b\n")
    write(b / "e_big.log", b"May 28 14:35:12 web1 node[812]: before\nMay 28 14:35:13 web1 node[812]: "
          + b"y" * (10 * 1024 * 1024) + b"\nMay 28 14:35:14 web1 node[812]: after\n")
    write(b / "f_cut.json", '{"__REALTIME_TIMESTAMP":"1716906912123456","_HOSTNAME":"web1","MESSAGE":"ok"}\n'
                            '{"__REALTIME_TIMESTAMP":"17169069')
    write(b / "g_syslog.1.gz", gzip.compress("".join(l + "\n" for l in syslog_lines(50)[0]).encode(), mtime=0)[:-20])
    write(b / "m_good.log", GOOD)   # in the middle: bad files are read before and after it
    if can_make_unreadable:
        write(b / "s_secret.log", GOOD).chmod(0)
    write(b / "u_unknown.txt", "just some notes\nnot a log at all\n")
    (b / "z_dangling.log").symlink_to(b / "gone.log")

    r = cli("ingest", "bundle", "missing_dir", "--db", "t.duckdb", "--year", "2024", unprivileged=can_make_unreadable)
    db = tmp_path / "t.duckdb"
    assert r.returncode == 1  # the missing path, the dangling link and the unreadable file
    err = r.stderr.strip().splitlines()
    expected_err = ["forensics: error: missing_dir: no such file or folder",
                    "forensics: error: bundle/z_dangling.log: broken symbolic link"]
    if can_make_unreadable:
        expected_err.append("forensics: error: 1 file could not be read (status error above); the others were ingested")
    assert sorted(err) == sorted(expected_err), r.stderr

    rows = file_rows(db)  # also: each path once
    expected = {p.relative_to(tmp_path).as_posix() for p in b.iterdir() if not p.is_symlink()}
    assert set(rows) == expected
    for path, f in rows.items():
        assert f["status"] in ("ingested", "partial", "skipped", "error"), (path, f["status"])
        if f["status"] != "ingested":
            assert f["note"], f"{path} is {f['status']} without a reason"
        assert f["path"] in r.stdout  # each file has its line in the summary
    assert_good_ingested(db, "bundle/m_good.log")
    assert_lines_accounted(db)
    # the bad inputs that the pipeline does read as logs keep every line
    assert (rows["bundle/d_badutf8.log"]["lines"], rows["bundle/d_badutf8.log"]["events"]) == (2, 2)
    assert (rows["bundle/f_cut.json"]["lines"], rows["bundle/f_cut.json"]["events"],
            rows["bundle/f_cut.json"]["rejected"]) == (2, 1, 1)
    assert rows["bundle/a_empty.log"]["note"] == "empty file"
    assert rows["bundle/b_random.bin"]["note"] == rows["bundle/c_image.png"]["note"] == "binary file, not a log"
    assert rows["bundle/u_unknown.txt"]["status"] == "skipped"
    if can_make_unreadable:
        assert rows["bundle/s_secret.log"]["status"] == "error"
        assert "cannot read" in rows["bundle/s_secret.log"]["note"]


@pytest.mark.parametrize("first", ["empty", "unreadable"])
def test_file_skipped_or_failed_then_fixed_is_listed_once(cli, tmp_path, first, request):
    p = tmp_path / "b/syslog"
    if first == "empty":
        write(p, b"")
        r = cli("ingest", "b", "--db", "t.duckdb")
    else:
        request.getfixturevalue("unreadable_ok")
        write(p, GOOD).chmod(0)
        r = cli("ingest", "b", "--db", "t.duckdb", unprivileged=True)
    assert file_rows(tmp_path / "t.duckdb")["b/syslog"]["status"] in ("skipped", "error")
    write(p, GOOD).chmod(0o644)
    r = cli("ingest", "b", "--db", "t.duckdb")
    assert r.returncode == 0, r.stderr
    rows = query(tmp_path / "t.duckdb", "SELECT status FROM files WHERE path = 'b/syslog'")
    assert rows == [("ingested",)]
