"""What PM2 wrote of an app's stdout and stderr (``~/.pm2/logs/NAME-out.log``, ``NAME-error.log``).

One event per line the app wrote, kind ``log`` (application formats are read
by their own parsers later); the message is the text as written, without
PM2's time prefix.  PM2 writes three forms, found line by line (a file can
change form when the app's options change):

- no time (PM2's default): ``ts`` is empty and ``ts_quality = 'untimed'``;
- ``--time`` or ``log_date_format``: ``2024-05-28T14:35:12: `` before each
  write (custom formats such as ``2024-05-28 14:35:12 +02:00: `` or with
  milliseconds too).  Read in the file's zone (``zone_assumed``) unless the
  prefix has an offset (``exact``).  PM2 puts the prefix before each write
  (cluster mode) or each line (fork mode, PM2 5); a line without one takes
  the time of the line before (``inherited``);
- ``--log-type json``: one ``{"message": ..., "timestamp": ..., "type":
  "out"|"err", "process_id": 0, "app_name": "api"}`` per write; the message
  loses its final newline and keeps the others.

A stack trace is one event: lines of V8 frames (``    at f (file.js:1:2)``,
``    ... 3 more``) and Chromium's (``#0 0x55d0c0 <unknown>``) continue the
line before, and after an error's first line (``Error: ...``,
``TypeError: ...``) so do indented lines, ``Require stack:`` and its ``- path``
lines, and the closing ``}`` of the error's fields (``{ code: 'EADDRINUSE',
... }``).  In a timed file a frame line with its own prefix continues too.
A blank line (``--time`` puts PM2's prefix on it too) belongs to the record it
falls inside (a Nest error's ``Potential solutions:`` block) or else to the
record before it (inside its span, not its text); only blank lines before the
first record are rejected (``blank line``). A NestJS logger record
(``[Nest] 42  - ... ERROR [Ctx] message``) is read with parsers.nestjs's rules:
its level, context and pid, and the ``Error: ...`` and stack that Nest prints
after an ERROR fold into it.

Attrs: ``stream`` (``'out'`` or ``'error'``, from the record or the file
name), ``app_id`` (PM2's id: the record's ``process_id``, or the ``-N`` of
``NAME-out-N.log``).  ``unit`` is the app's name: the record's ``app_name``,
else the file name with ``-out``/``-error`` and ``-N`` taken off.

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> events, rejects = run(__name__, "listening on :3000\\nError: boom\\n    at f (/app/x.js:1:2)\\n\\n"
...     "2024-05-28T14:35:12: timed\\n  more\\n", Context(path="/root/.pm2/logs/api-error-0.log"))
>>> [(e.line, e.line_end, e.ts_us, e.ts_quality, e.unit, e.message) for e in events]
[(1, 1, None, 'untimed', 'api', 'listening on :3000'), (2, 4, None, 'untimed', 'api', 'Error: boom\\n    at f (/app/x.js:1:2)'), \
(5, 5, 1716906912000000, 'zone_assumed', 'api', 'timed'), (6, 6, 1716906912000000, 'inherited', 'api', '  more')]
>>> events[0].attrs, [(r.line, r.reason) for r in rejects]
({'stream': 'error', 'app_id': 0}, [])
"""
from __future__ import annotations

import json
import re
from typing import BinaryIO, Iterator

from . import node_heap, pm2
from .context import Context, text_lines
from .model import Event, Reject
from .pm2 import PREFIX, TIME_ONLY, read_time

NAME = "pm2_app"
DESCRIPTION = "an app's output as PM2 logs it (~/.pm2/logs/NAME-out.log, -error.log): plain, --time, --log-type json"
SAMPLE = "2024-05-28T14:35:12: api listening on 127.0.0.1:3000 pid=23545"

FRAME = re.compile(r"\s+(?:at \S|\.\.\. \d+ (?:more|lines? matching))|#\d+ 0x[0-9a-fA-F]+ "
                   r"|\s*\d+: (?:0x)?[0-9a-fA-F]{6,} ")   # V8's native frames: " 1: 0xb7b3e0 node::Abort() [node]"
ERROR_HEAD = re.compile(r"(?:Uncaught )?(?:[A-Za-z_$][\w$]*\.)*(?:[A-Za-z_$][\w$]*)?(?:Error|Exception)"
                        r"(?: \[[\w.:-]+\])?(?::|$| \{)|Trace: ")
JSON_START = '{"message":'
STREAMS = {"out": "out", "err": "error", "error": "error"}

# NAME-out.log, NAME-error-3.log, PM2 < 2's NAME-err.log, pm2-logrotate's NAME-out__2024-05-28_00-00-00.log,
# logrotate's NAME-out.log.1 and NAME-out-0.log.2.gz
_FILE = re.compile(r"(?P<app>.+?)-(?P<stream>out|error|err)(?:-(?P<id>\d+))?(?:__[\d_-]+)?\.log(?:\.\d+)?")


