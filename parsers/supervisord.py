"""supervisor's main log (``supervisord.log``), one event per record.

Each record is ``2026-11-22 19:59:04,735 WARN exited: api (terminated by SIGKILL;
not expected)``: the host's local time (``time.localtime``) with a comma before
the milliseconds and no zone, so it is read in the file's zone (``--tz``, the
bundle's, else UTC) and is ``zone_assumed``; then one of supervisor's level
words, which give the severity: CRIT 2, ERRO 3, WARN 4, INFO 6, DEBG, TRAC and
BLAT 7.  A line without that prefix belongs to the record before it: a
traceback supervisord logged, or (at ``loglevel=debug``) the output of a
program that supervisord copies into its log after ``'api' stdout output:``.

The messages of supervisor 3.x and 4.x (supervisor/process.py, supervisord.py,
options.py) become typed events.  ``unit`` is the program (process) name as
supervisor prints it, or ``supervisord`` for supervisord itself; a
``group:process`` name is kept whole in ``unit`` and split into ``attrs.group``
and ``attrs.process``.  ``pid`` is set where the line names one.  ``process``
is ``supervisord`` on the events about supervisord itself and on its other
lines that name no program, and empty on the events about a program (the
log does not name the program's command).  attrs, by kind:

- every event about a program: ``program`` (the name as printed), and
  ``group``/``process`` for a ``group:process`` name;
- ``service_start``: ``phase`` = ``spawned`` (``spawned: 'api' with pid 23193``:
  the process exists; ``respawn`` = true if the program was spawned before
  under the same supervisord), ``running`` (``success: api entered RUNNING
  state, ... > than 2 seconds (startsecs)``: ``startsecs``), or ``running``
  for ``supervisord started with pid 8`` (unit ``supervisord``);
- ``process_exit`` (``exited: api (terminated by SIGKILL; not expected)``):
  ``code`` = ``exited`` (with ``status``, the exit status), ``killed`` (with
  ``signal``, e.g. ``KILL``, and ``status``, its Linux number, as systemd
  gives them), ``dumped`` (a signal with ``(core dumped)``: ``core_dumped`` =
  true too) or ``unknown`` (``cause``); ``expected`` (supervisor's verdict:
  the exit code is in the program's ``exitcodes``);
- ``service_stop``: ``stopped: api (terminated by SIGTERM)`` (supervisor
  stopped it on request): ``code``, ``status``, ``signal`` as above; or
  supervisord asked to exit (``received SIGTERM indicating exit request``,
  unit ``supervisord``): ``signal`` (``TERM``, ``INT``, ``QUIT``);
- ``restart``: ``received SIGHUP indicating restart request`` (unit
  ``supervisord``, ``signal`` = ``HUP``): supervisord stops every program and
  starts again with its configuration read anew;
- ``gave_up``: ``gave up: api entered FATAL state, too many start retries too
  quickly``;
- ``memory_limit_restart``: superlance's memmon event listener restarting a
  program over its memory limit.  memmon writes ``Checking programs
  api=62914560``, ``RSS of api:api is 150597632`` and ``Restarting api:api``
  to its stderr, which reaches supervisord.log only at ``loglevel=debug``
  (``DEBG 'memmon' stderr output:``).  The ``Restarting`` line is the event:
  unit ``group:process``, ``rss_bytes`` from the RSS line before it,
  ``limit_bytes`` from the listener's last ``Checking`` line, ``listener``
  (the event listener's name);
- ``log`` (everything else): ``program``/``programs`` where it names them
  (``waiting for a, b to die``), ``signal`` and ``pid`` (``killing 'api'
  (23193) with SIGKILL``, ``killing api (pid 23193) with signal SIGTERM``;
  ``process_group`` = true when the signal went to the process group),
  ``channel`` (``stdout``/``stderr``) on a program's copied output,
  ``spawnerr`` (``spawnerr: can't find command 'x'``).

Events about a program's process (starts, exits, stops, gave_up,
memory_limit_restart) also carry ``spawned_pid``, the pid of its last
``spawned:`` line under the same supervisord, and exits and stops
``was_running`` (whether it had reached RUNNING) and ``uptime_s`` (seconds
since that spawn): the kernel's OOM kill of pid 23193 is supervisor's
``exited: api (terminated by SIGKILL ...)`` with ``spawned_pid`` 23193.

A program's own log (``stdout_logfile``, ``/var/log/supervisor/api-stdout---
supervisor-x1y2z3.log``) is the program's output as written, without times:
not this format.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, "2026-11-22 19:59:33,814 INFO spawned: 'api' with pid 23193\\n"
...     "2026-11-22 19:59:47,570 WARN exited: api (terminated by SIGKILL; not expected)\\n"
...     "2026-11-22 19:59:48,575 CRIT unknown problem killing api (23193):Traceback (most recent call last):\\n"
...     "  File \\"supervisor/process.py\\", line 444, in kill\\ngarbage\\n\\xff")
>>> [(e.kind, e.unit, e.pid, e.severity, e.line, e.line_end) for e in events]
[('service_start', 'api', 23193, 6, 1, 1), ('process_exit', 'api', None, 4, 2, 2), ('log', 'api', 23193, 2, 3, 6)]
>>> a = events[1].attrs
>>> a["code"], a["signal"], a["status"], a["expected"], a["spawned_pid"], a["uptime_s"]
('killed', 'KILL', 9, False, 23193, 13.756)
>>> events[1].ts_us, events[1].ts_quality, rejects
(1795377587570000, 'zone_assumed', [])
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

import regex

from .context import Context, text_lines, with_last
from .model import Event, Reject
from .records import first_rule
from .signals import SIGNALS

NAME = "supervisord"
DESCRIPTION = "supervisor's main log (supervisord.log): local time with ,mmm and CRIT/ERRO/WARN/INFO/DEBG levels"
SAMPLE = "2026-11-22 19:59:04,735 WARN exited: api (terminated by SIGKILL; not expected)"

SEVERITY = {"CRIT": 2, "ERRO": 3, "WARN": 4, "INFO": 6, "DEBG": 7, "TRAC": 7, "BLAT": 7}
_LEVELS = "CRIT|ERRO|WARN|INFO|DEBG|TRAC|BLAT"
# supervisor/loggers.py: '%(asctime)s %(levelname)s %(message)s\n', asctime = strftime('%Y-%m-%d %H:%M:%S') + ',%03d'
HEAD = re.compile(rf"(\d{{4}})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d),(\d{{3}}) ({_LEVELS})(?: |$)")
HEAD_PARTIAL = regex.compile(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d,\d{{3}} (?:{_LEVELS}) ")
_CUT_MIN = 11  # "2026-11-22 ": a line cut shorter than this is more likely a program's output than a prefix


_NAME = r"(?P<name>[^\s()]+)"   # a name has no space, ":" or "/" (datatypes.process_or_group_name); memmon adds group:
_HOW = r"(?P<how>exit status -?\d+|terminated by (?:SIG\w+|signal \d+)(?: \(core dumped\))?|unknown termination cause.*?)"
# supervisor's messages, in supervisor/process.py, supervisord.py, options.py (3.x and 4.x)
MESSAGES: list[tuple[re.Pattern, str]] = [(re.compile(p), k) for p, k in [
    (r"spawned: '(?P<name>.+)' with pid (?P<pid>\d+)$", "spawned"),
    (r"success: " + _NAME + r" entered RUNNING state, process has stayed up for > than (?P<secs>\d+) seconds"
     r" \(startsecs\)", "running"),
    (r"exited: " + _NAME + r" \(" + _HOW + r"; (?P<exp>expected|not expected)\)$", "exited"),
    (r"stopped: " + _NAME + r"(?: \(" + _HOW + r"\))?$", "stopped"),
    (r"gave up: " + _NAME + r" entered FATAL state", "gave_up"),
    (r"waiting for (?P<names>.+) to (?P<what>die|stop)$", "waiting"),
    (r"received SIG(?P<sig>TERM|INT|QUIT) indicating exit request", "exit_request"),
    (r"received SIG(?P<sig>HUP) indicating restart request", "restart_request"),
    (r"(?:received|ignored) SIG(?P<sig>\w+) indicating ", "signal"),
    (r"supervisord started with pid (?P<pid>\d+)$", "started"),
    (r"killing '(?P<name>[^']+)' \((?P<pid>\d+)\) with SIG(?P<sig>\w+)$", "killing"),   # stopwaitsecs ran out
    (r"killing " + _NAME + r" \(pid (?P<pid>\d+)\) (?P<pg>process group )?with signal SIG(?P<sig>\w+)$",
     "killing"),
    (r"unknown problem (?:killing|sending sig) " + _NAME + r" \((?P<pid>\d+)\):", "problem"),
    (r"u?(?P<q>['\"])(?P<name>.+)(?P=q) (?P<channel>stdout|stderr) output:$", "output"),
    (r"spawnerr: (?P<err>.*)$", "spawnerr"),
    (r"reaped unknown pid (?P<pid>\d+)", "reaped"),
]]
_SPAWNERR_NAME = re.compile(r".*?(?:spawn|for) '(?P<name>[^']+)'")

# superlance memmon (superlance/memmon.py) on its stderr
MEMMON_CHECK = re.compile(r"Checking (?:(?P<what>programs|groups) (?P<pairs>.*)|any=(?P<any>\d+))$")
MEMMON_RSS = re.compile(r"RSS of (?P<name>\S+) is (?P<rss>\d+)$")
MEMMON_RESTART = re.compile(r"Restarting (?P<name>\S+)$")

_SUPERVISOR_WORDS = ("spawned: ", "success: ", "exited: ", "stopped: ", "gave up: ", "supervisord started",
                     "RPC interface", "waiting for ", "received SIG", "Set uid to user", "daemonizing the",
                     "Supervisor is running as root", "Supervisor running as root", "Server '", "spawnerr: ",
                     "Included extra file", "No file matches via include", "Increased RLIMIT")


def _us(m: re.Match) -> int:
    return int(m.group(7)) * 1000


def sniff(head: list[str]) -> int:
    """90 for lines with supervisor's prefix and level word (and something only supervisor writes);
    60 if the lines could as well be Python logging's ``%(asctime)s %(levelname)s`` with INFO only."""
    lines = [l for l in head if l.strip()]
    if not lines:
        return 0
    hits = distinctive = 0
    for l in lines:
        m = HEAD.match(l)
        if not m:
            continue
        hits += 1
        msg = l[m.end():]
        if m.group(8) != "INFO" or msg.startswith(_SUPERVISOR_WORDS):
            distinctive += 1
    if not hits:
        return 0
    # at loglevel=debug a program's output (lines without a prefix) may outnumber supervisord's own lines
    if hits * 2 < len(lines) and not (HEAD.match(lines[0]) and distinctive):
        return 0
    return 90 if distinctive else 60


