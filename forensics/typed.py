"""Typing rows already in the events table with the parsers' rules, for readers that load in bulk.

DuckDB reads journal exports and syslog files whole; the messages of the systemd manager and the OOM
daemons are then typed here by parsers.messages.classify, the function the Python readers call per
line, and the apps' output (a Node app's stdout and stderr, one entry per line) by
parsers.nestjs.AppStream, the reading parsers.messages.app_output gives the Python readers, so the
two readings agree.
"""
from __future__ import annotations

import json
from itertools import count
from pathlib import Path

import duckdb

from parsers.messages import APP_EXCLUDED, WATCHED, classify
from parsers.nestjs import ENTRY_ANCHOR, ENTRY_CANDIDATE, GAP_LINES, AppStream

from .bulkload import _q
from .ingest_util import read_spool, spool_rows


def classify_messages(con: duckdb.DuckDBPyConnection, file_id: int, first_line: int = 1) -> None:
    """Type the messages of the systemd manager and the OOM daemons of a file (parsers.messages), in one
    UPDATE; then the apps' output (:func:`classify_app_output`)."""
    watched = ", ".join(_q(p) for p in sorted(WATCHED))
    rows = con.execute(f"SELECT event_id, process, pid, message, unit FROM events WHERE file_id = ? AND line >= ? "
                       f"AND process IN ({watched})", [file_id, first_line]).fetchall()
    typed = []
    for event_id, process, pid, message, unit in rows:
        t = classify(process, message, unit)
        if t:
            if t.victim:
                process, pid = t.victim
            typed.append((event_id, t.kind, t.unit, process, pid, json.dumps(t.attrs) if t.attrs else None))
    if typed:
        path = spool_rows(typed)
        cols = {"event_id": "BIGINT", "kind": "VARCHAR", "unit": "VARCHAR", "process": "VARCHAR", "pid": "INTEGER",
                "extra": "VARCHAR"}
        try:
            con.execute(f"""
                UPDATE events SET kind = t.kind, unit = t.unit, process = t.process, pid = t.pid,
                       attrs = CASE WHEN t.extra IS NULL THEN events.attrs
                                    ELSE CAST(json_merge_patch(coalesce(events.attrs, '{{}}'), t.extra) AS JSON) END
                FROM {read_spool(path, cols)} t
                WHERE events.event_id = t.event_id""")
        finally:
            Path(path).unlink()
    classify_app_output(con, file_id, first_line)


def classify_app_output(con: duckdb.DuckDBPyConnection, file_id: int, first_line: int = 1) -> None:
    """Type the apps' output among a file's entries as parsers.messages.app_output does line by line.

    SQL picks the few entries that matter: ENTRY_CANDIDATE's (cheap regular expression), of processes with
    at least one entry that can be typed (ENTRY_ANCHOR), each numbered among all its process's entries so
    that Python sees where other entries fell between two of them.  An entry with several events (memory
    figures printed on one line) keeps the first; the others are added rows with ``nlines`` 0.
    """
    excluded = ", ".join(_q(p) for p in sorted(APP_EXCLUDED))
    rows = con.execute(f"""
        WITH e AS (
            SELECT event_id, line, host, process, pid, message,
                   kind = 'log' AND process NOT IN ({excluded}) AND regexp_matches(message, {_q(ENTRY_CANDIDATE)})
                     AS cand
            FROM events WHERE file_id = $f AND line >= $l AND process IS NOT NULL),
        s AS (SELECT DISTINCT host, process, pid FROM e WHERE cand AND regexp_matches(message, {_q(ENTRY_ANCHOR)}))
        SELECT event_id, line, host, process, pid, message, seq FROM (
            SELECT e.*, row_number() OVER (PARTITION BY e.host, e.process, e.pid ORDER BY e.line) AS seq
            FROM e SEMI JOIN s ON e.host IS NOT DISTINCT FROM s.host AND e.process = s.process
                               AND e.pid IS NOT DISTINCT FROM s.pid)
        WHERE cand ORDER BY line""", {"f": file_id, "l": first_line}).fetchall()
    if not rows:
        return
    streams: dict[tuple, AppStream] = {}
    decided: list[tuple] = []
    for event_id, line, host, process, pid, message, seq in rows:
        key = (host, process, pid)
        st = streams.get(key)
        if st is None:
            st = streams[key] = AppStream()
        elif seq != st.seq + 1 or line - st.last_line > GAP_LINES:
            st.gap()          # another entry of the process between, or too far
        st.feed(event_id, message)
        st.seq, st.last_line = seq, line
        decided.extend(st.take())
    for st in streams.values():
        st.gap()
        decided.extend(st.take())
    if not decided:
        return
    first: dict[int, tuple] = {}
    more: list[tuple] = []
    ordinal = count(con.execute("SELECT coalesce(max(event_id) & 4294967295, 0) FROM events WHERE file_id = ?",
                                [file_id]).fetchone()[0] + 1)
    for event_id, kind, attrs, sev in decided:
        row = (kind, sev, json.dumps(attrs, ensure_ascii=False, separators=(",", ":")) if attrs else None)
        if event_id not in first:
            first[event_id] = (event_id, *row)
        else:
            more.append((event_id, (file_id << 32) + next(ordinal), *row))
    cols = {"event_id": "BIGINT", "kind": "VARCHAR", "severity": "TINYINT", "extra": "VARCHAR"}
    merged = ("CASE WHEN t.extra IS NULL THEN {0}.attrs "
              "ELSE CAST(json_merge_patch(coalesce({0}.attrs, '{{}}'), t.extra) AS JSON) END")
    if more:
        path = spool_rows(more)
        try:
            con.execute(f"""
                INSERT INTO events BY NAME
                SELECT t.new_id AS event_id, e.ts, e.ts_quality, e.host, e.source, t.kind,
                       coalesce(t.severity, e.severity) AS severity, e.unit, e.process, e.pid, e.message, e.file_id,
                       e.line, e.line_end, 0 AS nlines, {merged.format('e')} AS attrs
                FROM events e JOIN {read_spool(path, {'event_id': 'BIGINT', 'new_id': 'BIGINT', **{k: v for k, v in cols.items() if k != 'event_id'}})} t
                  ON e.event_id = t.event_id""")
        finally:
            Path(path).unlink()
    path = spool_rows(list(first.values()))
    try:
        con.execute(f"""
            UPDATE events SET kind = t.kind, severity = coalesce(t.severity, events.severity),
                   attrs = {merged.format('events')}
            FROM {read_spool(path, cols)} t
            WHERE events.event_id = t.event_id""")
    finally:
        Path(path).unlink()
