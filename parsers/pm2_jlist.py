"""A saved ``pm2 jlist`` or ``pm2 prettylist``: PM2's process list, one memory figure per process.

``pm2 jlist`` writes the list as one line of JSON (``[{"pid": 812, "name":
"api", "pm2_env": {...}, "pm_id": 0, "monit": {"memory": 123456789, "cpu":
0.3}}]``, no final newline); ``pm2 jlist | jq .`` spreads it over lines;
``pm2 prettylist`` writes it as Node's ``util.inspect`` prints it (``{ pid:
812, name: 'api', ... }``, unquoted keys, single quotes).  All three are
read; several lists one after the other (``pm2 jlist >> file``) too.

Each process is one ``memory_sample`` event at the time the list was taken,
which the capture does not state: the file's modification time
(``ts_quality = 'inherited'``; no time at all, ``'untimed'``, if it is not
known).  ``unit`` is the process name, ``pid`` its pid (none for a stopped
process), the message a one-line summary, and attrs: ``metric = 'rss'``,
``bytes`` (``monit.memory``: the resident set PM2 measured), ``app``,
``app_id`` (``pm_id``), ``status`` (``online``, ``stopped``, ``errored``,
...), ``restarts`` (``pm2_env.restart_time``), ``unstable_restarts``,
``cpu`` (percent), ``mode`` (``fork``/``cluster``), ``limit_bytes``
(``max_memory_restart``, where set), ``pm_uptime`` (when the process last
started, epoch milliseconds), ``exit_code`` (the last exit's, where PM2
kept one).  A process without a ``monit`` figure is a ``log`` event with
the same attrs.

Lines: each event spans its process's lines, the first one also the
list's opening ``[`` and the last one the closing ``]``; processes that
share a line (jlist's single line) share it, and only the first of them
counts it (``nlines``).  Lines outside any list are rejected.

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> from datetime import datetime, timezone
>>> text = ('[{"pid":812,"name":"api","pm2_env":{"status":"online","restart_time":3,"exec_mode":"fork_mode"},'
...         '"pm_id":0,"monit":{"memory":123456789,"cpu":0.5}},'
...         '{"pid":0,"name":"worker","pm2_env":{"status":"stopped","restart_time":0},"pm_id":1,'
...         '"monit":{"memory":0,"cpu":0}}]')
>>> events, rejects = run(__name__, text, Context(mtime=datetime(2024, 5, 28, 14, 40, tzinfo=timezone.utc)))
>>> [(e.kind, e.unit, e.pid, e.attrs["bytes"], e.attrs["restarts"], e.line, e.line_end, e.nlines) for e in events]
[('memory_sample', 'api', 812, 123456789, 3, 1, 1, 1), ('memory_sample', 'worker', None, 0, 0, 1, 1, 0)]
>>> events[0].ts_us, events[0].ts_quality, events[0].message
(1716907200000000, 'inherited', 'api (id 0) online: rss 123456789 bytes, cpu 0.5%, 3 restarts')
"""
from __future__ import annotations

import json
import re
from typing import Any, BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject

NAME = "pm2_jlist"
DESCRIPTION = "a saved `pm2 jlist` / `pm2 prettylist`: each process's memory (monit.memory), restarts, status"
SAMPLE = '[{"pid":812,"name":"api","pm2_env":{"status":"online","restart_time":3},"pm_id":0,"monit":{"memory":123456789}}]'

_JSON_HEAD = re.compile(r'"pm2_env"\s*:\s*\{')
_JSON_KEY = re.compile(r'"(?:pid|name|pm_id)"\s*:')
_JS_HEAD = re.compile(r"(?m)^\s*pm2_env: \{")
_JS_KEY = re.compile(r"(?m)^\s*(?:pid|name|pm_id): ")


def sniff(head: list[str]) -> int:
    text = "\n".join(head).lstrip()
    if not text.startswith("["):
        return 0
    if _JSON_HEAD.search(text) and _JSON_KEY.search(text):
        return 90
    if _JS_HEAD.search(text) and _JS_KEY.search(text):
        return 90
    return 0


# --- util.inspect's notation ---------------------------------------------------------------------------------------

_ESC = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_WORD_END = re.compile(r"[\s,\]}]")
_KEY = re.compile(r"[^\s:]+")
_NUMBER = re.compile(r"-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+)")
_CTOR = re.compile(r"[A-Za-z_$][\w$]*(?:\(\d+\))?")


