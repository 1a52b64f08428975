"""``journalctl -o json``: one JSON object per line.

A field that is not valid UTF-8 comes as an array of byte values; a field
with several values as an array of strings; a field over the size limit as
null.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, SAMPLE + '\\n{"MESSAGE": "cut in ha')
>>> [(e.host, e.process, e.pid, e.kind) for e in events]
[('vps1', 'node', 812, 'log')]
>>> rejects[0].reason
'invalid JSON: Unterminated string starting at: line 1 column 13 (char 12)'
"""
from __future__ import annotations

import json
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .journal_fields import to_event
from .messages import app_output
from .model import Event, Reject

NAME = "journal_json"
DESCRIPTION = "journalctl -o json (also json-seq lines)"
SAMPLE = ('{"__REALTIME_TIMESTAMP":"1716906912123456","__MONOTONIC_TIMESTAMP":"87806215444",'
          '"_BOOT_ID":"26d74a46deff4872be6d4ca6e885a198","_HOSTNAME":"vps1","_COMM":"node","_PID":"812",'
          '"_SYSTEMD_UNIT":"nest-api.service","PRIORITY":"6","MESSAGE":"listening on :3000"}')


def sniff(head: list[str]) -> int:
    for line in head:
        s = line.lstrip("\x1e").strip()
        if not s:
            continue
        if s.startswith("{") and ('"__REALTIME_TIMESTAMP"' in s or '"__CURSOR"' in s):
            return 95
        return 0
    return 0


def _value(v) -> str | None:
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, list):
        if v and all(isinstance(x, int) for x in v):
            try:
                return bytes(v).decode("utf-8", "replace")
            except ValueError:
                return None
        vals = [_value(x) for x in v]
        return vals[0] if vals else None  # a repeated field: the first value
    return str(v)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return app_output(_entries(raw, start))


def _entries(raw: BinaryIO, start: int) -> Iterator[Event | Reject]:
    loads = json.loads
    for n, line in text_lines(raw, start):
        s = line.lstrip("\x1e")  # json-seq record separator
        if not s.strip():
            yield Reject(n, "blank line", line)
            continue
        try:
            obj = loads(s)
        except ValueError as e:
            yield Reject(n, f"invalid JSON: {e}", line)
            continue
        if not isinstance(obj, dict):
            yield Reject(n, "JSON value is not an object", line)
            continue
        fields = {k: (v if isinstance(v, str) else _value(v)) for k, v in obj.items()}
        yield to_event(fields, n, n)
