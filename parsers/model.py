"""The event schema, declared once.

Parsers build :class:`Event` and :class:`Reject` records; the store derives its
DDL from :data:`EVENT_COLUMNS`; the docs list :data:`KINDS`.  Nothing here
imports DuckDB: parsers stay a pure library.
"""
from __future__ import annotations

from typing import Any, NamedTuple

# (name, DuckDB type, meaning) -- the order is the table's column order.
EVENT_COLUMNS: list[tuple[str, str, str]] = [
    ("event_id", "BIGINT", "unique in the database: file_id * 2^32 + ordinal in the file"),
    ("ts", "TIMESTAMPTZ", "UTC, microseconds"),
    ("ts_quality", "VARCHAR", "exact, zone_assumed, year_inferred, monotonic_aligned, inherited"),
    ("host", "VARCHAR", "from the record, --host, or the bundle folder"),
    ("source", "VARCHAR", "the format that produced the event (journal_json, syslog, ...)"),
    ("kind", "VARCHAR", "normalised kind (see KINDS)"),
    ("severity", "TINYINT", "syslog 0 (emerg) .. 7 (debug), where the record says"),
    ("unit", "VARCHAR", "systemd unit, supervisor program or PM2 app name"),
    ("process", "VARCHAR", "command name (node, nginx, systemd)"),
    ("pid", "INTEGER", "process id, where the record says"),
    ("message", "VARCHAR", "the original text; multi-line records joined by newlines"),
    ("file_id", "INTEGER", "provenance: files.file_id"),
    ("line", "INTEGER", "provenance: first line of the record in the (decompressed) file"),
    ("line_end", "INTEGER", "provenance: last line of the record"),
    ("nlines", "INTEGER", "lines of the file the event holds: line_end - line + 1, or fewer where lines of "
                          "other events fall between (a kernel report interleaved with other messages)"),
    ("attrs", "JSON", "format- and kind-specific fields"),
]

FILE_COLUMNS: list[tuple[str, str, str]] = [
    ("file_id", "INTEGER", "unique id"),
    ("path", "VARCHAR", "path inside the bundle, as given on the command line"),
    ("abspath", "VARCHAR", "absolute path at ingest time"),
    ("sha256", "VARCHAR", "hash of the (decompressed) content read"),
    ("bytes", "BIGINT", "bytes read (decompressed)"),
    ("format", "VARCHAR", "format name, or NULL when none was recognised"),
    ("host", "VARCHAR", "host the file's events default to"),
    ("tz", "VARCHAR", "zone used for timestamps that carry none"),
    ("lines", "BIGINT", "lines read: each is inside an event or rejected"),
    ("events", "BIGINT", "events written"),
    ("rejected", "BIGINT", "lines rejected"),
    ("status", "VARCHAR", "ingested, partial (input ended early), skipped, error"),
    ("note", "VARCHAR", "why a file was skipped, failed or is partial"),
    ("ingested_at", "TIMESTAMPTZ", "when this row was last written"),
]

REJECT_COLUMNS: list[tuple[str, str, str]] = [
    ("file_id", "INTEGER", "files.file_id"),
    ("line", "INTEGER", "line number in the (decompressed) file"),
    ("reason", "VARCHAR", "why no parser could read it"),
    ("text", "VARCHAR", "the line as read (invalid UTF-8 shown as U+FFFD)"),
]

TS_QUALITIES = ("exact", "zone_assumed", "year_inferred", "monotonic_aligned", "inherited",
                "unaligned")  # unaligned: only seconds since boot so far (attrs.monotonic_us), ts is NULL

# kind -> what it means.  Extended where a real log needs it.
KINDS: dict[str, str] = {
    "deploy": "a release went out (version, commit)",
    "service_start": "a service came up (systemd Started, supervisor RUNNING, PM2 online)",
    "service_stop": "a service was stopped on purpose",
    "service_failed": "systemd gave a unit a failed result (attrs.result: oom-kill, exit-code, signal, ...)",
    "process_exit": "a main process ended (attrs: code, status, signal, expected)",
    "restart": "a process manager scheduled or performed a restart (attrs.counter)",
    "gave_up": "a process manager stopped restarting (FATAL, start request repeated too quickly)",
    "oom_invoked": "the kernel's OOM killer was invoked",
    "oom_kill": "a process was killed for memory (kernel, or systemd's attribution of it)",
    "heap_oom": "V8 died at its heap limit",
    "memory_limit_restart": "PM2 restarted an app over --max-memory-restart",
    "gc": "a V8 garbage collection line",
    "memory_sample": "a memory figure (attrs.metric, attrs.bytes)",
    "http_request": "one HTTP request (attrs: status, method, path, bytes, client, user_agent, ...)",
    "upstream_error": "a reverse proxy could not reach or read its upstream",
    "app_error": "an application error",
    "di_error": "a dependency-injection failure (Nest, Laravel container)",
    "connection_error": "a refused or exhausted connection (Redis, MySQL, PostgreSQL)",
    "boot": "a boot boundary (journalctl's -- Boot -- / -- Reboot -- marker)",
    "log": "any other line",
}


class Event(NamedTuple):
    """One event.  ``ts_us`` is microseconds since the epoch, UTC."""

    ts_us: int | None
    ts_quality: str
    kind: str
    message: str
    line: int
    line_end: int
    host: str | None = None
    severity: int | None = None
    unit: str | None = None
    process: str | None = None
    pid: int | None = None
    attrs: dict[str, Any] | None = None
    nlines: int | None = None      # None: line_end - line + 1


class Reject(NamedTuple):
    """A line no parser could read, and why."""

    line: int
    reason: str
    text: str