class _Inspect:
    """Reads what Node's util.inspect prints (objects, arrays, quoted strings, numbers, [Object] and the like)."""

    def __init__(self, s: str):
        self.s, self.i = s, 0

    def ws(self) -> str:
        s, i = self.s, self.i
        while i < len(s) and s[i].isspace():
            i += 1
        self.i = i
        return s[i] if i < len(s) else ""

    def value(self) -> Any:
        c = self.ws()
        if c == "{":
            return self.obj()
        if c == "[":
            nxt = self.s[self.i + 1:self.i + 2]
            if nxt.isupper():          # [Object], [Function: f], [Circular *1], [Object: null prototype] {...}
                tag = self.bracketed()
                if self.ws() in ("{", "["):
                    return self.value()
                return tag
            return self.arr()
        if c in "'\"`":
            out = self.string()
            while self.ws() == "+":    # old Node split long strings: 'abc' +\n 'def'
                self.i += 1
                self.ws()
                out += self.string()
            return out
        if c == "<":                   # <ref *1> { ... }
            j = self.s.find(">", self.i)
            if j < 0:
                raise ValueError("unclosed <")
            self.i = j + 1
            return self.value()
        if not c:
            raise ValueError("value expected")
        m = _WORD_END.search(self.s, self.i)
        end = m.start() if m else len(self.s)
        word = self.s[self.i:end]
        self.i = end
        if _CTOR.fullmatch(word) and self.ws() in ("{", "["):
            return self.value()        # Map(2) {...}, Foo {...}
        return _scalar(word)

    def bracketed(self) -> str:
        depth, i, s = 0, self.i, self.s
        while i < len(s):
            if s[i] == "[":
                depth += 1
            elif s[i] == "]":
                depth -= 1
                if depth == 0:
                    tag, self.i = s[self.i:i + 1], i + 1
                    return tag
            i += 1
        raise ValueError("unclosed [")

    def string(self) -> str:
        s, q = self.s, self.s[self.i]
        i = self.i + 1
        out = []
        while i < len(s):
            c = s[i]
            if c == q:
                self.i = i + 1
                return "".join(out)
            if c == "\\" and i + 1 < len(s):
                e = s[i + 1]
                if e == "x" and i + 3 < len(s):
                    out.append(chr(int(s[i + 2:i + 4], 16)))
                    i += 4
                    continue
                if e == "u" and i + 5 < len(s):
                    out.append(chr(int(s[i + 2:i + 6], 16)))
                    i += 6
                    continue
                out.append(_ESC.get(e, e))
                i += 2
                continue
            out.append(c)
            i += 1
        raise ValueError("unclosed string")

    def obj(self) -> dict:
        self.i += 1
        out: dict = {}
        while True:
            c = self.ws()
            if c == "}":
                self.i += 1
                return out
            if c == ",":
                self.i += 1
                continue
            if c in "'\"`":
                key = self.string()
            elif c == "[":
                key = self.bracketed()  # [Symbol(x)]
            else:
                m = _KEY.match(self.s, self.i)
                if not m:
                    raise ValueError("key expected")
                key = m.group().rstrip(":")
                self.i = m.end() - (1 if m.group().endswith(":") else 0)
            if self.ws() != ":":
                raise ValueError("':' expected")
            self.i += 1
            out[key] = self.value()

    def arr(self) -> list:
        self.i += 1
        out: list = []
        while True:
            c = self.ws()
            if c == "]":
                self.i += 1
                return out
            if c == ",":
                self.i += 1
                continue
            if self.s.startswith("... ", self.i):  # "... 3 more items"
                m = _WORD_END.search(self.s, self.i + 4)
                while m and self.s[m.start()].isspace():
                    m = _WORD_END.search(self.s, m.start() + 1)
                self.i = m.start() if m else len(self.s)
                continue
            out.append(self.value())


def _scalar(word: str) -> Any:
    if word in ("true", "false"):
        return word == "true"
    if word in ("null", "undefined"):
        return None
    w = word[:-1] if word.endswith("n") and word[:-1].lstrip("-").isdigit() else word
    if _NUMBER.fullmatch(w):
        return float(w) if any(ch in w for ch in ".e") else int(w)
    return word


def read_process(text: str) -> dict:
    """One process description, as JSON or as util.inspect prints it."""
    try:
        d = json.loads(text)
    except ValueError:
        p = _Inspect(text)
        d = p.value()
        if p.ws():
            raise ValueError("text after the process description")
    if not isinstance(d, dict):
        raise ValueError("not an object")
    return d


# --- the list's structure -------------------------------------------------------------------------------------------

_INTEREST = re.compile(r"[\[\]{}\"'`]")


def _elements(text: str) -> Iterator[tuple[str, int, int]]:
    """("open"|"item"|"close"|"junk"|"cut", start, end) offsets of the top-level lists and their items."""
    depth = 0
    i = 0
    item_start = None
    n = len(text)
    while i < n:
        if depth == 0:
            j = i
            while j < n and text[j] != "[":
                j += 1
            if text[i:j].strip():
                yield "junk", i, j
            if j >= n:
                return
            yield "open", j, j + 1
            depth, i = 1, j + 1
            continue
        m = _INTEREST.search(text, i)
        if not m:
            break
        c, i = m.group(), m.end()
        if c in "\"'`":
            esc = False
            while i < n:
                ch = text[i]
                i += 1
                if esc:
                    esc = False
                elif ch == "\\":
                    esc = True
                elif ch == c:
                    break
            else:
                break
            continue
        if c in "[{":
            if depth == 1:
                item_start = m.start()
            depth += 1
        else:
            depth -= 1
            if depth == 1 and item_start is not None:
                yield "item", item_start, i
                item_start = None
            elif depth == 0:
                yield "close", m.start(), i
    if depth > 0:
        yield "cut", item_start if item_start is not None else n, n


