"""A NestJS app's console output: Nest's own logger, and the JSON loggers Nest apps use.

Nest's default ``ConsoleLogger`` writes ``[Nest] 12345  - 05/20/2024, 2:35:01
PM     LOG [NestFactory] Starting Nest application... +2ms``: the app prefix
(``Nest`` unless the app set another), the pid, the host's local time as the
locale prints it (``toLocaleString``), the level word (``LOG ERROR WARN DEBUG
VERBOSE FATAL``: severity 6 3 4 7 7 2), the context in brackets
(``attrs.context``) and the time since the logger's last line
(``attrs.delta_ms``).  ANSI colour codes (Nest colours even when not on a
TTY) are stripped, complete codes only.  ``pid`` is Nest's, ``process`` is
``node``; the message is the text after the context, without the delta.

Dates: en-US ``MM/DD/YYYY, h:mm:ss AM/PM`` by default; en-GB ``DD/MM/YYYY,
HH:MM:SS`` (24 h, no AM/PM) and other day-first locales are told from evidence
in the file's first lines (a first field over 12, or a time without AM/PM),
never line by line; Nest 6 printed ``2019-06-30 1:40 AM`` or ``11/24/2019,
5:00 PM`` (minutes only: ``attrs.ts_resolution_s`` = 60) and no level word (the
level is then read from the prefix's colour when the colours are kept).  The
time has no zone: it is read in the file's zone (``zone_assumed``).

Lines after a record that belong to it are folded into it: stack frames,
indented lines, ``Potential solutions:`` and its ``- `` lines, an object's
braces, blank lines between such lines, and after an ERROR/WARN/FATAL (or
level-less) record the ``Error: ...`` that Nest prints after it.  Any other
line (another library's ``console.error``, ``tsc --watch`` output, an npm
banner) is an event of its own, with the time of the record before it
(``inherited``) or none (``untimed``); its stack trace is folded as in
pm2_app.  Blank lines not inside a record are rejected (``blank line``).  A
docker compose prefix (``api-1  | ``) is stripped when every non-blank line of
the file's first lines has one (``attrs.container``).

JSON lines: pino (``{"level":30,"time":1716906912123,"pid":1,"hostname":"h",
"msg":"..."}``; levels 10..60), winston's JSON format (``{"level":"error",
"message":"...","timestamp":"2024-05-28T14:35:12.123Z"}``) and Nest 11's
``json: true`` console logger: their times are exact (an ISO time without an
offset is ``zone_assumed``).  ``attrs.logger`` says which.

Kinds (:func:`classify`, which the process-manager readers can use on an
app's folded output): ``di_error`` (Nest's UnknownDependencies and other
injector errors: ``provider``, ``missing``, ``index``, ``module``),
``connection_error`` (ECONNREFUSED and the like, MySQL's too many
connections, PostgreSQL's too many clients, Prisma P1001/P1000-style,
Mongo server selection, TypeORM's ``Unable to connect to the database``:
``target_host``, ``target_port``, ``target``, ``code``), ``app_error``
(ERROR/FATAL records otherwise, unhandled rejections, an uncaught error's
stack printed on its own) and ``log`` (``leak_hint`` = true for Node's
MaxListenersExceededWarning).

The journal's and syslog's readers type an app's output, where each line is
an entry of its own, with these rules and parsers.node_heap's
(:class:`AppStream`, at the end of this module).

>>> from parsers.testing import run
>>> events, rejects = run(__name__,
...     "[Nest] 4656  - 09/06/2023, 16:35:31   ERROR [ExceptionHandler] Nest can't resolve dependencies of the "
...     "ItemsService (?). Please make sure that the argument ItemModel at index [0] is available in the AppModule "
...     "context.\\n\\nPotential solutions:\\n\\n[Nest] 4656  - 09/06/2023, 16:35:32     LOG [NestFactory] up +2ms\\n")
>>> [(e.line, e.line_end, e.kind, e.severity, e.pid, e.ts_us, e.ts_quality) for e in events]
[(1, 3, 'di_error', 3, 4656, 1686328531000000, 'zone_assumed'), (5, 5, 'log', 6, 4656, 1686328532000000, 'zone_assumed')]
>>> a = events[0].attrs
>>> a["provider"], a["missing"], a["index"], a["module"], a["context"], events[1].attrs
('ItemsService', 'ItemModel', 0, 'AppModule', 'ExceptionHandler', {'context': 'NestFactory', 'delta_ms': 2})
>>> [(r.line, r.reason) for r in rejects]
[(4, 'blank line')]
>>> classify("[ioredis] Unhandled error event: Error: connect ECONNREFUSED 127.0.0.1:6379")
('connection_error', {'code': 'ECONNREFUSED', 'target_host': '127.0.0.1', 'target_port': 6379, 'target': 'redis'})
"""
from __future__ import annotations

import json
import re
from collections import OrderedDict, deque
from itertools import chain, islice
from typing import Any, BinaryIO, Iterable, Iterator

from . import node_heap
from .context import Context, text_lines
from .model import Event, Reject
from .pm2_app import ERROR_HEAD, FRAME, _Fold
from .timeutil import LocalClock, parse_offset, utc_us

