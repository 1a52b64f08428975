"""Shared by the tests: where the real samples are, and ingesting into a fresh database."""
from __future__ import annotations

from pathlib import Path

import pytest

from forensics.ingest import Options, ingest_paths
from forensics.store import connect

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT.parent / "shared" / "samples"
CORPUS = ROOT / "corpus"


def sample(rel: str) -> Path:
    """A file of ../shared/samples; the test is skipped where that folder is absent."""
    p = SAMPLES / rel
    if not p.exists():
        pytest.skip(f"{p} not present (../shared/samples is only beside a development checkout)")
    return p


def ingest(tmp_path: Path, *paths, **opts):
    """Ingest into a fresh database; returns (connection, results)."""
    con = connect(tmp_path / "t.duckdb")
    results, missing = ingest_paths(con, [str(p) for p in paths], Options(**opts))
    assert not missing
    return con, results


def accounted(con, file_id: int) -> tuple[int, int]:
    """(lines the files table says were read, lines inside events + rejected lines)."""
    lines = con.execute("SELECT lines FROM files WHERE file_id = ?", [file_id]).fetchone()[0]
    inside = con.execute("SELECT coalesce(sum(nlines), 0) FROM events WHERE file_id = ?",
                         [file_id]).fetchone()[0]
    rej = con.execute("SELECT count(*) FROM rejects WHERE file_id = ?", [file_id]).fetchone()[0]
    return lines, inside + rej


def line_count(data: bytes) -> int:
    """Lines in a file's bytes, a last line without a newline included."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def assert_accounted(data: bytes, events, rejects, ordered: bool = True) -> None:
    """Every line of ``data`` is inside an event's span or rejected, once: the lines events hold (``nlines``
    where several events share a line) plus the rejects add up to the file's lines; events keep file order."""
    n = line_count(data)
    spans = {x for e in events for x in range(e.line, e.line_end + 1)}
    rejected = [r.line for r in rejects]
    assert spans | set(rejected) == set(range(1, n + 1))
    assert not spans & set(rejected) and len(rejected) == len(set(rejected))
    assert sum(e.line_end - e.line + 1 if e.nlines is None else e.nlines for e in events) + len(rejects) == n
    if ordered:
        assert [e.line for e in events] == sorted(e.line for e in events)
