"""Runs a parser's BULK spec inside DuckDB over a whole file.

The file DuckDB reads must be clean text (valid UTF-8, no CR, no NUL): the
ingest pipeline hands over the original when it is, and a cleaned copy when
it is not.  DuckDB's CSV reader, given a delimiter that cannot occur, yields
one row per line in order, blank lines included (as NULL); the rows land in
a temporary table whose rowid is then the line number, which is much
cheaper than numbering them with a window.
"""
from __future__ import annotations

import duckdb
import regex

from .ingest_util import MAX_LINE

_TYPES = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"}


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def raw_lines(path: str) -> str:
    """A DuckDB table function call reading ``path`` as one VARCHAR column ``l``, a row per line."""
    return (f"read_csv({_q(path)}, columns={{'l': 'VARCHAR'}}, delim='\\0', quote='', escape='', "
            f"header=false, auto_detect=false, strict_mode=false, new_line='\\n', max_line_size={MAX_LINE})")


def load(con: duckdb.DuckDBPyConnection, spec: dict, path: str, file_id: int, source: str,
         host: str | None, first_line: int = 1, first_ordinal: int = 0) -> tuple[int, int]:
    """Parse ``path`` (whose line 1 is the file's line ``first_line``) into events and rejects.

    Returns (events, rejects).
    """
    names = list(regex.compile(spec["pattern"]).groupindex)
    pattern = _q("^(?:" + spec["pattern"] + ")$")
    ts_group, layout = spec["ts"]
    ts_expr = f"try_strptime(g.{ts_group}, {_q(layout)})"
    derived = spec.get("derived", {})

    def attr(n: str, t: str) -> str:
        v = f"TRY_CAST(nullif(nullif(g.{n}, ''), '-') AS {_TYPES[t]})" if n in names else "NULL"
        if n in derived:   # the same value written another way, looked for in another group
            group, rx, typ = derived[n]
            v = f"coalesce({v}, TRY_CAST(nullif(regexp_extract(g.{group}, {_q(rx)}, 1), '') AS {_TYPES[typ]}))"
        return v
    attrs = ", ".join(f"{_q(n)}, {attr(n, t)}" for n, t in spec["attrs"].items())
    # json_object keeps nulls; merging into {} drops them, so attrs hold only what the line says
    attrs_sql = f"CAST(json_merge_patch('{{}}', json_object({attrs})) AS JSON)"
    quality = "'exact'" if "%z" in layout or "%Z" in layout else "'zone_assumed'"
    line0 = first_line  # line number of the first row
    base = (file_id << 32) + first_ordinal + 1
    con.execute(f"CREATE OR REPLACE TEMP TABLE bulk_raw AS SELECT l FROM {raw_lines(path)}")
    # rowids are dense and in file order, but inside a transaction they start at a large base
    r0 = con.execute("SELECT coalesce(min(rowid), 0) FROM bulk_raw").fetchone()[0]
    line0 -= r0
    base -= r0
    params = {"host": host, "source": source, "file_id": file_id}
    # extracted once into a table: referenced in a projection, regexp_extract would run once per field
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bulk_parsed AS
        SELECT rowid AS r, l, regexp_extract(l, {pattern}, [{', '.join(_q(n) for n in names)}]) AS g FROM bulk_raw""")
    con.execute(f"""
        INSERT INTO events BY NAME
        SELECT ({base} + r)::BIGINT AS event_id, ts::TIMESTAMPTZ AS ts, {quality} AS ts_quality,
               $host AS host, $source AS source, {_q(spec['kind'])} AS kind,
               {_q(spec['process']) if spec.get('process') else 'NULL'} AS process,
               l AS message, $file_id AS file_id, (r + {line0})::INTEGER AS line,
               (r + {line0})::INTEGER AS line_end, 1 AS nlines, {attrs_sql} AS attrs
        FROM (SELECT r, l, g, {ts_expr} AS ts FROM bulk_parsed)
        WHERE g.{spec['required']} <> '' AND ts IS NOT NULL""", params)
    con.execute("DROP TABLE bulk_parsed")
    n_events = con.execute("SELECT count(*) FROM events WHERE file_id = ? AND line >= ?",
                           [file_id, first_line]).fetchone()[0]
    not_a_line = _q("not a " + source.replace("_", " ") + " line")
    con.execute(f"""
        INSERT INTO rejects
        SELECT $file_id, (rowid + {line0})::INTEGER, CASE WHEN l IS NULL THEN 'blank line' ELSE {not_a_line} END,
               coalesce(l, '')
        FROM bulk_raw WHERE l IS NULL OR NOT regexp_matches(l, {pattern})""", {"file_id": file_id})
    total = con.execute("SELECT count(*) FROM bulk_raw").fetchone()[0]
    n_rejects = con.execute("SELECT count(*) FROM rejects WHERE file_id = ? AND line >= ?",
                            [file_id, first_line]).fetchone()[0]
    if n_events + n_rejects < total:
        # lines of the right shape whose timestamp does not read: rare, so looked for only when present
        con.execute(f"""
            INSERT INTO rejects
            SELECT $file_id, (rowid + {line0})::INTEGER, 'unreadable timestamp', l FROM bulk_raw
            WHERE regexp_matches(l, {pattern})
              AND try_strptime(regexp_extract(l, {pattern}, {names.index(ts_group) + 1}), {_q(layout)}) IS NULL""",
                    {"file_id": file_id})
        n_rejects = total - n_events
    con.execute("DROP TABLE bulk_raw")
    return n_events, n_rejects
