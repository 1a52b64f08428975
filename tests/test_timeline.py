"""The HTML postmortem (`forensics timeline`): rendered from real ingests, opened in a real browser.

The browser tests run Debian's headless ``chromium`` (``.ci/run`` installs it) and read the DOM it
dumps after the page's script ran: the script records any error on ``<html data-errors>`` and sets
``data-rendered="1"`` when it has drawn everything.  They are skipped where no chromium is installed.
A screenshot of the demo bundle's page is kept in ``test-artifacts/timeline.png`` (and a dark one
beside it) for a person to look at.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import pytest

from forensics import ForensicsError, correlate
from forensics.report import MAX_ROWS, render_timeline, safe_json, write_timeline
from forensics.store import connect

from .conftest import write
from .helpers import CORPUS, ROOT, ingest

ARTIFACTS = ROOT / "test-artifacts"
BUNDLES = sorted(p for p in CORPUS.iterdir() if p.is_dir() and any(c.is_dir() for c in p.iterdir()))


# ---------------------------------------------------------------------------------------------- the browser

def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


NO_BROWSER = "no chromium on this machine (Debian: apt-get install chromium); the page was not opened"


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """``browser(html_path, screenshot=None, dark=False) -> dumped DOM`` in headless Chromium; a test
    that asks for it is skipped where there is none (see ``maybe_browser`` for checks that come first)."""
    run = _browser(tmp_path_factory)
    if run is None:
        pytest.skip(NO_BROWSER)
    return run


@pytest.fixture(scope="session")
def maybe_browser(tmp_path_factory):
    """The same, or None: the test makes its checks of the HTML, then skips the browser's part."""
    return _browser(tmp_path_factory)


def _browser(tmp_path_factory):
    exe = _chromium()
    if not exe:
        return None
    profile = tmp_path_factory.mktemp("chromium-profile")

    def run(page: Path, screenshot: Path | None = None, dark: bool = False) -> str:
        args = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                f"--user-data-dir={profile}", "--window-size=1400,2400"]
        if dark:
            args.append("--blink-settings=preferredColorScheme=0")
        url = page.resolve().as_uri()
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run([*args, f"--screenshot={screenshot}", url], capture_output=True, timeout=60)
            assert screenshot.exists() and screenshot.stat().st_size > 10_000
        r = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr[-2000:]
        return r.stdout
    return run


def html_attrs(dom: str) -> dict[str, str]:
    """The attributes of the dumped page's <html> element."""
    m = re.search(r"<html\b([^>]*)>", dom)
    assert m, dom[:500]
    return dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))


def assert_rendered(dom: str) -> None:
    a = html_attrs(dom)
    assert a.get("data-errors") == "", f"script errors on the page: {a.get('data-errors')}"
    assert a.get("data-rendered") == "1", "the page's script did not finish drawing"


# ---------------------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The README's demo bundle, ingested: (connection, path of its page, incidents)."""
    tmp = tmp_path_factory.mktemp("demo")
    con, _ = ingest(tmp, CORPUS / "vps-nest-oom")
    out = tmp / "timeline.html"
    found = write_timeline(con, out)
    yield con, out, found
    con.close()


# ---------------------------------------------------------------------------------------------- tests

def test_demo_page_holds_cards_lanes_charts_and_events(demo):
    con, out, found = demo
    html = out.read_text(encoding="utf-8")
    assert len(found) == 1 and found[0]["trigger"] == "oom_kill"
    # one card per incident, its summary, and links down to each piece of evidence in the events table
    assert html.count('<article class="card trig-') == len(found)
    assert found[0]["summary"] in html.replace("&#39;", "'")
    for ev in found[0]["evidence"]:
        assert f'href="#ev-{ev["event_id"]}"' in html
        assert f'<tr id="ev-{ev["event_id"]}"' in html
    # the kill, its file and line, in UTC and in the host's zone (Europe/Berlin, +02:00 in May)
    kill = next(e for e in found[0]["evidence"] if e["claim"] == "trigger")
    row = re.search(rf'<tr id="ev-{kill["event_id"]}".*?</tr>', html, re.S).group(0)
    assert "2024-05-28 12:56:41.116" in row and "14:56:41.116" in row and "+02:00" in row
    assert f'{kill["file"]}:{kill["line"]}' in row
    # clocks: how dmesg was aligned; timestamps per file by quality
    assert "message match" in html and "monotonic aligned" in html
    # plain requests are counted, not listed; the 5xx are listed
    # (the 5xx lines of the bundle's access log, counted from the file: 9 × 504 and 4 × 502)
    access = (CORPUS / "vps-nest-oom/web1/var/log/nginx/access.log").read_text().splitlines()
    n_5xx = sum(1 for l in access if re.search(r'" 5\d\d ', l))
    assert n_5xx == 13 and html.count('data-kind="http_request"') == n_5xx
    assert "http_request (not 5xx)" in html
    # self-contained: no external scripts, styles or images
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", html)
    assert "@media print" in html and "prefers-color-scheme: dark" in html


