"""Ingest throughput benchmark: ``forensics ingest`` against two yardsticks.

What it does
    1. Generates a deterministic (seeded) bundle of about --mb MB:
       DIR/bench-host/journal.export     ~1/3: ``journalctl -o export`` records,
                                          1 in 50 with a binary field
       DIR/bench-host/var/log/nginx/*.log ~2/3: nginx combined-format access logs
    2. Warms the page cache (reads every file once), then times, --runs times each:
       a. ``forensics ingest BUNDLE --db FRESH.duckdb`` (a new database file every run);
       b. ``lnav -n -c ';SELECT count(*) FROM lnav_file' FILES...``;
       c. DuckDB (python, SET threads=2, fresh in-memory connection) running one
          nginx regular expression over every raw line of the same files, once
          with ``regexp_matches`` and once with ``regexp_extract`` into ~10 groups.
       Every approach runs as a child process, so the wall time and the child's
       own peak RSS (``os.wait4``) are measured the same way for all of them.
    3. Prints median and min seconds, MB/s over the whole input, peak RSS, the
       ratios the project targets, and checks that the ingest wrote one event
       per nginx line plus one per journal record.

Why these yardsticks
    * lnav is what people use today to open such a bundle.  ``-n`` with a
      query on ``lnav_file`` makes it index every file (format detection, line
      index, timestamps) and exit without drawing.  Target: ingest <= 0.5 x lnav.
    * A single RE2 pass in DuckDB over the raw lines is the floor for "reading
      the bytes and looking at every line": the nginx part of the ingest is
      exactly such a pass (plus typing and writing), and the journal part has
      to do at least as much.  ``regexp_matches`` is the cheapest form;
      ``regexp_extract`` with named groups is what a parser actually needs.
      Target: ingest <= 3 x regexp_matches.

Timing notes
    * Ingest and lnav wall times are end to end (process start, imports,
      writing the database).  The DuckDB yardstick child times connect + query
      only, not Python start-up and ``import duckdb``; its RSS is the child's.
    * 1 MB here is 2**20 bytes.  The machine may be shared: look at min as well
      as median.

Usage: python bench/ingest_bench.py [--mb N] [--runs K] [--out DIR] [--keep] [--skip-lnav]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb

SEED = 20240528
MB = 1 << 20
HOST = "bench-host"
START = datetime(2024, 5, 26, 0, 0, tzinfo=timezone.utc)
SPAN_S = 3 * 86400  # the bundle covers three days

# nginx combined format: $remote_addr - $remote_user [$time_local] "$request" $status
# $body_bytes_sent "$http_referer" "$http_user_agent".  RE2 syntax; 11 named groups.
NGINX_GROUPS = ["client", "ident", "user", "time", "method", "path", "protocol", "status", "bytes",
                "referer", "user_agent"]
NGINX_RE = (r'^(?P<client>\S+) (?P<ident>\S+) (?P<user>\S+) \[(?P<time>[^\]]+)\] '
            r'"(?P<method>[A-Z]+) (?P<path>[^" ]+) (?P<protocol>[^"]+)" (?P<status>\d{3}) '
            r'(?P<bytes>\d+|-) "(?P<referer>[^"]*)" "(?P<user_agent>[^"]*)"$')


# ---------------------------------------------------------------------------------------------
# Bundle generation
# ---------------------------------------------------------------------------------------------

@dataclass
class Bundle:
    root: Path
    journal: Path
    nginx: list[Path]
    journal_records: int = 0
    nginx_lines: dict[str, int] = field(default_factory=dict)
    nginx_no_request: int = 0  # lines with request "-": valid nginx, outside NGINX_RE

    @property
    def files(self) -> list[Path]:
        return [self.journal, *self.nginx]

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    @property
    def expected_events(self) -> int:
        return self.journal_records + sum(self.nginx_lines.values())


USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.113 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.97",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0",
    "python-requests/2.31.0",
    "okhttp/4.12.0",
    "Go-http-client/1.1",
    "Prometheus/2.51.2",
    "kube-probe/1.29",
    "axios/1.6.8",
    "-",
]
METHODS = (["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"], [78, 12, 3, 2, 2, 1, 2])
PROTOCOLS = (["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"], [70, 28, 2])
STATUSES = ([200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 408, 429, 499, 500, 502, 503, 504],
            [620, 40, 20, 10, 15, 60, 15, 25, 8, 60, 3, 5, 8, 12, 50, 10, 40])


def _paths(rng: random.Random, n: int) -> list[str]:
    resources = ["orders", "users", "products", "carts", "invoices", "payments", "shipments", "reviews"]
    out = []
    for _ in range(n):
        r = rng.choice(resources)
        k = rng.random()
        if k < 0.35:
            out.append(f"/api/{r}/{rng.randint(1, 999999)}")
        elif k < 0.55:
            out.append(f"/api/{r}?page={rng.randint(1, 60)}&limit={rng.choice([10, 20, 50, 100])}"
                       f"&sort={rng.choice(['createdAt', '-createdAt', 'total', 'name'])}")
        elif k < 0.65:
            out.append(f"/api/{r}/{rng.randint(1, 99999)}/{rng.choice(['items', 'history', 'status', 'events'])}")
        elif k < 0.72:
            out.append(rng.choice(["/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/me"]))
        elif k < 0.80:
            out.append(f"/static/js/{rng.choice(['main', 'vendor', 'runtime', 'chunk'])}.{rng.getrandbits(32):08x}.js")
        elif k < 0.85:
            out.append(f"/static/img/{rng.choice(['logo', 'hero', 'banner', 'thumb'])}-{rng.randint(1, 400)}.webp")
        elif k < 0.90:
            out.append(rng.choice(["/health", "/healthz", "/metrics", "/favicon.ico", "/robots.txt", "/"]))
        elif k < 0.95:
            q = "+".join(rng.choice(["red", "shoes", "usb-c", "cable", "desk", "lamp", "gift", "42"])
                         for _ in range(rng.randint(1, 3)))
            out.append(f"/api/search?q={q}&page={rng.randint(1, 5)}")
        else:
            out.append(rng.choice(["/wp-login.php", "/.env", "/admin/config.php", "/.git/config",
                                   "/cgi-bin/luci/;stok=/locale", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"]))
    return out


def _clients(rng: random.Random, n: int) -> list[str]:
    nets = ["203.0.113", "198.51.100", "192.0.2", "10.0.3", "172.16.9", "100.64.12"]
    return [f"{rng.choice(nets)}.{rng.randint(1, 254)}" for _ in range(n)]


def _nginx_time(cache: dict[int, str], sec: int) -> str:
    s = cache.get(sec)
    if s is None:
        s = cache[sec] = (START + timedelta(seconds=sec)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return s


def write_nginx(path: Path, target_bytes: int, t0: int, t1: int, rng: random.Random) -> tuple[int, int]:
    """Write ~target_bytes of combined-format lines with times from t0 to t1 (seconds after START).

    Returns (lines, lines whose request is "-").
    """
    clients = _clients(rng, 3000)
    paths = _paths(rng, 6000)
    referers = ["-"] * 6 + [f"https://shop.example.com{p}" for p in _paths(rng, 40) if not p.startswith("/api")]
    sizes = [rng.randint(0, 80000) for _ in range(2000)]
    users = ["-"] * 30 + ["alice", "bob"]
    cache: dict[int, str] = {}
    written = lines = no_request = 0
    with open(path, "w", encoding="ascii", newline="\n") as f:
        while written < target_bytes:
            batch = min(20000, max(500, (target_bytes - written) // 150))
            cl = rng.choices(clients, k=batch)
            us = rng.choices(users, k=batch)
            me = rng.choices(METHODS[0], METHODS[1], k=batch)
            pa = rng.choices(paths, k=batch)
            pr = rng.choices(PROTOCOLS[0], PROTOCOLS[1], k=batch)
            st = rng.choices(STATUSES[0], STATUSES[1], k=batch)
            by = rng.choices(sizes, k=batch)
            rf = rng.choices(referers, k=batch)
            ua = rng.choices(USER_AGENTS, k=batch)
            out = []
            for i in range(batch):
                # time follows the bytes written, so the file spans t0..t1 whatever its size
                ts = _nginx_time(cache, t0 + (t1 - t0) * written // target_bytes)
                s = st[i]
                if lines % 5000 == 4999:
                    # what nginx writes for a request line it could not read
                    line = f'{cl[i]} - - [{ts}] "-" 400 0 "-" "-"\n'
                    no_request += 1
                else:
                    b = 0 if s in (204, 304) else (157 if s >= 500 else by[i])
                    line = f'{cl[i]} - {us[i]} [{ts}] "{me[i]} {pa[i]} {pr[i]}" {s} {b} "{rf[i]}" "{ua[i]}"\n'
                out.append(line)
                written += len(line)
                lines += 1
                if written >= target_bytes:
                    break
            f.write("".join(out))
    return lines, no_request


# -- journal ----------------------------------------------------------------------------------

NEST_CONTEXTS = ["OrdersController", "OrdersService", "UsersService", "AuthGuard", "PaymentsService",
                 "PrismaService", "HttpExceptionFilter", "RedisCacheService", "ShipmentsQueue", "ExceptionsHandler"]
NEST_INFO = [
    "GET /api/orders/{n} 200 {ms}ms", "POST /api/orders 201 {ms}ms", "GET /api/users/{n}/profile 200 {ms}ms",
    "Cache hit orders:{n}", "Cache miss products:{n}", "Job shipments#{n} completed in {ms}ms",
    "Payment intent pi_{h} confirmed for order {n}", "User {n} logged in",
]
NEST_WARN = [
    "Slow query ({ms}ms): SELECT \"Order\".\"id\", \"Order\".\"total\" FROM \"Order\" WHERE \"Order\".\"userId\" = $1",
    "Retrying Redis connection (attempt {k})", "Rate limit exceeded for 203.0.113.{k}",
]
NEST_ERROR = [
    "connect ECONNREFUSED 127.0.0.1:5432", "Connection terminated unexpectedly",
    "Request timeout after 30000ms: POST /api/payments/{n}/capture", "JavaScript heap out of memory",
    "Cannot read properties of undefined (reading 'id')",
]
MANAGER_CYCLE = [  # a crash/restart cycle of the API, as the systemd manager reports it
    (3, "nest-api.service: A process of this unit has been killed by the OOM killer."),
    (5, "nest-api.service: Main process exited, code=killed, status=9/KILL"),
    (4, "nest-api.service: Failed with result 'oom-kill'."),
    (6, "nest-api.service: Consumed {cpu} CPU time, {peak} memory peak."),
    (6, "nest-api.service: Scheduled restart job, restart counter is at {k}."),
    (6, "Stopped nest-api.service - Nest API."),
    (6, "Starting nest-api.service - Nest API..."),
    (6, "Started nest-api.service - Nest API."),
]
SELINUX = "_SELINUX_CONTEXT\n" + (11).to_bytes(8, "little").decode("ascii") + "unconfined\n\n"


class Journal:
    """Builds journal export records; all text is ASCII, the binary field included."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.machine = f"{rng.getrandbits(128):032x}"
        self.seqnum_id = f"{rng.getrandbits(128):032x}"
        self.seq = 0x4e000
        self.boots = [(f"{rng.getrandbits(128):032x}", 0), (f"{rng.getrandbits(128):032x}", SPAN_S * 11 // 20)]
        self.api_pid = 4127
        self.restarts = 0

    def _boot(self, t_us: int) -> tuple[str, int]:
        """(boot id, monotonic microseconds) at wall time t_us."""
        rel = t_us - int(START.timestamp() * 1_000_000)
        boot, since = self.boots[0]
        for b, s in self.boots:
            if rel >= s * 1_000_000:
                boot, since = b, s
        # the first boot began 6 hours before the bundle starts; the second one 9 s before its first record
        return boot, rel - since * 1_000_000 + (21_600_000_000 if since == 0 else 9_000_000)

    def record(self, t_us: int, source: str, message: str) -> str:
        rng = self.rng
        self.seq += 1
        binary = self.seq % 50 == 0  # every 50th record carries a binary field
        boot, mono = self._boot(t_us)
        head = (f"__CURSOR=s={self.seqnum_id};i={self.seq:x};b={boot};m={mono:x};t={t_us:x};"
                f"x={rng.getrandbits(64):016x}\n"
                f"__REALTIME_TIMESTAMP={t_us}\n__MONOTONIC_TIMESTAMP={mono}\n"
                f"__SEQNUM={self.seq}\n__SEQNUM_ID={self.seqnum_id}\n_BOOT_ID={boot}\n")
        sel = SELINUX if binary else ""
        tail = f"_HOSTNAME={HOST}\n_MACHINE_ID={self.machine}\nMESSAGE={message}\n\n"
        if source == "kernel":
            return (head + "_SOURCE_MONOTONIC_TIMESTAMP=%d\n_TRANSPORT=kernel\nPRIORITY=3\nSYSLOG_FACILITY=0\n"
                    "SYSLOG_IDENTIFIER=kernel\n" % (mono - 1200) + sel + tail)
        if source == "systemd":
            return (head + "PRIORITY=6\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=systemd\nCODE_FILE=src/core/unit.c\n"
                    f"CODE_LINE={rng.randint(5000, 6200)}\nCODE_FUNC=unit_log_failure\nUNIT=nest-api.service\n"
                    "_PID=1\n_UID=0\n_GID=0\n_COMM=systemd\n_EXE=/usr/lib/systemd/systemd\n"
                    "_CMDLINE=/sbin/init\n_CAP_EFFECTIVE=1ffffffffff\n" + sel +
                    "_SYSTEMD_CGROUP=/init.scope\n_SYSTEMD_UNIT=init.scope\n_SYSTEMD_SLICE=-.slice\n"
                    f"_TRANSPORT=journal\n_SOURCE_REALTIME_TIMESTAMP={t_us - 37}\n" + tail)
        if source == "cron":
            pid = rng.randint(20000, 60000)
            return (head + f"PRIORITY=6\nSYSLOG_FACILITY=10\nSYSLOG_IDENTIFIER=CRON\nSYSLOG_PID={pid}\n"
                    f"_PID={pid}\n_UID=0\n_GID=0\n_COMM=cron\n_EXE=/usr/sbin/cron\n_CMDLINE=/usr/sbin/CRON -f -P\n"
                    + sel + "_SYSTEMD_CGROUP=/system.slice/cron.service\n_SYSTEMD_UNIT=cron.service\n"
                    f"_SYSTEMD_SLICE=system.slice\n_TRANSPORT=syslog\n_SOURCE_REALTIME_TIMESTAMP={t_us - 120}\n"
                    + tail)
        if source == "sshd":
            pid = rng.randint(20000, 60000)
            return (head + f"PRIORITY=6\nSYSLOG_FACILITY=4\nSYSLOG_IDENTIFIER=sshd\nSYSLOG_PID={pid}\n"
                    f"_PID={pid}\n_UID=0\n_GID=0\n_COMM=sshd\n_EXE=/usr/sbin/sshd\n"
                    f"_CMDLINE=\"sshd: unknown [priv]\"\n" + sel +
                    "_SYSTEMD_CGROUP=/system.slice/ssh.service\n_SYSTEMD_UNIT=ssh.service\n"
                    f"_SYSTEMD_SLICE=system.slice\n_TRANSPORT=syslog\n_SOURCE_REALTIME_TIMESTAMP={t_us - 80}\n"
                    + tail)
        prio = {"LOG": 6, "WARN": 4, "ERROR": 3}[source]
        return (head + f"PRIORITY={prio}\nSYSLOG_FACILITY=3\nSYSLOG_IDENTIFIER=node\n_PID={self.api_pid}\n"
                "_UID=998\n_GID=998\n_COMM=node\n_EXE=/usr/bin/node\n_CMDLINE=/usr/bin/node /srv/nest-api/dist/main.js\n"
                "_CAP_EFFECTIVE=0\n" + sel + "_SYSTEMD_CGROUP=/system.slice/nest-api.service\n"
                "_SYSTEMD_UNIT=nest-api.service\n_SYSTEMD_SLICE=system.slice\n"
                f"_SYSTEMD_INVOCATION_ID={self.machine[:24]}{self.restarts:08x}\n_STREAM_ID={self.seqnum_id[:16]}"
                f"{self.restarts:016x}\n_TRANSPORT=stdout\n" + tail)

    def nest_message(self, t_us: int, level: str) -> str:
        rng = self.rng
        dt = START + timedelta(microseconds=t_us - int(START.timestamp() * 1_000_000))
        stamp = dt.strftime("%m/%d/%Y, ") + f"{(dt.hour % 12) or 12}:{dt:%M:%S} {'AM' if dt.hour < 12 else 'PM'}"
        pool = {"LOG": NEST_INFO, "WARN": NEST_WARN, "ERROR": NEST_ERROR}[level]
        text = rng.choice(pool).format(n=rng.randint(1, 999999), ms=rng.randint(1, 4000), k=rng.randint(1, 9),
                                       h=f"{rng.getrandbits(48):012x}")
        return (f"[Nest] {self.api_pid}  - {stamp} {level:>7} [{rng.choice(NEST_CONTEXTS)}] {text} "
                f"+{rng.randint(0, 40)}ms")

    def crash_cycle(self, t_us: int) -> list[str]:
        """Kernel OOM kill, then the manager's account of it and the restart."""
        rng = self.rng
        self.restarts += 1
        out = [self.record(t_us, "kernel",
                           f"Out of memory: Killed process {self.api_pid} (node) total-vm:{rng.randint(2, 4) * 1048576}kB, "
                           f"anon-rss:{rng.randint(1800000, 1990000)}kB, file-rss:0kB, shmem-rss:0kB, UID:998 "
                           f"pgtables:{rng.randint(4000, 9000)}kB oom_score_adj:0")]
        for dt_ms, msg in MANAGER_CYCLE:
            t_us += dt_ms * 1000 + rng.randint(0, 999)
            msg = msg.format(k=self.restarts, cpu=f"{rng.randint(1, 59)}min {rng.randint(0, 59)}.{rng.randint(0, 999):03d}s",
                             peak=f"{rng.randint(15, 19) / 10:.1f}G")
            out.append(self.record(t_us, "systemd", msg))
        self.api_pid = rng.randint(5000, 60000)
        return out


def write_journal(path: Path, target_bytes: int, rng: random.Random) -> int:
    """Write ~target_bytes of journal export records covering SPAN_S; return the record count."""
    j = Journal(rng)
    start_us = int(START.timestamp() * 1_000_000)
    t_us = start_us
    written = records = 0
    sources = ["LOG", "WARN", "ERROR", "cron", "sshd"]
    weights = [88, 5, 3, 2, 2]
    with open(path, "wb") as f:
        while written < target_bytes:
            out = []
            for src in rng.choices(sources, weights, k=5000):
                # time follows the bytes written (plus jitter), so the journal spans SPAN_S
                t_us = max(t_us + 1, start_us + SPAN_S * 1_000_000 * written // target_bytes + rng.randint(0, 999))
                if rng.random() < 0.0015:
                    cycle = j.crash_cycle(t_us)
                    out.extend(cycle)
                    written += sum(map(len, cycle))
                    records += len(cycle)
                    t_us += 60_000
                if src in ("LOG", "WARN", "ERROR"):
                    msg = j.nest_message(t_us, src)
                elif src == "cron":
                    msg = "(root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"
                else:
                    msg = (f"Invalid user {rng.choice(['admin', 'test', 'oracle', 'ubuntu'])} from "
                           f"198.51.100.{rng.randint(1, 254)} port {rng.randint(1024, 65535)}")
                rec = j.record(t_us, src, msg)
                out.append(rec)
                written += len(rec)
                records += 1
                if written >= target_bytes:
                    break
            f.write("".join(out).encode("ascii"))
    return records


def generate(out: Path, total_mb: float) -> Bundle:
    rng = random.Random(SEED)
    root = out / HOST
    nginx_dir = root / "var" / "log" / "nginx"
    nginx_dir.mkdir(parents=True, exist_ok=True)
    total = int(total_mb * MB)
    b = Bundle(root, root / "journal.export", [])
    b.journal_records = write_journal(b.journal, total // 3, rng)
    # rotated main log (oldest first) plus one vhost log over the whole span
    parts = [("access.log.2", 0.22, 0, SPAN_S // 3), ("access.log.1", 0.25, SPAN_S // 3, 2 * SPAN_S // 3),
             ("access.log", 0.28, 2 * SPAN_S // 3, SPAN_S), ("api.access.log", 0.25, 0, SPAN_S)]
    nginx_total = total - total // 3
    for name, share, t0, t1 in parts:
        p = nginx_dir / name
        b.nginx_lines[name], no_request = write_nginx(p, int(nginx_total * share), t0, t1, rng)
        b.nginx_no_request += no_request
        b.nginx.append(p)
    return b


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------

@dataclass
class Run:
    seconds: float
    rss_mb: float
    output: str = ""


def warm_cache(files: list[Path]) -> None:
    for p in files:
        with open(p, "rb", buffering=0) as f:
            while f.read(8 * MB):
                pass


def run_child(cmd: list[str], log: Path, env: dict | None = None) -> tuple[float, float, int]:
    """Run ``cmd`` to completion; (wall seconds, peak RSS MB of that child, exit code)."""
    with open(log, "wb") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4; tell Popen
    return wall, ru.ru_maxrss / 1024, p.returncode  # ru_maxrss is in KB on Linux


def code_state() -> str:
    """The project's commit and a digest of its uncommitted changes (bench/ excluded), or '' without git."""
    repo = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
        diff = subprocess.run(["git", "-C", str(repo), "diff", "HEAD", "--", ".", ":!bench"], capture_output=True,
                              check=True).stdout
        untracked = subprocess.run(["git", "-C", str(repo), "ls-files", "--others", "--exclude-standard", "--",
                                    ".", ":!bench"], capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return ""
    if not diff and not untracked:
        return f"git {head}"
    digest = hashlib.sha1(diff + "\0".join(untracked).encode()).hexdigest()[:8]
    return f"git {head} + uncommitted changes (diff {digest}, {len(untracked)} untracked files)"


def forensics_exe() -> str:
    local = Path(sys.executable).parent / "forensics"
    exe = str(local) if local.exists() else shutil.which("forensics")
    if not exe:
        sys.exit("forensics not found next to this Python nor on PATH: install the project (pip install -e .)")
    return exe


def bench_ingest(bundle: Bundle, work: Path, runs: int) -> tuple[list[Run], list[int], list[tuple]]:
    """Time ``forensics ingest``; return the runs, each run's events count and the last run's files rows."""
    exe = forensics_exe()
    results, counts = [], []
    env = {**os.environ, "NO_COLOR": "1"}
    for i in range(runs):
        db = work / f"ingest-{i}.duckdb"
        for stale in (db, Path(str(db) + ".wal")):
            stale.unlink(missing_ok=True)
        log = work / f"ingest-{i}.log"
        secs, rss, rc = run_child([exe, "ingest", str(bundle.root), "--db", str(db)], log, env)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"forensics ingest failed (exit {rc}):\n{text}")
        con = duckdb.connect(str(db), read_only=True)
        counts.append(con.execute("SELECT count(*) FROM events").fetchone()[0])
        if i == runs - 1:
            files = con.execute("SELECT path, format, lines, events, rejected, status, coalesce(note, '') "
                                "FROM files ORDER BY file_id").fetchall()
        con.close()
        results.append(Run(secs, rss, text))
        if i < runs - 1:
            db.unlink()
    return results, counts, files


def lnav_check(files: list[Path], bundle: Bundle, work: Path) -> list[str]:
    """Once, untimed: what lnav made of each file, and whether all_logs holds every nginx line."""
    notes = []
    log = work / "lnav-check.log"
    run_child(["lnav", "-n", "-c", ";SELECT filepath, format, lines FROM lnav_file", *map(str, files)], log)
    notes.append("lnav_file after loading:\n" + log.read_text(errors="replace").rstrip())
    run_child(["lnav", "-n", "-c", ";SELECT count(*) AS n FROM all_logs", *map(str, files)], log)
    lines = log.read_text(errors="replace").split()
    got = int(lines[-1]) if lines and lines[-1].isdigit() else None
    want = sum(bundle.nginx_lines.values())
    notes.append(f"lnav all_logs rows: {got}; nginx lines generated: {want} -> "
                 f"{'OK' if got == want else 'MISMATCH'} (the journal export is no log format lnav knows: "
                 f"it is indexed as plain text, counted in lnav_file.lines, not in all_logs)")
    return notes


def bench_lnav(files: list[Path], work: Path, runs: int) -> list[Run]:
    results = []
    for i in range(runs):
        log = work / f"lnav-{i}.log"
        secs, rss, rc = run_child(["lnav", "-n", "-c", ";SELECT count(*) FROM lnav_file", *map(str, files)], log)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"lnav failed (exit {rc}):\n{text}")
        results.append(Run(secs, rss, text))
    return results


DUCKDB_CHILD = """
import duckdb, json, sys, time
t = time.perf_counter()
con = duckdb.connect()
con.execute("SET threads=2")
con.execute("SET enable_progress_bar=false")
n = con.execute(sys.argv[1]).fetchone()[0]
print(json.dumps({"seconds": time.perf_counter() - t, "count": n}))
"""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def duckdb_sql(files: list[Path], extract: bool) -> str:
    lines = (f"read_csv([{', '.join(_q(str(p)) for p in files)}], columns={{'l': 'VARCHAR'}}, delim='\\0', "
             "quote='', escape='', header=false, auto_detect=false, strict_mode=false, new_line='\\n')")
    if not extract:
        return f"SELECT count(*) FROM {lines} WHERE regexp_matches(l, {_q(NGINX_RE)})"
    names = ", ".join(_q(n) for n in NGINX_GROUPS)
    return (f"SELECT count(*) FROM (SELECT regexp_extract(l, {_q(NGINX_RE)}, [{names}]) AS g FROM {lines}) "
            "WHERE g.status <> ''")


def bench_duckdb(files: list[Path], work: Path, runs: int, extract: bool) -> tuple[list[Run], int]:
    sql = duckdb_sql(files, extract)
    results, count = [], None
    for i in range(runs):
        log = work / f"duckdb-{'extract' if extract else 'matches'}-{i}.log"
        _, rss, rc = run_child([sys.executable, "-c", DUCKDB_CHILD, sql], log)
        text = log.read_text(errors="replace")
        if rc != 0:
            sys.exit(f"DuckDB yardstick failed (exit {rc}):\n{text}")
        res = json.loads([l for l in text.splitlines() if l.startswith("{")][-1])
        count = res["count"]
        results.append(Run(res["seconds"], rss, text))
    return results, count


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def med(runs: list[Run]) -> float:
    return statistics.median(r.seconds for r in runs)


def table(rows: list[tuple], headers: tuple) -> str:
    cells = [headers] + [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    fmt = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([fmt(cells[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in cells[1:]])


def report(results: dict[str, list[Run]], total_mb: float) -> None:
    rows = []
    for name, runs in results.items():
        m = med(runs)
        rows.append((name, f"{m:.2f}", f"{min(r.seconds for r in runs):.2f}", f"{total_mb / m:.1f}",
                     f"{max(r.rss_mb for r in runs):.0f}"))
    print(table(rows, ("approach", "median s", "min s", "MB/s", "peak RSS MB")))
    print()
    ingest = med(results["forensics ingest"])
    targets = [("lnav", 0.5), ("duckdb regexp_matches", 3.0), ("duckdb regexp_extract", None)]
    for name, target in targets:
        if name not in results:
            continue
        r = ingest / med(results[name])
        verdict = "" if target is None else (f"  target <= {target:g}: " + ("MET" if r <= target else "MISSED"))
        print(f"ingest / {name:<22} = {r:5.2f}{verdict}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=300, help="total bundle size in MB (default 300)")
    ap.add_argument("--runs", type=int, default=3, help="runs per approach (default 3)")
    ap.add_argument("--out", type=Path, help="write the bundle here instead of a temporary folder")
    ap.add_argument("--keep", action="store_true", help="keep the bundle (and the last database) afterwards")
    ap.add_argument("--skip-lnav", action="store_true", help="do not run lnav")
    args = ap.parse_args()

    out = args.out or Path(tempfile.mkdtemp(prefix="ingest-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    if (out / HOST).exists():
        shutil.rmtree(out / HOST)
    work = out / "bench-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        t = time.perf_counter()
        bundle = generate(out, args.mb)
        gen_s = time.perf_counter() - t
        total_mb = bundle.bytes / MB
        files = bundle.files
        print(f"bundle: {bundle.root} ({len(files)} files, {total_mb:.1f} MB) generated in {gen_s:.1f} s")
        print(f"  journal.export: {bundle.journal.stat().st_size / MB:.1f} MB, {bundle.journal_records} records")
        for p in bundle.nginx:
            print(f"  {p.relative_to(bundle.root)}: {p.stat().st_size / MB:.1f} MB, {bundle.nginx_lines[p.name]} lines")
        state = code_state()
        print(f"python {sys.version.split()[0]}, duckdb {duckdb.__version__}, {os.cpu_count()} CPUs, "
              f"{args.runs} runs each, page cache warm")
        if state:
            print(f"code: {state}")
        print()
        warm_cache(files)

        results: dict[str, list[Run]] = {}
        results["forensics ingest"], counts, db_files = bench_ingest(bundle, work, args.runs)

        notes = []
        use_lnav = not args.skip_lnav
        if use_lnav and shutil.which("lnav") is None:
            print("note: lnav is not on PATH: skipped (install lnav to compare against it)\n")
            use_lnav = False
        if use_lnav:
            notes.extend(lnav_check(files, bundle, work))
            results["lnav"] = bench_lnav(files, work, args.runs)

        results["duckdb regexp_matches"], n_match = bench_duckdb(files, work, args.runs, extract=False)
        results["duckdb regexp_extract"], n_extract = bench_duckdb(files, work, args.runs, extract=True)

        report(results, total_mb)
        print()
        want = bundle.expected_events
        ok = all(c == want for c in counts)
        print(f"ingest events: {counts[-1]} (each run: {', '.join(map(str, counts))}); expected "
              f"{sum(bundle.nginx_lines.values())} nginx lines + {bundle.journal_records} journal records = {want} "
              f"-> {'OK' if ok else 'MISMATCH'}")
        if not ok:
            print(table(db_files, ("path", "format", "lines", "events", "rejected", "status", "note")))
        want = sum(bundle.nginx_lines.values()) - bundle.nginx_no_request
        print(f"duckdb regex rows: {n_match} (regexp_matches), {n_extract} (regexp_extract); expected {want} "
              f"(nginx lines but the {bundle.nginx_no_request} with request \"-\") "
              f"-> {'OK' if n_match == n_extract == want else 'MISMATCH'}")
        for n in notes:
            print(n)
        if state and code_state() != state:
            print(f"WARNING: the code changed while the benchmark ran (now {code_state()}): results are mixed")
        if args.keep:
            print(f"kept: {bundle.root} and {work}")
    finally:
        if not args.keep:
            shutil.rmtree(out / HOST, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
            if not args.out:
                shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
