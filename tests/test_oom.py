"""parsers.oom: the kernel's OOM-killer reports and kills, from real kernel logs and made-up edge cases.

Expected values were read off the sample files by hand (kB and page figures
are written as they appear in the text, times 1024 or 4096).  The samples are
turned into KLines by ``klines`` below, which strips the prefixes of dmesg's
outputs and of syslog files and keeps each kernel line's number in the file.
"""
from __future__ import annotations

import ast
import random
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

import parsers.oom as oom
from parsers.oom import KLine, OomGroup, assemble, unit_of

from .helpers import ingest, sample

K = 1024
P = 4096

# --- sample files -> KLines ------------------------------------------------

_UPTIME = r"\[\s*\d+\.\d+\] ?"
_DMESG = [
    re.compile(r"<\d+>" + _UPTIME),                                            # dmesg -r
    re.compile(r"[a-z]+\s*:[a-z]+\s*: " + _UPTIME),                            # dmesg -x
    re.compile(r"\[(?P<T>[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4})\] "),  # dmesg -T
    re.compile(r"(?P<iso>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d),(?P<f>\d{6})(?P<z>[+-]\d\d:\d\d) "),  # --time-format=iso
    re.compile(_UPTIME),                                                       # dmesg
]
# syslog: "<time> [host] kernel: [uptime] ", the time RFC 3339, BSD or a bare HH:MM:SS
_SYSLOG = re.compile(
    r"(?:(?P<rfc>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))"
    r"|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d\d:\d\d:\d\d) (?:\S+ )?kernel: (?:" + _UPTIME + ")?")
_OTHER = re.compile(r"(?:\d{4}-\d\d-\d\dT\S+|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d\d:\d\d:\d\d) ")


def klines(path: Path) -> list[KLine]:
    """The kernel lines of a dmesg or syslog file, key = line number; lines of other programs are left out.

    A line with no prefix at all right after a kernel line is that line wrapped
    in the file (parseoom's "active_anon:\\n278804kB"): it joins the line before.
    """
    out: list[KLine] = []
    for n, raw in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        m = _SYSLOG.match(raw)
        if m:
            ts = int(datetime.fromisoformat(m.group("rfc")).timestamp() * 1e6) if m.group("rfc") else None
            out.append(KLine(n, n, n, ts, raw[m.end():]))
            continue
        for rx in _DMESG:
            m = rx.match(raw)
            if m:
                g, ts = m.groupdict(), None
                if g.get("T"):
                    t = datetime.strptime(g["T"], "%a %b %d %H:%M:%S %Y").replace(tzinfo=timezone.utc)
                    ts = int(t.timestamp()) * 1_000_000
                elif g.get("iso"):
                    ts = int(datetime.fromisoformat(g["iso"] + g["z"]).timestamp()) * 1_000_000 + int(g["f"])
                out.append(KLine(n, n, n, ts, raw[m.end():]))
                break
        else:
            if _OTHER.match(raw):
                continue  # another program's line in a syslog file
            if out and out[-1].line_end == n - 1:
                k = out[-1]
                out[-1] = k._replace(line_end=n, text=k.text + "\n" + raw)
    return out


def run(rel_or_lines) -> list[OomGroup]:
    lines = klines(sample(rel_or_lines)) if isinstance(rel_or_lines, str) else rel_or_lines
    groups = list(assemble(lines))
    check_partition(lines, groups)
    return groups


def check_partition(lines: list[KLine], groups: list[OomGroup]) -> None:
    """Each input line is in at most one group, keys keep input order, groups come in input order."""
    order = {k.key: i for i, k in enumerate(lines)}
    seen: set = set()
    last = -1
    for g in groups:
        assert g.kind in ("oom_invoked", "oom_kill")
        assert g.keys, g
        idx = [order[k] for k in g.keys]
        assert idx == sorted(idx), g.keys
        assert idx[0] > last
        last = idx[0]
        assert not seen & set(g.keys)
        seen |= set(g.keys)
        if g.kind == "oom_kill":
            assert g.tasks == []


def kinds(groups):
    return [g.kind for g in groups]


def kl(texts: list[str], ts: list[int | None] | None = None) -> list[KLine]:
    """KLines numbered from 1 for made-up input."""
    return [KLine(n, n, n, ts[n - 1] if ts else None, t) for n, t in enumerate(texts, 1)]


# --- the module stays pure -------------------------------------------------

