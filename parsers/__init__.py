"""Format modules: each says what it is (NAME, DESCRIPTION, SAMPLE, sniff)
and turns a file into events, either with ``parse(raw, ctx, start)`` (a
generator of Event and Reject records) or with a ``BULK`` spec that the
store runs inside DuckDB.  This package imports neither DuckDB nor
forensics.
"""
from __future__ import annotations

from . import (deploy_log, dmesg, git_log, git_reflog, journal_export, journal_json, journal_short, laravel,
               mysql_error, nestjs, nginx_access, nginx_error, nginx_json, node_heap, php_fpm, pm2, pm2_app, pm2_jlist,
               redis, supervisor_app, supervisord, syslog, systemd_unit)

# Sniffing order matters only on ties: more specific formats first.
MODULES = [journal_export, journal_json, nginx_json, pm2_jlist, dmesg, journal_short, nginx_access, nginx_error,
           supervisord, laravel, php_fpm, redis, mysql_error, nestjs, node_heap, pm2, pm2_app, supervisor_app, git_log,
           git_reflog, deploy_log, systemd_unit, syslog]
FORMATS = {m.NAME: m for m in MODULES}


def head_lines(head: bytes, limit: int = 30) -> list[str]:
    """The first lines of a file's head, decoded leniently, without their newlines."""
    lines = head.split(b"\n")[:limit]
    if len(lines) > 1 and len(head) >= 65536:
        lines = lines[:-1]  # the last one may be cut
    return [l.rstrip(b"\r").decode("utf-8", "replace") for l in lines]


def sniff(head: bytes, path: str | None = None) -> str | None:
    """The name of the format that fits these first bytes best, or None.

    A module may also judge a file by its path (``sniff_path``), for logs whose lines carry nothing to
    recognise them by (an application's output without timestamps, under ``.pm2/logs/``).
    """
    lines = head_lines(head)
    best, best_score = None, 0
    for m in MODULES:
        score = m.sniff(lines)
        if path is not None and hasattr(m, "sniff_path"):
            score = max(score, m.sniff_path(path))
        if score > best_score:
            best, best_score = m.NAME, score
    return best
