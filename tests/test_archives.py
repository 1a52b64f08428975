"""A bundle sent as one archive (tar.gz, zip) reads as the folder it holds, and a hostile one writes nothing
outside the ingest's work folder."""
from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile

from forensics.correlate import incidents

from .conftest import run_cli
from .helpers import CORPUS, ingest


def test_a_tar_gz_bundle_reads_as_its_folder(tmp_path):
    arc = tmp_path / "incident-2024-05-28.tar.gz"
    with tarfile.open(arc, "w:gz") as tar:
        tar.add(CORPUS / "vps-nest-oom", arcname="vps-nest-oom")
    con, res = ingest(tmp_path, arc)
    assert {r.status for r in res} == {"ingested"} and {r.host for r in res} == {"web1"}
    assert str(arc) + "/vps-nest-oom/web1/dmesg.txt" in {r.path for r in res}
    # the same incident as from the folder, as its expected.json states it
    [want] = json.loads((CORPUS / "vps-nest-oom/expected.json").read_text())["incidents"]
    [inc] = incidents(con)
    keys = ("service", "ts", "http_5xx", "link", "rss_bytes", "downtime_s")
    assert [inc[k] for k in keys] == [want[k] for k in keys]
    assert inc["evidence"][0]["file"].endswith(".tar.gz/vps-nest-oom/web1/dmesg.txt")


def test_a_zip_of_one_hosts_files_takes_the_archives_name_as_host(tmp_path):
    arc = tmp_path / "web9.zip"
    with zipfile.ZipFile(arc, "w") as z:
        z.writestr("var/log/nginx/access.log",
                   '10.0.0.1 - - [28/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n')
    con, (res,) = ingest(tmp_path, arc)
    assert (res.host, res.format, res.events, res.path) == ("web9", "nginx_access", 1, f"{arc}/var/log/nginx/access.log")


def test_a_hostile_archive_writes_nothing_outside_and_the_rest_is_read(tmp_path):
    arc = tmp_path / "evil.tar"
    outside = tmp_path / "escaped.txt"
    with tarfile.open(arc, "w") as tar:
        def add(name, data=b"", **kw):
            info = tarfile.TarInfo(name)
            for k, v in kw.items():
                setattr(info, k, v)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        add("../escaped.txt", b"x\n")
        add(str(outside), b"x\n")
        add("web1/passwd", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add("web1/var/log/nginx/access.log",
            b'10.0.0.1 - - [28/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n')
    r = run_cli("ingest", "evil.tar", "--db", "x.duckdb", cwd=tmp_path)
    assert not outside.exists()
    assert r.returncode == 1 and "Traceback" not in r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("forensics: error:")]
    # "../escaped.txt" and the link to /etc/passwd are left out; the absolute name is read inside the archive
    assert sum("left out" in l for l in errors) == 2, r.stderr
    assert re.search(r"evil\.tar/web1/var/log/nginx/access\.log +nginx_access .* ingested", r.stdout)


def test_an_archive_cut_short_gives_the_members_before_the_cut(tmp_path):
    whole = tmp_path / "whole.tar"
    with tarfile.open(whole, "w") as tar:
        for n in range(3):
            data = (f'10.0.0.{n} - - [28/May/2024:12:00:0{n} +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n'
                    * 2000).encode()
            info = tarfile.TarInfo(f"web1/var/log/nginx/access.log.{n}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    r = run_cli("ingest", cut, "--db", tmp_path / "x.duckdb", cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "cut.tar: web1/var/log/nginx/access.log.1: cut short" in r.stderr
    import duckdb
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    got = dict(con.execute("SELECT regexp_extract(path, '[^/]+$'), events FROM files").fetchall())
    con.close()
    # the first member whole (2000 lines), the second as far as the cut: at least a few hundred lines
    assert got["access.log.0"] == 2000 and 0 < got["access.log.1"] < 2000 and "access.log.2" not in got
