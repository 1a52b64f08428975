"""nginx access logs in the forms people configure, read by DuckDB and by the spec's Python reading alike."""
from __future__ import annotations

import json

from parsers.bulk import match
from parsers.nginx_access import BULK

from .helpers import accounted, ingest

LINES = [
    # common: no referrer, no agent
    '198.51.100.7 - - [28/May/2024:14:35:12 +0200] "GET /api/health HTTP/1.1" 200 2',
    # combined + $request_time $upstream_response_time $upstream_status
    '198.51.100.7 - - [28/May/2024:14:35:13 +0200] "POST /api/orders HTTP/1.1" 502 157 "-" "okhttp/4.12.0" 3.004 3.001 502',
    # key=value timings, quoted
    '198.51.100.7 - alice [28/May/2024:14:35:14 +0200] "GET /api/orders/7 HTTP/2.0" 200 931 "https://shop.example/" '
    '"Mozilla/5.0" rt=0.051 uct="0.000" uht="0.049" urt="0.050" us="200"',
    # a user agent with quotes (escaped by nginx) and a <script> tag
    '203.0.113.66 - - [28/May/2024:14:35:15 +0200] "GET /?q=%3Cscript%3E HTTP/1.1" 404 153 "-" '
    '"<script>alert(\\x22x\\x22)</script> onerror=alert(1)"',
    # TLS spoken to a plain-HTTP port: nginx logs the binary request line escaped, status 400
    '203.0.113.9 - - [28/May/2024:14:35:16 +0200] "\\x16\\x03\\x01\\x00\\xF1\\x01\\x00\\x00\\xED\\x03\\x03" 400 157 "-" "-"',
    "this is not an access log line",
]


def test_forms_and_hostile_lines(tmp_path):
    f = tmp_path / "access.log"
    f.write_text("\n".join(LINES) + "\n")
    con, (res,) = ingest(tmp_path, f)
    assert res.format == "nginx_access" and res.lines == 6 and res.rejected == 1
    rows = con.execute("SELECT line, strftime(ts, '%H:%M:%S'), attrs FROM events ORDER BY line").fetchall()
    got = [(line, t, json.loads(a)) for line, t, a in rows]
    # 14:35:12 +0200 is 12:35:12Z
    assert [(line, t) for line, t, _ in got] == [(1, "12:35:12"), (2, "12:35:13"), (3, "12:35:14"), (4, "12:35:15"),
                                                 (5, "12:35:16")]
    a = [g[2] for g in got]
    assert (a[0]["status"], a[0]["bytes"], a[0].get("user_agent")) == (200, 2, None)
    assert (a[1]["request_time"], a[1]["upstream_time"], a[1]["upstream_status"]) == (3.004, 3.001, 502)
    assert (a[2]["request_time"], a[2]["upstream_time"], a[2]["upstream_status"], a[2]["remote_user"]) == \
        (0.051, 0.05, 200, "alice")
    assert a[3]["user_agent"] == "<script>alert(\\x22x\\x22)</script> onerror=alert(1)"
    assert a[4]["status"] == 400 and a[4].get("method") is None and a[4]["request"].startswith("\\x16\\x03")
    assert accounted(con, res.file_id) == (6, 6)
    # the spec's Python reading agrees with DuckDB's on every line
    for line, (_, _, attrs) in zip(LINES, got):
        assert match(BULK, line)["attrs"] == attrs


def test_json_log_format(tmp_path):
    f = tmp_path / "access.json.log"
    f.write_text(
        '{"time_iso8601":"2024-05-28T14:35:14+02:00","remote_addr":"203.0.113.9","request":"GET /api/orders?x=\\"1\\" '
        'HTTP/1.1","status":"502","body_bytes_sent":"157","request_time":"3.004","upstream_response_time":"3.001",'
        '"upstream_status":"502","upstream_addr":"127.0.0.1:3000","http_user_agent":"<script>x</script> ü"}\n'
        '{"time_local":"28/May/2024:14:35:15 +0200","remote_addr":"203.0.113.9","request_method":"POST",'
        '"request_uri":"/api/orders","status":200,"body_bytes_sent":93,"request":"POST /api/orders HTTP/1.1"}\n'
        '{"remote_addr":"203.0.113.9","request":"GET / HTTP/1.1","status":"200"}\n'
        '{"time_iso8601":"2024-05-28T14:35:16+02:00", "status": \n')
    con, (res,) = ingest(tmp_path, f)
    assert res.format == "nginx_json" and (res.lines, res.events, res.rejected) == (4, 2, 2)
    rows = [(t, json.loads(a)) for t, a in con.execute(
        "SELECT strftime(ts, '%H:%M:%S'), attrs FROM events ORDER BY line").fetchall()]
    # 14:35:14+02:00 is 12:35:14Z
    assert rows[0][0] == "12:35:14" and rows[1][0] == "12:35:15"
    a = rows[0][1]
    assert (a["status"], a["method"], a["path"], a["upstream_time"], a["upstream_addr"], a["user_agent"]) == \
        (502, "GET", '/api/orders?x="1"', 3.001, "127.0.0.1:3000", "<script>x</script> ü")
    assert (rows[1][1]["method"], rows[1][1]["status"], rows[1][1]["bytes"]) == ("POST", 200, 93)
    reasons = [r for (r,) in con.execute("SELECT reason FROM rejects ORDER BY line").fetchall()]
    assert reasons[0] == "no time with a zone (time_iso8601, time_local, msec)"
    assert reasons[1].startswith("invalid JSON: Expecting value")      # the object is cut after "status":
