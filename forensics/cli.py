"""The command line: argument parsing and output only; the work is in the library."""
from __future__ import annotations

import sys
from typing import List, Optional

import duckdb
import typer

import parsers

from . import ForensicsError, __version__
from .ingest import FileResult, Options, ingest_paths
from .output import FORMATS, render
from .store import DEFAULT_DB, connect

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Postmortems of Linux service incidents from their logs: ingest a bundle of logs into "
                       "one DuckDB event table, then ask it questions.")

DbOpt = typer.Option(DEFAULT_DB, "--db", help="DuckDB file to write or read.")


def fail(msg: str) -> None:
    typer.echo(f"forensics: error: {msg}", err=True)
    raise typer.Exit(1)


@app.command()
def ingest(
    paths: List[str] = typer.Argument(..., help="Files and folders (searched recursively); .gz/.xz/.bz2 and rotated files included."),
    db: str = DbOpt,
    host: Optional[str] = typer.Option(None, help="Host for records that name none (instead of the bundle folder's name)."),
    tz: Optional[str] = typer.Option(None, help="Zone for times written without one (IANA name or +HH:MM). Default: the zone the bundle states, else UTC."),
    format: Optional[str] = typer.Option(None, "--format", help="Force this format for every file ('forensics formats' lists them)."),
    year: Optional[int] = typer.Option(None, help="Year of the first line of files whose timestamps have none. Default: from each file's date."),
    deploy: List[str] = typer.Option([], "--deploy", help="A deploy given by hand, 'TIME VERSION [COMMIT]' (repeat the option for several), e.g. '2024-05-28T03:00:12Z v1.4.2 3f2a9c1'."),
    boot_time: Optional[str] = typer.Option(None, "--boot-time", help="When the kernel clock started (uptime -s, or /proc/stat btime), for dmesg times that nothing else in the bundle aligns. ISO 8601 (UTC unless it says) or epoch seconds."),
) -> None:
    """Parse logs into the event table.

    Example: forensics ingest incident-2024-05-28/ --db incident.duckdb
    """
    opts = Options(host=host, tz=tz, format=format, year=year, boot_time=boot_time, deploys=list(deploy))
    try:
        con = connect(db)
    except ForensicsError as e:
        fail(str(e))
    results: list[FileResult] = []
    try:
        with _progress() as bar:
            results, missing = ingest_paths(con, paths, opts, bar and bar.on_file, bar and bar.on_start)
        offsets = con.execute("SELECT o.host, f.path, o.boot_seq, strftime(o.boot_time, '%Y-%m-%dT%H:%M:%S.%fZ'), "
                              "o.method, o.uncertainty_us, o.aligned, o.evidence FROM clock_offsets o "
                              "LEFT JOIN files f USING (file_id) ORDER BY f.path, o.boot_seq").fetchall()
    except ForensicsError as e:
        fail(str(e))
    finally:
        con.close()
    _summary(results, db)
    _clocks(offsets)
    if any(r.events for r in results):
        typer.echo(f"\nnext: forensics incidents --db {db}   (or forensics timeline --db {db} -o postmortem.html)")
    for m in missing:
        typer.echo(f"forensics: error: {m}", err=True)
    failed = [r for r in results if r.status == "error"]
    if failed:
        typer.echo(f"forensics: error: {len(failed)} file{'s' if len(failed) > 1 else ''} could not be read "
                   "(status error above); the others were ingested", err=True)
    if not results and not missing:
        typer.echo("forensics: error: no files found", err=True)
    if missing or failed or not results:
        raise typer.Exit(1)


class _progress:
    """A progress bar over files and bytes on a terminal; nothing in a pipe."""

    def __init__(self):
        self.bar = None
        if sys.stderr.isatty():
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TransferSpeedColumn(),
                                TimeRemainingColumn(), transient=True)

    def __enter__(self):
        if self.bar is None:
            return None
        self.bar.start()
        self.task = self.bar.add_task("ingest", total=None)
        return self

    @staticmethod
    def _size(cand) -> int:
        try:
            return cand.abspath.stat().st_size
        except OSError:
            return 0

    def on_start(self, cands) -> None:
        self.bar.update(self.task, total=sum(self._size(c) for c in cands) or None)

    def on_file(self, cand, res) -> None:
        if res is None:
            self.bar.update(self.task, description=f"ingest {cand.path[-50:]}")
        else:
            self.bar.advance(self.task, self._size(cand))

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.stop()


