"""Redis's server log (``/var/log/redis/redis-server.log``), one event per record.

Three line layouts, from redis's ``serverLogRaw`` (``redisLogRaw`` before 3.0):

- redis 3.0 to 5.x: ``1255:M 14 Oct 03:00:46.069 # Can't save in background: fork: Cannot allocate memory``:
  the pid, a role character (``M`` master, ``S`` replica, ``C`` a child writing the RDB or AOF file, and
  also the server itself before it has noted its own pid at start; ``X`` sentinel), the host's local time
  without a year, then the level character and the message;
- redis 6 and later: the same with the year, ``1141:M 09 Sep 2021 14:12:06.299 # ...``;
- redis 2.x: ``[6343] 11 Apr 10:09:15.985 # Server started, Redis version 2.8.7`` (no role, no year).

The level characters are ``.`` debug, ``-`` verbose, ``*`` notice and ``#`` warning (``attrs.level``);
they give the severity as redis maps them to syslog: 7, 6, 5, 4.  The time is the host's local
time (``strftime`` of ``localtime``), read in the file's zone: ``zone_assumed``, or ``year_inferred``
where the line has no year (the year as for syslog's BSD lines: from ``--year``, else from the file's
modification time).

Signal handlers write ``1:signal-handler (1602165426) Received SIGTERM scheduling shutdown...``
(``[1 | signal handler] (1455179074) ...`` in redis 2.x): epoch seconds, an ``exact`` time; no level
(they are warnings: severity 4).  Lines without a prefix belong to the record before them: a crash
report's stack trace and INFO dump, the software watchdog's trace.  Redis draws its ASCII-art logo
at start (before 4.0 whenever it logs to a file, later with ``always-show-logo yes``) as raw lines
without a time; the logo is a record of its own (``attrs.logo``, with ``version``, ``mode``, ``port``
and its ``pid``), given the time of the record after it (``inherited``).

``process`` is ``redis-server`` (``redis-sentinel`` on sentinel lines), ``pid`` the line's;
``unit`` is the log file's name where it starts with ``redis`` (``redis-server.log``,
``redis_6379.log``, ``redis-sentinel.log``), else ``redis-server`` (``redis-sentinel`` for sentinel
lines).  ``attrs.role`` is ``master``, ``replica``, ``child`` or ``sentinel``.  Typed events:

- ``service_start``: ``phase`` = ``starting`` for ``Server started, Redis version 3.0.6`` (before
  4.0; ``version``) and ``oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo`` (4.0 and later), one of
  them per start; ``phase`` = ``running`` for ``The server is now ready to accept connections on port
  6379`` (``port``; ``... at /path.sock``: ``socket``) and ``Ready to accept connections`` (4.0 and
  later; ``tcp``/``unix``/``tls`` after it in 7.2: ``transport``);
- ``service_stop``: ``phase`` = ``requested`` for ``Received SIGTERM scheduling shutdown...``
  (``signal`` = ``TERM``, ``INT``), ``phase`` = ``complete`` for ``Redis is now ready to exit, bye
  bye...`` (``Sentinel is now ...`` too);
- ``process_exit``: the server's own crash report, ``Redis 6.2.6 crashed by signal: 11, si_code: 1``
  (``code`` = ``dumped``, or ``killed`` for a signal that dumps no core; ``signal`` = ``SEGV``,
  ``status`` = 11 as systemd gives them);
- ``app_error`` with ``out_of_memory`` = true: ``Can't save in background: fork: Cannot allocate
  memory`` (and the AOF rewrite's; ``error``), ``OOM command not allowed when used memory >
  'maxmemory'``, ``Out Of Memory allocating N bytes!`` (``bytes``), ``Redis aborting for OUT OF
  MEMORY``; ``app_error`` without it: a fork that failed otherwise, a background save or AOF rewrite
  whose child was killed (``Background saving terminated by signal 9``: ``signal``, ``status``,
  ``child_pid`` from the ``Background saving started by pid N`` line before it) or failed, an
  assertion or panic (``=== ASSERTION FAILED ===``, ``Guru Meditation``), a crash report from a
  child;
- ``connection_error``: a replica that cannot reach its master (``Error condition on socket for
  SYNC: Connection refused``: ``error``);
- ``log``: everything else (``version`` on ``Redis version=7.0.0, ... just started``, ``mode`` and
  ``port`` on ``Running mode=standalone, port=6379.``, ``child_pid`` on ``Background saving started
  by pid N``).

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> events, rejects = run(__name__,
...     "1255:M 14 Oct 03:00:46.044 * 10 changes in 300 seconds. Saving...\\n"
...     "1255:M 14 Oct 03:00:46.069 # Can't save in background: fork: Cannot allocate memory\\n"
...     "1255:signal-handler (1602644447) Received SIGTERM scheduling shutdown...\\n", Context(year=2020))
>>> rejects
[]
>>> [(e.kind, e.ts_us, e.ts_quality, e.severity, e.pid) for e in events]  # doctest: +NORMALIZE_WHITESPACE
[('log', 1602644446044000, 'year_inferred', 5, 1255), ('app_error', 1602644446069000, 'year_inferred', 4, 1255),
 ('service_stop', 1602644447000000, 'exact', 4, 1255)]
>>> events[1].attrs
{'role': 'master', 'level': 'warning', 'error': 'fork: Cannot allocate memory', 'out_of_memory': True}
>>> events[2].attrs, events[2].unit, events[2].process
({'level': 'warning', 'signal': 'TERM', 'phase': 'requested'}, 'redis-server', 'redis-server')
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterable, Iterator

from .context import Context
from .model import Event, Reject
from .records import first_rule, parse_records
from .signals import NO_CORE, SIGNAL_NAMES
from .timeutil import month_number

NAME = "redis"
DESCRIPTION = "redis-server's log (redis 2.x to 7): starts, shutdowns, crashes, fork and memory failures"
SAMPLE = "1255:M 14 Oct 03:00:46.069 # Can't save in background: fork: Cannot allocate memory"

LEVELS = {".": ("debug", 7), "-": ("verbose", 6), "*": ("notice", 5), "#": ("warning", 4)}
ROLES = {"M": "master", "S": "replica", "C": "child", "X": "sentinel"}
_TIME = (r"(?P<d>\d\d) (?P<mon>[A-Za-z]{3}) (?:(?P<y>\d{4}) )?(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<ms>\d{3}))?"
         r" (?P<lvl>[.*#-])(?: |$)")
HEAD = re.compile(r"(?P<pid>\d+):(?P<role>[MSCX]) " + _TIME)     # redis 3.0+ ("%d:%c %s %c %s\n")
HEAD2 = re.compile(r"\[(?P<pid>\d+)\] " + _TIME)                  # redis 2.x ("[%d] %s %c %s\n")
# serverLogFromHandler: "%d:signal-handler (%ld) %s\n"; redisLogFromHandler (2.x): "[%d | signal handler] (%ld) %s\n"
SIGHEAD = re.compile(r"(?:(?P<pid>\d+):signal-handler|\[(?P<pid2>\d+) \| signal handler\]) \((?P<epoch>\d+)\)(?: |$)")
LOGO = re.compile(r" {8,}_\._ *$")                                # asciilogo.h, first line
LOGO_FIELDS = [(re.compile(p), k) for p, k in [
    (r"Redis (?:Community Edition )?(?P<v>\d[^\s(]*) \(", "version"), (r"Running in (?P<v>\w+) mode", "mode"),
    (r"Port: (?P<v>\d+)", "port"), (r"PID: (?P<v>\d+)", "pid")]]


MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    (r"Server started, Redis version (?P<version>\S+)", "started"),                  # 2.x, 3.x
    (r"oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", "starting"),                  # 4.0+
    (r"Redis version=(?P<version>[^,]+), bits=\d+, commit=[^,]*, modified=\d+, pid=\d+, just started", "version"),
    (r"Ready to accept connections(?: (?P<transport>\w+))?\s*$", "ready"),            # 4.0+ (7.2: tcp, unix, tls)
    (r"The server is now ready to accept connections (?:on port (?P<port>\d+)|at (?P<socket>\S+))", "ready"),
    (r"Running mode=(?P<mode>\w+), port=(?P<port>\d+)", "mode"),
    (r"Received SIG(?P<sig>[A-Z]+),? scheduling shutdown", "shutdown"),
    (r"(?:Redis|Sentinel) is now ready to exit, bye bye", "exit"),
    (r"\s*Redis (?P<version>\S+) crashed by signal: (?P<signo>\d+)", "crashed"),     # debug.c sigsegvHandler
    (r"Can't (?:save|rewrite append only file) in background: (?P<error>.*)", "fork"),
    (r"OOM command not allowed when used memory > 'maxmemory'", "oom"),
    (r"(?i:Out of memory allocating (?P<bytes>\d+) bytes)", "oom"),                   # zmalloc OOM handler
    (r"Redis aborting for OUT OF MEMORY", "oom"),
    (r"Background saving started by pid (?P<pid>\d+)", "bg_started"),
    (r"Background (?:saving|AOF rewrite|append only file rewriting) terminated by signal (?P<signo>\d+)", "bg_signal"),
    (r"Background saving error|Background (?:AOF rewrite|append only file rewriting) terminated with error",
     "bg_error"),
    (r"=== ASSERTION FAILED ===|Guru Meditation: ", "assert"),
    (r"Error condition on socket for SYNC: (?P<error>.*)", "sync_error"),
]]


def sniff(head: list[str]) -> int:
    """90 when most of the first lines that start a record (not the logo, not a trace) are redis's."""
    lines = [l for l in head if l.strip() and not l[:1].isspace()][:10]
    hits = sum(1 for l in lines if HEAD.match(l) or HEAD2.match(l) or SIGHEAD.match(l))
    return 90 if hits and hits * 2 >= len(lines) else 0


