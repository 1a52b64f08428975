"""The HTML postmortem: one self-contained page from the database and its incidents.

:func:`render_timeline` gathers what the page shows with a handful of DuckDB
queries (aggregated there: requests per minute, memory per service, lifecycle
counts, the capped list of key events) and fills the Jinja2 templates in
``reports/``.  Nothing on the page needs the network: styles and the small
script that draws the charts are inline, and the data the script reads is
one JSON block, escaped so that no log line can end it.

What the page holds stays bounded whatever the bundle's size: every event
that is not a plain ``log`` line or an ``http_request`` (plus 5xx requests),
at most :data:`MAX_ROWS` of them and :data:`PER_KIND` of each kind per host,
and a count of the rest; charts are bucketed in SQL.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any, Iterable

import duckdb
import jinja2

from parsers.timeutil import parse_offset

MAX_ROWS = 1500          # key events listed in the table (and drawn on the timeline)
PER_KIND = 300           # of them, at most this many of one kind on one host (the first ones)
MSG_CHARS = 600          # a listed event's message is cut here ...
EVIDENCE_CHARS = 8000    # ... except an incident's evidence (a whole OOM report)
MEMORY_POINTS = 400      # points per memory series: more are bucketed (max per bucket)
DENSITY_BUCKETS = 2000   # error-density strips on the timeline lanes: buckets over the span of the errors
HTTP_BUCKETS = 3000      # requests per bucket: buckets over the span of the access logs
LIFECYCLE_BUCKETS = 2000
# bucket widths in seconds, the finest that fits is used
STEPS_S = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400)
MAX_MEMORY_CHARTS = 8
MAX_SERIES = 4           # memory metrics drawn per process, in this order of preference:
METRIC_ORDER = ("rss", "memory", "heap_used", "gc_heap_after", "heap_total", "memory_peak")
METRIC_LABELS = {"rss": "RSS", "heap_used": "heap used", "heap_total": "heap total", "gc_heap_after": "V8 heap after GC",
                 "memory_peak": "peak (systemd, at stop)", "array_buffers": "array buffers"}

# The timeline's lanes, in the order a failure usually unfolds.
LANES = ("deploys", "app", "kernel", "systemd", "pm2/supervisor", "nginx")
LANE_SQL = """CASE
  WHEN e.kind = 'deploy' OR e.source IN ('deploy_log', 'git_reflog', 'git_log') THEN 'deploys'
  WHEN e.source IN ('nginx_access', 'nginx_json', 'nginx_error') THEN 'nginx'
  WHEN e.source = 'dmesg' OR e.process = 'kernel' OR e.attrs->>'origin' = 'kernel'
       OR (e.kind IN ('oom_kill', 'oom_invoked') AND e.attrs->>'reported_by' IS NULL
           AND e.attrs->>'killer' IS NULL) THEN 'kernel'
  WHEN e.source IN ('pm2', 'pm2_jlist', 'supervisord') THEN 'pm2/supervisor'
  WHEN e.process IN ('systemd', 'systemd-oomd', 'earlyoom') OR e.attrs->>'reported_by' = 'systemd'
       OR e.attrs->>'killer' IS NOT NULL THEN 'systemd'
  ELSE 'app' END"""
STATUS_SQL = "TRY_CAST(e.attrs->>'status' AS INTEGER)"
# nginx's requests, as the http_requests view and the incidents count them (an app's own request log beside
# nginx's would count each request twice)
NGINX_REQUEST_SQL = "(e.kind = 'http_request' AND e.source IN ('nginx_access', 'nginx_json'))"
ERROR_KINDS = ("app_error", "di_error", "connection_error", "upstream_error", "leak_hint")
# Order in which key events survive the cap: evidence first, then what a process did, then errors.
PRIO_SQL = f"""CASE
  WHEN list_contains(?::BIGINT[], e.event_id) THEN 0
  WHEN e.kind IN ('deploy', 'oom_kill', 'oom_invoked', 'heap_oom', 'memory_limit_restart', 'gave_up',
                  'service_failed', 'process_exit', 'restart', 'service_start', 'service_stop', 'boot') THEN 1
  WHEN e.kind IN {ERROR_KINDS} THEN 2
  WHEN e.kind = 'http_request' THEN 3
  ELSE 4 END"""
# Kinds drawn as markers, and the class (colour, shape) each gets.
MARKER_CLASS = {
    "deploy": "deploy", "oom_kill": "kill", "oom_invoked": "kill", "heap_oom": "kill",
    "memory_limit_restart": "kill", "process_exit": "exit", "service_failed": "exit", "gave_up": "gaveup",
    "restart": "restart", "service_start": "start", "service_stop": "stop", "boot": "stop",
    "app_error": "error", "di_error": "error", "connection_error": "error", "upstream_error": "error",
    "leak_hint": "error",
}
# docs/incidents.md §9: a card shows what an incident has and says "unknown" for the rest
INCIDENT_FIELDS = ("id", "host", "service", "unit", "process", "pid", "ts", "end_ts", "trigger", "limit", "limit_bytes",
                   "rss_bytes", "exit_code", "signal", "deaths", "restarts", "gave_up", "recovered_ts", "downtime_s",
                   "deploy_ts", "deploy_version", "deploy_commit", "deploy_evidence", "memory_metric",
                   "memory_samples", "memory_start_bytes", "memory_end_bytes", "memory_growth_bytes_per_min",
                   "memory_fit_r2", "leak", "http_requests", "http_5xx", "first_5xx_ts", "last_5xx_ts",
                   "upstream_errors", "errors", "link", "unknowns", "summary", "evidence")
QUALITIES = ("exact", "zone_assumed", "year_inferred", "monotonic_aligned", "inherited", "skew_corrected", "unaligned",
             "untimed")


# ---------------------------------------------------------------------------------------------- entry points

def write_timeline(con: duckdb.DuckDBPyConnection, out_path: str | os.PathLike, host: str | None = None,
                   since: Any = None, until: Any = None) -> list[dict]:
    """Find the incidents, write the page to ``out_path``, return the incidents."""
    from . import correlate
    found = correlate.incidents(con, host=host, since=since, until=until)
    html = render_timeline(con, found, host=host, since=since, until=until)
    tmp = f"{os.fspath(out_path)}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(html)
    os.replace(tmp, out_path)
    return found


def render_timeline(con: duckdb.DuckDBPyConnection, incidents: list[dict], host: str | None = None,
                    since: Any = None, until: Any = None) -> str:
    """The page, as one string of HTML."""
    page = _Page(con, incidents or [], host, since, until)
    return _env().get_template("timeline.html.j2").render(**page.context())


# ---------------------------------------------------------------------------------------------- templates

def _env() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("reports", "."), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    env.filters.update(bytes=fmt_bytes, dur=fmt_duration, rate=fmt_rate, num=fmt_num)
    env.policies["json.dumps_function"] = safe_json
    return env


def safe_json(obj: Any, **_kw) -> str:
    """JSON that is safe inside <script>: no <, >, & or line separators as themselves."""
    s = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (s.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def fmt_bytes(n: Any) -> str:
    """2147483648 -> '2.0 GiB'."""
    if n is None:
        return "?"
    n = float(n)
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def fmt_rate(n: Any) -> str:
    """Bytes per minute, signed: '+11.0 MiB/min'."""
    if n is None:
        return "?"
    return ("+" if n > 0 else "") + fmt_bytes(n) + "/min"


def fmt_duration(s: Any) -> str:
    """Seconds as '47 s', '3 min 20 s', '5 h 2 min', '2 d 3 h'."""
    if s is None:
        return "?"
    s = float(s)
    neg, s = s < 0, abs(s)
    if s < 60:
        out = f"{s:.1f} s" if s < 10 and s != int(s) else f"{s:.0f} s"
    elif s < 3600:
        out = f"{int(s // 60)} min" + (f" {int(s % 60)} s" if int(s % 60) else "")
    elif s < 86400:
        out = f"{int(s // 3600)} h" + (f" {int(s % 3600 // 60)} min" if int(s % 3600 // 60) else "")
    else:
        out = f"{int(s // 86400)} d" + (f" {int(s % 86400 // 3600)} h" if int(s % 86400 // 3600) else "")
    return ("-" if neg else "") + out


def fmt_num(n: Any) -> str:
    return "?" if n is None else f"{n:,}".replace(",", "\u202f")


def parse_iso(s: Any) -> datetime | None:
    """An incident's ISO 8601 UTC time (or a datetime) as an aware datetime."""
    if s is None or s == "":
        return None
    if isinstance(s, datetime):
        return s if s.tzinfo else s.replace(tzinfo=timezone.utc)
    d = datetime.fromisoformat(str(s).replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def _metric_rank(m: str) -> tuple:
    return (METRIC_ORDER.index(m) if m in METRIC_ORDER else len(METRIC_ORDER), m)


def _bound(v: Any, what: str) -> str | None:
    """A --since/--until value as ISO 8601 UTC text (read as the incidents are: UTC unless it says)."""
    if v is None or v == "":
        return None
    if isinstance(v, datetime):
        d = v if v.tzinfo else v.replace(tzinfo=timezone.utc)
    else:
        from .correlate import parse_time
        d = parse_time(str(v), what)
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _ms(s: Any) -> int | None:
    d = parse_iso(s)
    return None if d is None else int(d.timestamp() * 1000)


# ---------------------------------------------------------------------------------------------- the data

class _Page:
    def __init__(self, con, incidents: list[dict], host, since, until):
        self.con, self.incidents, self.host = con, incidents, host
        self.since, self.until = _bound(since, "--since"), _bound(until, "--until")
        self.evidence_ids = sorted({int(ev["event_id"]) for inc in incidents for ev in inc.get("evidence") or []
                                    if ev.get("event_id") is not None})

    # -- SQL helpers
    def q(self, sql: str, params: Iterable = ()) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def where(self, alias: str = "e", view: bool = False) -> tuple[str, list]:
        """Events of the page: timed, one copy each, on the host and in the window asked for. ``view``: rows
        of a view over events (memory_samples, deaths) that has already left the copies out."""
        sql = f"{alias}.ts IS NOT NULL" + ("" if view else f" AND {alias}.duplicate_of IS NULL")
        params: list = []
        if self.host:
            sql += f" AND {alias}.host = ?"
            params.append(self.host)
        if self.since:
            sql += f" AND {alias}.ts >= CAST(? AS TIMESTAMPTZ)"
            params.append(self.since)
        if self.until:
            sql += f" AND {alias}.ts <= CAST(? AS TIMESTAMPTZ)"
            params.append(self.until)
        return sql, params

    # -- the whole window, hosts and their zones
    def window(self) -> tuple[int, int]:
        w, p = self.where()
        lo, hi, n = self.q(f"SELECT epoch_ms(min(e.ts)), epoch_ms(max(e.ts)), count(*) FROM events e WHERE {w}", p)[0]
        self.n_events = n
        times = [t for inc in self.incidents for t in (_ms(inc.get("ts")), _ms(inc.get("end_ts")),
                                                       _ms(inc.get("recovered_ts")), _ms(inc.get("deploy_ts")))
                 if t is not None]
        if lo is not None:
            times += [lo, hi]
        for bound in (self.since, self.until):
            if bound:
                times.append(self.q("SELECT epoch_ms(CAST(? AS TIMESTAMPTZ))", [bound])[0][0])
        if not times:
            now = int(datetime.now(timezone.utc).timestamp() * 1000)
            return now - 3_600_000, now
        lo, hi = min(times), max(times)
        if self.since:
            lo = self.q("SELECT epoch_ms(CAST(? AS TIMESTAMPTZ))", [self.since])[0][0]
        if self.until:
            hi = self.q("SELECT epoch_ms(CAST(? AS TIMESTAMPTZ))", [self.until])[0][0]
        if hi - lo < 60_000:       # at least a minute, centred on what there is
            mid = (lo + hi) // 2
            lo, hi = mid - 30_000, mid + 30_000
        pad = (hi - lo) // 50
        return lo - pad, hi + pad

    def zones(self) -> dict[str, dict]:
        """host -> its zone: the zone most of its files state (files.tz)."""
        sql = "SELECT host, tz, count(*) n FROM files WHERE host IS NOT NULL AND tz IS NOT NULL"
        params = []
        if self.host:
            sql += " AND host = ?"
            params.append(self.host)
        rows = self.q(sql + " GROUP BY host, tz ORDER BY host, n DESC, tz", params)
        known = {r[0].lower(): r[0] for r in self.q("SELECT name FROM pg_timezone_names()")}
        out: dict[str, dict] = {}
        for host, tz, _ in rows:
            if host in out:
                continue
            z = {"tz": tz, "name": None, "offset": None}
            if tz.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
                z.update(name="UTC")
            elif tz.lower() in known:
                z.update(name=known[tz.lower()])
            else:
                z.update(offset=parse_offset(tz))
            out[host] = z
        return out

    def zone_values(self) -> tuple[str, list]:
        """A VALUES list (host, zone name, fixed offset in seconds) for joining."""
        rows = [(h, z["name"], z["offset"]) for h, z in self.zone_map.items()]
        if not rows:
            return "SELECT NULL::VARCHAR host, NULL::VARCHAR zname, NULL::INTEGER zoff WHERE false", []
        vals = ", ".join(["(?::VARCHAR, ?::VARCHAR, ?::INTEGER)"] * len(rows))
        return f"SELECT * FROM (VALUES {vals}) z(host, zname, zoff)", [x for r in rows for x in r]

    # -- the table of key events
    def key_events(self) -> list[dict]:
        w, p = self.where()
        zsql, zp = self.zone_values()
        local = ("CASE WHEN z.zname IS NOT NULL THEN timezone(z.zname, e.ts) "
                 "WHEN z.zoff IS NOT NULL THEN e.ts::TIMESTAMP + to_seconds(z.zoff) END")
        sql = f"""
        WITH picked AS (
            SELECT e.event_id, e.ts, {PRIO_SQL} AS prio,
                   row_number() OVER (PARTITION BY e.host, e.kind ORDER BY e.ts, e.event_id) AS rk
            FROM events e
            WHERE ({w} AND (e.kind NOT IN ('log', 'http_request') OR {STATUS_SQL} >= 500))
               OR list_contains(?::BIGINT[], e.event_id)
        ), kept AS (
            SELECT event_id, prio FROM picked WHERE prio = 0 OR rk <= {PER_KIND}
            ORDER BY prio, ts, event_id LIMIT {MAX_ROWS}
        )
        SELECT e.event_id, epoch_ms(e.ts),
               CASE WHEN epoch_us(e.ts) % 1000000 = 0 THEN strftime(e.ts, '%Y-%m-%d %H:%M:%S')
                    ELSE strftime(e.ts, '%Y-%m-%d %H:%M:%S.%g') END,
               CASE WHEN epoch_us(e.ts) % 1000000 = 0 THEN strftime({local}, '%Y-%m-%d %H:%M:%S')
                    ELSE strftime({local}, '%Y-%m-%d %H:%M:%S.%g') END,
               CAST(round(epoch({local}) - epoch(e.ts::TIMESTAMP)) AS INTEGER),
               e.host, e.source, {LANE_SQL}, e.kind, e.unit, e.pid, e.process,
               left(e.message, CASE WHEN k.prio = 0 THEN {EVIDENCE_CHARS} ELSE {MSG_CHARS} END), length(e.message),
               f.path, e.line, e.line_end, e.ts_quality, {STATUS_SQL}, k.prio, e.duplicate_of
        FROM kept k JOIN events e USING (event_id) LEFT JOIN files f ON f.file_id = e.file_id
        LEFT JOIN ({zsql}) z ON z.host = e.host
        ORDER BY e.ts NULLS LAST, e.event_id"""
        rows = self.q(sql, [self.evidence_ids, *p, self.evidence_ids, *zp])
        out = []
        for (eid, t, utc, loc, off, host, source, lane, kind, unit, pid, process, msg, msglen, path, line,
             line_end, quality, status, prio, dup) in rows:
            first, _, rest = (msg or "").partition("\n")
            out.append({
                "id": eid, "t": t, "utc": utc or "", "local": loc or "", "offset": _fmt_offset(off),
                "host": host or "", "source": source or "", "lane": lane, "kind": kind,
                "kclass": MARKER_CLASS.get(kind, "http" if kind == "http_request" else "other"),
                "unit": unit or "", "pid": pid, "process": process or "", "first": first, "rest": rest,
                "cut": max(0, (msglen or 0) - len(msg or "")), "file": path or "?", "line": line,
                "line_end": line_end, "quality": quality, "status": status, "evidence": prio == 0,
                "duplicate": dup is not None, "cited": [],
            })
        return out

    def omitted(self, shown: list[dict]) -> tuple[int, list[tuple[str, int]]]:
        """Events of the window not listed, by kind (5xx apart from other requests)."""
        w, p = self.where()
        rows = self.q(f"""SELECT CASE WHEN e.kind = 'http_request' AND {STATUS_SQL} >= 500 THEN 'http_request 5xx'
                                      WHEN e.kind = 'http_request' THEN 'http_request (not 5xx)'
                                      ELSE e.kind END k, count(*)
                          FROM events e WHERE {w} GROUP BY k""", p)
        counts = dict(rows)
        for r in shown:
            if r["duplicate"]:
                continue
            k = "http_request 5xx" if r["kind"] == "http_request" else r["kind"]
            counts[k] = counts.get(k, 0) - 1
        rest = sorted(((k, n) for k, n in counts.items() if n > 0), key=lambda x: -x[1])
        return sum(n for _, n in rest), rest

    # -- timeline
    def lanes(self) -> list[dict]:
        w, p = self.where()
        rows = self.q(f"SELECT e.host, {LANE_SQL} lane, count(*) FROM events e WHERE {w} GROUP BY ALL", p)
        hosts = sorted({h for h, _, _ in rows if h is not None}
                       | {i.get("host") for i in self.incidents if i.get("host")})
        have = {(h, l) for h, l, _ in rows}
        out = []
        for h in hosts:
            for lane in LANES:
                if (h, lane) in have:
                    out.append({"host": h, "lane": lane})
        return out

    def bucketed(self, group: str, cond: str, aggs: str, buckets: int) -> list[tuple]:
        """Counts of the matching events per group (SQL expressions ``group``, named g1, g2, ...) and time
        bucket: each group gets its own bucket width, the finest of STEPS_S that leaves at most ``buckets``
        non-empty buckets (seconds for a crash loop of a few seconds, even in a log of weeks).
        Rows: (*groups, step_ms, bucket_start_ms, *aggs).  The page merges buckets to what the screen shows."""
        w, p = self.where()
        gs = [g.strip() for g in group.split("|")]
        names = ", ".join(f"g{i}" for i in range(1, len(gs) + 1))
        sel = ", ".join(f"{g} AS g{i}" for i, g in enumerate(gs, 1))
        return self.q(f"""
            WITH m AS (SELECT {sel}, epoch_ms(e.ts) t, e.kind, e.source, e.message, e.attrs
                       FROM events e WHERE {w} AND {cond}),
            occ AS (SELECT {names}, s, count(DISTINCT t // (s * 1000)) n
                    FROM m, unnest(?::INTEGER[]) u(s) GROUP BY ALL),
            st AS (SELECT {names}, coalesce(min(s) FILTER (WHERE n <= {buckets}), max(s)) * 1000 step
                   FROM occ GROUP BY ALL)
            SELECT {names}, st.step, m.t // st.step * st.step b, {aggs}
            FROM m JOIN st USING ({names}) GROUP BY ALL ORDER BY {names}, b""", [*p, list(STEPS_S)])

    def density(self, lanes: list[dict]) -> list[list]:
        """Error-ish events (errors, upstream errors, 5xx) per lane and bucket: [lane, step, t, n]."""
        cond = f"(e.kind IN {ERROR_KINDS} OR ({NGINX_REQUEST_SQL} AND {STATUS_SQL} >= 500))"
        rows = self.bucketed(f"e.host | {LANE_SQL}", cond, "count(*)", DENSITY_BUCKETS)
        idx = {(l["host"], l["lane"]): i for i, l in enumerate(lanes)}
        return [[idx[(h, l)], step, b, n] for h, l, step, b, n in rows if (h, l) in idx]

    # -- charts
    def http(self) -> list[dict]:
        status = STATUS_SQL.replace("e.attrs", "attrs")
        rows = self.bucketed("e.host", NGINX_REQUEST_SQL,
                             f"count(*), count(*) FILTER (WHERE {status} >= 500), "
                             f"count(*) FILTER (WHERE {status} BETWEEN 400 AND 499)", HTTP_BUCKETS)
        hosts: dict[str, dict] = {}
        for h, step, b, n, e5, e4 in rows:
            hosts.setdefault(h or "?", {"host": h or "?", "step": step, "rows": []})["rows"].append([b, n, e5, e4])
        for v in hosts.values():
            v["total"] = sum(x[1] for x in v["rows"])
            v["e5xx"] = sum(x[2] for x in v["rows"])
        return list(hosts.values())

    def memory(self) -> list[dict]:
        """Memory of each process over time, per host and unit (or process name), with its limits."""
        # the samples as correlation reads them (view memory_samples), thinned to MEMORY_POINTS per series
        w, p = self.where("m", view=True)
        samples = self.q(f"""
            WITH r AS (
                SELECT m.host, coalesce(m.unit, m.process, '?') svc, coalesce(m.metric, 'memory') metric,
                       epoch_ms(m.ts) t, m.bytes
                FROM memory_samples m WHERE {w} AND m.bytes IS NOT NULL
            ), s AS (
                SELECT *, min(t) OVER w lo, max(t) OVER w hi FROM r WINDOW w AS (PARTITION BY host, svc, metric)
            )
            SELECT host, svc, metric, CAST(floor((t - lo) * {MEMORY_POINTS} / greatest(hi - lo, 1)) AS BIGINT) b,
                   arg_max(t, bytes), max(bytes), count(*)
            FROM s GROUP BY ALL ORDER BY host, svc, metric, b""", p)
        # the memory at each death, under the service correlation tied the death to (view deaths)
        w, p = self.where("d", view=True)
        deaths = self.q(f"""
            SELECT d.host, coalesce(d.service, '?'), d.kind, d.event_id, epoch_ms(d.ts),
                   CASE WHEN d.family = 'v8' THEN d.heap_bytes ELSE d.rss_bytes END, d.limit_bytes
            FROM deaths d WHERE {w} AND d.family IN ('kernel', 'pm2_memory', 'v8')
            ORDER BY d.ts LIMIT 2000""", p)
        charts: dict[tuple, dict] = {}

        def chart(h, s):
            return charts.setdefault((h, s), {"host": h, "svc": s, "series": {}, "points": [], "limits": {}})

        for h, s, metric, _b, t, v, _n in samples:
            chart(h, s)["series"].setdefault(metric, []).append([t, v])
        labels = {"oom_kill": "RSS at the OOM kill", "memory_limit_restart": "at PM2's memory restart",
                  "heap_oom": "V8 heap at its death"}
        for h, s, kind, eid, t, v, lim in deaths:
            if v is None and lim is None:
                continue
            c = chart(h, s)
            if v is not None:
                c["points"].append({"t": t, "v": v, "label": labels[kind], "id": eid})
            if lim:
                name = "PM2 max_memory_restart" if kind == "memory_limit_restart" else "cgroup limit"
                c["limits"][f"{name} {fmt_bytes(lim)}"] = lim
        for inc in self.incidents:
            lim = inc.get("limit_bytes")
            if not lim:
                continue
            names = [inc.get(k) for k in ("unit", "service", "process") if inc.get(k)]
            label = {"cgroup": "cgroup limit", "v8_heap": "V8 heap limit", "pm2_max_memory": "PM2 max_memory_restart",
                     "global": "memory"}.get(inc.get("limit") or "", inc.get("limit") or "limit")
            for (h, s), c in charts.items():
                if h == inc.get("host") and s in names:
                    c["limits"].setdefault(f"{label} {fmt_bytes(lim)}", lim)
        affected: dict[tuple, list[int]] = {}
        for n, i in enumerate(self.incidents, 1):
            for name in {i.get("unit"), i.get("service")} - {None}:
                affected.setdefault((i.get("host"), name), []).append(n)
        for n, i in enumerate(self.incidents, 1):    # the chart holding one of its deaths belongs to it too
            ids = {ev.get("event_id") for ev in i.get("evidence") or []}
            for key, c in charts.items():
                if any(p["id"] in ids for p in c["points"]) and n not in affected.get(key, []):
                    affected.setdefault(key, []).append(n)
        out = []
        for (h, s), c in charts.items():
            npts = sum(len(v) for v in c["series"].values()) + len(c["points"])
            if not npts:
                continue
            out.append({"host": h, "svc": s, "affected": bool(affected.get((h, s))), "incidents": affected.get((h, s), []),
                        "series": [{"metric": METRIC_LABELS.get(m, m.replace("_", " ")), "pts": c["series"][m]}
                                   for m in sorted(c["series"], key=_metric_rank)[:MAX_SERIES]],
                        "points": c["points"],
                        "limits": [{"label": k, "v": v} for k, v in c["limits"].items()], "n": npts})
        out.sort(key=lambda c: (not c["affected"], -c["n"], c["host"] or "", c["svc"]))
        return out[:MAX_MEMORY_CHARTS]

    def lifecycle(self) -> list[dict]:
        """Starts (systemd's Started, PM2's starting, supervisor's spawned: a restart is a start) and
        process exits per service and bucket."""
        kinds = "e.kind IN ('service_start', 'process_exit', 'gave_up')"
        rows = self.bucketed("e.host | coalesce(e.unit, e.process, '?')", kinds, """
            count(*) FILTER (WHERE kind = 'service_start'
                             AND coalesce(attrs->>'phase', 'started') IN ('started', 'starting', 'spawned')) r,
            count(*) FILTER (WHERE kind = 'process_exit') d, count(*) FILTER (WHERE kind = 'gave_up') x""",
                             LIFECYCLE_BUCKETS)
        svcs: dict[tuple, dict] = {}
        for h, s, step, b, r, d, g in rows:
            if r + d + g:
                svcs.setdefault((h, s), {"host": h, "svc": s, "step": step, "rows": []})["rows"].append([b, r, d, g])
        out = list(svcs.values())
        for v in out:
            v["starts"] = sum(x[1] for x in v["rows"])
            v["deaths"] = sum(x[2] for x in v["rows"])
            v["gaveup"] = sum(x[3] for x in v["rows"])
        out.sort(key=lambda v: (-(v["starts"] + v["deaths"] + v["gaveup"]), v["host"] or "", v["svc"]))
        return out[:12]

    # -- trust
    def clocks(self) -> list[dict]:
        sql = """SELECT o.host, f.path, o.boot_seq, o.boot_id, strftime(o.boot_time, '%Y-%m-%d %H:%M:%S.%f'),
                        o.method, o.evidence, o.matched, o.uncertainty_us, o.aligned
                 FROM clock_offsets o LEFT JOIN files f USING (file_id)"""
        params = []
        if self.host:
            sql += " WHERE o.host = ?"
            params.append(self.host)
        keys = ("host", "file", "boot", "boot_id", "boot_time", "method", "evidence", "matched", "uncertainty_us",
                "aligned")
        return [dict(zip(keys, r)) for r in self.q(sql + " ORDER BY o.host, f.path, o.boot_seq", params)]

    def skews(self) -> list[dict]:
        """Files whose clock was measured against the kernel's on moments both recorded (view clock_skew),
        and the moves forensics incidents --fix-skew made (table clock_fixes)."""
        where, params = ("WHERE s.host = ?", [self.host]) if self.host else ("", [])
        rows = self.q(f"""
            SELECT s.host, s.file, s.pairs, s.median_delta_s, s.skewed, s.zone_like, s.fixable,
                   array_to_string(s.reference_files, ', '), NULL
            FROM clock_skew s {where}
            UNION ALL
            SELECT x.host, f.path, x.pairs, NULL, NULL, NULL, NULL, x.reference, x.shift_us / 1e6
            FROM clock_fixes x JOIN files f USING (file_id) {where.replace('s.host', 'x.host')}
            ORDER BY 1, 2""", params * 2)
        keys = ("host", "file", "pairs", "delta_s", "skewed", "zone_like", "fixable", "reference", "moved_s")
        return [dict(zip(keys, r)) for r in rows]

    def file_quality(self) -> list[dict]:
        cols = ", ".join(f"count(e.event_id) FILTER (WHERE e.ts_quality = '{q}')" for q in QUALITIES)
        sql = f"""SELECT f.file_id, f.path, f.format, f.host, f.tz, f.lines, f.events, f.rejected, f.status, f.note,
                         count(e.event_id) FILTER (WHERE e.duplicate_of IS NOT NULL), {cols}
                  FROM files f LEFT JOIN events e ON e.file_id = f.file_id"""
        params = []
        if self.host:
            sql += " WHERE f.host = ?"
            params.append(self.host)
        out = []
        for r in self.q(sql + " GROUP BY ALL ORDER BY f.host, f.path", params):
            d = dict(zip(("file_id", "path", "format", "host", "tz", "lines", "events", "rejected", "status", "note",
                          "duplicates"), r[:11]))
            d["q"] = dict(zip(QUALITIES, r[11:]))
            out.append(d)
        return out

    # -- incidents, as the cards show them
    def cards(self, rows_by_id: dict[int, dict]) -> list[dict]:
        out = []
        for n, inc in enumerate(self.incidents, 1):
            c = {**dict.fromkeys(INCIDENT_FIELDS), **inc}
            c["n"] = n
            c["anchor"] = f"inc-{n}"
            host = inc.get("host")
            for k in ("ts", "end_ts", "recovered_ts", "deploy_ts", "first_5xx_ts", "last_5xx_ts"):
                c[k + "_fmt"] = self.fmt_time(inc.get(k), host)
            ts, dep = parse_iso(inc.get("ts")), parse_iso(inc.get("deploy_ts"))
            c["deploy_before_s"] = (ts - dep).total_seconds() if ts and dep else None
            f5, l5 = parse_iso(inc.get("first_5xx_ts")), parse_iso(inc.get("last_5xx_ts"))
            c["window_5xx_s"] = (l5 - f5).total_seconds() if f5 and l5 else None
            ev = []
            by_claim: dict[str, list] = {}
            for e in inc.get("evidence") or []:
                eid = e.get("event_id")
                row = rows_by_id.get(int(eid)) if eid is not None else None
                claim = str(e.get("claim") or "")
                item = {**e, "anchor": f"ev-{eid}" if row else None, "ts_fmt": self.fmt_time(e.get("ts"), host),
                        "label": claim_label(claim), "short": f"{os.path.basename(str(e.get('file') or '?'))}:"
                                                              f"{e.get('line')}"}
                ev.append(item)
                by_claim.setdefault(claim, []).append(item)
            c["ev"] = by_claim
            c["evidence_list"] = ev
            c["errors_list"] = inc.get("errors") or []
            c["unknowns_list"] = inc.get("unknowns") or []
            c["no_nginx"] = any(str(u).startswith("no nginx log") for u in c["unknowns_list"])
            out.append(c)
        return out

    def fmt_time(self, s: Any, host: str | None) -> dict | None:
        d = parse_iso(s)
        if d is None:
            return None
        utc = d.astimezone(timezone.utc)
        frac = f".{utc.microsecond // 1000:03d}" if utc.microsecond else ""
        out = {"utc": utc.strftime("%Y-%m-%d %H:%M:%S") + frac, "local": None}
        z = self.zone_map.get(host or "")
        if z and (z["name"] or z["offset"] is not None) and z["name"] != "UTC":
            from zoneinfo import ZoneInfo
            from datetime import timedelta
            try:
                tz = ZoneInfo(z["name"]) if z["name"] else timezone(timedelta(seconds=z["offset"]))
                loc = d.astimezone(tz)
                off = loc.utcoffset().total_seconds() if loc.utcoffset() is not None else 0
                out["local"] = loc.strftime("%H:%M:%S") + frac + " " + (loc.tzname() or _fmt_offset(off))
            except Exception:   # a zone DuckDB knows and Python does not: UTC only
                pass
        return out

    # -- everything
    def context(self) -> dict:
        self.zone_map = self.zones()
        self.t0, self.t1 = self.window()
        rows = self.key_events()
        by_id = {r["id"]: r for r in rows}
        for n, inc in enumerate(self.incidents, 1):     # each evidence row links back to its incidents
            for ev in inc.get("evidence") or []:
                r = by_id.get(int(ev["event_id"])) if ev.get("event_id") is not None else None
                if r is not None and n not in r["cited"]:
                    r["cited"].append(n)
        n_omitted, omitted = self.omitted(rows)
        lanes = self.lanes()
        lane_idx = {(l["host"], l["lane"]): i for i, l in enumerate(lanes)}
        density = self.density(lanes)
        markers = [[r["id"], r["t"], lane_idx[(r["host"], r["lane"])], r["kclass"]]
                   for r in rows if r["t"] is not None and (r["host"], r["lane"]) in lane_idx
                   and r["kind"] in MARKER_CLASS]
        cards = self.cards(by_id)
        incidents_js = []
        for c in cards:
            t = _ms(c.get("ts"))
            end = _ms(c.get("recovered_ts")) or _ms(c.get("end_ts")) or t
            incidents_js.append({"n": c["n"], "host": c.get("host"), "svc": c.get("service") or c.get("unit"),
                                 "t": t, "end": end, "recovered": _ms(c.get("recovered_ts")),
                                 "w0": (t - 300_000) if t else None,
                                 "w1": (_ms(c.get("recovered_ts")) + 60_000) if c.get("recovered_ts")
                                 else ((_ms(c.get("end_ts")) or t) + 1_800_000) if t else None,
                                 "last": _ms(c.get("end_ts")) or t,
                                 "deploy": _ms(c.get("deploy_ts")), "trigger": c.get("trigger"),
                                 "names": [x for x in {c.get("service"), c.get("unit")} if x],
                                 "deaths": c.get("deaths") or 0, "gave_up": bool(c.get("gave_up")),
                                 # the memory chart of the card spans the trend: from its first sample
                                 "mem0": next((_ms(e.get("ts")) for e in c.get("evidence") or []
                                               if e.get("claim") == "memory_first"), None)})
        w, p = self.where()
        focus = self.q(f"SELECT quantile_disc(epoch_ms(e.ts), [0.02, 0.98]) FROM events e WHERE {w}", p)[0][0]
        hosts = sorted({l["host"] for l in lanes} | set(self.zone_map))
        zones = {h: (z["name"] or z["tz"]) for h, z in self.zone_map.items()}
        data = {"t0": self.t0, "t1": self.t1, "lanes": lanes, "markers": markers, "density": density,
                "incidents": incidents_js, "http": self.http(), "memory": self.memory(),
                "lifecycle": self.lifecycle(), "zones": zones, "focus": focus}
        window_fmt = (self.fmt_time(datetime.fromtimestamp(self.t0 / 1000, timezone.utc), None),
                      self.fmt_time(datetime.fromtimestamp(self.t1 / 1000, timezone.utc), None))
        files = self.file_quality()
        return {
            "cards": cards, "rows": rows, "n_omitted": n_omitted, "omitted": omitted, "n_events": self.n_events,
            "data_json": safe_json(data), "clocks": self.clocks(), "skews": self.skews(), "files": files, "qualities": QUALITIES,
            "hosts": hosts, "zones": zones, "host_filter": self.host, "since": self.since, "until": self.until,
            "window": window_fmt, "sources": sorted({r["source"] for r in rows}),
            "kinds": sorted({r["kind"] for r in rows}), "max_rows": MAX_ROWS,
            "inferred": sum(f["q"][q] for f in files for q in ("zone_assumed", "year_inferred", "monotonic_aligned",
                                                                 "inherited")),
            "unaligned": sum(f["q"]["unaligned"] + f["q"]["untimed"] for f in files),
            "generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        }


CLAIMS = {"trigger": "what died, and why", "death": "a death", "deploy": "the deploy",
          "memory_first": "first memory sample", "memory_last": "last memory sample before the death",
          "first_5xx": "first 5xx response", "last_5xx": "last 5xx response", "upstream_error": "first upstream error",
          "recovered": "running again"}


def claim_label(claim: str) -> str:
    """An evidence claim code (docs/incidents.md §9) in words."""
    if claim.startswith("error:"):
        return f"first {claim[6:]}"
    return CLAIMS.get(claim, claim.replace("_", " "))


def _fmt_offset(sec: Any) -> str:
    if sec is None:
        return ""
    sec = int(sec)
    sign = "-" if sec < 0 else "+"
    sec = abs(sec)
    return f"{sign}{sec // 3600:02d}:{sec % 3600 // 60:02d}"
