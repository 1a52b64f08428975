"""The kernel's multi-line reports, put together after a file is loaded.

Every format yields one event per kernel message (dmesg, kern.log, the
journal's kernel transport).  This pass reads a file's kernel events in
line order, hands them to parsers.oom.assemble, and replaces the lines of
each OOM report with one ``oom_invoked`` event (the report, its task table
in ``oom_tasks``) and each kill with one ``oom_kill`` event, in the same
transaction as the file's load.  An event made of lines that other events
fall between keeps its span (line..line_end) and counts only its own lines
(nlines).
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb

from parsers.model import OOM_TASK_COLUMNS
from parsers.oom import KLine, assemble

from .ingest_util import read_spool, spool_rows

PAGE = 4096
_EVENT_COLS = {"event_id": "BIGINT", "kind": "VARCHAR", "line": "INTEGER", "line_end": "INTEGER",
               "nlines": "INTEGER", "message": "VARCHAR", "pid": "INTEGER", "process": "VARCHAR",
               "unit": "VARCHAR", "attrs": "VARCHAR"}
_TASK_TYPES = {n: t for n, t, _ in OOM_TASK_COLUMNS if t != "TIMESTAMPTZ"}


def combine_oom(con: duckdb.DuckDBPyConnection, file_id: int, first_line: int = 1) -> int:
    """Fold the file's OOM reports and kills into single events; returns how many events were made."""
    # most files hold no OOM at all: look for a report's or a kill's words before reading every
    # kernel line into Python
    if not con.execute(
            "SELECT 1 FROM events WHERE file_id = ? AND line >= ? AND process = 'kernel' "
            "AND (message LIKE '%invoked oom-killer%' OR message LIKE '%Kill% process%') LIMIT 1",
            [file_id, first_line]).fetchone():
        return 0
    rows = con.execute(
        "SELECT event_id, line, line_end, nlines, epoch_us(ts), message FROM events "
        "WHERE file_id = ? AND line >= ? AND process = 'kernel' ORDER BY line", [file_id, first_line]).fetchall()
    if not rows:
        return 0
    by_id = {r[0]: r for r in rows}
    groups = list(assemble(KLine(r[0], r[1], r[2], r[4], r[5]) for r in rows))
    if not groups:
        return 0
    made: list[tuple] = []
    tasks: list[tuple] = []
    last_report = None      # (event_id, tasks) of the report a kill follows
    for g in groups:
        members = [by_id[k] for k in g.keys]
        keep = members[0][0]   # the new event takes the id of its first line's event
        attrs = dict(g.attrs)
        attrs["origin"] = "kernel"      # process and pid become the victim's (or invoker's): say where it came from
        if g.kind == "oom_kill":
            pid, process = attrs.get("pid"), attrs.get("process")
            if last_report is not None and attrs.get("report_line") is not None:
                attrs["report_event_id"] = last_report[0]
                for t in last_report[1]:
                    t[1] = keep                     # kill_event_id
                    t[-1] = t[3] == pid             # victim: the row of the killed pid
        else:
            pid, process = attrs.get("invoker_pid"), attrs.get("invoker")
            last_report = (keep, [])
            for t in g.tasks:
                row = [keep, None, file_id] + [t.get(c) for c in
                       ("pid", "uid", "tgid", "total_vm_pages", "rss_pages", "rss_anon_pages", "rss_file_pages",
                        "rss_shmem_pages", "pgtables_bytes", "nr_ptes", "swapents", "oom_score_adj", "name")]
                row.append(t["rss_pages"] * PAGE if t.get("rss_pages") is not None else None)
                row.append(False)       # victim: set when the kill comes
                last_report[1].append(row)
            tasks.extend(last_report[1])
        made.append((keep, g.kind, min(m[1] for m in members), max(m[2] for m in members),
                     sum(m[3] for m in members), "\n".join(m[5] or "" for m in members), pid, process,
                     attrs.get("unit"), json.dumps(attrs, ensure_ascii=False)))
    # drop the member lines' events, then write the combined ones over the kept ids
    gone = [k for g in groups for k in g.keys]
    path = spool_rows([(k,) for k in gone])
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE oom_gone AS SELECT * FROM {read_spool(path, {'event_id': 'BIGINT'})}")
    finally:
        Path(path).unlink()
    con.execute("CREATE OR REPLACE TEMP TABLE oom_base AS SELECT * FROM events WHERE event_id IN (SELECT event_id FROM oom_gone)")
    con.execute("DELETE FROM events WHERE event_id IN (SELECT event_id FROM oom_gone)")
    path = spool_rows(made)
    try:
        con.execute(f"""
            INSERT INTO events BY NAME
            SELECT m.event_id, b.ts, b.ts_quality, b.host, b.source, m.kind, b.severity, m.unit, m.process, m.pid,
                   m.message, b.file_id, m.line, m.line_end, m.nlines,
                   CAST(json_merge_patch(coalesce(b.attrs, '{{}}'), m.attrs) AS JSON) AS attrs
            FROM {read_spool(path, _EVENT_COLS)} m JOIN oom_base b USING (event_id)""")
    finally:
        Path(path).unlink()
    if tasks:
        names = ["event_id", "kill_event_id", "file_id", "pid", "uid", "tgid", "total_vm_pages", "rss_pages",
                 "rss_anon_pages", "rss_file_pages", "rss_shmem_pages", "pgtables_bytes", "nr_ptes", "swapents",
                 "oom_score_adj", "name", "rss_bytes", "victim"]
        path = spool_rows([tuple(t) for t in tasks])
        try:
            con.execute(f"""
                INSERT INTO oom_tasks BY NAME
                SELECT t.*, e.host, e.ts FROM {read_spool(path, {n: _TASK_TYPES[n] for n in names})} t
                JOIN events e USING (event_id)""")
        finally:
            Path(path).unlink()
    con.execute("DROP TABLE oom_gone; DROP TABLE oom_base")
    return len(made)