def test_module_imports_neither_duckdb_nor_forensics():
    tree = ast.parse(Path(oom.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add((node.module or "").split(".")[0] if node.level == 0 else "parsers")
    assert names <= {"__future__", "re", "regex", "typing", "parsers"}, names


# --- the lab event, in every dmesg output ------------------------------------

LAB_DMESG = ["dmesg/lab-k6.18-memcg-oom-node.dmesg.txt", "dmesg/lab-k6.18-memcg-oom-node.dmesg-r.txt",
             "dmesg/lab-k6.18-memcg-oom-node.dmesg-x.txt", "dmesg/lab-k6.18-memcg-oom-node.dmesg-T.txt",
             "dmesg/lab-k6.18-memcg-oom-node.dmesg-iso.txt"]


def check_lab_event(groups):
    """The 19:52:38 memcg OOM of node (pid 21140) in nest-api.service, lines 1-80 of its file."""
    assert kinds(groups) == ["oom_invoked", "oom_kill"]
    rep, kill = groups
    assert rep.keys == list(range(1, 80)) and kill.keys == [80]
    a = rep.attrs
    # node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
    assert (a["invoker"], a["gfp_mask"], a["gfp_flags"], a["order"], a["oom_score_adj"]) == (
        "node", "0xcc0", "GFP_KERNEL", 0, 0)
    # CPU: 1 UID: 0 PID: 21140 Comm: node Not tainted 6.18.44-fc-v669 #1 PREEMPT(none)
    assert (a["invoker_pid"], a["kernel"]) == (21140, "6.18.44-fc-v669")
    # memory: usage 131072kB, limit 131072kB, failcnt 310
    assert (a["usage_bytes"], a["limit_bytes"], a["failcnt"]) == (131072 * K, 131072 * K, 310)
    # memory+swap: usage 131072kB, limit 9007199254740988kB, failcnt 0 / kmem: usage 988kB
    assert (a["memsw_usage_bytes"], a["memsw_limit_bytes"]) == (131072 * K, 9007199254740988 * K)
    assert a["kmem_usage_bytes"] == 988 * K
    # oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=...,task=node,pid=21140,uid=0
    assert (a["constraint"], a["nodemask"], a["cpuset"], a["mems_allowed"]) == ("CONSTRAINT_MEMCG", "(null)", "/", "0")
    assert a["oom_memcg"] == a["task_memcg"] == "/system.slice/nest-api.service"
    assert (a["unit"], a["global_oom"]) == ("nest-api.service", False)
    assert (a["pid"], a["process"], a["uid"]) == (21140, "node", 0)
    assert (a["complete"], a["interleaved_lines"], a["ntasks"], a["bad_task_rows"]) == (True, 0, 2, 0)
    # [  21139]     0 21139      732      394        0      394         0    45056        0             0 timeout
    # [  21140]     0 21140   279012    41074    32477     8597         0   716800        0             0 node
    assert rep.tasks == [
        dict(pid=21139, uid=0, tgid=21139, total_vm_pages=732, rss_pages=394, rss_anon_pages=0, rss_file_pages=394,
             rss_shmem_pages=0, pgtables_bytes=45056, nr_ptes=None, swapents=0, oom_score_adj=0, name="timeout"),
        dict(pid=21140, uid=0, tgid=21140, total_vm_pages=279012, rss_pages=41074, rss_anon_pages=32477,
             rss_file_pages=8597, rss_shmem_pages=0, pgtables_bytes=716800, nr_ptes=None, swapents=0,
             oom_score_adj=0, name="node"),
    ]
    # Memory cgroup out of memory: Killed process 21140 (node) total-vm:1116048kB, anon-rss:129908kB,
    # file-rss:34388kB, shmem-rss:0kB, UID:0 pgtables:700kB oom_score_adj:0
    k = kill.attrs
    assert (k["pid"], k["process"], k["uid"], k["oom_score_adj"]) == (21140, "node", 0, 0)
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["file_rss_bytes"], k["shmem_rss_bytes"],
            k["pgtables_bytes"]) == (1116048 * K, 129908 * K, 34388 * K, 0, 700 * K)
    assert (k["invoker"], k["invoker_pid"], k["gfp_mask"], k["order"], k["kernel"]) == (
        "node", 21140, "0xcc0", 0, "6.18.44-fc-v669")
    assert (k["constraint"], k["global_oom"], k["unit"], k["oom_memcg"], k["task_memcg"]) == (
        "CONSTRAINT_MEMCG", False, "nest-api.service", "/system.slice/nest-api.service",
        "/system.slice/nest-api.service")
    assert (k["limit_bytes"], k["usage_bytes"], k["failcnt"]) == (131072 * K, 131072 * K, 310)
    assert (k["cpuset"], k["mems_allowed"], k["report_line"], k["complete"]) == ("/", "0", 1, True)
    assert "reaped" not in k


@pytest.mark.parametrize("rel", LAB_DMESG)
def test_lab_memcg_oom_in_each_dmesg_output(rel):
    check_lab_event(run(rel))


def test_dmesg_outputs_give_the_same_kernel_lines():
    texts = [[k.text for k in klines(sample(rel))] for rel in LAB_DMESG]
    assert all(t == texts[0] for t in texts)
    assert texts[0][3] == " <TASK>"  # the frame's own indentation survives


def test_dmesg_T_and_iso_times():
    t = klines(sample("dmesg/lab-k6.18-memcg-oom-node.dmesg-iso.txt"))
    assert t[0].ts_us == int(datetime(2026, 11, 22, 19, 52, 38, 950058, tzinfo=timezone.utc).timestamp() * 1e6)
    t = klines(sample("dmesg/lab-k6.18-memcg-oom-node.dmesg-T.txt"))
    assert t[-1].ts_us == int(datetime(2026, 11, 22, 19, 52, 38, tzinfo=timezone.utc).timestamp()) * 1_000_000


def test_lab_event_replayed_into_syslog():
    groups = run("syslog/lab-debian12-rsyslog-replayed-oom-excerpt.syslog")
    check_lab_event(groups)  # line 81 (rsyslogd start) is not a kernel line


# --- issue excerpts ----------------------------------------------------------

def test_k6_2_ubuntu_global_oom_head():
    [rep] = run("dmesg/issue-nano-node-4451-k6.2-ubuntu-global-oom-header-excerpt.txt")
    a = rep.attrs
    # nginx invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0
    assert (a["invoker"], a["gfp_mask"], a["gfp_flags"], a["order"], a["oom_score_adj"]) == (
        "nginx", "0x140cca", "GFP_HIGHUSER_MOVABLE|__GFP_COMP", 0, 0)
    # CPU: 2 PID: 604 Comm: nginx Not tainted 6.2.0-20-generic #20-Ubuntu
    assert (a["invoker_pid"], a["kernel"]) == (604, "6.2.0-20-generic")
    assert rep.keys == list(range(1, 28))  # Hardware name, Call Trace, <TASK>, frames: all of it
    assert (a["complete"], a["interleaved_lines"], a["ntasks"], a["constraint"]) == (False, 0, 0, None)


def test_k6_14_command_with_space_and_hash():
    [rep] = run("dmesg/issue-k3s-12028-k6.14-cachyos-oom-header-excerpt.txt")
    a = rep.attrs
    # StreamTrans #72 invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=167
    assert (a["invoker"], a["gfp_mask"], a["gfp_flags"], a["order"], a["oom_score_adj"]) == (
        "StreamTrans #72", "0x140dca", "GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO", 0, 167)
    # CPU: 5 UID: 1000 PID: 38055 Comm: StreamTrans #72 Not tainted 6.14.0-4-cachyos #1 016ff1...
    assert (a["invoker_pid"], a["kernel"]) == (38055, "6.14.0-4-cachyos")
    assert rep.keys == list(range(1, 21))  # "? frame" lines included
    assert (a["complete"], a["interleaved_lines"]) == (False, 0)


def test_k3_10_el7_memcg_kill_pair_then_next_report():
    groups = run("dmesg/issue-kubernetes-56891-k3.10-el7-dmesg-T-memcg-oom-excerpt.txt")
    # lines 1-3 (stats, task table) are the tail of a report whose trigger is not in the excerpt
    assert kinds(groups) == ["oom_kill", "oom_invoked"]
    kill, rep = groups
    # Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child
    # Killed process 28438 (java) total-vm:20255636kB, anon-rss:466160kB, file-rss:13684kB
    assert kill.keys == [4, 5]
    k = kill.attrs
    assert (k["pid"], k["process"], k["score"], k["selected_pid"], k["selected_process"]) == (
        28438, "java", 0, 24572, "java")
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["file_rss_bytes"]) == (20255636 * K, 466160 * K, 13684 * K)
    assert (k["shmem_rss_bytes"], k["uid"], k["global_oom"]) == (None, None, False)
    assert "invoker" not in k  # no report before it in the excerpt
    # java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998
    # java cpuset=1e479e75...a820 mems_allowed=0
    # CPU: 9 PID: 14881 Comm: java Tainted: G    B          ------------ T 3.10.0-327.4.5.el7.x86_64 #1
    assert rep.keys == [6, 7, 8, 9, 10]
    a = rep.attrs
    assert (a["invoker"], a["gfp_mask"], a["order"], a["oom_score_adj"]) == ("java", "0xd0", 0, -998)
    assert "gfp_flags" not in a
    assert a["cpuset"] == "1e479e759020fa0b6c72def90973540a2d33982fea2ad67a96373b4da751a820"
    assert (a["mems_allowed"], a["invoker_pid"], a["kernel"]) == ("0", 14881, "3.10.0-327.4.5.el7.x86_64")
    assert (a["complete"], a["interleaved_lines"]) == (False, 0)  # the raw stack words line is part of it


