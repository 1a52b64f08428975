"""What V8 writes to a Node process's stderr about its heap, and an app's ``process.memoryUsage()``.

Three uses:

- :func:`classify_block` (and :func:`scan`, which also says which lines each
  result holds and its text) finds these in lines another parser has already
  read (an app's error stream under PM2 or supervisor);
- parsers.nestjs.AppStream applies :func:`gc_attrs`, ``OOM_FATAL`` and
  :func:`memory_pairs` to an app's output in the journal or syslog, where
  each line is an entry of its own (the heap death is then typed on its
  ``FATAL ERROR`` entry);
- the format module ``node_stderr`` reads a file that is a Node process's
  stderr (``node app.js 2> err.log``, a process manager's error log) when it
  is mostly V8's output.  Nothing in it is wall time: every event is
  ``untimed`` (``ts`` empty).  V8's GC lines give milliseconds since the
  isolate started, kept in ``attrs.ms_since_start``.

What is recognised:

- a GC line, in the ``<--- Last few GCs --->`` part of a heap death or
  printed by ``--trace-gc``: ``[12345:0x5a0c1e0]    65432 ms: Mark-Compact
  2040.3 (2083.2) -> 2039.8 (2084.4) MB, 1234.5 / 0.0 ms  (average mu =
  0.123, current mu = 0.045) allocation failure; scavenge might not
  succeed`` -> kind ``gc``, attrs ``gc_type`` (``Scavenge``, ``Mark-Compact``,
  ``Mark-sweep``, ``Mark-Compact (reduce)``, ...), ``pid``, ``isolate``,
  ``ms_since_start``, ``heap_before_bytes``, ``heap_after_bytes``,
  ``committed_before_bytes``, ``committed_after_bytes`` (V8's MB, which are
  MiB, times 1048576, rounded to integers), ``pause_ms``, ``reason``
  (``allocation failure; scavenge might not succeed``; old V8's
  ``[allocation failure] [GC in old space requested].`` becomes
  ``allocation failure; GC in old space requested``), and ``average_mu`` /
  ``current_mu`` where printed.  ``pid`` and ``isolate`` are None on old
  V8's lines without the ``[pid:isolate]`` prefix;
- a heap death: ``<--- Last few GCs --->``, its GC lines, ``<--- JS
  stacktrace --->`` and the JS stack (possibly empty; old Node's and
  Windows' ``==== JS stack trace ====`` and frames), ``FATAL ERROR: Reached
  heap limit Allocation failed - JavaScript heap out of memory`` (or
  ``Ineffective mark-compacts near heap limit``, ``CALL_AND_RETRY_LAST``,
  ...), then ``----- Native stack trace -----`` and the native frames
  (`` 1: 0xb7b3e0 node::OOMErrorHandler(...) [node]``, macOS
  ``[/usr/local/bin/node]``, Windows `` 1: 00007FF7EC8CF04A ...``).  That
  report is ONE ``heap_oom`` event from its first line to its last frame; the
  GC lines inside it are their own ``gc`` events, so the ``heap_oom`` holds
  the report's other lines only (``nlines`` is smaller than its span, and its
  message leaves the GC lines out).  Attrs: ``reason`` (the words before
  ``Allocation failed``: ``Reached heap limit``; None if the report was cut
  before its FATAL line), ``heap_bytes`` (the heap at death: the last GC
  line's ``heap_after_bytes``), ``pid``, ``isolate`` and ``ms_since_start``
  of that GC line (None without GC lines);
- ``process.memoryUsage()`` printed by the app, as JSON
  (``{"rss":123,"heapTotal":...}``) or as Node's inspect output
  (``{ rss: 123, heapTotal: ... }``, also spread over several lines), after
  any prefix on its first line: one ``memory_sample`` event per metric
  (attrs ``metric``: ``rss``, ``heap_total``, ``heap_used``, ``external``,
  ``array_buffers``; ``bytes``).  They share their lines: the first holds
  them, the others have ``nlines`` 0.

In the format module every other line is a ``log`` event (a JS stack
trace's ``    at ...`` lines continue the line before); a blank line outside
a report is rejected (``blank line``).  ``unit`` is ``ctx.extra['app']``
where a caller gives it.

>>> lines = ["", "<--- Last few GCs --->", "",
...     "[7:0x3b87bfb0]      570 ms: Mark-Compact (reduce) 46.6 (49.7) -> 46.4 (50.4) MB, 38.95 / 0.00 ms"
...     "  (average mu = 0.271, current mu = 0.265) allocation failure; GC in old space requested", "",
...     "<--- JS stacktrace --->", "",
...     "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
...     "----- Native stack trace -----", "", " 1: 0xb78db3 node::OOMErrorHandler(char const*) [node]", "",
...     "{ rss: 30932992, heapTotal: 4730880, heapUsed: 4000664, external: 1401583, arrayBuffers: 10515 }"]
>>> [(k, f, l) for k, a, f, l in classify_block(lines)]
[('heap_oom', 1, 10), ('gc', 3, 3), ('memory_sample', 12, 12), ('memory_sample', 12, 12), \
('memory_sample', 12, 12), ('memory_sample', 12, 12), ('memory_sample', 12, 12)]
>>> found = [f for f in scan(lines) if f.kind]
>>> found[0].attrs, found[0].nlines
({'reason': 'Reached heap limit', 'heap_bytes': 48653926, 'pid': 7, 'isolate': '0x3b87bfb0', \
'ms_since_start': 570}, 9)
>>> g = found[1].attrs
>>> g["gc_type"], g["heap_before_bytes"], g["committed_after_bytes"], g["pause_ms"], g["reason"]
('Mark-Compact (reduce)', 48863642, 52848230, 38.95, 'allocation failure; GC in old space requested')
>>> [(f.attrs["metric"], f.attrs["bytes"], f.nlines) for f in found[2:4]]
[('rss', 30932992, 1), ('heap_total', 4730880, 0)]
"""
from __future__ import annotations

