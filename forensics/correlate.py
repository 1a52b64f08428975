"""Incidents: the rows of the ``incidents`` view (forensics/sql/incidents.sql), with their summary sentence,
what the logs could not establish, and the events behind each claim.

The grouping, the trigger, the cause and the impact are SQL (docs/incidents.md states the rules); this
module only reads the view, adds the words, and points each claim at its file and line.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
from dateutil import parser as dateparser

from . import ForensicsError

# the order of docs/incidents.md §9
FIELDS = ["id", "host", "service", "unit", "process", "pid", "ts", "end_ts", "trigger", "limit", "limit_bytes",
          "rss_bytes", "oom_memcg", "killer", "unit_memory_max_bytes", "exit_code", "signal", "deaths", "restarts", "gave_up", "recovered_ts", "downtime_s",
          "deploy_ts", "deploy_version", "deploy_commit", "deploy_evidence", "memory_metric", "memory_samples",
          "memory_start_bytes", "memory_end_bytes", "memory_growth_bytes_per_min", "memory_fit_r2", "leak",
          "http_requests", "http_5xx", "first_5xx_ts", "last_5xx_ts", "upstream_errors", "errors", "link",
          "unknowns", "summary", "evidence"]

_TIMES = ("ts", "end_ts", "recovered_ts", "deploy_ts", "first_5xx_ts", "last_5xx_ts", "impact_from", "impact_to",
          "trend_from")

MANAGERS = {"systemd": "systemd", "systemd_result": "systemd", "systemd_oom": "systemd", "pm2": "PM2",
            "pm2_memory": "PM2", "supervisord": "supervisor", "gave_up": None}


def parse_time(text: str, what: str) -> dt.datetime:
    """A --since/--until value: ISO 8601 or anything dateutil reads; UTC unless it names a zone."""
    try:
        t = dateparser.isoparse(text)
    except ValueError:
        try:
            t = dateparser.parse(text)
        except (ValueError, OverflowError) as e:
            raise ForensicsError(f"{what}: cannot read {text!r} as a time ({e})") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def iso(t: dt.datetime | None) -> str | None:
    """ISO 8601 in UTC with Z; microseconds only when there are some."""
    if t is None:
        return None
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if t.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def human_bytes(n: int | float | None) -> str:
    """1536 -> '1.5 KiB'; binary units, as the kernel and systemd count memory."""
    if n is None:
        return "?"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover


def human_duration(seconds: float | None) -> str:
    """47 -> '47 s', 300 -> '5 min', 18720 -> '5 h 12 min', 200000 -> '2 d 7 h'."""
    if seconds is None:
        return "?"
    s = abs(seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 90:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h {m} min" if m else f"{h} h"
    d, h = divmod(round(s / 3600), 24)
    return f"{d} d {h} h" if h else f"{d} d"


def incidents(con: duckdb.DuckDBPyConnection, host: str | None = None, since: Any = None, until: Any = None,
              gap_minutes: float = 10) -> list[dict]:
    """The incidents of the database, oldest first, as docs/incidents.md §9 describes them."""
    where, params = [], []
    if host:
        where.append("host = ?")
        params.append(host)
    if since is not None:
        where.append("ts >= ?")
        params.append(since if isinstance(since, dt.datetime) else parse_time(str(since), "--since"))
    if until is not None:
        where.append("ts <= ?")
        params.append(until if isinstance(until, dt.datetime) else parse_time(str(until), "--until"))
    src = ("incidents" if gap_minutes == 10
           else f"incidents_with(to_microseconds(CAST({float(gap_minutes) * 60e6} AS BIGINT)))")
    # times come back as naive UTC (the connection's zone is UTC): Python's TIMESTAMPTZ needs pytz
    naive = ", ".join(f"{c}::TIMESTAMP AS {c}" for c in _TIMES)
    sql = (f"SELECT * REPLACE ({naive}, list_transform(errors, lambda x: struct_pack(kind := x.kind, count := x.count, "
           f"first_ts := x.first_ts::TIMESTAMP, first_event_id := x.first_event_id, new := x.new)) AS errors) "
           f"FROM {src}" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY ts, host, service")
    try:
        cur = con.execute(sql, params)
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    except duckdb.Error as e:
        raise ForensicsError(f"cannot read incidents: {str(e).splitlines()[0]}") from None
    for r in rows:
        for c in _TIMES:
            if r[c] is not None:
                r[c] = r[c].replace(tzinfo=dt.timezone.utc)
        for e in r["errors"] or []:
            e["first_ts"] = e["first_ts"].replace(tzinfo=dt.timezone.utc) if e["first_ts"] else None
    if not rows:
        return []
    ids = sorted({i for r in rows for i in _evidence_ids(r)})
    facts = _event_facts(con, ids)
    out = []
    for r in rows:
        inc = {k: r.get(k) for k in FIELDS if k in r}
        inc["errors"] = [{"kind": e["kind"], "count": e["count"], "first_ts": iso(e["first_ts"]), "new": e["new"]}
                         for e in (r["errors"] or [])]
        inc["unknowns"] = _unknowns(r, r["nginx_logged"])
        inc["summary"] = summary(r, set(r["families"]), r["nginx_logged"])
        inc["evidence"] = _evidence(r, facts)
        for k in ("ts", "end_ts", "recovered_ts", "deploy_ts", "first_5xx_ts", "last_5xx_ts"):
            inc[k] = iso(inc[k])
        if inc["downtime_s"] is not None:
            inc["downtime_s"] = float(inc["downtime_s"])
        if inc["memory_fit_r2"] is not None:
            inc["memory_fit_r2"] = float(inc["memory_fit_r2"])
        out.append({k: inc[k] for k in FIELDS})
    return out


def _evidence_ids(r: dict) -> list[int]:
    ids = list(r["death_event_ids"] or [])
    ids += [r[k] for k in ("deploy_event_id", "memory_first_event_id", "memory_last_event_id", "first_5xx_event_id",
                           "last_5xx_event_id", "first_upstream_event_id", "recovered_event_id",
                           "unit_config_event_id") if r[k] is not None]
    ids += [e["first_event_id"] for e in (r["errors"] or [])]
    return ids


def _event_facts(con: duckdb.DuckDBPyConnection, ids: list[int]) -> dict[int, dict]:
    if not ids:
        return {}
    rows = con.execute("""
        SELECT e.event_id, f.path, e.line, e.ts::TIMESTAMP, e.kind
        FROM events e JOIN files f USING (file_id)
        WHERE e.event_id IN (SELECT unnest(?::BIGINT[]))""", [ids]).fetchall()
    return {i: {"file": p, "line": ln, "ts": ts and ts.replace(tzinfo=dt.timezone.utc), "kind": k}
            for i, p, ln, ts, k in rows}


def _evidence(r: dict, facts: dict[int, dict]) -> list[dict]:
    claims: list[tuple[str, int | None]] = [("trigger", r["trigger_event_id"])]
    claims += [("death", i) for i in r["death_event_ids"] if i != r["trigger_event_id"]]
    claims += [("deploy", r["deploy_event_id"]), ("memory_first", r["memory_first_event_id"]),
               ("memory_last", r["memory_last_event_id"]), ("first_5xx", r["first_5xx_event_id"]),
               ("last_5xx", r["last_5xx_event_id"]), ("upstream_error", r["first_upstream_event_id"]),
               ("recovered", r["recovered_event_id"]), ("unit_config", r["unit_config_event_id"])]
    claims += [(f"error:{e['kind']}", e["first_event_id"]) for e in (r["errors"] or [])]
    out = []
    for claim, i in claims:
        f = facts.get(i) if i is not None else None
        if f:
            out.append({"claim": claim, "event_id": i, "file": f["file"], "line": f["line"], "ts": iso(f["ts"]),
                        "kind": f["kind"]})
    return out


def _unknowns(r: dict, has_nginx: bool) -> list[str]:
    out = []
    if r["trigger"] == "oom_kill" and not r["has_kernel"] and r["limit"] != "oomd":
        out.append("no kernel log: the limit that was hit is unknown")
    if not has_nginx:
        out.append("no nginx log: the impact on users is unknown")
    if r["deploy_ts"] is None:
        out.append("no deploy in the logs")
    if not r["memory_samples"]:
        out.append("no memory samples")
    if r["recovered_ts"] is None:
        out.append("not restarted within the logs")
    if r["link"] == "time":
        out.append("the kill is tied to the service by time only")
    return out


def _clock(t: dt.datetime) -> str:
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def summary(r: dict, families: set[str], has_nginx: bool) -> str:
    """One sentence with the figures: what died, of what, after which deploy, how memory went, who saw it."""
    who = r["process"] or r["service"]
    bits = [b for b in (r["service"] if r["service"] != who else None,
                        f"pid {r['pid']}" if r["pid"] is not None else None) if b]
    subject = f"{who} ({', '.join(bits)})" if bits else who
    at = _clock(r["ts"])
    trig, limit = r["trigger"], r["limit"]
    if trig == "oom_kill":
        if limit == "oomd":
            what = f"was killed by {r['killer'] or 'systemd-oomd'} at {at} under memory pressure"
        elif not r["has_kernel"]:
            what = f"was killed by the OOM killer at {at} (systemd's report; no kernel log says which limit"
            if r["unit_memory_max_bytes"]:
                what += f"; the unit's MemoryMax is {human_bytes(r['unit_memory_max_bytes'])}"
            what += ")"
        elif limit == "cgroup":
            size = f" of {human_bytes(r['limit_bytes'])}" if r["limit_bytes"] else ""
            group = (r["oom_memcg"] or "").rstrip("/").rsplit("/", 1)[-1]
            what = (f"was killed by the kernel at {at} on the cgroup limit{size} of {group}" if group
                    else f"was killed by the kernel at {at} on its cgroup's memory limit{size}")
        elif limit == "global":
            what = f"was killed by the kernel's global OOM killer at {at}: the machine ran out of memory"
        else:
            what = f"was killed by the kernel's OOM killer at {at}" + (f" ({limit} constraint)" if limit else "")
        if r["rss_bytes"]:
            what += f", holding {human_bytes(r['rss_bytes'])}"
    elif trig == "heap_oom":
        heap = f" of {human_bytes(r['limit_bytes'])}" if r["limit_bytes"] else ""
        what = f"ran out of V8 heap at {at} (JavaScript heap out of memory, heap limit{heap})"
    elif trig == "memory_limit_restart":
        what = (f"was restarted by PM2 at {at} for exceeding --max-memory-restart "
                f"{human_bytes(r['limit_bytes'])} (at {human_bytes(r['rss_bytes'])})")
    elif trig == "crash":
        if r["signal"]:
            what = f"was killed by SIG{r['signal']} at {at}"
        elif r["exit_code"] is not None:
            what = f"exited with status {r['exit_code']} at {at}"
        else:
            what = f"failed at {at}"
    else:
        what = f"was given up on at {at}"
    parts = [f"{subject} {what}"]
    if r["deaths"] and r["deaths"] > 1:
        parts[-1] += f", and died {r['deaths']} times in {human_duration((r['end_ts'] - r['ts']).total_seconds())}"
    if r["deploy_ts"] is not None:
        name = r["deploy_version"] or (r["deploy_commit"] or "")[:10] or "a deploy"
        label = f"deploy {name}" if r["deploy_version"] or r["deploy_commit"] else "a deploy"
        if (r["deploy_evidence"] or "").startswith("hint"):
            label += f" ({r['deploy_evidence']})"
        parts[-1] += f", {human_duration((r['ts'] - r['deploy_ts']).total_seconds())} after {label}"
    sentence = [parts[0]]
    if r["memory_samples"] and r["memory_samples"] >= 3 and r["memory_growth_bytes_per_min"] is not None:
        metric = {"rss": "memory", "heap_used": "heap", "gc_heap_after": "heap"}.get(r["memory_metric"], "memory")
        rate = human_bytes(abs(r["memory_growth_bytes_per_min"])) + "/min"
        span = f"{human_bytes(r['memory_start_bytes'])} to {human_bytes(r['memory_end_bytes'])}"
        since = "since" if r["deploy_ts"] is not None and r["trend_from"] == r["deploy_ts"] else "since its start"
        if r["leak"]:
            sentence.append(f"its {metric} had grown {rate} {since} ({span}, steady: r² {float(r['memory_fit_r2']):.2f})")
        else:
            sentence.append(f"its {metric} went from {span} ({'+' if r['memory_growth_bytes_per_min'] >= 0 else '-'}"
                            f"{rate}, not a steady climb)")
    new = [e for e in (r["errors"] or []) if e["new"]]
    if new:
        sentence.append("new since the deploy: " + ", ".join(f"{e['count']} × {e['kind']}" for e in new))
    if has_nginx:
        if r["http_5xx"]:
            span = (r["last_5xx_ts"] - r["first_5xx_ts"]).total_seconds()
            imp = f"nginx returned {r['http_5xx']} × 5xx over {human_duration(span)}"
        else:
            imp = "nginx logged no 5xx"
        if r["upstream_errors"]:
            imp += f" and {r['upstream_errors']} upstream errors"
    else:
        imp = ""
    managers = sorted({MANAGERS[f] for f in families if MANAGERS.get(f)})
    by = " and ".join(managers) if managers else "its manager"
    back = human_duration((r["recovered_ts"] - r["ts"]).total_seconds()) if r["recovered_ts"] is not None else None
    if back and r["gave_up"]:     # started again by hand after the manager gave up
        after = f"{by} gave up, and it ran again {back} after it first died"
    elif back:
        after = f"{by} had it running again {back} later"
    elif r["gave_up"]:
        after = f"{by} gave up and it did not run again within the logs"
    else:
        after = "it did not run again within the logs"
    if imp:
        imp += f" until {after}" if back and not r["gave_up"] else f"; {after}"
    else:
        imp = after + "; the impact on users is unknown (no nginx log)"
    sentence.append(imp)
    if r["link"] == "time":
        sentence.append("the kill is tied to the service by time only")
    return "; ".join(sentence) + "."


def clock_skews(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Files whose clock disagrees with the kernel's by more than 5 s on moments both recorded (view clock_skew)."""
    cur = con.execute("SELECT host, file_id, file, pairs, median_delta_s, zone_like, fixable, reference_files "
                      "FROM clock_skew WHERE skewed ORDER BY host, file")
    names = [d[0] for d in cur.description]
    out = []
    for row in cur.fetchall():
        r = dict(zip(names, row))
        r["shift_s"] = round(r["median_delta_s"] / 900) * 900 if r["zone_like"] else round(r["median_delta_s"], 3)
        out.append(r)
    return out


