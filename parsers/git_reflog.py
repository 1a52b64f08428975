"""git's reflog of the deployed checkout (``.git/logs/HEAD``): what was checked out, when.

Each line ``<old> <new> Name <mail> 1716215400 +0200<TAB>pull: Fast-forward`` is
one move of HEAD; moves that change the code (pull, merge, reset,
checkout, rebase, clone, commit) are ``deploy`` events, with attrs
``commit`` (the new head), ``previous``, ``author``, ``action`` (the word
before the colon) and ``reflog`` (the text after the tab).

>>> from parsers.testing import run
>>> line = ("3f2a9c1e0b0c4d5e6f708192a3b4c5d6e7f80912 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c "
...         "deploy <deploy@web1> 1716865212 +0200\\tpull: Fast-forward")
>>> (e,), _ = run(__name__, line)
>>> e.ts_us, e.kind, e.attrs["commit"][:7], e.attrs["action"], e.ts_quality
(1716865212000000, 'deploy', '9b8c7d6', 'pull', 'exact')
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject

NAME = "git_reflog"
DESCRIPTION = "git's reflog of a deployed checkout (.git/logs/HEAD): each pull, reset or checkout a deploy"
SAMPLE = ("0000000000000000000000000000000000000000 9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c "
          "deploy <deploy@web1> 1716865212 +0200\tclone: from git@example.com:shop/api.git")

LINE = re.compile(r"(?P<old>[0-9a-f]{40}|[0-9a-f]{64}) (?P<new>[0-9a-f]{40}|[0-9a-f]{64}) (?P<who>.*?) "
                  r"(?P<epoch>\d+) (?P<tz>[+-]\d{4})(?:\t(?P<msg>.*))?")
CHANGES_CODE = ("pull", "merge", "reset", "checkout", "rebase", "clone", "commit", "cherry-pick", "revert")


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:10]
    return 95 if lines and all(LINE.fullmatch(l) for l in lines) else 0


def sniff_path(path: str) -> int:
    return 50 if re.search(r"(^|[\\/])\.git[\\/]logs[\\/]HEAD$", path) else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    for n, line in text_lines(raw, start):
        m = LINE.fullmatch(line)
        if not m:
            yield Reject(n, "blank line" if not line.strip() else "not a reflog line", line)
            continue
        msg = m.group("msg") or ""
        action = msg.split(":", 1)[0].split(" ", 1)[0] if msg else ""
        who = m.group("who")
        attrs = {"commit": m.group("new"), "previous": m.group("old"), "author": who, "action": action,
                 "reflog": msg, "tz_offset": m.group("tz")}
        kind = "deploy" if action.split(" (", 1)[0] in CHANGES_CODE else "log"
        yield Event(int(m.group("epoch")) * 1_000_000, "exact", kind, msg or line, n, n,
                    process="git", attrs=attrs)
