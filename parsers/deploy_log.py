"""A deploy log kept by the deploy script: one line per deploy.

The format forensics documents (README, "Deploys"), so that a deploy script
can write it with one ``echo``::

    2024-05-28T03:00:12Z v1.4.2 3f2a9c1 -- bump bullmq 4.12 -> 5.1

the time (ISO 8601; without a zone it is read in the host's zone), the
version, optionally the commit (7 to 40 hex digits), optionally ``--`` and
a note.  Each line is a ``deploy`` event with attrs ``version``, ``commit``,
``note``.

>>> from parsers.testing import run
>>> (e,), _ = run(__name__, "2024-05-28T03:00:12Z v1.4.2 3f2a9c1 -- bump bullmq 4.12 -> 5.1")
>>> e.ts_us, e.kind, e.attrs
(1716865212000000, 'deploy', {'version': 'v1.4.2', 'commit': '3f2a9c1', 'note': 'bump bullmq 4.12 -> 5.1'})
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject
from .timeutil import parse_offset, utc_us

NAME = "deploy_log"
DESCRIPTION = "a deploy log: one line per deploy, 'TIME VERSION [COMMIT] [-- note]'"
SAMPLE = "2024-05-28T03:00:12Z v1.4.2 3f2a9c1 -- bump bullmq 4.12 -> 5.1"

LINE = re.compile(r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)[T ](?P<h>\d\d):(?P<mi>\d\d)(?::(?P<s>\d\d)(?:\.(?P<f>\d{1,6}))?)?"
                  r"(?P<z>Z|[+-]\d\d:?\d\d)? (?P<version>\S+)(?: (?P<commit>[0-9a-f]{7,40}))?(?: -- (?P<note>.*))?\s*")


def sniff(head: list[str]) -> int:
    return 0    # its lines are too plain to tell by themselves: known by name (sniff_path)


def sniff_path(path: str) -> int:
    name = re.split(r"[\\/]", path)[-1].lower()
    return 60 if re.fullmatch(r"deploy(s|ments?)?(\.log|\.txt)?(\.\d+)?", name) else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    clock = ctx.clock()
    for n, line in text_lines(raw, start):
        m = LINE.fullmatch(line)
        if not m:
            yield Reject(n, "blank line" if not line.strip() else "not a deploy line (TIME VERSION [COMMIT] [-- note])",
                         line)
            continue
        g = m.group
        parts = (int(g("y")), int(g("mo")), int(g("d")), int(g("h")), int(g("mi")), int(g("s") or 0),
                 int((g("f") or "0").ljust(6, "0")))
        try:
            if g("z"):
                ts, q = utc_us(*parts) - parse_offset(g("z")) * 1_000_000, "exact"
            else:
                ts, q = clock.to_us(*parts), ctx.local_quality
        except ValueError:
            yield Reject(n, "not a valid date", line)
            continue
        attrs = {"version": g("version")}
        if g("commit"):
            attrs["commit"] = g("commit")
        if g("note"):
            attrs["note"] = g("note")
        yield Event(ts, q, "deploy", line, n, n, attrs=attrs)
