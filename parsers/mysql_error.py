"""The MySQL and MariaDB server's error log (``/var/log/mysql/error.log``, ``mysqld.log``, ``HOST.err``).

One event per record.  A record starts with a time, in one of the forms the servers write:

- MySQL 5.7 and 8: ``2020-08-06T14:25:02.835618Z 0 [Note] [MY-012487] [InnoDB] DDL log recovery : begin``:
  ISO 8601 in UTC (``Z``; an offset with ``log_timestamps=SYSTEM``): an ``exact`` time; then the thread
  (``attrs.thread``), the level, and in MySQL 8 the error code (``attrs.code``, ``MY-012487``) and the
  subsystem (``attrs.subsystem``: ``Server``, ``InnoDB``, ``Repl``, ...);
- MariaDB 10.x (and MySQL 5.6): ``2026-11-22 20:08:24 0 [Note] InnoDB: Completed initialization of buffer
  pool``, the hour padded with a space (``2022-12-07  1:00:03``): the host's local time without a zone,
  read in the file's zone (``zone_assumed``); ``InnoDB:`` at the start of a message goes to
  ``attrs.subsystem`` too;
- MariaDB and MySQL up to 5.5, MariaDB's crash report and ``mysqld_safe``: ``201122 20:08:24 [ERROR] ...``
  (``%y%m%d``, local time);
- InnoDB's own stamp on an assertion: ``2021-04-21 21:51:06 0x7f3c  InnoDB: Assertion failure in ...``;
- MySQL's crash report: ``15:31:30 UTC - mysqld got signal 6 ;`` (the date is that of the record
  before: ``inherited``), ``2026-08-14T07:51:05Z UTC - mysqld got signal 11 ;`` in later 8.0 releases.

The level words give the severity as the servers map them to syslog: ``ERROR`` 3, ``Warning`` 4,
``Note`` 6; MySQL 8's ``System`` (starts and stops) is 5.  A line without such a start belongs to the
record before it: the second line of ``ready for connections.`` (``Version: '10.11.19-MariaDB'
socket: '/run/mysqld/mysqld.sock'  port: 3306``), the crash report and its stack trace after ``got
signal``, InnoDB's assertion text, an ``assert()`` message.

``unit`` is ``mariadb`` or ``mysql``, whichever server wrote the file: ``mariadb`` where it says so
(``Starting MariaDB``, a ``-MariaDB`` version, ``mariadbd``), ``mysql`` where MySQL does (``[MY-...]``
codes, ``MySQL Community Server``, ``Percona``); a file that says neither is ``mariadb`` if its path
says ``mariadb``, else ``mysql`` with MySQL's ISO times and ``mariadb`` with the other forms (MySQL
left them with 5.6).  ``process`` is the server's command as the kernel names it: ``mariadbd`` for
MariaDB 10.5 and later (and where the version is unknown), ``mysqld`` for MySQL and older MariaDB,
from the path the server prints where it prints one; ``mysqld_safe`` on its lines.  The error log
names no pid on its lines: ``pid`` is the server's from its ``starting as process N`` line, on the
events after it until it ends.  Typed events:

- ``service_start``: ``phase`` = ``starting`` for ``/usr/sbin/mysqld (mysqld 8.0.21) starting as
  process 1234`` and MariaDB's ``Starting MariaDB 10.11.19-MariaDB ... as process 25296``
  (``version``; ``pid``), ``phase`` = ``running`` for ``/usr/sbin/mariadbd: ready for connections.``
  (``version``, ``socket``, ``port``);
- ``service_stop``: ``phase`` = ``requested`` for ``/usr/sbin/mariadbd (initiated by: unknown): Normal
  shutdown`` (``initiated_by``) and MySQL 8's ``Received SHUTDOWN from user <via user signal>``
  (``initiated_by``), ``phase`` = ``complete`` for ``/usr/sbin/mysqld: Shutdown complete``;
- ``process_exit``: the crash report, ``mysqld got signal 11 ;`` (``code`` = ``dumped``, or ``killed``
  for a signal that dumps no core; ``signal`` = ``SEGV``, ``status`` = 11, as systemd gives them;
  ``exception`` for Windows' ``got exception 0x80000003``);
- ``restart``: ``mysqld_safe``'s ``mysqld restarted``;
- ``connection_error``: ``Too many connections``, ``Aborted connection 12 to db: 'app' user: 'web' host:
  'localhost' (Got timeout reading communication packets)`` (``connection_id``, ``db``, ``user``,
  ``client_host``, ``reason``);
- ``app_error``: every other ``[ERROR]`` record and InnoDB's assertion failures; ``out_of_memory`` = true
  where it says ``Out of memory``, ``Cannot allocate`` or ``errno 12``;
- ``log``: everything else.

Every event has ``attrs.level`` (as printed) where the line has one.  MariaDB started by
``mariadbd-safe`` or under systemd often logs to syslog or the journal instead (``mysqld: 2026-11-22
20:08:24 0 [Note] ...``): those are syslog lines, read by that format.

>>> from parsers.testing import run
>>> events, rejects = run(__name__,
...     "2020-08-06T14:25:02.963127Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.21) starting as "
...     "process 1234\\n"
...     "2020-08-06T14:25:03.109022Z 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. "
...     "Version: '8.0.21'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.\\n"
...     "14:26:10 UTC - mysqld got signal 11 ;\\n"
...     "Most likely, you have hit a bug, but this error can also be caused by malfunctioning hardware.\\n")
>>> rejects
[]
>>> [(e.kind, e.ts_us, e.ts_quality, e.severity, e.unit, e.process, e.pid, e.line, e.line_end) for e in events]
... # doctest: +NORMALIZE_WHITESPACE
[('service_start', 1596723902963127, 'exact', 5, 'mysql', 'mysqld', 1234, 1, 1),
 ('service_start', 1596723903109022, 'exact', 5, 'mysql', 'mysqld', 1234, 2, 2),
 ('process_exit', 1596723970000000, 'inherited', 3, 'mysql', 'mysqld', 1234, 3, 4)]
>>> events[1].attrs
{'thread': 0, 'level': 'System', 'code': 'MY-010931', 'subsystem': 'Server', 'phase': 'running', 'version': '8.0.21', \
'socket': '/var/run/mysqld/mysqld.sock', 'port': 3306}
>>> events[2].attrs
{'level': 'ERROR', 'signal': 'SEGV', 'status': 11, 'code': 'dumped'}
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import BinaryIO, Iterator

from .context import Context
from .model import Event, Reject
from .records import first_rule, parse_records
from .signals import NO_CORE, SIGNAL_NAMES
from .timeutil import parse_offset, utc_us

NAME = "mysql_error"
DESCRIPTION = "MySQL's and MariaDB's error log: starts, shutdowns, crashes (got signal), errors, aborted connections"
SAMPLE = "2026-11-22 20:08:24 0 [Note] /usr/sbin/mariadbd: ready for connections."

SEVERITY = {"error": 3, "warning": 4, "note": 6, "system": 5}
_LEVEL = r"\[(?P<level>(?i:ERROR|Warning|Note|System))\]"
_AFTER = (rf"(?: (?P<thread>(?:0x)?[0-9a-f]+) +"
          rf"(?:{_LEVEL}(?: \[(?P<code>MY-\d+)\] \[(?P<sub>[^\]]+)\])?(?: |$)|(?=InnoDB: ))"
          rf"| {_LEVEL.replace('level', 'level2')}(?: |$)"
          r"| (?P<safe>mysqld_safe|mariadbd-safe|mariadb-safe) "
          r"| (?P<utc>UTC - ))")
# the "N" after a fraction: mysqld_safe's ".6NZ" where its date lacks %N
ISO = re.compile(r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)T(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)(?:\.(?P<f>\d{1,9})N?)?"
                 r"(?P<z>Z|[+-]\d\d:?\d\d)?" + _AFTER)
SPACED = re.compile(r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d) {1,2}(?P<h>\d{1,2}):(?P<mi>\d\d):(?P<s>\d\d)" + _AFTER)
SHORT = re.compile(r"(?P<yy>\d\d)(?P<mo>\d\d)(?P<d>\d\d) {1,2}(?P<h>\d{1,2}):(?P<mi>\d\d):(?P<s>\d\d)" + _AFTER)
CRASH_CLOCK = re.compile(r"(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d) UTC - (?=\S*?(?:mysqld|mariadbd)\S* got )")


_BIN = r"(?P<bin>\S*?(?:mysqld|mariadbd)(?:\.exe)?)"
MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    (_BIN + r" \((?:mysqld|mariadbd|server) (?P<version>[^\s)]+)(?: as [^)]*)?\) starting as process (?P<pid>\d+)",
     "starting"),
    (r"Starting MariaDB (?P<version>\S+) .*?as process (?P<pid>\d+)", "starting"),     # MariaDB 10.6.12+
    (_BIN + r": ready for connections", "ready"),
    (_BIN + r"(?: \(initiated by: (?P<by>.*)\))?: Normal shutdown", "shutdown"),
    (r"Received SHUTDOWN from user (?P<by>.*?)\. Shutting down mysqld", "shutdown"),   # MySQL 8
    (_BIN + r": Shutdown complete", "complete"),
    (_BIN + r" got (?:signal (?P<signo>\d+)|exception (?P<exc>0x[0-9a-fA-F]+)) ;", "crash"),
    (r"Aborted connection (?P<conn>\d+) to db: '(?P<db>[^']*)' user: '(?P<user>[^']*)' host: '(?P<host>[^']*)'"
     r"(?: \((?P<reason>[^)]*)\))?", "aborted"),
    (r".*Too many connections", "too_many"),
    (r"InnoDB: Assertion failure", "assert"),
]]
VERSION_LINE = re.compile(r"Version: '(?P<version>[^']*)'\s+socket: '(?P<socket>[^']*)'\s+port: (?P<port>\d+)")
MARIADB = re.compile(r"MariaDB|mariadbd|mariadb\.com|mariadb-safe")
MYSQL = re.compile(r"\[MY-\d+\]|MySQL Community Server|MySQL Enterprise Server|Percona Server|Percona XtraDB")
OOM = re.compile(r"(?i)out of memory|cannot allocate|errno:? 12\b")


def sniff(head: list[str]) -> int:
    """90 when most of the first lines that start a record are the server's."""
    lines = [l for l in head if l.strip() and not l[:1].isspace()][:10]
    hits = sum(1 for l in lines if _header_match(l))
    return 90 if hits and hits * 3 >= len(lines) else 0


