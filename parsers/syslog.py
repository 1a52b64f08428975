"""Classic syslog files (``/var/log/syslog``, ``messages``, ``kern.log``).

Two line layouts: the BSD one without a year (``May 28 14:35:12 vps1
node[812]: text``, fractions allowed) and rsyslog's RFC 3339 high-precision
one (``2024-05-28T14:35:12.123456+02:00 vps1 node[812]: text``).  The same
engine reads journalctl's short outputs (see journal_short).  The event's
message is what the program said, after the ``name[pid]:`` tag; time, host,
process and pid have their own columns.

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> from datetime import datetime, timezone
>>> ctx = Context(mtime=datetime(2025, 1, 3, tzinfo=timezone.utc))
>>> events, rejects = run(__name__, "Dec 31 23:59:58 vps1 CRON[5]: tick\\nJan  1 00:00:01 vps1 systemd[1]: "
...     "nest-api.service: Failed with result 'oom-kill'.\\n\\x00garbage", ctx)
>>> [(e.ts_us, e.ts_quality, e.kind, e.unit) for e in events]
[(1735689598000000, 'year_inferred', 'log', None), (1735689601000000, 'year_inferred', 'service_failed', 'nest-api.service')]
>>> rejects[0].reason
'not a syslog line'
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject
from .messages import WATCHED, app_output, classify
from .timeutil import month_number, parse_offset, utc_us

NAME = "syslog"
DESCRIPTION = "syslog files: BSD (no year) and rsyslog RFC 3339 timestamps"
SAMPLE = "2024-05-28T14:35:12.123456+02:00 vps1 systemd[1]: Started nest-api.service - Nest API."

ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,9}))?"
    r"(?P<z>Z|[+-]\d\d:?\d\d)? (?P<host>\S+) (?P<rest>.*)")
BSD = re.compile(  # the month in English or in the host's locale (avril, Mär, 5月)
    r"(?P<mon>[^\W\d_]{3,5}\.?|\d{1,2}[月월]) {1,2}(?P<d>\d{1,2}) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,9}))?"
    r" (?P<host>\S+) (?P<rest>.*)")
FULL = re.compile(  # journalctl -o short-full: Tue 2024-05-28 14:35:12.123456 CEST host ...
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
    r"(?:\.(?P<f>\d{1,9}))? (?P<zn>[A-Za-z][\w/+-]*|[+-]\d{2,4}) (?P<host>\S+) (?P<rest>.*)")
MONO = re.compile(r"\[\s*(?P<sec>\d+)\.(?P<f>\d+)\] (?P<host>\S+) (?P<rest>.*)")
TAG = re.compile(r"(?P<ident>[^\s\[\]:][^\s\[:]*?)(?:\[(?P<pid>\d+)\])?:(?: |$)")
KERNEL_TIME = re.compile(r"\[\s*(\d+)\.(\d+)\] ?")
REPEATED = re.compile(r"(?:last )?message repeated (\d+) times")

_NO_HOST = frozenset({"localhost", "localhost.localdomain", "(none)", "-"})


def _frac_us(f: str | None) -> int:
    return int((f + "000000")[:6]) if f else 0


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:10]
    if not lines:
        return 0
    hits = sum(1 for l in lines if tagged(ISO, l) or tagged(BSD, l) or hostless(BSD, l))
    return 70 if hits >= max(1, (len(lines) + 1) // 2) else 0


def hostless(rx: re.Pattern, line: str) -> bool:
    """Whether a line has this header and then directly a ``name[pid]:`` tag, with no host between."""
    m = rx.match(line)
    return bool(m and m.group("host").endswith(":") and TAG.match(m.group("host") + " "))


def tagged(rx: re.Pattern, line: str) -> bool:
    """Whether a line has this header followed by a ``name[pid]:`` tag (what sniffing needs)."""
    m = rx.match(line)
    return bool(m and not m.group("host").endswith(":") and TAG.match(m.group("rest")))


class LineReader:
    """Turns header lines into events; the journal_short module adds its banners."""

    source = NAME

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.years = ctx.years()

    def header(self, line: str) -> tuple[int | None, str, str, str, dict] | None:
        """(ts_us, ts_quality, host, rest, attrs) of a header line, or None."""
        c = line[:1]
        m = ISO.match(line) if c.isdigit() else None
        if m:
            g = m.group
            y, mo, d, h, mi, s = (int(g(k)) for k in ("y", "mo", "d", "h", "mi", "s"))
            us = _frac_us(g("f"))
            if not (1 <= mo <= 12 and 1 <= d <= 31):
                return None
            z = g("z")
            if z:
                ts = utc_us(y, mo, d, h, mi, s, us) - parse_offset(z) * 1_000_000
                q = "exact"
            else:
                ts, q = self.clock.to_us(y, mo, d, h, mi, s, us), self.ctx.local_quality
            return ts, q, g("host"), g("rest"), {}
        if c.isalpha() or c.isdigit():
            m = BSD.match(line)
            if m:
                g = m.group
                mo = month_number(g("mon"))
                if mo is None:
                    return None
                d, h, mi, s = int(g("d")), int(g("h")), int(g("mi")), int(g("s"))
                y = self.years.year(mo, d)
                try:
                    ts = self.clock.to_us(y, mo, d, h, mi, s, _frac_us(g("f")))
                except ValueError:  # Feb 29 in a guessed year that has none, day 31 of a 30-day month
                    return None
                return ts, "year_inferred", g("host"), g("rest"), {}
            m = FULL.match(line)
            if m:
                g = m.group
                y, mo, d, h, mi, s = (int(g(k)) for k in ("y", "mo", "d", "h", "mi", "s"))
                us = _frac_us(g("f"))
                zn = g("zn")
                off = parse_offset(zn) if zn[0] in "+-" else (0 if zn in ("UTC", "GMT") else None)
                if off is not None:
                    return utc_us(y, mo, d, h, mi, s, us) - off * 1_000_000, "exact", g("host"), g("rest"), {}
                # a zone abbreviation (CEST, EDT): read in the file's zone
                return (self.clock.to_us(y, mo, d, h, mi, s, us), self.ctx.local_quality, g("host"),
                        g("rest"), {"zone_abbrev": zn})
            return None
        if c == "[":
            m = MONO.match(line)
            if m:
                mono = int(m.group("sec")) * 1_000_000 + _frac_us(m.group("f"))
                return None, "unaligned", m.group("host"), m.group("rest"), {"monotonic_us": mono}
        return None

    def event(self, n: int, line: str) -> Event | None:
        parsed = self.header(line)
        if parsed is None:
            return None
        ts, q, host, rest, attrs = parsed
        if host.endswith(":"):     # no host field (journalctl --user, some containers): the tag came first
            rest, host = host + " " + rest, None
        m = TAG.match(rest)
        process = pid = None
        message = rest
        if m:
            process = m.group("ident")
            pid = int(m.group("pid")) if m.group("pid") else None
            message = rest[m.end():]
        kind, unit = "log", None
        if process in WATCHED:
            typed = classify(process, message)
            if typed:
                kind, unit = typed.kind, typed.unit
                attrs.update(typed.attrs)
                if typed.victim:
                    process, pid = typed.victim
        elif process == "kernel" and message.startswith("["):
            m = KERNEL_TIME.match(message)
            if m:   # kern.log: "kernel: [ 1234.567890] text"; the kernel's own clock goes to attrs
                attrs["monotonic_us"] = int(m.group(1)) * 1_000_000 + _frac_us(m.group(2))
                message = message[m.end():]
        elif process == "rsyslogd" or process is None:
            r = REPEATED.search(message)
            if r:
                attrs["repeated"] = int(r.group(1))
        return Event(ts, q, kind, message, n, n, host=None if host is None or host in _NO_HOST else host,
                     unit=unit, process=process, pid=pid, attrs=attrs or None)

    def special(self, n: int, line: str) -> Event | Reject | None:
        """A line that is neither a header nor a continuation (banners); None if not one."""
        return None


def parse_with(reader: LineReader, raw: BinaryIO, start: int) -> Iterator[Event | Reject]:
    """The events and rejects of a file of such lines, the apps' output among them typed (parsers.messages)."""
    return app_output(_lines(reader, raw, start))


