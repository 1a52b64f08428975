"""corpus/generate.py, the large-bundle generator, read back by the real command line.

A ~2 MB bundle is written by the script as a user runs it, ingested with
``python -m forensics.cli ingest``, and its story is looked for in the
database: the deploy, the kernel's kill, and as many 5xx lines as the
generator says it wrote. The figures compared come from the generator's
``expected.json`` (what it wrote), never from the ingest.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import query, run_cli

GENERATOR = Path(__file__).resolve().parent.parent / "corpus" / "generate.py"


def generate(out: Path, mb: float = 2, seed: int | None = None) -> dict:
    args = [sys.executable, str(GENERATOR), "--mb", str(mb), "--out", str(out)]
    if seed is not None:
        args += ["--seed", str(seed)]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads((out / "expected.json").read_text())


def digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """(bundle folder, expected.json, database) of one generated bundle, ingested once for the module."""
    base = tmp_path_factory.mktemp("generated")
    expected = generate(base / "bundle")
    r = run_cli("ingest", "bundle", "--db", "b.duckdb", cwd=base, timeout=120)
    assert r.returncode == 0, r.stderr
    return base / "bundle", expected, base / "b.duckdb"


def test_size_and_files(bundle):
    root, expected, db = bundle
    size = sum(p.stat().st_size for p in (root / "bench-host").rglob("*") if p.is_file())
    assert 1.9 * 2**20 < size < 2.1 * 2**20
    formats = dict(query(db, "SELECT regexp_replace(path, '^.*bench-host/', ''), format FROM files"))
    assert formats == {"journal.export": "journal_export", "var/log/deploy.log": "deploy_log",
                       **{f"var/log/nginx/{n}": "nginx_access"
                          for n in ("access.log.2", "access.log.1", "access.log", "api.access.log")}}
    assert {h for (h,) in query(db, "SELECT DISTINCT host FROM files")} == {"bench-host"}


def test_every_line_read_none_rejected(bundle):
    _, expected, db = bundle
    assert query(db, "SELECT count(*) FROM rejects") == [(0,)]
    # every line of every file is inside an event
    unaccounted = query(db, "SELECT path, lines, (SELECT coalesce(sum(nlines), 0) FROM events e "
                            "WHERE e.file_id = f.file_id) AS covered FROM files f WHERE lines <> covered")
    assert unaccounted == []
    w = expected["written"]
    lines = dict(query(db, "SELECT regexp_replace(path, '^.*/', ''), lines FROM files WHERE format = 'nginx_access'"))
    assert lines == w["nginx_lines"]
    # one event per nginx line, deploy line and journal record; the OOM report's records make one event
    assert query(db, "SELECT count(*) FROM events WHERE nlines > 0") == [(w["events_with_lines"],)]


def test_the_story_is_found(bundle):
    _, expected, db = bundle
    inc = expected["incidents"][0]
    deploys = query(db, "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%SZ'), version, commit FROM deploys ORDER BY ts")
    assert deploys[-1] == (inc["deploy_ts"], inc["deploy_version"], inc["deploy_commit"])
    kills = query(db, "SELECT pid, process, unit, killer, \"constraint\", limit_bytes, "
                      "anon_rss_bytes + file_rss_bytes + shmem_rss_bytes FROM oom_kills")
    assert kills == [(inc["pid"], "node", inc["unit"], "kernel", "CONSTRAINT_MEMCG", inc["limit_bytes"],
                      inc["rss_bytes"])]
    # the kill at the time the journal shows it (µs as written)
    assert query(db, "SELECT strftime(ts, '%Y-%m-%dT%H:%M:%S.%fZ') FROM oom_kills") == [(inc["ts"],)]
    restarts = query(db, "SELECT count(*) FROM lifecycle WHERE kind = 'restart' AND unit = ?", [inc["unit"]])
    assert restarts == [(1,)]


def test_5xx_as_many_as_written(bundle):
    _, expected, db = bundle
    total = query(db, "SELECT count(*) FROM events WHERE kind = 'http_request' AND (attrs->>'status')::INT >= 500")
    assert total == [(expected["written"]["http_5xx"],)]
    inc = expected["incidents"][0]
    # the incident's impact window: 5 min before the kill to 1 min after the restart
    window = query(db, """
        SELECT count(*), count(*) FILTER (WHERE (attrs->>'status')::INT >= 500) FROM events
        WHERE kind = 'http_request'
          AND ts BETWEEN ?::TIMESTAMPTZ - INTERVAL 5 MINUTE AND ?::TIMESTAMPTZ + INTERVAL 1 MINUTE""",
                   [inc["ts"], inc["recovered_ts"]])
    assert window == [(inc["http_requests"], inc["http_5xx"])]
    assert inc["http_5xx"] >= 3        # at least the requests in flight at the kill


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    generate(tmp_path / "a", 1)
    generate(tmp_path / "b", 1)
    generate(tmp_path / "c", 1, seed=7)
    a, b, c = (digests(tmp_path / x / "bench-host") for x in "abc")
    assert a == b
    assert a["journal.export"] != c["journal.export"]
    assert a["var/log/nginx/api.access.log"] != c["var/log/nginx/api.access.log"]