def test_k3_10_task_table_layout():
    """The excerpt's nr_ptes task table, after a trigger line the test supplies."""
    lines = klines(sample("dmesg/issue-kubernetes-56891-k3.10-el7-dmesg-T-memcg-oom-excerpt.txt"))
    trigger = KLine(0, 0, 0, None, "java invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=-998")
    rep, kill, _ = run([trigger] + lines)
    assert rep.keys == [0, 1, 2, 3] and kill.keys == [4, 5]
    # [28438]     0 28438  5063909   119961    1661   136409          -998 java
    assert rep.tasks == [dict(pid=28438, uid=0, tgid=28438, total_vm_pages=5063909, rss_pages=119961,
                              rss_anon_pages=None, rss_file_pages=None, rss_shmem_pages=None, pgtables_bytes=None,
                              nr_ptes=1661, swapents=136409, oom_score_adj=-998, name="java")]
    assert kill.attrs["invoker"] == "java" and kill.attrs["report_line"] == 0


def test_k6_task_table_with_rss_split():
    """The excerpt is the tail of a report; a trigger line supplied by the test heads it."""
    lines = klines(sample("dmesg/issue-inducer-relate-1383-dmesg-T-task-table-rss_anon-excerpt.txt"))
    assert run(lines) == []  # no trigger, no kill: ordinary lines
    trigger = KLine(0, 0, 0, None, "x invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0")
    [rep] = run([trigger] + lines)
    assert rep.keys == list(range(13)) and rep.attrs["interleaved_lines"] == 0
    assert (rep.attrs["ntasks"], rep.attrs["bad_task_rows"], rep.attrs["complete"]) == (8, 0, False)
    names = [t["name"] for t in rep.tasks]
    assert names == ["systemd-journal", "systemd-udevd", "VGAuthService", "vmtoolsd", "acpid", "dbus-daemon",
                     "docker-swarm", "dhclient"]
    # [    375]     0   375    14010     2008      160     1848         0   102400      256          -250 systemd-journal
    assert rep.tasks[0] == dict(pid=375, uid=0, tgid=375, total_vm_pages=14010, rss_pages=2008, rss_anon_pages=160,
                                rss_file_pages=1848, rss_shmem_pages=0, pgtables_bytes=102400, nr_ptes=None,
                                swapents=256, oom_score_adj=-250, name="systemd-journal")
    # [    737]   112   737   543627     4691     2751     1940         0   376832     1240             0 docker-swarm
    assert rep.tasks[6] == dict(pid=737, uid=112, tgid=737, total_vm_pages=543627, rss_pages=4691,
                                rss_anon_pages=2751, rss_file_pages=1940, rss_shmem_pages=0, pgtables_bytes=376832,
                                nr_ptes=None, swapents=1240, oom_score_adj=0, name="docker-swarm")
    # [    409]     0   409     9936      626       64      562         0    98304      864         -1000 systemd-udevd
    assert (rep.tasks[1]["oom_score_adj"], rep.tasks[5]["uid"], rep.tasks[5]["oom_score_adj"]) == (-1000, 109, -900)


