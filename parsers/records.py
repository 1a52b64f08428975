"""The shared engine of formats whose records are a header line and the lines after it.

A reader says, for each line, whether it starts a record (``header`` returns the header's
parts), is not a line of the format (``header`` returns a reason: rejected), or neither
(None: it continues the record before it); ``event`` turns a header and its further lines into
an Event.  Lines before any record are rejected.
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator, Protocol

from .context import text_lines
from .model import Event, Reject


class RecordReader(Protocol):
    def header(self, line: str) -> tuple | str | None: ...
    def event(self, line_no: int, header: tuple, first: str, more: list[str]) -> Event: ...


def parse_records(reader: RecordReader, raw: BinaryIO, start: int, name: str) -> Iterator[Event | Reject]:
    pending: tuple[int, tuple, str] | None = None   # (line, header, first line)
    more: list[str] = []
    for n, line in text_lines(raw, start):
        h = reader.header(line)
        if isinstance(h, tuple) or isinstance(h, str):
            if pending is not None:
                yield reader.event(*pending, more)
            pending, more = None, []
            if isinstance(h, tuple):
                pending = (n, h, line)
            else:
                yield Reject(n, h, line)
        elif pending is not None:
            more.append(line)   # a stack trace, the rest of a multi-line message, a blank separator
        else:
            yield Reject(n, "blank line" if not line.strip() else
                         f"not a {name} line, and no record before it to continue", line)
    if pending is not None:
        yield reader.event(*pending, more)


def first_rule(rules, text: str) -> tuple[str | None, re.Match | None]:
    """The first ``(pattern, name)`` of ``rules`` whose pattern matches at the start of ``text``:
    ``(name, match)``, else ``(None, None)``. The message tables of the line formats are read with it."""
    for rx, name in rules:
        m = rx.match(text)
        if m:
            return name, m
    return None, None
