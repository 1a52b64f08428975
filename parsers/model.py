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
    ("ts_quality", "VARCHAR", "exact, zone_assumed, year_inferred, monotonic_aligned, inherited, unaligned, untimed"),
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
    ("duplicate_of", "BIGINT", "for a kernel record found in several files (dmesg, kern.log, the journal): the "
                               "event_id of the copy counted; NULL on that copy and on everything else"),
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

OOM_TASK_COLUMNS: list[tuple[str, str, str]] = [
    ("event_id", "BIGINT", "the oom_invoked event (the report) the row comes from"),
    ("kill_event_id", "BIGINT", "the oom_kill event that followed the report, where there is one"),
    ("file_id", "INTEGER", "files.file_id"),
    ("host", "VARCHAR", "host of the report"),
    ("ts", "TIMESTAMPTZ", "time of the report"),
    ("pid", "INTEGER", "process id"),
    ("uid", "INTEGER", "user id"),
    ("tgid", "INTEGER", "thread group id"),
    ("total_vm_pages", "BIGINT", "virtual memory, in pages as the kernel prints it"),
    ("rss_pages", "BIGINT", "resident memory, in pages"),
    ("rss_anon_pages", "BIGINT", "anonymous resident memory, in pages (kernels 6.8+)"),
    ("rss_file_pages", "BIGINT", "file-backed resident memory, in pages (kernels 6.8+)"),
    ("rss_shmem_pages", "BIGINT", "shared-memory resident memory, in pages (kernels 6.8+)"),
    ("pgtables_bytes", "BIGINT", "page tables, in bytes (kernels 4.15+)"),
    ("nr_ptes", "BIGINT", "page table entries (kernels before 4.15)"),
    ("swapents", "BIGINT", "swap entries"),
    ("oom_score_adj", "INTEGER", "the process's oom_score_adj"),
    ("name", "VARCHAR", "command name"),
    ("rss_bytes", "BIGINT", "rss_pages * 4096"),
    ("victim", "BOOLEAN", "whether the kill that followed took this process"),
]

CLOCK_OFFSET_COLUMNS: list[tuple[str, str, str]] = [
    ("host", "VARCHAR", "host whose kernel clock this is"),
    ("file_id", "INTEGER", "the file whose seconds-since-boot were aligned (NULL: a boot known but not used)"),
    ("boot_seq", "INTEGER", "which boot within that file (the kernel clock restarted), from 0"),
    ("boot_id", "VARCHAR", "the journal's _BOOT_ID, where the boot was identified by it"),
    ("boot_time", "TIMESTAMPTZ", "wall-clock time of the kernel clock's zero"),
    ("method", "VARCHAR", "journal, message match, bundle btime, uptime -s, --boot-time, none"),
    ("evidence", "VARCHAR", "what the offset rests on, in words"),
    ("matched", "INTEGER", "lines the offset was computed from"),
    ("uncertainty_us", "BIGINT", "how far off it may be: spread of the candidates, or logging delay bound"),
    ("aligned", "INTEGER", "events given a time by this offset"),
]

CLOCK_FIX_COLUMNS: list[tuple[str, str, str]] = [
    ("host", "VARCHAR", "host of the file"),
    ("file_id", "INTEGER", "the file whose times were moved"),
    ("shift_us", "BIGINT", "microseconds subtracted from every time of the file"),
    ("pairs", "INTEGER", "moments this file and another source both recorded, the shift is their median difference"),
    ("reference", "VARCHAR", "the other source's files"),
    ("evidence", "VARCHAR", "what the shift rests on, in words"),
    ("applied_at", "TIMESTAMPTZ", "when forensics incidents --fix-skew moved them"),
]

TS_QUALITIES = ("exact", "zone_assumed", "year_inferred", "monotonic_aligned", "inherited", "skew_corrected",
                "unaligned",  # only seconds since boot so far (attrs.monotonic_us); ts is NULL
                "untimed")    # the line has no time and nothing near it gives one (an app's plain output); ts is NULL

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
    "unit_config": "a systemd unit's configuration in the bundle (attrs: memory_max_bytes, restart, oom_policy, ...)",
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