def from_path(path: str) -> dict:
    """``app``, ``stream`` and ``app_id`` that PM2's naming of a log file tells (an empty dict if none)."""
    name = re.split(r"[\\/]", path)[-1]
    name = re.sub(r"\.(?:gz|xz|bz2)$", "", name)
    m = _FILE.fullmatch(name)
    if not m:
        return {}
    out = {"app": m.group("app"), "stream": STREAMS[m.group("stream")]}
    if m.group("id"):
        out["app_id"] = int(m.group("id"))
    return out


def sniff_path(path: str) -> int:
    """A vote from the file's path alone, for app logs whose lines have nothing to recognise them by.

    ``NAME-out.log`` / ``NAME-error.log`` (``-N`` in cluster mode, rotated
    forms too) inside a folder named ``.pm2`` or ``pm2`` (``~/.pm2/logs``,
    ``/var/log/pm2``): 97, above what any content scores. PM2's place and naming
    are decisive, and this reader keeps the app's name from them while typing
    what the app wrote as the NestJS and V8 readers would.
    """
    parts = [p.lower() for p in re.split(r"[\\/]", path)]
    if not from_path(path) or not any(p in (".pm2", "pm2") for p in parts[:-1]):
        return 0
    return 97


def json_record(line: str) -> dict | None:
    if not line.startswith(JSON_START):
        return None
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("message"), str):
        return None
    return rec


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:20]
    if not lines:
        return 0
    if sum(1 for l in lines if (r := json_record(l)) is not None and ("app_name" in r or "process_id" in r)) \
            * 2 >= len(lines):
        return 90
    if pm2.sniff(head):
        return 0  # the daemon's own log
    timed = sum(1 for l in lines if PREFIX.match(l))
    if PREFIX.match(lines[0]) and timed * 3 >= len(lines):
        return 60
    return 0


class _Fold:
    """Whether a line continues the event before it (a stack trace and the error's fields)."""

    def __init__(self):
        self.reset(False)

    def reset(self, head: bool, text: str = "") -> None:
        self.error = head                  # after an error's first line: indented lines continue it
        self.brace = head and text.rstrip().endswith("{")
        self.require = False               # after "Require stack:": its "- /path" lines

    def start(self, text: str) -> None:
        # an error's first line, or an object printed over several lines (console.log of
        # process.memoryUsage(): "{" then "  rss: 4935680," ... "}")
        self.reset(bool(ERROR_HEAD.match(text)) or text.rstrip().endswith("{"), text)

    def takes(self, text: str) -> bool:
        if FRAME.match(text):
            self.error = True
            self.brace = text.rstrip().endswith("{")
            return True
        if not self.error:
            return False
        if text[:1] in (" ", "\t") and text.strip():
            if text.rstrip().endswith("{") and not self.brace:
                self.brace = True
            return True
        if self.brace and text.strip() in ("}", "})", "},"):
            self.reset(False)
            return True
        if text.rstrip() == "Require stack:" or (self.require and text.startswith("- ")):
            self.require = True
            return True
        self.reset(False)
        return False


def _memory_samples(message: str) -> list[dict]:
    """The figures of a process.memoryUsage() the app printed (JSON or util.inspect), one dict each."""
    if "rss" not in message or "heap" not in message.lower():
        return []
    lines = message.split("\n")
    found = [attrs for kind, attrs, first, last in node_heap.classify_block(lines)
             if kind == "memory_sample" and first == 0 and last == len(lines) - 1]
    return found


def _app_kind(message: str) -> tuple[str, dict] | None:
    """What the application's own message says: V8's collections and heap death (parsers.node_heap),
    dependency-injection and connection errors, other errors (parsers.nestjs.classify)."""
    first = message.split("\n", 1)[0]
    if "ms: " in first or "FATAL ERROR" in first or "heap out of memory" in first:
        for kind, attrs, i, _ in node_heap.classify_block(message.split("\n")):
            if i == 0 and (kind == "gc" or (kind == "heap_oom" and attrs.get("reason"))):
                return kind, {k: v for k, v in attrs.items() if v is not None}
    return nestjs.classify(message)


