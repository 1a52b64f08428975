"""A systemd unit's configuration as a bundle carries it: the unit file, its drop-ins, ``systemctl cat``
and ``systemctl show`` output.

What a postmortem needs from it is the memory the unit was allowed: ``MemoryMax=`` (cgroup v2),
``MemoryHigh=``, ``MemoryLimit=`` (cgroup v1), and how systemd reacts to a kill (``OOMPolicy=``,
``Restart=``). Each unit is one ``unit_config`` event holding all the lines that speak of it (a unit
file, or one unit's part of ``systemctl cat``: the file and its drop-ins, the later setting winning), with
no time (``untimed``): attrs ``memory_max_bytes``, ``memory_high_bytes``, ``memory_limit_bytes``
(``infinity`` and percentages of RAM are left out), ``oom_policy``, ``restart``, ``exec_start``,
``user``, and ``files`` (the paths ``systemctl cat`` names). Sizes take systemd's suffixes K, M, G, T
(powers of 1024).

Found by path (``etc/systemd/system/NAME.service``, ``NAME.service.d/*.conf``, ``lib/systemd/...``)
or by content: ``systemctl cat`` starts with ``# /etc/systemd/system/NAME.service``, ``systemctl
show`` prints ``Id=NAME.service`` among its ``Key=value`` lines.

>>> from parsers.testing import run
>>> from parsers.context import Context
>>> text = ("# /etc/systemd/system/nest-api.service\\n[Unit]\\nDescription=Nest API\\n\\n[Service]\\n"
...         "ExecStart=/usr/bin/node dist/main.js\\nMemoryMax=1G\\nRestart=always\\n\\n"
...         "# /etc/systemd/system/nest-api.service.d/override.conf\\n[Service]\\nMemoryMax=1536M\\n")
>>> (e,), rejects = run(__name__, text, Context(path="systemctl-cat-nest-api.txt"))
>>> e.kind, e.unit, e.line, e.line_end, e.ts_quality, rejects
('unit_config', 'nest-api.service', 1, 12, 'untimed', [])
>>> e.attrs["memory_max_bytes"], e.attrs["restart"], e.attrs["files"]
(1610612736, 'always', ['/etc/systemd/system/nest-api.service', '/etc/systemd/system/nest-api.service.d/override.conf'])
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject
from .systemd import UNIT_NAME, size_bytes

NAME = "systemd_unit"
DESCRIPTION = "a systemd unit's configuration: unit file, drop-in, systemctl cat or systemctl show output"
SAMPLE = "# /etc/systemd/system/nest-api.service"

_CAT_HEAD = re.compile(r"# (?P<path>/\S*?/(?P<unit>" + UNIT_NAME + r")(?:\.d/[^/\s]+\.conf)?)\s*$")
_ID = re.compile(r"Id=(?P<unit>" + UNIT_NAME + r")\s*$")
_PATH = re.compile(r"(?:^|/)systemd/(?:system|user)/(?P<unit>" + UNIT_NAME + r")(?:\.d/[^/]+\.conf)?$")
_SETTING = re.compile(r"\s*(?P<key>[A-Za-z][A-Za-z0-9]*)\s*=\s*(?P<value>.*?)\s*$")
_BYTES = {"MemoryMax": "memory_max_bytes", "MemoryHigh": "memory_high_bytes", "MemoryLimit": "memory_limit_bytes"}
_SHOW_KEYS = {"Type", "Restart", "NotifyAccess", "RestartUSec", "TimeoutStartUSec", "MainPID", "ExecMainPID",
              "MemoryCurrent", "Id", "Names", "ActiveState", "SubState", "ControlGroup"}
_TEXT = {"OOMPolicy": "oom_policy", "Restart": "restart", "ExecStart": "exec_start", "User": "user"}


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()]
    if not lines:
        return 0
    if _CAT_HEAD.match(lines[0]):
        return 80
    matched = [m for l in lines if (m := _SETTING.match(l))]
    keys = {m.group("key") for m in matched}
    settings = len(matched)
    if settings * 10 >= len(lines) * 9 and len(keys & _SHOW_KEYS) >= 3:
        return 80      # systemctl show: Key=value lines only, the service's state among them
    return 0


def sniff_path(path: str) -> int:
    return 70 if _PATH.search(path.replace("\\", "/")) else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    path_unit = (m.group("unit") if (m := _PATH.search(ctx.path.replace("\\", "/"))) else None) if ctx.path else None
    unit: str | None = path_unit
    first = last = None
    attrs: dict = {}
    files: list[str] = []

    def flush() -> Iterator[Event]:
        nonlocal first, attrs, files
        if first is not None:
            a = dict(attrs)
            if files:
                a["files"] = files
            shown = ", ".join(f"{k}={v}" for k, v in a.items() if k != "files") or "no memory settings"
            yield Event(None, "untimed", "unit_config", f"{unit or '?'}: {shown}", first, last, unit=unit,
                        attrs=a or None)
        first, attrs, files = None, {}, []

    for n, line in text_lines(raw, start):
        head = _CAT_HEAD.match(line)
        if head:
            if head.group("unit") != unit:
                yield from flush()
                unit = head.group("unit")
            files.append(head.group("path"))
        elif line.startswith("Id=") and (idm := _ID.match(line)):
            if unit is not None and unit != idm.group("unit") and first is not None:
                yield from flush()
            unit = idm.group("unit")
        if first is None:
            first = n
        last = n
        m = _SETTING.match(line) if not line.lstrip().startswith(("#", ";", "[")) else None
        if not m:
            continue
        key, value = m.group("key"), m.group("value")
        if key in _BYTES:
            b = size_bytes(value)
            if b is not None:
                attrs[_BYTES[key]] = b
            else:
                attrs.pop(_BYTES[key], None)   # 'infinity' (or a share of RAM) lifts what a file before set
        elif key in _TEXT and value:
            attrs[_TEXT[key]] = value
    yield from flush()
