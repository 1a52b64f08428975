"""The ingest pipeline: discovery -> format -> parser -> store, one transaction per file.

For each file: one pass reads it (decompressing where needed) to hash it,
count its lines and check that it is clean text; then, unless the database
already holds that content, its events and rejects are written in one
transaction together with its ``files`` row.  A file that grew since it was
last ingested gets only its new lines.
"""
from __future__ import annotations

import bz2
import codecs
import hashlib
import lzma
import os
import shutil
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable

import duckdb

import parsers
from parsers.context import Context
from parsers.timeutil import BadZone, zone

from . import ForensicsError, align, bulkload, dedupe, journal_load, kernel, syslog_load, years
from .discovery import Candidate, discover
from .store import Loader

CHUNK = 1 << 20
JOURNAL_MAGIC = b"LPKSHHRH"


@dataclass
class Options:
    host: str | None = None
    tz: str | None = None
    format: str | None = None
    year: int | None = None
    boot_time: str | None = None     # --boot-time: when the kernel clock of every host without better evidence started
    reference: bool = False          # read syslog and journal exports with the Python reference parsers (tests)
    deploys: list[str] = field(default_factory=list)   # --deploy 'TIME VERSION [COMMIT]': deploys given by hand


@dataclass
class FileResult:
    path: str
    format: str | None = None
    host: str | None = None
    lines: int = 0
    events: int = 0
    rejected: int = 0
    status: str = "ingested"     # ingested, appended, partial, unchanged, skipped, error
    note: str = ""
    file_id: int | None = None


@dataclass
class Scan:
    """What one pass over a file's (decompressed) content found."""
    sha256: str = ""
    bytes: int = 0
    lines: int = 0
    head: bytes = b""
    clean: bool = True            # valid UTF-8, no CR, no NUL: DuckDB may read it as it is
    compressed: str | None = None
    copy: Path | None = None      # decompressed copy, when the original is compressed
    truncated: str | None = None  # why the input ended early
    prefix_sha256: str | None = None  # hash of the first `prefix_bytes` bytes
    restart_offset: int | None = None  # byte offset of line `restart_line`


class Decompressed:
    """Reads a gzip, bzip2 or xz stream incrementally, keeping every byte the decompressor gives
    even when the input ends early (where the standard file objects drop their last chunk).
    Concatenated members (``cat a.gz b.gz``) are read one after the other."""

    def __init__(self, raw: BinaryIO, kind: str):
        self.raw, self.kind = raw, kind
        self.dec = self._new()
        self.done = False

    def _new(self):
        if self.kind == "gzip":
            return zlib.decompressobj(wbits=31)
        if self.kind == "bzip2":
            return bz2.BZ2Decompressor()
        return lzma.LZMADecompressor()

    def read(self, size: int) -> bytes:
        """Up to about ``size`` bytes; b"" at the end. Raises EOFError where the input ends early."""
        out = []
        got = 0
        while got < size and not self.done:
            data = self.raw.read(CHUNK)
            if not data:
                if not self.dec.eof:
                    tail = self.dec.flush() if self.kind == "gzip" else b""
                    if tail:
                        out.append(tail)
                    self.done = True
                    self.error = f"{self.kind} data ends early (truncated file?)"
                    break
                self.done = True
                break
            while data:
                chunk = self.dec.decompress(data)
                out.append(chunk)
                got += len(chunk)
                if self.dec.eof:
                    data = self.dec.unused_data
                    if data.strip(b"\x00"):
                        self.dec = self._new()   # the next member
                        continue
                    data = b""
                    # the member ended with the input consumed so far; a next member may follow
                    nxt = self.raw.read(1)
                    if not nxt:
                        self.done = True
                    else:
                        self.dec = self._new()
                        data = nxt
                else:
                    data = b""
        return b"".join(out)

    error: str | None = None


