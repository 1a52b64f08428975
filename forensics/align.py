"""Kernel clocks to wall-clock time.

dmesg (and journalctl -o short-monotonic) stamp lines with seconds since
boot.  After an ingest, each file's boots (``attrs.boot_seq``, counting
restarts of the kernel clock) get a boot time from the best evidence the
database holds for that host, in this order:

1. the same kernel messages, at the same kernel time, in a wall-clock
   source (kern.log, syslog, the journal's kernel transport): each pair
   gives wall - uptime, an upper bound of the boot time (a line is logged
   after it is printed); the smallest over the boot wins.  Where the
   journal knows that boot (its __REALTIME - __MONOTONIC, exact), the
   journal's figure is used;
2. the boot time the bundle states (``proc/stat`` btime, ``uptime -s``
   output), or ``--boot-time``;
3. otherwise the lines stay ``unaligned`` and ingest says how to supply a
   boot time.

Every offset used goes to ``clock_offsets`` with its method, evidence and
uncertainty.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

SAME_BOOT_US = 10 * 60 * 1_000_000   # offsets closer than this are taken as one boot


@dataclass
class Offset:
    host: str | None
    file_id: int
    boot_seq: int
    boot_us: int | None
    method: str
    evidence: str
    matched: int = 0
    uncertainty_us: int | None = None
    boot_id: str | None = None
    aligned: int = 0


_MONO = "TRY_CAST(attrs->>'monotonic_us' AS BIGINT)"
_KMONO = "TRY_CAST(coalesce(attrs->>'source_monotonic_us', attrs->>'monotonic_us') AS BIGINT)"
_SEQ = "coalesce(TRY_CAST(attrs->>'boot_seq' AS INTEGER), 0)"
_LOOSE = "('unaligned', 'monotonic_aligned')"


def align(con: duckdb.DuckDBPyConnection, boot_times: dict[str | None, int] | None = None) -> list[Offset]:
    """Align every file's seconds-since-boot; ``boot_times``: host (None: any) -> boot time in µs."""
    boot_times = boot_times or {}
    segs = con.execute(f"""
        SELECT file_id, host, {_SEQ} AS seq, count(*) FROM events
        WHERE ts_quality IN {_LOOSE} AND {_MONO} IS NOT NULL GROUP BY ALL ORDER BY file_id, seq""").fetchall()
    if not segs:
        con.execute("DELETE FROM clock_offsets")
        return []
    # wall-clock kernel lines: wall - kernel time bounds the boot time from above
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE kwall AS
        SELECT host, file_id, message, {_KMONO} AS kmono, epoch_us(ts) - {_KMONO} AS off FROM events
        WHERE (process = 'kernel' OR (kind IN ('oom_kill', 'oom_invoked') AND attrs->>'origin' = 'kernel'))
          AND ts IS NOT NULL AND ts_quality NOT IN {_LOOSE}
          AND coalesce(attrs->>'ctime', 'false') <> 'true' AND {_KMONO} IS NOT NULL""")
    journal_boots = con.execute("""
        SELECT host, attrs->>'boot_id' AS boot, median(off)::BIGINT, quantile_cont(off, 0.9) - quantile_cont(off, 0.1),
               count(*)
        FROM (SELECT host, attrs, coalesce(TRY_CAST(attrs->>'received_us' AS BIGINT), epoch_us(ts))
                                  - TRY_CAST(attrs->>'monotonic_us' AS BIGINT) AS off
              FROM events WHERE source LIKE 'journal%' AND attrs->>'boot_id' IS NOT NULL
                AND ts_quality = 'exact' AND attrs->>'monotonic_us' IS NOT NULL)
        GROUP BY ALL""").fetchall()
    out: list[Offset] = []
    for file_id, host, seq, n in segs:
        o = _from_messages(con, file_id, host, seq, journal_boots)
        if o is None:
            bt = boot_times.get(host, boot_times.get(None))
            if bt is not None:
                src = "bundle boot time" if host in boot_times else "--boot-time"
                o = Offset(host, file_id, seq, bt, src, f"boot time from {src}")
        if o is None:
            o = Offset(host, file_id, seq, None, "none",
                       "no kernel message of this boot in a wall-clock source; give the boot time with "
                       "--boot-time (uptime -s, or btime in /proc/stat, on the host)")
        if o.boot_us is not None:
            con.execute(f"""
                UPDATE events SET ts = make_timestamp($b + {_MONO})::TIMESTAMPTZ, ts_quality = 'monotonic_aligned'
                WHERE file_id = $f AND {_SEQ} = $s AND ts_quality IN {_LOOSE} AND {_MONO} IS NOT NULL""",
                        {"b": o.boot_us, "f": file_id, "s": seq})
            o.aligned = n
        out.append(o)
    con.execute("DROP TABLE kwall")
    con.execute("DELETE FROM clock_offsets")
    con.executemany(
        "INSERT INTO clock_offsets VALUES (?, ?, ?, ?, make_timestamp(?)::TIMESTAMPTZ, ?, ?, ?, ?, ?)",
        [(o.host, o.file_id, o.boot_seq, o.boot_id, o.boot_us, o.method, o.evidence, o.matched, o.uncertainty_us,
          o.aligned) for o in out])
    return out


def _from_messages(con, file_id, host, seq, journal_boots) -> Offset | None:
    """The boot time of one file's boot from kernel messages also found in a wall-clock source."""
    offs = con.execute(f"""
        SELECT k.off, k.file_id FROM events e
        JOIN kwall k ON k.host IS NOT DISTINCT FROM e.host AND k.message = e.message AND k.kmono = {_MONO.replace('attrs', 'e.attrs')}
        WHERE e.file_id = ? AND {_SEQ.replace('attrs', 'e.attrs')} = ? AND e.ts_quality IN {_LOOSE}
        ORDER BY k.off""", [file_id, seq]).fetchall()
    if not offs:
        return None
    # Messages printed at the same kernel time in every boot ("Linux version ..." at 0.000000) match the
    # boots of a kern.log that holds several: take the boot most of the matches belong to.
    clusters: list[list[tuple[int, int]]] = []
    for off, fid in offs:
        if clusters and off - clusters[-1][0][0] < SAME_BOOT_US:
            clusters[-1].append((off, fid))
        else:
            clusters.append([(off, fid)])
    chosen = max(clusters, key=len)
    best, matched, nfiles = chosen[0][0], len(chosen), len({fid for _, fid in chosen})
    for jhost, boot, off, spread, count in journal_boots:
        if jhost == host and abs(off - best) < SAME_BOOT_US:
            return Offset(host, file_id, seq, off, "journal",
                          f"{matched} kernel messages also in the journal; boot {boot}: "
                          f"__REALTIME_TIMESTAMP - __MONOTONIC_TIMESTAMP over {count} entries",
                          matched, int(spread or 0), boot_id=boot)
    # every wall-clock kernel line of the same boot on the host: the least delayed one bounds it best
    r = con.execute("""
        SELECT min(off), quantile_disc(off, 0.5) - min(off), count(*), count(DISTINCT file_id) FROM kwall
        WHERE host IS NOT DISTINCT FROM ? AND off BETWEEN ? AND ?""",
                    [host, best - SAME_BOOT_US, best + SAME_BOOT_US]).fetchone()
    boot, spread, lines, files = r
    return Offset(host, file_id, seq, boot, "message match",
                  f"{matched} kernel messages found at the same kernel time in {nfiles} wall-clock file(s); "
                  f"boot time = the least (wall time - kernel time) over {lines} kernel lines of the boot in "
                  f"{files} file(s), a bound from above (a line is logged after it is printed); "
                  f"uncertainty: how far the median line lies from it",
                  matched, int(spread or 0))