def unit_from_path(path: str | None) -> str | None:
    """The log file's name as a unit where it names a redis (``redis-server.log.2.gz`` -> redis-server)."""
    name = re.split(r"[\\/]", path or "")[-1].lower()
    name = re.sub(r"(?:\.(?:gz|xz|bz2|zst))?$", "", name)
    name = re.sub(r"(?:[.-]\d+)*$", "", name)             # rotated: .1, .2, -20240528
    name = re.sub(r"\.(?:log|txt|out)$", "", name)
    return name if re.fullmatch(r"redis[\w.@-]*", name) else None


class Reader:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.years = ctx.years()
        self.unit = unit_from_path(ctx.path)
        self.child_pid: int | None = None   # the last background save's child

    def header(self, line: str) -> tuple | str | None:
        c = line[:1]
        if c.isdigit() or c == "[":
            m = HEAD.match(line) if c.isdigit() else HEAD2.match(line)
            if m:
                g = m.group
                mo = month_number(g("mon"))
                d, h, mi, s = int(g("d")), int(g("h")), int(g("mi")), int(g("s"))
                if mo is None or h > 23 or mi > 59 or s > 60:
                    return "invalid time in a redis timestamp"
                y = int(g("y")) if g("y") else self.years.year(mo, d)
                try:
                    ts = self.clock.to_us(y, mo, d, h, mi, s, int(g("ms") or 0) * 1000)
                except ValueError:   # Feb 29 in a guessed year that has none, day 31 of a 30-day month
                    return "invalid date in a redis timestamp"
                q = self.ctx.local_quality if g("y") else "year_inferred"
                role = ROLES[g("role")] if c.isdigit() else None
                return ts, q, int(g("pid")), role, g("lvl"), m.end()
            m = SIGHEAD.match(line)
            if m:
                return int(m.group("epoch")) * 1_000_000, "exact", int(m.group("pid") or m.group("pid2")), None, \
                    None, m.end()
            return None
        if c == " " and LOGO.match(line):
            return None, "untimed", None, None, "logo", 0
        return None

    def event(self, n: int, h: tuple, first: str, more: list[str]) -> Event:
        ts, q, pid, role, lvl, start = h
        if lvl == "logo":
            return self._logo(n, first, more)
        message = first[start:]
        text = "\n".join([message, *more]).rstrip("\n") if more else message
        attrs: dict = {}
        if role:
            attrs["role"] = role
        level, sev = LEVELS[lvl] if lvl else ("warning", 4)
        attrs["level"] = level
        kind = "log"
        what, m = first_rule(MESSAGES, message)
        g = m.group if m else None
        if what in ("started", "starting"):
            kind = "service_start"
            attrs["phase"] = "starting"
            if what == "started":
                attrs["version"] = g("version")
        elif what == "version":
            attrs["version"] = g("version")
        elif what == "ready":
            kind = "service_start"
            attrs["phase"] = "running"
            for k, v in m.groupdict().items():
                if v:
                    attrs[k] = int(v) if k == "port" else v
        elif what == "mode":
            attrs.update(mode=g("mode"), port=int(g("port")))
        elif what == "shutdown":
            kind = "service_stop"
            attrs.update(signal=g("sig"), phase="requested")
        elif what == "exit":
            kind = "service_stop"
            attrs["phase"] = "complete"
        elif what == "crashed":
            signo = int(g("signo"))
            sig = SIGNAL_NAMES.get(signo, str(signo))
            attrs.update(version=g("version"), signal=sig, status=signo)
            if role == "child":
                kind = "app_error"
            else:
                kind = "process_exit"
                attrs["code"] = "killed" if sig in NO_CORE else "dumped"
        elif what == "fork":
            kind = "app_error"
            attrs["error"] = g("error")
            if "Cannot allocate memory" in g("error"):
                attrs["out_of_memory"] = True
        elif what == "oom":
            kind = "app_error"
            attrs["out_of_memory"] = True
            if m.groupdict().get("bytes"):
                attrs["bytes"] = int(g("bytes"))
        elif what == "bg_started":
            self.child_pid = int(g("pid"))
            attrs["child_pid"] = self.child_pid
        elif what == "bg_signal":
            kind = "app_error"
            signo = int(g("signo"))
            attrs.update(signal=SIGNAL_NAMES.get(signo, str(signo)), status=signo)
            if self.child_pid is not None:
                attrs["child_pid"] = self.child_pid
        elif what in ("bg_error", "assert"):
            kind = "app_error"
        elif what == "sync_error":
            kind = "connection_error"
            attrs["error"] = g("error")
        process = "redis-sentinel" if role == "sentinel" else "redis-server"
        return Event(ts, q, kind, text, n, n + len(more), severity=sev, unit=self.unit or process, process=process,
                     pid=pid, attrs=attrs)

    def _logo(self, n: int, first: str, more: list[str]) -> Event:
        text = "\n".join([first, *more]).rstrip("\n")
        attrs: dict = {"logo": True}
        for rx, k in LOGO_FIELDS:
            m = rx.search(text)
            if m:
                attrs[k] = int(m.group("v")) if k in ("port", "pid") else m.group("v")
        pid = attrs.pop("pid", None)
        process = "redis-sentinel" if attrs.get("mode") == "sentinel" else "redis-server"
        return Event(None, "untimed", "log", text, n, n + len(more), severity=5, unit=self.unit or process,
                     process=process, pid=pid, attrs=attrs)


def _logo_times(records: Iterable[Event | Reject]) -> Iterator[Event | Reject]:
    """The logo, which has no time, takes the time of the record after it (redis draws it as it starts)."""
    waiting: list[Event | Reject] = []    # a logo and whatever came after it, until a timed record
    last_ts = None
    for r in records:
        if isinstance(r, Event) and r.ts_us is None:
            waiting.append(r)
            continue
        if isinstance(r, Event):
            for w in waiting:
                yield w._replace(ts_us=r.ts_us, ts_quality="inherited") if isinstance(w, Event) else w
            waiting = []
            last_ts = r.ts_us
            yield r
        elif waiting:
            waiting.append(r)
        else:
            yield r
    for w in waiting:   # nothing after it: the time of the record before, if any
        if isinstance(w, Event) and last_ts is not None:
            w = w._replace(ts_us=last_ts, ts_quality="inherited")
        yield w


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return _logo_times(parse_records(Reader(ctx), raw, start, "redis"))
