"""Which format each real sample is read as, written down from PROVENANCE.md: one table for every
format, so that a new reader that claims another's files fails here."""
from __future__ import annotations

import gzip

import pytest

import parsers

from .helpers import SAMPLES

BY_FOLDER = {
    "dmesg": "dmesg", "journal-export": "journal_export", "journal-json": "journal_json",
    "journal-native": None,        # binary: the ingest knows it by its magic and reads it through journalctl
    "journal-short": "journal_short", "kern-log": "syslog", "laravel": "laravel", "mysql": "mysql_error",
    "nestjs": "nestjs", "nginx-access": "nginx_access", "nginx-error": "nginx_error",
    "node-heap-oom": "node_stderr", "oomd": "syslog", "pm2": "pm2", "redis": "redis",
    "supervisor": "supervisord", "syslog": "syslog",
}
EXCEPT = {
    # journalctl -o short without its banner is the same lines as a syslog file
    "journal-short/derived-s4-ubuntu16-system.short.txt": "syslog",
    "journal-short/issue-systemd-22032-oomd-kill-journal-excerpt.txt": "syslog",
    # MariaDB through rsyslog is a syslog file; the mysql client's "ERROR 1040 (08004): Too many connections" is
    # what a client printed on its screen, not a log
    "mysql/lab-mariadb-10.11-via-rsyslog-startup-excerpt.log": "syslog",
    "mysql/lab-mariadb-10.11-mysql-cli-error-1040.txt": None,
    # earlyoom's stdout has no times; the cloudpanel excerpt was trimmed to "HH:MM:SS kernel: ..." by its reporter
    "oomd/issue-earlyoom-131-stdout-v1.3-excerpt.txt": None,
    "syslog/issue-cloudpanel-ce-333-user-trimmed-oom-grep-excerpt.log": None,
    # PM2's app output: --time lines by content, the untimed error logs by their -error.log name in a pm2 folder
    "pm2/lab-pm2-5.4.3-api-out-time-prefix.log": "pm2_app",
    "pm2/salilw1999-index-error.log": "pm2_app",
    "pm2/kqsmea8-pibackup-MagicMirror-error-0.log": "pm2_app",
}


def _samples():
    if not SAMPLES.exists():
        return []
    return sorted(p for p in SAMPLES.rglob("*") if p.is_file() and p.suffix != ".md")


@pytest.mark.parametrize("path", _samples(), ids=lambda p: p.relative_to(SAMPLES).as_posix())
def test_each_sample_is_read_as_its_format(path):
    rel = path.relative_to(SAMPLES).as_posix()
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    expected = EXCEPT.get(rel, BY_FOLDER[rel.split("/")[0]])
    assert parsers.sniff(data[:65536], str(path)) == expected


def test_the_table_covers_the_samples():
    if not SAMPLES.exists():
        pytest.skip("../shared/samples not present")
    assert len(_samples()) > 80