class _Program:
    __slots__ = ("pid", "spawned_us", "running")

    def __init__(self, pid: int, spawned_us: int | None):
        self.pid = pid
        self.spawned_us = spawned_us
        self.running = False


class _Listener:
    """What a memmon-like event listener said last: its limits and the RSS it measured."""

    def __init__(self):
        self.programs: dict[str, int] = {}
        self.groups: dict[str, int] = {}
        self.any: int | None = None
        self.rss: dict[str, int] = {}


def _name_attrs(name: str) -> dict:
    a = {"program": name}
    if ":" in name:
        a["group"], a["process"] = name.split(":", 1)
    return a


def _how(how: str | None) -> dict:
    """attrs of supervisor's decode_wait_status text."""
    if not how:
        return {}
    if how.startswith("exit status "):
        return {"code": "exited", "status": int(how[12:])}
    if how.startswith("terminated by "):
        sig = how[14:]
        core = sig.endswith(" (core dumped)")
        if core:
            sig = sig[:-14]
        a: dict = {"code": "dumped" if core else "killed"}
        if sig.startswith("SIG"):
            a["signal"] = sig[3:]
            if sig[3:] in SIGNALS:
                a["status"] = SIGNALS[sig[3:]]
        elif sig.startswith("signal "):
            a["status"] = int(sig[7:])
        if core:
            a["core_dumped"] = True
        return a
    return {"code": "unknown", "cause": how[len("unknown termination cause"):].strip()}


