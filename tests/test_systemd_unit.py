"""Unit configuration in a bundle: systemctl show output, a unit file with 'infinity', a file of two units."""
from __future__ import annotations

import parsers
from parsers.context import Context
from parsers.testing import run

# `systemctl show nest-api.service`, as systemd 249 prints it (abridged: it prints some 250 properties)
SHOW = """Type=simple
ExitType=main
Restart=always
NotifyAccess=none
RestartUSec=5s
TimeoutStartUSec=1min 30s
TimeoutStopUSec=1min 30s
RuntimeMaxUSec=infinity
WatchdogUSec=0
MainPID=20417
ControlPID=0
Result=success
ExecMainPID=20417
ExecMainStatus=0
MemoryCurrent=1073618944
CPUUsageNSec=1823194031000
TasksCurrent=11
MemoryAccounting=yes
MemoryMin=0
MemoryLow=0
MemoryHigh=infinity
MemoryMax=1073741824
MemorySwapMax=infinity
MemoryLimit=infinity
OOMPolicy=stop
Id=nest-api.service
Names=nest-api.service
ActiveState=active
SubState=running
"""


def test_systemctl_show_output():
    assert parsers.sniff(SHOW.encode(), "nest-api.show.txt") == "systemd_unit"
    (e,), rejects = run("parsers.systemd_unit", SHOW, Context(path="nest-api.show.txt"))
    assert rejects == [] and (e.kind, e.unit, e.line, e.line_end) == ("unit_config", "nest-api.service", 1, 29)
    # MemoryMax in bytes as show prints it; MemoryHigh and MemoryLimit 'infinity': no figure
    assert e.attrs == {"memory_max_bytes": 1073741824, "oom_policy": "stop", "restart": "always"}


def test_a_drop_in_lifts_a_limit_and_units_stay_apart():
    text = ("# /etc/systemd/system/api.service\n[Service]\nMemoryMax=2G\n\n"
            "# /etc/systemd/system/api.service.d/10-nolimit.conf\n[Service]\nMemoryMax=infinity\n"
            "# /lib/systemd/system/worker.service\n[Service]\nMemoryLimit=300M\n")
    assert parsers.sniff(text.encode(), "cat.txt") == "systemd_unit"
    events, rejects = run("parsers.systemd_unit", text, Context(path="cat.txt"))
    assert rejects == []
    assert [(e.unit, e.line, e.line_end, e.attrs.get("memory_max_bytes"), e.attrs.get("memory_limit_bytes"))
            for e in events] == [("api.service", 1, 7, None, None), ("worker.service", 8, 10, None, 300 << 20)]


def test_a_unit_file_is_known_by_its_place():
    assert parsers.sniff(b"[Unit]\nDescription=x\n[Service]\nMemoryMax=1.5G\n",
                         "bundle/web1/etc/systemd/system/x.service") == "systemd_unit"
    (e,), _ = run("parsers.systemd_unit", "[Service]\nMemoryMax=1.5G\n",
                  Context(path="bundle/web1/etc/systemd/system/x.service"))
    assert (e.unit, e.attrs["memory_max_bytes"]) == ("x.service", int(1.5 * (1 << 30)))
