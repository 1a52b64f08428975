"""Kills by the userspace OOM killers: systemd-oomd and earlyoom.

``classify`` reads one message of such a daemon and says whether it is a
kill; the kernel's own OOM reports are parsers.oom's.

>>> classify("earlyoom", 'sending SIGTERM to process 29410 uid 1000 "cluster": badness 1264, VmRSS 23964 MiB')
('oom_kill', {'killer': 'earlyoom', 'signal': 'SIGTERM', 'pid': 29410, 'uid': 1000, 'process': 'cluster', 'badness': 1264, 'rss_bytes': 25128075264})
>>> classify("systemd-oomd", "Killed /system.slice/nest-api.service due to memory pressure for /system.slice being 74.23% > 20.00% for > 20s with reclaim activity")[1]['unit']
'nest-api.service'
>>> classify("earlyoom", "mem avail:  2430 of 31808 MiB ( 7.64%), swap free: 1419 of 15903 MiB ( 8.93%)") is None
True
"""
from __future__ import annotations

import re

from .oom import unit_of

_EARLYOOM = re.compile(
    r"sending (?P<signal>SIG\w+) to process (?P<pid>\d+)(?: uid (?P<uid>\d+))? \"(?P<name>[^\"]*)\": "
    r"badness (?P<badness>-?\d+), VmRSS (?P<rss>\d+) MiB")
_OOMD = re.compile(r"Killed (?P<cgroup>/\S*) due to (?P<reason>.+)")
DAEMONS = frozenset({"earlyoom", "systemd-oomd"})


def classify(process: str | None, message: str) -> tuple[str, dict] | None:
    """(kind, attrs) for a kill by a userspace OOM killer, or None."""
    if process == "earlyoom":
        m = _EARLYOOM.search(message)
        if m:
            return "oom_kill", {"killer": "earlyoom", "signal": m.group("signal"), "pid": int(m.group("pid")),
                                "uid": int(m.group("uid")) if m.group("uid") else None, "process": m.group("name"),
                                "badness": int(m.group("badness")), "rss_bytes": int(m.group("rss")) << 20}
    elif process == "systemd-oomd":
        m = _OOMD.match(message)
        if m:
            attrs = {"killer": "systemd-oomd", "cgroup": m.group("cgroup"), "reason": m.group("reason")}
            u = unit_of(m.group("cgroup"))
            if u:
                attrs["unit"] = u
            return "oom_kill", attrs
    return None
