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


MAX_LINE = 1 << 30   # DuckDB's CSV reader refuses longer lines; its default (2 MB) is too small for logs


def read_spool(path: str, columns: dict[str, str]) -> str:
    """The read_csv call that reads a spool file written by spool_rows, with these columns and types.

    Read serially: DuckDB's parallel CSV reader has failed on spool files whose quoted values hold
    newlines ("does not support a full read on this file"), depending on where a chunk boundary fell.
    """
    cols = "{" + ", ".join(f"'{n}': '{t}'" for n, t in columns.items()) + "}"
    return (f"read_csv('{path}', header=false, columns={cols}, quote='\"', escape='\"', auto_detect=false, "
            f"strict_mode=false, null_padding=false, nullstr='\\N', max_line_size={MAX_LINE}, parallel=false)")