def _summary(results: list[FileResult], db: str) -> None:
    names = ["file", "format", "host", "lines", "events", "rejects", "status"]
    rows = [(r.path, r.format or "-", r.host or "-", r.lines, r.events, r.rejected,
             r.status + (f": {r.note}" if r.note else "")) for r in results]
    typer.echo(render(names, rows, "table", max_width=100))
    tot = [sum(r.lines for r in results), sum(r.events for r in results), sum(r.rejected for r in results)]
    typer.echo(f"{len(results)} files: {tot[0]} lines, {tot[1]} events, {tot[2]} rejected lines -> {db}")
    if tot[2]:
        typer.echo(f"rejected lines and why: forensics sql --db {db} "
                   "\"SELECT f.path, r.line, r.reason, r.text FROM rejects r JOIN files f USING (file_id)\"")



def _clocks(offsets: list[tuple]) -> None:
    """How seconds-since-boot were put on the wall clock, and where they could not be."""
    if not offsets:
        return
    typer.echo("\nkernel clocks (seconds since boot -> UTC):")
    rows = [(h or "-", p, seq, bt or "-", m, "" if u is None else f"±{u / 1000:.1f} ms", n, ev)
            for h, p, seq, bt, m, u, n, ev in offsets]
    typer.echo(render(["host", "file", "boot", "boot time", "method", "uncertainty", "events", "evidence"], rows,
                      "table", max_width=90))


@app.command()
def sql(
    query: str = typer.Argument(..., help="SQL to run (DuckDB dialect); tables files, events, rejects."),
    db: str = DbOpt,
    format: str = typer.Option("table", "--format", help="table, json or csv."),
) -> None:
    """Run a read-only SQL query.

    Example: forensics sql "SELECT kind, count(*) FROM events GROUP BY ALL ORDER BY 2 DESC"
    """
    if format not in FORMATS:
        fail(f"unknown --format {format!r}: use table, json or csv")
    try:
        con = connect(db, read_only=True)
    except ForensicsError as e:
        fail(str(e))
    try:
        names, rows = run_query(con, query)
    except duckdb.Error as e:
        fail(str(e).splitlines()[0])
    finally:
        con.close()
    if names:
        typer.echo(render(names, rows, format))


def run_query(con: duckdb.DuckDBPyConnection, query: str) -> tuple[list[str], list[tuple]]:
    """Run a query; TIMESTAMPTZ columns come back as ISO 8601 text in UTC."""
    rel = con.sql(query)
    if rel is None:
        return [], []
    names = rel.columns
    if not any(str(t) == "TIMESTAMP WITH TIME ZONE" for t in rel.types):
        return names, rel.fetchall()
    # by position (#n), since two columns may share a name
    casts = [f"strftime(#{i}, '%Y-%m-%dT%H:%M:%S.%fZ')" if str(t) == "TIMESTAMP WITH TIME ZONE" else f"#{i}"
             for i, t in enumerate(rel.types, 1)]
    return names, rel.project(", ".join(casts)).fetchall()


