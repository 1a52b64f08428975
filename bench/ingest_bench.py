"""Ingest throughput benchmark: ``forensics ingest`` against two yardsticks.

What it does
    1. Generates a deterministic (seeded) bundle of about --mb MB with corpus/generate.py, the incident
       bundle generator (see its docstring and README):
       DIR/bench-host/journal.export     ~1/3: ``journalctl -o export`` records, some fields in the
                                          binary-safe form, an OOM report among them
       DIR/bench-host/var/log/nginx/*.log ~2/3: nginx combined-format access logs with
                                          ``$request_time $upstream_response_time $upstream_status``
       DIR/bench-host/var/log/deploy.log  two lines
       with one incident in it (a deploy, the app's memory climbing, a memory-cgroup OOM kill, 502s).
    2. Warms the page cache (reads every file once), then times, --runs times each:
       a. ``forensics ingest BUNDLE --db FRESH.duckdb`` (a new database file every run);
       b. ``lnav -n -c ';SELECT count(*) FROM lnav_file' FILES...``;
       c. DuckDB (python, SET threads=2, fresh in-memory connection) running one
          nginx regular expression over every raw line of the same files, once
          with ``regexp_matches`` and once with ``regexp_extract`` into 14 groups.
       Every approach runs as a child process, so the wall time and the child's
       own peak RSS (``os.wait4``) are measured the same way for all of them.
    3. Prints median and min seconds, MB/s over the whole input, peak RSS, the
       ratios the project targets, and checks that the ingest wrote the events the
       generator says it should: one per nginx line, deploy line and journal record,
       the OOM report's records making one event (events holding lines, ``nlines > 0``;
       an app's ``process.memoryUsage()`` line may add events that share its line).

Why these yardsticks
    * lnav is what people use today to open such a bundle.  ``-n`` with a
      query on ``lnav_file`` makes it index every file (format detection, line
      index, timestamps) and exit without drawing.  Target: ingest <= 0.5 x lnav.
    * A single RE2 pass in DuckDB over the raw lines is the floor for "reading
      the bytes and looking at every line": the nginx part of the ingest is
      exactly such a pass (plus typing and writing), and the journal part has
      to do at least as much.  ``regexp_matches`` is the cheapest form;
      ``regexp_extract`` with named groups is what a parser actually needs.
      Target: ingest <= 3 x regexp_matches.

Timing notes
    * Ingest and lnav wall times are end to end (process start, imports,
      writing the database).  The DuckDB yardstick child times connect + query
      only, not Python start-up and ``import duckdb``; its RSS is the child's.
    * 1 MB here is 2**20 bytes.  The machine may be shared: look at min as well
      as median.

Usage: python bench/ingest_bench.py [--mb N] [--runs K] [--out DIR] [--keep] [--skip-lnav]
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb


def _load_generator():
    """corpus/generate.py, the bundle generator (a script, not a package: loaded by path)."""
    path = Path(__file__).resolve().parent.parent / "corpus" / "generate.py"
    spec = importlib.util.spec_from_file_location("corpus_generate", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod        # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


gen = _load_generator()
SEED = gen.SEED
MB = gen.MB
HOST = gen.HOST
Bundle = gen.Bundle

# nginx combined format: $remote_addr - $remote_user [$time_local] "$request" $status
# $body_bytes_sent "$http_referer" "$http_user_agent", then $request_time $upstream_response_time
# $upstream_status.  RE2 syntax; 14 named groups.
NGINX_GROUPS = ["client", "ident", "user", "time", "method", "path", "protocol", "status", "bytes",
                "referer", "user_agent", "request_time", "upstream_time", "upstream_status"]
NGINX_RE = (r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] '
            r'"(?P<method>[A-Z]+) (?P<path>[^" ]+) (?P<protocol>[^"]+)" (?P<status>\d{3}) '
            r'(?P<bytes>\d+|-) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)" '
            r'(?P<request_time>[\d.]+|-) (?P<upstream_time>[\d.]+|-) (?P<upstream_status>\d{3}|-)$')


def generate(out: Path, total_mb: float) -> Bundle:
    return gen.generate(out, total_mb, SEED)


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    rss_mb: float
    output: str = ""


def warm_cache(files: list[Path]) -> None:
    for p in files:
        with open(p, "rb", buffering=0) as f:
            while f.read(8 * MB):
                pass


def run_child(cmd: list[str], log: Path, env: dict | None = None) -> tuple[float, float, int]:
    """Run ``cmd`` to completion; (wall seconds, peak RSS MB of that child, exit code)."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
    return wall, ru.ru_maxrss / 1024, p.returncode  # ru_maxrss is in KB on Linux


