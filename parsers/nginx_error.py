"""nginx's error log (``error_log``), one event per record.

Each record is ``2024/05/28 14:35:12 [error] 1234#1234: *5678 connect() failed
(111: Connection refused) while connecting to upstream, client: 203.0.113.9,
server: api.example.test, request: "GET /api/orders HTTP/1.1", upstream:
"http://127.0.0.1:3000/api/orders", host: "api.example.test"``
(src/core/ngx_log.c, src/http/ngx_http_request.c ``ngx_http_log_error``):

- the host's local time without a zone (``ngx_cached_err_log_time``), read in
  the file's zone (``--tz``, the bundle's, else UTC): ``zone_assumed``;
- the level, which gives the severity: debug 7, info 6, notice 5, warn 4,
  error 3, crit 2, alert 1, emerg 0;
- ``pid#tid``: ``pid`` of the worker (process ``nginx``), ``attrs.tid``;
- ``*5678``: the connection number (``attrs.connection``), on lines about a
  connection only;
- the message, then `` while <action>`` (``attrs.action``, e.g. ``connecting
  to upstream``) and the request's context: ``client``, ``server``,
  ``request`` (split into ``method``, ``path`` with its query string, and
  ``protocol``), ``subrequest``, ``upstream`` (the URL nginx used, split into
  ``upstream_host`` and ``upstream_port``: which service was down), ``host``
  (the Host header) and ``referrer``.  Empty fields (``server: ,``) are left out.
  ``errno`` and ``errno_text`` come from the first ``(111: Connection refused)``.

``kind`` is ``upstream_error`` where nginx could not reach or read its
upstream, with ``attrs.reason``: ``connection_refused`` (connect() failed,
111), ``host_unreachable`` (113, or 101: network unreachable),
``timed_out`` (``upstream timed out``, 110, while connecting or reading),
``prematurely_closed`` (``upstream prematurely closed connection``),
``connection_reset`` (recv() failed, 104: Connection reset by peer),
``no_live_upstreams`` (every server of the upstream group is marked down) and
``other`` (connect() failed with another errno such as 13: Permission denied
or 2: a missing unix socket; ``upstream sent too big header``).  Everything
else (configuration errors at [emerg], ``open() failed (2: No such file or
directory)``, ``FastCGI sent in stderr``) is ``log`` with the same attrs where
present.

A line without the prefix belongs to the record before it (an application's
stderr that FastCGI passed on, with its newlines); the context fields are then
read from the record's last line.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, SAMPLE + "\\n"
...     '2024/05/28 14:35:13 [emerg] 1#1: unknown directive "proxy_pas" in /etc/nginx/conf.d/api.conf:7')
>>> e = events[0]
>>> (e.kind, e.severity, e.process, e.pid, e.ts_quality, e.ts_us, rejects)
('upstream_error', 3, 'nginx', 1234, 'zone_assumed', 1716906912000000, [])
>>> a = e.attrs
>>> a["reason"], a["errno"], a["upstream_host"], a["upstream_port"], a["method"], a["path"], a["connection"]
('connection_refused', 111, '127.0.0.1', 3000, 'GET', '/api/orders', 5678)
>>> (events[1].kind, events[1].severity, events[1].attrs)
('log', 0, {'tid': 1})
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

import regex

from .context import Context, text_lines, with_last
from .model import Event, Reject

NAME = "nginx_error"
DESCRIPTION = "nginx error log (error_log): local time 2024/05/28 14:35:12, [error] level, pid#tid: *connection"
SAMPLE = ('2024/05/28 14:35:12 [error] 1234#1234: *5678 connect() failed (111: Connection refused) while '
          'connecting to upstream, client: 203.0.113.9, server: api.example.test, request: "GET /api/orders '
          'HTTP/1.1", upstream: "http://127.0.0.1:3000/api/orders", host: "api.example.test"')

SEVERITY = {"debug": 7, "info": 6, "notice": 5, "warn": 4, "error": 3, "crit": 2, "alert": 1, "emerg": 0}
_LEVELS = "|".join(SEVERITY)
# ngx_log_error_core: time, " [level] ", pid "#" tid ": ", then "*connection " where there is one
HEAD = re.compile(rf"(\d{{4}})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) \[({_LEVELS})\] (\d+)#(\d+):(?: (?:\*(\d+) )?|$)")
HEAD_PARTIAL = regex.compile(rf"\d{{4}}/\d\d/\d\d \d\d:\d\d:\d\d \[(?:{_LEVELS})\] \d+#\d+: ")
_CUT_MIN = 11  # "2024/05/28 ": shorter, a cut prefix is no more likely than an application's output


def _quoted(name: str) -> str:
    """A quoted field: it ends at the quote followed by the next field or the end (a request may hold quotes)."""
    return rf'"(?P<{name}>(?:[^"]|"(?!, [a-z][a-z /]*: |\Z))*)"'


TRAILER = re.compile(
    r", client: (?P<client>[^,\n]*)"
    r"(?:, server: (?P<server>[^,\n]*))?"
    + "".join(f"(?:, {k}: {_quoted(k)})?" for k in ("request", "subrequest", "upstream", "host", "referrer"))
    + r"(?:, [^\n]*)?\Z")   # the stream and mail modules' further fields (bytes from/to client:...)
ERRNO = re.compile(r"\((\d+): ([^)\n]*)\)")
ACTION = re.compile(r" while ([^,\n]+)\Z")
REQUEST = re.compile(r"([A-Z][A-Z_-]*) (\S+)(?: (HTTP/[\d.]+))?\Z")
UPSTREAM = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(?:(?P<unix>unix:[^:]*)|\[(?P<v6>[^\]]+)\]|(?P<host>[^:/]+))"
                      r"(?::(?P<port>\d+))?")

# what nginx says when it could not reach or read its upstream (ngx_http_upstream.c, ngx_event_connect.c)
CONNECT = re.compile(r"connect\(\) (?:to \S+ )?failed \((\d+): ")
IO_FAILED = re.compile(r"(?:recv|readv|send|writev|sendfile|SSL_do_handshake|SSL_read|SSL_write)\(\) failed \((\d+): ")
BY_ERRNO = {111: "connection_refused", 113: "host_unreachable", 101: "host_unreachable", 110: "timed_out",
            104: "connection_reset"}


def sniff(head: list[str]) -> int:
    """90 when nginx's error prefix starts the file or most of its first lines."""
    lines = [l for l in head if l.strip()]
    if not lines:
        return 0
    hits = sum(1 for l in lines if HEAD.match(l))
    if hits and (HEAD.match(lines[0]) or hits * 2 >= len(lines)):
        return 90
    return 0


