"""Hostile application output: each line ends in an event or a reject, never a crash."""
from __future__ import annotations

import json

from .helpers import accounted, ingest

NEST = "[Nest] 812  - 05/28/2024, 2:35:{s:02d} PM   {lvl} [{ctx}] {msg}"


def test_nest_stack_of_500_frames_and_ansi_codes_cut_across_lines(tmp_path):
    lines = [NEST.format(s=1, lvl="  LOG", ctx="NestFactory", msg="Starting Nest application... +2ms"),
             "\x1b[31m" + NEST.format(s=2, lvl="ERROR", ctx="ExceptionsHandler", msg="boom") + "\x1b[3",
             "9m" + "Error: boom"]
    lines += [f"    at handler{i} (/home/deploy/api/dist/orders.js:{i}:7)" for i in range(500)]
    lines.append(NEST.format(s=3, lvl="  LOG", ctx="RoutesResolver", msg="back +1ms"))
    f = tmp_path / "api.log"
    f.write_text("\n".join(lines) + "\n")
    con, (res,) = ingest(tmp_path, f, tz="UTC")
    assert res.format == "nestjs" and res.status == "ingested"
    lines_read, acc = accounted(con, res.file_id)
    assert lines_read == acc == 504
    rows = con.execute("SELECT line, line_end, kind FROM events ORDER BY line").fetchall()
    # the ERROR record is cut from what follows by the colour code split over two lines: it stays an
    # app_error of one line, and the "9mError: boom" line keeps all 500 frames under it (3..503)
    assert rows == [(1, 1, "log"), (2, 2, "app_error"), (3, 503, "log"), (504, 504, "log")]


def test_json_lines_with_nested_objects_and_unicode(tmp_path):
    recs = [{"level": 50, "time": 1716906912123, "pid": 812, "hostname": "web1",
             "msg": "échec de la commande 😱 — ещё раз",
             "err": {"type": "Error", "message": "connect ECONNREFUSED 127.0.0.1:6379",
                     "stack": "Error: connect ECONNREFUSED 127.0.0.1:6379\n    at TCPConnectWrap.afterConnect"},
             "req": {"headers": {"x-ü": ["ä", {"deep": [1, 2, {"deeper": None}]}]}}},
            {"level": 30, "time": 1716906913000, "pid": 812, "hostname": "web1", "msg": "ok \u0000 nul"}]
    f = tmp_path / "app.json"
    f.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n{\"level\": 30, \"time\": 17\n")
    con, (res,) = ingest(tmp_path, f)
    assert res.format == "nestjs"
    assert accounted(con, res.file_id) == (3, 3)
    rows = con.execute("SELECT line, epoch_ms(ts), host, message, kind FROM events ORDER BY line").fetchall()
    assert rows[0][:3] == (1, 1716906912123, "web1") and "😱" in rows[0][3] and "ещё" in rows[0][3]
    assert rows[1][0] == 2 and "\x00" not in rows[1][3]
    assert con.execute("SELECT count(*) FROM rejects").fetchone()[0] + len(rows) == 3
