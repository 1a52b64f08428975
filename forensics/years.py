"""Years for timestamps printed without one, from the host's dated logs.

A BSD syslog line (``Mar  9 19:02:11``) or ``journalctl -o short`` carries no year; the parser takes it
from the file's modification time, which is right for a file copied off the server and wrong for one
that went through git, an archive tool or a mail client (they reset it). Where the same host has
logs that state their year (the journal, nginx, dmesg aligned through them, a PM2 log), a file whose
inferred times fall outside their span but inside it when moved by whole years is moved, and its
``files.note`` says so. ``--year`` turns this off.
"""
from __future__ import annotations

import duckdb

MARGIN_DAYS = 31


def fix_years(con: duckdb.DuckDBPyConnection) -> list[tuple[int, int]]:
    """Move year-inferred files by whole years onto their host's dated span; returns (file_id, years) moved."""
    rows = con.execute(f"""
        WITH guessed AS (
            SELECT file_id, host, median(epoch(ts)) AS mid FROM events
            WHERE ts_quality = 'year_inferred' GROUP BY ALL
        ),
        dated AS (
            SELECT host, min(epoch(ts)) AS lo, max(epoch(ts)) AS hi, median(epoch(ts)) AS mid FROM events
            WHERE ts_quality IN ('exact', 'zone_assumed') AND ts IS NOT NULL GROUP BY host
        )
        SELECT g.file_id, CAST(round((d.mid - g.mid) / (365.2425 * 86400)) AS INTEGER) AS years, d.lo, d.hi, g.mid
        FROM guessed g JOIN dated d ON d.host IS NOT DISTINCT FROM g.host
        WHERE g.mid NOT BETWEEN d.lo - {MARGIN_DAYS} * 86400 AND d.hi + {MARGIN_DAYS} * 86400""").fetchall()
    moved = []
    for file_id, years, lo, hi, mid in rows:
        shifted = mid + years * 365.2425 * 86400
        if years == 0 or not lo - MARGIN_DAYS * 86400 <= shifted <= hi + MARGIN_DAYS * 86400:
            continue
        # the same wall-clock time in the other year, in the zone the file was read in (9 March is
        # EST in 2021 and EDT in 2026): shift the local time, then place it again
        con.execute("""
            UPDATE events SET ts = CASE WHEN f.tz IS NOT NULL AND f.tz NOT SIMILAR TO '[+-][0-9:]+'
                                        THEN timezone(f.tz, timezone(f.tz, events.ts) + to_years($y))
                                        ELSE events.ts + to_years($y) END
            FROM files f WHERE f.file_id = events.file_id AND events.file_id = $f
              AND events.ts_quality = 'year_inferred'""", {"y": years, "f": file_id})
        note = f"year taken from the host's dated logs ({years:+d} from the file's date)"
        con.execute("UPDATE files SET note = CASE WHEN note IS NULL OR note = '' THEN ? ELSE note || '; ' || ? END "
                    "WHERE file_id = ?", [note, note, file_id])
        moved.append((file_id, years))
    return moved