def code_state() -> str:
    """The project's commit and a digest of its uncommitted changes (bench/ and corpus/ excluded), or '' without
    git."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--", ".", ":!bench", ":!corpus"],
                              capture_output=True, check=True).stdout
        untracked = subprocess.run(["git", "-C", str(repo), "ls-files", "--others", "--exclude-standard", "--",
                                    ".", ":!bench", ":!corpus"], capture_output=True, text=True,
                                   check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return ""
    if not diff and not untracked:
        return f"git {head}"
    digest = hashlib.sha1(diff + "\0".join(untracked).encode()).hexdigest()[:8]
    return f"git {head} + uncommitted changes (diff {digest}, {len(untracked)} untracked files)"


def forensics_exe() -> str:
    local = Path(sys.executable).parent / "forensics"
    exe = str(local) if local.exists() else shutil.which("forensics")
    if not exe:
        sys.exit("forensics not found next to this Python nor on PATH: install the project (pip install -e .)")
    return exe


def bench_ingest(bundle: Bundle, work: Path, runs: int) -> tuple[list[Run], list[int], list[tuple]]:
    """Time ``forensics ingest``; return the runs, each run's count of events holding lines and the last
    run's files rows."""
    exe = forensics_exe()
    results, counts = [], []
    env = {**os.environ, "NO_COLOR": "1"}
    for i in range(runs):
        db = work / f"ingest-{i}.duckdb"
        for stale in (db, Path(str(db) + ".wal")):
            stale.unlink(missing_ok=True)
        log = work / f"ingest-{i}.log"
        secs, rss, rc = run_child([exe, "ingest", str(bundle.root), "--db", str(db)], log, env)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"forensics ingest failed (exit {rc}):\n{text}")
        con = duckdb.connect(str(db), read_only=True)
        counts.append(con.execute("SELECT count(*) FROM events WHERE nlines > 0").fetchone()[0])
        if i == runs - 1:
            files = con.execute("SELECT path, format, lines, events, rejected, status, coalesce(note, '') "
                                "FROM files ORDER BY file_id").fetchall()
        con.close()
        results.append(Run(secs, rss, text))
        if i < runs - 1:
            db.unlink()
    return results, counts, files


def lnav_check(files: list[Path], bundle: Bundle, work: Path) -> list[str]:
    """Once, untimed: what lnav made of each file, and whether all_logs holds every nginx and deploy.log line."""
    notes = []
    log = work / "lnav-check.log"
    run_child(["lnav", "-n", "-c", ";SELECT filepath, format, lines FROM lnav_file", *map(str, files)], log)
    notes.append("lnav_file after loading:\n" + log.read_text(errors="replace").rstrip())
    run_child(["lnav", "-n", "-c", ";SELECT count(*) AS n FROM all_logs", *map(str, files)], log)
    lines = log.read_text(errors="replace").split()
    got = int(lines[-1]) if lines and lines[-1].isdigit() else None
    want = sum(bundle.nginx_lines.values()) + bundle.deploys
    notes.append(f"lnav all_logs rows: {got}; nginx and deploy.log lines generated: {want} -> "
                 f"{'OK' if got == want else 'MISMATCH'} (the journal export is no log format lnav knows: "
                 f"it is indexed as plain text, counted in lnav_file.lines, not in all_logs)")
    return notes


def bench_lnav(files: list[Path], work: Path, runs: int) -> list[Run]:
    results = []
    for i in range(runs):
        log = work / f"lnav-{i}.log"
        secs, rss, rc = run_child(["lnav", "-n", "-c", ";SELECT count(*) FROM lnav_file", *map(str, files)], log)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"lnav failed (exit {rc}):\n{text}")
        results.append(Run(secs, rss, text))
    return results


DUCKDB_CHILD = """
import duckdb, json, sys, time
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET enable_progress_bar=false")
n = con.execute(sys.argv[1]).fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "count": n}))
"""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_sql(files: list[Path], extract: bool) -> str:
    # ignore_errors: the few journal-export lines that are not UTF-8 (a binary field's length) are skipped,
    # never an nginx line
    lines = (f"read_csv([{', '.join(_q(str(p)) for p in files)}], columns={{'l': 'VARCHAR'}}, delim='\\0', "
             "quote='', escape='', header=false, auto_detect=false, strict_mode=false, new_line='\\n', "
             "ignore_errors=true)")
    if not extract:
        return f"SELECT count(*) FROM {lines} WHERE regexp_matches(l, {_q(NGINX_RE)})"
    names = ", ".join(_q(n) for n in NGINX_GROUPS)
    return (f"SELECT count(*) FROM (SELECT regexp_extract(l, {_q(NGINX_RE)}, [{names}]) AS g FROM {lines}) "
            "WHERE g.status <> ''")


