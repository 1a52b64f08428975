"""Which files a bundle holds, and what the bundle says about each: its
host (the host folder of a multi-host bundle, or the bundle folder) and its
time zone (``etc/timezone``, ``timedatectl`` output).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from . import archives

# Folder names that are parts of a log layout, never host names.
LAYOUT_DIRS = {
    "var", "log", "logs", "etc", "home", "root", "opt", "srv", "tmp", "run", "usr", "app", "apps",
    ".pm2", "pm2", "nginx", "supervisor", "supervisord", "journal", "storage", "sos_commands",
    "deploy", "deploys", "kernel", "dmesg", "systemd", "mysql", "redis", "laravel", "api", "node",
}
SKIP_DIRS = {"node_modules", "__pycache__", ".venv", "proc"}   # proc/: facts (btime), not logs
SKIP_SUFFIXES = (".duckdb", ".duckdb.wal", ".html", ".md", ".json.expected", ".py", ".pyc")
SKIP_NAMES = {"expected.json", "README", "README.md", "PROVENANCE.md", "hostname", "timezone", "localtime",
              "uptime-s", "uptime-s.txt", "uptime_s.txt", "uptime_s"}


@dataclass
class Candidate:
    abspath: Path
    path: str              # as shown and stored: relative to the folder holding the bundle
    host: str | None       # the host the bundle layout suggests
    tz: str | None         # the zone the bundle says its host is in
    boot_us: int | None = None  # the boot time the bundle states (proc/stat btime), µs since the epoch
    extra: dict | None = None   # what the bundle's configuration says of this file (format, app, stream)


def host_folders(folder: Path) -> list[Path]:
    """The folders of ``folder`` that each hold one host's logs.

    A folder holding only folders that are not parts of a log layout (``web1/``,
    ``db1/`` or ``incident-42/web1/``) is a bundle of hosts, looked into
    recursively; any other folder (one with ``var/``, ``.pm2/`` or log files of
    its own) is one host.
    """
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return [folder]
    subs = [p for p in entries if p.is_dir() and p.name not in SKIP_DIRS]
    files = [p for p in entries if p.is_file() and not _skip(p.name)]
    if subs and not files and all(p.name.lower() not in LAYOUT_DIRS and not p.name.startswith(".") for p in subs):
        return [h for p in subs for h in host_folders(p)]
    return [folder]


def _read_first_line(p: Path) -> str | None:
    try:
        with open(p, encoding="utf-8", errors="replace") as f:
            return f.readline().strip() or None
    except OSError:
        return None


SUPERVISOR_CONFS = ("etc/supervisor/supervisord.conf", "etc/supervisord.conf", "etc/supervisor/conf.d/*.conf",
                    "etc/supervisord.d/*.ini", "etc/supervisord.d/*.conf")


def supervisor_logs(folder: Path) -> list[tuple[str, dict]]:
    """(path pattern, what it holds) for every ``stdout_logfile``/``stderr_logfile`` that the host's
    supervisor configuration names: the program's output, to be read as ``supervisor_app``."""
    import configparser
    out = []
    for pattern in SUPERVISOR_CONFS:
        for conf in sorted(folder.glob(pattern)):
            cp = configparser.ConfigParser(strict=False, interpolation=None)
            try:
                cp.read_string(conf.read_text(errors="replace"))
            except (configparser.Error, OSError):
                continue
            for section in cp.sections():
                if not section.startswith("program:"):
                    continue
                program = section.split(":", 1)[1].strip()
                for key, stream in (("stdout_logfile", "out"), ("stderr_logfile", "error")):
                    value = cp.get(section, key, fallback="").strip()
                    if not value or value.upper() in ("AUTO", "NONE") or value.startswith("/dev/"):
                        continue
                    value = value.replace("%(program_name)s", program)
                    value = re.sub(r"%\([^)]*\)\w", "*", value)     # %(process_num)02d and the like
                    out.append((value, {"format": "supervisor_app", "app": program, "stream": stream}))
    return out


def _configured(fp: Path, folder: Path, logs: list[tuple[str, dict]]) -> dict | None:
    """What the configuration says of a file: matched by its path in the host folder, else its name."""
    import fnmatch
    rel = "/" + fp.relative_to(folder).as_posix()
    for pattern, extra in logs:
        if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(rel, pattern + ".[0-9]*"):
            return extra
    for pattern, extra in logs:
        if fnmatch.fnmatch(fp.name, pattern.rsplit("/", 1)[-1]):
            return extra
    return None


UPTIME_S_NAMES = ("uptime-s", "uptime-s.txt", "uptime_s.txt", "uptime_s", "uptime")


