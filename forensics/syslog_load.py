"""Syslog files (BSD and RFC 3339 headers), read by DuckDB.

The same reading as parsers.syslog's Python engine, which stays the
reference the tests hold this one equal to, but over whole files: header,
tag and pid by regular expressions, the year of a BSD date by the rule of
parsers.timeutil.YearGuesser, the host's zone by DuckDB's time zones, the
lines journalctl indents under a message folded into it.  The messages of
the systemd manager and the OOM daemons are typed afterwards in Python
(parsers.messages), like the journal's.
"""
from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from zoneinfo import ZoneInfo

import duckdb

from parsers.timeutil import MONTHS

from .bulkload import _q, raw_lines
from .typed import classify_messages

ISO_RE = (r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:?\d\d)? (\S+) (.*)$")
BSD_RE = (r"^(\pL{3,5}\.?|\d{1,2}[月월]) {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? (\S+) (.*)$")
TAG_RE = r"^([^\s\[\]:][^\s\[:]*?)(?:\[(\d+)\])?:(?: |$)"
KTIME_RE = r"^\[\s*(\d+)\.(\d+)\] ?"
REPEATED_RE = r"(?:last )?message repeated (\d+) times"
NO_HOST = ("localhost", "localhost.localdomain", "(none)", "-")


def _local(ts: str, tz: tzinfo) -> str:
    """SQL turning a naive local TIMESTAMP expression into TIMESTAMPTZ in zone tz."""
    if isinstance(tz, ZoneInfo):
        return f"timezone({_q(tz.key)}, {ts})"
    off = int(tz.utcoffset(None).total_seconds()) if tz.utcoffset(None) is not None else 0
    return f"({ts} - INTERVAL ({off}) SECOND)::TIMESTAMPTZ"


def _frac(g: str) -> str:
    """Microseconds from a fraction group of 1 to 9 digits."""
    return f"coalesce(TRY_CAST(rpad(left({g}, 6), 6, '0') AS INTEGER), 0)"


