"""Laravel's log (``storage/logs/laravel.log``): Monolog's line format, one event per record.

Each record starts ``[2024-05-28 14:35:15] production.ERROR: message {context} [extra]``
(Monolog's LineFormatter ``[%datetime%] %channel%.%level_name%: %message% %context% %extra%``;
Laravel prints the date as ``Y-m-d H:i:s``, the host's local time without a zone, read in the
file's zone and ``zone_assumed``; Monolog's own default ``2024-05-28T14:35:15.123456+02:00``
carries its zone and is ``exact``).  An exception in the context is printed over many lines:
``{"exception":"[object] (Class(code: 0): message at /file.php:12)``, ``[stacktrace]``,
``#0 ...`` frames, ``[previous exception] ...`` and a final ``"}``.  Every line up to the next
record's prefix belongs to the record, however long its stack trace.

``process`` is ``php``; ``unit`` is empty.  ``severity`` from the level name (DEBUG 7, INFO 6,
NOTICE 5, WARNING 4, ERROR 3, CRITICAL 2, ALERT 1, EMERGENCY 0).  attrs: ``env`` (the channel,
which Laravel names after the environment: ``production``, ``local``), ``level``; for an
exception ``exception`` (its class), ``exception_code``, ``file`` and ``line`` (where it was
thrown); for a one-line record with a JSON context, ``context`` (when small) or
``context_keys``.  Kinds:

- ``di_error``: the container could not build a class (``BindingResolutionException``,
  ``Target class [X] does not exist.``, ``ReflectionException`` ``Class "X" does not exist``):
  ``target_class``;
- ``connection_error``: a refused or exhausted connection: MySQL through PDO
  (``SQLSTATE[HY000] [1040] Too many connections``, ``[2002] Connection refused``;
  ``target`` = ``mysql``), PostgreSQL (``SQLSTATE[08006] [7] ... too many clients`` or a refused
  connection; ``postgresql``), Redis (Predis ``Connection refused [tcp://127.0.0.1:6379]``,
  phpredis ``RedisException`` ``Connection refused``; ``redis``): ``sqlstate`` and ``code`` (the
  driver's error number) for SQL, ``target_host``/``target_port`` where the text names them,
  ``connection`` (Laravel's connection name) where the message says ``(Connection: mysql, ...``;
- ``app_error``: any other record at ERROR or worse;
- ``log``: the rest.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, "[2024-05-28 14:35:15] production.ERROR: Target class [App\\\\Svc] does not exist. "
...     '{"exception":"[object] (Illuminate\\\\\\\\Contracts\\\\\\\\Container\\\\\\\\BindingResolutionException(code: 0): '
...     'Target class [App\\\\\\\\Svc] does not exist. at /var/www/Container.php:914)\\n[stacktrace]\\n#0 {main}\\n"} \\n'
...     '[2024-05-28T14:35:16.250000+02:00] production.INFO: ok {"user":1} []\\n')
>>> [(e.kind, e.severity, e.line, e.line_end, e.ts_quality) for e in events], rejects
([('di_error', 3, 1, 4, 'zone_assumed'), ('log', 6, 5, 5, 'exact')], [])
>>> a = events[0].attrs
>>> a["target_class"], a["exception"], a["exception_code"], a["file"], a["line"]
('App\\\\Svc', 'Illuminate\\\\Contracts\\\\Container\\\\BindingResolutionException', '0', '/var/www/Container.php', 914)
>>> events[1].attrs, events[1].ts_us
({'env': 'production', 'level': 'INFO', 'context': {'user': 1}}, 1716899716250000)
"""
from __future__ import annotations

import json
import re
from typing import BinaryIO, Iterator

from .context import Context
from .model import Event, Reject
from .records import parse_records
from .timeutil import parse_offset, utc_us

