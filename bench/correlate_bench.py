#!/usr/bin/env python3
"""How long correlation takes on a large database, beside a full scan of the same events.

    python bench/correlate_bench.py                  # a ~300 MB bundle (about 1.2 M events), 5 runs
    python bench/correlate_bench.py --mb 50 --runs 3
    python bench/correlate_bench.py --db big.duckdb  # a database already ingested

1. Generates a bundle with corpus/generate.py (seeded: the same bytes every time) and ingests it with the
   library's ingest (the same code as `forensics ingest`), unless --db names a database.
2. Times, each --runs times on the same connection, with the median and the fastest printed:
   - the yardstick: one full scan of the events that correlation reads (`kind` and `attrs` of every row,
     grouped), which is what any query over the whole table costs at least;
   - `forensics incidents`: correlate.incidents(), the view and the Python around it.
3. Prints the ratio and checks the incident found against the one the generator wrote (expected.json).

Run it on an otherwise idle machine; the figures are wall-clock.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forensics.correlate import incidents  # noqa: E402
from forensics.ingest import Options, ingest_paths  # noqa: E402
from forensics.store import connect  # noqa: E402

YARDSTICK = ("SELECT kind, count(*), count(DISTINCT host), max(length(CAST(attrs AS VARCHAR))) "
             "FROM events GROUP BY kind")


def _generator():
    spec = importlib.util.spec_from_file_location("corpus_generate", ROOT / "corpus" / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=300, help="bundle size in MB (default 300)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--db", type=Path, help="a database already ingested (skips generating and ingesting)")
    args = ap.parse_args(argv)
    expected = None
    with tempfile.TemporaryDirectory(prefix="correlate-bench-") as tmp:
        db = args.db
        if db is None:
            out = Path(tmp) / "bundle"
            t0 = time.perf_counter()
            gen = _generator()
            bundle = gen.generate(out, args.mb)
            print(f"bundle: {args.mb:g} MB generated in {time.perf_counter() - t0:.1f} s")
            expected = gen.describe(bundle, args.mb, gen.SEED)[1]
            db = Path(tmp) / "bench.duckdb"
            con = connect(db)
            t0 = time.perf_counter()
            ingest_paths(con, [str(out)], Options())
            print(f"ingested in {time.perf_counter() - t0:.1f} s")
            con.close()
        con = connect(db)
        n = con.execute("SELECT count(*) FROM events").fetchone()[0]
        print(f"database: {db} ({n:,} events)")
        found: list[dict] = []

        def correlate():
            found[:] = incidents(con)

        scan = timed(lambda: con.execute(YARDSTICK).fetchall(), args.runs)
        corr = timed(correlate, args.runs)
        con.close()
    med_s, med_c = statistics.median(scan), statistics.median(corr)
    print(f"{'':34}{'median s':>10}{'min s':>10}")
    print(f"{'yardstick: full scan of events':34}{med_s:10.3f}{min(scan):10.3f}")
    print(f"{'forensics incidents':34}{med_c:10.3f}{min(corr):10.3f}")
    print(f"incidents / full scan: {med_c / med_s:.1f}x (medians of {args.runs} runs); "
          f"{n / med_c / 1e6:.2f} M events/s correlated")
    print(f"{len(found)} incident(s): " + "; ".join(f"{i['ts']} {i['service']} {i['trigger']}" for i in found))
    if expected is not None:
        want = expected.get("incidents", [])
        keys = ("ts", "service", "trigger", "limit", "deaths")
        ok = [tuple(i.get(k) for k in keys) for i in found] == [tuple(w.get(k) for k in keys) for w in want]
        print(f"check against the generator's expected.json ({', '.join(keys)}): {'OK' if ok else 'DIFFERS'}")
        if not ok:
            print("  expected:", [tuple(w.get(k) for k in keys) for w in want])
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