NAME = "nestjs"
DESCRIPTION = ("a NestJS app's output: Nest's console logger ([Nest] pid - date LEVEL [Context] ...), "
               "pino and winston JSON lines")
SAMPLE = "[Nest] 12345  - 05/20/2024, 2:35:01 PM     LOG [NestFactory] Starting Nest application... +2ms"

SEVERITY = {"LOG": 6, "ERROR": 3, "WARN": 4, "DEBUG": 7, "VERBOSE": 7, "FATAL": 2}
# Nest's colours by level (cli-colors.util: green, red, yellow, magentaBright/magenta, cyanBright/cyan, bold)
COLOUR_SEVERITY = {"32": 6, "31": 3, "33": 4, "35": 7, "95": 7, "36": 7, "96": 7, "1": 2}
PINO_SEVERITY = {10: 7, 20: 7, 30: 6, 40: 4, 50: 3, 60: 2}
WORD_SEVERITY = {"fatal": 2, "emerg": 0, "alert": 1, "crit": 2, "critical": 2, "error": 3, "err": 3,
                 "warn": 4, "warning": 4, "notice": 5, "info": 6, "log": 6, "http": 6, "verbose": 7,
                 "debug": 7, "silly": 7, "trace": 7}

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_FIRST_SGR = re.compile(r"\x1b\[([0-9;]*)m")
# docker compose: "api-1  | " (v2) or "api_1  | " (v1), names padded to one width
COMPOSE = re.compile(r"(?P<name>[A-Za-z0-9][\w.-]*[-_]\d+) *\| ?")
HEAD = re.compile(
    r"\[(?P<app>[^\]\s][^\]]{0,40})\] (?P<pid>\d+)\s+- "
    r"(?P<a>\d{1,4})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{1,4})\.?,?\s+"
    r"(?P<h>\d{1,2}):(?P<mi>\d\d)(?::(?P<s>\d\d))?(?:\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?"
    r"(?:\s+(?P<level>LOG|ERROR|WARN|DEBUG|VERBOSE|FATAL)(?= |$))?\s*"
    r"(?:\[(?P<ctx>[^\]]*)\] ?)?")
DELTA = re.compile(r"\s*\+(\d+)ms\s*$")
HEAD_LINES = 1000      # lines read ahead to decide the date order and the compose prefix


def strip_ansi(line: str) -> str:
    return ANSI.sub("", line) if "\x1b" in line else line


# --- typing one message ----------------------------------------------------------------------------------------

DI = re.compile(r"Nest can't resolve dependencies of the (?P<provider>[^\s(.]+)(?: \((?P<args>[^)]*)\))?\. "
                r"Please make sure that the (?:argument (?P<missing>.*?) at index \[(?P<index>\d+)\]"
                r"|(?P<prop>\S+) property) is available in the (?P<module>\S+?)(?: module)? context")
DI_OTHER = [
    (re.compile(r"Nest could not find (?P<missing>.+?) element"), "UnknownElementException"),
    (re.compile(r"Nest cannot export a provider/module that is not a part of the currently processed module "
                r"\((?P<module>[^)]+)\)"), "UnknownExportException"),
    (re.compile(r"Nest cannot create the (?:module )?(?P<module>.+?) instance"), "UndefinedModuleException"),
    (re.compile(r"Nest can't create an instance of (?P<provider>\S+)"), "UndefinedDependencyException"),
    (re.compile(r"A circular dependency between modules"), "CircularDependencyException"),
]
SOCKET = re.compile(r"\b(?:connect )?(?P<code>ECONNREFUSED|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET)"
                    r"(?: (?P<host>\[?[\w.:-]*?\]?):(?P<port>\d{1,5})\b)?")
NOTFOUND = re.compile(r"getaddrinfo (?P<code>ENOTFOUND|EAI_AGAIN) (?P<host>[\w.-]+)(?: [\w.-]+:(?P<port>\d+))?")
PRISMA = re.compile(r"(?:(?P<code>P10\d\d)\b.*?)?Can't reach database server at `(?P<host>[^`:]+)(?::|`:`)"
                    r"(?P<port>\d+)`", re.S)
PORTS = {6379: "redis", 6380: "redis", 26379: "redis", 3306: "mysql", 5432: "postgres", 27017: "mongodb",
         11211: "memcached", 5672: "rabbitmq", 9200: "elasticsearch", 1433: "mssql", 9092: "kafka"}
HINTS = [(re.compile(r"ioredis|\bredis", re.I), "redis"),
         (re.compile(r"Mongo\w*Error|mongodb|mongoose", re.I), "mongodb"),
         (re.compile(r"\bER_[A-Z_]+|mysql|mariadb", re.I), "mysql"),
         (re.compile(r"postgres|\bpg\b", re.I), "postgres")]
LEAK = re.compile(r"MaxListenersExceededWarning: Possible EventEmitter memory leak detected\. (?P<n>\d+) "
                  r"(?P<event>\S+) listeners added(?: to (?P<emitter>\[?[^\]\n.]+\]?))?")