def _upstream(url: str, attrs: dict) -> None:
    m = UPSTREAM.match(url)
    if m is None:
        return
    host = m.group("unix") or m.group("v6") or m.group("host")
    if host:
        attrs["upstream_host"] = host
    if m.group("port") and not m.group("unix"):
        attrs["upstream_port"] = int(m.group("port"))


def classify(text: str) -> tuple[str, dict]:
    """kind and attrs of a record's message (everything after ``pid#tid: *connection``)."""
    attrs: dict = {}
    last = text.rsplit("\n", 1)[-1]
    t = TRAILER.search(last)
    body = text[:len(text) - len(last) + t.start()] if t else text
    if t:
        for k in ("client", "server", "request", "subrequest", "upstream", "host", "referrer"):
            v = t.group(k)
            if v:
                attrs[k] = v
        r = REQUEST.match(attrs.get("request", ""))
        if r:
            attrs["method"], attrs["path"] = r.group(1), r.group(2)
            if r.group(3):
                attrs["protocol"] = r.group(3)
        if "upstream" in attrs:
            _upstream(attrs["upstream"], attrs)
    a = ACTION.search(body)
    if a:
        attrs["action"] = a.group(1)
    e = ERRNO.search(body)
    if e:
        attrs["errno"], attrs["errno_text"] = int(e.group(1)), e.group(2)
    upstream_action = a is not None and "upstream" in a.group(1)
    reason = None
    if body.startswith("upstream timed out"):
        reason = "timed_out"
    elif body.startswith("upstream prematurely closed connection"):
        reason = "prematurely_closed"
    elif body.startswith("no live upstreams"):
        reason = "no_live_upstreams"
    elif body.startswith("upstream sent too big header"):
        reason = "other"
    elif upstream_action and (CONNECT.match(body) or IO_FAILED.match(body)):
        reason = BY_ERRNO.get(attrs.get("errno"), "other")
    if reason is None:
        return "log", attrs
    attrs["reason"] = reason
    return "upstream_error", attrs


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    clock = ctx.clock()
    pending: tuple | None = None   # (line, ts, severity, pid, tid, connection, message)
    more: list[str] = []

    def flush() -> Iterator[Event]:
        nonlocal pending, more
        if pending is not None:
            n, ts, sev, pid, tid, conn, message = pending
            text = "\n".join([message, *more]).rstrip("\n") if more else message
            kind, found = classify(text)
            attrs = {"tid": tid}
            if conn is not None:
                attrs["connection"] = conn
            attrs.update(found)
            yield Event(ts, ctx.local_quality, kind, text, n, n + len(more), severity=sev, process="nginx",
                        pid=pid, attrs=attrs)
        pending, more = None, []

    for n, line, last in with_last(text_lines(raw, start)):
        m = HEAD.match(line)
        if m:
            yield from flush()
            y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
            if mi > 59 or s > 60 or h > 23:
                yield Reject(n, "invalid time in an nginx error timestamp", line)
                continue
            try:
                ts = clock.to_us(y, mo, d, h, mi, min(s, 59), 0)
            except ValueError:   # February 30th
                yield Reject(n, "invalid date in an nginx error timestamp", line)
                continue
            message = line[m.end():]
            if not message and last:   # "... 1#1: " and the file ends: the rest was never written
                yield Reject(n, "line cut short: an nginx error prefix and no message", line)
                continue
            conn = int(m.group(10)) if m.group(10) else None
            pending = (n, ts, SEVERITY[m.group(7)], int(m.group(8)), int(m.group(9)), conn, message)
            continue
        if last and len(line) >= _CUT_MIN and HEAD_PARTIAL.fullmatch(line, partial=True):
            yield from flush()
            yield Reject(n, "line cut short inside its nginx error prefix", line)
            continue
        if pending is not None:
            more.append(line)
            continue
        yield Reject(n, "blank line" if not line.strip() else
                     "not an nginx error line, and no record before it to continue", line)
    yield from flush()
