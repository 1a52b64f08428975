"""Bundles sent as one archive: ``incident.tar.gz``, ``.tgz``, ``.tar.xz``, ``.tar.bz2``, ``.tar``, ``.zip``.

An archive given to ``forensics ingest`` is unpacked into the ingest's work folder and read as the folder
it holds; its files are shown and stored under the archive's name (``incident.tar.gz/web1/dmesg.txt``).
Members keep their modification times (so a year-less syslog takes its year from when the server wrote
it). Nothing is written outside the work folder: an absolute name is read as relative to the archive,
``..``, links pointing out and device files are left out, each with a note; an archive cut short gives
the members before the cut and as much of the member it cuts as is there.
"""
from __future__ import annotations

import os
import re
import tarfile
import zipfile
from pathlib import Path

NAMES = re.compile(r"\.(?:tar|tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2?|zip)$", re.IGNORECASE)


def is_archive(path: Path) -> bool:
    """A tar or zip archive by its name and its content."""
    if not NAMES.search(path.name) or not path.is_file():
        return False
    try:
        return tarfile.is_tarfile(path) or zipfile.is_zipfile(path)
    except OSError:
        return False


def unpack(path: Path, dest: Path) -> list[str]:
    """Unpack ``path`` into ``dest`` (made here); returns one note per member left out or problem met."""
    dest.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    if zipfile.is_zipfile(path):
        _unzip(path, dest, notes)
    else:
        _untar(path, dest, notes)
    return notes


def _untar(path: Path, dest: Path, notes: list[str]) -> None:
    try:
        with tarfile.open(path, "r:*") as tar:
            while True:
                try:
                    member = tar.next()
                except (tarfile.ReadError, EOFError, OSError) as e:
                    notes.append(f"{path.name}: archive cut short or damaged after the members read ({e})")
                    return
                if member is None:
                    return
                try:
                    tar.extract(member, dest, filter="data")
                except tarfile.FilterError as e:
                    notes.append(f"{path.name}: {member.name}: left out ({e})")
                except (EOFError, tarfile.ReadError) as e:   # what was written of it is read
                    notes.append(f"{path.name}: {member.name}: cut short, read as far as it goes ({e})")
                    return
                except OSError as e:
                    notes.append(f"{path.name}: {member.name}: left out ({e})")
    except (tarfile.TarError, OSError, EOFError) as e:
        notes.append(f"{path.name}: cannot be read as a tar archive ({e})")


def _unzip(path: Path, dest: Path, notes: list[str]) -> None:
    root = dest.resolve()
    try:
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                name = info.filename
                target = (dest / name).resolve()
                if name.startswith(("/", "\\")) or ".." in Path(name).parts or not str(target).startswith(str(root)):
                    notes.append(f"{path.name}: {name}: left out (a name outside the archive's folder)")
                    continue
                try:
                    z.extract(info, dest)
                    if not info.is_dir():   # keep the member's time, as tar does
                        t = _zip_time(info)
                        if t is not None:
                            os.utime(target, (t, t))
                except (zipfile.BadZipFile, OSError, EOFError) as e:
                    notes.append(f"{path.name}: {name}: left out ({e})")
    except (zipfile.BadZipFile, OSError) as e:
        notes.append(f"{path.name}: cannot be read as a zip archive ({e})")


def _zip_time(info: zipfile.ZipInfo) -> float | None:
    import datetime as dt
    try:
        return dt.datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError):
        return None