UNHANDLED = re.compile(r"UnhandledPromiseRejection|Unhandled promise rejection|unhandledRejection|"
                       r"triggerUncaughtException\(err, true /\* fromPromise \*/\)")
NODE_PID = re.compile(r"\(node:(\d+)\) ")


def _target(text: str, port: int | None) -> str | None:
    if port in PORTS:
        return PORTS[port]
    for rx, name in HINTS:
        if rx.search(text):
            return name
    return None


def classify(message: str) -> tuple[str, dict[str, Any]] | None:
    """(kind, attrs) for an app's message (folded lines included) that says something typed, else None.

    For pm2_app / supervisor_app events and any other reader of a Node app's output; a record's level is
    not known here (an ERROR record that this leaves untyped is an ``app_error`` for the caller).

    >>> classify("Error: Can't reach database server at `db:5432`")
    ('connection_error', {'target_host': 'db', 'target_port': 5432, 'target': 'postgres'})
    >>> classify("Error: ER_CON_COUNT_ERROR: Too many connections")
    ('connection_error', {'code': 'ER_CON_COUNT_ERROR', 'target': 'mysql'})
    >>> classify("(node:7) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 error "
    ...          "listeners added to [Redis]. Use emitter.setMaxListeners() to increase limit")
    ('log', {'leak_hint': True, 'listeners': 11, 'event': 'error', 'emitter': 'Redis', 'pid': 7})
    >>> classify("listening on :3000") is None
    True
    """
    if not _TRIGGER_RX.search(message):     # every message typed here holds one of TRIGGERS
        return None
    m = DI.search(message)
    if m:
        a: dict[str, Any] = {"exception": "UnknownDependenciesException", "provider": m.group("provider")}
        if m.group("args") is not None:
            a["dependencies"] = [x.strip() for x in m.group("args").split(",")] if m.group("args").strip() else []
        if m.group("index") is not None:
            missing = m.group("missing").strip()
            if len(missing) >= 2 and missing[0] == missing[-1] == '"':
                missing, a["token"] = missing[1:-1], True      # a string injection token
            a["missing"] = missing or None
            a["index"] = int(m.group("index"))
        else:
            a["missing"], a["property"] = m.group("prop").strip('"'), True
        a["module"] = m.group("module")
        return "di_error", a
    for rx, exc in DI_OTHER:
        m = rx.search(message)
        if m:
            return "di_error", {"exception": exc, **{k: v for k, v in m.groupdict().items() if v}}

    a = {}
    if "ER_CON_COUNT_ERROR" in message or "Too many connections" in message:
        a = {"code": "ER_CON_COUNT_ERROR", "target": "mysql"}
    elif "too many clients already" in message:
        a = {"code": "53300", "target": "postgres"}
    elif (m := PRISMA.search(message)):
        port = int(m.group("port"))
        a = {"code": m.group("code"), "target_host": m.group("host"), "target_port": port,
             "target": _target(message, port)}
    elif (m := SOCKET.search(message)) or (m := NOTFOUND.search(message)):
        port = int(m.group("port")) if m.group("port") else None
        a = {"code": m.group("code"), "target_host": m.group("host") or None, "target_port": port,
             "target": _target(message, port)}
    elif "MaxRetriesPerRequestError" in message or "Reached the max retries per request limit" in message:
        a = {"code": "MaxRetriesPerRequestError", "target": "redis"}   # ioredis gave up on a command
    if "Unable to connect to the database" in message:                 # TypeORM (and Nest's TypeOrmModule)
        a.setdefault("target", _target(message, None))
        r = re.search(r"Retrying \((\d+)\)", message)
        if r:
            a["retry"] = int(r.group(1))
    elif a and "MongoServerSelectionError" in message:
        a["target"] = a.get("target") or "mongodb"
    if a:
        return "connection_error", {k: v for k, v in a.items() if v is not None}

    m = LEAK.search(message)
    if m:
        a = {"leak_hint": True, "listeners": int(m.group("n")), "event": m.group("event")}
        if m.group("emitter"):
            a["emitter"] = m.group("emitter").strip("[]")
        p = NODE_PID.search(message)
        if p:
            a["pid"] = int(p.group(1))
        return "log", a
    if UNHANDLED.search(message):
        return "app_error", {"unhandled_rejection": True}
    return None


# --- times -----------------------------------------------------------------------------------------------------

ISO = re.compile(r"(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d\d(?::?\d\d)?)?$")


def _json_time(v: Any, clock: LocalClock, local_q: str) -> tuple[int, str] | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        if v > 1e14:        # microseconds
            return int(v), "exact"
        return (int(round(v * 1000)) if v > 1e11 else int(round(v * 1_000_000))), "exact"
    if isinstance(v, str):
        m = ISO.match(v.strip())
        if not m:
            return None
        y, mo, d, h, mi = (int(m.group(i)) for i in range(1, 6))
        s = int(m.group(6) or 0)
        us = int((m.group(7) or "0")[:6].ljust(6, "0"))
        try:
            if m.group(8):
                return utc_us(y, mo, d, h, mi, s, us) - parse_offset(m.group(8)) * 1_000_000, "exact"
            return clock.to_us(y, mo, d, h, mi, s, us), local_q
        except (ValueError, OverflowError):
            return None
    return None