def _header_match(line: str) -> re.Match | None:
    if not line[:1].isdigit():
        return None
    if line[4:5] == "-":
        return ISO.match(line) if line[10:11] == "T" else SPACED.match(line)
    if line[2:3] == ":":
        return CRASH_CLOCK.match(line)
    return SHORT.match(line)


def _binary(version: str | None, path: str | None) -> str | None:
    """mariadbd or mysqld: from the path the server printed, else from a MariaDB version (10.5 renamed it)."""
    if path:
        base = re.split(r"[\\/]", path)[-1].removesuffix(".exe")
        if base in ("mysqld", "mariadbd"):
            return base
    if version and "mariadb" in version.lower():
        m = re.match(r"(\d+)\.(\d+)", version)
        if m:
            return "mariadbd" if (int(m.group(1)), int(m.group(2))) >= (10, 5) else "mysqld"
    return None


class Reader:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.product: str | None = None      # which server the file shows it is from
        self.named = "mariadb" in (ctx.path or "").lower()   # or its path names one
        self.first_form: str | None = None   # the time form of the first record: the default product
        self.binary: str | None = None
        self.pid: int | None = None
        self.last_ts: int | None = None

    # -- records
    def header(self, line: str) -> tuple | str | None:
        m = _header_match(line)
        if m is None:
            return None
        g = m.group
        form = "clock" if m.re is CRASH_CLOCK else "iso" if m.re is ISO else "local"
        if self.first_form is None and form != "clock":
            self.first_form = form
        h, mi, s = int(g("h")), int(g("mi")), int(g("s"))
        if h > 23 or mi > 59 or s > 60:
            return "invalid time in a mysql timestamp"
        if form == "clock":   # time of day in UTC; the date of the record before
            if self.last_ts is None:
                return None, "untimed", m
            day = datetime.fromtimestamp(self.last_ts / 1e6, timezone.utc).date()
            ts = utc_us(day.year, day.month, day.day, h, mi, s, 0)
            if ts < self.last_ts - 12 * 3600 * 1_000_000:   # past midnight since
                ts += 86400 * 1_000_000
            return ts, "inherited", m
        y = int(g("y")) if m.re is not SHORT else 2000 + int(g("yy"))
        mo, d = int(g("mo")), int(g("d"))
        us = int((g("f") or "0")[:6].ljust(6, "0")) if form == "iso" else 0
        try:
            datetime(y, mo, d)   # utc_us would roll Feb 30 over into March
            if form == "iso" and g("z"):
                ts, q = utc_us(y, mo, d, h, mi, s, us) - parse_offset(g("z")) * 1_000_000, "exact"
            else:
                ts, q = self.clock.to_us(y, mo, d, h, mi, s, us), self.ctx.local_quality
        except (ValueError, OverflowError):
            return "invalid date in a mysql timestamp"
        return ts, q, m

    def event(self, n: int, h: tuple, first: str, more: list[str]) -> Event:
        ts, q, m = h
        if ts is not None:
            self.last_ts = ts
        g = m.group
        message = first[m.end():]
        text = "\n".join([message, *more]).rstrip("\n") if more else message
        if self.product is None:
            if MARIADB.search(text):
                self.product = "mariadb"
            elif MYSQL.search(text):
                self.product = "mysql"
        attrs: dict = {}
        gd = m.groupdict()
        if gd.get("thread") is not None:
            t = gd["thread"]
            attrs["thread"] = int(t) if t.isdigit() else t
        level = gd.get("level") or gd.get("level2")
        if gd.get("utc") or m.re is CRASH_CLOCK:
            level = "ERROR"   # the crash report has no level: it is one
        if level:
            attrs["level"] = level
        if gd.get("code"):
            attrs["code"] = gd["code"]
        if gd.get("sub"):
            attrs["subsystem"] = gd["sub"]
        elif message.startswith("InnoDB: "):
            attrs["subsystem"] = "InnoDB"
        sev = SEVERITY.get(level.lower()) if level else None
        process, pid = None, self.pid
        kind = "log"
        if gd.get("safe"):
            process, pid = gd["safe"], None
            if re.match(r"\S*?(?:mysqld|mariadbd) restarted", message):
                kind = "restart"
            return Event(ts, q, kind, text, n, n + len(more), severity=sev, process=process, pid=pid,
                         attrs=attrs or None)
        what, mm = first_rule(MESSAGES, message)
        mg = mm.groupdict() if mm else {}
        if what == "starting":
            kind, pid = "service_start", int(mg["pid"])
            self.pid = pid
            attrs.update(phase="starting", version=mg["version"])
            self.binary = _binary(mg["version"], mg.get("bin")) or self.binary
        elif what == "ready":
            kind = "service_start"
            attrs["phase"] = "running"
            v = VERSION_LINE.search(text)
            if v:
                attrs.update(version=v.group("version"), socket=v.group("socket"), port=int(v.group("port")))
            self.binary = _binary(attrs.get("version"), mg.get("bin")) or self.binary
        elif what == "shutdown":
            kind = "service_stop"
            attrs["phase"] = "requested"
            if mg.get("by"):
                attrs["initiated_by"] = mg["by"]
        elif what == "complete":
            kind = "service_stop"
            attrs["phase"] = "complete"
            self.pid = None
        elif what == "crash":
            kind = "process_exit"
            if mg.get("signo"):
                signo = int(mg["signo"])
                sig = SIGNAL_NAMES.get(signo, str(signo))
                attrs.update(signal=sig, status=signo, code="killed" if sig in NO_CORE else "dumped")
            else:
                attrs.update(exception=mg["exc"], code="dumped")
            self.pid = None
        elif what == "aborted":
            kind = "connection_error"
            attrs.update(connection_id=int(mg["conn"]), db=mg["db"], user=mg["user"], client_host=mg["host"])
            if mg.get("reason"):
                attrs["reason"] = mg["reason"]
        elif what == "too_many":
            kind = "connection_error"
        elif what == "assert" or (level or "").upper() == "ERROR":
            kind = "app_error"
            if sev is None:
                sev = 3
        if kind == "app_error" and OOM.search(text):
            attrs["out_of_memory"] = True
        return Event(ts, q, kind, text, n, n + len(more), severity=sev, process=self.binary, pid=pid,
                     attrs=attrs or None)

    # -- what the file as a whole tells
    def finish(self, r: Event | Reject) -> Event | Reject:
        """Name the server on an event: the unit, and the command where its line did not."""
        if isinstance(r, Reject):
            return r
        unit = self.product or ("mariadb" if self.named or self.first_form != "iso" else "mysql")
        process = r.process or self.binary or ("mariadbd" if unit == "mariadb" else "mysqld")
        return r._replace(unit=unit, process=process)


HOLD = 10_000   # events held back until the file says which server wrote it


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    reader = Reader(ctx)
    held: list[Event | Reject] = []
    for r in parse_records(reader, raw, start, "mysql error log"):
        if reader.product is None and len(held) < HOLD:
            held.append(r)
            continue
        for x in held:
            yield reader.finish(x)
        held = []
        yield reader.finish(r)
    for x in held:
        yield reader.finish(x)
