"""One record, several files: link the copies to the one that counts.

Kernel records:

The same kernel message reaches dmesg, kern.log (or syslog, messages) and
the journal.  Each file keeps its event (provenance); all but one get
``duplicate_of`` = the event_id of the copy counted, which is the one with
the best clock: the journal; then dmesg's kernel times put on the wall clock
by the least delayed line of the boot (see align); then syslog files, whose
times carry the logger's delay (and whose replay of the ring buffer at
start-up can be minutes late); then ``dmesg -T`` and ``--time-format iso``,
which drift after a suspend; last, copies nothing could put on the wall
clock (matched by their kernel time alone).

Other messages: rsyslog forwards the journal into /var/log/syslog, so a
message of one process found in both within a second is one record, and the
journal's copy counts.
"""
from __future__ import annotations

import duckdb

_RANK = """CASE WHEN e.source LIKE 'journal%' THEN 0 WHEN e.ts_quality = 'monotonic_aligned' THEN 1
                WHEN e.ts IS NULL THEN 4 WHEN coalesce(e.attrs->>'ctime', 'false') = 'true' THEN 3 ELSE 2 END"""
_KMONO = "TRY_CAST(coalesce(e.attrs->>'source_monotonic_us', e.attrs->>'monotonic_us') AS BIGINT)"


def link(con: duckdb.DuckDBPyConnection) -> int:
    """Set duplicate_of across files for kernel lines and kernel OOM events; returns the links made."""
    con.execute("UPDATE events SET duplicate_of = NULL WHERE duplicate_of IS NOT NULL")
    # a kernel line: same host and text, and the same kernel time where both have one, else within a second
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kcopies AS
        SELECT e.event_id, e.file_id, e.host, e.message, e.ts, epoch(e.ts)::BIGINT AS sec, {_KMONO} AS kmono,
               {_RANK} AS rank, e.kind,
               coalesce(TRY_CAST(e.attrs->>'pid' AS INTEGER), TRY_CAST(e.attrs->>'victim_pid' AS INTEGER)) AS victim
        FROM events e
        WHERE (e.process = 'kernel' OR (e.kind IN ('oom_kill', 'oom_invoked') AND e.attrs->>'origin' = 'kernel'))
          AND (e.ts IS NOT NULL OR {_KMONO} IS NOT NULL)""")
    # Lines: equal text at equal kernel time; where one side has no kernel time, equal text within the
    # same or the next second. Every join has an equality key that keeps repeated messages from
    # multiplying (10,000 identical lines in two files must not make 10^8 pairs).
    # OOM events: the same victim at the same kernel time, or within 2 s.
    better = "(b.rank, b.file_id, b.event_id) < (a.rank, a.file_id, a.event_id)"
    # the same text at the same kernel time recurs in every boot (boot messages): where both copies
    # have a wall time, they must also be near in it
    same_boot = "a.ts IS NULL OR b.ts IS NULL OR abs(epoch(a.ts) - epoch(b.ts)) <= 600"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kpairs AS
        SELECT a.event_id AS dup, b.event_id AS keep, b.rank, b.file_id, 0.0 AS dt
        FROM kcopies a JOIN kcopies b
          ON a.host IS NOT DISTINCT FROM b.host AND a.message = b.message AND a.kmono = b.kmono
        WHERE a.kind NOT IN ('oom_kill', 'oom_invoked') AND b.kind = a.kind AND a.file_id <> b.file_id AND {better}
          AND ({same_boot})
        UNION ALL
        SELECT a.event_id, b.event_id, b.rank, b.file_id, coalesce(abs(epoch(a.ts) - epoch(b.ts)), 0.0)
        FROM (SELECT *, unnest([sec - 1, sec, sec + 1]) AS near FROM kcopies WHERE ts IS NOT NULL) a
        JOIN (SELECT * FROM kcopies WHERE kmono IS NULL AND ts IS NOT NULL) b
          ON a.host IS NOT DISTINCT FROM b.host AND a.message = b.message AND b.sec = a.near
        WHERE a.kind NOT IN ('oom_kill', 'oom_invoked') AND b.kind = a.kind AND a.file_id <> b.file_id
          AND abs(epoch(a.ts) - epoch(b.ts)) <= 1 AND {better}
        UNION ALL
        SELECT a.event_id, b.event_id, b.rank, b.file_id, coalesce(abs(epoch(a.ts) - epoch(b.ts)), 0.0)
        FROM (SELECT *, unnest([sec - 1, sec, sec + 1]) AS near FROM kcopies WHERE kmono IS NULL AND ts IS NOT NULL) a
        JOIN (SELECT * FROM kcopies WHERE kmono IS NOT NULL AND ts IS NOT NULL) b
          ON a.host IS NOT DISTINCT FROM b.host AND a.message = b.message AND b.sec = a.near
        WHERE a.kind NOT IN ('oom_kill', 'oom_invoked') AND b.kind = a.kind AND a.file_id <> b.file_id
          AND abs(epoch(a.ts) - epoch(b.ts)) <= 1 AND {better}
        UNION ALL
        SELECT a.event_id, b.event_id, b.rank, b.file_id, coalesce(abs(epoch(a.ts) - epoch(b.ts)), 0.0)
        FROM kcopies a JOIN kcopies b
          ON a.host IS NOT DISTINCT FROM b.host AND a.kind = b.kind AND a.victim IS NOT DISTINCT FROM b.victim
        WHERE a.kind IN ('oom_kill', 'oom_invoked') AND a.file_id <> b.file_id
          AND CASE WHEN a.kmono IS NOT NULL AND b.kmono IS NOT NULL THEN a.kmono = b.kmono AND ({same_boot})
                   ELSE abs(epoch(a.ts) - epoch(b.ts)) <= 2 END
          AND {better}""")
    # each copy points at the best of its twins (the nearest in time among equals), which has no better
    # twin itself
    con.execute("""
        UPDATE events SET duplicate_of = p.keep
        FROM (SELECT dup, arg_min(keep, (rank, dt, file_id, keep)) AS keep FROM kpairs GROUP BY dup) p
        WHERE events.event_id = p.dup""")
    con.execute("DROP TABLE kcopies; DROP TABLE kpairs")
    _link_forwarded(con)
    return con.execute("SELECT count(*) FROM events WHERE duplicate_of IS NOT NULL").fetchone()[0]


