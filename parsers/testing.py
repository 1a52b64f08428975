"""Helpers for parser doctests and tests: run a format module over text."""
from __future__ import annotations

import importlib
import io

from .context import Context
from .model import Event, Reject


def run(module: str, text: str | bytes, ctx: Context | None = None) -> tuple[list[Event], list[Reject]]:
    mod = importlib.import_module(module)
    data = text.encode() if isinstance(text, str) else text
    events, rejects = [], []
    for r in mod.parse(io.BytesIO(data), ctx or Context()):
        (rejects if isinstance(r, Reject) else events).append(r)
    return events, rejects
