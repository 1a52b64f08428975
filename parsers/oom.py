"""The Linux kernel's OOM-killer reports, assembled from a stream of kernel messages.

The kernel prints one OOM event as dozens of separate lines: the trigger
(``node invoked oom-killer: gfp_mask=...``), the CPU line, a call trace, the
memory state (Mem-Info or the memory cgroup's counters), a task table, a
one-line summary (``oom-kill:constraint=...``) and the kill itself.
:func:`assemble` reads :class:`KLine` records (the kernel's message only: no
syslog header, no ``kernel:`` tag, no ``[ 1234.567890]`` uptime) and yields
an :class:`OomGroup` for each report (kind ``oom_invoked``: the trigger and
every line up to the kill line, with the task table in ``tasks``) and each
kill (kind ``oom_kill``: the kill line or lines, with the report's context
copied into its attrs).  Lines in no group are ordinary kernel lines.

Sizes are bytes (kB * 1024, pages * 4096) except in the task table, which
keeps the kernel's pages.  On both kinds ``pid``/``process``/``uid`` name the
victim; the task that ran into the OOM is ``invoker``/``invoker_pid``.

- report attrs: invoker, invoker_pid, gfp_mask (gfp_flags, nodemask, oom_adj
  where the trigger has them), order, oom_score_adj (the invoker's), kernel,
  constraint, global_oom, cpuset, mems_allowed, oom_memcg, task_memcg, unit,
  usage_bytes/limit_bytes/failcnt (``memory:``), swap_*, memsw_* (``memory+swap:``),
  kmem_* where printed, free_swap_bytes/total_swap_bytes/ram_bytes (global
  Mem-Info), pid/process/uid (victim, from the summary), complete,
  interleaved_lines, ntasks, bad_task_rows.
- kill attrs: pid, process, uid, total_vm_bytes, anon_rss_bytes,
  file_rss_bytes, shmem_rss_bytes, pgtables_bytes, oom_score_adj (the
  victim's); score, selected_pid/selected_process (old "Kill process ... score
  S or sacrifice child"); reaped; global_oom (from "Memory cgroup out of
  memory" / "Out of memory" when no report says); and, when a report came
  before, its invoker, invoker_pid, gfp_mask, order, constraint, global_oom,
  oom_memcg, task_memcg, unit, cpuset, mems_allowed, limit_bytes, usage_bytes,
  failcnt, swap_usage_bytes, swap_limit_bytes, kernel, report_line, complete.
- task rows: pid, uid, tgid, total_vm_pages, rss_pages, rss_anon_pages,
  rss_file_pages, rss_shmem_pages, pgtables_bytes, nr_ptes, swapents,
  oom_score_adj, name (None where the header has no such column).

>>> text = '''node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
... CPU: 1 UID: 0 PID: 812 Comm: node Not tainted 6.18.44 #1 PREEMPT(none)
... Call Trace:
...  out_of_memory+0x214/0x500
... memory: usage 131072kB, limit 131072kB, failcnt 310
... Tasks state (memory values in pages):
... [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
... [    812]  1000   812   279012    41074   716800        0             0 node
... oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/system.slice/nest-api.service,task_memcg=/system.slice/nest-api.service,task=node,pid=812,uid=1000
... Memory cgroup out of memory: Killed process 812 (node) total-vm:1116048kB, anon-rss:129908kB, file-rss:34388kB, shmem-rss:0kB, UID:1000 pgtables:700kB oom_score_adj:0
... oom_reaper: reaped process 812 (node), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
... usb 1-1: new high-speed USB device number 2 using ehci-pci'''
>>> lines = [KLine(n, n, n, None, t) for n, t in enumerate(text.splitlines(), 1)]
>>> report, kill = assemble(lines)
>>> report.kind, report.keys, report.attrs['invoker'], report.attrs['limit_bytes'], report.attrs['complete']
('oom_invoked', [1, 2, 3, 4, 5, 6, 7, 8, 9], 'node', 134217728, True)
>>> report.tasks[0]['name'], report.tasks[0]['rss_pages'], report.tasks[0]['nr_ptes']
('node', 41074, None)
>>> kill.kind, kill.keys, kill.attrs['pid'], kill.attrs['unit'], kill.attrs['anon_rss_bytes']
('oom_kill', [10, 11], 812, 'nest-api.service', 133025792)
>>> kill.attrs['invoker_pid'], kill.attrs['constraint'], kill.attrs['global_oom'], kill.attrs['kernel']
(812, 'CONSTRAINT_MEMCG', False, '6.18.44')

A kill line on its own (a grep excerpt, CentOS 6's one-line form) is still a kill:

>>> [g] = assemble([KLine('k', 7, 7, None, "Killed process 11726, UID 498, (mysqld) total-vm:7823732kB, anon-rss:2539268kB, file-rss:768kB")])
>>> g.kind, g.attrs['pid'], g.attrs['process'], g.attrs['uid'], g.attrs['file_rss_bytes']
('oom_kill', 11726, 'mysqld', 498, 786432)
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, NamedTuple

KB = 1024
PAGE = 4096

# A report with no kill line ends once this many unrecognised lines follow in a
# row after its summary line or task table (they are not folded in) ...
STRAY_LIMIT_AFTER_TABLE = 3
# ... and, before that point, once this many follow in a row (a report head cut
# off, then the ordinary log goes on), or once an unrecognised line (or a kill)
# comes more than STRAY_GAP_US after the report's last line (when both have times).
STRAY_LIMIT_OPEN = 100
STRAY_GAP_US = 60_000_000


class KLine(NamedTuple):
    key: object          # opaque id of the input row (returned in OomGroup.keys)
    line: int            # first line in the file
    line_end: int        # last line in the file
    ts_us: int | None    # microseconds since epoch UTC, or None
    text: str            # the kernel message only


class OomGroup(NamedTuple):
    kind: str            # 'oom_invoked' (a report) or 'oom_kill' (the kill)
    keys: list           # keys of the input lines folded into this event, in order
    attrs: dict
    tasks: list          # task-table rows (on the 'oom_invoked' group only)


# --- the lines -------------------------------------------------------------

_TRIGGER_WORDS = "invoked oom-killer"
_GFP = re.compile(r"gfp_mask=(0x[0-9a-fA-F]+)(?:\(([^)]*)\))?")
_NODEMASK = re.compile(r"nodemask=(\(null\)|[^,\s]*)")
_ORDER = re.compile(r"\border=(-?\d+)")
_SCORE_ADJ = re.compile(r"\boom_score_adj=(-?\d+)")
_OOM_ADJ = re.compile(r"\b(?:oom_adj|oomkilladj)=(-?\d+)")

_KILL = re.compile(
    r"(?P<prefix>(?:Memory cgroup out of memory|Out of memory(?: \(oom_kill_allocating_task\))?): )?"
    r"(?P<verb>Killed|Kill) process (?P<pid>\d+)(?:, UID (?P<uid>\d+),)? "
    r"\((?P<proc>.*?)\)(?P<rest>(?:,? UID\b| total-vm:| score | sharing same memory|,|\.?$).*)")
_TOTAL_VM = re.compile(r"total-vm:(\d+)kB")
_ANON = re.compile(r"anon-rss:(\d+)kB")
_FILE = re.compile(r"file-rss:(\d+)kB")
_SHMEM = re.compile(r"shmem-rss:(\d+)kB")
_UID = re.compile(r"\bUID[: ](\d+)")
_PGTABLES = re.compile(r"pgtables:(\d+)kB")
_SCORE = re.compile(r" score (\d+)")
_VICTIM_ADJ = re.compile(r"oom_score_adj:(-?\d+)")
_REAPER = re.compile(r"oom_reaper: reaped process (\d+) \(")
_OOM_GROUP = re.compile(r"Tasks in \S+ are going to be killed due to memory\.oom\.group set")

_CPU = re.compile(
    r"CPU: (?P<cpu>\d+) (?:UID: \d+ )?PID: (?P<pid>\d+) Comm: (?P<comm>.*?) (?:Not tainted|Tainted: .*?) "
    r"(?P<rel>\S+)(?: #|\s*$)")
_PID_OLD = re.compile(  # 2.6.32: Pid: 12345, comm: mysqld Not tainted 2.6.32-431.el6.x86_64 #1
    r"Pid: (?P<pid>\d+), comm: (?P<comm>.*?) (?:Not tainted|Tainted: .*?) (?P<rel>\S+)(?: #|\s*$)")
_CPUSET = re.compile(r"(?P<comm>.*?) cpuset=(?P<cpuset>\S*) mems_allowed=(?P<mems>\S*)\s*$")
_USAGE = re.compile(
    r"(?P<what>memory|memory\+swap|swap|kmem|tcpmem): usage (?P<usage>\d+)kB, limit (?P<limit>\d+)kB, "
    r"failcnt (?P<failcnt>\d+)")
_TASK_IN = re.compile(r"Task in (?P<task>\S+) killed as a result of limit of (?P<limit>\S+)")
# the summary's fields, in the order the kernel prints them; a value runs to the next one
# (nodemask and mems_allowed are lists like 0-1,3 and may hold commas)
_SUMMARY_KEY = re.compile(
    r"(?:^|,)(constraint|nodemask|cpuset|mems_allowed|oom_memcg|task_memcg|task|pid|uid)=|,(global_oom)(?=,|$)")
_SWAP = re.compile(r"(Free|Total) swap\s*=\s*(\d+)kB")
_RAM = re.compile(r"(\d+) pages RAM")
_TASK_ROW = re.compile(r"\[\s*(\d+)\]\s+(.*)")
_TASK_HEADER = re.compile(r"\[\s*pid\s*\]\s+(.*\S)")

# Lines of a report that carry no field we keep: recognised so that they do
# not count as interleaved, and so that they keep a report open.
_BODY = re.compile("|".join([
    r"Hardware name: ",
    r"Call [Tt]race:",
    r"\s*</?(?:TASK|IRQ|NMI|EOI|SOFTIRQ)>",
    r"\s*(?:\? )?[\w.$]+\+0x[0-9a-f]+/0x[0-9a-f]+",          # stack frame
    r"\s*\[<[0-9a-f]+>\]",                                     # 3.x stack frame
    r"\s*[0-9a-f]{8,16}(?:\s+[0-9a-f]{8,16})*\s*$",             # 3.x raw stack words
    r"\s*(?:[A-Z][A-Z0-9]{1,3}|Code):\s+(?:[0-9a-f]{2}|Unable)",  # registers, Code:
    r"\s*(?:pc|lr|sp)\s*: ", r"\s*x\d+\s*: [0-9a-f]", r"pstate: ",  # arm64 registers
    r"Workqueue: ", r"Modules linked in:",
    r"Mem-Info:",
    r"\s*[a-z_]+:\s?\d+(?:kB)?(?:\s|$)",                       # active_anon:69704 inactive_anon:...
    r"Node \d+ ", r"lowmem_reserve\[\]:", r"CPU\s+\d+: hi:",
    r"\d+ total pagecache pages", r"\d+ pages ", r"Swap cache stats:", r"(?:Free|Total) swap\s*=",
    r"Unreclaimable slab info:", r"Name\s+Used\s+Total", r"\S+\s+\d+KB\s+\d+KB\s*$",
    r"Tasks state \(memory values in pages\):",
    r"Memory cgroup stats", r"[a-z_]+ \d+\s*$",               # memory.stat, one value a line
    r"Memory cgroup out of memory\b", r"Out of memory and no killable processes",
    r"Tasks in \S+ are going to be killed",
]))

# task-table header name -> row key
_COLUMNS = {
    "uid": "uid", "tgid": "tgid", "total_vm": "total_vm_pages", "rss": "rss_pages",
    "rss_anon": "rss_anon_pages", "rss_file": "rss_file_pages", "rss_shmem": "rss_shmem_pages",
    "pgtables_bytes": "pgtables_bytes", "nr_ptes": "nr_ptes", "swapents": "swapents",
    "oom_score_adj": "oom_score_adj",
}
_ROW_KEYS = ("pid", "uid", "tgid", "total_vm_pages", "rss_pages", "rss_anon_pages", "rss_file_pages",
             "rss_shmem_pages", "pgtables_bytes", "nr_ptes", "swapents", "oom_score_adj", "name")

# report attrs a kill takes over from its report
_FROM_REPORT = ("invoker", "invoker_pid", "gfp_mask", "order", "constraint", "global_oom", "oom_memcg",
                "task_memcg", "unit", "cpuset", "mems_allowed", "limit_bytes", "usage_bytes", "failcnt",
                "swap_usage_bytes", "swap_limit_bytes", "kernel", "report_line", "complete")


def unit_of(cgroup: str | None) -> str | None:
    """The systemd unit a cgroup path names: its deepest ``.service`` or ``.scope``.

    >>> unit_of('/system.slice/nest-api.service'), unit_of('/user.slice/user-1000.slice/session-3.scope')
    ('nest-api.service', 'session-3.scope')
    >>> unit_of('/kubepods/pod1/abc') is None
    True
    """
    if not cgroup:
        return None
    for part in reversed(cgroup.split("/")):
        if part.endswith((".service", ".scope")):
            return part
    return None


def _kb(m: re.Match | None) -> int | None:
    return int(m.group(1)) * KB if m else None


def _int(m: re.Match | None) -> int | None:
    return int(m.group(1)) if m else None


def _kill_kind(text: str) -> tuple[str, re.Match] | None:
    """('killed' | 'announce', match) for a line that starts a kill, else None."""
    m = _KILL.match(text)
    if not m:
        return None
    if m.group("verb") == "Killed":
        if m.group("prefix") or "total-vm:" in m.group("rest"):
            return "killed", m
        return None
    if m.group("prefix") and (" score " in m.group("rest") or "sacrifice" in m.group("rest")):
        return "announce", m
    return None


def _victim(attrs: dict, m: re.Match) -> None:
    """The victim's fields from a 'Killed process' line."""
    rest = m.group("rest")
    attrs["pid"] = int(m.group("pid"))
    attrs["process"] = m.group("proc")
    uid = m.group("uid")
    attrs["uid"] = int(uid) if uid else _int(_UID.search(rest))
    attrs["total_vm_bytes"] = _kb(_TOTAL_VM.search(rest))
    attrs["anon_rss_bytes"] = _kb(_ANON.search(rest))
    attrs["file_rss_bytes"] = _kb(_FILE.search(rest))
    attrs["shmem_rss_bytes"] = _kb(_SHMEM.search(rest))
    attrs["pgtables_bytes"] = _kb(_PGTABLES.search(rest))
    attrs["oom_score_adj"] = _int(_VICTIM_ADJ.search(rest))


