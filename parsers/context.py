"""What a parser knows about the file it reads, besides its lines."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import BinaryIO, Iterator

from .timeutil import UTC, LocalClock, YearGuesser


@dataclass
class Context:
    path: str = "-"
    tz: tzinfo = UTC
    year: int | None = None         # --year: the year of a year-less file's first line
    mtime: datetime | None = None   # the file's modification time, for year inference
    host: str | None = None         # the host the pipeline will fill in where the record has none
    extra: dict = field(default_factory=dict)

    def clock(self) -> LocalClock:
        return LocalClock(self.tz)

    def years(self) -> YearGuesser:
        return YearGuesser(self.mtime, self.year)

    # A wall time that carries no zone of its own is read in ``tz`` (--tz, or the zone
    # the bundle states, or UTC) and is 'zone_assumed' whichever it was: the record
    # itself does not say, and a host's zone can change under its logs.
    local_quality = "zone_assumed"


def text_lines(raw: BinaryIO, start: int = 1) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line of a binary stream.

    The newline (and a CR before it) is dropped; invalid UTF-8 becomes U+FFFD
    and NUL becomes U+FFFD, so a line is never lost for its bytes.
    """
    n = start - 1
    for n, b in enumerate(raw, start):
        if b.endswith(b"\n"):
            b = b[:-2] if b.endswith(b"\r\n") else b[:-1]
        try:
            s = b.decode("utf-8")
        except UnicodeDecodeError:
            s = b.decode("utf-8", "replace")
        if "\x00" in s:
            s = s.replace("\x00", "\ufffd")
        yield n, s


def with_last(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, str, bool]]:
    """(line number, text, whether it is the file's last line) for each line: a reader that must
    tell a last line cut short from one to be continued needs to know."""
    prev = None
    for x in lines:
        if prev is not None:
            yield prev[0], prev[1], False
        prev = x
    if prev is not None:
        yield prev[0], prev[1], True
