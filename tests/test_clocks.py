"""dmesg's seconds since boot, put on the wall clock, and one count per kernel record."""
from __future__ import annotations

import json

from .helpers import accounted, ingest, sample

BOOT = 1716876000_000000          # 2024-05-28T06:00:00Z: the kernel clock's zero in the bundles below


def _journal_entry(mono_us: int, msg: str, delay_us: int = 200) -> dict:
    """A kernel message as journald stores it: read delay_us after the kernel printed it."""
    return {"__REALTIME_TIMESTAMP": str(BOOT + mono_us + delay_us), "__MONOTONIC_TIMESTAMP": str(mono_us + delay_us),
            "_SOURCE_MONOTONIC_TIMESTAMP": str(mono_us), "_BOOT_ID": "b0", "_TRANSPORT": "kernel",
            "SYSLOG_IDENTIFIER": "kernel", "_HOSTNAME": "web1", "PRIORITY": "6", "MESSAGE": msg}


KERNEL = [(1_000_123, "Linux version 6.8.0-31-generic"), (5_250_000, "EXT4-fs (vda1): mounted filesystem"),
          (86_400_000_001, "node invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0"),
          (86_400_000_900, "Memory cgroup out of memory: Killed process 812 (node) total-vm:1000kB, "
                           "anon-rss:900kB, file-rss:20kB, shmem-rss:0kB, UID:1001 pgtables:40kB oom_score_adj:0")]


def _bundle(tmp_path, with_journal=True):
    host = tmp_path / "web1"
    host.mkdir()
    (host / "dmesg.txt").write_text("".join(f"[{m // 1_000_000:5d}.{m % 1_000_000:06d}] {t}\n" for m, t in KERNEL))
    if with_journal:
        (host / "journal.json").write_text("".join(json.dumps(_journal_entry(m, t)) + "\n" for m, t in KERNEL))
    return host


def test_dmesg_aligned_by_the_journal_of_the_same_boot(tmp_path):
    con, res = ingest(tmp_path, _bundle(tmp_path))
    off = con.execute("SELECT method, epoch_us(boot_time), boot_id, aligned FROM clock_offsets").fetchall()
    assert off == [("journal", BOOT, "b0", 4)]           # 2 lines, the OOM report and its kill
    # every aligned kernel line lies within 1 ms of its journal twin, and not after it
    pairs = con.execute("""
        SELECT epoch_us(d.ts), epoch_us(j.ts), d.ts_quality, d.duplicate_of = j.event_id FROM events d
        JOIN events j ON j.event_id = d.duplicate_of
        JOIN files fd ON fd.file_id = d.file_id WHERE fd.path LIKE '%dmesg.txt'""").fetchall()
    assert len(pairs) == 4
    for d, j, q, linked in pairs:
        assert q == "monotonic_aligned" and linked
        assert 0 <= j - d <= 1000
    # the kill counted once, from the journal
    kills = con.execute("SELECT pid, process, anon_rss_bytes, file FROM oom_kills").fetchall()
    assert kills == [(812, "node", 900 * 1024, str(tmp_path / "web1" / "journal.json"))]
    for r in res:
        assert accounted(con, r.file_id)[0] == accounted(con, r.file_id)[1]


def test_dmesg_without_evidence_stays_unaligned_and_says_how(tmp_path):
    con, res = ingest(tmp_path, _bundle(tmp_path, with_journal=False))
    row = con.execute("SELECT method, boot_time, aligned, evidence FROM clock_offsets").fetchone()
    assert row[:3] == ("none", None, 0) and "--boot-time" in row[3]
    assert con.execute("SELECT DISTINCT ts_quality FROM events").fetchall() == [("unaligned",)]
    # the kill is still there, without a time
    assert con.execute("SELECT pid, ts FROM oom_kills").fetchall() == [(812, None)]