class Reader:
    """Turns records (a header line and the lines folded into it) into events, keeping what
    supervisord said before: the pid of each program's last spawn, the memmon limits."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.programs: dict[str, _Program] = {}
        self.spawned_before: set[str] = set()
        self.listeners: dict[str, _Listener] = {}

    def header(self, line: str) -> tuple[int, int, str] | str | None:
        """(ts_us, severity, message) of a record's first line; a reason if it is broken; None if not one."""
        m = HEAD.match(line)
        if m is None:
            return None
        y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
        if mi > 59 or s > 60:
            return "invalid time in a supervisord timestamp"
        try:
            ts = self.clock.to_us(y, mo, d, h, mi, s, _us(m))
        except ValueError:   # February 30th, hour 25
            return "invalid date in a supervisord timestamp"
        return ts, SEVERITY[m.group(8)], line[m.end():]

    def _proc(self, name: str, attrs: dict, ts: int | None, exit_: bool = False) -> None:
        p = self.programs.get(attrs.get("process", name)) or self.programs.get(name)
        if p is None:
            return
        attrs["spawned_pid"] = p.pid
        if exit_:
            attrs["was_running"] = p.running
            if ts is not None and p.spawned_us is not None and ts >= p.spawned_us:
                attrs["uptime_s"] = round((ts - p.spawned_us) / 1e6, 3)

    def events(self, n: int, ts: int, sev: int, message: str, more: list[str]) -> Iterator[Event]:
        """The event(s) of one record: its first line at ``n`` with its message, and ``more`` lines."""
        kind, unit, process, pid, attrs = "log", None, "supervisord", None, {}
        what, m = first_rule(MESSAGES, message)
        g = m.group if m else None
        if what in ("spawned", "running", "exited", "stopped", "gave_up", "killing", "problem", "output"):
            unit, process = g("name"), None
            attrs = _name_attrs(unit)
        if what == "spawned":
            kind, pid = "service_start", int(g("pid"))
            attrs["phase"] = "spawned"
            key = attrs.get("process", unit)
            attrs["respawn"] = key in self.spawned_before
            self.spawned_before.add(key)
            self.programs[key] = _Program(pid, ts)
        elif what == "running":
            kind = "service_start"
            attrs.update(phase="running", startsecs=int(g("secs")))
            self._proc(unit, attrs, ts)
            p = self.programs.get(attrs.get("process", unit))
            if p is not None:
                p.running = True
        elif what == "exited":
            kind = "process_exit"
            attrs.update(_how(g("how")))
            attrs["expected"] = g("exp") == "expected"
            self._proc(unit, attrs, ts, exit_=True)
        elif what == "stopped":
            kind = "service_stop"
            attrs.update(_how(g("how")))
            self._proc(unit, attrs, ts, exit_=True)
        elif what == "gave_up":
            kind = "gave_up"
            self._proc(unit, attrs, ts)
        elif what == "waiting":
            names = g("names").split(", ")
            attrs = {"programs": names}
            if len(names) == 1:
                unit, process = names[0], None
                attrs.update(_name_attrs(names[0]))
        elif what == "exit_request":
            kind, unit = "service_stop", "supervisord"
            attrs = {"signal": g("sig")}
        elif what == "restart_request":
            kind, unit = "restart", "supervisord"
            attrs = {"signal": g("sig")}
        elif what == "signal":
            attrs = {"signal": g("sig")}
        elif what == "started":
            kind, unit, pid = "service_start", "supervisord", int(g("pid"))
            attrs = {"phase": "running"}
            self.programs.clear()         # a new supervisord (or one that reloaded): its programs start anew
            self.spawned_before.clear()
        elif what == "killing":
            pid = int(g("pid"))
            attrs["signal"] = g("sig")
            if m.groupdict().get("pg"):
                attrs["process_group"] = True
        elif what == "problem":
            pid = int(g("pid"))
        elif what == "reaped":
            pid = int(g("pid"))
        elif what == "spawnerr":
            attrs = {"spawnerr": g("err")}
            s = _SPAWNERR_NAME.match(g("err"))
            if s:
                unit, process = s.group("name"), None
                attrs.update(_name_attrs(unit))
        elif what == "output":
            attrs["channel"] = g("channel")
            yield from self._output(n, ts, sev, message, more, unit, attrs)
            return
        text = "\n".join([message, *more]).rstrip("\n") if more else message
        yield Event(ts, self.ctx.local_quality, kind, text, n, n + len(more), severity=sev, unit=unit,
                    process=process, pid=pid, attrs=attrs or None)

    def _output(self, n: int, ts: int, sev: int, message: str, more: list[str], unit: str,
                attrs: dict) -> Iterator[Event]:
        """A program's output copied into the main log (loglevel=debug); memmon's restarts in it."""
        # memmon's lines are followed in order; a chunk with several restarts is cut before the "RSS of"
        # line of each further restart, so that each restart is an event of its own
        listener = attrs["program"]
        pieces: list[list] = [[n, [message], None]]   # first line, lines, memory_limit_restart attrs
        rss_at = None                                  # where the last "RSS of" line is in the last piece
        for i, line in enumerate(more, 1):
            r = None
            if attrs["channel"] == "stderr":
                if MEMMON_RSS.match(line):
                    rss_at = len(pieces[-1][1])
                r = self._memmon(listener, line, ts)
            if r is not None and pieces[-1][2] is not None:
                first, lines, _ = pieces[-1]
                cut = rss_at if rss_at is not None else len(lines)
                pieces.append([first + cut, lines[cut:], None])
                del lines[cut:]
            pieces[-1][1].append(line)
            if r is not None:
                pieces[-1][2], rss_at = r, None
        for first, lines, r in pieces:
            kind, u, a = ("log", unit, attrs) if r is None else ("memory_limit_restart", r["program"], r)
            yield Event(ts, self.ctx.local_quality, kind, "\n".join(lines).rstrip("\n"), first,
                        first + len(lines) - 1, severity=sev, unit=u, attrs=dict(a))

    def _memmon(self, listener: str, line: str, ts: int) -> dict | None:
        """Follow a memmon line; the attrs of a memory_limit_restart for its ``Restarting`` line."""
        m = MEMMON_CHECK.match(line)
        if m:
            st = self.listeners.setdefault(listener, _Listener())
            if m.group("any"):
                st.any = int(m.group("any"))
                return None
            target = st.programs if m.group("what") == "programs" else st.groups
            target.clear()
            for pair in m.group("pairs").split(", "):
                k, _, v = pair.rpartition("=")
                if k and v.isdigit():
                    target[k] = int(v)
            return None
        m = MEMMON_RSS.match(line)
        if m:
            self.listeners.setdefault(listener, _Listener()).rss[m.group("name")] = int(m.group("rss"))
            return None
        m = MEMMON_RESTART.match(line)
        st = self.listeners.get(listener)
        if not m or st is None or m.group("name") not in st.rss:
            return None   # "Restarting x" from a program that is not memmon: memmon measures before it restarts
        name = m.group("name")
        a = _name_attrs(name)
        a["rss_bytes"] = st.rss.pop(name)
        group, proc = a.get("group", name), a.get("process", name)
        for limit in (st.programs.get(proc), st.programs.get(name), st.groups.get(group), st.any):
            if limit is not None:
                a["limit_bytes"] = limit
                break
        a["listener"] = listener
        self._proc(name, a, ts)
        return a


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    reader = Reader(ctx)
    pending: tuple[int, int, int, str] | None = None   # (line, ts, severity, message)
    more: list[str] = []

    def flush() -> Iterator[Event]:
        nonlocal pending, more
        if pending is not None:
            yield from reader.events(*pending, more)
        pending, more = None, []

    for n, line, last in with_last(text_lines(raw, start)):
        h = reader.header(line)
        if isinstance(h, tuple):
            yield from flush()
            if not h[2] and last:   # "... INFO" and the file ends: the rest of the line was never written
                yield Reject(n, "line cut short: a supervisord prefix and no message", line)
                continue
            pending = (n, *h)
            continue
        if isinstance(h, str):
            yield from flush()
            yield Reject(n, h, line)
            continue
        if last and len(line) >= _CUT_MIN and HEAD_PARTIAL.fullmatch(line, partial=True):
            yield from flush()
            yield Reject(n, "line cut short inside its supervisord prefix", line)
            continue
        if pending is not None:
            more.append(line)   # a traceback, a program's output: the record before it goes on
            continue
        yield Reject(n, "blank line" if not line.strip() else
                     "not a supervisord line, and no record before it to continue", line)
    yield from flush()
