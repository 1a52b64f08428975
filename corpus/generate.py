#!/usr/bin/env python3
"""Write a large incident bundle of any size: three days of one API host's logs with an outage in them.

    python corpus/generate.py --mb 300 --out /tmp/bundle      # about 300 MB
    python corpus/generate.py --mb 2 --out /tmp/small --seed 7

The bundle is what an on-call engineer collects from a VPS running a NestJS
API under systemd behind nginx (host ``bench-host``, clock on UTC):

    OUT/README.md                          the story, with its times
    OUT/expected.json                      the incident as docs/incidents.md defines it, and what was written
    OUT/bench-host/journal.export          ``journalctl -o export``, ~1/3 of the size
    OUT/bench-host/var/log/nginx/access.log.2, access.log.1, access.log
                                           the main site, one day each (rotated)
    OUT/bench-host/var/log/nginx/api.access.log
                                           the API's virtual host, all three days
    OUT/bench-host/var/log/deploy.log      the deploy script's log
    OUT/bench-host/etc/timezone

nginx writes ``combined`` plus ``$request_time $upstream_response_time
$upstream_status``. The journal export has what a real one has: cursors,
realtime and monotonic clocks of two boots, trusted fields, kernel records
with ``_SOURCE_MONOTONIC_TIMESTAMP``, and fields in the export format's
binary-safe form (a kernel record of several lines, and one record in 50
carrying an AppArmor label that ends in a newline).

The story (the same at every size; only the quiet traffic around it grows):
the host reboots on 27 May; on 28 May at 09:32:12 a deploy of v1.4.2
restarts ``nest-api.service`` and its memory, which the app logs every 5
minutes as ``process.memoryUsage()`` JSON, grows from then on; at 14:35:01
the kernel's memory-cgroup OOM killer kills node on the unit's 2 GiB limit;
systemd restarts it 5 s later; nginx answers 502 meanwhile. Everything is
drawn from ``random.Random(seed)``: the same seed and size give the same
bytes.

Used by bench/ingest_bench.py (``generate()``) and tests/test_generate.py.
Standard library only.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import re
import struct
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20240528
MB = 1 << 20
HOST = "bench-host"
UNIT = "nest-api.service"
START = datetime(2024, 5, 26, 0, 0, tzinfo=timezone.utc)
SPAN_S = 3 * 86400                       # the bundle covers three days
START_US = int(START.timestamp()) * 1_000_000
END_US = START_US + SPAN_S * 1_000_000


def _us(d: int, h: int, m: int, s: int, micro: int = 0) -> int:
    return int(datetime(2024, 5, d, h, m, s, micro, tzinfo=timezone.utc).timestamp()) * 1_000_000 + micro


# -- the story's times (UTC, µs) ---------------------------------------------------------------------------------
BOOT1_US = START_US - 6 * 3600 * 1_000_000             # first boot: 6 h before the bundle starts
REBOOT_US = START_US + SPAN_S * 11 // 20 * 1_000_000   # 27 May 15:36:00: the host reboots
BOOT2_US = REBOOT_US - 9_000_000                       # its kernel started 9 s before the journal's first record
BOOT_START_US = REBOOT_US + 21_402_118                 # systemd starts the API after the reboot
DEPLOY_US = _us(28, 9, 32, 12)                         # deploy.log's line
DEPLOY_RESTART_US = _us(28, 9, 32, 15, 182_004)        # sudo systemctl restart: Stopping ...
KILL_PRINTK_US = _us(28, 14, 35, 1, 116_000)           # the kernel prints the kill line
RESTART_DELAY_US = 5_122_000                           # RestartSec=5, plus systemd's own time
LISTEN_DELAY_US = 1_864_000                            # from Started to Nest listening
VERSION, COMMIT = "v1.4.2", "3f2a9c1"
LIMIT_BYTES = 2 << 30
MEMORY_EVERY_US = 300_000_000                          # MemoryMonitor: every 5 minutes
PIDS = {"boot1": 4127, "boot2": 1318, "deploy": 41230, "restart": 43817}


# -- journal export ----------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f]")


def _field(key: str, value: str) -> str:
    """One field as journalctl -o export writes it: KEY=value, or the binary form for a value with a
    newline or another control character (KEY, newline, 64-bit little-endian length, bytes, newline)."""
    if _CONTROL.search(value):
        data = value.encode("utf-8")
        return key + "\n" + struct.pack("<Q", len(data)).decode("latin-1") + value + "\n"
    return f"{key}={value}\n"


APPARMOR = "unconfined\n"


class Journal:
    """Builds export records. Text is kept as str; the binary lengths are written as latin-1 characters,
    so the file is written with encoding latin-1 after ASCII-only messages (all messages here are ASCII)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.machine = f"{rng.getrandbits(128):032x}"
        self.seqnum_id = f"{rng.getrandbits(128):032x}"
        self.boot_ids = (f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(128):032x}")
        self.invocations = {k: f"{rng.getrandbits(128):032x}" for k in PIDS}
        self.streams = {k: f"{rng.getrandbits(128):032x}" for k in PIDS}
        self.seq = 0x4e000
        self.deferred = False

    def emit(self, text: str) -> str:
        """A record built ahead of time, numbered now."""
        self.seq += 1
        return text.replace("\x01", f"{self.seq:x}", 1).replace("\x02", str(self.seq), 1)

    def boot(self, real_us: int) -> tuple[str, int]:
        """(boot id, monotonic µs) at a wall time."""
        if real_us >= REBOOT_US:
            return self.boot_ids[1], real_us - BOOT2_US
        return self.boot_ids[0], real_us - BOOT1_US

    def record(self, real_us: int, fields: list[tuple[str, str]], binary: bool | None = None) -> str:
        """A record written by journald at ``real_us``; ``fields`` after the address fields. While
        ``self.deferred``, the sequence number is left as a mark that :meth:`emit` fills in, so that
        records built ahead of time still number in file order."""
        if self.deferred:
            seq_hex, seq_dec = "\x01", "\x02"
            binary = False if binary is None else binary
        else:
            self.seq += 1
            seq_hex, seq_dec = f"{self.seq:x}", str(self.seq)
            if binary is None:
                binary = self.seq % 50 == 0
        boot, mono = self.boot(real_us)
        out = [f"__CURSOR=s={self.seqnum_id};i={seq_hex};b={boot};m={mono:x};t={real_us:x};"
               f"x={self.rng.getrandbits(64):016x}\n",
               f"__REALTIME_TIMESTAMP={real_us}\n__MONOTONIC_TIMESTAMP={mono}\n"
               f"__SEQNUM={seq_dec}\n__SEQNUM_ID={self.seqnum_id}\n_BOOT_ID={boot}\n"]
        for k, v in fields:
            if k == "_SELINUX_CONTEXT" and not binary:
                continue
            out.append(_field(k, v))
        out.append(f"_HOSTNAME={HOST}\n_MACHINE_ID={self.machine}\n\n")
        return "".join(out)

    # the record kinds; ``t`` is the time the event is shown at (as journalctl shows it)

    def kernel(self, printk_us: int, message: str, prio: int = 4, delay_us: int = 40) -> str:
        real = printk_us + delay_us
        _, mono = self.boot(printk_us)
        return self.record(real, [("_SOURCE_MONOTONIC_TIMESTAMP", str(mono)), ("_TRANSPORT", "kernel"),
                                  ("PRIORITY", str(prio)), ("SYSLOG_FACILITY", "0"), ("SYSLOG_IDENTIFIER", "kernel"),
                                  ("MESSAGE", message)], binary=False)

    def systemd(self, t: int, message: str, prio: int = 6, unit: str | None = UNIT, func: str = "unit_log_success",
                invocation: str | None = None) -> str:
        f = [("_TRANSPORT", "journal"), ("PRIORITY", str(prio)), ("SYSLOG_FACILITY", "3"),
             ("SYSLOG_IDENTIFIER", "systemd"), ("TID", "1"), ("CODE_FILE", "src/core/unit.c"),
             ("CODE_LINE", str(self.rng.randint(5000, 6200))), ("CODE_FUNC", func)]
        if unit:
            f.append(("UNIT", unit))
        if invocation:
            f.append(("INVOCATION_ID", self.invocations[invocation]))
        f += [("MESSAGE", message), ("_PID", "1"), ("_UID", "0"), ("_GID", "0"), ("_COMM", "systemd"),
              ("_EXE", "/usr/lib/systemd/systemd"), ("_CMDLINE", "/sbin/init"), ("_CAP_EFFECTIVE", "1ffffffffff"),
              ("_SELINUX_CONTEXT", APPARMOR), ("_SYSTEMD_CGROUP", "/init.scope"), ("_SYSTEMD_UNIT", "init.scope"),
              ("_SYSTEMD_SLICE", "-.slice"), ("_SOURCE_REALTIME_TIMESTAMP", str(t))]
        return self.record(t + 37, f)

    def app(self, t: int, message: str, proc: str, prio: int = 6) -> str:
        """A line of the API's stdout (journald's stdout stream: no source timestamp)."""
        return self.record(t, [("PRIORITY", str(prio)), ("SYSLOG_FACILITY", "3"), ("SYSLOG_IDENTIFIER", "node"),
                               ("_PID", str(PIDS[proc])), ("_UID", "998"), ("_GID", "998"), ("_COMM", "node"),
                               ("_EXE", "/usr/bin/node"), ("_CMDLINE", "/usr/bin/node /srv/nest-api/dist/main.js"),
                               ("_CAP_EFFECTIVE", "0"), ("_SELINUX_CONTEXT", APPARMOR),
                               ("_SYSTEMD_CGROUP", f"/system.slice/{UNIT}"), ("_SYSTEMD_UNIT", UNIT),
                               ("_SYSTEMD_SLICE", "system.slice"),
                               ("_SYSTEMD_INVOCATION_ID", self.invocations[proc]),
                               ("_STREAM_ID", self.streams[proc]), ("_TRANSPORT", "stdout"), ("MESSAGE", message)])

    def syslog(self, t: int, ident: str, pid: int, message: str, unit: str, comm: str, exe: str, cmdline: str,
               facility: int, uid: int = 0, prio: int = 6, delay: int = 120) -> str:
        return self.record(t + delay, [
            ("PRIORITY", str(prio)), ("SYSLOG_FACILITY", str(facility)), ("SYSLOG_IDENTIFIER", ident),
            ("SYSLOG_PID", str(pid)), ("_PID", str(pid)), ("_UID", str(uid)), ("_GID", str(uid)), ("_COMM", comm),
            ("_EXE", exe), ("_CMDLINE", cmdline), ("_CAP_EFFECTIVE", "1ffffffffff" if uid == 0 else "0"),
            ("_SELINUX_CONTEXT", APPARMOR), ("_SYSTEMD_CGROUP", f"/system.slice/{unit}"),
            ("_SYSTEMD_UNIT", unit), ("_SYSTEMD_SLICE", "system.slice"), ("_TRANSPORT", "syslog"),
            ("MESSAGE", message), ("_SOURCE_REALTIME_TIMESTAMP", str(t))])

    def cron(self, t: int, pid: int, message: str) -> str:
        return self.syslog(t, "CRON", pid, message, "cron.service", "cron", "/usr/sbin/cron", "/usr/sbin/CRON -f -P",
                           9 if message.startswith("(") else 10)

    def sshd(self, t: int, pid: int, message: str) -> str:
        return self.syslog(t, "sshd", pid, message, "ssh.service", "sshd", "/usr/sbin/sshd",
                           "sshd: unknown [priv]" if "Invalid" in message else "sshd: deploy [priv]", 4, delay=80)