def test_boot_time_option_and_bundle_btime(tmp_path):
    host = _bundle(tmp_path, with_journal=False)
    con, _ = ingest(tmp_path, host, boot_time="2024-05-28T06:00:00Z")
    assert con.execute("SELECT method, epoch_us(boot_time) FROM clock_offsets").fetchall() == [("--boot-time", BOOT)]
    assert con.execute("SELECT min(epoch_us(ts)) FROM events").fetchone()[0] == BOOT + 1_000_123
    con.close()
    (host / "proc").mkdir()
    (host / "proc" / "stat").write_text(f"cpu  1 2 3\nbtime {BOOT // 1_000_000}\nprocesses 9\n")
    (tmp_path / "t.duckdb").unlink()
    con, _ = ingest(tmp_path, host)
    assert con.execute("SELECT method, epoch_us(boot_time) FROM clock_offsets").fetchall() == [("bundle boot time", BOOT)]
    con.close()
    # uptime -s, in the host's local time: 08:00:00 in Berlin in May (UTC+2) is 06:00:00Z
    (host / "proc" / "stat").unlink()
    (host / "etc").mkdir()
    (host / "etc" / "timezone").write_text("Europe/Berlin\n")
    (host / "uptime-s.txt").write_text("2024-05-28 08:00:00\n")
    (tmp_path / "t.duckdb").unlink()
    con, res = ingest(tmp_path, host)
    assert con.execute("SELECT method, epoch_us(boot_time) FROM clock_offsets").fetchall() == [("bundle boot time", BOOT)]
    assert not any(r.path.endswith("uptime-s.txt") for r in res)


def test_replayed_syslog_does_not_drag_the_boot_time(tmp_path):
    """The lab bundle: the 19:52 OOM is in dmesg and, replayed late by rsyslog at 19:54:10, in syslog;
    kern.log holds live lines of the same boot. The boot time is the least wall - uptime over the boot."""
    files = [sample("dmesg/lab-k6.18-memcg-oom-node.dmesg.txt"),
             sample("syslog/lab-debian12-rsyslog-replayed-oom-excerpt.syslog"),
             sample("kern-log/lab-debian12-rsyslog-run3-memcg-oom-x9.kern.log")]
    con, _ = ingest(tmp_path, *files, host="vm")
    method, boot = con.execute("SELECT method, epoch_us(boot_time) FROM clock_offsets").fetchone()
    assert method == "message match"
    # kern.log line 1: 2026-11-22T19:59:04.713972Z at [10535.064409]: boot <= 17:03:29.649563Z
    first_line_bound = 1795377544713972 - 10535064409   # calendar.timegm((2026, 11, 22, 19, 59, 4, ...)) = 1795377544
    assert boot <= first_line_bound and first_line_bound - boot < 5_000   # within 5 ms of that line's bound
    # the replayed copy (19:54:10) is not the one counted: the aligned dmesg copy is
    kill = con.execute("SELECT ts_quality, file FROM oom_kills WHERE pid = 21140").fetchall()
    assert kill == [("monotonic_aligned", str(files[0]))]


def test_copies_without_kernel_time_link_by_text_within_a_second(tmp_path):
    """kern.log without printk times and dmesg -T: the same repeated message, a second apart or less."""
    host = tmp_path / "web1"
    host.mkdir()
    msg = "[UFW BLOCK] IN=eth0 OUT= SRC=203.0.113.7 DST=10.0.0.2 PROTO=TCP DPT=22"
    (host / "kern.log").write_text("".join(f"2024-05-28T06:00:0{i}.200000+00:00 web1 kernel: {msg}\n" for i in range(4)))
    (host / "dmesg.txt").write_text("".join(f"[Tue May 28 06:00:0{i} 2024] {msg}\n" for i in range(4)))
    con, _ = ingest(tmp_path, host)
    rows = con.execute("""
        SELECT d.line, k.line FROM events d JOIN events k ON k.event_id = d.duplicate_of
        JOIN files f ON f.file_id = d.file_id WHERE f.path LIKE '%dmesg.txt' ORDER BY d.line""").fetchall()
    # each -T line (whole seconds) points at the kern.log line of its own second, 0.2 s later
    assert rows == [(1, 1), (2, 2), (3, 3), (4, 4)]
    assert con.execute("SELECT count(*) FROM events WHERE duplicate_of IS NULL").fetchone()[0] == 4


