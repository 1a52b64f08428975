"""nginx_error: nginx's error log.

The values checked against the real files were read off the text by hand
(the lab host's clock was on UTC).  The texts written here for other cases
use nginx's own wording (src/http/ngx_http_upstream.c, ngx_http_request.c,
src/event/ngx_event_connect.c, src/stream/ngx_stream_proxy.c).
"""
from __future__ import annotations

import io
from collections import Counter

import pytest

import parsers
from parsers import nginx_error
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import accounted, assert_accounted, ingest, line_count, sample

MOD = "parsers.nginx_error"
RUN3 = "nginx-error/lab-run3-nginx-1.22-error.log"
RUN1 = "nginx-error/lab-run1-memcg-thrash-504-error.log"
PM2 = "nginx-error/lab-pm2-phase-nginx-error.log"
POCKETS = "nginx-error/8pockets-docker-nodejs-error.log"
DEBIAN9 = "nginx-error/s4-debian9-nginx-error.log"
ROCKY = "nginx-error/s4-rockylinux9-nginx-error.log"

TRAIL = (', client: 127.0.0.1, server: api.example.test, request: "GET /api/orders HTTP/1.1", '
         'upstream: "http://127.0.0.1:3000/api/orders", host: "127.0.0.1"')


def t(y, mo, d, h, mi, s, ms=0):
    return utc_us(y, mo, d, h, mi, s, ms * 1000)


def parse_file(rel: str, ctx: Context | None = None):
    data = sample(rel).read_bytes()
    events, rejects = run(MOD, data, ctx)
    return data, events, rejects


def reasons(events) -> Counter:
    return Counter((e.kind, (e.attrs or {}).get("reason")) for e in events)


@pytest.mark.parametrize("rel, expected", [
    # counted by hand: grep -c of each message in the file
    (RUN3, {("upstream_error", "connection_refused"): 45, ("upstream_error", "prematurely_closed"): 15,
            ("upstream_error", "timed_out"): 2}),
    (RUN1, {("upstream_error", "timed_out"): 75}),
    (PM2, {("upstream_error", "connection_refused"): 3, ("upstream_error", "prematurely_closed"): 8}),
    (POCKETS, {("log", None): 2, ("upstream_error", "connection_refused"): 4,
               ("upstream_error", "host_unreachable"): 13, ("upstream_error", "timed_out"): 1}),
    (DEBIAN9, {("log", None): 19}),
    (ROCKY, {("log", None): 2}),
])
def test_samples_reasons_counted_by_hand(rel, expected):
    data, events, rejects = parse_file(rel)
    assert rejects == []
    assert reasons(events) == expected
    assert all(e.line == e.line_end for e in events)   # no record of these files runs over a line
    assert {e.process for e in events} == {"nginx"}
    assert {e.ts_quality for e in events} == {"zone_assumed"}
    assert_accounted(data, events, rejects)


def test_run3_upstream_and_times():
    _, events, _ = parse_file(RUN3)
    ups = [e for e in events if e.kind == "upstream_error"]
    assert {(e.attrs["upstream_host"], e.attrs["upstream_port"]) for e in ups} == {("127.0.0.1", 3000)}
    assert {e.pid for e in events} == {22541, 22542}
    e = events[0]   # 2026/11/22 19:59:04 [error] 22541#22541: *103 upstream prematurely closed connection ...
    assert (e.ts_us, e.severity, e.pid, e.line) == (t(2026, 11, 22, 19, 59, 4), 3, 22541, 1)
    assert e.attrs == {
        "tid": 22541, "connection": 103, "client": "127.0.0.1", "server": "api.example.test",
        "request": "GET /api/orders?page=4 HTTP/1.1", "method": "GET", "path": "/api/orders?page=4",
        "protocol": "HTTP/1.1", "upstream": "http://127.0.0.1:3000/api/orders?page=4",
        "upstream_host": "127.0.0.1", "upstream_port": 3000, "host": "127.0.0.1",
        "action": "reading response header from upstream", "reason": "prematurely_closed"}
    refused = next(e for e in events if e.attrs["reason"] == "connection_refused")
    assert (refused.line, refused.pid, refused.attrs["connection"], refused.attrs["errno"],
            refused.attrs["errno_text"], refused.attrs["action"]) == (
        4, 22542, 105, 111, "Connection refused", "connecting to upstream")
    timed = [e for e in events if e.attrs["reason"] == "timed_out"]
    assert {(e.attrs["errno"], e.attrs["errno_text"]) for e in timed} == {(110, "Connection timed out")}


