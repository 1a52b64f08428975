"""Timestamps, done once: zones, missing years, month names.

Every parser that reads a wall-clock time without a zone or without a year
comes here, so the rules (and their ts_quality) are the same everywhere.

>>> clock = LocalClock(zone("Europe/Berlin"))
>>> clock.to_us(2024, 5, 28, 14, 35, 12, 0) == utc_us(2024, 5, 28, 12, 35, 12, 0)
True
>>> guess = YearGuesser(reference=datetime(2024, 1, 2, tzinfo=timezone.utc))
>>> guess.year(12, 31), guess.year(1, 2)
(2023, 2024)
"""
from __future__ import annotations

import calendar
import functools
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = timezone.utc

MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
# Abbreviated month names of the locales journalctl and syslog print most (glibc's %b, lower case,
# no final dot): French, German, Spanish, Italian, Portuguese, Dutch, Russian. None maps one name to
# two months; French needs four letters for juin/juil.
MONTHS.update({
    "janv": 1, "ene": 1, "gen": 1, "янв": 1,
    "févr": 2, "fév": 2, "fev": 2, "фев": 2,
    "mars": 3, "mär": 3, "mrt": 3, "мар": 3,
    "avr": 4, "avril": 4, "abr": 4, "апр": 4,
    "mai": 5, "mag": 5, "mei": 5, "мая": 5, "май": 5,
    "juin": 6, "giu": 6, "июн": 6,
    "juil": 7, "lug": 7, "июл": 7,
    "août": 8, "aoû": 8, "ago": 8, "авг": 8,
    "sept": 9, "set": 9, "сен": 9,
    "okt": 10, "ott": 10, "out": 10, "окт": 10,
    "ноя": 11,
    "déc": 12, "dez": 12, "dic": 12, "дек": 12,
})


class BadZone(ValueError):
    pass


def zone(name: str) -> tzinfo:
    """A zone from an IANA name (``Europe/Berlin``), ``UTC`` or an offset (``+02:00``)."""
    name = name.strip()
    if name.upper() in ("UTC", "Z", "GMT", "ETC/UTC"):
        return UTC
    off = parse_offset(name)
    if off is not None:
        return timezone(timedelta(seconds=off))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadZone(f"unknown time zone {name!r} (use an IANA name such as Europe/Berlin, or +02:00)")


@functools.lru_cache(maxsize=256)     # called per line; a file holds a handful of distinct offsets
def parse_offset(text: str) -> int | None:
    """Seconds east of UTC for ``+0200``, ``+02:00``, ``-08``, ``Z``; None if not an offset."""
    t = text.strip()
    if t in ("Z", "z"):
        return 0
    if len(t) < 3 or t[0] not in "+-":
        return None
    digits = t[1:].replace(":", "")
    if not digits.isdigit() or len(digits) not in (2, 4):
        return None
    h = int(digits[:2])
    m = int(digits[2:4]) if len(digits) == 4 else 0
    sign = -1 if t[0] == "-" else 1
    return sign * (h * 3600 + m * 60)


def utc_us(y: int, mo: int, d: int, h: int, mi: int, s: int, us: int) -> int:
    """Microseconds since the epoch for a UTC wall time."""
    return (calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 1_000_000) + us


class LocalClock:
    """Wall time in a zone -> UTC microseconds, caching the offset per hour."""

    def __init__(self, tz: tzinfo):
        self.tz = tz
        self._cache: dict[tuple[int, int, int, int], int] = {}

    def offset_s(self, y: int, mo: int, d: int, h: int) -> int:
        key = (y, mo, d, h)
        off = self._cache.get(key)
        if off is None:
            off = int(datetime(y, mo, d, h, 30, tzinfo=self.tz).utcoffset().total_seconds())
            if len(self._cache) > 100_000:
                self._cache.clear()
            self._cache[key] = off
        return off

    def to_us(self, y: int, mo: int, d: int, h: int, mi: int, s: int, us: int) -> int:
        return utc_us(y, mo, d, h, mi, s, us) - self.offset_s(y, mo, d, h) * 1_000_000


class YearGuesser:
    """Gives a year to a month and day that came without one.

    With ``first_year`` (``--year``): the first line is in that year and the
    year goes up each time the month goes back (December -> January).
    Otherwise, against ``reference`` (the file's modification time): a date
    after the reference (with a day of slack) belongs to the year before,
    which handles a December-to-January roll-over in a file written in
    January.
    """

    def __init__(self, reference: datetime | None = None, first_year: int | None = None):
        self.first_year = first_year
        self.reference = reference or datetime.now(UTC)
        self._year = first_year
        self._last_month = 0

    def year(self, month: int, day: int) -> int:
        if self.first_year is not None:
            if month < self._last_month:
                self._year += 1
            self._last_month = month
            return self._year
        ref = self.reference
        y = ref.year
        if (month, day) > (ref.month, ref.day + 1):
            y -= 1
        return y


def month_number(name: str) -> int | None:
    """1..12 for a month name or abbreviation in English or a common locale, or for 5月/5월.

    >>> [month_number(m) for m in ("May", "avril", "juil.", "Mär", "dic", "5月", "Foo")]
    [5, 4, 7, 3, 12, 5, None]
    """
    n = name.strip().rstrip(".").lower()
    if n[-1:] in ("月", "월"):
        return int(n[:-1]) if n[:-1].isdigit() and 1 <= int(n[:-1]) <= 12 else None
    return MONTHS.get(n) or MONTHS.get(n[:4]) or MONTHS.get(n[:3])