def boot_time(folder: Path, tz: str | None = None) -> int | None:
    """The boot time a host folder states, in µs: ``btime`` of a captured /proc/stat, else the output of
    ``uptime -s`` (``2024-05-28 06:00:01``, the host's local time) saved as uptime-s.txt or the like."""
    p = folder / "proc" / "stat"
    if p.is_file():
        m = re.search(r"^btime (\d+)$", p.read_text(errors="replace"), re.M)
        if m:
            return int(m.group(1)) * 1_000_000
    for name in UPTIME_S_NAMES:
        p = folder / name
        if p.is_file() and p.stat().st_size < 100:
            m = re.fullmatch(r"\s*(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\s*", p.read_text(errors="replace"))
            if m:
                from parsers.timeutil import BadZone, LocalClock, zone
                try:
                    clock = LocalClock(zone(tz or "UTC"))
                except BadZone:
                    clock = LocalClock(zone("UTC"))
                return clock.to_us(*(int(g) for g in m.groups()), 0)
    return None


def bundle_facts(folder: Path) -> tuple[str | None, str | None]:
    """(hostname, zone) that a host folder states about itself, where it does."""
    host = None
    for rel in ("etc/hostname", "hostname"):
        if (folder / rel).is_file():
            host = _read_first_line(folder / rel)
            break
    tz = None
    for rel in ("etc/timezone", "timezone"):
        if (folder / rel).is_file():
            tz = _read_first_line(folder / rel)
            break
    if tz is None:
        for rel in ("timedatectl", "timedatectl.txt", "sos_commands/systemd/timedatectl"):
            if (folder / rel).is_file():
                m = re.search(r"Time zone:\s*(\S+)", (folder / rel).read_text(errors="replace"))
                if m:
                    tz = m.group(1)
                    break
    if tz is None and (folder / "etc/localtime").is_symlink():
        target = os.readlink(folder / "etc/localtime")
        m = re.search(r"zoneinfo/(.+)$", target)
        tz = m.group(1) if m else None
    return host, tz


def _skip(name: str) -> bool:
    return name in SKIP_NAMES or name.endswith(SKIP_SUFFIXES)


def discover(paths: list[str], work: Path | None = None) -> tuple[list[Candidate], list[str]]:
    """Every file under ``paths``, in a stable order, and one error line per path that is not there.

    An archive (tar, tar.gz, zip: forensics.archives) is unpacked into ``work`` and read as a folder
    shown under the archive's name; without ``work`` it is one file like any other.
    """
    out: list[Candidate] = []
    errors: list[str] = []
    for i, arg in enumerate(paths):
        p = Path(arg)
        if not p.exists() and not p.is_symlink():
            errors.append(f"{arg}: no such file or folder")
            continue
        if work is not None and archives.is_archive(p):
            dest = work / f"archive-{i}"
            errors += archives.unpack(p, dest)
            _walk(dest, Path(arg), out, errors, archives.NAMES.sub("", p.name))
            continue
        if p.is_file() or (p.exists() and not p.is_dir()):
            out.append(Candidate(p.resolve(), arg, None, None))
            continue
        if p.is_symlink() and not p.exists():
            errors.append(f"{arg}: broken symbolic link")
            continue
        _walk(p.resolve(), Path(arg.rstrip("/") or "/"), out, errors)
    return out, errors


def _walk(root: Path, shown_base: Path, out: list[Candidate], errors: list[str], root_name: str | None = None) -> None:
    """The files of the bundle folder ``root``, shown under ``shown_base``; ``root_name``: the name the root
    goes by (an archive's, without its extension) where the folder's own is a work folder's."""
    for folder in host_folders(root):
        stated_host, tz = bundle_facts(folder)
        boot_us = boot_time(folder, tz)
        program_logs = supervisor_logs(folder)
        name = root_name if folder == root and root_name else folder.name
        host = stated_host or (name if name.lower() not in LAYOUT_DIRS else None)
        for dirpath, dirnames, filenames in os.walk(folder):
            in_git = Path(dirpath).name == ".git" or ".git" in Path(dirpath).parts
            if in_git:   # of a repository only its reflog (.git/logs/HEAD): when the code changed
                dirnames[:] = ["logs"] if Path(dirpath).name == ".git" and "logs" in dirnames else []
                filenames = ["HEAD"] if Path(dirpath).name == "logs" and "HEAD" in filenames else []
            else:
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
            for name in sorted(filenames, key=_rotation_key):
                if _skip(name):
                    continue
                fp = Path(dirpath) / name
                if fp.is_symlink() and not fp.exists():
                    errors.append(f"{shown_base / fp.relative_to(root)}: broken symbolic link")
                    continue
                extra = _configured(fp, folder, program_logs) if program_logs else None
                out.append(Candidate(fp, str(shown_base / fp.relative_to(root)), host, tz, boot_us, extra))


def _rotation_key(name: str) -> tuple:
    """syslog.3.gz, syslog.2.gz, syslog.1, syslog: oldest first."""
    m = re.match(r"(.*?)(?:[.-](\d+))?(\.gz|\.xz|\.bz2)?$", name)
    base, num = m.group(1), m.group(2)
    return (base, -(int(num) if num else 0))
