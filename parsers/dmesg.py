"""The kernel ring buffer as util-linux ``dmesg`` prints it, one event per kernel message.

Each line starts with the prefixes dmesg was asked for, then the message:

- ``[ 1234.567890] msg``: the default, seconds since boot (also journalctl's
  ``-k -o short-monotonic --no-hostname`` form of ``/var/log/dmesg``,
  ``[    0.407400] kernel: msg``, whose ``kernel:`` tag is dropped);
- ``<4>[ 1234.567890] msg`` (``-r``): the syslog priority, facility << 3 | level;
- ``kern  :warn  : [ 1234.567890] msg`` (``-x``): facility and level by name;
- ``[Sun Nov 22 19:52:38 2026] msg`` (``-T``): local wall time, seconds only;
- ``2026-11-22T19:52:38,950058+00:00 msg`` (``--time-format iso``);
- ``[Nov22 19:52] msg`` then ``[  +0.000045] msg`` (``-e``/``-H``: reltime),
  ``[ 1234.567890 <    0.000045>] msg`` (``-d``), ``[    T123] `` caller ids,
  and the combinations dmesg makes of them (``-x`` with any time format;
  ``-r`` ignores ``--time-format``).

Seconds since boot go to ``attrs.monotonic_us`` with ``attrs.boot_seq`` (0, then
+1 each time the clock starts again within the file: a reboot); such events
have no ``ts`` (``unaligned``) until they are aligned to wall time.  The wall
times dmesg computes (``-T``, iso, reltime) are boot time + seconds since boot
and go wrong after a suspend, so they carry ``attrs.ctime = True``.  A line
without a prefix after a message (an indented further line of a multi-line
message, a bare ``printk`` continuation) belongs to that message.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, "garbage\\n<4>[10149.950058] node invoked oom-killer: order=0\\n"
...     "<4>[10149.950129] Call Trace:\\n                  <TASK>\\n<3>[   12.000001] after a reboot")
>>> [(e.line, e.line_end, e.severity, e.attrs["monotonic_us"], e.attrs["boot_seq"]) for e in events]
[(2, 2, 4, 10149950058, 0), (3, 4, 4, 10149950129, 0), (5, 5, 3, 12000001, 1)]
>>> events[1].message, events[0].ts_us, events[0].ts_quality, events[0].process, events[0].attrs["facility"]
('Call Trace:\\n<TASK>', None, 'unaligned', 'kernel', 'kern')
>>> [(r.line, r.reason) for r in rejects]
[(1, 'not a dmesg line, and no message before it to continue')]
"""
from __future__ import annotations

import re
from collections import Counter
from typing import BinaryIO, Iterator

import regex

from . import syslog
from .context import Context, text_lines
from .model import Event, Reject
from .timeutil import month_number, parse_offset, utc_us

NAME = "dmesg"
DESCRIPTION = "the kernel ring buffer as dmesg prints it: [uptime], -r <prio>, -x facility:level, -T ctime, iso"
SAMPLE = ("[10149.967323] Memory cgroup out of memory: Killed process 21140 (node) total-vm:1116048kB, "
          "anon-rss:129908kB, file-rss:34388kB, shmem-rss:0kB, UID:0 pgtables:700kB oom_score_adj:0")

FACILITIES = ["kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
              "ftp", "res0", "res1", "res2", "res3"] + [f"local{i}" for i in range(8)]
LEVELS = ["emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"]
_LEVEL = {name: i for i, name in enumerate(LEVELS)}

_FAC = "|".join(sorted(FACILITIES, key=len, reverse=True))
_LVL = "|".join(LEVELS)
_DAY = "Mon|Tue|Wed|Thu|Fri|Sat|Sun"
_MON = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
_END = "(?: |$)"  # dmesg puts one space after each prefix (an empty message may have lost it)

# The prefixes, in the order dmesg prints them (see util-linux sys-utils/dmesg.c, print_record).
P_PRI = r"<(?P<pri>\d{1,3})>"                                                # -r
P_DECODE = rf"(?P<fac>{_FAC}) *:(?P<lvl>{_LVL}) *: "                        # -x: "%-6s:%-6s: "
P_TIMES = {                                                                 # one or more (--time-format twice)
    "mono": r"\[ *(?P<sec>\d+)\.(?P<frac>\d+)(?: <[ \d.]*>)?\]",           # [%5ld.%06ld], -d adds <delta>
    "ctime": (rf"\[(?:{_DAY}) (?P<mon>{_MON}) (?P<d>[ \d]?\d) (?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) (?P<y>\d{{4}})"
              r"(?: <[ \d.]*>)?\]"),                                         # -T: [%a %b %e %H:%M:%S %Y]
    "iso": (r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d),(?P<us>\d{6})"
            r"(?P<z>[+-]\d\d:?\d\d)"),                                      # 2026-11-22T19:52:38,950058+00:00
    "relbreak": rf"\[(?P<mon>{_MON})(?P<d>[ \d]?\d) (?P<h>\d\d):(?P<mi>\d\d)\]",  # -e: [%b%e %H:%M]
    "reldelta": r"\[ *\+\d+\.\d+\]",                                         # -e: [  +0.000045]
    "delta": r"\[< *\d+\.\d+>\]",                                           # -d -t: [<    0.000045>]
}
P_CALLER = r"\[ *(?P<caller>[TC]\d+)\]"                                      # CONFIG_PRINTK_CALLER

