"""One journal entry in each of journalctl's text and JSON outputs gives the same event.

The entry: 2024-05-28 12:35:12.123456 UTC on host web1, node[812], 1234.567890 s after boot.
The lines are written the way journalctl prints them (see systemd's logs-show.c).
"""
from __future__ import annotations

import json

import pytest

from .helpers import ingest

TS = 1716899712123456            # 2024-05-28T12:35:12.123456Z, worked out: date -u -d @1716899712
MSG = "GET /api/orders took 5012ms"


@pytest.mark.parametrize("line,ts,quality", [
    (f"May 28 12:35:12 web1 node[812]: {MSG}", TS // 1_000_000 * 1_000_000, "year_inferred"),          # short
    (f"May 28 12:35:12.123456 web1 node[812]: {MSG}", TS, "year_inferred"),                            # short-precise
    (f"2024-05-28T12:35:12+0000 web1 node[812]: {MSG}", TS // 1_000_000 * 1_000_000, "exact"),          # short-iso (systemd < 254)
    (f"2024-05-28T12:35:12+00:00 web1 node[812]: {MSG}", TS // 1_000_000 * 1_000_000, "exact"),         # short-iso (newer)
    (f"2024-05-28T14:35:12.123456+02:00 web1 node[812]: {MSG}", TS, "exact"),                           # short-iso-precise, TZ=Europe/Berlin
    (f"Tue 2024-05-28 12:35:12 UTC web1 node[812]: {MSG}", TS // 1_000_000 * 1_000_000, "exact"),       # short-full
    (f"Tue 2024-05-28 14:35:12 CEST web1 node[812]: {MSG}", TS // 1_000_000 * 1_000_000, "zone_assumed"),  # short-full, TZ=Europe/Berlin
    (f"[ 1234.567890] web1 node[812]: {MSG}", None, "unaligned"),                                     # short-monotonic
])
def test_short_outputs(tmp_path, line, ts, quality):
    f = tmp_path / "journal.txt"
    f.write_text("-- Journal begins at Tue 2024-05-28 06:00:00 UTC. --\n" + line + "\n")
    con, (res,) = ingest(tmp_path, f, year=2024, tz="Europe/Berlin" if "CEST" in line else None)
    assert res.format == "journal_short"
    row = con.execute("SELECT epoch_us(ts), ts_quality, host, process, pid, message, line FROM events").fetchone()
    assert row == (ts, quality, "web1", "node", 812, MSG, 2)
    if ts is None:
        mono = con.execute("SELECT attrs->>'monotonic_us' FROM events").fetchone()[0]
        assert mono == "1234567890"


def test_json_byte_array_and_repeated_fields(tmp_path):
    entry = {"__REALTIME_TIMESTAMP": str(TS), "_HOSTNAME": "web1", "_PID": "812", "SYSLOG_IDENTIFIER": "node",
             # journald writes a non-UTF-8 MESSAGE as its bytes; here "caf\xe9 \n ok" (Latin-1 é, a newline)
             "MESSAGE": list(b"caf\xe9 \n ok"),
             # a field given twice in one entry comes as an array of its values
             "_SYSTEMD_UNIT": ["nest-api.service", "other.service"]}
    f = tmp_path / "journal.json"
    f.write_text(json.dumps(entry) + "\n")
    con, (res,) = ingest(tmp_path, f)
    assert res.format == "journal_json"
    assert con.execute("SELECT message, unit, epoch_us(ts) FROM events").fetchone() == \
        ("caf\ufffd \n ok", "nest-api.service", TS)