def test_kern_log_of_two_boots_aligns_dmesg_to_its_own(tmp_path):
    """Both boots print the same first lines at the same kernel times; the dmesg is of the second boot."""
    host = tmp_path / "web1"
    host.mkdir()
    early = [(0, "Linux version 6.8.0-31-generic"), (12_345, "Command line: BOOT_IMAGE=/vmlinuz ro quiet")]
    boot1, boot2 = BOOT, BOOT + 3 * 86_400_000_000        # the second boot three days later

    def syslog_line(boot, mono, text):
        wall = boot + mono + 50_000                        # rsyslog wrote it 50 ms after the kernel printed it
        s, us = divmod(wall, 1_000_000)
        import datetime
        t = datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{t}.{us:06d}+00:00 web1 kernel: [{mono // 1_000_000:5d}.{mono % 1_000_000:06d}] {text}\n"

    later = [(700_000_000, "e1000: eth0 NIC Link is Up"), (900_000_000, "EXT4-fs (vda1): re-mounted")]
    (host / "kern.log").write_text("".join(syslog_line(boot1, m, t) for m, t in early + later[:1])
                                   + "".join(syslog_line(boot2, m, t) for m, t in early + later))
    (host / "dmesg.txt").write_text("".join(f"[{m // 1_000_000:5d}.{m % 1_000_000:06d}] {t}\n" for m, t in early + later))
    con, _ = ingest(tmp_path, host)
    method, boot = con.execute("SELECT method, epoch_us(boot_time) FROM clock_offsets").fetchone()
    assert (method, boot) == ("message match", boot2 + 50_000)
    # the kern.log copies of the second boot's lines point at the aligned dmesg; the first boot's do not
    linked = con.execute("""
        SELECT epoch_us(k.ts) >= $b2, k.duplicate_of IS NOT NULL, epoch_us(k.ts) - epoch_us(d.ts)
        FROM events k LEFT JOIN events d ON d.event_id = k.duplicate_of
        WHERE k.source = 'syslog' ORDER BY k.line""", {"b2": boot2}).fetchall()
    assert [(second, dup) for second, dup, _ in linked] == [(False, False)] * 3 + [(True, True)] * 4
    assert all(dt == 0 for _, dup, dt in linked if dup)    # aligned to the least delayed line, all 50 ms late


def test_year_of_a_yearless_file_taken_from_the_hosts_dated_logs(tmp_path):
    # /var/log/messages (no year) beside an nginx log of March 2021; the copy was made today, so the file's
    # date says the current year: its lines are moved by whole years onto the span the nginx log dates
    import datetime as dt
    host = tmp_path / "b" / "old"
    (host / "var/log/nginx").mkdir(parents=True)
    (host / "var/log/messages").write_text(
        "Mar  9 19:02:11 old systemd: node-api.service: main process exited, code=killed, status=9/KILL\n")
    (host / "var/log/nginx/access.log").write_text(
        '10.0.0.1 - - [09/Mar/2021:19:02:12 +0000] "GET / HTTP/1.1" 502 157 "-" "curl/7.29.0"\n')
    con, _ = ingest(tmp_path, tmp_path / "b", tz="UTC")
    this_year = dt.date.today().year
    ts = con.execute("SELECT strftime(ts, '%Y-%m-%d %H:%M:%S'), ts_quality FROM events JOIN files USING (file_id) "
                     "WHERE path LIKE '%messages'").fetchall()
    assert ts == [("2021-03-09 19:02:11", "year_inferred")]
    note = con.execute("SELECT note FROM files WHERE path LIKE '%messages'").fetchone()[0]
    assert note == f"year taken from the host's dated logs ({2021 - this_year:+d} from the file's date)"
    con.close()
    # --year is the user's word and is kept
    (tmp_path / "y").mkdir()
    con, _ = ingest(tmp_path / "y", tmp_path / "b", tz="UTC", year=2019)
    assert con.execute("SELECT year(ts) FROM events JOIN files USING (file_id) WHERE path LIKE '%messages'"
                       ).fetchall() == [(2019,)]


def test_a_year_moved_keeps_the_wall_clock_time_of_its_zone(tmp_path):
    # New York: 9 March 2021 was still EST (UTC-5); in many other years that day is EDT. The line says
    # 19:02:11 on the server's clock, so it is 2021-03-10 00:02:11 UTC whatever the file's date says.
    import datetime as dt
    from zoneinfo import ZoneInfo
    host = tmp_path / "b" / "old"
    (host / "var/log/nginx").mkdir(parents=True)
    (host / "etc").mkdir()
    (host / "etc/timezone").write_text("America/New_York\n")
    (host / "var/log/messages").write_text("Mar  9 19:02:11 old kernel: Killed process 2431 (node)\n")
    (host / "var/log/nginx/access.log").write_text(
        '10.0.0.1 - - [09/Mar/2021:19:02:12 -0500] "GET / HTTP/1.1" 502 157 "-" "curl/7.29.0"\n')
    con, _ = ingest(tmp_path, tmp_path / "b")
    want = dt.datetime(2021, 3, 9, 19, 2, 11, tzinfo=ZoneInfo("America/New_York")).astimezone(dt.timezone.utc)
    assert con.execute("SELECT strftime(ts, '%Y-%m-%d %H:%M:%S') FROM events JOIN files USING (file_id) "
                       "WHERE path LIKE '%messages'").fetchall() == [(want.strftime("%Y-%m-%d %H:%M:%S"),)]
