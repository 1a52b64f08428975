"""``journalctl -o export`` files, read by DuckDB.

The export format is ``FIELD=value`` lines in records ended by a blank line;
DuckDB reads the lines, numbers records by counting separators, and pivots
the fields the event needs, at several times the speed of a Python loop.
The mapping of fields to columns is parsers.journal_fields' (the same tables
its Python reader uses, and the tests hold the two readings equal); the
systemd manager's messages are typed afterwards by parsers.systemd.classify.

Binary fields (``NAME\\n``, a 64-bit length, raw bytes, ``\\n``) are first
rewritten as ``NAME=text`` (newlines in the value kept as U+E00A), followed
by one padding field line for each newline the value held, so every line
keeps its number.
"""
from __future__ import annotations

import re
from pathlib import Path

import duckdb

from parsers import journal_fields as jf

from . import typed
from .bulkload import _q, raw_lines

PAD = b"__FORENSICS_PAD=\n"
NL = "\ue00a"            # stands for a newline inside a rewritten binary value
_HEADER = re.compile(rb"^[A-Za-z0-9_]+\n", re.M)
_MAX_FIELD = 64 << 20
CHUNK = 8 << 20


def _clean(b: bytes) -> bytes:
    if b.isascii() and b"\r" not in b and b"\x00" not in b:
        return b
    s = b.decode("utf-8", "replace").replace("\r", "\ufffd").replace("\x00", "\ufffd")
    return s.encode("utf-8")


def _headers(buf: bytes, end: int):
    """The binary-field name lines in buf[:end], in order: found from the NUL bytes of their 64-bit
    lengths (memchr-fast) rather than by a regular expression over every line; a length without a
    NUL (a value of 2^56 bytes or more) is beyond any journal field anyway."""
    seen = -1
    p = buf.find(b"\x00", 0, end + 8)
    while p >= 0:
        # the name line ends at a newline among the 8 bytes before this NUL
        for c in range(max(p - 8, 0), p):
            if buf[c] != 0x0A or c <= seen:
                continue
            start = buf.rfind(b"\n", 0, c) + 1
            m = _HEADER.match(buf, start, c + 1)
            if m and start < end:
                seen = c
                yield m
                break
        p = buf.find(b"\x00", p + 1, end + 8)


def textify(src: Path, dst: Path, offset: int = 0) -> None:
    """Copy an export file from ``offset`` as clean text lines, binary fields rewritten (see above)."""
    with open(src, "rb") as f, open(dst, "wb") as out:
        f.seek(offset)
        buf = b""
        eof = False
        while True:
            if not eof and len(buf) < CHUNK:
                more = f.read(CHUNK)
                eof = not more
                buf += more
            if not buf:
                break
            # work up to the last complete line; keep the rest for the next round
            end = len(buf) if eof else buf.rfind(b"\n") + 1
            if end == 0:          # a line longer than the buffer: read on
                if eof:
                    end = len(buf)
                else:
                    more = f.read(CHUNK)
                    eof = not more
                    buf += more
                    continue
            pos = 0
            need_more = False
            for m in _headers(buf, end):
                if m.start() < pos:
                    continue      # inside a value already consumed
                hdr_end = m.end()
                if len(buf) < hdr_end + 8 and not eof:
                    need_more = True
                    break
                size = int.from_bytes(buf[hdr_end:hdr_end + 8], "little") if len(buf) >= hdr_end + 8 else -1
                if size < 0 or size > _MAX_FIELD:
                    continue      # not a binary field after all: left as a line without '='
                stop = hdr_end + 8 + size + 1
                if stop > len(buf):
                    if eof:
                        continue  # the file ends inside the value: left as it is, rejected line by line
                    need_more = True
                    break
                out.write(_clean(buf[pos:m.start()]))
                raw = buf[hdr_end:stop]                 # length, value, newline: the lines they hold
                value = buf[hdr_end + 8:stop - 1]
                text = value.decode("utf-8", "replace").replace("\x00", "\ufffd").replace("\r", "\ufffd")
                out.write(m.group()[:-1] + b"=" + text.replace("\n", NL).encode("utf-8") + b"\n")
                out.write(PAD * raw.count(b"\n"))
                pos = stop
            if need_more:
                out.write(_clean(buf[pos:m.start()]))
                buf = buf[m.start():]
                more = f.read(CHUNK)
                eof = not more
                buf += more
                continue
            if pos < end:
                out.write(_clean(buf[pos:end]))
                pos = end
            buf = buf[pos:]
            if eof and not buf:
                break


def _col(name: str) -> str:
    return '"' + name + '"'


def _ts(prefix: str = "") -> str:
    """The event time, as journalctl shows it: the source's stamp, else journald's."""
    return (f"coalesce(TRY_CAST({prefix}{_col('_SOURCE_REALTIME_TIMESTAMP')} AS BIGINT), "
            f"TRY_CAST({prefix}{_col('__REALTIME_TIMESTAMP')} AS BIGINT))")