def nest_line(t: int, pid: int, level: str, context: str, text: str, delta_ms: int | None) -> str:
    """Nest's console logger, en-US time of a host on UTC, NO_COLOR."""
    dt = datetime.fromtimestamp(t / 1e6, timezone.utc)
    stamp = dt.strftime("%m/%d/%Y, ") + f"{(dt.hour % 12) or 12}:{dt:%M:%S} {'AM' if dt.hour < 12 else 'PM'}"
    d = f" +{delta_ms}ms" if delta_ms is not None else ""
    return f"[Nest] {pid}  - {stamp} {level:>7} [{context}] {text}{d}"


def process_at(t: int) -> str | None:
    """Which process of the API writes at ``t`` (None while it is down)."""
    if t < REBOOT_US - 4_000_000:
        return "boot1"
    if t < BOOT_START_US + 1_500_000:
        return None
    if t < DEPLOY_RESTART_US:
        return "boot2"
    if t < DEPLOY_RESTART_US + 2_600_000:
        return None
    if t < KILL_PRINTK_US - 20_000:
        return "deploy"
    if t < KILL_PRINTK_US + RESTART_DELAY_US + LISTEN_DELAY_US:
        return None
    return "restart"


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
    "Request timeout after 30000ms: POST /api/payments/{n}/capture",
    "Cannot read properties of undefined (reading 'id')",
    "Payment provider returned 503 for intent pi_{h}",
]
NEST_START = [("NestFactory", "Starting Nest application...", None),
              ("InstanceLoader", "AppModule dependencies initialized", 41),
              ("InstanceLoader", "PrismaModule dependencies initialized", 0),
              ("InstanceLoader", "BullModule dependencies initialized", 1),
              ("InstanceLoader", "OrdersModule dependencies initialized", 0),
              ("RoutesResolver", "OrdersController {/api/orders}:", 9),
              ("RouterExplorer", "Mapped {/api/orders, GET} route", 2),
              ("RouterExplorer", "Mapped {/api/orders/:id, GET} route", 0),
              ("NestApplication", "Nest application successfully started", 3)]