def test_8pockets_config_errors_hosts_and_zone():
    # the docker host's zone is not known; read in Europe/Berlin for the test (CEST, UTC+2 in May)
    _, events, _ = parse_file(POCKETS, Context(tz=zone("Europe/Berlin")))
    e = events[0]   # 2016/05/05 03:05:05 [emerg] 1#1: "worker_processes" directive is not allowed here in ...
    assert (e.kind, e.severity, e.pid, e.attrs) == ("log", 0, 1, {"tid": 1})
    assert e.message == '"worker_processes" directive is not allowed here in /etc/nginx/conf.d/app.conf:1'
    assert e.ts_us == t(2016, 5, 5, 1, 5, 5)
    r = events[3]   # 03:42:23 ... favicon.ico ..., referrer: "http://153.121.33.54:8999/"
    assert r.ts_us == t(2016, 5, 5, 1, 42, 23)
    assert (r.attrs["referrer"], r.attrs["host"], r.attrs["path"]) == (
        "http://153.121.33.54:8999/", "153.121.33.54:8999", "/favicon.ico")
    assert "server" not in r.attrs   # "server: ," (no server_name)
    assert [(e.attrs["reason"], e.attrs["upstream_host"], e.attrs["upstream_port"], e.attrs["errno"])
            for e in events[2:]] == (
        [("connection_refused", "127.0.53.53", 5000, 111)] * 4 + [("host_unreachable", "172.17.0.9", 5000, 113)] * 7
        + [("timed_out", "172.17.0.9", 5000, 110)] + [("host_unreachable", "172.17.0.9", 5000, 113)] * 6)
    assert events[13].attrs["errno_text"] == "Operation timed out"
    assert events[13].attrs["action"] == "connecting to upstream"


def test_open_failed_is_log_with_attrs():
    _, events, _ = parse_file(ROCKY)   # the file has no final newline
    e = events[1]
    assert (e.kind, e.ts_us, e.pid, e.line) == ("log", t(2022, 10, 8, 22, 27, 55), 6068, 2)
    assert e.attrs == {"tid": 6068, "connection": 4, "errno": 2, "errno_text": "No such file or directory",
                       "client": "192.168.0.115", "server": "_", "request": "GET /REALLY-DOES-NOT-EXIST HTTP/1.0",
                       "method": "GET", "path": "/REALLY-DOES-NOT-EXIST", "protocol": "HTTP/1.0",
                       "host": "192.168.0.115"}


@pytest.mark.parametrize("message, reason, extra", [
    ("connect() failed (13: Permission denied) while connecting to upstream", "other",
     {"errno": 13, "errno_text": "Permission denied"}),
    ("upstream timed out (110: Connection timed out) while connecting to upstream", "timed_out", {"errno": 110}),
    ("upstream timed out (110: Operation timed out) while reading response header from upstream", "timed_out",
     {"errno_text": "Operation timed out"}),
    ("recv() failed (104: Connection reset by peer) while reading response header from upstream",
     "connection_reset", {"errno": 104}),
    ("upstream sent too big header while reading response header from upstream", "other",
     {"action": "reading response header from upstream"}),
    ("connect() failed (113: Host is unreachable) while connecting to upstream", "host_unreachable", {}),
    ("upstream prematurely closed connection while reading upstream", "prematurely_closed", {}),
])
def test_upstream_reasons(message, reason, extra):
    events, rejects = run(MOD, f"2024/05/28 14:35:12 [error] 7#7: *9 {message}{TRAIL}\n")
    assert rejects == []
    e = events[0]
    assert (e.kind, e.attrs["reason"], e.attrs["upstream_host"], e.attrs["upstream_port"]) == (
        "upstream_error", reason, "127.0.0.1", 3000)
    assert extra.items() <= e.attrs.items()