def _describe(d: dict, attrs: dict) -> tuple[str, str | None, int | None]:
    env = d.get("pm2_env") if isinstance(d.get("pm2_env"), dict) else {}
    monit = d.get("monit") if isinstance(d.get("monit"), dict) else {}
    name = d.get("name", env.get("name"))
    pm_id = d.get("pm_id", env.get("pm_id"))
    pid = d.get("pid")
    attrs["metric"] = "rss"
    attrs["bytes"] = monit.get("memory") if isinstance(monit.get("memory"), int) else None
    if isinstance(name, str):
        attrs["app"] = name
    else:
        name = None
    if isinstance(pm_id, int):
        attrs["app_id"] = pm_id
    for key, src in (("status", "status"), ("restarts", "restart_time"), ("unstable_restarts", "unstable_restarts"),
                     ("pm_uptime", "pm_uptime"), ("exit_code", "exit_code")):
        if env.get(src) is not None:
            attrs[key] = env[src]
    if monit.get("cpu") is not None:
        attrs["cpu"] = monit["cpu"]
    mode = env.get("exec_mode")
    if isinstance(mode, str):
        attrs["mode"] = mode.replace("_mode", "")
    lim = env.get("max_memory_restart")
    if isinstance(lim, int) or (isinstance(lim, str) and lim.isdigit()):
        attrs["limit_bytes"] = int(lim)
    msg = (f"{name} (id {pm_id}) {attrs.get('status', 'status unknown')}: rss {attrs['bytes']} bytes, "
           f"cpu {attrs.get('cpu')}%, {attrs.get('restarts')} restarts")
    return msg, name, pid if isinstance(pid, int) and pid > 0 else None


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    lines = [t for _, t in text_lines(raw, start)]
    if not lines:
        return
    text = "\n".join(lines)
    starts = [0]
    for t in lines[:-1]:
        starts.append(starts[-1] + len(t) + 1)
    first = start

    def line_of(off: int) -> int:
        lo, hi = 0, len(starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if starts[mid] <= off:
                lo = mid
            else:
                hi = mid - 1
        return first + lo

    ts = int(ctx.mtime.timestamp() * 1_000_000) if ctx.mtime is not None else None
    q = "inherited" if ts is not None else "untimed"
    covered = first - 1                       # last line inside an event or rejected
    open_line = None
    last: Event | None = None                 # the list's last event, held to take the closing "]"

    def reject_to(end: int, reason: str) -> Iterator[Reject]:
        nonlocal covered
        for ln in range(covered + 1, end + 1):
            yield Reject(ln, reason if lines[ln - first].strip() else "blank line", lines[ln - first])
        covered = max(covered, end)

    for what, a, b in _elements(text):
        la, lb = line_of(a), line_of(max(a, b - 1))
        if what == "junk":
            if last is not None:
                yield last
                last = None
            yield from reject_to(lb, "not part of a PM2 process list")
        elif what == "open":
            if last is not None:
                yield last
                last = None
            yield from reject_to(la - 1, "not part of a PM2 process list")
            open_line = la
        elif what == "item":
            if last is not None:
                yield last
                last = None
            # the list's first item also holds the "[" line; later ones the lines since the item before
            begin = open_line if open_line is not None else (la if la <= covered else covered + 1)
            open_line = None
            try:
                d = read_process(text[a:b])
            except (ValueError, IndexError):
                yield from reject_to(lb, "not a PM2 process description")
                continue
            attrs: dict = {}
            msg, unit, pid = _describe(d, attrs)
            kind = "memory_sample" if attrs.get("bytes") is not None else "log"
            new = max(0, lb - covered)
            covered = max(covered, lb)
            last = Event(ts, q, kind, msg, begin, lb, unit=unit, pid=pid, attrs=attrs, nlines=new)
        elif what == "close":
            if last is not None:
                if lb > covered:
                    last = last._replace(line_end=lb, nlines=last.nlines + lb - covered)
                    covered = lb
                yield last
                last = None
            else:
                yield from reject_to(lb, "empty PM2 process list")
            open_line = None
        else:  # cut: the file ends inside a list
            if last is not None:
                yield last
                last = None
            yield from reject_to(first + len(lines) - 1, "PM2 process list cut short")
    if last is not None:
        yield last
    yield from reject_to(first + len(lines) - 1, "not part of a PM2 process list")