_SYSLOG_LIKE = "('journal_json', 'journal_export', 'journal_native', 'journal_short', 'syslog')"


def _link_forwarded(con: duckdb.DuckDBPyConnection) -> None:
    """rsyslog writes what the journal holds into /var/log/syslog: the same message of the same process,
    within a second, in a journal output and a syslog file is one record; the journal's copy counts."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ucopies AS
        SELECT event_id, file_id, host, process, pid, message, ts, epoch(ts)::BIGINT AS sec,
               CASE WHEN source LIKE 'journal%' THEN 0 ELSE 1 END AS rank
        FROM events
        WHERE source IN {_SYSLOG_LIKE} AND process IS DISTINCT FROM 'kernel' AND ts IS NOT NULL
          AND duplicate_of IS NULL AND coalesce(attrs->>'origin', '') <> 'kernel'""")
    con.execute("""
        UPDATE events SET duplicate_of = p.keep
        FROM (SELECT a.event_id AS dup,
                     arg_min(b.event_id, (b.rank, abs(epoch(a.ts) - epoch(b.ts)), b.file_id, b.event_id)) AS keep
              FROM (SELECT *, unnest([sec - 1, sec, sec + 1]) AS near FROM ucopies WHERE rank = 1) a
              JOIN (SELECT * FROM ucopies WHERE rank = 0) b
                ON a.host IS NOT DISTINCT FROM b.host AND a.message = b.message AND b.sec = a.near
               AND a.process IS NOT DISTINCT FROM b.process AND a.pid IS NOT DISTINCT FROM b.pid
              WHERE abs(epoch(a.ts) - epoch(b.ts)) <= 1
              GROUP BY a.event_id) p
        WHERE events.event_id = p.dup""")
    con.execute("DROP TABLE ucopies")
