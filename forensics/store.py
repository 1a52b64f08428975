"""The DuckDB file: tables files, events, rejects, and the batched writers.

Rows reach DuckDB in bulk: Python-parsed events are spooled to a temporary
CSV file and loaded with one ``read_csv`` per batch; bulk formats are parsed
by DuckDB itself (see bulkload).  Nothing is inserted row by row.
"""
from __future__ import annotations

import json
import os
import re
from typing import Iterable

import duckdb

from parsers.model import (CLOCK_FIX_COLUMNS, CLOCK_OFFSET_COLUMNS, EVENT_COLUMNS, FILE_COLUMNS, OOM_TASK_COLUMNS,
                           REJECT_COLUMNS, Event, Reject)

from . import ForensicsError
from .ingest_util import read_spool, spool_rows

DEFAULT_DB = "forensics.duckdb"
BATCH = 100_000


def ddl(name: str, columns: list[tuple[str, str, str]]) -> str:
    cols = ",\n  ".join(f"{n} {t}" for n, t, _ in columns)
    return f"CREATE TABLE IF NOT EXISTS {name} (\n  {cols}\n)"


def _comments(name: str, columns: list[tuple[str, str, str]]) -> list[str]:
    return [f"COMMENT ON COLUMN {name}.{n} IS '{doc.replace(chr(39), chr(39) * 2)}'" for n, _, doc in columns]


def connect(path: str | os.PathLike, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database; a lock held by another process is a one-line error."""
    path = str(path)
    if read_only and not os.path.exists(path):
        raise ForensicsError(f"no database at {path}: run 'forensics ingest BUNDLE --db {path}' first")
    try:
        con = duckdb.connect(path, read_only=read_only)
    except duckdb.IOException as e:
        msg = str(e)
        if "lock" in msg.lower():
            holder = re.search(r"held in (.+?) \(PID (\d+)\)", msg)
            who = f" ({holder.group(1)}, pid {holder.group(2)})" if holder else ""
            raise ForensicsError(f"database {path} is in use by another process{who}; wait for it or use another --db")
        raise ForensicsError(f"cannot open database {path}: {msg.splitlines()[0]}")
    except duckdb.Error as e:
        raise ForensicsError(f"cannot open database {path}: {str(e).splitlines()[0]}")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        # keeps ingest's memory flat: DuckDB spills to disk past this
        con.execute("SET memory_limit = '768MB'")
    if not read_only:
        create_schema(con)
    return con


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    fresh = not con.execute("SELECT 1 FROM information_schema.tables WHERE table_name = 'events'").fetchall()
    for name, cols in (("files", FILE_COLUMNS), ("events", EVENT_COLUMNS)):
        have = [r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                                          "ORDER BY ordinal_position", [name]).fetchall()]
        if have and have != [c[0] for c in cols]:
            raise ForensicsError(f"this database was written by another version of forensics (table {name} differs); "
                                 "ingest into a new --db file")
    con.execute(ddl("files", FILE_COLUMNS))
    con.execute(ddl("events", EVENT_COLUMNS))
    con.execute(ddl("rejects", REJECT_COLUMNS))
    con.execute(ddl("oom_tasks", OOM_TASK_COLUMNS))
    con.execute(ddl("clock_offsets", CLOCK_OFFSET_COLUMNS))
    con.execute(ddl("clock_fixes", CLOCK_FIX_COLUMNS))
    from importlib.resources import files as _files
    for name in ("views.sql", "incidents.sql"):   # incidents.sql builds on views.sql
        con.execute(_files("forensics").joinpath("sql", name).read_text())
    if fresh:
        for name, cols in (("files", FILE_COLUMNS), ("events", EVENT_COLUMNS), ("rejects", REJECT_COLUMNS),
                           ("oom_tasks", OOM_TASK_COLUMNS), ("clock_offsets", CLOCK_OFFSET_COLUMNS),
                           ("clock_fixes", CLOCK_FIX_COLUMNS)):
            for stmt in _comments(name, cols):
                con.execute(stmt)


# The spool file's columns, in order; source and file_id are constants of the load.
_SPOOL = ["event_id", "ts_us", "ts_quality", "host", "kind", "severity", "unit", "process", "pid",
          "message", "line", "line_end", "nlines", "attrs"]
_SPOOL_TYPES = {"event_id": "BIGINT", "ts_us": "BIGINT", "severity": "TINYINT", "pid": "INTEGER",
                "line": "INTEGER", "line_end": "INTEGER", "nlines": "INTEGER", "file_id": "INTEGER"}


def _columns(names: list[str]) -> dict[str, str]:
    return {n: _SPOOL_TYPES.get(n, "VARCHAR") for n in names}


class Loader:
    """Writes one file's Event and Reject records to the database in batches."""

    def __init__(self, con: duckdb.DuckDBPyConnection, file_id: int, source: str, host: str,
                 first_ordinal: int = 0, spool_dir: str | None = None):
        self.con, self.file_id, self.source, self.host = con, file_id, source, host
        self.ordinal = first_ordinal
        self.events = self.rejects = 0
        self.spool_dir = spool_dir

    def load(self, records: Iterable[Event | Reject]) -> None:
        ev_rows: list[tuple] = []
        rj_rows: list[tuple] = []
        base = self.file_id << 32
        dumps = json.dumps
        for r in records:
            if type(r) is Event:
                self.ordinal += 1
                msg = r.message
                if "\x00" in msg:
                    msg = msg.replace("\x00", "\ufffd")
                nl = r.line_end - r.line + 1 if r.nlines is None else r.nlines
                ev_rows.append((base + self.ordinal, r.ts_us, r.ts_quality, r.host, r.kind, r.severity,
                                r.unit, r.process, r.pid, msg, r.line, r.line_end, nl,
                                dumps(r.attrs, ensure_ascii=False, separators=(",", ":")) if r.attrs else None))
                if len(ev_rows) >= BATCH:
                    self._flush_events(ev_rows)
                    ev_rows = []
            else:
                rj_rows.append((self.file_id, r.line, r.reason, r.text.replace("\x00", "\ufffd")))
                if len(rj_rows) >= BATCH:
                    self._flush_rejects(rj_rows)
                    rj_rows = []
        if ev_rows:
            self._flush_events(ev_rows)
        if rj_rows:
            self._flush_rejects(rj_rows)

    def _spool(self, rows: list[tuple]) -> str:
        return spool_rows(rows, self.spool_dir)

    def _flush_events(self, rows: list[tuple]) -> None:
        path = self._spool(rows)
        try:
            self.con.execute(f"""
                INSERT INTO events BY NAME
                SELECT event_id, make_timestamp(ts_us)::TIMESTAMPTZ AS ts, ts_quality,
                       coalesce(host, $host) AS host, $source AS source, kind, severity, unit, process, pid,
                       message, $file_id AS file_id, line, line_end, nlines, attrs::JSON AS attrs
                FROM {read_spool(path, _columns(_SPOOL))}""", {"host": self.host, "source": self.source,
                                                    "file_id": self.file_id})
        finally:
            os.unlink(path)
        self.events += len(rows)

    def _flush_rejects(self, rows: list[tuple]) -> None:
        path = self._spool(rows)
        try:
            self.con.execute(f"INSERT INTO rejects SELECT * FROM "
                             f"{read_spool(path, _columns(['file_id', 'line', 'reason', 'text']))}")
        finally:
            os.unlink(path)
        self.rejects += len(rows)