def _date_evidence(m: re.Match) -> str | None:
    """'dmy' or 'mdy' if this header's date says which; None if it could be either."""
    if len(m.group("a")) == 4:
        return None
    a, b = int(m.group("a")), int(m.group("b"))
    if a > 12 >= b or m.group("sep") == ".":
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    if m.group("ampm") is None:
        return "dmy"      # en-US always prints AM/PM; a 24-hour clock is a day-first locale (en-GB)
    return None


# --- JSON lines --------------------------------------------------------------------------------------------------

def json_record(line: str) -> tuple[str, dict] | None:
    """('pino' | 'winston' | 'nest', record) for a JSON logger's line, else None."""
    if not line.startswith("{"):
        return None
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict):
        return None
    lvl = rec.get("level")
    if isinstance(lvl, int) and not isinstance(lvl, bool) and "time" in rec:
        return "pino", rec
    if isinstance(lvl, str) and isinstance(rec.get("message"), str):
        if lvl.lower() in ("log", "fatal") and "pid" in rec or isinstance(rec.get("timestamp"), (int, float)):
            return "nest", rec
        return "winston", rec
    return None


def _json_event(kind_of: str, rec: dict, n: int, clock: LocalClock, local_q: str, extra: dict) -> Event:
    if kind_of == "pino":
        t = _json_time(rec.get("time"), clock, local_q)
    else:
        t = _json_time(rec.get("timestamp", rec.get("time")), clock, local_q)
    kind, attrs, sev, msg = json_kind(kind_of, rec, extra)
    pid = rec.get("pid")
    host = rec.get("hostname")
    ts, q = t if t else (None, "untimed")
    return Event(ts, q, kind, msg, n, n, host=host if isinstance(host, str) else None, severity=sev,
                 process="node", pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
                 attrs=attrs)


def json_kind(kind_of: str, rec: dict, extra: dict | None = None) -> tuple[str, dict[str, Any], int | None, str]:
    """(kind, attrs, severity, message) of a JSON logger's record (pino, winston, Nest's json console)."""
    lvl = rec.get("level")
    if kind_of == "pino":
        sev = PINO_SEVERITY.get(lvl) or (min(PINO_SEVERITY.items(), key=lambda kv: abs(kv[0] - lvl))[1])
        msg = rec.get("msg") if isinstance(rec.get("msg"), str) else rec.get("message")
    else:
        sev = WORD_SEVERITY.get(str(lvl).lower())
        msg = rec.get("message")
    msg = msg if isinstance(msg, str) else ""
    attrs: dict[str, Any] = {"logger": kind_of, **(extra or {})}
    if isinstance(rec.get("context"), str):
        attrs["context"] = rec["context"]
    ms = rec.get("ms")
    if isinstance(ms, str) and re.fullmatch(r"\+\d+ms", ms):
        attrs["delta_ms"] = int(ms[1:-2])
    err = rec.get("err") if isinstance(rec.get("err"), dict) else rec.get("error")
    detail = []
    if isinstance(err, dict):
        for k in ("type", "message", "stack"):
            if isinstance(err.get(k), str):
                detail.append(err[k])
    stack = rec.get("stack") or rec.get("trace")
    if isinstance(stack, list):
        detail.extend(s for s in stack if isinstance(s, str))
    elif isinstance(stack, str):
        detail.append(stack)
    typed = classify("\n".join([msg, *detail]))
    kind = "log"
    if typed:
        kind = typed[0]
        attrs.update(typed[1])
    elif sev is not None and sev <= 3:
        kind = "app_error"
    req, res = rec.get("req"), rec.get("res")
    if kind == "log" and isinstance(req, dict) and isinstance(res, dict) and "statusCode" in res:
        kind = "http_request"       # pino-http / nestjs-pino "request completed"
        attrs.update({k: v for k, v in (("method", req.get("method")), ("path", req.get("url")),
                                        ("status", res.get("statusCode")),
                                        ("duration_ms", rec.get("responseTime"))) if v is not None})
    return kind, attrs, sev, msg


# --- the file ----------------------------------------------------------------------------------------------------

def _clean(line: str, compose: bool) -> tuple[str, str | None, str | None]:
    """(text without colours and compose prefix, container, the first colour code)."""
    colour = None
    if "\x1b" in line:
        c = _FIRST_SGR.match(line)
        colour = c.group(1) if c else None
        line = ANSI.sub("", line)
    container = None
    if compose:
        m = COMPOSE.match(line)
        if m:
            container, line = m.group("name"), line[m.end():]
    return line, container, colour


def _compose_prefixed(lines: list[str]) -> bool:
    seen = False
    for l in lines:
        l = strip_ansi(l)
        if not l.strip():
            continue
        if not COMPOSE.match(l):
            return False
        seen = True
    return seen