def test_debian11_complete_global_oom():
    groups = run("kern-log/parseoom-messages-debian11-5.10-global-oom.log")
    assert kinds(groups) == ["oom_invoked", "oom_kill"]
    rep, kill = groups
    # line 1 and lines 97-98 are UFW lines before and after; line 42 is line 41 wrapped in the file
    assert rep.keys == [n for n in range(2, 95) if n != 42]
    assert kill.keys == [95, 96]  # the kill and the oom_reaper line right after it
    a = rep.attrs
    # f2b/f.postfix invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
    assert (a["invoker"], a["gfp_mask"], a["gfp_flags"], a["order"], a["oom_score_adj"]) == (
        "f2b/f.postfix", "0x100cca", "GFP_HIGHUSER_MOVABLE", 0, 0)
    # CPU: 0 PID: 754 Comm: f2b/f.postfix Not tainted 5.10.0-10-amd64 #1 Debian 5.10.84-1
    assert (a["invoker_pid"], a["kernel"]) == (754, "5.10.0-10-amd64")
    # Free swap  = 0kB / Total swap = 524284kB / 5241540 pages RAM
    assert (a["free_swap_bytes"], a["total_swap_bytes"], a["ram_bytes"]) == (0, 524284 * K, 5241540 * P)
    # oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,
    #   task_memcg=/system.slice/clamav-daemon.service,task=clamd,pid=517,uid=111
    assert (a["constraint"], a["global_oom"], a["oom_memcg"], a["cpuset"], a["mems_allowed"]) == (
        "CONSTRAINT_NONE", True, None, "/", "0")
    assert (a["task_memcg"], a["unit"]) == ("/system.slice/clamav-daemon.service", "clamav-daemon.service")
    assert (a["pid"], a["process"], a["uid"]) == (517, "clamd", 111)
    assert (a["limit_bytes"], a["usage_bytes"]) == (None, None)
    assert (a["complete"], a["interleaved_lines"], a["ntasks"], a["bad_task_rows"]) == (True, 0, 35, 0)
    # [    517]   111   517   590364   422324  4395008   107099             0 clamd
    clamd = [t for t in rep.tasks if t["pid"] == 517]
    assert clamd == [dict(pid=517, uid=111, tgid=517, total_vm_pages=590364, rss_pages=422324, rss_anon_pages=None,
                          rss_file_pages=None, rss_shmem_pages=None, pgtables_bytes=4395008, nr_ptes=None,
                          swapents=107099, oom_score_adj=0, name="clamd")]
    assert {"nginx", "mariadbd", "redis-server", "unattended-upgr"} <= {t["name"] for t in rep.tasks}
    assert (rep.tasks[0]["name"], rep.tasks[-1]["pid"], rep.tasks[-1]["name"]) == ("systemd-journal", 7298, "anvil")
    # Out of memory: Killed process 517 (clamd) total-vm:2361456kB, anon-rss:1689296kB, file-rss:0kB,
    #   shmem-rss:0kB, UID:111 pgtables:4292kB oom_score_adj:0
    k = kill.attrs
    assert (k["pid"], k["process"], k["uid"], k["oom_score_adj"], k["reaped"]) == (517, "clamd", 111, 0, True)
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["file_rss_bytes"], k["shmem_rss_bytes"],
            k["pgtables_bytes"]) == (2361456 * K, 1689296 * K, 0, 0, 4292 * K)
    assert (k["invoker"], k["invoker_pid"], k["global_oom"], k["unit"], k["kernel"], k["report_line"]) == (
        "f2b/f.postfix", 754, True, "clamav-daemon.service", "5.10.0-10-amd64", 2)


# (report line, victim pid, anon-rss kB, unit, memory limit kB) as read from the file
RUN3 = [(1, 22546, 162656, "nest-api.service", 163840),
        (80, 22679, 162740, "nest-api.service", 163840),
        (160, 22808, 162628, "nest-api.service", 163840),
        (239, 22935, 162656, "nest-api.service", 163840),
        (318, 23064, 162716, "nest-api.service", 163840),
        (398, 23297, 48384, "queue-worker.service", 49152),
        (477, 23305, 48256, "queue-worker.service", 49152),
        (556, 23312, 48384, "queue-worker.service", 49152),
        (636, 23319, 48256, "queue-worker.service", 49152)]


def test_lab_run3_nine_memcg_kills():
    groups = run("kern-log/lab-debian12-rsyslog-run3-memcg-oom-x9.kern.log")
    assert kinds(groups) == ["oom_invoked", "oom_kill"] * 9
    reports, kills = groups[0::2], groups[1::2]
    ends = [r[0] for r in RUN3[1:]] + [715]
    for (first, pid, anon_kb, unit, limit_kb), end, rep, kill in zip(RUN3, ends, reports, kills):
        # every line of the file is in a report or its kill
        assert rep.keys == list(range(first, end - 1)) and kill.keys == [end - 1]
        a, k = rep.attrs, kill.attrs
        assert (k["pid"], k["process"], k["anon_rss_bytes"], k["unit"]) == (pid, "node", anon_kb * K, unit)
        assert (k["invoker"], k["invoker_pid"], k["report_line"], k["complete"]) == ("node", pid, first, True)
        assert (k["limit_bytes"], k["usage_bytes"], k["constraint"], k["global_oom"]) == (
            limit_kb * K, limit_kb * K, "CONSTRAINT_MEMCG", False)
        assert k["oom_memcg"] == k["task_memcg"] == "/system.slice/" + unit
        assert (a["pid"], a["unit"], a["ntasks"], a["interleaved_lines"]) == (pid, unit, 1, 0)
        assert rep.tasks[0]["pid"] == pid and rep.tasks[0]["name"] == "node"
    # line 2: CPU: 0 UID: 0 PID: 22546 ...; line 29: memory: usage 163840kB, limit 163840kB, failcnt 22058998
    assert reports[0].attrs["failcnt"] == 22058998
    # line 77: [  22546]     0 22546   287390    49459    40664     8795         0   856064        0             0 node
    assert reports[0].tasks[0]["rss_anon_pages"] == 40664 and reports[0].tasks[0]["pgtables_bytes"] == 856064
    # line 714: ... Killed process 23319 (node) total-vm:1034064kB, anon-rss:48256kB, file-rss:33748kB, ... pgtables:548kB
    assert (kills[8].attrs["total_vm_bytes"], kills[8].attrs["file_rss_bytes"], kills[8].attrs["pgtables_bytes"]) == (
        1034064 * K, 33748 * K, 548 * K)
    # all times are there: rsyslog's RFC 3339 stamps
    assert all(k.ts_us for k in klines(sample("kern-log/lab-debian12-rsyslog-run3-memcg-oom-x9.kern.log")))


def test_lab_pm2_phase_four_kills():
    groups = run("kern-log/lab-pm2-phase-memcg-oom-x4.kern.log")
    kills = [g for g in groups if g.kind == "oom_kill"]
    assert kinds(groups) == ["oom_invoked", "oom_kill"] * 4
    # Killed process 23820 ... anon-rss:142312kB; 23919 ... 142156kB; 24014 ... 142316kB; 24109 ... 142296kB
    assert [(k.attrs["pid"], k.attrs["anon_rss_bytes"], k.attrs["unit"], k.keys) for k in kills] == [
        (23820, 142312 * K, "nest-api.service", [80]), (23919, 142156 * K, "nest-api.service", [159]),
        (24014, 142316 * K, "nest-api.service", [239]), (24109, 142296 * K, "nest-api.service", [319])]
    assert {k.attrs["limit_bytes"] for k in kills} == {143360 * K}


