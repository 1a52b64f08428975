"""PM2's daemon log (``~/.pm2/pm2.log``): what PM2 did to the apps it runs, as typed events.

Each line starts with the time PM2 wrote it, in the host's local time and
without a zone (``PM2_LOG_DATE_FORMAT``: ``2024-05-28T14:35:12: `` since PM2
4/5, ``2017-10-08 14:32:17: `` in PM2 2.x; fractions and an offset are read
where a custom format adds them).  PM2 5 then names the console method, ``PM2
log: `` / ``PM2 error: `` (``warn``, ``info``); PM2 2.x has no such tag.  A
time without a zone is read in the file's zone (``ctx.tz``) and is
``zone_assumed``.  Times may go backwards (a daemon restarted after the clock
was set): order and lines are kept as written, nothing is rejected for it.

A line without the time prefix continues the line before (the second and
further lines of a message PM2 printed in one call: a stack trace, an error's
fields); blank lines are kept inside a message only where text follows them.
The daemon's start banner (``=====``, ``--- New PM2 Daemon started ---``, the
``Name : value`` fields, ``=====``) is one event.

Typed events (``unit`` is the app's name, PM2's "process name"; ``'pm2'`` for
the daemon itself; ``process`` stays empty: PM2 does not say which program
ran; ``pid`` where the line gives one).  Every typed app event has
``attrs.app`` (the name as written) and ``attrs.app_id`` (PM2's numeric id):

- ``service_start``: ``App [api:0] starting in -fork mode-`` (attrs ``mode``
  ``'fork'``/``'cluster'``, ``phase = 'starting'``), ``App [api:0] online``
  (``phase = 'online'``); PM2 2.x ``Starting execution sequence in -fork
  mode- for app name:api id:0`` and ``App name:api id:0 online``.  The
  daemon's own start (the banner, ``PM2 successfully daemonized``,
  ``Launching in no daemon mode``) with unit ``pm2``; the banner's fields go
  to attrs ``pm2_version``, ``node_version``, ``pm2_home``, ``log_path``,
  ``worker_interval_ms``, ``kill_timeout_ms``, and its ``Time`` field's
  offset to ``utc_offset`` (``+01:00``) and ``zone_name`` (``BST``): the
  host's offset when the daemon started, which the line times lack.
- ``process_exit``: ``App [api:0] exited with code [0] via signal [SIGKILL]``
  and PM2 2.x ``App [api] with id [0] and pid [2930], exited with code [0]
  via signal [SIGTERM]``: attrs ``code`` (int), ``signal`` as printed (None
  for ``null``), ``expected``: True where PM2 stopped the app on purpose (a
  ``Stopping app:api id:0`` of the same id before the exit, the daemon
  shutting down, or the old worker of a reload, ``App [api:_old_0]``, which
  also has ``old_worker = True``), else False.  PM2 prints ``SIGINT`` where
  the process had no signal: a non-zero code with ``SIGINT`` is the process
  exiting by itself; a process killed by a signal has code 0.
- ``service_stop``: ``Stopping app:api id:0`` (``phase = 'stopping'``); for
  unit ``pm2``: ``pm2 has been killed by signal, dumping process list before
  exit...`` (``phase = 'stopping'``, ``reason = 'signal'``), ``Exited
  peacefully`` (``phase = 'stopped'``, ``reason = 'signal'``), ``PM2
  successfully stopped`` (``phase = 'stopped'``, ``reason = 'kill'``: ``pm2
  kill``).
- ``memory_limit_restart``: ``[PM2][WORKER] Process 0 restarted because it
  exceeds --max-memory-restart value (current_memory=134017024
  max_memory_limit=104857600 [octets])``: attrs ``current_bytes``,
  ``limit_bytes`` (absent in PM2 versions that did not print them), ``app_id``.
- ``restart``: ``Process 0 in a stopped status, starting it`` (PM2 restarting
  a fork-mode app for a reload: attrs ``reason = 'max_memory_restart'`` right
  after a memory-limit restart of that id, else ``'reload'``), ``App [api:0]
  will restart in 1500ms`` (``reason = 'restart_delay'``, ``delay_ms``),
  ``Change detected on path P for app api - restarting`` (``reason =
  'watch'``, ``path``), ``[PM2][WORKER] Process 0 restarted because it uses 0
  memory and has ONLINE status`` (``reason = 'zero_memory'``).
- ``gave_up``: ``Script /app/index.js had too many unstable restarts (16).
  Stopped. "errored"``: attrs ``restarts``, ``script``, ``status``.
- ``log``: everything else, with what the line says: ``pid=23545 msg=process
  killed`` (pid; attrs ``msg``), ``Process with pid N still alive after
  1600ms, sending it SIGKILL now...`` (pid, ``kill_timeout_ms``), ``app=api
  id=0 does not have a pid``, ``Deleting process 0``, ``[Watch] Start
  watching api``, ``App name:api id:0 disconnected``.

Lines that name only an id (the memory-limit restart, ``Process 0 in a
stopped status``, ``Deleting process 0``) get the unit last seen with that id
in the same daemon run; ``pid=N msg=...`` lines get the app being stopped when
exactly one stop is under way; ``gave_up`` gets the app whose exit it follows.
Every event keeps ``attrs.level`` (``log``, ``error``, ``warn``, ``info``)
where PM2 5 wrote one; ``error`` lines have severity 3 and ``warn`` 4.

>>> from parsers.testing import run
>>> events, rejects = run(__name__, "2024-05-28T14:35:12: PM2 log: App [api:0] starting in -fork mode-\\n"
...     "2024-05-28T14:35:12: PM2 log: App [api:0] online\\n"
...     "2024-05-28T14:36:00: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]\\n"
...     "2024-05-28T14:36:30: PM2 log: Stopping app:api id:0\\n"
...     "2024-05-28T14:36:31: PM2 log: App [api:0] exited with code [0] via signal [SIGINT]\\n"
...     "2024-05-28T14:36:31: PM2 log: pid=812 msg=process killed")
>>> [(e.kind, e.unit, e.pid) for e in events]
[('service_start', 'api', None), ('service_start', 'api', None), ('process_exit', 'api', None), \
('service_stop', 'api', None), ('process_exit', 'api', None), ('log', 'api', 812)]
>>> [e.attrs["expected"] for e in events if e.kind == "process_exit"], events[2].attrs["signal"]
([False, True], 'SIGKILL')
>>> events[0].ts_us, events[0].ts_quality, events[0].attrs
(1716906912000000, 'zone_assumed', {'level': 'log', 'app': 'api', 'app_id': 0, 'mode': 'fork', 'phase': 'starting'})
"""
from __future__ import annotations