def _opener(f: BinaryIO) -> tuple[str | None, object]:
    magic = f.read(6)
    f.seek(0)
    if magic[:2] == b"\x1f\x8b":
        return "gzip", Decompressed(f, "gzip")
    if magic[:3] == b"BZh":
        return "bzip2", Decompressed(f, "bzip2")
    if magic == b"\xfd7zXZ\x00":
        return "xz", Decompressed(f, "xz")
    return None, f


def scan(path: Path, work: Path, prefix_bytes: int | None = None, restart_line: int | None = None) -> Scan:
    """Hash, count and check a file in one pass; decompress it into ``work`` where needed."""
    s = Scan()
    h = hashlib.sha256()
    prefix_h = hashlib.sha256() if prefix_bytes else None
    utf8 = codecs.getincrementaldecoder("utf-8")("strict")
    last = b""
    with open(path, "rb") as raw:
        kind, stream = _opener(raw)
        s.compressed = kind
        out = None
        if kind:
            s.copy = work / (path.name.rsplit(".", 1)[0] or "decompressed")
            out = open(s.copy, "wb")
        try:
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (EOFError, OSError, zlib.error, lzma.LZMAError) as e:
                    s.truncated = f"{kind} data is corrupt after {s.bytes} bytes ({e})"
                    break
                if not chunk:
                    if kind and stream.error:
                        s.truncated = f"{stream.error}: read {s.bytes} bytes"
                    break
                if len(s.head) < 65536:
                    s.head += chunk[: 65536 - len(s.head)]
                if prefix_h is not None and s.bytes < prefix_bytes:
                    prefix_h.update(chunk[: prefix_bytes - s.bytes])
                if restart_line is not None and s.restart_offset is None:
                    need = restart_line - 1 - s.lines  # newlines still to pass before the restart line
                    if need <= 0:
                        s.restart_offset = s.bytes
                    else:
                        pos = -1
                        for _ in range(need):
                            pos = chunk.find(b"\n", pos + 1)
                            if pos < 0:
                                break
                        if pos >= 0:
                            s.restart_offset = s.bytes + pos + 1
                h.update(chunk)
                s.lines += chunk.count(b"\n")
                if s.clean:
                    if b"\r" in chunk or b"\x00" in chunk:
                        s.clean = False
                    elif not chunk.isascii():
                        try:
                            utf8.decode(chunk)
                        except UnicodeDecodeError:
                            s.clean = False
                if out:
                    out.write(chunk)
                s.bytes += len(chunk)
                last = chunk[-1:]
        finally:
            if out:
                out.close()
    if last and last != b"\n":
        s.lines += 1  # a last line without a newline is a line
    s.sha256 = h.hexdigest()
    if prefix_h is not None:
        s.prefix_sha256 = prefix_h.hexdigest() if s.bytes >= prefix_bytes else None
    return s


def clean_copy(src: Path, dst: Path, offset: int = 0) -> None:
    """Write ``src`` from ``offset`` as clean text: invalid UTF-8, CR and NUL become U+FFFD (CRLF -> LF)."""
    dec = codecs.getincrementaldecoder("utf-8")("replace")
    with open(src, "rb") as f, open(dst, "w", encoding="utf-8", newline="") as out:
        f.seek(offset)
        carry = ""
        while True:
            chunk = f.read(CHUNK)
            text = carry + dec.decode(chunk, final=not chunk)
            carry = ""
            if text.endswith("\r") and chunk:
                text, carry = text[:-1], "\r"
            out.write(text.replace("\r\n", "\n").replace("\r", "\ufffd").replace("\x00", "\ufffd"))
            if not chunk:
                break