def test_demo_page_in_the_browser(demo, browser):
    _, out, found = demo
    dom = browser(out, screenshot=ARTIFACTS / "timeline.png")
    browser(out, screenshot=ARTIFACTS / "timeline-dark.png", dark=True)
    assert_rendered(dom)
    # the main timeline: a lane per source of web1 (app, kernel, systemd, nginx), the kill drawn on it
    lanes = re.search(r'<div id="lanes".*?<svg[^>]*data-lanes="(\d+)"', dom, re.S)
    assert lanes and int(lanes.group(1)) >= 4
    assert 'class="m m-kill"' in dom and 'class="m m-restart"' in dom
    # the incident's window shaded, its own small charts in its card
    assert 'class="inc"' in dom
    card = re.search(r'<div class="card-charts" data-inc="1">(.*?)</div>\s*<details', dom, re.S).group(1)
    assert "data-lanes=" in card and 'data-chart="memory"' in card and 'data-chart="http"' in card
    # the charts: memory with its limit line, requests with the 5xx, restarts
    for chart in ("memory", "http", "restarts"):
        assert f'data-chart="{chart}"' in dom, chart
    assert 'class="limit"' in dom and 'class="bar-5xx"' in dom and 'class="bar-restart"' in dom
    assert "cgroup limit 2.0 GiB" in dom


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_every_corpus_bundle_renders(bundle, tmp_path, maybe_browser):
    con, _ = ingest(tmp_path, bundle)
    out = tmp_path / "t.html"
    found = write_timeline(con, out)
    html = out.read_text(encoding="utf-8")
    assert html.count('<article class="card trig-') == len(found)
    if not found:
        assert "No incident in this window" in html
    for inc in found:
        for ev in inc["evidence"]:
            assert f'<tr id="ev-{ev["event_id"]}"' in html, (inc["id"], ev)
    if maybe_browser is None:
        pytest.skip(NO_BROWSER)
    dom = maybe_browser(out)
    assert_rendered(dom)
    assert dom.count('class="card-charts"') == len(found)


def test_log_text_is_shown_as_text_and_never_runs(tmp_path, maybe_browser):
    """Markup in a URL, a user agent, an app's message, a unit name and a deploy note, through the real
    ingest: it shows as text, and no script of it runs (it would mark <html data-pwned>)."""
    pwn = "document.documentElement.setAttribute('data-pwned','{}')"
    ua = f"Mozilla/5.0 </script><script>{pwn.format('ua')}</script>"
    url = f"/search?q=<script>{pwn.format('url')}</script>"
    img = f'<img src=x onerror="{pwn.format("img")}">'
    area = f"</textarea><script>{pwn.format('textarea')}</script>"
    app = f"api</script><script>{pwn.format('app')}</script>"
    host = tmp_path / "bundle" / "web1"
    write(host / "var/log/nginx/access.log", "".join(
        f'203.0.113.7 - - [28/May/2024:14:35:{s:02d} +0000] "GET {url} HTTP/1.1" {code} 157 "-" "{ua}"\n'
        for s, code in ((1, 200), (2, 502), (3, 502), (4, 200))))
    journal = [
        {"__REALTIME_TIMESTAMP": "1716906900000000", "_HOSTNAME": "web1", "SYSLOG_IDENTIFIER": "node",
         "_SYSTEMD_UNIT": "api.service", "_PID": "4123", "PRIORITY": "3",
         "MESSAGE": f"[Nest] 4123  - 05/28/2024, 2:35:00 PM   ERROR [ExceptionsHandler] connect ECONNREFUSED "
                    f"127.0.0.1:6379 {img} {area}"},
    ]
    write(host / "journal.json", "".join(json.dumps(r) + "\n" for r in journal))
    write(host / "deploy.log", f"2024-05-28T14:00:00Z v1.0.0 abc1234 -- {area}\n")
    write(host / "home/deploy/.pm2/pm2.log", "".join(f"2024-05-28T14:{t}: PM2 log: App [{app}:0] {what}\n" for t, what in (
        ("30:00", "starting in -fork mode-"), ("30:00", "online"),
        ("35:01", "exited with code [1] via signal [SIGKILL]"), ("35:02", "starting in -fork mode-"))))
    con, _ = ingest(tmp_path, tmp_path / "bundle")
    found = correlate.incidents(con)
    # an incident whose words come from the logs: the summary and a claim carry the markup too
    found.append({"id": "x", "host": "web1", "service": app, "unit": app, "ts": "2024-05-28T14:35:01Z",
                  "trigger": "crash", "summary": f"{app} died {img}", "errors": [], "unknowns": [area],
                  "evidence": [{"claim": f"error:{img}", "event_id": 1, "file": area, "line": 1,
                                "ts": "2024-05-28T14:35:01Z", "kind": "app_error"}]})
    html = render_timeline(con, found)
    out = tmp_path / "t.html"
    out.write_text(html, encoding="utf-8")
    # the page's own three scripts, no other: nothing from the logs opened or closed one
    assert len(re.findall(r"<script\b", html, re.I)) == 3
    assert len(re.findall(r"</script", html, re.I)) == 3
    assert not re.search(r"<(img|textarea)\b", html, re.I)
    assert "onerror=&#34;" in html or "onerror=&quot;" in html
    # the data block read by the script has no markup characters at all
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S).group(1)
    assert not set("<>&\u2028\u2029") & set(data)
    assert app in [r["svc"] for r in json.loads(data)["lifecycle"]]
    # in the browser: rendered, nothing injected ran, the text is there to read
    if maybe_browser is None:
        pytest.skip(NO_BROWSER)
    dom = maybe_browser(out)
    assert_rendered(dom)
    assert "data-pwned" not in html_attrs(dom)
    assert "data-pwned" not in re.search(r"<body\b[^>]*>", dom).group(0)
    assert "&lt;/script&gt;&lt;script&gt;document.documentElement.setAttribute" in dom
    assert "&lt;img src=x onerror=" in dom and "&lt;/textarea&gt;" in dom
    for where in ("ua", "url", "img", "textarea", "app"):   # each payload is on the page, as text
        assert f"setAttribute('data-pwned','{where}')" in dom, where