import re
from typing import BinaryIO, Iterator

from .context import Context, text_lines
from .model import Event, Reject
from .timeutil import LocalClock, parse_offset, utc_us

NAME = "pm2"
DESCRIPTION = "PM2's daemon log (~/.pm2/pm2.log): app starts, exits, stops, restarts, memory-limit restarts"
SAMPLE = "2024-05-28T14:35:12: PM2 log: App [api:0] exited with code [0] via signal [SIGKILL]"

# --- the time prefix, shared with pm2_app ------------------------------------------------------------------------

# PM2_LOG_DATE_FORMAT / log_date_format as dayjs prints it, then ": ".  The default formats are
# YYYY-MM-DDTHH:mm:ss (PM2 4+, and --time for apps) and YYYY-MM-DD HH:mm:ss (PM2 2.x); custom ones
# add milliseconds (.SSS) and an offset (Z: +02:00, ZZ: +0200), with or without a space before it.
TIME = (r"(?P<y>\d{4})-(?P<mo>\d\d)-(?P<d>\d\d)[T ](?P<h>\d\d):(?P<mi>\d\d)"
        r"(?::(?P<s>\d\d)(?:[.,](?P<f>\d{1,9}))?)?(?: ?(?P<z>Z|[+-]\d\d:?\d\d))?")
PREFIX = re.compile(TIME + ": ")
TIME_ONLY = re.compile(TIME + r"\s*$")


