"""Deploys: git's reflog, a deploy log, --deploy by hand, and the deploys view."""
from __future__ import annotations

from .helpers import accounted, ingest

OLD, NEW = "3f2a9c1e0b0c4d5e6f708192a3b4c5d6e7f80912", "9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c"


def test_reflog_deploy_log_and_by_hand(tmp_path):
    host = tmp_path / "web1"
    git = host / "srv/api/.git"
    (git / "logs/refs/heads").mkdir(parents=True)
    (git / "objects/9b").mkdir(parents=True)
    (git / "objects/9b/8c7d").write_bytes(b"x\x9c\x00binary object")          # never read
    (git / "logs/refs/heads/main").write_text("not the HEAD reflog\n")         # not read either
    (git / "logs/HEAD").write_text(
        f"{'0' * 40} {OLD} deploy <deploy@web1> 1716000000 +0000\tclone: from git@example.com:shop/api.git\n"
        f"{OLD} {NEW} deploy <deploy@web1> 1716865212 +0200\tpull: Fast-forward\n"
        f"{NEW} {NEW} deploy <deploy@web1> 1716865300 +0200\tupdating HEAD\n")
    (host / "deploy.log").write_text("2024-05-28T03:00:12Z v1.4.2 9b8c7d6 -- bump bullmq 4.12 -> 5.1\n"
                                     "deployed it\n")
    con, res = ingest(tmp_path, host, deploys=["2024-05-28T05:05:00+02:00 v1.4.2-hotfix"])
    assert sorted(r.path.split("web1/")[-1] for r in res) == ["(--deploy)", "deploy.log", "srv/api/.git/logs/HEAD"]
    rows = con.execute("SELECT epoch_us(ts), host, version, commit, evidence, line FROM deploys ORDER BY ts, line"
                       ).fetchall()
    # by hand: 1716000000 is the clone; 1716865212 = 2024-05-28T03:00:12Z (date -u -d @1716865212), the pull
    # and the deploy log's line; 05:05:00+02:00 is 03:05:00Z; "updating HEAD" changed no code
    assert rows == [(1716000000000000, "web1", None, OLD, "git reflog", 1),
                    (1716865212000000, "web1", "v1.4.2", "9b8c7d6", "deploy log", 1),
                    (1716865212000000, "web1", None, NEW, "git reflog", 2),
                    (1716865500000000, "web1", "v1.4.2-hotfix", None, "--deploy", 0)]
    assert con.execute("SELECT line, reason FROM rejects").fetchall() == [
        (2, "not a deploy line (TIME VERSION [COMMIT] [-- note])")]
    for r in res:
        if r.path != "(--deploy)":
            assert accounted(con, r.file_id)[0] == accounted(con, r.file_id)[1]


def test_git_log_output(tmp_path):
    f = tmp_path / "git-log.txt"
    f.write_text(f"commit {NEW} (HEAD -> main, tag: v1.4.2, origin/main)\n"
                 "Author: Dana Dev <dana@example.com>\n"
                 "Date:   Tue May 28 03:00:12 2024 +0200\n\n"
                 "    bump bullmq 4.12 -> 5.1\n\n"
                 "    The worker's queue client, no code change.\n\n"
                 f"commit {OLD}\n"
                 "Author: Dana Dev <dana@example.com>\n"
                 "Date:   2024-05-20 18:30:00 +0000\n\n"
                 "    orders: paginate\n")
    con, (res,) = ingest(tmp_path, f)
    assert res.format == "git_log" and (res.lines, res.rejected) == (13, 0)   # 8 lines of the first commit, 5 of the second
    rows = con.execute("SELECT epoch_us(ts), version, commit, note, evidence, line FROM deploys ORDER BY ts").fetchall()
    # 2024-05-20T18:30:00Z = 1716229800 (date -u -d @1716229800); 03:00:12+02:00 on May 28 = 1716858012
    assert rows == [(1716229800000000, None, OLD, "orders: paginate", "git log (commit date)", 9),
                    (1716858012000000, "v1.4.2", NEW, "bump bullmq 4.12 -> 5.1", "git log (commit date)", 1)]
    assert accounted(con, res.file_id) == (13, 13)