def test_other_upstreams_and_modules():
    text = (
        '2024/05/28 14:00:00 [error] 7#7: *1 no live upstreams while connecting to upstream, client: 10.0.0.2, '
        'server: shop.test, request: "POST /cart HTTP/2.0", upstream: "http://backend/cart", host: "shop.test", '
        'referrer: "https://shop.test/"\n'
        '2024/05/28 14:00:01 [crit] 7#7: *2 connect() to unix:/run/php/php8.2-fpm.sock failed (2: No such file or '
        'directory) while connecting to upstream, client: 10.0.0.2, server: shop.test, request: "GET /i.php HTTP/1.1",'
        ' upstream: "fastcgi://unix:/run/php/php8.2-fpm.sock:", host: "shop.test"\n'
        '2024/05/28 14:00:02 [error] 7#7: *3 connect() failed (111: Connection refused) while connecting to '
        'upstream, client: 10.0.0.3, server: 0.0.0.0:5432, upstream: "127.0.0.1:5433", bytes from/to client:0/0, '
        'bytes from/to upstream:0/0\n'
        '2024/05/28 14:00:03 [error] 7#7: *4 connect() failed (111: Connection refused) while connecting to '
        'upstream, client: ::1, server: , request: "GET / HTTP/1.1", upstream: "http://[::1]:8080/", host: "x"\n'
        '2024/05/28 14:00:04 [warn] 7#7: *5 an upstream response is buffered to a temporary file '
        '/var/cache/nginx/proxy_temp/1/00/0000000001 while reading upstream, client: 10.0.0.2, server: shop.test, '
        'request: "GET /big HTTP/1.1", upstream: "http://10.0.0.9:80/big", host: "shop.test"\n')
    events, rejects = run(MOD, text)
    assert rejects == []
    e = events
    assert (e[0].kind, e[0].attrs["reason"], e[0].attrs["upstream_host"], e[0].attrs["referrer"]) == (
        "upstream_error", "no_live_upstreams", "backend", "https://shop.test/")
    assert "upstream_port" not in e[0].attrs and e[0].attrs["protocol"] == "HTTP/2.0"
    assert (e[1].kind, e[1].severity, e[1].attrs["reason"], e[1].attrs["errno"], e[1].attrs["upstream_host"]) == (
        "upstream_error", 2, "other", 2, "unix:/run/php/php8.2-fpm.sock")
    assert "upstream_port" not in e[1].attrs
    assert (e[2].attrs["reason"], e[2].attrs["upstream_host"], e[2].attrs["upstream_port"], e[2].attrs["server"]) == (
        "connection_refused", "127.0.0.1", 5433, "0.0.0.0:5432")
    assert "request" not in e[2].attrs
    assert (e[3].attrs["client"], e[3].attrs["upstream_host"], e[3].attrs["upstream_port"]) == ("::1", "::1", 8080)
    assert (e[4].kind, e[4].severity, e[4].attrs["upstream_port"]) == ("log", 4, 80)


def test_levels_and_lines_without_connection():
    levels = ["debug", "info", "notice", "warn", "error", "crit", "alert", "emerg"]
    text = "".join(f"2024/05/28 14:00:0{i} [{lv}] 1#2: message {i}\n" for i, lv in enumerate(levels))
    events, rejects = run(MOD, text)
    assert rejects == []
    assert [e.severity for e in events] == [7, 6, 5, 4, 3, 2, 1, 0]
    assert {(e.pid, e.kind) for e in events} == {(1, "log")}
    assert events[0].attrs == {"tid": 2} and events[0].message == "message 0"