def test_rhel7_kill_process_pair_with_uid_first():
    groups = run("kern-log/issue-ltp-1080-rhel7-k3.10-memcg-oom-excerpt.log")
    assert kinds(groups) == ["oom_kill", "oom_invoked"]
    kill, rep = groups
    # Memory cgroup out of memory: Kill process 42424 (memcg_test_1) score 0 or sacrifice child
    # Killed process 42424 (memcg_test_1), UID 0, total-vm:7296kB, anon-rss:96kB, file-rss:0kB, shmem-rss:0kB
    assert kill.keys == [7, 8]
    k = kill.attrs
    assert (k["pid"], k["process"], k["uid"], k["score"], k["global_oom"]) == (42424, "memcg_test_1", 0, 0, False)
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["file_rss_bytes"], k["shmem_rss_bytes"]) == (
        7296 * K, 96 * K, 0, 0)
    # memcg_test_1 invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0 / memcg_test_1 cpuset=/ mems_allowed=0-1
    assert rep.keys == [9, 10]
    a = rep.attrs
    assert (a["invoker"], a["gfp_mask"], a["order"], a["oom_score_adj"], a["cpuset"], a["mems_allowed"]) == (
        "memcg_test_1", "0xd0", 0, 0, "/", "0-1")
    assert (a["complete"], a["invoker_pid"]) == (False, None)


def test_rhel7_nr_ptes_rows_after_a_supplied_trigger():
    lines = klines(sample("kern-log/issue-ltp-1080-rhel7-k3.10-memcg-oom-excerpt.log"))
    trigger = KLine(0, 0, 0, None, "memcg_test_1 invoked oom-killer: gfp_mask=0xd0, order=0, oom_score_adj=0")
    rep, kill, _ = run([trigger] + lines)
    # [42421]     0 42421     1824       24       8        0             0 memcg_test_1  (and 42422-42424 alike)
    assert [t["pid"] for t in rep.tasks] == [42421, 42422, 42423, 42424]
    assert rep.tasks[3] == dict(pid=42424, uid=0, tgid=42424, total_vm_pages=1824, rss_pages=24, rss_anon_pages=None,
                                rss_file_pages=None, rss_shmem_pages=None, pgtables_bytes=None, nr_ptes=8,
                                swapents=0, oom_score_adj=0, name="memcg_test_1")
    assert kill.attrs["invoker"] == "memcg_test_1" and kill.attrs["pid"] == 42424


def test_centos6_one_line_kill():
    [kill] = run("kern-log/issue-cpanelssp-76-centos6-k2.6.32-killed-process-line.log")
    # Killed process 11726, UID 498, (mysqld) total-vm:7823732kB, anon-rss:2539268kB, file-rss:768kB
    assert kill.kind == "oom_kill" and kill.keys == [1]
    k = kill.attrs
    assert (k["pid"], k["process"], k["uid"]) == (11726, "mysqld", 498)
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["file_rss_bytes"], k["shmem_rss_bytes"]) == (
        7823732 * K, 2539268 * K, 768 * K, None)


def test_cloudpanel_grep_excerpt():
    groups = run("syslog/issue-cloudpanel-ce-333-user-trimmed-oom-grep-excerpt.log")
    assert kinds(groups) == ["oom_invoked", "oom_kill", "oom_invoked"]
    rep, kill, rep2 = groups
    # lines 7-8 are systemd's, not the kernel's
    assert (rep.keys, kill.keys, rep2.keys) == ([1, 2, 3, 4, 5], [6], [9, 10, 11, 12])
    a = rep.attrs
    # redis-server invoked oom-killer: gfp_mask=0x1100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0
    assert (a["invoker"], a["gfp_mask"], a["gfp_flags"], a["invoker_pid"]) == (
        "redis-server", "0x1100cca", "GFP_HIGHUSER_MOVABLE", None)
    # the task table header with its rows trimmed away by the reporter
    assert (a["ntasks"], a["bad_task_rows"], a["complete"]) == (0, 0, True)
    # oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=redis-server.service,mems_allowed=0,global_oom,
    #   task_memcg=/system.slice/mariadb.service,task=mariadbd,pid=1235,uid=115
    assert (a["constraint"], a["cpuset"], a["global_oom"], a["unit"], a["pid"], a["uid"]) == (
        "CONSTRAINT_NONE", "redis-server.service", True, "mariadb.service", 1235, 115)
    # Out of memory: Killed process 1235 (mariadbd) total-vm:3061516kB, anon-rss:15524kB, file-rss:0kB,
    #   shmem-rss:0kB, UID:115 pgtables:1376kB oom_score_adj:0
    k = kill.attrs
    assert (k["pid"], k["process"], k["uid"], k["unit"], k["invoker"], k["global_oom"]) == (
        1235, "mariadbd", 115, "mariadb.service", "redis-server", True)
    assert (k["total_vm_bytes"], k["anon_rss_bytes"], k["pgtables_bytes"]) == (3061516 * K, 15524 * K, 1376 * K)
    # containerd invoked oom-killer: ... oom_score_adj=-999, cut off after the task header
    assert (rep2.attrs["invoker"], rep2.attrs["oom_score_adj"], rep2.attrs["complete"]) == ("containerd", -999, False)


@pytest.mark.parametrize("rel", ["dmesg/s4-ubuntu22-dmesg", "kern-log/s4-debian11-droplet-kern.log",
                                 "kern-log/s4-ubuntu22-kern.log", "syslog/s4-debian11-droplet-messages",
                                 "syslog/s4-ubuntu22-syslog"])
def test_kernel_logs_without_oom_give_nothing(rel):
    lines = klines(sample(rel))
    assert lines and run(lines) == []