def sniff(head: list[str]) -> int:
    """95 for a line with Nest's own prefix (``[Nest] pid - date``); 80 for another app prefix on a third of
    the lines; 70 when most lines are pino or winston JSON."""
    compose = _compose_prefixed(head)
    lines = [_clean(l, compose)[0] for l in head if l.strip()]
    if not lines:
        return 0
    nest = other = js = 0
    for l in lines:
        m = HEAD.match(l)
        if m:
            if m.group("app") == "Nest":
                nest += 1
            else:
                other += 1
        elif json_record(l):
            js += 1
    if nest:
        return 95
    if other and other * 3 >= len(lines):
        return 80
    if js * 2 > len(lines):
        return 70
    return 0


class _Record:
    __slots__ = ("n", "ts", "q", "sev", "msg", "attrs", "pid", "nest", "more", "blanks", "fold")

    def __init__(self, n, ts, q, sev, msg, attrs, pid, nest, fold=None):
        self.n, self.ts, self.q, self.sev, self.msg, self.attrs, self.pid, self.nest = \
            n, ts, q, sev, msg, attrs, pid, nest
        self.more: list[str] = []
        self.blanks: list[tuple[int, str]] = []
        self.fold = fold

    def takes(self, text: str) -> bool:
        if not self.nest:
            return self.fold.takes(text)
        if FRAME.match(text) or (text[:1] in (" ", "\t") and text.strip()):
            return True
        s = text.rstrip()
        if s in ("Potential solutions:", "Require stack:") or s.startswith(("- ", "{", "}", "]", ")")):
            return True
        return (self.sev is None or self.sev <= 4) and bool(ERROR_HEAD.match(text))


def _header_fields(m: re.Match, text: str, colour: str | None) -> tuple[int | None, str, dict[str, Any]]:
    """(severity, message, attrs) of a Nest logger line whose prefix ``m`` matched (``text`` without colours)."""
    level = m.group("level")
    sev = SEVERITY[level] if level else COLOUR_SEVERITY.get((colour or "").split(";")[-1])
    msg = text[m.end():]
    attrs: dict[str, Any] = {}
    if m.group("ctx") is not None:
        attrs["context"] = m.group("ctx")
    dm = DELTA.search(msg)
    if dm:
        attrs["delta_ms"] = int(dm.group(1))
        msg = msg[:dm.start()]
    if m.group("s") is None:
        attrs["ts_resolution_s"] = 60
    if m.group("app") != "Nest":
        attrs["app_prefix"] = m.group("app")
    return sev, msg.rstrip(), attrs


def _record_kind(r: _Record) -> tuple[str, dict[str, Any], str, bool]:
    """(kind, attrs, text, typed) of a record with the lines folded into it; ``typed``: :func:`classify` said."""
    text = "\n".join([r.msg, *r.more])
    attrs = dict(r.attrs)
    typed = classify(text)
    kind = "log"
    if typed:
        kind = typed[0]
        attrs.update(typed[1])
    elif r.nest and r.sev is not None and r.sev <= 3:
        kind = "app_error"
    elif not r.nest and ERROR_HEAD.match(r.msg):
        kind = "app_error"        # an error and its stack printed on their own: uncaught, or console.error
    return kind, attrs, text, typed is not None


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    clock = ctx.clock()
    local_q = ctx.local_quality
    lines = text_lines(raw, start)
    head = list(islice(lines, HEAD_LINES))
    compose = _compose_prefixed([l for _, l in head])
    order = "mdy"
    for _, l in head:
        m = HEAD.match(_clean(l, compose)[0])
        if m and _date_evidence(m):
            order = _date_evidence(m)
            if order == "dmy":
                break
    pending: _Record | None = None
    last_ts: int | None = None

    def flush() -> Iterator[Event | Reject]:
        nonlocal pending
        r = pending
        pending = None
        if r is None:
            return
        kind, attrs, text, _ = _record_kind(r)
        pid = r.pid
        if pid is None and isinstance(attrs.get("pid"), int):
            pid = attrs.pop("pid")
        yield Event(r.ts, r.q, kind, text, r.n, r.n + len(r.more), severity=r.sev, process="node", pid=pid,
                    attrs=attrs or None)
        for b in r.blanks:
            yield Reject(b[0], "blank line", b[1])

    def header(m: re.Match, text: str, colour: str | None) -> tuple[int | None, str] | str:
        a, b, c = int(m.group("a")), int(m.group("b")), int(m.group("c"))
        if len(m.group("a")) == 4:
            y, mo, d = a, b, c
        else:
            y = c + 2000 if len(m.group("c")) <= 2 else c
            mo, d = (b, a) if (order == "dmy" or a > 12) else (a, b)
        h, mi, s = int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)
        ampm = m.group("ampm")
        if ampm:
            if h < 1 or h > 12:
                return "invalid time in a Nest timestamp"
            h = h % 12 + (12 if ampm[0] in "Pp" else 0)
        if h > 23 or mi > 59 or s > 60:
            return "invalid time in a Nest timestamp"
        try:
            return clock.to_us(y, mo, d, h, mi, s, 0), local_q
        except ValueError:
            return "invalid date in a Nest timestamp"

    for n, line in chain(head, lines):
        text, container, colour = _clean(line, compose)
        extra = {"container": container} if container else {}
        if not text.strip():
            if pending is not None and pending.nest:
                pending.blanks.append((n, line))
            else:
                yield from flush()
                yield Reject(n, "blank line", line)
            continue
        m = HEAD.match(text)
        if m:
            t = header(m, text, colour)
            yield from flush()
            if isinstance(t, str):
                yield Reject(n, t, line)
                continue
            last_ts = t[0]
            sev, msg, attrs = _header_fields(m, text, colour)
            attrs.update(extra)
            pending = _Record(n, t[0], t[1], sev, msg, attrs, int(m.group("pid")), True)
            continue
        js = json_record(text)
        if js:
            yield from flush()
            e = _json_event(js[0], js[1], n, clock, local_q, extra)
            if e.ts_us is not None:
                last_ts = e.ts_us
            yield e
            continue
        if pending is not None and pending.takes(text):
            for b in pending.blanks:
                pending.more.append("")
            pending.blanks = []
            pending.more.append(text.rstrip())
            continue
        yield from flush()
        fold = _Fold()
        fold.start(text)
        ts, q = (last_ts, "inherited") if last_ts is not None else (None, "untimed")
        pending = _Record(n, ts, q, None, text.rstrip(), extra, None, False, fold)
    yield from flush()