def test_fastcgi_stderr_folds_into_its_record():
    text = ('2024/05/28 14:00:00 [error] 12#12: *3 FastCGI sent in stderr: "PHP message: PHP Fatal error:  '
            'Uncaught Error: Call to undefined function f() in /var/www/a.php:3\n'
            'Stack trace:\n'
            '#0 {main}\n'
            '  thrown in /var/www/a.php on line 3" while reading response header from upstream, client: 10.0.0.2, '
            'server: shop.test, request: "GET /a.php HTTP/1.1", upstream: "fastcgi://127.0.0.1:9000", '
            'host: "shop.test"\n'
            '2024/05/28 14:00:01 [error] 12#12: *5 upstream timed out (110: Connection timed out) while reading '
            'response header from upstream' + TRAIL + '\n')
    events, rejects = run(MOD, text)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind) for e in events] == [(1, 4, "log"), (5, 5, "upstream_error")]
    a = events[0].attrs
    assert (a["upstream_host"], a["upstream_port"], a["path"], a["action"]) == (
        "127.0.0.1", 9000, "/a.php", "reading response header from upstream")
    assert "reason" not in a
    assert events[0].message.count("\n") == 3
    assert_accounted(text.encode(), events, rejects)


def test_request_with_a_quote_and_no_trailer_fields():
    events, _ = run(MOD, '2024/05/28 14:00:00 [error] 1#1: *1 open() "/srv/a\\"b" failed (2: No such file or '
                         'directory), client: 10.0.0.2, server: s, request: "GET /a"b HTTP/1.1", host: "h"\n'
                         '2024/05/28 14:00:01 [info] 1#1: *2 client 10.0.0.2 closed keepalive connection\n')
    assert (events[0].attrs["request"], events[0].attrs["path"], events[0].attrs["host"]) == (
        'GET /a"b HTTP/1.1', '/a"b', "h")
    assert events[1].attrs == {"tid": 1, "connection": 2}


def test_garbage_and_cut_lines():
    text = ("garbage before the first record\n"
            "\n"
            "2024/05/28 14:00:00 [error] 1#1: *1 connect() failed (111: Connection refused) while connecting\n"
            "garbage after a record is taken as its continuation\n"
            "2024/02/30 14:00:00 [error] 1#1: no such day\n"
            "2024/05/28 14:61:00 [error] 1#1: no such minute\n"
            "2024/05/28 14:00:01 [error] 1#1: *2 upstream timed out (110: Connection timed out) while reading\n"
            "2024/05/28 14:00:02 [error] 1#1:\n"          # a record with no message, inside the file
            "2024/05/28 14:00:0")                         # the file ends inside a prefix
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end, e.kind) for e in events] == [(3, 4, "log"), (7, 7, "upstream_error"), (8, 8, "log")]
    assert events[0].message.endswith("\ngarbage after a record is taken as its continuation")
    assert "reason" not in events[0].attrs           # connect() failed, but not said to be to an upstream
    assert events[1].attrs["reason"] == "timed_out"  # "upstream timed out" says it on its own
    assert [(r.line, r.reason) for r in rejects] == [
        (1, "not an nginx error line, and no record before it to continue"),
        (2, "blank line"),
        (5, "invalid date in an nginx error timestamp"),
        (6, "invalid time in an nginx error timestamp"),
        (9, "line cut short inside its nginx error prefix")]
    assert_accounted(text.encode(), events, rejects)


@pytest.mark.parametrize("cut", ["2024/05/28 ", "2024/05/28 14:00:01 [err", "2024/05/28 14:00:01 [error] 1#",
                                 "2024/05/28 14:00:01 [error] 1#1:", "2024/05/28 14:00:01 [error] 1#1: "])