@app.command()
def incidents(
    db: str = DbOpt,
    format: str = typer.Option("table", "--format", help="table, json or csv."),
    host: Optional[str] = typer.Option(None, help="Only incidents of this host."),
    since: Optional[str] = typer.Option(None, help="Only incidents at or after this time (ISO 8601; UTC unless it says)."),
    until: Optional[str] = typer.Option(None, help="Only incidents at or before this time."),
    gap: float = typer.Option(10, help="Minutes between two deaths of a service that still make one incident."),
    fix_skew: bool = typer.Option(False, "--fix-skew", help="Move the times of files whose clock or zone is off "
                                  "the kernel's (measured on moments both recorded) before listing."),
) -> None:
    """List the incidents: each failure once, with its trigger, cause and impact (docs/incidents.md).

    Example: forensics incidents --format json
    """
    if format not in FORMATS:
        fail(f"unknown --format {format!r}: use table, json or csv")
    found = _incidents(db, host, since, until, gap, fix_skew)
    if format == "json":
        import json
        typer.echo(json.dumps(found, ensure_ascii=False, indent=1))
        return
    names = ["ts", "host", "service", "trigger", "limit", "deaths", "http_5xx", "downtime_s", "summary"]
    if format == "csv":
        names = [n for n in found[0]] if found else names
        rows = [tuple(_flat(i[n]) for n in names) for i in found]
        typer.echo(render(names, rows, "csv"))
        return
    if not found:
        typer.echo("no incidents")
        return
    for i in found:
        typer.echo(f"{i['ts']}  {i['host'] or '-'}  {i['service']}  {i['trigger']}"
                   + (f" ({i['limit']})" if i["limit"] else "") + f"\n  {i['summary']}")
        if i["unknowns"]:
            typer.echo("  not established: " + "; ".join(i["unknowns"]))
    typer.echo(f"({len(found)} incident{'s' if len(found) != 1 else ''})")


def _flat(v):
    if isinstance(v, (list, dict)):
        import json
        return json.dumps(v, ensure_ascii=False)
    return v


def _incidents(db: str, host, since, until, gap, fix_skew: bool = False) -> list[dict]:
    from .correlate import clock_skews, describe_skew, fix_skews
    from .correlate import incidents as find
    try:
        con = connect(db)
    except ForensicsError as e:
        fail(str(e))
    try:
        if fix_skew:
            for r in fix_skews(con):
                typer.echo(f"clock fixed: {describe_skew(r)}; moved by {-r['shift_s']:+g} s", err=True)
        for r in clock_skews(con):
            hint = "; --fix-skew moves its times" if r["fixable"] else "; its times state their zone, so they are left"
            typer.echo(f"clock warning: {describe_skew(r)}{hint}", err=True)
        return find(con, host=host, since=since, until=until, gap_minutes=gap)
    except ForensicsError as e:
        fail(str(e))
    finally:
        con.close()


@app.command()
def timeline(
    db: str = DbOpt,
    output: str = typer.Option("postmortem.html", "-o", "--output", help="The HTML file to write."),
    host: Optional[str] = typer.Option(None, help="Only this host."),
    since: Optional[str] = typer.Option(None, help="Start of the window (ISO 8601; UTC unless it says)."),
    until: Optional[str] = typer.Option(None, help="End of the window."),
    open_: bool = typer.Option(False, "--open", help="Open the page in the default browser."),
) -> None:
    """Write the HTML postmortem: incidents, a timeline of every source, memory and 5xx charts, key events.

    Example: forensics timeline -o postmortem.html
    """
    from .report import write_timeline
    try:
        con = connect(db)
    except ForensicsError as e:
        fail(str(e))
    try:
        found = write_timeline(con, output, host=host, since=since, until=until)
    except ForensicsError as e:
        fail(str(e))
    except OSError as e:
        fail(f"{output}: {e.strerror or e}")
    finally:
        con.close()
    for i in found:
        typer.echo(f"- {i['summary']}")
    if not found:
        typer.echo("no incidents")
    import os
    typer.echo(f"postmortem: {os.path.abspath(output)}")
    if open_:
        import pathlib
        import webbrowser
        webbrowser.open(pathlib.Path(output).resolve().as_uri())


@app.command()
def formats() -> None:
    """List the formats ingest reads, with a sample line of each."""
    rows = [(m.NAME, m.DESCRIPTION, m.SAMPLE.splitlines()[0]) for m in parsers.MODULES]
    rows.insert(0, ("journal_native", "native journal files (*.journal), read through journalctl", "(binary)"))
    typer.echo(render(["format", "what", "sample"], rows, "table", max_width=110))


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("forensics: interrupted", err=True)
        sys.exit(130)
    except (ForensicsError, duckdb.Error) as e:   # whatever a command did not catch: one line, never a traceback
        typer.echo(f"forensics: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
