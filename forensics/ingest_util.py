"""Small helpers shared by the loaders."""
from __future__ import annotations

import csv
import os
import tempfile


def spool_rows(rows: list[tuple], dir: str | None = None) -> str:
    """Write rows to a temporary CSV file (None as \\N) for DuckDB's read_csv; returns its path."""
    fd, path = tempfile.mkstemp(suffix=".csv", prefix="forensics-", dir=dir)
    with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerows([tuple("\\N" if v is None else v for v in row) for row in rows])
    return path