PRI = re.compile(P_PRI)
DECODE = re.compile(P_DECODE)
TIMES = [(k, re.compile(p + _END)) for k, p in P_TIMES.items()]
CALLER = re.compile(P_CALLER + _END)
# A line that stops inside its prefixes (a file cut short) could still grow into a full one:
# the ``regex`` module's partial matching tells.
_ANY_TIME = "|".join("(?:%s)" % re.sub(r"\(\?P<\w+>", "(?:", p) for p in [*P_TIMES.values(), P_CALLER])
PREFIX_PARTIAL = regex.compile(rf"(?:<\d{{1,3}}>|(?:{_FAC}) *:(?:{_LVL}) *: )?(?:(?:{_ANY_TIME}) )*")
TIME_PARTIAL = regex.compile(rf"(?:(?:{_ANY_TIME}) )+")
_CUT_HINT = re.compile(r"[\d:]")  # a cut prefix has got as far as a digit or the -x colon
BANNER = re.compile(r"-- (?:Logs begin at|Journal begins at|No entries|Reboot|Boot [0-9a-f]+)\b.*--\s*$")

_NEW_BOOT_DROP_US = 1_000_000  # a clock going back by more than this (or back to 0) started again


class Header:
    """What the prefixes of one line say."""

    __slots__ = ("ts", "quality", "mono", "severity", "attrs", "message", "indent")

    def __init__(self):
        self.ts = None
        self.quality = "unaligned"
        self.mono = None
        self.severity = None
        self.attrs: dict = {}
        self.message = ""
        self.indent = 0