def memory_samples(rng: random.Random) -> list[tuple[int, str, dict]]:
    """(time, process, process.memoryUsage()) every 5 minutes from the reboot on: flat with a GC sawtooth
    before the deploy, a steady climb to the limit after it, flat again after the restart."""
    out = []
    t = BOOT_START_US + 60_000_000
    while t < END_US - 60_000_000:
        proc = process_at(t)
        if proc is None:
            t += MEMORY_EVERY_US
            continue
        if proc == "deploy":
            since = (t - (DEPLOY_RESTART_US + 2_600_000)) / 60e6          # minutes since the new process started
            rss = int(186e6 + 6.35e6 * since + rng.uniform(-2.5e6, 2.5e6))
        else:
            rss = int(182e6 + 38e6 * ((t // MEMORY_EVERY_US) % 7) / 6 + rng.uniform(-2e6, 2e6))
        heap_total = int(rss * 0.78)
        heap_used = int(heap_total * rng.uniform(0.84, 0.93))
        external = rng.randint(3_100_000, 3_600_000)
        out.append((t, proc, {"rss": rss, "heapTotal": heap_total, "heapUsed": heap_used, "external": external,
                              "arrayBuffers": rng.randint(180_000, 420_000)}))
        t += MEMORY_EVERY_US + rng.randint(-900_000, 900_000)
    return out


KILL_FRAMES = ["show_stack+0x52/0x5c", "dump_stack_lvl+0x4a/0x63", "dump_stack+0x10/0x16", "dump_header+0x53/0x228",
               "oom_kill_process.cold+0xb/0x10", "out_of_memory+0x106/0x2e0", "mem_cgroup_out_of_memory+0x13a/0x150",
               "try_charge_memcg+0x7a1/0x840", "charge_memcg+0x45/0xb0", "__mem_cgroup_charge+0x2d/0x90",
               "do_anonymous_page+0x110/0x3b0", "handle_pte_fault+0x1fe/0x230", "__handle_mm_fault+0x3c7/0x700",
               "handle_mm_fault+0xd8/0x2c0", "do_user_addr_fault+0x1c2/0x660", "exc_page_fault+0x77/0x170",
               "asm_exc_page_fault+0x27/0x30"]
# cgroup v2's memory.stat as kernel 5.15 prints it in an OOM report: one record of many lines
MEMCG_STATS = [("anon", 2078203904), ("file", 42192896), ("kernel_stack", 1015808), ("pagetables", 5246976),
               ("percpu", 1120), ("sock", 0), ("shmem", 0), ("file_mapped", 40341504), ("file_dirty", 0),
               ("file_writeback", 0), ("swapcached", 0), ("anon_thp", 0), ("file_thp", 0), ("shmem_thp", 0),
               ("inactive_anon", 2078191616), ("active_anon", 12288), ("inactive_file", 42184704),
               ("active_file", 8192), ("unevictable", 0), ("slab_reclaimable", 1203488), ("slab_unreclaimable", 1861408),
               ("slab", 3064896), ("workingset_refault_anon", 0), ("workingset_refault_file", 388),
               ("workingset_activate_anon", 0), ("workingset_activate_file", 12), ("workingset_restore_anon", 0),
               ("workingset_restore_file", 0), ("workingset_nodereclaim", 0), ("pgfault", 1294031),
               ("pgmajfault", 41), ("pgrefill", 77), ("pgscan", 5203), ("pgsteal", 4114), ("pgactivate", 507),
               ("pgdeactivate", 77), ("pglazyfree", 0), ("pglazyfreed", 0), ("thp_fault_alloc", 0),
               ("thp_collapse_alloc", 0)]
ANON_KB, FILE_KB, SHMEM_KB = 2029532, 41208, 0
KERNEL = "5.15.0-105-generic #115-Ubuntu"


def kernel_report(pid: int) -> list[tuple[int, int, str]]:
    """(printk µs, priority, message) of the memcg OOM report (kernel 5.15, cgroup v2), the kill line at
    KILL_PRINTK_US."""
    msgs = ["node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
            f"CPU: 1 PID: {pid} Comm: node Not tainted {KERNEL}",
            "Hardware name: DigitalOcean Droplet/Droplet, BIOS 20171212 12/12/2017", "Call Trace:", " <TASK>"]
    msgs += [" " + f for f in KILL_FRAMES]
    msgs += ["RIP: 0033:0x7f3c8a1d2b4d", "Code: Unable to access opcode bytes at RIP 0x7f3c8a1d2b23.",
             "RSP: 002b:00007ffd4b9f1c88 EFLAGS: 00010206",
             "RAX: 00007f3a1c200010 RBX: 0000000000000000 RCX: 00007f3a1c3ff000",
             "RDX: 00007f3a1c3fffe0 RSI: 0000000000000000 RDI: 00007f3a1c200010",
             "RBP: 0000000000000000 R08: 00000000ffffffff R09: 0000000000000000",
             "R10: 0000000000000022 R11: 0000000000000246 R12: 0000000000000000",
             "R13: 0000000000200000 R14: 0000000000000000 R15: 00007ffd4b9f1e40", " </TASK>",
             f"memory: usage {LIMIT_BYTES // 1024}kB, limit {LIMIT_BYTES // 1024}kB, failcnt 1873",
             "swap: usage 0kB, limit 9007199254740988kB, failcnt 0", f"Memory cgroup stats for /system.slice/{UNIT}:",
             "\n".join(f"{k} {v}" for k, v in MEMCG_STATS),
             "Tasks state (memory values in pages):",
             "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name",
             f"[{pid:>7}]   998 {pid:>5}  5776787 {(ANON_KB + FILE_KB + SHMEM_KB) // 4:>8} {5246976:>14} {0:>8} "
             f"{0:>13} node",
             f"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,"
             f"oom_memcg=/system.slice/{UNIT},task_memcg=/system.slice/{UNIT},task=node,pid={pid},uid=998"]
    out = []
    t = KILL_PRINTK_US - 10_340
    for m in msgs:
        out.append((t, 6 if m.startswith(("oom-kill:", "Tasks", "[", "memory:", "swap:", "Memory", "anon")) else 4, m))
        t += 2 + len(out) % 9 * 3
    out.append((KILL_PRINTK_US, 3, f"Memory cgroup out of memory: Killed process {pid} (node) total-vm:23107148kB, "
                                   f"anon-rss:{ANON_KB}kB, file-rss:{FILE_KB}kB, shmem-rss:{SHMEM_KB}kB, UID:998 "
                                   f"pgtables:5124kB oom_score_adj:0"))
    return out


@dataclass
class Story:
    records: list[tuple[int, str]] = field(default_factory=list)   # (realtime µs, record text)
    times: dict = field(default_factory=dict)                        # what happened when (µs)
    samples: list[tuple[int, int]] = field(default_factory=list)    # (time µs, rss bytes) of the dying process
    report_records: int = 0                                          # kernel records folded into one report


def build_story(j: Journal, rng: random.Random) -> Story:
    """The story's records, built ahead of time (numbered when written) in time order."""
    j.deferred = True
    s = Story()
    add = s.records.append

    def nest_start(t: int, proc: str) -> int:
        for ctx, text, d in NEST_START:
            t += (d or 0) * 1000 + rng.randint(200, 900)
            add((t, j.app(t, nest_line(t, PIDS[proc], "LOG", ctx, text, d), proc)))
        return t

    # the reboot on 27 May: systemd starts the API
    t = BOOT_START_US
    add((t - 1200, j.systemd(t - 1200, "Starting nest-api.service - Nest API...", func="unit_status_log_starting_stopping_reloading",
                             invocation="boot2")))
    add((t, j.systemd(t, "Started nest-api.service - Nest API.", func="unit_status_log_starting_stopping_reloading",
                      invocation="boot2")))
    s.times["boot_start"] = t
    nest_start(t + 380_000, "boot2")

    # the deploy on 28 May: the deploy user logs in and restarts the unit
    login = DEPLOY_US - 31_902_113
    add((login, j.sshd(login, 51877, "Accepted publickey for deploy from 198.51.100.23 port 50412 ssh2: "
                                     "ED25519 SHA256:Wq1mZ7b3YV2Lw9xPp7r4TtGf8uA6sNcQeHdJvXyE2oI")))
    t = DEPLOY_RESTART_US
    add((t - 2_891, j.syslog(t - 2_891, "sudo", 51944, "  deploy : PWD=/srv/nest-api ; USER=root ; "
                             "COMMAND=/usr/bin/systemctl restart nest-api.service", "ssh.service", "sudo",
                             "/usr/bin/sudo", "sudo systemctl restart nest-api.service", 10, uid=1001, prio=5)))
    add((t, j.systemd(t, "Stopping nest-api.service - Nest API...", func="unit_status_log_starting_stopping_reloading",
                      invocation="boot2")))
    add((t + 412_733, j.systemd(t + 412_733, "nest-api.service: Deactivated successfully.", invocation="boot2")))
    add((t + 413_020, j.systemd(t + 413_020, "Stopped nest-api.service - Nest API.",
                                func="unit_status_log_starting_stopping_reloading", invocation="boot2")))
    add((t + 413_164, j.systemd(t + 413_164, "nest-api.service: Consumed 41min 7.212s CPU time, 233.4M memory peak.",
                                func="unit_log_resources", invocation="boot2")))
    started = t + 415_388
    add((started, j.systemd(started, "Started nest-api.service - Nest API.",
                            func="unit_status_log_starting_stopping_reloading", invocation="deploy")))
    s.times["deploy_start"] = started
    nest_start(started + 402_000, "deploy")

    # the kernel's report and kill, journald reading each record a little later
    report = kernel_report(PIDS["deploy"])
    lag = 0
    for k, (printk, prio, msg) in enumerate(report):
        lag = min(lag + 23, 900)
        add((printk + lag, j.kernel(printk, msg, prio, lag)))
        if k == len(report) - 1:
            s.times["kill"] = printk + lag                     # the kill as the journal shows it
    s.report_records = len(report) - 1
    k = KILL_PRINTK_US
    sysd = [(43_000, "nest-api.service: A process of this unit has been killed by the OOM killer.", 4, "unit_check_oom"),
            (44_512, "nest-api.service: Main process exited, code=killed, status=9/KILL", 5, "service_sigchld_event"),
            (44_700, "nest-api.service: Failed with result 'oom-kill'.", 4, "unit_log_failure"),
            (45_019, "nest-api.service: Consumed 38min 52.091s CPU time, 2.0G memory peak.", 6, "unit_log_resources")]
    for dt, msg, prio, func in sysd:
        add((k + dt, j.systemd(k + dt, msg, prio, func=func, invocation="deploy")))
    s.times["last_death"] = k + 44_700
    r = k + RESTART_DELAY_US
    add((r - 311, j.systemd(r - 311, "nest-api.service: Scheduled restart job, restart counter is at 1.",
                            func="service_dispatch_timer", invocation="deploy")))
    add((r, j.systemd(r, "Started nest-api.service - Nest API.", func="unit_status_log_starting_stopping_reloading",
                      invocation="restart")))
    s.times["recovered"] = r
    s.times["listening"] = nest_start(r + 390_000, "restart")

    # the app's memory figures, one Nest line each
    for t, proc, mem in memory_samples(rng):
        add((t, j.app(t, nest_line(t, PIDS[proc], "LOG", "MemoryMonitor", json.dumps(mem, separators=(",", ":")),
                                   rng.randint(299_000, 301_000)), proc)))
        if proc == "deploy" and s.times["deploy_start"] <= t <= s.times["kill"]:
            s.samples.append((t, mem["rss"]))
    s.records.sort(key=lambda x: x[0])
    j.deferred = False
    return s


def write_journal(path: Path, target_bytes: int, rng: random.Random) -> tuple[int, Story]:
    """Write ~target_bytes of export records over the three days, the story's among them in time order;
    return the record count and the story."""
    j = Journal(rng)
    story = build_story(j, rng)
    story_bytes = sum(len(r) for _, r in story.records)
    filler_target = max(target_bytes - story_bytes, 1)
    sources = ["LOG", "WARN", "ERROR", "cron", "sshd"]
    weights = [90, 5, 1, 2, 2]
    written = records = 0
    k = 0
    last = START_US
    with open(path, "w", encoding="latin-1", newline="\n") as f:
        while written < filler_target:
            out = []
            for src in rng.choices(sources, weights, k=2000):
                # time follows the bytes written (plus jitter), so the journal spans the three days
                t = max(last + 1, START_US + SPAN_S * 1_000_000 * written // filler_target + rng.randint(0, 999))
                last = t
                while k < len(story.records) and story.records[k][0] <= t:
                    out.append(j.emit(story.records[k][1]))
                    k += 1
                    records += 1
                proc = process_at(t) if src in ("LOG", "WARN", "ERROR") else None
                if proc is not None:
                    pool = {"LOG": NEST_INFO, "WARN": NEST_WARN, "ERROR": NEST_ERROR}[src]
                    text = rng.choice(pool).format(n=rng.randint(1, 999999), ms=rng.randint(1, 4000),
                                                   k=rng.randint(1, 9), h=f"{rng.getrandbits(48):012x}")
                    msg = nest_line(t, PIDS[proc], src, rng.choice(NEST_CONTEXTS), text, rng.randint(0, 40))
                    rec = j.app(t, msg, proc, {"LOG": 6, "WARN": 4, "ERROR": 3}[src])
                elif src == "cron" or (src in ("LOG", "WARN", "ERROR")):
                    rec = j.cron(t, rng.randint(20000, 60000), "(root) CMD (command -v debian-sa1 > /dev/null && "
                                                               "debian-sa1 1 1)")
                else:
                    rec = j.sshd(t, rng.randint(20000, 60000),
                                 f"Invalid user {rng.choice(['admin', 'test', 'oracle', 'ubuntu'])} from "
                                 f"198.51.100.{rng.randint(1, 254)} port {rng.randint(1024, 65535)}")
                out.append(rec)
                written += len(rec)
                records += 1
                if written >= filler_target:
                    break
            f.write("".join(out))
        while k < len(story.records):          # what the filler did not reach (a tiny bundle)
            f.write(j.emit(story.records[k][1]))
            k += 1
            records += 1
    return records, story


# -- nginx --------------------------------------------------------------------------------------------------------

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.113 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.97",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "curl/8.5.0", "python-requests/2.31.0", "okhttp/4.12.0", "Go-http-client/1.1", "Prometheus/2.51.2",
    "kube-probe/1.29", "axios/1.6.8", "-",
]
METHODS = (["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"], [78, 12, 3, 2, 2, 1, 2])
PROTOCOLS = (["HTTP/1.1", "HTTP/2.0", "HTTP/1.0"], [70, 28, 2])
# a healthy site: 5xx are rare (a 500 from a bug, a 504 from a slow payment provider)
STATUSES = ([200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 408, 429, 499, 500, 504],
            [6600, 400, 200, 100, 150, 600, 150, 250, 80, 600, 30, 50, 80, 8, 4])


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


def _stamp(cache: dict[int, str], sec: int) -> str:
    s = cache.get(sec)
    if s is None:
        s = cache[sec] = (START + timedelta(seconds=sec)).strftime("%d/%b/%Y:%H:%M:%S +0000")
    return s


def _timing(rng: random.Random, path: str, status: int, slow: bool = False) -> str:
    """$request_time $upstream_response_time $upstream_status: static files never reach the upstream."""
    if path.startswith(("/static/", "/favicon", "/robots")) or status in (301, 302, 400, 408, 499):
        return f"{rng.uniform(0, 0.004):.3f} - -"
    rt = rng.uniform(1.2, 6.5) if slow else rng.expovariate(1 / 0.045) + 0.001
    if status == 504:
        rt = 60.0 + rng.uniform(0.001, 0.004)
    return f"{rt:.3f} {max(rt - 0.001, 0.0):.3f} {status}"


@dataclass
class Window:
    """Counts of nginx lines whose time lies in [lo, hi] (µs): the incident's impact window."""
    lo: int
    hi: int
    requests: int = 0
    http_5xx: int = 0
    first_5xx: int | None = None
    last_5xx: int | None = None

    def see(self, sec: int, status: int) -> None:
        t = START_US + sec * 1_000_000
        if self.lo <= t <= self.hi:
            self.requests += 1
            if status >= 500:
                self.http_5xx += 1
                self.first_5xx = t if self.first_5xx is None else min(self.first_5xx, t)
                self.last_5xx = t if self.last_5xx is None else max(self.last_5xx, t)


@dataclass
class NginxFile:
    lines: int = 0
    no_request: int = 0          # lines with request "-": valid nginx, no method or path
    http_5xx: int = 0


def outage_lines(rng: random.Random, b0: int, b1: int, rate: float, times: dict) -> list[tuple[int, str, int]]:
    """(second, line, status) of the API's requests from second b0 to b1: normal, then slow as the process
    nears its limit, 502 for the requests in flight at the kill and for those refused until Nest listens."""
    kill_s = (times["kill"] - START_US) // 1_000_000
    up_s = -(-(times["listening"] - START_US) // 1_000_000)           # the first second it answers in full
    slow_s = kill_s - 90
    clients = _clients(rng, 400)
    paths = [p for p in _paths(rng, 600) if p.startswith("/api/")]
    out = []
    for sec in range(b0, b1):
        n = 0
        lim, p = math.exp(-rate), rng.random()
        while p > lim and n < 50:                       # Poisson(rate) requests this second
            n += 1
            p *= rng.random()
        if sec == kill_s:
            n += 3                                       # the three requests the dying process was serving
        for i in range(n):
            c, path, ua = rng.choice(clients), rng.choice(paths), rng.choice(USER_AGENTS[:6] + USER_AGENTS[10:11])
            m = "POST" if path.endswith("/items") and rng.random() < 0.5 else "GET"
            if sec == kill_s and i >= n - 3:
                rt = f"{rng.uniform(2.0, 9.0):.3f}"
                status, size, timing = 502, 157, f"{rt} {rt} 502"
            elif kill_s <= sec < up_s:
                status, size, timing = 502, 157, "0.000 0.000 502"
            else:
                status = 201 if m == "POST" else rng.choices([200, 304, 404], [90, 7, 3])[0]
                size = 0 if status == 304 else rng.randint(120, 24000)
                timing = _timing(rng, path, status, slow=slow_s <= sec < kill_s)
            out.append((sec, f'{c} - - [{_stamp({}, sec)}] "{m} {path} HTTP/1.1" {status} {size} '
                             f'"https://shop.example.com/" "{ua}" {timing}\n', status))
    return out


def write_nginx(path: Path, target_bytes: int, t0: int, t1: int, rng: random.Random, window: Window,
                outage: list[tuple[int, str, int]] | None = None) -> NginxFile:
    """Write ~target_bytes of access-log lines with times from t0 to t1 (seconds after START); ``outage``
    lines replace the quiet traffic of their seconds."""
    clients = _clients(rng, 3000)
    paths = _paths(rng, 6000)
    referers = ["-"] * 6 + [f"https://shop.example.com{p}" for p in _paths(rng, 40) if not p.startswith("/api")]
    sizes = [rng.randint(0, 80000) for _ in range(2000)]
    users = ["-"] * 30 + ["alice", "bob"]
    cache: dict[int, str] = {}
    res = NginxFile()
    outage = outage or []
    o0 = outage[0][0] if outage else t1 + 1
    o1 = outage[-1][0] + 1 if outage else t1 + 1
    gap = (o1 - o0) if outage else 0
    outage_bytes = sum(len(line) for _, line, _ in outage)
    filler_target = max(target_bytes - outage_bytes, 1)
    written = 0
    done_outage = not outage
    with open(path, "w", encoding="ascii", newline="\n") as f:
        while written < filler_target:
            batch = min(20000, max(500, (filler_target - written) // 150))
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
                # time follows the bytes written, so the file spans t0..t1 whatever its size; the outage's
                # seconds are left to its own lines
                sec = t0 + (t1 - t0 - gap) * written // filler_target
                if sec >= o0:
                    sec += gap
                    if not done_outage:
                        for osec, line, status in outage:
                            out.append(line)
                            res.lines += 1
                            res.http_5xx += status >= 500
                            window.see(osec, status)
                        done_outage = True
                s = st[i]
                if res.lines % 5000 == 4999:
                    # what nginx writes for a request line it could not read
                    line = f'{cl[i]} - - [{_stamp(cache, sec)}] "-" 400 0 "-" "-" 0.000 - -\n'
                    res.no_request += 1
                    s = 400
                else:
                    b = 0 if s in (204, 304) else (157 if s >= 500 else by[i])
                    line = (f'{cl[i]} - {us[i]} [{_stamp(cache, sec)}] "{me[i]} {pa[i]} {pr[i]}" {s} {b} '
                            f'"{rf[i]}" "{ua[i]}" {_timing(rng, pa[i], s)}\n')
                out.append(line)
                written += len(line)
                res.lines += 1
                if s >= 500:
                    res.http_5xx += 1
                window.see(sec, s)
                if written >= filler_target:
                    break
            f.write("".join(out))
        if not done_outage:
            for osec, line, status in outage:
                f.write(line)
                res.lines += 1
                res.http_5xx += status >= 500
                window.see(osec, status)
    return res


# -- the bundle ---------------------------------------------------------------------------------------------------

@dataclass
class Bundle:
    root: Path                   # the host folder
    journal: Path
    nginx: list[Path]
    deploy_log: Path
    journal_records: int = 0
    nginx_lines: dict[str, int] = field(default_factory=dict)
    nginx_no_request: int = 0    # lines with request "-": valid nginx, outside a request regex
    http_5xx: int = 0            # every 5xx line written, in all the nginx files
    report_records: int = 0      # kernel records the OOM report folds into one event
    deploys: int = 0
    incident: dict = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        return [self.journal, *self.nginx, self.deploy_log]

    @property
    def bytes(self) -> int:
        return sum(p.stat().st_size for p in self.files)

    @property
    def expected_events(self) -> int:
        """Events that hold lines (``nlines > 0``): one per nginx line, deploy line and journal record,
        except the OOM report's records, which are one event (``oom_invoked``)."""
        return self.journal_records - (self.report_records - 1) + sum(self.nginx_lines.values()) + self.deploys


def _iso(us: int) -> str:
    dt = datetime.fromtimestamp(us // 1_000_000, timezone.utc).replace(microsecond=us % 1_000_000)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + (f".{us % 1_000_000:06d}" if us % 1_000_000 else "") + "Z"


def _fit(samples: list[tuple[int, int]]) -> tuple[int, float]:
    """Least-squares slope (bytes per minute, rounded) and r² of rss over time."""
    n = len(samples)
    xs = [(t - samples[0][0]) / 1e6 for t, _ in samples]
    ys = [float(v) for _, v in samples]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    syy = sum((y - my) ** 2 for y in ys)
    slope = sxy / sxx
    return round(slope * 60), round(sxy * sxy / (sxx * syy), 3)


def generate(out: Path, total_mb: float = 300, seed: int = SEED) -> Bundle:
    """Write a bundle of about ``total_mb`` MB (2**20 bytes) into ``out``; return what was written."""
    rng = random.Random(seed)
    root = out / HOST
    nginx_dir = root / "var" / "log" / "nginx"
    nginx_dir.mkdir(parents=True, exist_ok=True)
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "timezone").write_text("Etc/UTC\n")
    total = int(total_mb * MB)
    b = Bundle(root, root / "journal.export", [], root / "var" / "log" / "deploy.log")
    b.journal_records, story = write_journal(b.journal, total // 3, rng)
    b.report_records = story.report_records
    times = story.times
    b.deploy_log.write_text(f"2024-05-21T08:14:51Z v1.4.1 9d02e77 -- order export as CSV\n"
                            f"{_iso(DEPLOY_US)} {VERSION} {COMMIT} -- bump bullmq 4.12 -> 5.1\n")
    b.deploys = 2
    # the impact window (docs/incidents.md): 5 min before the kill to 1 min after the restart
    window = Window(times["kill"] - 300_000_000, times["recovered"] + 60_000_000)
    # rotated main log (oldest first) plus the API's virtual host over the whole span; the outage is the API's
    parts = [("access.log.2", 0.22, 0, SPAN_S // 3), ("access.log.1", 0.25, SPAN_S // 3, 2 * SPAN_S // 3),
             ("access.log", 0.28, 2 * SPAN_S // 3, SPAN_S), ("api.access.log", 0.25, 0, SPAN_S)]
    nginx_total = total - total // 3
    kill_s = (times["kill"] - START_US) // 1_000_000
    for name, share, t0, t1 in parts:
        p = nginx_dir / name
        target = int(nginx_total * share)
        outage = None
        if name == "api.access.log":
            quiet_rate = target / 215 / (t1 - t0)             # ~215 bytes a line
            outage = outage_lines(rng, kill_s - 600, kill_s + 300, min(20.0, max(0.5, 2 * quiet_rate)), times)
        r = write_nginx(p, target, t0, t1, rng, window, outage)
        b.nginx_lines[name] = r.lines
        b.nginx_no_request += r.no_request
        b.http_5xx += r.http_5xx
        b.nginx.append(p)
    slope, r2 = _fit(story.samples)
    rss_bytes = (ANON_KB + FILE_KB + SHMEM_KB) * 1024
    b.incident = {
        "host": HOST, "service": UNIT, "unit": UNIT, "process": "node", "pid": PIDS["deploy"],
        "ts": _iso(times["kill"]), "end_ts": _iso(times["last_death"]), "trigger": "oom_kill", "limit": "cgroup",
        "limit_bytes": LIMIT_BYTES, "rss_bytes": rss_bytes, "signal": "KILL", "deaths": 1, "restarts": 1,
        "gave_up": False, "recovered_ts": _iso(times["recovered"]),
        "downtime_s": round((times["recovered"] - times["kill"]) / 1e6, 3),
        "deploy_ts": _iso(DEPLOY_US), "deploy_version": VERSION, "deploy_commit": COMMIT,
        "memory_metric": "rss", "memory_samples": len(story.samples),
        "memory_start_bytes": story.samples[0][1], "memory_end_bytes": story.samples[-1][1],
        "memory_growth_bytes_per_min": slope, "memory_fit_r2": r2, "leak": True,
        "http_requests": window.requests, "http_5xx": window.http_5xx,
        "first_5xx_ts": _iso(window.first_5xx), "last_5xx_ts": _iso(window.last_5xx), "upstream_errors": 0,
        "link": "pid", "unknowns": [],
        "summary_contains": [UNIT, VERSION, f"pid {PIDS['deploy']}"],
    }
    return b


def describe(b: Bundle, total_mb: float, seed: int) -> tuple[str, dict]:
    """README.md text and expected.json content for the bundle."""
    inc = b.incident
    written = {
        "seed": seed, "mb": total_mb, "journal_records": b.journal_records,
        "journal_report_records": b.report_records, "nginx_lines": b.nginx_lines,
        "nginx_no_request": b.nginx_no_request, "http_5xx": b.http_5xx, "deploys": b.deploys,
        "events_with_lines": b.expected_events,
    }
    readme = f"""# A generated incident bundle ({total_mb:g} MB, seed {seed})

Written by `corpus/generate.py --mb {total_mb:g} --seed {seed}`. Host `{HOST}`, clock on UTC, three days
of logs (2024-05-26 to 2024-05-28) of a NestJS API (`{UNIT}`, `MemoryMax=2G`, `Restart=always`,
`RestartSec=5`) behind nginx.

| UTC | what |
|---|---|
| 2024-05-27 15:36:00 | the host reboots (a second boot in the journal) |
| {_iso(DEPLOY_US)} | deploy.log: {VERSION} {COMMIT}, then `sudo systemctl restart {UNIT}` |
| after the deploy | the app's MemoryMonitor line (`process.memoryUsage()` as JSON, every 5 min) climbs |
| {inc['ts']} | the kernel's memory-cgroup OOM killer kills node (pid {inc['pid']}) on the 2 GiB limit |
| {inc['recovered_ts']} | systemd restarts the unit ({inc['downtime_s']} s later) |
| {inc['first_5xx_ts']} to {inc['last_5xx_ts']} | nginx answers 502 ({inc['http_5xx']} in the impact window) |

Files: `{HOST}/journal.export` ({b.journal_records} records), `{HOST}/var/log/nginx/*.log`
(combined plus `$request_time $upstream_response_time $upstream_status`; {sum(b.nginx_lines.values())} lines,
{b.http_5xx} of them 5xx), `{HOST}/var/log/deploy.log`, `{HOST}/etc/timezone`.

`expected.json` holds the incident as docs/incidents.md defines it, computed by the generator from what it
wrote, and under `written` the counts of what it wrote.
"""
    return readme, {"incidents": [inc], "written": written}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mb", type=float, default=300, help="bundle size in MB of 2**20 bytes (default 300)")
    ap.add_argument("--out", type=Path, default=Path("generated-bundle"), help="folder to write (default ./generated-bundle)")
    ap.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    args = ap.parse_args(argv)
    if args.mb < 1:
        ap.error("--mb must be at least 1: the story alone takes a few hundred kB")
    if (args.out / HOST).exists():
        ap.error(f"{args.out / HOST} exists: give an empty or new --out")
    t = time.perf_counter()
    b = generate(args.out, args.mb, args.seed)
    secs = time.perf_counter() - t
    readme, expected = describe(b, args.mb, args.seed)
    (args.out / "README.md").write_text(readme)
    (args.out / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")
    print(f"{args.out}: {b.bytes / MB:.1f} MB in {secs:.1f} s; {b.journal_records} journal records, "
          f"{sum(b.nginx_lines.values())} nginx lines ({b.http_5xx} of them 5xx); incident at {b.incident['ts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
