"""Query results as a table, JSON or CSV."""
from __future__ import annotations

import csv
import io
import json
from typing import Any

FORMATS = ("table", "json", "csv")


def _unique(names: list[str]) -> list[str]:
    """Names made unique for JSON objects: a second 'line' becomes 'line_2'."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}_{seen[n]}")
    return out


def _plain(v: Any):
    """JSON for what json cannot write itself: decimals as numbers, the rest as text."""
    from decimal import Decimal
    if isinstance(v, Decimal):
        return float(v)
    return str(v)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    s = str(v)
    return s.replace("\n", "\\n").replace("\t", "\\t")


def render(names: list[str], rows: list[tuple], fmt: str, max_width: int = 80) -> str:
    if fmt == "json":
        keys = _unique(names)
        return json.dumps([dict(zip(keys, r)) for r in rows], default=_plain, ensure_ascii=False, indent=1)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(names)
        w.writerows([["" if v is None else v for v in r] for r in rows])
        return buf.getvalue().rstrip("\n")
    cells = [[_cell(v) for v in r] for r in rows]
    cells = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in r] for r in cells]
    widths = [max([len(n)] + [len(r[i]) for r in cells]) for i, n in enumerate(names)]
    numeric = [all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) and rows for i in range(len(names))]
    def line(vals):
        return "  ".join(v.rjust(w) if numeric[i] else v.ljust(w) for i, (v, w) in enumerate(zip(vals, widths))).rstrip()
    out = [line(names), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in cells]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out)
