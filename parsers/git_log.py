"""``git log`` output saved in a bundle (the default layout, ``--date=iso`` or ``--pretty=fuller``).

Each commit block is a ``deploy`` event at its commit date: attrs ``commit``, ``version`` (a
``tag:`` of its decoration, where ``git log --decorate`` shows one), ``author`` and ``note``
(the subject line).  A commit's date is when it was made, not when it went out: where the
bundle also holds the reflog of the deployed checkout (git_reflog), that says when.

>>> from parsers.testing import run
>>> (e,), _ = run(__name__, SAMPLE)
>>> e.ts_us, e.kind, e.attrs["version"], e.attrs["commit"][:7], e.attrs["note"], (e.line, e.line_end)
(1716858012000000, 'deploy', 'v1.4.2', '9b8c7d6', 'bump bullmq 4.12 -> 5.1', (1, 5))
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject

NAME = "git_log"
DESCRIPTION = "git log output (default, --date=iso, --pretty=fuller): each commit a deploy candidate"
SAMPLE = ("commit 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c (HEAD -> main, tag: v1.4.2)\n"
          "Author: Dana Dev <dana@example.com>\nDate:   Tue May 28 03:00:12 2024 +0200\n\n"
          "    bump bullmq 4.12 -> 5.1")

COMMIT = re.compile(r"commit (?P<sha>[0-9a-f]{7,64})(?: \((?P<deco>[^)]*)\))?\s*")
FIELD = re.compile(r"(?P<key>Author|AuthorDate|Commit|CommitDate|Date|Merge):\s+(?P<value>.*)")
_FORMATS = ("%a %b %d %H:%M:%S %Y %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%dT%H:%M:%S%z")


def _date(text: str) -> int | None:
    for fmt in _FORMATS:
        try:
            return int(datetime.strptime(text.strip(), fmt).timestamp() * 1_000_000)
        except ValueError:
            continue
    return None


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()]
    if lines and COMMIT.fullmatch(lines[0]) and any(FIELD.fullmatch(l) for l in lines[1:4]):
        return 90
    return 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    block: list[tuple[int, str]] = []

    def emit() -> Iterator[Event | Reject]:
        m = COMMIT.fullmatch(block[0][1])
        fields = {}
        subject = None
        for _, l in block[1:]:
            f = FIELD.fullmatch(l)
            if f and subject is None:
                fields[f.group("key")] = f.group("value")
            elif l.startswith("    ") and subject is None and l.strip():
                subject = l.strip()
        ts = _date(fields.get("CommitDate") or fields.get("Date") or fields.get("AuthorDate") or "")
        first, last = block[0][0], block[-1][0]
        if ts is None:
            for n, l in block:
                yield Reject(n, "commit without a date git prints", l)
            return
        attrs = {"commit": m.group("sha"), "author": fields.get("Author"), "note": subject,
                 "evidence": "commit date"}
        tag = re.search(r"tag: ([^,]+)", m.group("deco") or "")
        if tag:
            attrs["version"] = tag.group(1).strip()
        yield Event(ts, "exact", "deploy", "\n".join(l for _, l in block), first, last, process="git",
                    attrs={k: v for k, v in attrs.items() if v is not None})

    for n, line in text_lines(raw, start):
        if COMMIT.fullmatch(line):
            if block:
                yield from emit()
            block = [(n, line)]
        elif block:
            block.append((n, line))
        else:
            yield Reject(n, "blank line" if not line.strip() else "not in a commit block", line)
    if block:
        yield from emit()