def native_to_export(path: Path, work: Path) -> Path:
    """Convert a native journal file with journalctl; a clear error where journalctl is missing."""
    exe = shutil.which("journalctl")
    if exe is None:
        raise ForensicsError("a native journal file needs journalctl (package systemd) to be read; or convert it "
                             "on a machine that has it: journalctl --file FILE -o export > FILE.export")
    src = path
    if not path.name.endswith((".journal", ".journal~")):
        src = work / (path.name + ".journal")
        shutil.copyfile(path, src)
    dst = work / (path.name + ".export")
    with open(dst, "wb") as out:
        r = subprocess.run([exe, "--file", str(src), "-o", "export", "--no-pager"], stdout=out,
                           stderr=subprocess.PIPE, env={**os.environ, "TZ": "UTC", "SYSTEMD_COLORS": "0"})
    if r.returncode != 0 and dst.stat().st_size == 0:
        msg = r.stderr.decode(errors="replace").strip().splitlines()
        raise ForensicsError(f"journalctl could not read it: {msg[-1] if msg else 'exit ' + str(r.returncode)}")
    return dst


class Ingester:
    """Ingests candidates into an open database, one transaction per file."""

    def __init__(self, con: duckdb.DuckDBPyConnection, options: Options, work: Path):
        self.con, self.opts, self.work = con, options, work
        self.offsets: list = []
        if options.format and options.format not in parsers.FORMATS:
            raise ForensicsError(f"unknown format {options.format!r}; 'forensics formats' lists them")
        if options.tz:
            try:
                zone(options.tz)
            except BadZone as e:
                raise ForensicsError(str(e))

    # -- files table ------------------------------------------------------------------------
    def _next_file_id(self) -> int:
        return self.con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM files").fetchone()[0]

    def _record(self, cand: Candidate, res: FileResult, sha: str | None = None, nbytes: int | None = None,
                tz: str | None = None) -> None:
        """A files row for a file that yields no events (skipped or failed), replacing an older such row."""
        self.con.execute("DELETE FROM files WHERE path = ? AND status IN ('skipped', 'error')", [cand.path])
        res.file_id = self._next_file_id()
        self.con.execute(
            "INSERT INTO files BY NAME SELECT ? AS file_id, ? AS path, ? AS abspath, ? AS sha256, ? AS bytes, "
            "? AS format, ? AS host, ? AS tz, 0 AS lines, 0 AS events, 0 AS rejected, ? AS status, ? AS note, "
            "now() AS ingested_at",
            [res.file_id, cand.path, str(cand.abspath), sha, nbytes, res.format, res.host, tz, res.status, res.note])

    # -- one file ---------------------------------------------------------------------------
    def ingest(self, cand: Candidate) -> FileResult:
        res = FileResult(cand.path, host=self.opts.host or cand.host)
        fdir = Path(tempfile.mkdtemp(dir=self.work))
        try:
            res = self._ingest(cand, res, fdir)
        except ForensicsError as e:
            res.status, res.note = "error", str(e)
        except (duckdb.Error, ValueError, OSError) as e:
            # a fault of ours or of DuckDB on this file: recorded, and the other files go on
            res.status, res.note = "error", f"internal error: {type(e).__name__}: {str(e).splitlines()[0][:300]}"
        else:
            return res
        finally:
            shutil.rmtree(fdir, ignore_errors=True)
        self._record(cand, res)
        return res

    def _ingest(self, cand: Candidate, res: FileResult, fdir: Path) -> FileResult:
        prev = self.con.execute(
            "SELECT file_id, sha256, bytes, lines, events, rejected, format FROM files "
            "WHERE path = ? AND status IN ('ingested', 'partial') ORDER BY file_id DESC LIMIT 1",
            [cand.path]).fetchone()
        restart_line = None
        if prev:
            # re-read from the first line of the last record: it may have been incomplete
            restart_line = self.con.execute(
                "SELECT least(coalesce((SELECT min(line) FROM events WHERE file_id = $f AND line_end >= $n), $n + 1),"
                " coalesce((SELECT min(line) FROM rejects WHERE file_id = $f AND line >= $n), $n + 1))",
                {"f": prev[0], "n": prev[3]}).fetchone()[0]
        try:
            sc = scan(cand.abspath, fdir, prev[2] if prev else None, restart_line)
        except OSError as e:
            res.status, res.note = "error", f"cannot read: {e.strerror or e}"
            self._record(cand, res)
            return res
        same = self.con.execute("SELECT path, format, host FROM files WHERE sha256 = ? "
                                "AND status IN ('ingested', 'partial')", [sc.sha256]).fetchone()
        if same:
            res.status, res.format, res.host = "unchanged", same[1], same[2]
            res.note = "already in the database" + ("" if same[0] == cand.path else f" as {same[0]}")
            return res
        if sc.bytes == 0:
            res.status, res.note = "skipped", sc.truncated or "empty file"
            self._record(cand, res, sc.sha256, 0)
            return res
        content = sc.copy or cand.abspath
        fmt = self.opts.format
        source = None
        if sc.head.startswith(JOURNAL_MAGIC):
            res.format = "journal_native"
            try:
                content = native_to_export(content, fdir)
            except ForensicsError as e:
                res.status, res.note = "error", f"native journal: {e}"
                self._record(cand, res, sc.sha256, sc.bytes)
                return res
            fmt, source = "journal_export", "journal_native"
            sc2 = scan(content, fdir)
            sc.lines, sc.clean = sc2.lines, sc2.clean
        elif fmt is None and cand.extra and cand.extra.get("format") in parsers.FORMATS:
            fmt = cand.extra["format"]          # the bundle's configuration names it (supervisor's program logs)
        elif fmt is None:
            fmt = parsers.sniff(sc.head, cand.path)
            if fmt is None:
                binary = b"\x00" in sc.head[:8192] or _looks_binary(sc.head)
                res.status = "skipped"
                res.note = ("binary file, not a log" if binary else
                            "format not recognised (force one with --format; 'forensics formats' lists them)")
                self._record(cand, res, sc.sha256, sc.bytes)
                return res
        res.format = source or fmt
        module = parsers.FORMATS[fmt]
        append = bool(prev and sc.prefix_sha256 == prev[1] and sc.bytes > prev[2]
                      and prev[6] == res.format and sc.restart_offset is not None)
        tz_name = self.opts.tz or cand.tz or "UTC"
        try:
            tz = zone(tz_name)
        except BadZone:
            tz_name, tz = "UTC", zone("UTC")
        mtime = datetime.fromtimestamp(cand.abspath.stat().st_mtime, timezone.utc)
        ctx = Context(path=cand.path, tz=tz, year=self.opts.year, mtime=mtime, host=res.host,
                      extra=dict(cand.extra or {}))
        host = res.host
        con = self.con
        con.begin()
        try:
            if append:
                file_id = prev[0]
                con.execute("DELETE FROM events WHERE file_id = ? AND line >= ?", [file_id, restart_line])
                con.execute("DELETE FROM rejects WHERE file_id = ? AND line >= ?", [file_id, restart_line])
                first_ordinal = con.execute("SELECT coalesce(max(event_id) & 4294967295, 0) FROM events "
                                            "WHERE file_id = ?", [file_id]).fetchone()[0]
                start, offset = restart_line, sc.restart_offset
            else:
                con.execute("DELETE FROM files WHERE path = ? AND status IN ('skipped', 'error')", [cand.path])
                file_id = self._next_file_id()
                con.execute("INSERT INTO files BY NAME SELECT ? AS file_id, ? AS path, ? AS abspath, ? AS format, "
                            "? AS host, ? AS tz, 'ingested' AS status, now() AS ingested_at",
                            [file_id, cand.path, str(cand.abspath), res.format, host, tz_name])
                first_ordinal, start, offset = 0, 1, 0
            res.file_id = file_id
            def readable(rewrite=clean_copy) -> str:
                """The file as DuckDB may read it: the original where it is clean and read from its start,
                else a rewritten copy from the offset (for an export, a binary field's length has NUL
                bytes, so a clean file has none to rewrite)."""
                if sc.clean and not offset:
                    return str(content)
                target = fdir / "readable.txt"
                rewrite(content, target, offset)
                return str(target)

            if fmt == "syslog" and not self.opts.reference:
                syslog_load.load(con, readable(), file_id, res.format, host, tz, self.opts.year, mtime,
                                 start, first_ordinal)
            elif fmt == "journal_export" and not self.opts.reference:
                journal_load.load(con, readable(journal_load.textify), file_id, res.format, host, start,
                                  first_ordinal)
            elif getattr(module, "BULK", None) is not None:
                bulkload.load(con, module.BULK, readable(), file_id, res.format, host, start, first_ordinal)
            else:
                with open(content, "rb") as f:
                    f.seek(offset)
                    loader = Loader(con, file_id, res.format, host, first_ordinal, spool_dir=str(fdir))
                    loader.load(module.parse(f, ctx, start))
            kernel.combine_oom(con, file_id, start)
            ev, rj, covered = con.execute(
                "SELECT (SELECT count(*) FROM events WHERE file_id = $f), "
                "(SELECT count(*) FROM rejects WHERE file_id = $f), "
                "(SELECT coalesce(sum(nlines), 0) FROM events WHERE file_id = $f)",
                {"f": file_id}).fetchone()
            note = sc.truncated or ""
            if covered + rj != sc.lines:
                note = (note + "; " if note else "") + f"{sc.lines - covered - rj} lines not accounted for"
            main_host = con.execute("SELECT host FROM events WHERE file_id = ? AND host IS NOT NULL "
                                    "GROUP BY host ORDER BY count(*) DESC LIMIT 1", [file_id]).fetchone()
            res.host = main_host[0] if main_host else host
            status = "partial" if sc.truncated else "ingested"
            con.execute("UPDATE files SET sha256 = ?, bytes = ?, lines = ?, events = ?, rejected = ?, status = ?, "
                        "note = ?, host = ?, ingested_at = now() WHERE file_id = ?",
                        [sc.sha256, sc.bytes, sc.lines, ev, rj, status, note or None, res.host, file_id])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        res.lines, res.events, res.rejected, res.note = sc.lines, ev, rj, note
        res.status = "partial" if sc.truncated else ("appended" if append else "ingested")
        if append:
            res.note = f"grew: read from line {start}" + (f"; {note}" if note else "")
        return res


