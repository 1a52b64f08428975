"""Typing rows already in the events table with the parsers' rules, for readers that load in bulk.

DuckDB reads journal exports and syslog files whole; the messages of the systemd manager and the OOM
daemons are then typed here by parsers.messages.classify, the function the Python readers call per
line, so the two readings agree.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from parsers.messages import WATCHED, classify

from .bulkload import _q
from .ingest_util import read_spool, spool_rows


def classify_messages(con: duckdb.DuckDBPyConnection, file_id: int, first_line: int = 1) -> None:
    """Type the messages of the systemd manager and the OOM daemons of a file (parsers.messages), in one UPDATE."""
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
    if not typed:
        return
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
