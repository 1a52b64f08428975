"""``journalctl -o export``: the journal's own serialization.

Records are runs of ``FIELD=value`` lines separated by a blank line.  A value
that is not printable text (binary, or holding a newline) is written as the
field name alone on its line, a little-endian 64-bit length, the raw bytes
and a newline.  Line numbers count the newlines of the file as it is,
including those inside binary values, so they match ``sed -n Np``.

>>> from parsers.testing import run
>>> text = SAMPLE.encode() + b"\\n\\nMESSAGE\\n" + (7).to_bytes(8, "little") + b"two\\nlns\\n__REALTIME_TIMESTAMP=1\\n\\n"
>>> events, rejects = run(__name__, text)
>>> [(e.line, e.line_end, e.message) for e in events]
[(1, 7, 'nest-api.service: Scheduled restart job, restart counter is at 2.'), (8, 12, 'two\\nlns')]
>>> events[0].kind, events[0].attrs["counter"], rejects
('restart', 2, [])
"""
from __future__ import annotations

from typing import BinaryIO, Iterator

from .context import Context
from .journal_fields import to_event
from .messages import app_output
from .model import Event, Reject

NAME = "journal_export"
DESCRIPTION = "journalctl -o export (binary-safe KEY=value records)"
SAMPLE = ("__REALTIME_TIMESTAMP=1716906912123456\n_HOSTNAME=vps1\n_COMM=systemd\n_PID=1\n"
          "UNIT=nest-api.service\nMESSAGE=nest-api.service: Scheduled restart job, restart counter is at 2.")

_MAX_FIELD = 64 << 20  # journald's own limit on a field is far below this


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l][:8]
    if not lines:
        return 0
    if lines[0].startswith("__CURSOR=") or lines[0].startswith("__REALTIME_TIMESTAMP="):
        return 95
    if any(l.startswith("__REALTIME_TIMESTAMP=") for l in lines) and all(
            "=" in l or l.replace("_", "").isalnum() for l in lines[:4]):
        return 80
    return 0


def _decode(b: bytes) -> str:
    try:
        s = b.decode("utf-8")
    except UnicodeDecodeError:
        s = b.decode("utf-8", "replace")
    return s.replace("\x00", "\ufffd") if "\x00" in s else s


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    return app_output(_entries(raw, start))


def _entries(raw: BinaryIO, start: int) -> Iterator[Event | Reject]:
    readline, read = raw.readline, raw.read
    n = start - 1          # last line number consumed
    first = None           # first line of the record being read
    fields: dict[str, str] = {}
    while True:
        b = readline()
        if not b:
            break
        n += 1
        if b == b"\n" or b == b"\r\n":
            if first is None:
                yield Reject(n, "blank line outside a record", "")
            else:
                yield to_event(fields, first, n)
                first, fields = None, {}
            continue
        if first is None:
            first = n
        eq = b.find(b"=")
        if eq > 0:
            v = b[eq + 1:-1] if b.endswith(b"\n") else b[eq + 1:]
            fields[b[:eq].decode("ascii", "replace")] = _decode(v)
            continue
        name = b.rstrip(b"\r\n")
        if not b.endswith(b"\n") or not name.replace(b"_", b"").isalnum():
            yield Reject(n, "not a FIELD=value line or binary field name", _decode(name))
            continue
        size_b = read(8)
        size = int.from_bytes(size_b, "little") if len(size_b) == 8 else -1
        if size < 0 or size > _MAX_FIELD:
            n += size_b.count(b"\n")
            yield Reject(n, f"binary field {name.decode('ascii', 'replace')} with a bad length", "")
            first, fields = None, {}
            continue
        data = read(size)
        nl = read(1)
        n += size_b.count(b"\n") + data.count(b"\n") + nl.count(b"\n")
        if len(data) < size:
            yield Reject(n, f"file ends inside binary field {name.decode('ascii', 'replace')}", "")
            first, fields = None, {}
            break
        fields[name.decode("ascii", "replace")] = _decode(data)
        if nl != b"\n":
            # no newline after the value: the next line starts here; count it as part of this one
            rest = nl + readline()
            if rest.strip():
                yield Reject(n, "binary field not followed by a newline", _decode(rest.rstrip(b"\n")))
    if first is not None:
        # the last record has no blank line after it (a file cut short, or a last record without one)
        yield to_event(fields, first, n)