NAME = "laravel"
DESCRIPTION = "Laravel's log (storage/logs/laravel.log, Monolog line format): [date] env.LEVEL: message, stack traces"
SAMPLE = ("[2024-05-28 14:35:15] production.ERROR: Target class [App\\Services\\DatabaseService] does not exist. "
          "{\"exception\":\"[object] (Illuminate\\\\Contracts\\\\Container\\\\BindingResolutionException(code: 0): ...")

SEVERITY = {"DEBUG": 7, "INFO": 6, "NOTICE": 5, "WARNING": 4, "ERROR": 3, "CRITICAL": 2, "ALERT": 1, "EMERGENCY": 0}
_LEVELS = "|".join(SEVERITY)
HEAD = re.compile(r"\[(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?(Z|[+-]\d\d:?\d\d)?\] "
                  rf"(\S+)\.({_LEVELS}): ?")

# "[object] (Class(code: 0): message at /path/File.php:123)" -- message may span lines (a FatalError's
# "Uncaught ... Stack trace: ... thrown"); the frames follow after "[stacktrace]"
EXCEPTION = re.compile(r'"exception":"\[object\] \((?P<cls>[^\s(]+)\(code: (?P<code>[^)]*)\): (?P<msg>.*?) at '
                       r'(?P<file>[^\n]*?):(?P<line>\d+)\)(?=\n\[stacktrace\]|\n\[previous exception\]|"[,}]|\s*$)',
                       re.S)
TARGET_CLASS = re.compile(r"Target class \[(?P<t>[^\]]+)\] does not exist")
REFLECTION_CLASS = re.compile(r'Class \\?"?(?P<t>[\w\\]+?)\\?"? does not exist')
UNRESOLVABLE = re.compile(r"Unresolvable dependency resolving \[.*?\] in class (?P<t>[\w\\]+)")
SQLSTATE = re.compile(r"SQLSTATE\[(?P<state>\w+)\](?: \[(?P<code>\d+)\])? ?(?P<err>[^\n]*)")
# MySQL client errors (errmsg.h) and server errors that mean no connection could be had or kept
MYSQL_CONNECTION_CODES = {1040, 1203, 2002, 2003, 2005, 2006, 2013}
PG_CONNECTION = re.compile(r"too many clients|remaining connection slots|Connection refused|could not connect|"
                           r"connection to server .* failed", re.I)
PG_HOST = re.compile(r'(?:connection to server at "(?P<h1>[^"]+)"(?: \([^)]*\))?, port (?P<p1>\d+)|'
                     r'running on host "(?P<h2>[^"]+)".*?port (?P<p2>\d+))', re.S)
LARAVEL_CONN = re.compile(r"\(Connection: (?P<name>[\w-]+)(?:, Host: (?P<host>[^,]+), Port: (?P<port>\d+))?")
REDIS_URI = re.compile(r"\[(?P<scheme>tcp|tls|redis|rediss)://\[?(?P<host>[^\]\s]*?)\]?:(?P<port>\d+)\]")
REFUSED = re.compile(r"Connection refused|Connection timed out|No route to host|Name or service not known|"
                     r"getaddrinfo", re.I)

_CONTEXT_MAX = 2048


def _unescape(s: str) -> str:
    """A string from inside Monolog's JSON context (its backslashes and quotes are escaped)."""
    return s.replace('\\"', '"').replace("\\/", "/").replace("\\\\", "\\")


def sniff(head: list[str]) -> int:
    """90 when the first line that is not blank is a Monolog record and most prefixed lines are."""
    lines = [l for l in head if l.strip()]
    if not lines or not HEAD.match(lines[0]):
        return 0
    return 90


def _context(first: str, start: int) -> dict:
    """attrs for the JSON context of a one-line record: ``context`` when small, else ``context_keys``."""
    dec = json.JSONDecoder()
    pos = first.find(" {", start)
    tries = 0
    while pos >= 0 and tries < 20:
        tries += 1
        try:
            obj, end = dec.raw_decode(first, pos + 1)
        except ValueError:
            pos = first.find(" {", pos + 1)
            continue
        rest = first[end:].strip()
        if isinstance(obj, dict) and (not rest or rest in ("[]", "{}") or rest.startswith("{") and rest.endswith("}")):
            if len(first) - pos <= _CONTEXT_MAX:
                return {"context": obj}
            return {"context_keys": list(obj)}
        pos = first.find(" {", pos + 1)
    return {}