import re
from collections import deque
from typing import BinaryIO, Iterable, Iterator, NamedTuple

from .context import Context, text_lines
from .model import Event, Reject

NAME = "node_stderr"
DESCRIPTION = ("a Node process's stderr (node app.js 2> err.log): V8's heap-death report, --trace-gc lines, "
               "process.memoryUsage() output; untimed")
SAMPLE = ("[21088:0x3b87bfb0]      570 ms: Mark-Compact (reduce) 46.6 (49.7) -> 46.4 (50.4) MB, 38.95 / 0.00 ms  "
          "(average mu = 0.271, current mu = 0.265) allocation failure; GC in old space requested")

MB = 1048576
_NUM = r"\d+(?:\.\d+)?"
# V8 heap/gc-tracer.cc (Heap::PrintShortHeapStatistics / GCTracer::Print): "[pid:isolate] <ms> ms: <type> <before>
# (<committed>) -> <after> (<committed>) MB, [pooled: x MB, ]<pause> / <external> ms <details> <reason>"
GC_LINE = re.compile(
    rf"\s*(?:\[(?P<pid>\d+):(?P<iso>(?:0x)?[0-9A-Fa-f]+)\]\s+)?(?P<ms>{_NUM}) ms: "
    rf"(?P<type>[A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)*(?: \([a-z ]+\))?) "
    rf"(?P<hb>{_NUM}) \((?P<cb>{_NUM})\) -> (?P<ha>{_NUM}) \((?P<ca>{_NUM})\) MB, "
    rf"(?:pooled: {_NUM} MB, )?(?P<pause>{_NUM}) / {_NUM} ms(?P<rest>.*)$")
_MU = re.compile(rf"\(average mu = (?P<avg>{_NUM}), current mu = (?P<cur>{_NUM})\)")
_PAREN = re.compile(r"\([^()]*\)")
GCS_MARK = re.compile(r"\s*<--- Last few GCs --->\s*$")
JS_MARK = re.compile(r"\s*<--- JS stacktrace --->\s*$")
FATAL = re.compile(r"FATAL ERROR: (?P<text>.*?)\s*$")
OOM_FATAL = re.compile(r"FATAL ERROR: (?P<reason>.*?)\s*Allocation failed - (?P<what>.*?out of memory)\s*$")
NATIVE_HEAD = re.compile(r"\s*-{3,} (?:Native|JavaScript) stack trace -{3,}\s*$")
NATIVE_FRAME = re.compile(r"\s*\d+: \S")
JS_MAX = 300    # lines of a JS stack part before its FATAL line, at most