# --- the builders ----------------------------------------------------------

class _Report:
    __slots__ = ("keys", "attrs", "tasks", "cols", "anchored", "pending", "last_ts", "first_line", "bad",
                 "interleaved")

    def __init__(self, kl: KLine, text: str):
        self.keys = [kl.key]
        self.tasks: list[dict] = []
        self.cols: list[str] | None = None
        self.anchored = False          # summary line or task table seen
        self.pending: list[KLine] = []  # unrecognised lines not yet folded in
        self.last_ts = kl.ts_us
        self.first_line = kl.line
        i = text.find(_TRIGGER_WORDS)
        rest = text[i + len(_TRIGGER_WORDS):]
        a: dict = {"invoker": text[:i].rstrip() or None, "invoker_pid": None}
        g = _GFP.search(rest)
        a["gfp_mask"] = g.group(1) if g else None
        if g and g.group(2):
            a["gfp_flags"] = g.group(2)
        n = _NODEMASK.search(rest)
        if n:
            a["nodemask"] = n.group(1)
        a["order"] = _int(_ORDER.search(rest))
        a["oom_score_adj"] = _int(_SCORE_ADJ.search(rest))
        adj = _OOM_ADJ.search(rest)
        if adj:
            a["oom_adj"] = int(adj.group(1))
        a.update(constraint=None, global_oom=None, oom_memcg=None, task_memcg=None, unit=None, cpuset=None,
                 mems_allowed=None, limit_bytes=None, usage_bytes=None, failcnt=None, kernel=None,
                 pid=None, process=None, uid=None)
        self.attrs = a
        self.bad = 0
        self.interleaved = 0

    def fold_pending(self) -> None:
        if self.pending:
            self.keys.extend(k.key for k in self.pending)
            self.interleaved += len(self.pending)
            self.pending = []

    def feed(self, kl: KLine, text: str) -> bool:
        """Take one more line; False when the report has ended before it (the line is not taken)."""
        try:
            known = self._read(text)
        except Exception:  # never raise on odd input: an unreadable line is an unrecognised one
            known = False
        if known:
            self.fold_pending()
            self.keys.append(kl.key)
            if kl.ts_us is not None:
                self.last_ts = kl.ts_us
            return True
        if kl.ts_us is not None and self.last_ts is not None and kl.ts_us - self.last_ts > STRAY_GAP_US:
            return False
        self.pending.append(kl)
        limit = STRAY_LIMIT_AFTER_TABLE if self.anchored else STRAY_LIMIT_OPEN
        return len(self.pending) < limit

    def _read(self, text: str) -> bool:
        """Whether a line belongs to a report; keeps the fields it carries."""
        a = self.attrs
        c = text[:1]
        if c == "[":
            m = _TASK_ROW.match(text)
            if m:
                self._row(int(m.group(1)), m.group(2))
                return True
            m = _TASK_HEADER.match(text)
            if m:
                names = m.group(1).split()
                self.cols = names if names and names[-1] == "name" else None
                self.anchored = True
                return True
            return text.startswith("[<")      # a 3.x stack frame: "[<ffffffff8f5835a9>] dump_stack+0x19/0x1b"
        if c == "o" and text.startswith("oom-kill:constraint="):
            self._summary(text)
            self.anchored = True
            return True
        if c == "C" and text.startswith("CPU: "):
            m = _CPU.match(text)
            if m and a["invoker_pid"] is None:
                a["invoker_pid"] = int(m.group("pid"))
                a["kernel"] = m.group("rel")
            return True
        if c == "P" and text.startswith("Pid: "):
            m = _PID_OLD.match(text)
            if m and a["invoker_pid"] is None:
                a["invoker_pid"] = int(m.group("pid"))
                a["kernel"] = m.group("rel")
                return True
        if "usage" in text:
            m = _USAGE.match(text)
            if m:
                what = m.group("what")
                key = {"memory": "", "memory+swap": "memsw_", "swap": "swap_", "kmem": "kmem_",
                       "tcpmem": "tcpmem_"}[what]
                if key + "usage_bytes" not in a or a[key + "usage_bytes"] is None:
                    a[key + "usage_bytes"] = int(m.group("usage")) * KB
                    a[key + "limit_bytes"] = int(m.group("limit")) * KB
                    a[key + "failcnt"] = int(m.group("failcnt"))
                if a["global_oom"] is None:
                    a["global_oom"] = False
                return True
        if c == "T" and text.startswith("Task in "):
            m = _TASK_IN.match(text)
            if m:
                a["task_memcg"] = a["task_memcg"] or m.group("task")
                a["oom_memcg"] = a["oom_memcg"] or m.group("limit")
                a["global_oom"] = False
                return True
        if " cpuset=" in text:
            m = _CPUSET.match(text)
            if m:
                a["cpuset"] = a["cpuset"] or m.group("cpuset")
                a["mems_allowed"] = a["mems_allowed"] or m.group("mems")
                return True
        if " swap" in text:
            m = _SWAP.match(text)
            if m:
                a["free_swap_bytes" if m.group(1) == "Free" else "total_swap_bytes"] = int(m.group(2)) * KB
                return True
        if "pages RAM" in text:
            m = _RAM.match(text)
            if m:
                a["ram_bytes"] = int(m.group(1)) * PAGE
                return True
        return _BODY.match(text) is not None

    def _row(self, pid: int, rest: str) -> None:
        cols = self.cols
        if cols is None:  # a row without a header we could read: its layout is unknown
            self.bad += 1
            return
        nnum = len(cols) - 1
        parts = rest.split(None, nnum)
        if len(parts) != nnum + 1:
            self.bad += 1
            return
        row = dict.fromkeys(_ROW_KEYS)
        row["pid"] = pid
        try:
            for name, value in zip(cols, parts):
                if name in _COLUMNS:
                    row[_COLUMNS[name]] = int(value)
                elif name != "name":
                    int(value)  # a column we do not keep must still be a number
        except ValueError:
            self.bad += 1
            return
        row["name"] = parts[-1].rstrip()
        self.tasks.append(row)

    def _summary(self, text: str) -> None:
        a = self.attrs
        body = text[len("oom-kill:"):].rstrip()
        marks = list(_SUMMARY_KEY.finditer(body))
        for i, m in enumerate(marks):
            if m.group(2):
                a["global_oom"] = True
                continue
            key = m.group(1)
            if i + 1 < len(marks):
                value = body[m.end():marks[i + 1].start()]
            elif key == "uid":  # the line's last field: whole unless the line was cut inside the number
                value = body[m.end():]
            else:
                continue  # the line was cut inside or after this field
            if key in ("pid", "uid"):
                if not value.isdigit():
                    continue
                value = int(value)
            elif key == "task":
                key = "process"
            if value != "":
                a[key] = value
        if a["oom_memcg"] and a["global_oom"] is None:
            a["global_oom"] = False

    def group(self, complete: bool, kill_prefix: str | None = None) -> OomGroup:
        a = self.attrs
        if a["global_oom"] is None and kill_prefix:
            a["global_oom"] = not kill_prefix.startswith("Memory cgroup")
        if a["global_oom"] is None and a["constraint"] == "CONSTRAINT_MEMCG":
            a["global_oom"] = False
        a["unit"] = unit_of(a["task_memcg"])
        a["complete"] = complete
        a["interleaved_lines"] = self.interleaved
        a["ntasks"] = len(self.tasks)
        a["bad_task_rows"] = self.bad
        return OomGroup("oom_invoked", self.keys, a, self.tasks)