# --- an app's output read one line per entry (the journal, syslog) ---------------------------------------------
#
# Under systemd each line a process writes to stdout or stderr is a journal entry of its own (rsyslog copies
# each to a syslog line), interleaved with other processes' entries.  The entries of one process (host,
# process, pid) are typed here with the rules above and parsers.node_heap's; the event of each entry keeps
# the journal's time, host, unit, process and pid, and its message.  What spans several entries:
#
# - a Nest record and the entries that continue it (``Potential solutions:``, an ``Error: ...`` and its
#   stack): the record's first entry is typed, from the text of all of them; the others stay ``log``;
# - a ``process.memoryUsage()`` printed over several entries (``{``, ``  rss: 4935680,``, ..., ``}``): each
#   figure is a ``memory_sample`` on the entry that prints it (``{`` and ``}`` stay ``log``); figures
#   printed on one entry (``{ rss: ..., heapTotal: ... }``, JSON) are that entry's event and events added
#   with the same line and ``nlines`` 0, as in a file;
# - V8's heap death: the ``FATAL ERROR: ... heap out of memory`` entry is the ``heap_oom``, its heap,
#   V8 pid, isolate and time from the last GC line of the same process (the report's last one); the GC
#   lines are ``gc``, the report's other entries stay ``log``.
#
# Only entries that can be typed or can continue something typed take part (``ENTRY_CANDIDATE``, cheap
# enough for SQL to run over millions of entries, see forensics.typed); any other entry of the process
# between two of them ends what was open, as does a gap of more than ``GAP_LINES`` lines of the file.
# JSON loggers' lines (pino, winston, Nest's json) end what was open too; their errors are typed as in a
# file (parsers.nestjs.json_kind), their other records stay ``log``.  Colour codes are
# read as in a file, also as rsyslog escapes them (``#033[31m``).

_NL = r"[ \t\r\n]"
TRIGGERS = ("Nest can't ", "Nest could not find ", "Nest cannot ", "A circular dependency between modules",
            "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN",
            "ER_CON_COUNT_ERROR", "Too many connections", "too many clients already", "Can't reach database server",
            "MaxRetriesPerRequestError", "Reached the max retries per request limit",
            "Unable to connect to the database", "MaxListenersExceededWarning", "UnhandledPromiseRejection",
            "Unhandled promise rejection", "unhandledRejection", "triggerUncaughtException")
# ^ every message classify() types holds one of these (plain words: no character means more in a regexp)
# What can be typed: a trigger, a Nest ERROR/FATAL line (or one coloured red or bold: Nest 6 printed no
# level; and WARN lines, which take an error printed after them), a V8 GC or FATAL line, a memoryUsage()
# figure, an error's first line.  Anywhere in the message:
_FLOATING = ("|".join(TRIGGERS) + r"|\[[^\]]{1,41}\] [0-9]+[ \t]+- .*\b(?:ERROR|FATAL|WARN)\b"
             r"|[0-9] ms: [A-Z].* -> .* MB, |FATAL ERROR: |heapTotal|heapUsed")
_TRIGGER_RX = re.compile("|".join(TRIGGERS))
_FLOATING_WORDS = TRIGGERS + ("ERROR", "FATAL", "WARN", " ms: ", "heapTotal", "heapUsed")   # one in each match
# ... and at its start:
_LEADING = (r"^(?:\x1b|#033)\[(?:[0-9]*;)*(?:31|1)m"
            r"|^(?:Uncaught )?(?:[A-Za-z_$][A-Za-z0-9_$]*\.)*[A-Za-z0-9_$]*(?:Error|Exception)"
            rf"(?: \[[A-Za-z0-9_.:-]+\])?(?::|{_NL}*$| \{{)|^Trace: "
            # a JSON logger's error or fatal record (pino's level 50/60, winston's and Nest's words)
            r'|^\{.*"level": ?(?:(?:50|60)[,} ]|"(?:error|fatal|ERROR|FATAL)")')
