"""Every bundle of corpus/ through ingest and correlation, checked against its hand-written expected.json.

Each bundle's expected.json lists its incidents in time order with the fields that were worked out by hand
from its logs (docs/incidents.md states the rules); a field left out is not checked. Times compare as
instants, measured figures with a small tolerance (a slope worked out on paper is rounded), the rest exactly.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from forensics.correlate import incidents

from .helpers import CORPUS, ingest

BUNDLES = sorted(p.parent for p in CORPUS.glob("*/expected.json"))
TIMES = {"ts", "end_ts", "recovered_ts", "deploy_ts", "first_5xx_ts", "last_5xx_ts"}
APPROX = {"downtime_s": (0.002, 0), "memory_fit_r2": (0.01, 0), "memory_growth_bytes_per_min": (0, 0.02)}


def _instant(v):
    return None if v is None else dt.datetime.fromisoformat(v.replace("Z", "+00:00"))


def _check(bundle: str, i: int, exp: dict, got: dict) -> list[str]:
    bad = []
    for k, want in exp.items():
        if k == "summary_contains":
            bad += [f"summary lacks {s!r}: {got['summary']}" for s in want if s not in got["summary"]]
            continue
        have = got[k]
        if k in TIMES:
            ok = _instant(want) == _instant(have)
        elif k in APPROX and want is not None and have is not None:
            absolute, relative = APPROX[k]
            ok = abs(have - want) <= max(absolute, relative * abs(want))
        elif k == "errors":
            # compare the keys the expectation gives, kind by kind
            have_by = {e["kind"]: e for e in have}
            ok = len(have) == len(want) and all(
                e["kind"] in have_by and all(have_by[e["kind"]][f] == v for f, v in e.items() if f != "first_ts")
                and (("first_ts" not in e) or _instant(e["first_ts"]) == _instant(have_by[e["kind"]]["first_ts"]))
                for e in want)
        elif k == "unknowns":
            ok = sorted(want) == sorted(have)
        else:
            ok = want == have
        if not ok:
            bad.append(f"{k}: expected {want!r}, got {have!r}")
    return [f"{bundle} incident {i}: {b}" for b in bad]


@pytest.mark.parametrize("bundle", BUNDLES, ids=[b.name for b in BUNDLES])
def test_bundle_incidents(tmp_path, bundle):
    expected = json.loads((bundle / "expected.json").read_text())["incidents"]
    con, results = ingest(tmp_path, bundle)
    # every log is read; configuration the bundle carries (etc/: supervisor's program list) is skipped
    assert results and all(r.status == "ingested" or (r.status == "skipped" and "/etc/" in r.path)
                           for r in results), [(r.path, r.status, r.note) for r in results]
    got = incidents(con)
    assert len(got) == len(expected), (
        f"{len(got)} incidents, expected {len(expected)}:\n" + "\n".join(g["summary"] for g in got))
    problems = [p for i, (e, g) in enumerate(zip(expected, got)) for p in _check(bundle.name, i, e, g)]
    assert not problems, "\n".join(problems)
    lines: dict[str, int] = {}
    for g in got:   # every claim points at a real line of a real file
        for ev in g["evidence"]:
            if ev["file"] not in lines:
                lines[ev["file"]] = len(Path(ev["file"]).read_bytes().splitlines())
            assert 1 <= ev["line"] <= lines[ev["file"]], ev


def test_every_bundle_has_expectations():
    bundles = [p for p in CORPUS.iterdir() if p.is_dir()]
    assert bundles and all((p / "expected.json").exists() for p in bundles), \
        [p.name for p in bundles if not (p / "expected.json").exists()]