# --- made-up edge cases ------------------------------------------------------

TRIGGER = "node invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=0"
CPU = "CPU: 1 PID: 812 Comm: node Not tainted 5.15.0-91-generic #101-Ubuntu"
HEADER = "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name"
ROW = "[    812]  1000   812   279012    41074   716800        0             0 node"
SUMMARY = ("oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
           "oom_memcg=/system.slice/nest-api.service,task_memcg=/system.slice/nest-api.service,task=node,pid=812,uid=1000")
KILL = ("Memory cgroup out of memory: Killed process 812 (node) total-vm:1116048kB, anon-rss:129908kB, "
        "file-rss:34388kB, shmem-rss:0kB, UID:1000 pgtables:700kB oom_score_adj:0")
REPORT = [TRIGGER, CPU, "Call Trace:", " <TASK>", " dump_stack_lvl+0x48/0x70", " out_of_memory+0x101/0x370",
          " </TASK>", "memory: usage 2097152kB, limit 2097152kB, failcnt 42",
          "swap: usage 1024kB, limit 4096kB, failcnt 0",
          "Memory cgroup stats for /system.slice/nest-api.service:", "anon 2139095040", "file 4096",
          "Tasks state (memory values in pages):", HEADER, ROW, SUMMARY]


def test_made_up_report_fields():
    rep, kill = run(kl(REPORT + [KILL]))
    a, k = rep.attrs, kill.attrs
    assert (a["limit_bytes"], a["usage_bytes"], a["failcnt"]) == (2097152 * K, 2097152 * K, 42)
    assert (a["swap_usage_bytes"], a["swap_limit_bytes"]) == (1024 * K, 4096 * K)
    assert (k["swap_usage_bytes"], k["swap_limit_bytes"], k["limit_bytes"]) == (1024 * K, 4096 * K, 2097152 * K)
    assert (a["kernel"], a["invoker_pid"], a["interleaved_lines"]) == ("5.15.0-91-generic", 812, 0)
    assert rep.tasks[0]["pgtables_bytes"] == 716800 and rep.tasks[0]["nr_ptes"] is None
    assert kill.keys == [17]


def test_truncated_report():
    lines = kl(REPORT[:5] + ["Mem-Info:", "active_anon:69704 inactive_anon:407086 isolated_anon:0",
                             " active_file:14 inactive_file:66 isolated_file:2", "Node 0 DMA free:8092kB min:356kB"])
    [rep] = run(lines)
    assert rep.keys == list(range(1, 10))
    assert (rep.attrs["complete"], rep.attrs["interleaved_lines"], rep.attrs["ntasks"]) == (False, 0, 0)
    # a summary cut mid-line still gives the fields that are whole
    [rep] = run(kl(REPORT[:-1] + ["oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_mem"]))
    assert (rep.attrs["constraint"], rep.attrs["nodemask"], rep.attrs["cpuset"]) == ("CONSTRAINT_MEMCG", "(null)", "/")
    # mems_allowed is a list that may hold commas (0-1,3): "0,oom_mem" may be cut inside it, so it is left out
    assert rep.attrs["mems_allowed"] is None and rep.attrs["oom_memcg"] is None and rep.attrs["complete"] is False
    [rep] = run(kl(REPORT[:-1] + [SUMMARY.replace("mems_allowed=0", "mems_allowed=0-1,3")]))
    assert (rep.attrs["mems_allowed"], rep.attrs["oom_memcg"], rep.attrs["uid"]) == (
        "0-1,3", "/system.slice/nest-api.service", 1000)
    [rep] = run(kl(REPORT[:-1] + [SUMMARY[:-9]]))  # ...,task=node,pid=812 and no uid: the pid may be cut, so is left
    assert (rep.attrs["pid"], rep.attrs["uid"], rep.attrs["process"]) == (None, None, "node")
    # a kill line cut short
    rep, kill = run(kl(REPORT + ["Memory cgroup out of memory: Killed process 812 (node) total-vm:1116048kB, anon-rss:12"]))
    assert (kill.attrs["pid"], kill.attrs["total_vm_bytes"], kill.attrs["anon_rss_bytes"]) == (812, 1116048 * K, None)
    assert kill.attrs["unit"] == "nest-api.service"


def test_interleaved_kernel_lines_are_folded_and_counted():
    ufw = "[UFW BLOCK] IN=eth0 OUT= MAC=f2:3c SRC=45.134.26.57 DST=72.14.187.238 LEN=40 PROTO=TCP SPT=44209 DPT=23758"
    ext4 = "EXT4-fs (sda1): re-mounted. Opts: errors=remount-ro"
    texts = REPORT[:4] + [ufw] + REPORT[4:12] + [ext4, "usb 1-1: USB disconnect, device number 2"] + REPORT[12:] + [ufw, KILL]
    rep, kill = run(kl(texts))
    assert rep.attrs["interleaved_lines"] == 4
    assert rep.keys == list(range(1, len(texts)))  # everything up to the kill
    assert (kill.keys, kill.attrs["unit"], kill.attrs["invoker_pid"]) == ([len(texts)], "nest-api.service", 812)


def test_two_ooms_within_one_second():
    second = [t.replace("nest-api", "queue-worker").replace("812", "913").replace("node", "worker")
              for t in REPORT + [KILL]]
    texts = REPORT + [KILL] + second
    ts = [1_700_000_000_000_000 + i * 1000 for i in range(len(texts))]  # all within 34 ms
    groups = run(kl(texts, ts))
    assert kinds(groups) == ["oom_invoked", "oom_kill", "oom_invoked", "oom_kill"]
    k1, k2 = groups[1].attrs, groups[3].attrs
    assert (k1["pid"], k1["unit"], k1["invoker"], k1["report_line"]) == (812, "nest-api.service", "node", 1)
    assert (k2["pid"], k2["unit"], k2["invoker"], k2["report_line"]) == (913, "queue-worker.service", "worker", 18)
    assert groups[2].keys == list(range(18, 34)) and groups[3].keys == [34]


