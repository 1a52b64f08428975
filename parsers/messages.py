"""Typed events from the messages of daemons that report on other processes.

One entry point for every format that carries such messages (journal,
syslog): the systemd manager's unit messages (parsers.systemd) and the
userspace OOM killers (parsers.oomd).  For an ``oom_kill`` the event's
process and pid are the victim's, as for the kernel's kills.

The output of the other processes (a Node app's stdout and stderr, one
entry per line) is typed by :func:`app_output` with the app-log rules of
parsers.nestjs and parsers.node_heap (see parsers.nestjs.AppStream).

>>> t = classify("earlyoom", 'sending SIGKILL to process 812 uid 1001 "node": badness 900, VmRSS 1900 MiB')
>>> t.kind, t.victim
('oom_kill', ('node', 812))
>>> classify("systemd", "nest-api.service: A process of this unit has been killed by the OOM killer.").victim
(None, None)
>>> classify("node", "Started nest-api.service - Nest API.") is None
True
"""
from __future__ import annotations

from typing import Iterable, Iterator, NamedTuple

from . import nestjs, oomd, systemd
from .model import Event, Reject

WATCHED = frozenset({"systemd"}) | oomd.DAEMONS
APP_EXCLUDED = WATCHED | {"kernel"}      # processes whose lines are not an app's output


class Typed(NamedTuple):
    kind: str
    unit: str | None
    attrs: dict
    victim: tuple[str | None, int | None] | None   # (process, pid) for the event's columns, where it names one


def classify(process: str | None, message: str, unit: str | None = None) -> Typed | None:
    """The typed reading of one message of ``process``, or None for an ordinary line."""
    if process == "systemd":
        t = systemd.classify(message, unit)
        if t is None:
            return None
        kind, u, attrs = t
        return Typed(kind, u, attrs, (None, None) if kind == "oom_kill" else None)
    if process in oomd.DAEMONS:
        t = oomd.classify(process, message)
        if t is None:
            return None
        kind, attrs = t
        attrs = {k: v for k, v in attrs.items() if v is not None}
        # the unit is the victim's (from the cgroup it names), not the daemon's own
        return Typed(kind, attrs.get("unit"), attrs, (attrs.get("process"), attrs.get("pid")))
    return None


def app_output(records: Iterable[Event | Reject]) -> Iterator[Event | Reject]:
    """A journal or syslog reader's records, the apps' output among them typed (parsers.nestjs.type_entries)."""
    return nestjs.type_entries(records, APP_EXCLUDED)