def read_time(m: re.Match, clock: LocalClock, local_quality: str) -> tuple[int, str] | None:
    """(UTC microseconds, ts_quality) of a TIME match; None for an impossible date."""
    g = m.group
    y, mo, d, h, mi = int(g("y")), int(g("mo")), int(g("d")), int(g("h")), int(g("mi"))
    s = int(g("s")) if g("s") else 0
    us = int((g("f") + "000000")[:6]) if g("f") else 0
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s <= 60):
        return None
    s = min(s, 59)  # a leap second is read as :59
    try:
        if g("z"):
            return utc_us(y, mo, d, h, mi, s, us) - parse_offset(g("z")) * 1_000_000, "exact"
        return clock.to_us(y, mo, d, h, mi, s, us), local_quality
    except (ValueError, OverflowError):  # 31 February
        return None


# --- PM2's messages ----------------------------------------------------------------------------------------------

LEVEL = re.compile(r"PM2 (log|error|warn|info): ")
_ID = r"(?P<id>(?:_old_)?\d+)"
_APP_ID = r"App \[(?P<app>.+):" + _ID + r"\]"
R_STARTING = re.compile(_APP_ID + r" starting in -(?P<mode>fork|cluster) mode-\s*$")
R_ONLINE = re.compile(_APP_ID + r" online\s*$")
R_EXIT = re.compile(_APP_ID + r" exited with code \[(?P<code>[^\]]*)\] via signal \[(?P<sig>[^\]]*)\]\s*$")
R_WILL_RESTART = re.compile(_APP_ID + r" will restart in (?P<ms>\d+)ms\s*$")
R_STOPPING = re.compile(r"Stopping app:(?P<app>.+) id:" + _ID + r"\s*$")
R_NAME_ID = re.compile(r"App name:(?P<app>.+) id:" + _ID + r" (?P<what>online|disconnected)\s*$")  # PM2 2.x online
R_STARTING2 = re.compile(r"Starting execution sequence in -(?P<mode>fork|cluster) mode- for app name:(?P<app>.+) "
                         r"id:(?P<id>\d+)\s*$")
R_CLUSTER2 = re.compile(r"Entering in node wrap logic \(cluster_mode\) for script (?P<script>.+?)\s*$")
R_EXIT2 = re.compile(r"App \[(?P<app>.+)\] with id \[(?P<id>[^\]]*)\] and pid \[(?P<pid>[^\]]*)\], exited with "
                     r"code \[(?P<code>[^\]]*)\] via signal \[(?P<sig>[^\]]*)\]\s*$")
R_MAXMEM = re.compile(r"\[PM2\]\[WORKER\] Process (?P<id>\d+) restarted because it exceeds --max-memory-restart "
                      r"value(?: \(current_memory=(?P<cur>\d+) max_memory_limit=(?P<lim>\d+) \[octets\]\))?")
R_ZEROMEM = re.compile(r"\[PM2\]\[WORKER\] Process (?P<id>\d+) restarted because it uses 0 memory")
R_STOPPED_STATUS = re.compile(r"Process (?P<id>\d+) in a stopped status, starting it\s*$")
R_UNSTABLE = re.compile(r"Script (?P<script>.+) had too many unstable restarts \((?P<n>\d+)\)\. Stopped\. "
                        r"\"?(?P<status>\w+)\"?\s*$")
R_PID = re.compile(r"pid=(?P<pid>\d+) msg=(?P<msg>.*?)\s*$")
R_STILL_ALIVE = re.compile(r"Process with pid (?P<pid>\d+) still alive after (?P<ms>\d+)ms")
R_NOT_KILLED = re.compile(r"Process with pid (?P<pid>\d+) (?:could not be killed|still not killed)")
R_NO_PID = re.compile(r"app=(?P<app>.+) id=(?P<id>\d+) does not have a pid\s*$")
R_NOT_STOPPED = re.compile(r"app=(?P<app>.+) id=(?P<id>\d+) pid=(?P<pid>\d+) could not be stopped\s*$")
R_WATCH_CHANGE = re.compile(r"Change detected on path (?P<path>.+) for app (?P<app>.+) - restarting\s*$")
R_WATCH = re.compile(r"\[Watch\] (?:Start|Stop) watching (?P<app>.+?)\s*$")
R_DELETING = re.compile(r"Deleting process (?P<id>\d+)\s*$")
R_CRON = re.compile(r"\[PM2\](?:\[WORKER\])? (?:Registering|Deregistering) a cron job on:? (?P<id>\d+)")
R_KILLED_SIGNAL = re.compile(r"pm2 has been killed by signal")
R_EXITED = re.compile(r"(?:\[PM2\] )?Exited peacefully")
R_KILLED = re.compile(r"PM2 successfully stopped")
R_DAEMON_UP = re.compile(r"(?:\[PM2\] )?PM2 successfully daemonized|Launching in no daemon mode", re.I)

