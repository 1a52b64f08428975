"""systemd's own messages about units, as typed events.

Shared by every format that carries systemd's messages (the journal in all
its outputs, syslog files).  ``classify`` looks at one message from the
systemd manager and says what it means.

>>> classify("nest-api.service: Main process exited, code=killed, status=9/KILL")
('process_exit', 'nest-api.service', {'code': 'killed', 'status': 9, 'signal': 'KILL'})
>>> classify("nest-api.service: Scheduled restart job, restart counter is at 3.")
('restart', 'nest-api.service', {'counter': 3})
>>> classify("nest-api.service: Consumed 2min 3.101s CPU time, 1.9G memory peak.")[2]['bytes']
2040109465
>>> classify("Started Rotate log files.")
('service_start', None, {'description': 'Rotate log files'})
>>> classify("Reloading.") is None
True
>>> [classify(m)[:2] for m in ("node-api.service: main process exited, code=killed, status=9/KILL",
...  "Unit node-api.service entered failed state.", "node-api.service holdoff time over, scheduling restart.",
...  "start request repeated too quickly for node-api.service")]   # systemd 219 (CentOS 7)
[('process_exit', 'node-api.service'), ('service_failed', 'node-api.service'), ('restart', 'node-api.service'), \
('gave_up', 'node-api.service')]
"""
from __future__ import annotations

import re

from .records import first_rule
from .signals import SIGNAL_NAMES

UNIT_NAME = r"[\w@:.\\-]+\.(?:service|scope|slice|socket|timer|mount|target|path|swap|device|automount)"
_UNIT = rf"(?P<unit>{UNIT_NAME})"


_SIZE = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[KMGTPE]?)B?", re.I)
_POW = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4, "P": 5, "E": 6}


def size_bytes(text: str) -> int | None:
    """systemd's sizes, in its messages (1.9G, 512.0M, 12B) and its settings (MemoryMax=1G, 1073741824):
    powers of 1024; 'infinity', a share of RAM ('80%') and the like -> None."""
    m = _SIZE.fullmatch(text.strip())
    if not m:
        return None
    return int(float(m.group("n")) * 1024 ** _POW[m.group("unit").upper()])


_RULES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    (_UNIT + r": [Mm]ain process exited, code=(?P<code>\w+), status=(?P<status>\d+)(?:/(?P<name>[\w-]+))?", "process_exit"),
    (_UNIT + r": (?:A process of this unit has been killed by the OOM killer|The kernel OOM killer killed some processes in this unit)", "oom_kill"),
    (_UNIT + r": systemd-oomd killed (?P<nkilled>\d+) process\(es\) in this unit", "oom_kill"),
    (_UNIT + r": Failed with result '(?P<result>[\w-]+)'", "service_failed"),
    (_UNIT + r": Unit entered failed state", "service_failed"),
    # systemd up to 229 (CentOS 7): "Unit X entered failed state." then "X failed." (the one is typed, the
    # other would count the failure twice), "X holdoff time over, scheduling restart.", and the give-up
    (r"Unit " + _UNIT + r" entered failed state", "service_failed"),
    (_UNIT + r" holdoff time over, scheduling restart", "restart"),
    (r"start request repeated too quickly for " + _UNIT, "gave_up"),
    (_UNIT + r": Scheduled restart job, restart counter is at (?P<counter>\d+)", "restart"),
    (_UNIT + r": Start request repeated too quickly", "gave_up"),
    (_UNIT + r": Consumed (?P<cpu>.*?) CPU time(?:, (?P<peak>[\d.]+[BKMGT]) memory peak)?(?:, (?P<swap>[\d.]+[BKMGT]) memory swap peak)?", "memory_sample"),
    (_UNIT + r": Deactivated successfully", "service_stop"),
    (r"Started (?!target )(?:" + _UNIT + r" - )?(?P<description>.*?)\.?$", "service_start"),
    (r"Stopped (?!target )(?:" + _UNIT + r" - )?(?P<description>.*?)\.?$", "service_stop"),
    (r"Failed to start (?:" + _UNIT + r" - )?(?P<description>.*?)\.?$", "service_failed"),
]]


def classify(message: str, unit: str | None = None) -> tuple[str, str | None, dict] | None:
    """(kind, unit, attrs) for a message of the systemd manager, or None for an ordinary line.

    ``unit`` is the unit the record names (the journal's UNIT= field), used
    where the message itself names none (``Started Nest API.``).
    """
    kind, m = first_rule(_RULES, message)
    if m:
        g = m.groupdict()
        u = g.get("unit") or unit
        attrs: dict = {}
        if kind == "process_exit":
            status = int(g["status"])
            attrs = {"code": g["code"], "status": status}
            if g["code"] in ("killed", "dumped"):
                attrs["signal"] = g["name"] or SIGNAL_NAMES.get(status, str(status))
            elif g["name"]:
                attrs["status_name"] = g["name"]
        elif kind == "service_failed":
            if g.get("result"):
                attrs["result"] = g["result"]
            elif "description" in g:
                attrs = {"phase": "start", "description": g["description"]}
            else:
                attrs["result"] = "failed"
        elif kind == "oom_kill":
            attrs = {"reported_by": "systemd"}
            if g.get("nkilled"):
                attrs.update(killer="systemd-oomd", killed=int(g["nkilled"]))
        elif kind == "restart":
            attrs = {"counter": int(g["counter"])} if g.get("counter") else {}
        elif kind == "memory_sample":
            attrs = {"cpu_time": g["cpu"]}
            if g["peak"]:
                attrs.update(metric="memory_peak", bytes=size_bytes(g["peak"]))
                if g["swap"]:
                    attrs["swap_peak_bytes"] = size_bytes(g["swap"])
            else:
                return "log", u, attrs
        elif "description" in g and g["description"] is not None:
            attrs = {"description": g["description"]}
        return kind, u, attrs
    return None