def test_new_trigger_closes_the_report_before():
    groups = run(kl(REPORT[:6] + REPORT + [KILL]))
    assert kinds(groups) == ["oom_invoked", "oom_invoked", "oom_kill"]
    assert groups[0].keys == [1, 2, 3, 4, 5, 6] and groups[0].attrs["complete"] is False
    assert groups[2].attrs["report_line"] == 7


def test_garbage_inside_a_report():
    texts = REPORT[:8] + ["\x00\x00\ufffd\ufffd", "", "]]][[[", "[", "[  pid", "oom-kill:", "CPU: x",
                          "memory: usage", "Killed process", "Out of memory: Kill process x"] + REPORT[8:15] + [
        "[    999]  1000   999   279012    41074",               # cut short
        "[    998]  1000   998   27x012    41074   716800        0             0 odd",  # not a number
        "[    997]  1000   997   279012    41074   716800        0             0 Web Content",
    ] + REPORT[15:] + [KILL]
    rep, kill = run(kl(texts))
    a = rep.attrs
    assert a["bad_task_rows"] == 2 and a["ntasks"] == 2
    assert rep.tasks[1]["name"] == "Web Content" and rep.tasks[1]["pid"] == 997
    assert a["interleaved_lines"] == 9  # all but "CPU: x", which looks like a report's CPU line
    assert rep.keys == list(range(1, len(texts))) and kill.keys == [len(texts)]
    assert (a["invoker_pid"], a["constraint"]) == (812, "CONSTRAINT_MEMCG")


def test_report_without_kill_ends_after_three_strange_lines():
    other = ["e1000e: eth0 NIC Link is Up", "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready",
             "audit: type=1400 apparmor=\"STATUS\""]
    [rep] = run(kl(REPORT + other + [KILL.replace("Killed", "Killing")]))
    assert rep.keys == list(range(1, 17)) and rep.attrs["complete"] is False
    # two strange lines, then a line of the report again: they are folded in
    rep, = run(kl(REPORT + other[:2] + [ROW.replace("812", "813")] + other))
    assert rep.keys == list(range(1, 20)) and rep.attrs["interleaved_lines"] == 2 and rep.attrs["ntasks"] == 2
    # before the task table and the summary, strange lines do not end it
    rep, kill = run(kl(REPORT[:8] + other * 3 + REPORT[8:] + [KILL]))
    assert rep.attrs["interleaved_lines"] == 9 and kill.attrs["report_line"] == 1


def test_report_head_then_the_log_goes_on():
    # a cut-off head followed by much ordinary log does not swallow it, nor a much later kill
    texts = REPORT[:5] + ["random kernel line %d" % i for i in range(oom.STRAY_LIMIT_OPEN)] + [KILL]
    rep, kill = run(kl(texts))
    assert rep.keys == [1, 2, 3, 4, 5] and rep.attrs["complete"] is False
    assert "invoker" not in kill.attrs and kill.attrs["global_oom"] is False
    # the same with times: a line more than a minute after the report's last one ends it
    t0 = 1_700_000_000_000_000
    rep, kill = run(kl(REPORT[:5] + ["eth0: link up", KILL], [t0] * 5 + [t0 + 61_000_000] * 2))
    assert rep.keys == [1, 2, 3, 4, 5] and "invoker" not in kill.attrs


def test_kill_without_report_and_old_forms():
    [k] = run(kl(["Out of memory: Killed process 517 (clamd) total-vm:2361456kB, anon-rss:1689296kB, "
                  "file-rss:0kB, shmem-rss:0kB, UID:111 pgtables:4292kB oom_score_adj:0"]))
    assert (k.attrs["pid"], k.attrs["global_oom"], k.attrs["uid"]) == (517, True, 111)
    assert "report_line" not in k.attrs
    # the pre-5.1 pair, 4.x form
    [k] = run(kl(["Out of memory: Kill process 1234 (mysqld) score 912 or sacrifice child",
                  "Killed process 1234 (mysqld) total-vm:3061516kB, anon-rss:15524kB, file-rss:0kB, shmem-rss:0kB"]))
    assert (k.keys, k.attrs["score"], k.attrs["pid"], k.attrs["shmem_rss_bytes"]) == ([1, 2], 912, 1234, 0)
    # an announce whose Killed line never came
    [k] = run(kl(["Memory cgroup out of memory: Kill process 24572 (java) score 0 or sacrifice child", "eth0: up"]))
    assert (k.keys, k.attrs["pid"], k.attrs["process"], k.attrs["anon_rss_bytes"]) == ([1], 24572, "java", None)
    # lines that only look like kills
    assert run(kl(["Killed process 5 (x)", "Kill process 5 (x) sharing same memory", "Killing interrupt handler"])) == []


def test_old_trigger_forms():
    forms = {
        "mysqld invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=0, oom_score_adj=0": ("mysqld", "0x201da", None, 0, 0),
        "java invoked oom-killer: gfp_mask=0x24201ca(GFP_HIGHUSER_MOVABLE|__GFP_COLD), nodemask=0, order=0, oom_score_adj=0":
            ("java", "0x24201ca", "0", 0, 0),
        "Web Content invoked oom-killer: gfp_mask=0x6200ca(GFP_HIGHUSER_MOVABLE), nodemask=(null), order=3, oom_score_adj=-17":
            ("Web Content", "0x6200ca", "(null)", 3, -17),
    }
    for text, (invoker, gfp, nodemask, order, adj) in forms.items():
        [rep] = run(kl([text, "Pid: 4721, comm: mysqld Not tainted 2.6.32-431.el6.x86_64 #1"]))
        a = rep.attrs
        assert (a["invoker"], a["gfp_mask"], a.get("nodemask"), a["order"], a["oom_score_adj"]) == (
            invoker, gfp, nodemask, order, adj)
        assert (a["invoker_pid"], a["kernel"], rep.keys) == (4721, "2.6.32-431.el6.x86_64", [1, 2])
    [rep] = run(kl(["mysqld invoked oom-killer: gfp_mask=0x201da, order=0, oom_adj=-17, oom_score_adj=-1000"]))
    assert rep.attrs["oom_adj"] == -17