R_SEP = re.compile(r"={20,}\s*$")
R_TITLE = re.compile(r"--- (?P<title>.*?) -*\s*$")
R_FIELD = re.compile(r"(?P<key>[A-Za-z][\w .]*?)\s+: (?P<value>.*)$")
_BANNER_FIELDS = {"PM2 version": "pm2_version", "Node.js version": "node_version", "Current arch": "arch",
                  "PM2 home": "pm2_home", "Application log path": "log_path", "Process dump file": "dump_file",
                  "Worker Interval": "worker_interval_ms", "SIGTERM timeout": "kill_timeout_ms",
                  "Concurrent actions": "concurrent_actions", "Runtime Binary": "runtime"}
R_BANNER_TIME = re.compile(r".*GMT(?P<off>[+-]\d{4})(?: \((?P<zn>[^)]*)\))?")

# What PM2 2.x writes (no "PM2 log:" tag), for sniffing.
KNOWN = re.compile(r"(?:={20,}\s*$|--- New PM2 Daemon started|PM2 version\s+:|Starting execution sequence in -|"
                   r"App name:.+ id:\d+ (?:online|disconnected)|App \[.+\] with id \[|Stopping app:.+ id:|"
                   r"pid=\d+ msg=|pm2 has been killed by signal|\[PM2\]|\[Watch\] |Process \d+ in a stopped status|"
                   r"App \[.+:\d+\] (?:online|starting in|exited with))")

_SEVERITY = {"error": 3, "warn": 4}


def sniff(head: list[str]) -> int:
    lines = [l for l in head if l.strip()][:20]
    if not lines:
        return 0
    rests = [l[m.end():] for l in lines if (m := PREFIX.match(l))]
    if len(rests) * 2 < len(lines):
        return 0
    tagged = sum(1 for r in rests if LEVEL.match(r))
    if tagged * 2 >= len(rests):
        return 85                       # PM2 4+: "PM2 log: " on most lines
    if sum(1 for r in rests if KNOWN.match(r)) >= min(2, len(rests)):
        return 85                       # PM2 2.x: its own phrases after the time
    return 0


def sniff_path(path: str) -> int:
    """A weak vote for a file named like PM2's daemon log (``pm2.log``, ``pm2.log.1``)."""
    name = re.split(r"[\\/]", path)[-1].lower()
    name = re.sub(r"\.(?:gz|xz|bz2)$", "", name)
    return 30 if re.fullmatch(r"pm2(?:__[\d_-]+)?\.log(?:\.\d+)?", name) else 0


def _int(s: str | None) -> int | None:
    if s is None:
        return None
    s = s.strip()
    return int(s) if re.fullmatch(r"-?\d+", s) else None


class _Pending:
    """The event being built: its first line's reading, then the lines that continue it."""

    __slots__ = ("line", "line_end", "ts", "q", "texts", "kind", "unit", "pid", "severity", "attrs", "banner")

    def __init__(self, n, ts, q, text, kind="log", unit=None, pid=None, severity=None, attrs=None, banner=False):
        self.line = self.line_end = n
        self.ts, self.q = ts, q
        self.texts = [text]
        self.kind, self.unit, self.pid, self.severity = kind, unit, pid, severity
        self.attrs = attrs or {}
        self.banner = banner

    def event(self) -> Event:
        return Event(self.ts, self.q, self.kind, "\n".join(self.texts), self.line, self.line_end,
                     severity=self.severity, unit=self.unit, pid=self.pid, attrs=self.attrs or None)