def load(con: duckdb.DuckDBPyConnection, path: str, file_id: int, source: str, host: str | None,
         tz: tzinfo, year: int | None, mtime: datetime | None, first_line: int = 1,
         first_ordinal: int = 0) -> tuple[int, int]:
    ref = (mtime or datetime.now(timezone.utc))
    con.execute(f"CREATE OR REPLACE TEMP TABLE s_raw AS SELECT l FROM {raw_lines(path)}")
    r0 = con.execute("SELECT coalesce(min(rowid), 0) FROM s_raw").fetchone()[0]
    con.execute("CREATE OR REPLACE TEMP TABLE s_months (name VARCHAR, month INTEGER)")
    con.executemany("INSERT INTO s_months VALUES (?, ?)", list(MONTHS.items()))
    # 1. headers: an RFC 3339 one where the line starts with a digit, a BSD one elsewhere
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_hdr AS
        SELECT (rowid - {r0} + {first_line})::INTEGER AS line, l,
               CASE WHEN regexp_matches(l, '^\\d{{4}}-') THEN regexp_extract(l, {_q(ISO_RE)},
                    ['y', 'mo', 'd', 'h', 'mi', 's', 'f', 'z', 'host', 'rest']) END AS i,
               CASE WHEN NOT regexp_matches(l, '^\\d{{4}}-') THEN regexp_extract(l, {_q(BSD_RE)},
                    ['mon', 'd', 'h', 'mi', 's', 'f', 'host', 'rest']) END AS b
        FROM s_raw""")
    month = ("CASE WHEN b.mon LIKE '%月' OR b.mon LIKE '%월' THEN TRY_CAST(left(b.mon, length(b.mon) - 1) AS INTEGER) "
             "ELSE coalesce((SELECT month FROM s_months WHERE name = lower(rtrim(b.mon, '.'))), "
             "(SELECT month FROM s_months WHERE name = left(lower(b.mon), 4)), "
             "(SELECT month FROM s_months WHERE name = left(lower(b.mon), 3))) END")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_bsd AS
        SELECT line, {month} AS mo, TRY_CAST(b.d AS INTEGER) AS d FROM s_hdr WHERE b.host <> ''""")
    if year is not None:   # --year: the first line's year, counting up at each month that goes back
        yexpr = (f"{year} + coalesce(sum(CASE WHEN mo < prev THEN 1 ELSE 0 END) "
                 f"OVER (ORDER BY line ROWS UNBOUNDED PRECEDING), 0)")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE s_year AS SELECT line, {yexpr} AS y
                        FROM (SELECT line, mo, lag(mo) OVER (ORDER BY line) AS prev FROM s_bsd WHERE mo IS NOT NULL)""")
    else:                  # against the file's date: a date after it (a day's slack) is of the year before
        con.execute(f"""CREATE OR REPLACE TEMP TABLE s_year AS SELECT line,
                        {ref.year} - CASE WHEN (mo, d) > ({ref.month}, {ref.day + 1}) THEN 1 ELSE 0 END AS y
                        FROM s_bsd WHERE mo IS NOT NULL""")
    iso_naive = (f"TRY(make_timestamp(i.y::BIGINT, i.mo::BIGINT, i.d::BIGINT, i.h::BIGINT, i.mi::BIGINT, "
                 f"i.s::DOUBLE + {_frac('i.f')} / 1e6))")
    iso_off = ("(CASE WHEN i.z = 'Z' THEN 0 ELSE (CASE WHEN left(i.z, 1) = '-' THEN -1 ELSE 1 END) * "
               "(TRY_CAST(substr(replace(i.z, ':', ''), 2, 2) AS INTEGER) * 3600 + "
               "TRY_CAST(substr(replace(i.z, ':', ''), 4, 2) AS INTEGER) * 60) END)")
    bsd_naive = (f"TRY(make_timestamp(y.y::BIGINT, m.mo::BIGINT, m.d::BIGINT, b.h::BIGINT, b.mi::BIGINT, "
                 f"b.s::DOUBLE + {_frac('b.f')} / 1e6))")
    # 2. each header line's time, host and the text after the time and host
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_ev AS
        SELECT h.line, h.l,
               CASE WHEN i.host <> '' THEN
                         CASE WHEN i.z <> '' THEN ({iso_naive} - INTERVAL ({iso_off}) SECOND)::TIMESTAMPTZ
                              ELSE {_local(iso_naive, tz)} END
                    ELSE {_local(bsd_naive, tz)} END AS ts,
               CASE WHEN i.host <> '' THEN (CASE WHEN i.z <> '' THEN 'exact' ELSE 'zone_assumed' END)
                    ELSE 'year_inferred' END AS ts_quality,
               coalesce(nullif(i.host, ''), b.host) AS host0,
               coalesce(nullif(i.host, ''), b.host) || ' ' || coalesce(nullif(i.rest, ''), b.rest, '') AS host_rest,
               coalesce(nullif(i.rest, ''), b.rest) AS rest0
        FROM s_hdr h LEFT JOIN s_bsd m USING (line) LEFT JOIN s_year y USING (line)
        WHERE (i.host <> '' AND TRY_CAST(i.mo AS INTEGER) BETWEEN 1 AND 12 AND TRY_CAST(i.d AS INTEGER) BETWEEN 1 AND 31)
           OR (b.host <> '' AND m.mo IS NOT NULL)""")
    con.execute("DELETE FROM s_ev WHERE ts IS NULL")
    # 3. a line whose tag came right after the time has no host; then the tag, the pid, the message
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE s_tag AS
        SELECT line, l, ts, ts_quality, host, rest,
               regexp_extract(rest, {_q(TAG_RE)}, ['ident', 'pid']) AS t,
               length(regexp_extract(rest, {_q(TAG_RE)})) AS tag_len
        FROM (SELECT line, l, ts, ts_quality,
                     CASE WHEN host0 LIKE '%:' OR host0 IN ({', '.join(_q(h) for h in NO_HOST)}) THEN NULL ELSE host0 END AS host,
                     CASE WHEN host0 LIKE '%:' THEN host_rest ELSE rest0 END AS rest
              FROM s_ev)""")
    # 4. indented lines under a message belong to it (journalctl's multi-line messages)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE s_lines AS
        SELECT h.line, h.l, e.line IS NOT NULL AS is_header,
               coalesce(e.line IS NULL AND (h.l LIKE ' %' OR h.l LIKE '\t%') AND trim(h.l, ' \t') <> '', false) AS is_cont
        FROM s_hdr h LEFT JOIN s_tag e USING (line)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE s_owner AS
        SELECT line, l, is_header, is_cont, owner FROM (
            SELECT line, l, is_header, is_cont,
                   max(CASE WHEN NOT is_cont THEN line END) OVER (ORDER BY line ROWS UNBOUNDED PRECEDING) AS brk
            FROM s_lines) x
        LEFT JOIN (SELECT line AS brk, line AS owner FROM s_lines WHERE is_header) o USING (brk)""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE s_cont AS
        SELECT owner, max(line) AS last, count(*) AS n, string_agg(l, chr(10) ORDER BY line) AS text
        FROM s_owner WHERE is_cont AND owner IS NOT NULL GROUP BY owner""")
    base = (file_id << 32) + first_ordinal
    message = "CASE WHEN tag_len > 0 THEN substr(rest, tag_len + 1) ELSE rest END"
    kernel = f"t.ident = 'kernel' AND regexp_matches({message}, {_q(KTIME_RE)})"
    con.execute(f"""
        INSERT INTO events BY NAME
        SELECT {base} + row_number() OVER (ORDER BY e.line) AS event_id, e.ts, e.ts_quality,
               coalesce(e.host, $host) AS host, $source AS source, 'log' AS kind,
               nullif(t.ident, '') AS process, TRY_CAST(nullif(t.pid, '') AS INTEGER) AS pid,
               CASE WHEN {kernel} THEN regexp_replace({message}, {_q(KTIME_RE)}, '') ELSE {message} END
                 || coalesce(chr(10) || c.text, '') AS message,
               $file_id AS file_id, e.line, coalesce(c.last, e.line) AS line_end, 1 + coalesce(c.n, 0) AS nlines,
               CASE WHEN {kernel} THEN json_object('monotonic_us',
                        TRY_CAST(regexp_extract({message}, {_q(KTIME_RE)}, 1) AS BIGINT) * 1000000
                        + {_frac(f"regexp_extract({message}, {_q(KTIME_RE)}, 2)")})
                    WHEN (nullif(t.ident, '') IS NULL OR t.ident = 'rsyslogd')
                         AND regexp_matches({message}, {_q(REPEATED_RE)})
                    THEN json_object('repeated', TRY_CAST(regexp_extract({message}, {_q(REPEATED_RE)}, 1) AS BIGINT))
               END AS attrs
        FROM s_tag e LEFT JOIN s_cont c ON c.owner = e.line""",
                {"host": host, "source": source, "file_id": file_id})
    not_a = _q("not a " + source.replace("_", " ") + " line")
    con.execute(f"""
        INSERT INTO rejects
        SELECT $file_id, line, CASE WHEN l IS NULL OR trim(l, ' \t') = '' THEN 'blank line' ELSE {not_a} END,
               coalesce(l, '')
        FROM s_owner WHERE NOT is_header AND NOT (is_cont AND owner IS NOT NULL)""", {"file_id": file_id})
    con.execute("DROP TABLE s_raw; DROP TABLE s_months; DROP TABLE s_hdr; DROP TABLE s_bsd; DROP TABLE s_year; "
                "DROP TABLE s_ev; DROP TABLE s_tag; DROP TABLE s_lines; DROP TABLE s_owner; DROP TABLE s_cont")
    classify_messages(con, file_id, first_line)
    return con.execute(
        "SELECT (SELECT count(*) FROM events WHERE file_id = $f AND line >= $l), "
        "(SELECT count(*) FROM rejects WHERE file_id = $f AND line >= $l)", {"f": file_id, "l": first_line}).fetchone()