class _Kill:
    __slots__ = ("keys", "attrs", "await_killed", "reaper_ok", "report", "group_set")

    def __init__(self, kl: KLine, kind: str, m: re.Match, report: dict | None, group_member: bool = False):
        self.keys = [kl.key]
        self.report = report
        self.group_set = group_member  # memory.oom.group: the kills that follow share the report
        a: dict = {}
        prefix = m.group("prefix")
        if kind == "killed":
            _victim(a, m)
        else:
            rest = m.group("rest")
            a.update(pid=int(m.group("pid")), process=m.group("proc"), uid=None, total_vm_bytes=None,
                     anon_rss_bytes=None, file_rss_bytes=None, shmem_rss_bytes=None, pgtables_bytes=None,
                     oom_score_adj=None)
            a["score"] = _int(_SCORE.search(rest))
            a["selected_pid"], a["selected_process"] = a["pid"], a["process"]
        if report is not None:
            for k in _FROM_REPORT:
                a[k] = report.get(k)
        if prefix and a.get("global_oom") is None:
            a["global_oom"] = not prefix.startswith("Memory cgroup")
        if group_member:
            a["oom_group_member"] = True
        self.attrs = a
        self.await_killed = kind == "announce"
        self.reaper_ok = kind == "killed"

    def take(self, kl: KLine, text: str) -> bool:
        """Whether this line continues the kill (the 'Killed process' after 'Kill process', the reaper)."""
        a = self.attrs
        if self.await_killed:
            self.await_killed = False
            if "Killed process" in text:
                k = _kill_kind(text)
                if k and k[0] == "killed":
                    _victim(a, k[1])
                    self.keys.append(kl.key)
                    self.reaper_ok = True
                    return True
        if self.reaper_ok and text.startswith("oom_reaper: reaped process"):
            self.reaper_ok = False
            m = _REAPER.match(text)
            if m and int(m.group(1)) == a.get("pid"):
                a["reaped"] = True
                self.keys.append(kl.key)
                return True
            return False
        if text.startswith("Kill process ") and "sharing same memory" in text:
            self.keys.append(kl.key)
            return True
        if text.startswith("Tasks in ") and _OOM_GROUP.match(text):
            self.keys.append(kl.key)
            self.group_set = True
            return True
        self.reaper_ok = False
        return False

    def group(self) -> OomGroup:
        return OomGroup("oom_kill", self.keys, self.attrs, [])