def test_last_line_cut_short(cut):
    events, rejects = run(MOD, "2024/05/28 14:00:00 [error] 1#1: a\n" + cut)
    assert [(e.line, e.line_end) for e in events] == [(1, 1)]
    assert [r.line for r in rejects] == [2]
    assert rejects[0].reason in ("line cut short inside its nginx error prefix",
                                 "line cut short: an nginx error prefix and no message")


@pytest.mark.parametrize("short", ["2", "2024", "#0 {main}", "2024/05/2"])
def test_short_text_at_the_end_is_a_continuation(short):
    events, rejects = run(MOD, '2024/05/28 14:00:00 [error] 1#1: *1 FastCGI sent in stderr: "x\n' + short)
    assert rejects == [] and events[0].message.endswith("\n" + short)


def test_invalid_utf8_nul_and_crlf():
    data = (b"2024/05/28 14:00:00 [error] 1#1: *1 open() \"/srv/caf\xe9\" failed (2: No such file or directory)\r\n"
            b"\xff a\x00b\r\n")
    events, rejects = run(MOD, data)
    assert rejects == []
    assert events[0].message == 'open() "/srv/caf\ufffd" failed (2: No such file or directory)\n\ufffd a\ufffdb'
    assert (events[0].line, events[0].line_end, events[0].attrs["errno"]) == (1, 2, 2)


def test_start_line_offsets_line_numbers():
    out = list(nginx_error.parse(io.BytesIO(b"2024/05/28 14:00:00 [error] 1#1: a\n  b\n2024/05/28 14:00:01 [warn] 1#1: c"),
                                 Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42), (43, 43)]


def test_empty_file():
    assert run(MOD, b"") == ([], [])


def test_sniff_on_other_text():
    assert nginx_error.sniff([]) == 0
    assert nginx_error.sniff([nginx_error.SAMPLE]) == 90
    assert nginx_error.sniff(['203.0.113.9 - - [28/May/2024:14:35:14 +0000] "GET / HTTP/1.1" 502 157 "-" "c"']) == 0
    assert nginx_error.sniff(["May 28 14:35:12 web nginx[12]: 2024/05/28 14:35:12 [error] 12#12: *1 x"]) == 0


def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the files go into the database with every line accounted for."""
    if "nginx_error" not in parsers.FORMATS:
        monkeypatch.setitem(parsers.FORMATS, "nginx_error", nginx_error)
        monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, nginx_error])
    run3, rocky = sample(RUN3), sample(ROCKY)
    con, results = ingest(tmp_path, run3, rocky, tz="Europe/Berlin")
    assert [(r.format, r.status, r.rejected) for r in results] == [("nginx_error", "ingested", 0)] * 2
    assert sorted(accounted(con, r.file_id) for r in results) == [(2, 2), (62, 62)]
    fid = next(r.file_id for r in results if r.path.endswith("lab-run3-nginx-1.22-error.log"))
    rows = con.execute("SELECT epoch_us(ts), ts_quality, kind, process, pid, attrs->>'reason', "
                       "attrs->>'upstream_host', (attrs->>'upstream_port')::INT FROM events "
                       "WHERE file_id = ? ORDER BY line LIMIT 1", [fid]).fetchall()
    # read in Europe/Berlin (CET, UTC+1) as --tz says: 19:59:04 local is 18:59:04 UTC
    assert rows == [(t(2026, 11, 22, 18, 59, 4), "zone_assumed", "upstream_error", "nginx", 22541,
                     "prematurely_closed", "127.0.0.1", 3000)]
    counts = con.execute("SELECT attrs->>'reason', count(*) FROM events WHERE file_id = ? GROUP BY 1 ORDER BY 1",
                         [fid]).fetchall()
    assert counts == [("connection_refused", 45), ("prematurely_closed", 15), ("timed_out", 2)]
