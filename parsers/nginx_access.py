"""nginx access logs: ``combined``, ``common``, ``main`` (combined + "$http_x_forwarded_for"),
and any of them followed by timings: bare (``... "agent" 0.123 0.120 502``: $request_time
$upstream_response_time $upstream_status) or as key=value pairs (``rt=0.123 urt="0.120"
us="502"``, ``request_time=``, ``upstream_response_time=``, ``upstream_status=``), and the
upstream's address as a pair (``ua="127.0.0.1:3000"``, ``upstream_addr=``, ``upstream=``).

A bulk format: the line grammar is one regular expression, declared here
once and run by DuckDB over whole files (``regexp_extract``), so millions of
lines never pay a Python call each.  ``BULK`` says how groups become
columns; every group not named there goes to ``attrs`` with its type.

>>> from parsers.bulk import match
>>> ev = match(BULK, SAMPLE)
>>> ev["ts_us"], ev["attrs"]["status"], ev["attrs"]["path"], ev["attrs"]["user_agent"]
(1716906914000000, 502, '/api/orders', 'curl/8.1')
>>> match(BULK, "Dec 15 23:44:03 fink rtkit-daemon[1170]: hello") is None
True
"""
from __future__ import annotations

NAME = "nginx_access"
DESCRIPTION = "nginx access log, combined or main (with $http_x_forwarded_for)"
SAMPLE = ('203.0.113.9 - - [28/May/2024:14:35:14 +0000] "POST /api/orders HTTP/1.1" 502 157 '
          '"-" "curl/8.1"')

PATTERN = (
    r'(?P<client>[^ ]+) [^ ]+ (?P<remote_user>[^ ]+) \[(?P<time>[^\]]+)\] '
    r'"(?:(?P<method>[A-Z]+) (?P<path>[^" ]+)(?: (?P<protocol>[^"]*))?|(?P<request>[^"]*))" '
    r'(?P<status>\d{3}) (?P<bytes>\d+|-)(?: "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)")?'
    r'(?: "(?P<forwarded_for>[^"]*)")?(?P<tail>.*)'
)

# Timings after the fields above, bare (" 3.004 3.001 502") or as pairs (" rt=0.051 urt=\"0.050\"
# us=\"200\""): read from the tail by both engines, so the line's own pattern stays cheap.
_NUM = r'([0-9]+\.[0-9]+)'

BULK = {
    "pattern": PATTERN,
    "required": "status",                        # a group that is non-empty on every match
    "ts": ("time", "%d/%b/%Y:%H:%M:%S %z"),      # strptime layout; %z makes it exact
    "kind": "http_request",
    "process": "nginx",
    "attrs": {                                   # group -> type (int, float, str); '' and '-' become null
        "status": "int", "method": "str", "path": "str", "protocol": "str", "request": "str",
        "bytes": "int", "client": "str", "remote_user": "str", "referer": "str",
        "user_agent": "str", "forwarded_for": "str", "request_time": "float", "upstream_time": "float",
        "upstream_status": "int", "upstream_addr": "str", "tail": "str",
    },
    "derived": {   # attr -> (group read from, pattern with one capture, type)
        "request_time": ("tail", r'(?:^ |\s(?:rt|request_time)="?)' + _NUM, "float"),
        "upstream_time": ("tail", r'(?:^ [0-9]+\.[0-9]+ |\s(?:urt|upstream_response_time)="?)' + _NUM, "float"),
        "upstream_status": ("tail", r'(?:^ [0-9]+\.[0-9]+ (?:[0-9]+\.[0-9]+|-) |\s(?:us|ust|upstream_status)="?)'
                                    r'([0-9]{3})', "int"),
        # $upstream_addr as a pair (ua="127.0.0.1:3000", upstream_addr=, upstream=): the first address
        "upstream_addr": ("tail", r'\s(?:ua|upstream_addr|upstream)="?([^"\s,]+)', "str"),
    },
}


def sniff(head: list[str]) -> int:
    from .bulk import match
    lines = [l for l in head if l.strip()][:10]
    if not lines:
        return 0
    hits = sum(1 for l in lines if match(BULK, l) is not None)
    return 80 if hits >= max(1, (len(lines) + 1) // 2) else 0
