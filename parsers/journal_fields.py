"""Journal fields -> event columns, shared by journal_json, journal_export and native journals.

>>> e = to_event({"__REALTIME_TIMESTAMP": "1716906912000000", "_HOSTNAME": "vps1",
...     "_COMM": "systemd", "_PID": "1", "PRIORITY": "3", "UNIT": "nest-api.service",
...     "_SYSTEMD_UNIT": "init.scope", "_BOOT_ID": "26d7", "__MONOTONIC_TIMESTAMP": "8780",
...     "MESSAGE": "nest-api.service: Failed with result 'oom-kill'."}, 7, 30)
>>> e.kind, e.unit, e.attrs["result"], e.attrs["boot_id"], e.attrs["monotonic_us"]
('service_failed', 'nest-api.service', 'oom-kill', '26d7', 8780)
"""
from __future__ import annotations

from .model import Event, Reject
from .messages import WATCHED, classify

# journal field -> attrs key, kept for clock alignment and for SQL.  The store's SQL
# reading of export files (forensics.journal_load) is built from these same tables.
KEEP_TEXT = {
    "_BOOT_ID": "boot_id",
    "_TRANSPORT": "transport",
    "MESSAGE_ID": "message_id",
    "_SYSTEMD_CGROUP": "cgroup",
    "EXIT_CODE": "exit_code",
    "EXIT_STATUS": "exit_status",
}
KEEP_INT = {
    "__MONOTONIC_TIMESTAMP": "monotonic_us",        # of the boot boot_id names, when journald received it
    "_SOURCE_MONOTONIC_TIMESTAMP": "source_monotonic_us",
    "_UID": "uid",
}


# every field the mapping reads
FIELDS = sorted({"__REALTIME_TIMESTAMP", "_SOURCE_REALTIME_TIMESTAMP", "MESSAGE", "SYSLOG_IDENTIFIER", "_COMM",
                 "_PID", "SYSLOG_PID", "_SYSTEMD_UNIT", "_SYSTEMD_USER_UNIT", "_TRANSPORT", "UNIT", "USER_UNIT",
                 "_HOSTNAME", "PRIORITY"} | set(KEEP_TEXT) | set(KEEP_INT))


def _int(v: str | None) -> int | None:
    if v is None:
        return None
    try:
        return int(v)
    except ValueError:
        return None


def to_event(f: dict[str, str], line: int, line_end: int) -> Event | Reject:
    """One journal entry (field name -> text value) as an event."""
    # as journalctl shows it: the time the source stamped, else the time journald received it
    received = _int(f.get("__REALTIME_TIMESTAMP"))
    ts = _int(f.get("_SOURCE_REALTIME_TIMESTAMP")) or received
    message = f.get("MESSAGE")
    if ts is None:
        return Reject(line, "journal entry without __REALTIME_TIMESTAMP", message or "")
    if message is None:
        message = ""
    attrs: dict = {}
    for k, a in KEEP_TEXT.items():
        v = f.get(k)
        if v is not None:
            attrs[a] = v
    for k, a in KEEP_INT.items():
        v = _int(f.get(k))
        if v is not None:
            attrs[a] = v
    if received is not None and received != ts:
        attrs["received_us"] = received
    # the identifier is what syslog files and journalctl's text outputs show; _COMM is kept where it differs
    process = f.get("SYSLOG_IDENTIFIER") or f.get("_COMM")
    if f.get("_COMM") and f["_COMM"] != process:
        attrs["comm"] = f["_COMM"]
    pid = _int(f.get("_PID") or f.get("SYSLOG_PID"))
    unit = f.get("_SYSTEMD_UNIT")
    if unit and unit.startswith("user@") and f.get("_SYSTEMD_USER_UNIT"):
        unit = f["_SYSTEMD_USER_UNIT"]
    kind = "log"
    if f.get("_TRANSPORT") == "kernel":
        process = "kernel"
    elif process in WATCHED:
        subject = f.get("UNIT") or f.get("USER_UNIT") if process == "systemd" else None
        typed = classify(process, message, subject or unit)
        if typed:
            kind, unit = typed.kind, typed.unit
            attrs.update(typed.attrs)
            if typed.victim:
                process, pid = typed.victim
        elif subject:
            unit = subject
    return Event(ts, "exact", kind, message, line, line_end,
                 host=f.get("_HOSTNAME"), severity=_int(f.get("PRIORITY")),
                 unit=unit, process=process, pid=pid, attrs=attrs or None)