def load(con: duckdb.DuckDBPyConnection, path: str, file_id: int, source: str, host: str | None,
         first_line: int = 1, first_ordinal: int = 0) -> tuple[int, int]:
    """Events and rejects of a textified export file whose line 1 is the file's ``first_line``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE j_raw AS SELECT l FROM {raw_lines(path)}")
    r0 = con.execute("SELECT coalesce(min(rowid), 0) FROM j_raw").fetchone()[0]
    sep = "(l IS NULL OR strpos(l, '=') = 0)"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE j_lines AS
        SELECT (rowid - {r0} + {first_line})::INTEGER AS line, l, {sep} AS sep,
               coalesce(sum({sep}::INTEGER) OVER (ORDER BY rowid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0)
                 AS rec
        FROM j_raw""")
    pivot = ", ".join(f"max(v) FILTER (WHERE k = {_q(f)}) AS {_col(f)}" for f in jf.FIELDS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE j_rec AS
        SELECT rec, min(line) FILTER (WHERE NOT sep) AS first, max(line) FILTER (WHERE l IS NULL OR NOT sep) AS last,
               count(*) FILTER (WHERE NOT sep) AS nfields, {pivot}
        FROM (SELECT line, rec, l, sep, CASE WHEN NOT sep THEN split_part(l, '=', 1) END AS k,
                     CASE WHEN NOT sep THEN substr(l, strpos(l, '=') + 1) END AS v FROM j_lines)
        GROUP BY rec""")
    f = _col
    ts = _ts()
    received = f"TRY_CAST({f('__REALTIME_TIMESTAMP')} AS BIGINT)"
    ident = f"coalesce({f('SYSLOG_IDENTIFIER')}, {f('_COMM')})"
    attr_pairs = [f"{_q(a)}, {f(k)}" for k, a in jf.KEEP_TEXT.items()]
    attr_pairs += [f"{_q(a)}, TRY_CAST({f(k)} AS BIGINT)" for k, a in jf.KEEP_INT.items()]
    attr_pairs += [f"'received_us', CASE WHEN {received} <> {ts} THEN {received} END",
                   f"'comm', CASE WHEN {f('_COMM')} <> {ident} THEN {f('_COMM')} END"]
    attrs = f"CAST(json_merge_patch('{{}}', json_object({', '.join(attr_pairs)})) AS JSON)"
    unit = (f"CASE WHEN {ident} = 'systemd' AND {f('_TRANSPORT')} IS DISTINCT FROM 'kernel' "
            f"THEN coalesce({f('UNIT')}, {f('USER_UNIT')}, {f('_SYSTEMD_UNIT')}) "
            f"WHEN {f('_SYSTEMD_UNIT')} LIKE 'user@%' AND {f('_SYSTEMD_USER_UNIT')} IS NOT NULL "
            f"THEN {f('_SYSTEMD_USER_UNIT')} ELSE {f('_SYSTEMD_UNIT')} END")
    base = (file_id << 32) + first_ordinal
    con.execute(f"""
        INSERT INTO events BY NAME
        SELECT {base} + row_number() OVER (ORDER BY first) AS event_id, make_timestamp({ts})::TIMESTAMPTZ AS ts,
               'exact' AS ts_quality, coalesce({f('_HOSTNAME')}, $host) AS host, $source AS source, 'log' AS kind,
               TRY_CAST({f('PRIORITY')} AS TINYINT) AS severity, {unit} AS unit,
               CASE WHEN {f('_TRANSPORT')} = 'kernel' THEN 'kernel' ELSE {ident} END AS process,
               TRY_CAST(coalesce({f('_PID')}, {f('SYSLOG_PID')}) AS INTEGER) AS pid,
               replace(coalesce({f('MESSAGE')}, ''), '{NL}', chr(10)) AS message, $file_id AS file_id,
               first AS line, last AS line_end, last - first + 1 AS nlines, {attrs} AS attrs
        FROM j_rec WHERE nfields > 0 AND {ts} IS NOT NULL""", {"host": host, "source": source, "file_id": file_id})
    con.execute(f"""
        INSERT INTO rejects
        SELECT $file_id, j.line,
               CASE WHEN j.l IS NOT NULL AND j.sep THEN 'not a FIELD=value line or binary field'
                    WHEN r.nfields = 0 THEN 'blank line outside a record'
                    ELSE 'journal entry without __REALTIME_TIMESTAMP' END,
               coalesce(j.l, '')
        FROM j_lines j JOIN j_rec r USING (rec)
        WHERE (j.l IS NOT NULL AND j.sep) OR r.nfields = 0 OR {_ts('r.')} IS NULL""", {"file_id": file_id})
    con.execute("DROP TABLE j_raw; DROP TABLE j_lines; DROP TABLE j_rec")
    typed.classify_messages(con, file_id, first_line)
    n_ev, n_rj = con.execute(
        "SELECT (SELECT count(*) FROM events WHERE file_id = $f AND line >= $l), "
        "(SELECT count(*) FROM rejects WHERE file_id = $f AND line >= $l)", {"f": file_id, "l": first_line}).fetchone()
    return n_ev, n_rj