METRICS = {"rss": "rss", "heapTotal": "heap_total", "heapUsed": "heap_used", "external": "external",
           "arrayBuffers": "array_buffers"}
_KEY = "(?:" + "|".join(METRICS) + ")"
_PAIR = rf"\s*(?:\"{_KEY}\"|'{_KEY}'|{_KEY})\s*:\s*\d+\s*"
MEMORY_OBJECT = re.compile(rf"\{{{_PAIR}(?:,{_PAIR})*,?\s*\}}")
MEMORY_PAIR = re.compile(rf"[\"']?({_KEY})[\"']?\s*:\s*(\d+)")
MEMORY_MAX_LINES = 10

_CONTINUES = re.compile(r"\s+(?:at \S|\.\.\. \d+ (?:more|lines? matching))")


class Found(NamedTuple):
    """One result of :func:`scan`.  ``kind`` None: a line that is none of these (``held`` is that line)."""

    kind: str | None
    attrs: dict | None
    first: int             # index of the first line of the span
    last: int              # index of the last line of the span
    held: tuple[int, ...]  # the lines the result holds: each line of the input is held by exactly one result
    message: str           # the held lines' text (all the span's lines for the memory samples sharing it)

    @property
    def nlines(self) -> int:
        return len(self.held)


def _int_or_float(s: str) -> int | float:
    return float(s) if "." in s else int(s)


def gc_attrs(line: str) -> dict | None:
    """The attrs of a V8 GC line, or None.

    >>> gc_attrs("[398:0x58e8740]   191182 ms: Mark-sweep 949.5 (965.9) -> 948.3 (965.9) MB, 1464.6 / 0.0 ms "
    ...          "[allocation failure] [GC in old space requested].")["reason"]
    'allocation failure; GC in old space requested'
    """
    m = GC_LINE.match(line)
    if m is None:
        return None
    rest = m.group("rest")
    mu = _MU.search(rest)
    rest = _PAREN.sub(" ", rest)
    if "[" in rest:
        parts = re.findall(r"\[([^\]]*)\]", rest)
        reason = "; ".join(p.strip() for p in parts if p.strip())
    else:
        reason = " ".join(rest.split())
    reason = reason.rstrip(" ;.") or None
    a = {"gc_type": m.group("type"),
         "pid": int(m.group("pid")) if m.group("pid") else None,
         "isolate": m.group("iso"),
         "ms_since_start": _int_or_float(m.group("ms")),
         "heap_before_bytes": round(float(m.group("hb")) * MB),
         "heap_after_bytes": round(float(m.group("ha")) * MB),
         "committed_before_bytes": round(float(m.group("cb")) * MB),
         "committed_after_bytes": round(float(m.group("ca")) * MB),
         "pause_ms": float(m.group("pause")),
         "reason": reason}
    if mu:
        a["average_mu"], a["current_mu"] = float(mu.group("avg")), float(mu.group("cur"))
    return a


def memory_pairs(text: str) -> list[tuple[str, int]] | None:
    """(metric, bytes) of a printed ``process.memoryUsage()`` object at the start of ``text``, or None."""
    m = MEMORY_OBJECT.match(text)
    if m is None:
        return None
    pairs = [(METRICS[k], int(v)) for k, v in MEMORY_PAIR.findall(m.group(0))]
    keys = {k for k, _ in pairs}
    if not {"rss", "heap_total", "heap_used"} <= keys or len(keys) != len(pairs):
        return None
    return pairs


class _Lines:
    """An iterator of (index, text) that lines can be pushed back onto."""

    def __init__(self, items: Iterable[tuple[int, str]]):
        self.it = iter(items)
        self.back: deque = deque()

    def next(self) -> tuple[int, str] | None:
        if self.back:
            return self.back.popleft()
        return next(self.it, None)

    def push(self, items: list) -> None:
        self.back.extendleft(reversed(items))