class Reader:
    """Reads one daemon log, keeping what the lines before say about ids, stops and the daemon."""

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.clock = ctx.clock()
        self.names: dict[int, str] = {}      # app_id -> name, this daemon run
        self.stopping: dict[str, str] = {}   # raw id ("0", "_old_0") -> name, stopped and not yet exited
        self.killing: dict[str, str] = {}    # the same, until PM2 says the pid is gone (pid=N msg=...)
        self.daemon_stopping = False
        self.last_maxmem: int | None = None  # id of a memory-limit restart not yet carried out
        self.last_exit: tuple[str, int] | None = None

    def new_daemon(self) -> None:
        self.names.clear()
        self.stopping.clear()
        self.killing.clear()
        self.daemon_stopping = False
        self.last_maxmem = None
        self.last_exit = None

    def _app(self, app: str, raw_id: str, attrs: dict) -> int:
        app_id = int(raw_id[5:]) if raw_id.startswith("_old_") else int(raw_id)
        attrs["app"] = app
        attrs["app_id"] = app_id
        if raw_id.startswith("_old_"):
            attrs["old_worker"] = True
        else:
            self.names[app_id] = app
        return app_id

    def classify(self, text: str, attrs: dict) -> tuple[str, str | None, int | None]:
        """(kind, unit, pid) of a message; fills attrs."""
        c = text[:1]
        if c == "A":
            m = R_EXIT.match(text) or R_EXIT2.match(text)
            if m:
                raw = m.group("id")
                if m.re is R_EXIT2 and not re.fullmatch(r"(?:_old_)?\d+", raw):
                    raw = None
                app = m.group("app")
                app_id = self._app(app, raw, attrs) if raw else None
                if raw is None:
                    attrs["app"] = app
                code = _int(m.group("code"))
                sig = m.group("sig").strip()
                attrs["code"] = code if code is not None else m.group("code")
                attrs["signal"] = None if sig in ("null", "undefined", "") else sig
                attrs["expected"] = bool(self.daemon_stopping or (raw and raw.startswith("_old_"))
                                         or (raw is not None and raw in self.stopping))
                if raw is not None:
                    self.stopping.pop(raw, None)
                self.last_exit = (app, app_id) if app_id is not None else None
                pid = _int(m.group("pid")) if m.re is R_EXIT2 else None
                return "process_exit", app, pid or None
            m = R_STARTING.match(text)
            if m:
                return self._starting(m, attrs)
            m = R_ONLINE.match(text)
            if m:
                self._app(m.group("app"), m.group("id"), attrs)
                attrs["phase"] = "online"
                return "service_start", m.group("app"), None
            m = R_NAME_ID.match(text)
            if m:
                self._app(m.group("app"), m.group("id"), attrs)
                if m.group("what") == "online":
                    attrs["phase"] = "online"
                    return "service_start", m.group("app"), None
                return "log", m.group("app"), None
            m = R_WILL_RESTART.match(text)
            if m:
                self._app(m.group("app"), m.group("id"), attrs)
                attrs["reason"] = "restart_delay"
                attrs["delay_ms"] = int(m.group("ms"))
                return "restart", m.group("app"), None
        elif c == "S":
            m = R_STOPPING.match(text)
            if m:
                self._app(m.group("app"), m.group("id"), attrs)
                attrs["phase"] = "stopping"
                self.stopping[m.group("id")] = self.killing[m.group("id")] = m.group("app")
                return "service_stop", m.group("app"), None
            m = R_STARTING2.match(text)
            if m:
                return self._starting(m, attrs)
            m = R_UNSTABLE.match(text)
            if m:
                attrs["restarts"] = int(m.group("n"))
                attrs["script"] = m.group("script")
                attrs["status"] = m.group("status")
                app = None
                if self.last_exit:
                    app, attrs["app_id"] = self.last_exit
                    attrs["app"] = app
                return "gave_up", app, None
        elif c == "[":
            m = R_MAXMEM.match(text)
            if m:
                app_id = int(m.group("id"))
                attrs["app_id"] = app_id
                if m.group("cur"):
                    attrs["current_bytes"] = int(m.group("cur"))
                    attrs["limit_bytes"] = int(m.group("lim"))
                self.last_maxmem = app_id
                return "memory_limit_restart", self._named(app_id, attrs), None
            m = R_ZEROMEM.match(text)
            if m:
                app_id = int(m.group("id"))
                attrs["app_id"] = app_id
                attrs["reason"] = "zero_memory"
                return "restart", self._named(app_id, attrs), None
            m = R_WATCH.match(text)
            if m:
                attrs["app"] = m.group("app")
                return "log", m.group("app"), None
            m = R_CRON.match(text)
            if m:
                app_id = int(m.group("id"))
                attrs["app_id"] = app_id
                return "log", self._named(app_id, attrs), None
        elif c == "P":
            m = R_STOPPED_STATUS.match(text)
            if m:
                app_id = int(m.group("id"))
                attrs["app_id"] = app_id
                attrs["reason"] = "max_memory_restart" if self.last_maxmem == app_id else "reload"
                self.last_maxmem = None
                return "restart", self._named(app_id, attrs), None
            m = R_STILL_ALIVE.match(text)
            if m:
                attrs["kill_timeout_ms"] = int(m.group("ms"))
                return "log", self._stopped_app(attrs), int(m.group("pid"))
            m = R_NOT_KILLED.match(text)
            if m:
                return "log", self._stopped_app(attrs), int(m.group("pid"))
            if R_KILLED.match(text):
                attrs["phase"] = "stopped"
                attrs["reason"] = "kill"
                return "service_stop", "pm2", None
        elif c == "p":
            m = R_PID.match(text)
            if m:
                attrs["msg"] = m.group("msg")
                unit = self._stopped_app(attrs)
                if unit is not None and "killed" in m.group("msg"):
                    self.killing.clear()  # the one kill under way is done
                return "log", unit, int(m.group("pid"))
            if R_KILLED_SIGNAL.match(text):
                self.daemon_stopping = True
                attrs["phase"] = "stopping"
                attrs["reason"] = "signal"
                return "service_stop", "pm2", None
        elif c == "a":
            m = R_NO_PID.match(text) or R_NOT_STOPPED.match(text)
            if m:
                self._app(m.group("app"), m.group("id"), attrs)
                if m.re is R_NO_PID:
                    self._started(m.group("id"))  # no exit and no kill will follow
                    return "log", m.group("app"), None
                return "log", m.group("app"), int(m.group("pid"))
        elif c == "C":
            m = R_WATCH_CHANGE.match(text)
            if m:
                attrs["app"] = m.group("app")
                attrs["reason"] = "watch"
                attrs["path"] = m.group("path")
                return "restart", m.group("app"), None
        elif c == "D":
            m = R_DELETING.match(text)
            if m:
                app_id = int(m.group("id"))
                attrs["app_id"] = app_id
                return "log", self._named(app_id, attrs), None
        elif c == "E":
            m = R_CLUSTER2.match(text)
            if m:
                attrs["mode"] = "cluster"
                attrs["phase"] = "starting"
                attrs["script"] = m.group("script")
                return "service_start", None, None
        if R_EXITED.match(text):
            attrs["phase"] = "stopped"
            attrs["reason"] = "signal"
            return "service_stop", "pm2", None
        if R_DAEMON_UP.match(text):
            self.new_daemon()
            return "service_start", "pm2", None
        return "log", None, None

    def _named(self, app_id: int, attrs: dict) -> str | None:
        name = self.names.get(app_id)
        if name is not None:
            attrs["app"] = name
        return name

    def _starting(self, m: re.Match, attrs: dict) -> tuple[str, str, None]:
        """PM2 starting an app ("App [api:0] starting in -fork mode-", PM2 2.x's "Starting execution
        sequence in -fork mode- for app name:api id:0")."""
        self._app(m.group("app"), m.group("id"), attrs)
        attrs["mode"] = m.group("mode")
        attrs["phase"] = "starting"
        self._started(m.group("id"))
        return "service_start", m.group("app"), None

    def _started(self, raw_id: str) -> None:
        self.stopping.pop(raw_id, None)
        self.killing.pop(raw_id, None)

    def _stopped_app(self, attrs: dict) -> str | None:
        """The app a kill message is about: the one stop under way, if exactly one is."""
        if len(self.killing) != 1:
            return None
        raw, name = next(iter(self.killing.items()))
        attrs["app"] = name
        attrs["app_id"] = int(raw[5:]) if raw.startswith("_old_") else int(raw)
        return name

    # --- the daemon's banner --------------------------------------------------------------------------------------

    @staticmethod
    def banner_line(p: _Pending, text: str) -> bool:
        """Adds a line to an open banner; False if the line is not part of one."""
        m = R_TITLE.match(text)
        if m and len(p.texts) == 1:
            p.attrs["title"] = m.group("title")
            return True
        if R_SEP.match(text):
            p.banner = False  # the closing line
            return True
        m = R_FIELD.match(text)
        if m and "title" in p.attrs:
            key, value = m.group("key").strip(), m.group("value").strip()
            name = _BANNER_FIELDS.get(key)
            if name:
                v = _int(value)
                p.attrs[name] = v if v is not None and name.endswith(("_ms", "actions")) else value
            elif key == "Time":
                t = R_BANNER_TIME.match(value)
                if t:
                    off = t.group("off")
                    p.attrs["utc_offset"] = f"{off[:3]}:{off[3:]}"
                    if t.group("zn"):
                        p.attrs["zone_name"] = t.group("zn")
            return True
        if "error" in p.attrs.get("title", "").lower():
            return True   # "PM2 global error caught": the error's message and stack, up to the closing line
        return False

    def close_banner(self, p: _Pending) -> None:
        title = p.attrs.get("title", "")
        p.banner = False
        if title.lower().startswith("new pm2 daemon started"):
            p.kind, p.unit = "service_start", "pm2"
            self.new_daemon()


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    reader = Reader(ctx)
    clock = reader.clock
    local_q = ctx.local_quality
    pending: _Pending | None = None
    blanks: list[tuple[int, str]] = []

    def flush() -> Iterator[Event | Reject]:
        nonlocal pending, blanks
        if pending is not None:
            if pending.banner:
                reader.close_banner(pending)
            yield pending.event()
        for b, text in blanks:
            yield Reject(b, "blank line", text)
        pending, blanks = None, []

    for n, line in text_lines(raw, start):
        m = PREFIX.match(line) if line[:1].isdigit() else None
        t = read_time(m, clock, local_q) if m else None
        if t is None and m is not None:   # a time prefix with an impossible date (month 13)
            yield from flush()
            yield Reject(n, "invalid date in a PM2 time prefix", line)
            continue
        if t is None:
            if pending is not None:   # a further line of the message before
                if not line.strip():
                    blanks.append((n, line))
                    continue
                for _, text in blanks:
                    pending.texts.append(text)
                pending.texts.append(line)
                pending.line_end = n
                blanks = []
                continue
            yield from flush()
            yield Reject(n, "blank line" if not line.strip() else
                         "not a PM2 log line, and no line before it to continue", line)
            continue
        ts, q = t
        rest = line[m.end():]
        attrs: dict = {}
        lv = LEVEL.match(rest)
        level = None
        if lv:
            level = lv.group(1)
            attrs["level"] = level
            rest = rest[lv.end():]
        if pending is not None and pending.banner and not blanks:
            if reader.banner_line(pending, rest):
                pending.texts.append(rest)
                pending.line_end = n
                if not pending.banner:
                    reader.close_banner(pending)
                continue
        yield from flush()
        if R_SEP.match(rest):
            pending = _Pending(n, ts, q, rest, attrs=attrs, banner=True, severity=_SEVERITY.get(level))
            continue
        kind, unit, pid = reader.classify(rest, attrs)
        pending = _Pending(n, ts, q, rest, kind, unit, pid, _SEVERITY.get(level), attrs)
    yield from flush()