def nest_record(n: int, text: str):
    """The line read as the head of a Nest logger record (parsers.nestjs), or None."""
    plain = nestjs.strip_ansi(text) if "\x1b" in text else text
    m = nestjs.HEAD.match(plain) if "[" in plain[:60] else None
    if not m:
        return None
    c = nestjs._FIRST_SGR.match(text) if "\x1b" in text else None
    sev, msg, attrs = nestjs._header_fields(m, plain, c.group(1) if c else None)
    attrs.pop("ts_resolution_s", None)      # PM2's time is the event's
    return nestjs._Record(n, None, None, sev, msg, attrs, int(m.group("pid")), True)


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    clock = ctx.clock()
    local_q = ctx.local_quality
    named = from_path(ctx.path)
    if ctx.extra.get("app"):        # another manager's naming (supervisor's program logs): see supervisor_app
        named = {k: ctx.extra[k] for k in ("app", "stream") if ctx.extra.get(k)}
    unit = named.get("app")
    base = {k: named[k] for k in ("stream", "app_id") if k in named}
    fold = _Fold()
    pending: Event | None = None
    more: list[str] = []
    blanks: list[tuple[int, str]] = []   # blank lines after the pending record: inside it if it goes on
    nest = None                          # the pending record read as a Nest logger record, if it is one
    last_ts: int | None = None

    heap = [None]     # heap size after the last V8 collection seen, for a heap death that follows

    def flush() -> Iterator[Event]:
        nonlocal pending, more, blanks, nest
        if pending is not None:
            trail = len(blanks)          # blank lines after the record end it: its span, not its text
            if more or trail:
                pending = pending._replace(message="\n".join([pending.message, *more]),
                                           line_end=pending.line_end + len(more) + trail)
            samples = _memory_samples(pending.message)
            if samples:    # one event per figure; the first holds the lines
                for i, attrs in enumerate(samples):
                    yield pending._replace(kind="memory_sample", attrs={**(pending.attrs or {}), **attrs},
                                           nlines=None if i == 0 else 0)
                pending, more, blanks, nest = None, [], [], None
                return
            if nest is not None:         # Nest's own record: its level, context, pid, and the error it prints
                nest.more = [nestjs.strip_ansi(t).rstrip() for t in more]
                kind, attrs, _, _ = nestjs._record_kind(nest)
                pending = pending._replace(kind=kind, attrs={**(pending.attrs or {}), **attrs},
                                           severity=nest.sev if nest.sev is not None else pending.severity,
                                           pid=nest.pid)
            else:
                typed = _app_kind(pending.message)
                if typed:
                    kind, attrs = typed
                    if kind == "gc":
                        heap[0] = attrs.get("heap_after_bytes")
                    elif kind == "heap_oom" and attrs.get("heap_bytes") is None:
                        attrs = {**attrs, "heap_bytes": heap[0]}    # the heap at the last collection before death
                    pending = pending._replace(kind=kind, attrs={**(pending.attrs or {}), **attrs})
            yield pending
        pending, more, blanks, nest = None, [], [], None

    def continues(text: str) -> bool:
        if nest is not None:
            return nest.takes(nestjs.strip_ansi(text))
        return fold.takes(text)

    def begin(n: int, ts, q, text: str) -> Event:
        nonlocal nest
        nest = nest_record(n, text)
        fold.start(text)
        return Event(ts, q, "log", text, n, n, unit=unit, attrs=dict(base) or None)

    for n, line in text_lines(raw, start):
        c = line[:1]
        if c == "{":
            rec = json_record(line)
            if rec is not None:
                yield from flush()
                msg = rec["message"]
                if msg.endswith("\n"):
                    msg = msg[:-1]
                ts, q = None, "untimed"
                stamp = rec.get("timestamp")
                m = TIME_ONLY.match(stamp) if isinstance(stamp, str) else None
                t = read_time(m, clock, local_q) if m else None
                if t:
                    ts, q = t
                    last_ts = ts
                attrs = dict(base)
                if rec.get("type") in STREAMS:
                    attrs["stream"] = STREAMS[rec["type"]]
                pid = rec.get("process_id")
                if isinstance(pid, int) or (isinstance(pid, str) and pid.isdigit()):
                    attrs["app_id"] = int(pid)
                app = rec.get("app_name") if isinstance(rec.get("app_name"), str) else unit
                pending = Event(ts, q, "log", msg, n, n, unit=app, attrs=attrs or None)
                fold.reset(False)
                nest = None
                continue
        m = PREFIX.match(line) if c.isdigit() else None
        t = read_time(m, clock, local_q) if m else None
        text = line[m.end():] if t is not None else line
        if t is not None:
            last_ts = t[0]
        if not text.strip() or (text[:1] == "\x1b" and not nestjs.strip_ansi(text).strip()):   # blank (colour codes only)
            if pending is None:
                yield Reject(n, "blank line", line)
            else:
                blanks.append((n, text))
            continue
        if pending is not None and continues(text):
            more.extend(b for _, b in blanks)
            blanks = []
            more.append(text)
            continue
        yield from flush()
        if t is not None:
            pending = begin(n, t[0], t[1], text)
        else:
            ts, q = (last_ts, "inherited") if last_ts is not None else (None, "untimed")
            pending = begin(n, ts, q, text)
    yield from flush()


# parsers.nestjs reads stack traces with this module's rules (it imports FRAME, ERROR_HEAD, _Fold from here),
# and this module reads Nest's records with its: imported last, so that either module can be imported first
from . import nestjs  # noqa: E402