def _report(src: _Lines, first: tuple[int, str], phase: str) -> Iterator[Found]:
    """A heap-death report starting at ``first`` (phase: 'gcs', 'js' or 'fatal')."""
    buf = [first]
    gcs: list[tuple[int, dict]] = []
    reason = None
    if phase == "fatal":
        m = OOM_FATAL.match(first[1])
        reason = m.group("reason") or m.group("what")
    last_good = 0
    js_start = 0 if phase == "js" else None
    while True:
        item = src.next()
        if item is None:
            if phase == "js":
                last_good = len(buf) - 1   # cut before the FATAL line: the JS stack part is still V8's
            break
        _, t = item
        blank = not t.strip()
        if phase == "gcs":
            g = None if blank else gc_attrs(t)
            if blank:
                buf.append(item)
            elif g is not None:
                buf.append(item)
                gcs.append((item[0], g))
                last_good = len(buf) - 1
            elif JS_MARK.match(t):
                phase, js_start = "js", len(buf)
                buf.append(item)
                last_good = len(buf) - 1
            elif FATAL.match(t):
                phase = "fatal"
                m = OOM_FATAL.match(t)
                reason = (m.group("reason") or m.group("what")) if m else FATAL.match(t).group("text")
                buf.append(item)
                last_good = len(buf) - 1
            else:
                src.push([item])
                break
        elif phase == "js":
            if FATAL.match(t):
                phase = "fatal"
                m = OOM_FATAL.match(t)
                reason = (m.group("reason") or m.group("what")) if m else FATAL.match(t).group("text")
                buf.append(item)
                last_good = len(buf) - 1
            elif GCS_MARK.match(t) or JS_MARK.match(t) or len(buf) - js_start > JS_MAX:
                # no FATAL line after the JS stack part: the report ends at its marker
                src.push([item])
                src.push(buf[js_start + 1:])
                del buf[js_start + 1:]
                last_good = js_start
                break
            else:
                buf.append(item)
        else:  # after the FATAL line: the native (and JavaScript) stack traces
            if blank:
                buf.append(item)
            elif NATIVE_HEAD.match(t) or NATIVE_FRAME.match(t):
                buf.append(item)
                last_good = len(buf) - 1
            else:
                src.push([item])
                break
    src.push(buf[last_good + 1:])   # blank lines after the report are not part of it
    del buf[last_good + 1:]
    gc_idx = {i for i, _ in gcs}
    held = [(i, t) for i, t in buf if i not in gc_idx]
    last_gc = gcs[-1][1] if gcs else {}
    attrs = {"reason": reason, "heap_bytes": last_gc.get("heap_after_bytes"), "pid": last_gc.get("pid"),
             "isolate": last_gc.get("isolate"), "ms_since_start": last_gc.get("ms_since_start")}
    yield Found("heap_oom", attrs, buf[0][0], buf[-1][0], tuple(i for i, _ in held), "\n".join(t for _, t in held))
    texts = dict(buf)
    for i, g in gcs:
        yield Found("gc", g, i, i, (i,), texts[i])


def _memory(src: _Lines, item: tuple[int, str]) -> list[Found] | None:
    i, t = item
    starts = [m.start() for m in re.finditer(r"\{", t)]
    for pos in starts:
        pairs = memory_pairs(t[pos:])
        if pairs:
            return _samples(pairs, [item])
    # spread over several lines: "{" (after any prefix) ends the first line, "}" comes within a few lines
    if not starts or not MEMORY_PAIR.sub("", t[starts[-1] + 1:]).strip(" ,") == "":
        return None
    taken = [item]
    while len(taken) < MEMORY_MAX_LINES:
        nxt = src.next()
        if nxt is None:
            break
        taken.append(nxt)
        if "}" in nxt[1]:
            break
    text = "\n".join([t[starts[-1]:], *(x[1] for x in taken[1:])])
    pairs = memory_pairs(text) if "}" in taken[-1][1] else None
    if pairs:
        return _samples(pairs, taken)
    src.push(taken[1:])
    return None