def test_safe_json_cannot_end_a_script():
    s = safe_json({"m": "</script><!-- & \u2028\u2029 -->"})
    assert not set("<>&\u2028\u2029") & set(s)
    assert json.loads(s) == {"m": "</script><!-- & \u2028\u2029 -->"}


def test_host_since_and_until_narrow_the_page(tmp_path):
    con, _ = ingest(tmp_path, CORPUS / "vps-nest-oom", CORPUS / "pm2-maxmem-heap")
    hosts = {h for (h,) in con.execute("SELECT DISTINCT host FROM events").fetchall()}
    assert {"web1", "shop-api"} <= hosts
    html = render_timeline(con, correlate.incidents(con, host="web1"), host="web1")
    assert 'data-host="web1"' in html and 'data-host="shop-api"' not in html
    assert html.count('<article class="card trig-') == 1
    html = render_timeline(con, [], since="2024-05-28T12:56:00Z", until="2024-05-28 12:57")
    times = re.findall(r'<tr id="ev-\d+"[^>]*data-t="(\d+)"', html)
    lo, hi = (int(datetime(2024, 5, 28, 12, m, tzinfo=timezone.utc).timestamp() * 1000) for m in (56, 57))
    assert times and all(lo <= int(t) <= hi for t in times)
    assert "No incident in this window" in html
    with pytest.raises(ForensicsError, match="--since: cannot read 'not a time'"):
        render_timeline(con, [], since="not a time")


def test_a_large_database_gives_a_small_page(tmp_path):
    """300 000 requests, 60 000 log lines, 20 000 errors with stack traces, 20 000 memory samples: the
    page lists what matters, counts the rest, and stays a few MB."""
    con = connect(tmp_path / "big.duckdb")
    con.execute("""INSERT INTO files (file_id, path, abspath, format, host, tz, lines, events, rejected, status)
                   VALUES (1, 'big/access.log', '/big/access.log', 'nginx_access', 'web1', 'UTC', 300000, 300000, 0,
                           'ingested'),
                          (2, 'big/journal.json', '/big/journal.json', 'journal_json', 'web1', 'UTC', 100000, 100000,
                           0, 'ingested')""")
    cols = "event_id, ts, ts_quality, host, source, kind, unit, process, pid, message, file_id, line, line_end, nlines, attrs"
    t0 = "TIMESTAMPTZ '2024-05-28 00:00:00+00'"
    con.execute(f"""INSERT INTO events ({cols})
        SELECT (1::BIGINT << 32) + i, {t0} + to_milliseconds(i * 280), 'exact', 'web1', 'nginx_access',
               'http_request', NULL, 'nginx', NULL,
               '203.0.113.' || (i % 250) || ' - - [28/May/2024] "GET /api/items/' || i || ' HTTP/1.1" ' || st
                 || ' 512 "-" "Mozilla/5.0 ' || repeat('x', 150) || '"',
               1, i + 1, i + 1, 1, json_object('status', st, 'method', 'GET', 'path', '/api/items/' || i)
        FROM (SELECT i, CASE WHEN i % 20 = 0 THEN 502 ELSE 200 END st FROM range(300000) t(i))""")
    con.execute(f"""INSERT INTO events ({cols})
        SELECT (2::BIGINT << 32) + i, {t0} + to_milliseconds(i * 840), 'exact', 'web1', 'journal_json',
               CASE WHEN i < 60000 THEN 'log' WHEN i < 80000 THEN 'app_error' ELSE 'memory_sample' END,
               'api.service', 'node', 4000,
               CASE WHEN i < 80000 THEN 'Error: boom ' || i || chr(10) || repeat('    at f (/app/x.js:1:2)' || chr(10), 80)
                    ELSE 'rss ' || i END,
               2, i + 1, i + 1, 1,
               CASE WHEN i >= 80000 THEN json_object('metric', 'rss', 'bytes', 100000000 + i * 1000) ELSE '{{}}' END
        FROM range(100000) t(i)""")
    html = render_timeline(con, correlate.incidents(con))
    size = len(html.encode("utf-8"))
    assert size < 3_000_000, f"page of {size} bytes"
    assert html.count('<tr id="ev-') <= MAX_ROWS
    # 300 000 requests, one in 20 a 5xx (listed), the other 285 000 counted
    assert "http_request (not 5xx)" in html and "285 000" in html.replace("\u202f", " ")
    data = json.loads(re.search(r'id="page-data">(.*?)</script>', html, re.S).group(1))
    assert sum(len(s["pts"]) for c in data["memory"] for s in c["series"]) <= 500
    assert sum(h["total"] for h in data["http"]) == 300000