def test_old_memcg_task_in_line():
    texts = [TRIGGER, CPU, "Task in /system.slice/php-fpm.service killed as a result of limit of /system.slice",
             "memory: usage 524288kB, limit 524288kB, failcnt 7", HEADER, ROW,
             "Memory cgroup out of memory: Kill process 812 (php-fpm) score 998 or sacrifice child",
             "Killed process 812 (php-fpm) total-vm:1024kB, anon-rss:512kB, file-rss:0kB, shmem-rss:0kB"]
    rep, kill = run(kl(texts))
    k = kill.attrs
    assert (k["task_memcg"], k["oom_memcg"], k["unit"], k["global_oom"]) == (
        "/system.slice/php-fpm.service", "/system.slice", "php-fpm.service", False)
    assert (k["limit_bytes"], k["failcnt"], k["score"], kill.keys) == (524288 * K, 7, 998, [7, 8])


def test_reaper_only_right_after_its_kill():
    reaper = "oom_reaper: reaped process 812 (node), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB"
    rep, kill = run(kl(REPORT + [KILL, "eth0: up", reaper]))
    assert kill.keys == [17] and "reaped" not in kill.attrs
    rep, kill = run(kl(REPORT + [KILL, reaper.replace("812", "813")]))
    assert kill.keys == [17]
    rep, kill = run(kl(REPORT + [KILL, reaper]))
    assert kill.keys == [17, 18] and kill.attrs["reaped"] is True


def test_memory_oom_group_kills_share_the_report():
    member = KILL.replace("812", "814")
    groups = run(kl(REPORT + [KILL, "Tasks in /system.slice/nest-api.service are going to be killed due to "
                              "memory.oom.group set", member, "eth0: up", KILL.replace("812", "815")]))
    assert kinds(groups) == ["oom_invoked", "oom_kill", "oom_kill", "oom_kill"]
    assert groups[1].keys == [17, 18]
    assert (groups[2].attrs["pid"], groups[2].attrs["invoker"], groups[2].attrs["oom_group_member"]) == (
        814, "node", True)
    assert "invoker" not in groups[3].attrs  # a kill after an ordinary line is on its own


def test_unit_of():
    assert unit_of("/system.slice/nest-api.service") == "nest-api.service"
    assert unit_of("/user.slice/user-1000.slice/user@1000.service/app.slice/app-gnome-firefox-1234.scope") == \
        "app-gnome-firefox-1234.scope"
    assert unit_of("/system.slice/nest-api.service/worker") == "nest-api.service"
    assert unit_of("/") is None and unit_of(None) is None


def test_never_raises():
    odd = [KLine(1, 1, 1, None, None), KLine(2, 2, 2, "x", TRIGGER), KLine(3, 3, 3, None, 12345),
           KLine(4, 4, 4, None, "[" * 10000), KLine(5, 5, 5, None, "oom-kill:" + "," * 5000),
           # long lines that once sent the regular expressions into backtracking for minutes
           KLine(6, 6, 6, None, "oom-kill:constraint=X,nodemask=" + ",cpuset=,mems_allowed=,oom_memcg=,task=" * 300),
           KLine(7, 7, 7, None, "0123456789abcdef " * 2000 + "z")]
    list(assemble(odd))
    list(assemble([KLine(1, 1, 1, "x", TRIGGER), KLine(2, 2, 2, 10**15, "eth0: up"), KLine(3, 3, 3, 2.5, KILL)]))
    assert list(assemble([])) == []
    pool = REPORT + [KILL, "oom_reaper: reaped process 812 (node), now anon-rss:0kB",
                     "Out of memory: Kill process 3 (a) score 1 or sacrifice child", "Killed process 3 (a) total-vm:1kB",
                     "Tasks in / are going to be killed due to memory.oom.group set", "eth0: up", ""]
    for seed in range(300):
        rnd = random.Random(seed)
        texts = [rnd.choice(pool) for _ in range(rnd.randrange(1, 60))]
        texts = [t[:rnd.randrange(len(t) + 1)] if rnd.random() < 0.3 else t for t in texts]
        ts = [rnd.choice([None, 1_700_000_000_000_000 + rnd.randrange(10**9)]) for _ in texts]
        lines = kl(texts, ts)
        check_partition(lines, list(assemble(lines)))


def test_3x_stack_frames_belong_to_the_report(tmp_path):
    # CentOS 7 (3.10) prints its call trace as "[<ffffffff8f5835a9>] dump_stack+0x19/0x1b"; those lines are
    # the report's own, and another kernel message printed inside it is the one interleaved line
    head = ["node invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
            "CPU: 1 PID: 2431 Comm: node Kdump: loaded Not tainted 3.10.0-1160.15.2.el7.x86_64 #1",
            "Call Trace:",
            " [<ffffffff8f5835a9>] dump_stack+0x19/0x1b",
            " [<ffffffff8f57e648>] dump_header+0x90/0x229",
            " [<ffffffff8efc254d>] oom_kill_process+0x2cd/0x490"]
    tail = ["Out of memory: Kill process 2431 (node) score 791 or sacrifice child",
            "Killed process 2431 (node) total-vm:3393620kB, anon-rss:1645052kB, file-rss:0kB, shmem-rss:0kB"]
    def messages(foreign=False):
        out = [f"Mar  9 14:02:11 legacy kernel: {l}" for l in head]
        if foreign:
            out.append("Mar  9 14:02:11 legacy kernel: IPv4: martian source 10.0.0.255 from 10.0.0.7, on dev eth0")
        out += [f"Mar  9 14:02:11 legacy kernel: {l}" for l in tail]
        return "\n".join(out) + "\n"
    for foreign, want in ((False, 0), (True, 1)):
        d = tmp_path / f"f{int(foreign)}" / "legacy" / "var" / "log"
        d.mkdir(parents=True)
        (d / "messages").write_text(messages(foreign))
        con, _ = ingest(tmp_path / f"f{int(foreign)}", tmp_path / f"f{int(foreign)}", year=2021, tz="UTC")
        assert con.execute("SELECT TRY_CAST(attrs->>'interleaved_lines' AS INT) FROM events "
                           "WHERE kind = 'oom_invoked'").fetchall() == [(want,)]
        con.close()