def _samples(pairs: list[tuple[str, int]], taken: list[tuple[int, str]]) -> list[Found]:
    first, last = taken[0][0], taken[-1][0]
    msg = "\n".join(x[1] for x in taken)
    held = tuple(x[0] for x in taken)
    return [Found("memory_sample", {"metric": k, "bytes": v}, first, last, held if n == 0 else (), msg)
            for n, (k, v) in enumerate(pairs)]


def scan_items(items: Iterable[tuple[int, str]]) -> Iterator[Found]:
    """:func:`scan` over (index, text) pairs (a stream: line numbers as indexes)."""
    src = _Lines(items)
    while (item := src.next()) is not None:
        i, t = item
        if GCS_MARK.match(t):
            yield from _report(src, item, "gcs")
            continue
        if JS_MARK.match(t):
            yield from _report(src, item, "js")
            continue
        if t.startswith("FATAL ERROR: ") and OOM_FATAL.match(t):
            yield from _report(src, item, "fatal")
            continue
        g = gc_attrs(t)
        if g is not None:
            yield Found("gc", g, i, i, (i,), t)
            continue
        if "{" in t:
            got = _memory(src, item)
            if got:
                yield from got
                continue
        yield Found(None, None, i, i, (i,), t)


def scan(lines: list[str]) -> list[Found]:
    """Every line of ``lines`` in one result: what :func:`classify_block` finds, and the other lines
    (kind None), each with the lines it holds (``nlines``) and its message."""
    return list(scan_items(enumerate(lines)))


def classify_block(lines: list[str]) -> list[tuple[str, dict, int, int]]:
    """(kind, attrs, first_index, last_index) of the GC lines, heap deaths and memory samples in ``lines``
    (messages an app wrote, without any prefix a process manager added), in order of their first line.

    Spans overlap in two ways: a ``heap_oom`` contains the ``gc`` lines of its report (give it
    ``nlines`` = its span less those lines), and the ``memory_sample`` events of one object share its
    lines (``nlines`` 0 for all but the first).  :func:`scan` gives both counts ready (``Found.nlines``).
    """
    return [(f.kind, f.attrs, f.first, f.last) for f in scan(lines) if f.kind is not None]


def sniff(head: list[str]) -> int:
    """85 when V8's heap-death report or GC lines make up at least half of the non-blank lines (70 for
    memory samples alone); 0 otherwise, so an app's error log with a heap death at its end stays with the
    format that reads app output (pm2_app, supervisor_app), which calls :func:`classify_block`."""
    nonblank = {i for i, l in enumerate(head) if l.strip()}
    if not nonblank:
        return 0
    kinds, claimed = set(), set()
    for f in scan_items(enumerate(head)):
        if f.kind is not None:
            kinds.add(f.kind)
            claimed.update(range(f.first, f.last + 1))
    share = len(claimed & nonblank) * 2 >= len(nonblank)
    if not share:
        return 0
    if kinds & {"heap_oom", "gc"}:
        return 85
    return 70 if kinds else 0


def parse(raw: BinaryIO, ctx: Context, start: int = 1) -> Iterator[Event | Reject]:
    unit = ctx.extra.get("app") or None
    pending: Event | None = None
    more: list[str] = []

    def flush() -> Iterator[Event]:
        nonlocal pending, more
        if pending is not None:
            if more:
                pending = pending._replace(message="\n".join([pending.message, *more]),
                                           line_end=pending.line_end + len(more))
            yield pending
        pending, more = None, []

    for f in scan_items(text_lines(raw, start)):
        if f.kind is None:
            text = f.message
            if not text.strip():
                yield from flush()
                yield Reject(f.first, "blank line", text)
            elif pending is not None and _CONTINUES.match(text):
                more.append(text)
            else:
                yield from flush()
                pending = Event(None, "untimed", "log", text, f.first, f.first, unit=unit)
            continue
        yield from flush()
        span = f.last - f.first + 1
        yield Event(None, "untimed", f.kind, f.message, f.first, f.last, unit=unit, pid=f.attrs.get("pid"),
                    attrs=f.attrs, nlines=None if f.nlines == span else f.nlines)
    yield from flush()