def bench_duckdb(files: list[Path], work: Path, runs: int, extract: bool) -> tuple[list[Run], int]:
    sql = duckdb_sql(files, extract)
    results, count = [], None
    for i in range(runs):
        log = work / f"duckdb-{'extract' if extract else 'matches'}-{i}.log"
        _, rss, rc = run_child([sys.executable, "-c", DUCKDB_CHILD, sql], log)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"DuckDB yardstick failed (exit {rc}):\n{text}")
        res = json.loads([l for l in text.splitlines() if l.startswith("{")][-1])
        count = res["count"]
        results.append(Run(res["seconds"], rss, text))
    return results, count


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def med(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [headers] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]])


def report(results: dict[str, list[Run]], total_mb: float) -> None:
    rows = []
    for name, runs in results.items():
        m = med(runs)
        rows.append((name, f"{m:.2f}", f"{min(r.seconds for r in runs):.2f}", f"{total_mb / m:.1f}",
                     f"{max(r.rss_mb for r in runs):.0f}"))
    print(table(rows, ("approach", "median s", "min s", "MB/s", "peak RSS MB")))
    print()
    ingest = med(results["forensics ingest"])
    targets = [("lnav", 0.5), ("duckdb regexp_matches", 3.0), ("duckdb regexp_extract", None)]
    for name, target in targets:
        if name not in results:
            continue
        r = ingest / med(results[name])
        verdict = "" if target is None else (f"  target <= {target:g}: " + ("MET" if r <= target else "MISSED"))
        print(f"ingest / {name:<22} = {r:5.2f}{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=300, help="total bundle size in MB (default 300)")
    ap.add_argument("--runs", type=int, default=3, help="runs per approach (default 3)")
    ap.add_argument("--out", type=Path, help="write the bundle here instead of a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the bundle (and the last database) afterwards")
    ap.add_argument("--skip-lnav", action="store_true", help="do not run lnav")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    if (out / HOST).exists():
        shutil.rmtree(out / HOST)
    work = out / "bench-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        t = time.perf_counter()
        bundle = generate(out, args.mb)
        gen_s = time.perf_counter() - t
        total_mb = bundle.bytes / MB
        files = bundle.files
        print(f"bundle: {bundle.root} ({len(files)} files, {total_mb:.1f} MB) generated in {gen_s:.1f} s")
        print(f"  journal.export: {bundle.journal.stat().st_size / MB:.1f} MB, {bundle.journal_records} records")
        for p in bundle.nginx:
            print(f"  {p.relative_to(bundle.root)}: {p.stat().st_size / MB:.1f} MB, {bundle.nginx_lines[p.name]} lines")
        print(f"  {bundle.deploy_log.relative_to(bundle.root)}: {bundle.deploys} lines; incident: OOM kill at "
              f"{bundle.incident['ts']}, {bundle.http_5xx} nginx 5xx lines in all")
        state = code_state()
        print(f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, {os.cpu_count()} CPUs, "
              f"{args.runs} runs each, page cache warm")
        if state:
            print(f"code: {state}")
        print()
        warm_cache(files)

        results: dict[str, list[Run]] = {}
        results["forensics ingest"], counts, db_files = bench_ingest(bundle, work, args.runs)

        notes = []
        use_lnav = not args.skip_lnav
        if use_lnav and shutil.which("lnav") is None:
            print("note: lnav is not on PATH: skipped (install lnav to compare against it)\n")
            use_lnav = False
        if use_lnav:
            notes.extend(lnav_check(files, bundle, work))
            results["lnav"] = bench_lnav(files, work, args.runs)

        results["duckdb regexp_matches"], n_match = bench_duckdb(files, work, args.runs, extract=False)
        results["duckdb regexp_extract"], n_extract = bench_duckdb(files, work, args.runs, extract=True)

        report(results, total_mb)
        print()
        want = bundle.expected_events
        ok = all(c == want for c in counts)
        print(f"ingest events holding lines: {counts[-1]} (each run: {', '.join(map(str, counts))}); expected "
              f"{sum(bundle.nginx_lines.values())} nginx lines + {bundle.deploys} deploy lines + "
              f"{bundle.journal_records} journal records - {bundle.report_records - 1} (the OOM report's "
              f"{bundle.report_records} records are one event) = {want} -> {'OK' if ok else 'MISMATCH'}")
        if not ok:
            print(table(db_files, ("path", "format", "lines", "events", "rejected", "status", "note")))
        want = sum(bundle.nginx_lines.values()) - bundle.nginx_no_request
        print(f"duckdb regex rows: {n_match} (regexp_matches), {n_extract} (regexp_extract); expected {want} "
              f"(nginx lines but the {bundle.nginx_no_request} with request \"-\") "
              f"-> {'OK' if n_match == n_extract == want else 'MISMATCH'}")
        for n in notes:
            print(n)
        if state and code_state() != state:
            print(f"WARNING: the code changed while the benchmark ran (now {code_state()}): results are mixed")
        if args.keep:
            print(f"kept: {bundle.root} and {work}")
    finally:
        if not args.keep:
            shutil.rmtree(out / HOST, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