# --- the stream ------------------------------------------------------------

def assemble(lines: Iterable[KLine]) -> Iterator[OomGroup]:
    """Yields a group for every OOM report and every kill found; input lines in no group are ordinary kernel lines.

    Groups come in the order of their first line.  Never raises on odd input.
    """
    rep: _Report | None = None
    kill: _Kill | None = None
    for kl in lines:
        text = kl.text
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        if kl.ts_us is not None and type(kl.ts_us) is not int:
            kl = kl._replace(ts_us=None)  # only a number of microseconds is a time
        follows, source = False, None
        if kill is not None:
            if kill.take(kl, text):
                continue
            if kill.group_set:  # memory.oom.group: the kills right after this one share its report
                follows, source = True, kill.report
            yield kill.group()
            kill = None
        if _TRIGGER_WORDS in text:
            if rep is not None:
                rep.fold_pending()
                yield rep.group(False)
            rep = _Report(kl, text)
            continue
        if "Kill" in text:
            k = _kill_kind(text)
            if k is not None:
                kind, m = k
                if rep is not None:
                    gap = (kl.ts_us is not None and rep.last_ts is not None
                           and kl.ts_us - rep.last_ts > STRAY_GAP_US)
                    if gap:
                        yield rep.group(False)
                    else:
                        rep.fold_pending()
                        g = rep.group(True, m.group("prefix"))
                        source = dict(g.attrs, report_line=rep.first_line)
                        yield g
                    rep = None
                kill = _Kill(kl, kind, m, source, follows)
                continue
        if rep is not None and not rep.feed(kl, text):
            yield rep.group(False)
            rep = None
    if kill is not None:
        yield kill.group()
    if rep is not None:
        rep.fold_pending()
        yield rep.group(False)
