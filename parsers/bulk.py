"""Bulk formats: a line grammar as one regular expression plus a column map.

The forensics store runs a ``BULK`` spec inside DuckDB over whole files;
``match`` runs the very same spec in Python on one line, for sniffing and
for the format's own examples.  The pattern must be valid for both RE2
(DuckDB) and Python: named groups ``(?P<name>...)``, no look-around, no
back-references.
"""
from __future__ import annotations

from datetime import datetime

import regex

_compiled: dict[str, regex.Pattern] = {}


def _rx(spec: dict) -> regex.Pattern:
    p = spec["pattern"]
    rx = _compiled.get(p)
    if rx is None:
        rx = _compiled[p] = regex.compile(p)
    return rx


def typed(value: str | None, kind: str):
    if value is None or value == "" or value == "-":
        return None
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            return None
    if kind == "float":
        try:
            return float(value)
        except ValueError:
            return None
    return value


def match(spec: dict, line: str) -> dict | None:
    """The event one line makes under ``spec`` (ts_us, kind, attrs, ...), or None."""
    m = _rx(spec).fullmatch(line)
    if not m or not m.group(spec["required"]):
        return None
    group, layout = spec["ts"]
    try:
        dt = datetime.strptime(m.group(group), layout)
    except ValueError:
        return None
    ts_us = int(dt.timestamp() * 1_000_000) if dt.tzinfo else None
    groups = m.groupdict()
    attrs = {k: typed(groups.get(k), t) for k, t in spec["attrs"].items()}
    for name, (group, rx, typ) in spec.get("derived", {}).items():
        if attrs.get(name) is None and m.group(group):
            d = regex.search(rx, m.group(group))
            if d:
                attrs[name] = typed(d.group(1), typ)
    return {"ts_us": ts_us, "kind": spec["kind"], "process": spec.get("process"),
            "attrs": {k: v for k, v in attrs.items() if v is not None}}