def _classify(text: str, attrs: dict, sev: int) -> str:
    exc = attrs.get("exception", "")
    m = TARGET_CLASS.search(text)
    if m:
        attrs["target_class"] = _unescape(m.group("t"))
        return "di_error"
    m = REFLECTION_CLASS.search(text) if "ReflectionException" in text else None
    if m:
        attrs["target_class"] = _unescape(m.group("t"))
        return "di_error"
    if exc.endswith("BindingResolutionException"):
        m = UNRESOLVABLE.search(text)
        if m:
            attrs["target_class"] = _unescape(m.group("t"))
        return "di_error"
    for m in SQLSTATE.finditer(text):
        code = int(m.group("code")) if m.group("code") else None
        err = m.group("err")
        target = None
        if code in MYSQL_CONNECTION_CODES:
            target = "mysql"
        elif code == 7 and PG_CONNECTION.search(text[m.start():m.start() + 2000]):
            target = "postgresql"
            h = PG_HOST.search(text, m.start(), m.start() + 2000)
            if h:
                attrs["target_host"] = h.group("h1") or h.group("h2")
                attrs["target_port"] = int(h.group("p1") or h.group("p2"))
        if target is None:
            continue
        attrs.update(sqlstate=m.group("state"), code=code, target=target)
        c = LARAVEL_CONN.search(err)
        if c:
            attrs["connection"] = c.group("name")
            if c.group("host"):
                attrs["target_host"], attrs["target_port"] = c.group("host").strip(), int(c.group("port"))
        return "connection_error"
    m = REDIS_URI.search(text)
    if m and ("Predis" in text or "Redis" in text or REFUSED.search(text[max(0, m.start() - 200):m.start()])):
        attrs.update(target="redis", target_host=m.group("host"), target_port=int(m.group("port")))
        return "connection_error"
    if "RedisException" in exc and REFUSED.search(text):
        attrs["target"] = "redis"
        return "connection_error"
    return "app_error" if sev <= 3 else "log"


class Reader:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()

    def header(self, line: str) -> tuple[int, str, int, dict, int] | str | None:
        """(ts_us, ts_quality, severity, attrs, message start) of a record's first line; a reason if
        it is broken; None if it is not one."""
        m = HEAD.match(line)
        if m is None:
            return None
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        us = int((m.group(7) or "0").ljust(6, "0"))
        if mi > 59 or s > 60:
            return "invalid time in a laravel timestamp"
        try:
            if m.group(8):
                ts = utc_us(y, mo, d, h, mi, s, us) - parse_offset(m.group(8)) * 1_000_000
                q = "exact"
            else:
                ts, q = self.clock.to_us(y, mo, d, h, mi, s, us), self.ctx.local_quality
        except ValueError:
            return "invalid date in a laravel timestamp"
        level = m.group(10)
        return ts, q, SEVERITY[level], {"env": m.group(9), "level": level}, m.end()

    def event(self, n: int, h: tuple, first: str, more: list[str]) -> Event:
        ts, q, sev, attrs, start = h
        text = "\n".join([first[start:], *more]).rstrip("\n") if more else first[start:]
        e = EXCEPTION.search(text)
        if e:
            attrs.update(exception=_unescape(e.group("cls")), exception_code=e.group("code"),
                         file=_unescape(e.group("file")), line=int(e.group("line")))
        elif not more:
            attrs.update(_context(first, start))
        kind = _classify(text, attrs, sev)
        return Event(ts, q, kind, text, n, n + len(more), severity=sev, process="php", attrs=attrs)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return parse_records(Reader(ctx), raw, start, "laravel")