def _record_deploys(con: duckdb.DuckDBPyConnection, options: Options, host: str | None) -> FileResult:
    """--deploy given by hand: deploy events of a files row named for the command line (no lines of a file),
    on ``host`` (--host, or the bundle's one host)."""
    import io
    from parsers import deploy_log
    from parsers.model import Event
    tz = zone(options.tz or "UTC")
    text = "\n".join(options.deploys)
    records = list(deploy_log.parse(io.BytesIO(text.encode()), Context(path="--deploy", tz=tz), 1))
    bad = [r for r in records if not isinstance(r, Event)]
    if bad:
        raise ForensicsError(f"--deploy {bad[0].text!r}: give 'TIME VERSION [COMMIT]', e.g. "
                             "'2024-05-28T03:00:12Z v1.4.2 3f2a9c1'")
    con.begin()
    try:
        con.execute("DELETE FROM events WHERE file_id IN (SELECT file_id FROM files WHERE path = '(--deploy)')")
        con.execute("DELETE FROM files WHERE path = '(--deploy)'")
        file_id = con.execute("SELECT coalesce(max(file_id), 0) + 1 FROM files").fetchone()[0]
        con.execute("INSERT INTO files BY NAME SELECT ? AS file_id, '(--deploy)' AS path, 'deploy_log' AS format, "
                    "0 AS lines, ? AS events, 0 AS rejected, 'ingested' AS status, "
                    "'deploys given on the command line' AS note, now() AS ingested_at",
                    [file_id, len(records)])
        # given by hand: no line of a file holds them (line 0, nlines 0)
        loader = Loader(con, file_id, "deploy_log", host)
        loader.load(r._replace(line=0, line_end=0, nlines=0, attrs={**(r.attrs or {}), "given": "--deploy"})
                    for r in records)
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return FileResult("(--deploy)", "deploy_log", host, 0, len(records), 0, "ingested",
                      "deploys given on the command line", file_id)


