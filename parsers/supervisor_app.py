"""A program's output as supervisor logs it (``stdout_logfile``, ``stderr_logfile``).

supervisor writes what the program prints, with no time of its own: each line
is an event with ``ts_quality = 'untimed'`` (or the program's own time
prefix, read as for PM2's app logs, whose reader this is: see pm2_app),
stack traces kept whole.  ``unit`` is the program's name.  Such a file is
known by its path: supervisor's automatic names
(``worker-stdout---supervisor-3kq0vtp_.log`` in ``childlogdir``), or the
``stdout_logfile``/``stderr_logfile`` that the bundle's supervisor
configuration names for a program (the ingest reads ``etc/supervisor``).

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> events, _ = run(__name__, "worker ready\\nTypeError: x is undefined\\n    at job (/srv/w.js:9:3)\\n",
...                 Context(path="/var/log/supervisor/worker-stderr---supervisor-3kq0vtp_.log"))
>>> [(e.line, e.line_end, e.unit, e.ts_quality, e.attrs) for e in events]
[(1, 1, 'worker', 'untimed', {'stream': 'error'}), (2, 3, 'worker', 'untimed', {'stream': 'error'})]
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import BinaryIO, Iterator

from . import pm2_app
from .context import Context
from .model import Event, Reject

NAME = "supervisor_app"
DESCRIPTION = "a program's output as supervisor logs it (stdout_logfile, stderr_logfile, childlogdir)"
SAMPLE = "Processing job 4211 (SendInvoiceEmail)"

_AUTO = re.compile(r"(?P<program>.+?)-(?P<stream>stdout|stderr)---supervisor-\w+\.log(?:\.\d+)?")
_STREAMS = {"stdout": "out", "stderr": "error"}


def from_path(path: str) -> dict:
    """``app`` (the program) and ``stream`` from supervisor's automatic log name, or {}."""
    m = _AUTO.fullmatch(re.split(r"[\\/]", path)[-1])
    return {"app": m.group("program"), "stream": _STREAMS[m.group("stream")]} if m else {}


def sniff(head: list[str]) -> int:
    return 0  # the lines are the program's: only the path tells


def sniff_path(path: str) -> int:
    return 40 if from_path(path) else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    named = {k: ctx.extra[k] for k in ("app", "stream") if ctx.extra.get(k)} or from_path(ctx.path)
    return pm2_app.parse(raw, replace(ctx, extra={**ctx.extra, **named}), start)
