"""php-fpm's error log (``/var/log/php-fpm.log``, ``php7.4-fpm.log``) and its slow log.

Each line of the error log is ``[28-May-2024 14:35:12] WARNING: [pool www] message`` (zlog.c:
``[%d-%b-%Y %H:%M:%S]``, and ``.%06d`` microseconds at ``log_level = debug``): the host's local
time without a zone, read in the file's zone and ``zone_assumed``; then the level word
(DEBUG 7, NOTICE 5, WARNING 4, ERROR 3, ALERT 1; SYSTEM 6).  A slow-log entry (fpm_php_trace.c)
is a block: a blank line, ``[28-May-2024 14:35:12]  [pool www] pid 1234``,
``script_filename = /var/www/index.php`` and one ``[0x00007f...] function() /file.php:12``
line per frame; the block is one event.  Lines without a prefix belong to the event before
them; blank lines too.

``process`` is ``php-fpm``, ``unit`` empty; ``attrs.pool`` where the line names a pool.  The
messages of sapi/fpm/fpm (fpm_children.c, fpm_process_ctl.c, fpm_php_trace.c, fpm_request.c)
become typed events:

- ``process_exit``: ``child 1234 exited on signal 9 (SIGKILL) after 12.345 seconds from start``
  (``code`` = ``killed``, or ``dumped`` with ``core_dumped`` for `` - core dumped``; ``signal``
  without ``SIG``, ``status`` its number) or ``child 1234 exited with code 255 after ...``
  (``code`` = ``exited``, ``status``); ``uptime_s``; ``pid`` is the child;
- ``service_start``: ``child 1240 started`` (``pid`` the child, ``phase`` = ``spawned``) and the
  master's ``fpm is running, pid 812`` (``phase`` = ``running``);
- ``service_stop``: the master's ``exiting, bye-bye!``;
- ``log`` with ``max_children_reached`` = true and ``max_children``: ``server reached
  pm.max_children setting (5), consider raising it`` (the pool is saturated: requests queue;
  a kind of its own, ``pool_exhausted``, would suit it);
- ``log`` with ``slow_request`` = true: a slow-log block (``pid``, ``script_filename``,
  ``frames``), and the error log's ``child 1234, script '/x.php' (request: "GET /x.php")
  executing too slow (5.1 seconds), logging`` (``script``, ``request``, ``duration_s``);
  ``request_timeout`` = true for ``... execution timed out (30.1 seconds), terminating``;
- ``log``: everything else (``pid`` for ``child 1234 said into stderr``).

>>> from parsers.testing import run
>>> events, rejects = run(__name__,
...     "[28-May-2024 14:35:12] WARNING: [pool www] server reached pm.max_children setting (5), consider raising it\\n"
...     "[28-May-2024 14:35:13] WARNING: [pool www] child 1234 exited on signal 9 (SIGKILL) after 12.345000 "
...     "seconds from start\\n"
...     "[28-May-2024 14:35:13] NOTICE: [pool www] child 1240 started\\n")
>>> [(e.kind, e.pid, e.severity, e.line) for e in events], rejects
([('log', None, 4, 1), ('process_exit', 1234, 4, 2), ('service_start', 1240, 5, 3)], [])
>>> events[0].attrs
{'pool': 'www', 'max_children_reached': True, 'max_children': 5}
>>> a = events[1].attrs
>>> a["code"], a["signal"], a["status"], a["pool"], a["uptime_s"]
('killed', 'KILL', 9, 'www', 12.345)
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context
from .model import Event, Reject
from .records import first_rule, parse_records
from .timeutil import month_number

NAME = "php_fpm"
DESCRIPTION = "php-fpm's error log and slow log: [28-May-2024 14:35:12] WARNING: [pool www] ..."
SAMPLE = "[28-May-2024 14:35:12] WARNING: [pool www] child 1234 exited on signal 9 (SIGKILL) after 12.345 seconds from start"

SEVERITY = {"DEBUG": 7, "NOTICE": 5, "WARNING": 4, "ERROR": 3, "ALERT": 1, "SYSTEM": 6}
_LEVELS = "|".join(SEVERITY)
# zlog.c: "[%d-%b-%Y %H:%M:%S" + (".%06d" at debug level) + "] " + "LEVEL: "; the slow log's block
# header has the time and then "[pool name] pid N" with no level
HEAD = re.compile(r"\[(\d\d)-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?\] +"
                  rf"(?:({_LEVELS}): |(?=\[pool [^\]]*\] pid \d+$))")
POOL = re.compile(r"\[pool (?P<pool>[^\]]+)\] ")

MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    # fpm_children.c, fpm_children_bury()
    (r"child (?P<pid>\d+) exited (?:on signal (?P<signo>\d+) \((?P<sig>SIG\w+)?(?P<core> - core dumped)?\)|"
     r"with code (?P<status>\d+)) after (?P<secs>[\d.]+) seconds from start", "exited"),
    (r"child (?P<pid>\d+) started$", "started"),                                   # fpm_children_make()
    (r"server reached (?:pm\.)?max_children setting \((?P<n>\d+)\), consider raising it", "max_children"),
    (r"pid (?P<pid>\d+)$", "slowlog"),                                              # fpm_php_trace.c
    (r"child (?P<pid>\d+), script '(?P<script>[^']*)' \(request: \"(?P<req>[^\"]*)\"\) "
     r"(?P<what>executing too slow|execution timed out) \((?P<secs>[\d.]+) sec", "slow"),   # fpm_request.c
    (r"child (?P<pid>\d+) said into std(?:out|err)", "said"),
    (r"fpm is running, pid (?P<pid>\d+)", "running"),                                # fpm_events.c
    (r"exiting, bye-bye!", "bye"),
]]
FRAME = re.compile(r"\[0x[0-9a-f]+\] ")


def sniff(head: list[str]) -> int:
    """90 when the first line that is not blank has php-fpm's prefix."""
    lines = [l for l in head if l.strip()]
    if not lines:
        return 0
    m = HEAD.match(lines[0])
    return 90 if m and month_number(m.group(2)) else 0


