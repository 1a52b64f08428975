"""nginx access logs written as JSON (``log_format main escape=json '{...}'``), one object a line.

People name the fields as they like; the common names of nginx's variables
are read (``time_iso8601``/``time_local``/``msec``/``@timestamp``,
``remote_addr``, ``request``, ``request_method``, ``request_uri``/``uri``,
``status``, ``body_bytes_sent``, ``http_referer``, ``http_user_agent``,
``request_time``, ``upstream_response_time``, ``upstream_status``,
``upstream_addr``), into the same attrs as nginx_access's ``http_request``
events.  Other keys are left in the line (the message).

>>> from parsers.testing import run
>>> (e,), _ = run(__name__, SAMPLE)
>>> e.ts_us, e.kind, e.attrs["status"], e.attrs["upstream_time"], e.attrs["path"]
(1716906914123000, 'http_request', 502, 3.001, '/api/orders')
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject

NAME = "nginx_json"
DESCRIPTION = "nginx access logs in a JSON log_format (escape=json), one object a line"
SAMPLE = ('{"time_iso8601":"2024-05-28T14:35:14.123+00:00","remote_addr":"203.0.113.9","request":"POST /api/orders '
          'HTTP/1.1","status":"502","body_bytes_sent":"157","request_time":"3.004","upstream_response_time":"3.001",'
          '"upstream_status":"502","upstream_addr":"127.0.0.1:3000","http_user_agent":"curl/8.1"}')

# attr -> (the keys it may be written under, type)
FIELDS = {
    "client": (("remote_addr", "client", "client_ip", "realip_remote_addr"), str),
    "remote_user": (("remote_user",), str),
    "request": (("request",), str),
    "method": (("request_method", "method"), str),
    "path": (("request_uri", "uri", "path"), str),
    "protocol": (("server_protocol", "protocol"), str),
    "status": (("status",), int),
    "bytes": (("body_bytes_sent", "bytes_sent", "bytes"), int),
    "referer": (("http_referer", "referer", "referrer"), str),
    "user_agent": (("http_user_agent", "user_agent"), str),
    "forwarded_for": (("http_x_forwarded_for", "x_forwarded_for"), str),
    "request_time": (("request_time",), float),
    "upstream_time": (("upstream_response_time", "upstream_time"), float),
    "upstream_status": (("upstream_status",), int),
    "upstream_addr": (("upstream_addr", "upstream"), str),
    "vhost": (("host", "server_name", "http_host"), str),
}
_TIME_KEYS = ("time_iso8601", "@timestamp", "timestamp", "time")


def _value(v, typ):
    if v is None or v == "" or v == "-":
        return None
    try:
        return typ(v)
    except (TypeError, ValueError):
        return None


def _ts(rec: dict) -> int | None:
    for k in _TIME_KEYS:
        v = rec.get(k)
        if isinstance(v, str) and v:
            try:
                return int(datetime.fromisoformat(v.replace("Z", "+00:00")).timestamp() * 1_000_000) \
                    if ("+" in v[10:] or "Z" in v or "-" in v[19:]) else None
            except ValueError:
                pass
    v = rec.get("time_local")
    if isinstance(v, str):
        try:
            return int(datetime.strptime(v, "%d/%b/%Y:%H:%M:%S %z").timestamp() * 1_000_000)
        except ValueError:
            pass
    v = _value(rec.get("msec"), float)
    return int(v * 1_000_000) if v else None


def _looks(line: str) -> bool:
    if not line.startswith("{"):
        return False
    try:
        rec = json.loads(line)
    except ValueError:
        return False
    return isinstance(rec, dict) and "status" in rec and any(k in rec for k in ("request", "request_uri", "uri")) \
        and any(k in rec for k in ("remote_addr", "time_local", "time_iso8601", "msec"))


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:10]
    return 92 if lines and sum(map(_looks, lines)) * 2 > len(lines) else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    for n, line in text_lines(raw, start):
        if not line.strip():
            yield Reject(n, "blank line", line)
            continue
        try:
            rec = json.loads(line)
        except ValueError as e:
            yield Reject(n, f"invalid JSON: {e}", line)
            continue
        if not isinstance(rec, dict):
            yield Reject(n, "JSON value is not an object", line)
            continue
        ts = _ts(rec)
        if ts is None:
            yield Reject(n, "no time with a zone (time_iso8601, time_local, msec)", line)
            continue
        attrs = {}
        for attr, (keys, typ) in FIELDS.items():
            for k in keys:
                if k in rec:
                    v = _value(rec[k], typ)
                    if v is not None:
                        attrs[attr] = v
                    break
        req = attrs.get("request")
        if req and "method" not in attrs:
            parts = req.split(" ")
            if len(parts) >= 2 and parts[0].isalpha() and parts[0].isupper():
                attrs["method"], attrs["path"] = parts[0], parts[1]
                if len(parts) > 2:
                    attrs["protocol"] = " ".join(parts[2:])
        yield Event(ts, "exact", "http_request", line, n, n, process="nginx", attrs=attrs)