def _lines(reader: LineReader, raw: BinaryIO, start: int) -> Iterator[Event | Reject]:
    pending: Event | None = None      # the event whose continuation lines may follow
    extra: list[str] = []
    waiting: list[Event] = []         # markers without a time, waiting for the next event's
    for n, line in text_lines(raw, start):
        ev = reader.event(n, line)
        if ev is None and pending is not None and line[:1] in (" ", "\t") and line.strip():
            extra.append(line)        # journalctl indents the lines of a multi-line message
            continue
        if pending is not None:
            if extra:
                pending = pending._replace(message=pending.message + "\n" + "\n".join(extra),
                                           line_end=pending.line_end + len(extra))
                extra = []
            for w in waiting:
                yield w._replace(ts_us=pending.ts_us)
            waiting = []
            yield pending
            pending = None
        if ev is not None:
            pending = ev
            continue
        sp = reader.special(n, line)
        if isinstance(sp, Event) and sp.ts_us is None and sp.ts_quality == "inherited":
            waiting.append(sp)
        elif sp is not None:
            yield sp
        else:
            yield Reject(n, "blank line" if not line.strip() else f"not a {reader.source.replace('_', ' ')} line", line)
    if pending is not None:
        if extra:
            pending = pending._replace(message=pending.message + "\n" + "\n".join(extra),
                                       line_end=pending.line_end + len(extra))
        for w in waiting:
            yield w._replace(ts_us=pending.ts_us)
        waiting = []
        yield pending
    for w in waiting:  # nothing after the marker to take a time from
        yield Reject(w.line, "boot marker with no entry after it", w.message)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return parse_with(LineReader(ctx), raw, start)