def _adopt_record_hosts(con: duckdb.DuckDBPyConnection, cands: list[Candidate],
                        results: list[FileResult]) -> None:
    """Where a host folder's records all name one host (web1/ holding syslog lines of ip-10-0-0-5), the
    folder's other files (dmesg, nginx: no host of their own) take that name too, so that their events
    meet the others' on one host."""
    folders: dict[str, list[int]] = {}
    for c, r in zip(cands, results):
        if c.host and r.file_id is not None:
            folders.setdefault(c.host, []).append(r.file_id)
    for folder_host, ids in folders.items():
        named = con.execute(
            f"SELECT DISTINCT host FROM events WHERE file_id IN ({', '.join(map(str, ids))}) "
            f"AND host IS NOT NULL AND host <> ?", [folder_host]).fetchall()
        if len(named) == 1:
            con.execute(f"UPDATE events SET host = ? WHERE file_id IN ({', '.join(map(str, ids))}) AND host = ?",
                        [named[0][0], folder_host])
            con.execute(f"UPDATE files SET host = ? WHERE file_id IN ({', '.join(map(str, ids))}) AND host = ?",
                        [named[0][0], folder_host])
            for c, r in zip(cands, results):
                if r.host == folder_host:
                    r.host = named[0][0]


def _parse_boot_time(text: str) -> int:
    """--boot-time: an ISO 8601 time (UTC unless it says), or epoch seconds (btime)."""
    from dateutil import parser as dtparser
    t = text.strip()
    if t.isdigit():
        return int(t) * 1_000_000
    try:
        dt = dtparser.isoparse(t)
    except ValueError:
        try:
            dt = dtparser.parse(t)
        except (ValueError, OverflowError):
            raise ForensicsError(f"--boot-time {text!r}: give a time like 2024-05-28T06:00:01Z or epoch seconds")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp() * 1_000_000)