class Reader:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()

    def header(self, line: str) -> tuple[int, int | None, int] | str | None:
        m = HEAD.match(line)
        if m is None:
            return None
        mo = month_number(m.group(2))
        d, y, h, mi, s = int(m.group(1)), int(m.group(3)), int(m.group(4)), int(m.group(5)), int(m.group(6))
        if mo is None or mi > 59 or s > 60:
            return "invalid time in a php-fpm timestamp"
        try:
            ts = self.clock.to_us(y, mo, d, h, mi, s, int(m.group(7) or 0))
        except ValueError:
            return "invalid date in a php-fpm timestamp"
        return ts, SEVERITY[m.group(8)] if m.group(8) else None, m.end()

    def event(self, n: int, h: tuple, first: str, more: list[str]) -> Event:
        ts, sev, start = h
        message = first[start:]
        text = "\n".join([message, *more]).rstrip("\n") if more else message
        attrs: dict = {}
        kind, pid = "log", None
        p = POOL.match(message)
        body = message
        if p:
            attrs["pool"] = p.group("pool")
            body = message[p.end():]
        what, m = first_rule(MESSAGES, body)
        if what == "slowlog" and sev is not None:
            what = None
        g = m.group if m else None
        if what == "exited":
            kind, pid = "process_exit", int(g("pid"))
            if g("status") is not None:
                attrs.update(code="exited", status=int(g("status")))
            else:
                attrs["code"] = "dumped" if g("core") else "killed"
                if g("sig"):
                    attrs["signal"] = g("sig")[3:]
                attrs["status"] = int(g("signo"))
                if g("core"):
                    attrs["core_dumped"] = True
            attrs["uptime_s"] = round(float(g("secs")), 6)
        elif what == "started":
            kind, pid = "service_start", int(g("pid"))
            attrs["phase"] = "spawned"
        elif what == "max_children":
            attrs.update(max_children_reached=True, max_children=int(g("n")))
        elif what == "slowlog":
            pid = int(g("pid"))
            attrs["slow_request"] = True
            frames = 0
            for l in more:
                if l.startswith("script_filename = "):
                    attrs["script_filename"] = l[18:]
                elif FRAME.match(l):
                    frames += 1
            attrs["frames"] = frames
        elif what == "slow":
            pid = int(g("pid"))
            attrs.update(script=g("script"), request=g("req"), duration_s=float(g("secs")))
            attrs["slow_request" if g("what") == "executing too slow" else "request_timeout"] = True
        elif what == "said":
            pid = int(g("pid"))
        elif what == "running":
            kind, pid = "service_start", int(g("pid"))
            attrs["phase"] = "running"
        elif what == "bye":
            kind = "service_stop"
        return Event(ts, self.ctx.local_quality, kind, text, n, n + len(more), severity=sev, process="php-fpm",
                     pid=pid, attrs=attrs or None)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return parse_records(Reader(ctx), raw, start, "php-fpm")