def test_templates_are_package_data():
    """A non-editable install carries every file the page is built from."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["reports"]
    files = [p.name for p in (ROOT / "reports").iterdir() if p.is_file() and p.suffix != ".py"]
    assert files
    for name in files:
        assert any(Path(name).match(g) for g in globs), f"reports/{name} is not in package-data {globs}"


def test_the_command_writes_the_page(cli, tmp_path):
    assert cli("ingest", str(CORPUS / "vps-nest-oom"), "--db", "t.duckdb").returncode == 0
    r = cli("timeline", "--db", "t.duckdb", "-o", "page.html")
    assert r.returncode == 0, r.stderr
    assert "killed by the kernel" in r.stdout and "page.html" in r.stdout
    html = (tmp_path / "page.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and 'id="page-data"' in html


def test_zoom_and_filters_work_in_the_browser(demo, browser, tmp_path):
    """Drive the page as a reader would: the whole window, a drag across the lanes, an incident button,
    the kind filter; the page records its time range on <html data-view>."""
    _, out, found = demo
    probe = """<script>
    (function () {
      var h = document.documentElement, log = [];
      function view() { return h.getAttribute("data-view"); }
      log.push(view());
      document.getElementById("zoom-all").click();
      log.push(view());
      var svg = document.querySelector("#lanes svg"), r = svg.getBoundingClientRect();
      function mouse(type, x) {
        var ev = new MouseEvent(type, {bubbles: true, clientX: r.left + x * r.width, clientY: r.top + r.height / 2});
        (type === "mouseup" ? window : svg).dispatchEvent(ev);
      }
      mouse("mousedown", 0.5); mouse("mousemove", 0.7); mouse("mouseup", 0.7);
      log.push(view());
      document.querySelector('#timeline .zoom-btn[data-inc="1"]').click();
      log.push(view());
      var kind = document.getElementById("f-kind");
      kind.value = "oom_kill";
      kind.dispatchEvent(new Event("change"));
      var shown = Array.prototype.filter.call(document.querySelectorAll("table.events tbody tr"),
                                              function (t) { return t.style.display !== "none"; });
      log.push(shown.map(function (t) { return t.getAttribute("data-kind"); }).join(" "));
      h.setAttribute("data-probe", log.join("|"));
    })();
    </script></body>"""
    page = tmp_path / "probe.html"
    page.write_text(out.read_text(encoding="utf-8").replace("</body>", probe), encoding="utf-8")
    dom = browser(page)
    assert_rendered(dom)
    opened, whole, dragged, incident, kinds = html_attrs(dom)["data-probe"].split("|")
    span = lambda v: (lambda a, b: b - a)(*map(int, v.split(",")))
    assert span(opened) < span(whole)          # it opens on the incident, not the whole window
    assert 0 < span(dragged) < span(whole) / 3  # a drag over a fifth of the lanes zooms to about that
    assert incident == opened                  # the incident's button goes back to it
    assert kinds.split() and set(kinds.split()) == {"oom_kill"}


def test_an_empty_database_gives_a_page_that_says_so(tmp_path):
    con = connect(tmp_path / "empty.duckdb")
    html = render_timeline(con, [])
    assert "No incident in this window" in html and "0 timed events from 0 files" in html