ENTRY_ANCHOR = _FLOATING + "|" + _LEADING
# What can continue it: blank (or colour codes only), indented, a list item, braces and brackets, Nest's
# and Node's headings, stack frames (V8, native, Chromium).
ENTRY_CONTINUATION = (rf"^(?:{_NL}|(?:\x1b|#033)\[[0-9;]*m)*$|^[ \t]|^- |^\{{(?:{_NL}|\}})|^\{{$|^[}}\])]"
                      r"|^Potential solutions:|^Require stack:|^#[0-9]+ 0x|^[0-9]+: (?:0x)?[0-9a-fA-F]{6,} ")
# Python's re and DuckDB's RE2 read these alike (ASCII classes; no $ where a final newline would matter)
ENTRY_CANDIDATE = ENTRY_ANCHOR + "|" + ENTRY_CONTINUATION
_FLOATING_RX = re.compile(_FLOATING, re.ASCII)
_LEADING_RX = re.compile(_LEADING + "|" + ENTRY_CONTINUATION, re.ASCII)


def entry_candidate(message: str) -> bool:
    """Whether ENTRY_CANDIDATE matches ``message``: the same test, quicker in Python (words first)."""
    if _LEADING_RX.match(message):
        return True
    for w in _FLOATING_WORDS:
        if w in message:
            return _FLOATING_RX.search(message) is not None
    return False


GAP_LINES = 5000      # lines of the file between two entries of a process beyond which they do not fold
RECORD_MAX = 500      # lines a record folds at most, read entry by entry


class AppStream:
    """One process's output, entry by entry: ``feed`` the candidate entries in order, ``gap()`` where
    another entry of the process fell between two (and at the end); ``take()`` gives what was decided:
    ``(ref, kind, attrs, severity)``, several for one ref where one entry holds several events (the first
    is the entry's event; severity None: keep the entry's)."""

    __slots__ = ("rec", "mem", "last_gc", "out", "last_line", "seq")

    def __init__(self):
        self.rec: _Record | None = None
        self.mem: list[tuple[Any, str]] = []     # a line ending in "{" and the lines after it
        self.last_gc: dict | None = None
        self.out: list[tuple[Any, str, dict, int | None]] = []
        self.last_line = 0                          # for the callers' gap rule
        self.seq = None                             # for the callers' use

    def feed(self, ref: Any, message: str) -> None:
        if "#033[" in message:
            message = message.replace("#033[", "\x1b[")     # rsyslog writes ESC so in /var/log/syslog
        for line in message.split("\n"):
            self._line(ref, line)

    def gap(self) -> None:
        while self.mem:
            self._memory_end()
        self._close()

    def take(self) -> list[tuple[Any, str, dict, int | None]]:
        out, self.out = self.out, []
        return out

    def oldest(self) -> Any:
        """The first ref whose events are not decided yet, or None."""
        refs = [x for x in (self.rec.n if self.rec is not None else None, self.mem[0][0] if self.mem else None)
                if x is not None]
        return min(refs) if refs else None

    def _emit(self, ref: Any, kind: str, attrs: dict, sev: int | None = None) -> None:
        self.out.append((ref, kind, {k: v for k, v in attrs.items() if v is not None}, sev))

    def _line(self, ref: Any, raw: str, memory: bool = True) -> None:
        if self.mem:
            self.mem.append((ref, raw))
            if "}" in raw or len(self.mem) >= node_heap.MEMORY_MAX_LINES:
                self._memory_end()
            return
        text = strip_ansi(raw)
        g = node_heap.gc_attrs(text) if " ms: " in text else None
        if g is not None:
            self._close()
            self.last_gc = g
            self._emit(ref, "gc", g)
            return
        m = node_heap.OOM_FATAL.match(text) if text.startswith("FATAL ERROR: ") else None
        if m:
            self._close()
            g = self.last_gc or {}
            self._emit(ref, "heap_oom", {"reason": m.group("reason") or m.group("what"),
                                         "heap_bytes": g.get("heap_after_bytes"), "pid": g.get("pid"),
                                         "isolate": g.get("isolate"), "ms_since_start": g.get("ms_since_start")})
            return
        if memory and "{" in text:
            starts = [i for i, c in enumerate(text) if c == "{"]
            for pos in starts:
                pairs = node_heap.memory_pairs(text[pos:])
                if pairs:
                    self._close()
                    for k, v in pairs:
                        self._emit(ref, "memory_sample", {"metric": k, "bytes": v})
                    return
            if node_heap.MEMORY_PAIR.sub("", text[starts[-1] + 1:]).strip(" ,") == "":
                self.mem = [(ref, raw)]      # perhaps an object printed over the next lines
                return
        self._record_line(ref, text, raw)

    def _memory_end(self) -> None:
        items, self.mem = self.mem, []
        texts = [strip_ansi(t) for _, t in items]
        text = "\n".join([texts[0][texts[0].rfind("{"):], *texts[1:]])
        m = node_heap.MEMORY_OBJECT.match(text) if "}" in texts[-1] else None
        if m and node_heap.memory_pairs(text):
            self._close()
            # each figure on the entry that prints it
            for (ref, _), part in zip(items, m.group(0).split("\n")):
                for k, v in node_heap.MEMORY_PAIR.findall(part):
                    self._emit(ref, "memory_sample", {"metric": node_heap.METRICS[k], "bytes": int(v)})
            return
        # not such an object: the first line is an ordinary one, the others are read again
        self._line(items[0][0], items[0][1], memory=False)
        for ref, t in items[1:]:
            self._line(ref, t)

    def _record_line(self, ref: Any, text: str, raw: str) -> None:
        r = self.rec
        if not text.strip():
            if r is not None and r.nest:
                r.blanks.append((ref, text))
            else:
                self._close()
            return
        m = HEAD.match(text)
        if m:
            self._close()
            c = _FIRST_SGR.match(raw) if "\x1b" in raw else None
            sev, msg, attrs = _header_fields(m, text, c.group(1) if c else None)
            attrs.pop("ts_resolution_s", None)      # the journal's time is the event's
            self.rec = _Record(ref, None, None, sev, msg, attrs, int(m.group("pid")), True)
            return
        jr = json_record(text) if text[:1] == "{" else None
        if jr:
            self._close()
            kind, attrs, sev, _ = json_kind(*jr)
            if kind not in ("log", "http_request"):    # a JSON logger's error, typed as in a file
                self._emit(ref, kind, attrs, sev)
            return
        if r is not None and len(r.more) < RECORD_MAX and r.takes(text):
            r.more.extend("" for _ in r.blanks)
            r.blanks = []
            r.more.append(text.rstrip())
            return
        self._close()
        fold = _Fold()
        fold.start(text)
        self.rec = _Record(ref, None, None, None, text.rstrip(), {}, None, False, fold)

    def _close(self) -> None:
        r, self.rec = self.rec, None
        if r is None:
            return
        kind, attrs, _, typed = _record_kind(r)
        if typed or kind != "log":
            self._emit(r.n, kind, attrs, r.sev)


