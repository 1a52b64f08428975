"""Shared fixtures: run the real command line in a subprocess, read the real DuckDB file.

Every CLI run goes through ``python -m forensics.cli`` with the interpreter
running the tests (the venv's), in the test's own temporary folder, so the
paths stored in ``files.path`` are the short relative ones a user would type.
"""
from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

CLI = [sys.executable, "-m", "forensics.cli"]

# prctl(PR_CAPBSET_DROP, cap): after exec, a root process no longer has the capability.
PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE = 1
CAP_DAC_READ_SEARCH = 2


def _drop_dac_capabilities() -> None:  # runs in the child, between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            err = ctypes.get_errno()
            raise OSError(err, os.strerror(err))


def run_cli(*args: str, cwd: Path, unprivileged: bool = False, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run ``forensics ARGS`` the way a user does; never accept a traceback.

    ``unprivileged``: run without the root capabilities that bypass file
    permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so a chmod 000 file
    really cannot be read even though the tests run as root.  (Dropping to
    uid 65534 instead does not work here: the venv's interpreter lives under
    /root, mode 0700, so an unprivileged user cannot even start it.)
    """
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    r = subprocess.run([*CLI, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                       env=env, preexec_fn=_drop_dac_capabilities if unprivileged and os.geteuid() == 0 else None)
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout, (
        f"traceback from forensics {' '.join(map(str, args))}:\n{r.stderr}")
    return r


def query(db: Path, sql: str, params=None) -> list[tuple]:
    """Rows of ``sql`` from the DuckDB file (opened read-only, in UTC)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def file_rows(db: Path) -> dict[str, dict]:
    """The ``files`` table keyed by path (asserting that each path appears once)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        cur = con.execute("SELECT * REPLACE (ingested_at::VARCHAR AS ingested_at) FROM files ORDER BY file_id")
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()
    paths = [r["path"] for r in rows]
    assert len(paths) == len(set(paths)), f"a path is listed more than once in files: {paths}"
    return {r["path"]: r for r in rows}


def assert_lines_accounted(db: Path) -> None:
    """For every file: files.lines = lines covered by its events + its rejects, and the
    events/rejected counters match the rows; no event or reject belongs to no file."""
    rows = query(db, """
        SELECT f.path, f.lines, f.events, f.rejected,
               (SELECT count(*) FROM events e WHERE e.file_id = f.file_id),
               (SELECT coalesce(sum(e.nlines), 0) FROM events e WHERE e.file_id = f.file_id),
               (SELECT count(*) FROM rejects r WHERE r.file_id = f.file_id)
        FROM files f ORDER BY f.file_id""")
    for path, lines, events, rejected, n_ev, covered, n_rj in rows:
        assert lines == covered + n_rj, f"{path}: files.lines={lines} but events cover {covered} and {n_rj} rejects"
        assert events == n_ev, f"{path}: files.events={events} but {n_ev} event rows"
        assert rejected == n_rj, f"{path}: files.rejected={rejected} but {n_rj} reject rows"
    orphans = query(db, "SELECT (SELECT count(*) FROM events WHERE file_id NOT IN (SELECT file_id FROM files)),"
                        " (SELECT count(*) FROM rejects WHERE file_id NOT IN (SELECT file_id FROM files))")[0]
    assert orphans == (0, 0), f"events/rejects without a files row: {orphans}"
    bad = query(db, "SELECT file_id, line FROM events WHERE nlines < 1 OR nlines > line_end - line + 1 LIMIT 5")
    assert bad == [], f"events holding more lines than their span: {bad}"
    dup = query(db, "SELECT file_id, line, count(*) FROM events GROUP BY ALL HAVING count(*) > 1 LIMIT 5")
    assert dup == [], f"the same line of a file is in several events: {dup}"


def one_error_line(stderr: str) -> str:
    """The single line of stderr, which must be a forensics error."""
    lines = stderr.strip("\n").splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    assert lines[0].startswith("forensics: error:"), lines[0]
    return lines[0]


def why_unreadable_impossible() -> str | None:
    """None if an unprivileged child really cannot read a chmod 000 file, else why not."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "secret"
        p.write_text("x")
        p.chmod(0)
        try:
            r = subprocess.run([sys.executable, "-c", f"open({str(p)!r}).read()"], capture_output=True,
                               text=True, preexec_fn=_drop_dac_capabilities, timeout=30)
        except (OSError, subprocess.SubprocessError) as e:
            return f"cannot drop CAP_DAC_OVERRIDE in a child process: {e}"
        if "PermissionError" not in r.stderr:
            return "a child without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH could still read a chmod 000 file"
    return None


@pytest.fixture
def cli(tmp_path):
    """``cli(*args, unprivileged=False)``: run the command line in ``tmp_path``."""
    def run(*args, **kw):
        kw.setdefault("cwd", tmp_path)
        return run_cli(*args, **kw)
    return run


@pytest.fixture(scope="session")
def unreadable_ok():
    """Skip unless a chmod 000 file can be made unreadable for a child process."""
    if os.geteuid() != 0:
        return  # not root: chmod 000 is enough
    why = why_unreadable_impossible()
    if why:
        pytest.skip(f"cannot simulate an unreadable file as root: {why}")


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path