class Reader:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.years = ctx.years()
        self.boot_seq = 0
        self.last_mono: int | None = None
        self.new_boot = False          # a journalctl boot marker was seen
        self.rel_ts: int | None = None  # reltime: the last [Mon D HH:MM] line's time

    def header(self, line: str) -> Header | str | None:
        """The prefixes of a line; a reason (str) if it starts like one but is broken; None if none."""
        h = Header()
        pos = 0
        c = line[:1]
        if c == "<":
            m = PRI.match(line)
            if m:
                pri = int(m.group("pri"))
                if pri > 191:
                    return f"syslog priority <{pri}> out of range"
                h.severity = pri & 7
                h.attrs["facility"] = FACILITIES[pri >> 3]
                pos = m.end()
        elif c.islower():
            m = DECODE.match(line)
            if m:
                h.severity = _LEVEL[m.group("lvl")]
                h.attrs["facility"] = m.group("fac")
                pos = m.end()
        seen = set()
        progress = True
        while progress:
            progress = False
            nc = line[pos:pos + 1]
            if nc != "[" and not nc.isdigit():
                break  # every time prefix starts with "[" or a digit
            for kind, rx in TIMES:
                if kind in seen:
                    continue
                m = rx.match(line, pos)
                if m is None:
                    continue
                why = self._time(kind, m, h)
                if why:
                    return why
                seen.add(kind)
                pos = m.end()
                progress = True
                break
        m = CALLER.match(line, pos)
        if m:
            h.attrs["caller"] = m.group("caller")
            pos = m.end()
        rest = line[pos:]
        if pos == 0:
            if not _CUT_HINT.search(line):
                return None  # "c", "kern", "[": more likely a bare continuation line than a cut prefix
            m = PREFIX_PARTIAL.fullmatch(line, partial=True)
            return "line cut short inside its dmesg prefix" if m and m.partial else None
        if rest and (not seen or rest[0] == "["):
            m = TIME_PARTIAL.fullmatch(rest, partial=True)
            if m and m.partial:
                return "line cut short inside its dmesg prefix"
        if not rest.strip():  # dmesg prints an empty message as a bare empty line, never after a prefix
            return "line cut short: a dmesg prefix and no message"
        if seen == {"mono"} and h.severity is None and (rest.startswith("kernel: ") or rest == "kernel:"):
            pos += 8 if rest != "kernel:" else 7  # journalctl -k -o short-monotonic --no-hostname
        h.message = line[pos:]
        h.indent = pos
        return h

    def _time(self, kind: str, m: re.Match, h: Header) -> str | None:
        g = m.group
        if kind == "mono":
            h.mono = int(g("sec")) * 1_000_000 + int((g("frac") + "000000")[:6])
        elif kind == "iso":
            off = parse_offset(g("z"))
            y, mo, d = int(g("y")), int(g("mo")), int(g("d"))
            if off is None or not (1 <= mo <= 12 and 1 <= d <= 31):
                return "invalid date in a dmesg iso time"
            h.ts = utc_us(y, mo, d, int(g("h")), int(g("mi")), int(g("s")), int(g("us"))) - off * 1_000_000
            h.quality = "exact"
            h.attrs["ctime"] = True
        elif kind == "ctime":
            try:
                ts = self.clock.to_us(int(g("y")), month_number(g("mon")), int(g("d")), int(g("h")), int(g("mi")),
                                      int(g("s")), 0)
            except ValueError:
                return "invalid date in a dmesg -T time"
            if h.quality != "exact":
                h.ts, h.quality = ts, self.ctx.local_quality
            h.attrs["ctime"] = True
        elif kind == "relbreak":
            mo, d = month_number(g("mon")), int(g("d"))
            try:
                ts = self.clock.to_us(self.years.year(mo, d), mo, d, int(g("h")), int(g("mi")), 0, 0)
            except ValueError:
                return "invalid date in a dmesg reltime"
            self.rel_ts = ts
            if h.ts is None:
                h.ts, h.quality = ts, "year_inferred"
            h.attrs["ctime"] = True
        elif kind == "reldelta":
            if h.ts is None and self.rel_ts is not None:
                h.ts, h.quality = self.rel_ts, "inherited"  # the minute of the last [Mon D HH:MM] line
                h.attrs["ctime"] = True
        return None

    def event(self, n: int, h: Header) -> Event:
        attrs = h.attrs
        if h.mono is not None:
            if self.last_mono is not None and (
                    self.new_boot or h.mono + _NEW_BOOT_DROP_US < self.last_mono or (h.mono == 0 < self.last_mono)):
                self.boot_seq += 1
            self.new_boot = False
            self.last_mono = h.mono
            attrs["monotonic_us"] = h.mono
            attrs["boot_seq"] = self.boot_seq
        return Event(h.ts, h.quality, "log", h.message, n, n, severity=h.severity, process="kernel",
                     attrs=attrs or None)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    reader = Reader(ctx)
    pending: Event | None = None
    indent = 0
    more: list[str] = []                # further lines of the pending message
    blanks: list[tuple[int, str]] = []  # blank lines after it: its own if more text follows, else rejected

    def flush() -> Iterator[Event | Reject]:
        nonlocal pending, more, blanks
        if pending is not None:
            if more:
                yield pending._replace(message="\n".join([pending.message, *more]),
                                       line_end=pending.line_end + len(more))
            else:
                yield pending
        for b, text in blanks:
            yield Reject(b, "blank line", text)
        pending, more, blanks = None, [], []

    for n, line in text_lines(raw, start):
        h = reader.header(line)
        if isinstance(h, Header):
            yield from flush()
            pending, indent = reader.event(n, h), h.indent
            continue
        if h is None:
            if BANNER.match(line):
                yield from flush()
                if line.startswith(("-- Boot", "-- Reboot")):
                    reader.new_boot = True
                yield Reject(n, "journalctl banner, not a kernel message", line)
                continue
            if pending is not None:
                if not line.strip():
                    blanks.append((n, line))
                    continue
                more.extend(text for _, text in blanks)
                blanks = []
                more.append(line[indent:] if line.startswith(" " * indent) else line)
                continue
        yield from flush()
        yield Reject(n, h or ("blank line" if not line.strip() else
                              "not a dmesg line, and no message before it to continue"), line)
    yield from flush()


def _journal_host(line: str) -> str | None:
    """The host of a journalctl short-monotonic line (``[ 1.2] host ident[pid]: msg``), else None."""
    m = syslog.MONO.match(line)
    if not m or m.group("host").endswith(":"):
        return None
    t = syslog.TAG.match(m.group("rest"))
    if t and (t.group("pid") or t.group("ident") == "kernel"):
        return m.group("host")
    return None


def sniff(head: list[str]) -> int:
    reader = Reader(Context())
    counted = hits = 0
    hosts: Counter = Counter()
    after_header = False
    for line in head:
        if not line.strip():
            continue
        if after_header and line[:1] in (" ", "\t"):
            continue  # a further line of a multi-line message
        counted += 1
        h = reader.header(line)
        # a bare <N> is also a syslog line as sent on the wire: here it must come with a time
        after_header = isinstance(h, Header) and not (line[:1] == "<" and h.mono is None)
        hits += after_header
        host = _journal_host(line)
        if host:
            hosts[host] += 1
        if counted == 10:
            break
    if not counted:
        return 0
    if hosts and hosts.most_common(1)[0][1] * 2 >= counted:
        return 0  # journalctl -o short-monotonic: one host, then a tag, on most lines
    return 90 if hits * 2 >= counted else 0
