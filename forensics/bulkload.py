"""Runs a parser's BULK spec inside DuckDB over a whole file.

The file DuckDB reads must be clean text (valid UTF-8, no CR, no NUL): the
ingest pipeline hands over the original when it is, and a cleaned copy when
it is not.  Each line keeps its number: DuckDB's CSV reader, given a
delimiter that cannot occur, yields one row per line in order, blank lines
included (as NULL).
"""
from __future__ import annotations

import duckdb

import regex

_TYPES = {"int": "BIGINT", "float": "DOUBLE", "str": "VARCHAR"}


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def groups(pattern: str) -> list[str]:
    return list(regex.compile(pattern).groupindex)


def load(con: duckdb.DuckDBPyConnection, spec: dict, path: str, file_id: int, source: str,
         host: str, first_line: int = 1, first_ordinal: int = 0) -> tuple[int, int]:
    """Parse ``path`` (whose line 1 is the file's line ``first_line``) into events and rejects.

    Returns (events, rejects).
    """
    names = groups(spec["pattern"])
    pattern = "^(?:" + spec["pattern"] + ")$"
    ts_group, layout = spec["ts"]
    req = spec["required"]
    attrs_sql = "json_object(" + ", ".join(
        f"{_q(n)}, TRY_CAST(nullif(nullif(g.{n}, ''), '-') AS {_TYPES[t]})" for n, t in spec["attrs"].items()) + ")"
    # json_object keeps nulls; strip them so attrs hold only what the line says
    attrs_sql = f"CAST(json_merge_patch('{{}}', {attrs_sql}) AS JSON)"
    quality = "'exact'" if "%z" in layout or "%Z" in layout else "'zone_assumed'"
    base = (file_id << 32) + first_ordinal
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bulk_lines AS
        SELECT (row_number() OVER () + {first_line - 1})::INTEGER AS line, l,
               regexp_extract(l, {_q(pattern)}, [{', '.join(_q(n) for n in names)}]) AS g
        FROM read_csv({_q(path)}, columns={{'l': 'VARCHAR'}}, delim='\\0', quote='', escape='',
                      header=false, auto_detect=false, strict_mode=false, new_line='\\n')""")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE bulk_ok AS
        SELECT line, l, g, try_strptime(g.{ts_group}, {_q(layout)}) AS ts
        FROM bulk_lines WHERE g.{req} <> ''""")
    con.execute(f"""
        INSERT INTO events BY NAME
        SELECT {base} + row_number() OVER (ORDER BY line) AS event_id, ts::TIMESTAMPTZ AS ts,
               {quality} AS ts_quality, $host AS host, $source AS source, {_q(spec['kind'])} AS kind,
               {_q(spec['process']) if spec.get('process') else 'NULL'} AS process,
               l AS message, $file_id AS file_id, line, line AS line_end, {attrs_sql} AS attrs
        FROM bulk_ok WHERE ts IS NOT NULL""", {"host": host, "source": source, "file_id": file_id})
    n_events = con.execute("SELECT count(*) FROM bulk_ok WHERE ts IS NOT NULL").fetchone()[0]
    con.execute(f"""
        INSERT INTO rejects
        SELECT $file_id, line, CASE WHEN l IS NULL THEN 'blank line'
                                   ELSE 'unreadable timestamp ' || g.{ts_group} END, coalesce(l, '')
        FROM bulk_ok WHERE ts IS NULL
        UNION ALL
        SELECT $file_id, line, CASE WHEN l IS NULL THEN 'blank line' ELSE {_q('not a ' + source.replace('_', ' ') + ' line')} END,
               coalesce(l, '')
        FROM bulk_lines WHERE g.{req} = '' OR g.{req} IS NULL""", {"file_id": file_id})
    n_rejects = con.execute(f"SELECT (SELECT count(*) FROM bulk_lines) - {n_events}").fetchone()[0]
    con.execute("DROP TABLE bulk_lines; DROP TABLE bulk_ok")
    return n_events, n_rejects
