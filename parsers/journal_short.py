"""journalctl's text outputs: ``-o short`` (the default), ``short-precise``,
``short-iso``, ``short-iso-precise``, ``short-full`` and ``short-monotonic``.

The lines are syslog's (see the syslog module); journalctl adds its banners
(``-- Logs begin at ... --``, ``-- Boot <id> --``, ``-- Reboot --``,
``-- No entries --``) and indents the further lines of a multi-line message.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, "-- Logs begin at Thu 2016-06-09 22:30:35 UTC, end at Mon 2016-06-13 22:36:55 UTC. --\\n"
...     "Tue 2024-05-28 14:35:12 UTC vps1 node[812]: Error: boom\\n    at main.js:3\\n-- Boot 26d74a46 --\\n"
...     "Tue 2024-05-28 14:36:00 UTC vps1 systemd[1]: Started nest-api.service - Nest API.")
>>> [(e.kind, e.line, e.line_end, e.unit) for e in events]
[('app_error', 2, 3, None), ('boot', 4, 4, None), ('service_start', 5, 5, 'nest-api.service')]
>>> events[1].ts_us == events[2].ts_us, events[1].attrs, [r.reason for r in rejects]
(True, {'boot_id': '26d74a46'}, ['journalctl header, not an entry'])
"""
from __future__ import annotations

import re
from collections import Counter
from typing import BinaryIO, Iterator

from . import syslog
from .context import Context
from .model import Event, Reject

NAME = "journal_short"
DESCRIPTION = "journalctl -o short, short-precise, short-iso, short-iso-precise, short-full, short-monotonic"
SAMPLE = "2024-05-28T14:35:12.123456+0000 vps1 systemd[1]: nest-api.service: Main process exited, code=killed, status=9/KILL"

BANNER = re.compile(r"-- (?:Logs begin at|Journal begins at|No entries)\b.*--\s*$")
BOOT = re.compile(r"-- (?:Reboot|Boot (?P<id>[0-9a-f]+)) --\s*$")
_ISO_NO_COLON = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d{4} ")


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:10]
    if not lines:
        return 0
    if any(BANNER.match(l) or BOOT.match(l) for l in lines):
        return 90
    if all(syslog.tagged(syslog.FULL, l) or (_ISO_NO_COLON.match(l) and syslog.tagged(syslog.ISO, l))
           for l in lines[:3]):
        return 85
    # short-monotonic: one host on most lines, then a tag with a pid (or kernel:); dmesg lines
    # such as "[ 2.1] usb 1-1: new ..." look alike but have no host
    hosts = Counter(h for h in map(_mono_host, lines) if h)
    if hosts and hosts.most_common(1)[0][1] * 2 > len(lines):
        return 85
    return 0


def _mono_host(line: str) -> str | None:
    m = syslog.MONO.match(line)
    if not m or m.group("host").endswith(":"):
        return None
    t = syslog.TAG.match(m.group("rest"))
    return m.group("host") if t and (t.group("pid") or t.group("ident") == "kernel") else None


class ShortReader(syslog.LineReader):
    source = NAME

    def special(self, n: int, line: str) -> Event | Reject | None:
        m = BOOT.match(line)
        if m:
            return Event(None, "inherited", "boot", line, n, n,
                         attrs={"boot_id": m.group("id")} if m.group("id") else None)
        if BANNER.match(line):
            return Reject(n, "journalctl header, not an entry", line)
        return None


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return syslog.parse_with(ShortReader(ctx), raw, start)