def _looks_binary(head: bytes) -> bool:
    sample = head[:8192]
    if not sample:
        return False
    text = sum(1 for b in sample if b >= 32 or b in (9, 10, 13))
    return text / len(sample) < 0.9


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[str], options: Options,
                 on_file: Callable[[Candidate, FileResult | None], None] | None = None,
                 on_start: Callable[[list[Candidate]], None] | None = None,
                 ) -> tuple[list[FileResult], list[str]]:
    """Ingest every file under ``paths``; returns the per-file results and the paths that were not there.

    ``on_start`` hears the list of files found; ``on_file`` hears each file before (result None) and after.
    """
    forced_boot = _parse_boot_time(options.boot_time) if options.boot_time else None
    work = Path(tempfile.mkdtemp(prefix="forensics-"))
    try:
        cands, errors = discover(paths, work)     # archives are unpacked into work
        if on_start:
            on_start(cands)
        ing = Ingester(con, options, work)
        results = []
        for c in cands:
            if on_file:
                on_file(c, None)
            r = ing.ingest(c)
            results.append(r)
            if on_file:
                on_file(c, r)
        if options.host is None:
            _adopt_record_hosts(con, cands, results)
        if options.deploys:
            hosts = {r.host for r in results if r.host}
            results.append(_record_deploys(con, options, options.host or (hosts.pop() if len(hosts) == 1 else None)))
        boot_times = {c.host if options.host is None else options.host: c.boot_us for c in cands if c.boot_us}
        if forced_boot is not None:
            boot_times[None] = forced_boot
        con.begin()
        try:
            if options.year is None:
                years.fix_years(con)   # before the kernel clocks are aligned on those times
            ing.offsets = align.align(con, boot_times)
            dedupe.link(con)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return results, errors
    finally:
        shutil.rmtree(work, ignore_errors=True)