def type_entries(items: Iterable[Event | Reject], excluded: frozenset = frozenset()) -> Iterator[Event | Reject]:
    """A journal or syslog reader's records with the apps' output typed (see :class:`AppStream`).

    Entries of ``kind`` 'log' from a process not in ``excluded`` whose message is an ENTRY_CANDIDATE are
    typed; an entry holding several events (memory figures on one line) is followed by copies of it with
    ``nlines`` 0.  Records are held back only while an entry of theirs is undecided (a record may go on).
    """
    streams: dict[tuple, AppStream] = {}
    open_: OrderedDict[tuple, AppStream] = OrderedDict()    # streams holding undecided entries, by last use
    queue: deque = deque()                                     # (record, stream or None, ref), in order
    decided: dict[int, list] = {}
    ref = 0

    def collect(key: tuple, st: AppStream) -> None:
        for r, kind, attrs, sev in st.take():
            decided.setdefault(r, []).append((kind, attrs, sev))
        if st.oldest() is None:
            open_.pop(key, None)
        else:
            open_[key] = st
            open_.move_to_end(key)

    def close(key: tuple, st: AppStream) -> None:
        st.gap()
        collect(key, st)

    def release(everything: bool = False) -> Iterator[Event | Reject]:
        while queue:
            rec, st, r = queue[0]
            if st is not None:
                held = st.oldest()
                if held is not None and r >= held and not everything:
                    return
            queue.popleft()
            decs = decided.pop(r, None) if st is not None else None
            if not decs:
                yield rec
                continue
            for i, (kind, attrs, sev) in enumerate(decs):
                yield rec._replace(kind=kind, attrs={**(rec.attrs or {}), **attrs},
                                   severity=rec.severity if sev is None else sev, nlines=0 if i else rec.nlines)

    for rec in items:
        if type(rec) is Event:
            line = rec.line
            while open_:
                key, st = next(iter(open_.items()))
                if st.last_line >= line - GAP_LINES:
                    break
                close(key, st)
            if (rec.kind == "log" and rec.process is not None and rec.process not in excluded
                    and entry_candidate(rec.message)):
                key = (rec.host, rec.process, rec.pid)
                st = streams.get(key)
                if st is None:
                    st = streams[key] = AppStream()
                elif line - st.last_line > GAP_LINES:
                    close(key, st)
                ref += 1
                st.feed(ref, rec.message)
                st.last_line = line
                collect(key, st)
                queue.append((rec, st, ref))
                yield from release()
                continue
            if open_:
                key = (rec.host, rec.process, rec.pid)
                if key in open_:
                    close(key, streams[key])     # another line of the process: what was open ends
        if not queue:
            yield rec
            continue
        queue.append((rec, None, 0))
        yield from release()
    for key, st in list(open_.items()):
        close(key, st)
    yield from release(everything=True)