def describe_skew(r: dict) -> str:
    sign = "+" if r["shift_s"] > 0 else "-"
    what = (f"{sign}{_hhmm(abs(r['shift_s']))}: a zone read wrongly (local time taken for another zone)"
            if r["zone_like"] else f"{r['median_delta_s']:+.1f} s")
    return (f"{r['file']}: its clock is {what}, against the kernel's ({', '.join(r['reference_files'])}) "
            f"over {r['pairs']} moment{'s' if r['pairs'] != 1 else ''} both recorded")


def _hhmm(seconds: float) -> str:
    h, m = divmod(round(seconds / 60), 60)
    return f"{h:02d}:{m:02d}"


def fix_skews(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Move the times of every skewed file whose times carried no zone by its measured offset (zone-like offsets
    to the whole quarter hour); each move is kept in clock_fixes. Files that state their zone are reported only."""
    fixed = []
    con.execute("BEGIN")
    try:
        for r in clock_skews(con):
            if not r["fixable"]:
                continue
            shift_us = int(round(r["shift_s"] * 1_000_000))
            con.execute("UPDATE events SET ts = ts - to_microseconds(?::BIGINT), ts_quality = 'skew_corrected' "
                        "WHERE file_id = ? AND ts IS NOT NULL", [shift_us, r["file_id"]])
            con.execute("INSERT INTO clock_fixes VALUES (?, ?, ?, ?, ?, ?, now())",
                        [r["host"], r["file_id"], shift_us, r["pairs"], ", ".join(r["reference_files"]),
                         describe_skew(r)])
            fixed.append(r)
        con.execute("COMMIT")
    except duckdb.Error as e:
        con.execute("ROLLBACK")
        raise ForensicsError(f"cannot move the times: {str(e).splitlines()[0]}") from None
    return fixed
