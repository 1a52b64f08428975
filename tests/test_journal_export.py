"""The export format's corners, read by the store's SQL reader and by the
Python reference parser, which must agree."""
from __future__ import annotations

import io

from parsers import journal_export
from parsers.context import Context
from parsers.model import Event

from .helpers import accounted, ingest

EXPORT = (
    b"__REALTIME_TIMESTAMP=1716906912000000\n_HOSTNAME=web1\nSYSLOG_IDENTIFIER=node\n_PID=812\nMESSAGE=hello\n\n"
    # a binary MESSAGE of 10 bytes: its length's first byte is a newline, the value holds one and ends in a non-UTF-8 byte
    b"__REALTIME_TIMESTAMP=1716906913000000\nSYSLOG_IDENTIFIER=node\nMESSAGE\n" + (10).to_bytes(8, "little")
    + b"two\nlines\xff\n_PID=813\n\n"
    b"garbage line without equals\n"
    b"_HOSTNAME=web1\nMESSAGE=no time\n\n"
    b"\n"
    b"__REALTIME_TIMESTAMP=1716906914000000\n_SYSTEMD_UNIT=nest-api.service\n_COMM=systemd\nUNIT=nest-api.service\n"
    b"MESSAGE=nest-api.service: Failed with result 'oom-kill'."
)


def test_sql_reader_and_reference_parser_agree(tmp_path):
    f = tmp_path / "bundle" / "web1" / "j.export"
    f.parent.mkdir(parents=True)
    f.write_bytes(EXPORT)
    con, (res,) = ingest(tmp_path, tmp_path / "bundle")
    assert res.format == "journal_export"
    rows = con.execute("SELECT line, line_end, epoch_us(ts), message, pid, process, kind, unit, host "
                       "FROM events ORDER BY line").fetchall()
    # worked out by hand from the bytes above
    assert rows == [
        (1, 6, 1716906912000000, "hello", 812, "node", "log", None, "web1"),
        (7, 14, 1716906913000000, "two\nlines\ufffd", 813, "node", "log", None, "web1"),
        (20, 24, 1716906914000000, "nest-api.service: Failed with result 'oom-kill'.", None, "systemd",
         "service_failed", "nest-api.service", "web1"),
    ]
    rejects = con.execute("SELECT line, reason FROM rejects ORDER BY line").fetchall()
    assert rejects == [
        (15, "not a FIELD=value line or binary field"),
        (16, "journal entry without __REALTIME_TIMESTAMP"),
        (17, "journal entry without __REALTIME_TIMESTAMP"),
        (18, "journal entry without __REALTIME_TIMESTAMP"),
        (19, "blank line outside a record"),
    ]
    assert accounted(con, res.file_id) == (24, 24)
    ref = [e for e in journal_export.parse(io.BytesIO(EXPORT), Context()) if isinstance(e, Event)]
    assert [(e.line, e.line_end, e.ts_us, e.message, e.pid, e.process, e.kind, e.unit) for e in ref] == \
        [r[:8] for r in rows]


def test_appended_export_reads_only_the_new_records(tmp_path):
    f = tmp_path / "j.export"
    first = EXPORT.split(b"garbage")[0]
    f.write_bytes(first)
    con, (res,) = ingest(tmp_path, f)
    assert (res.status, res.events) == ("ingested", 2)
    with open(f, "ab") as out:
        out.write(b"__REALTIME_TIMESTAMP=1716906999000000\nMESSAGE=later\n\n")
    from forensics.ingest import Options, ingest_paths
    (res2,), _ = ingest_paths(con, [str(f)], Options())
    assert res2.status == "appended"
    rows = con.execute("SELECT line, line_end, message FROM events ORDER BY line").fetchall()
    assert rows == [(1, 6, "hello"), (7, 14, "two\nlines\ufffd"), (15, 17, "later")]
    assert con.execute("SELECT count(DISTINCT event_id), count(*) FROM events").fetchone() == (3, 3)
    assert accounted(con, res.file_id) == (17, 17)
