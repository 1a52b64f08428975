"""nestjs: Nest's console logger, pino and winston JSON lines.

Values checked against the samples were read off the text by hand.  The lab
host's zone is UTC, so its times are UTC as printed; the issue excerpts are
read in UTC (the default) too.
"""
from __future__ import annotations

import io

import pytest

import parsers
from parsers import nestjs
from parsers.context import Context
from parsers.testing import run
from parsers.timeutil import utc_us, zone

from .helpers import accounted, assert_accounted, ingest, line_count, sample

MOD = "parsers.nestjs"


def t(y, mo, d, h, mi, s, ms=0) -> int:
    return utc_us(y, mo, d, h, mi, s, ms * 1000)


def parse_file(rel: str, ctx: Context | None = None):
    data = sample("nestjs/" + rel).read_bytes()
    events, rejects = run(MOD, data, ctx)
    assert_accounted(data, events, rejects)
    return events, rejects


# --- the real files ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("rel", ["lab-nest10.4-di-error-startup.ansi.log", "lab-nest10.4-di-error-startup.NO_COLOR.log"])
def test_lab_di_error_with_and_without_colours(rel):
    events, rejects = parse_file(rel)
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.severity) for e in events] == [
        (1, 1, "log", 6), (2, 2, "log", 6), (3, 32, "di_error", 3)]
    pid, sec = (24520, 33) if "ansi" in rel else (24545, 37)
    e0, e1, di = events
    assert (e0.pid, e0.process, e0.ts_us, e0.ts_quality) == (pid, "node", t(2026, 11, 22, 20, 4, sec), "zone_assumed")
    assert e0.message == "Starting Nest application..." and e0.attrs == {"context": "NestFactory"}
    assert e1.attrs == {"context": "InstanceLoader", "delta_ms": 8 if "ansi" in rel else 10}
    assert e1.message == "AppModule dependencies initialized"
    a = di.attrs
    assert (a["provider"], a["missing"], a["index"], a["module"], a["context"], a["token"]) == (
        "OrdersService", "REDIS_CLIENT", 0, "OrdersModule", "ExceptionHandler", True)
    assert di.message.startswith("Nest can't resolve dependencies of the OrdersService (?).")
    assert "\x1b" not in di.message
    assert di.message.endswith("(/home/deploy/api/node_modules/@nestjs/core/injector/instance-loader.js:55:9)")


def test_lab_ioredis_runtime_errors():
    events, rejects = parse_file("lab-nest10.4-runtime-errors-ioredis-econnrefused.ansi.log")
    assert rejects == []
    kinds = [e.kind for e in events]
    assert kinds.count("log") == 7 and kinds.count("app_error") == 1
    redis = [e for e in events if e.message.startswith("[ioredis]")]
    assert len(redis) == 31 and all(e.line_end == e.line + 1 for e in redis)
    assert redis[0].attrs == {"code": "ECONNREFUSED", "target_host": "127.0.0.1", "target_port": 6379,
                              "target": "redis"}
    assert (redis[0].kind, redis[0].ts_us, redis[0].ts_quality) == ("connection_error", t(2026, 11, 22, 20, 4, 38),
                                                                    "inherited")
    retries = events[28]
    assert (retries.line, retries.line_end, retries.kind, retries.severity, retries.pid) == (
        50, 55, "connection_error", 3, 24558)
    assert retries.attrs == {"context": "ExceptionsHandler", "code": "MaxRetriesPerRequestError", "target": "redis"}
    assert retries.ts_us == t(2026, 11, 22, 20, 4, 48)
    typeerr = events[29]
    assert (typeerr.line, typeerr.line_end, typeerr.kind) == (56, 67, "app_error")
    assert typeerr.message.splitlines()[:2] == ["Cannot read properties of undefined (reading 'items')",
                                                "TypeError: Cannot read properties of undefined (reading 'items')"]
    assert redis[-1].ts_us == t(2026, 11, 22, 20, 4, 48)   # after the 8:04:48 PM records


def test_en_gb_dates_are_day_first_and_tsc_lines_are_not_folded():
    events, rejects = parse_file("issue-bradtraversy-nestjs_rest_api-pr34-excerpt.txt")
    assert [(e.line, e.line_end, e.kind) for e in events] == [
        (1, 16, "di_error"), (17, 17, "log"), (19, 19, "log"), (21, 21, "log"), (22, 22, "log")]
    assert [(r.line, r.reason) for r in rejects] == [(18, "blank line"), (20, "blank line")]
    assert events[0].ts_us == t(2023, 6, 9, 16, 35, 31)      # 09/06/2023, 16:35:31 (en-GB): 9 June
    assert (events[0].attrs["provider"], events[0].attrs["missing"], events[0].attrs["module"]) == (
        "ItemsService", "ItemModel", "AppModule")
    assert "token" not in events[0].attrs
    assert (events[1].message, events[1].ts_quality) == (
        "[16:36:07] File change detected. Starting incremental compilation...", "inherited")
    assert (events[4].pid, events[4].ts_us, events[4].attrs) == (
        8888, t(2023, 6, 9, 16, 36, 10), {"context": "InstanceLoader", "delta_ms": 74})


def test_nest6_minutes_only_dates():
    events, rejects = parse_file("issue-devonfw-my-thai-star-314-nest6-startup-excerpt.txt")
    assert [r.line for r in rejects] == [3, 4, 6, 7]
    assert [(e.line, e.ts_quality) for e in events[:4]] == [(1, "untimed"), (2, "untimed"), (5, "untimed"),
                                                             (8, "untimed")]
    nest = events[4:]
    assert [e.ts_us for e in nest] == [t(2019, 11, 24, 17, 0, 0)] * 4      # 11/24/2019, 5:00 PM
    assert all(e.pid == 20964 and e.severity is None and e.attrs["ts_resolution_s"] == 60 for e in nest)
    assert nest[-1].message == "TypeOrmModule dependencies initialized"    # trailing spaces dropped

    events, rejects = parse_file("issue-typeorm-4377-nest6-format-excerpt.txt")
    assert rejects == [] and len(events) == 1
    e = events[0]
    assert (e.line, e.line_end, e.kind, e.pid, e.ts_us) == (1, 3, "connection_error", 22388, t(2019, 6, 30, 1, 40, 0))
    assert e.attrs == {"context": "TypeOrmModule", "delta_ms": 527, "ts_resolution_s": 60, "code": "ENOTFOUND",
                       "target_host": "nest-mysql", "target_port": 3306, "target": "mysql", "retry": 1}


def test_typeorm_retries_and_compose_prefix():
    events, rejects = parse_file("issue-givebest-node-nest-vue-nuxt-cms-5-typeorm-retry-excerpt.txt")
    assert rejects == []
    assert [(e.line, e.line_end, e.kind, e.attrs["retry"]) for e in events] == [
        (1, 12, "connection_error", 4), (13, 17, "connection_error", 5)]
    assert events[0].ts_us == t(2022, 7, 7, 8, 56, 4)

    events, rejects = parse_file("issue-karafra-ai-art-39-compose-prefix-excerpt.txt")
    assert [(r.line, r.reason) for r in rejects] == [(3, "blank line")]
    e = events[0]
    assert (e.line, e.line_end, e.pid, e.ts_us) == (1, 2, 31, t(2023, 1, 18, 15, 42, 14))
    assert e.message == ("Unable to connect to the database. Retrying (3)...\n"
                         "MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017")
    assert e.attrs == {"context": "TypeOrmModule", "container": "deploy-discord-chat-bot-1", "code": "ECONNREFUSED",
                       "target_host": "127.0.0.1", "target_port": 27017, "target": "mongodb", "retry": 3}


# --- edge cases --------------------------------------------------------------------------------------------------

def test_en_us_and_day_first_decided_per_file():
    us = "[Nest] 1  - 05/06/2024, 2:35:01 PM     LOG [A] x\n"
    assert run(MOD, us)[0][0].ts_us == t(2024, 5, 6, 14, 35, 1)
    # a later line of the file shows the order (13/06): the first line is read day-first too
    gb = "[Nest] 1  - 05/06/2024, 2:35:01 PM     LOG [A] x\n[Nest] 1  - 13/06/2024, 2:35:02 PM     LOG [A] y\n"
    assert [e.ts_us for e in run(MOD, gb)[0]] == [t(2024, 6, 5, 14, 35, 1), t(2024, 6, 13, 14, 35, 2)]
    # 12 AM is midnight, 12 PM noon; a 24-hour time is day-first
    assert run(MOD, "[Nest] 1  - 05/06/2024, 12:00:01 AM     LOG x\n")[0][0].ts_us == t(2024, 5, 6, 0, 0, 1)
    assert run(MOD, "[Nest] 1  - 05/06/2024, 00:00:01     LOG x\n")[0][0].ts_us == t(2024, 6, 5, 0, 0, 1)


def test_levels_context_delta_zone_and_colour_for_nest6():
    text = "".join(f"[Nest] 7  - 05/20/2024, 2:35:01 PM {lvl:>7} [Ctx] m +{i}ms\n"
                   for i, lvl in enumerate(["LOG", "ERROR", "WARN", "DEBUG", "VERBOSE", "FATAL"]))
    events, rejects = run(MOD, text, Context(tz=zone("Europe/Berlin")))
    assert rejects == []
    assert [(e.severity, e.kind, e.attrs["delta_ms"]) for e in events] == [
        (6, "log", 0), (3, "app_error", 1), (4, "log", 2), (7, "log", 3), (7, "log", 4), (2, "app_error", 5)]
    assert events[0].ts_us == t(2024, 5, 20, 12, 35, 1) and events[0].message == "m"   # CEST
    red = "\x1b[31m[Nest] 9   - 2019-06-30 1:40 AM   \x1b[39m\x1b[33m[TypeOrmModule]\x1b[39m \x1b[31mboom\x1b[39m\n"
    e = run(MOD, red)[0][0]
    assert (e.severity, e.kind, e.message, e.attrs) == (3, "app_error", "boom", {"context": "TypeOrmModule",
                                                                            "ts_resolution_s": 60})


def test_objects_and_blank_lines_fold_and_plain_output_does_not():
    text = ("[Nest] 1  - 05/20/2024, 2:35:01 PM     LOG [App] Object:\n"
            "{\n"
            '  "a": 1\n'
            "}\n"
            "\n"
            "plain output\n"
            "TypeError: x is not a function\n"
            "    at f (/app/a.js:1:1)\n"
            "\n")
    events, rejects = run(MOD, text)
    assert [(e.line, e.line_end, e.kind, e.ts_quality) for e in events] == [
        (1, 4, "log", "zone_assumed"), (6, 6, "log", "inherited"), (7, 8, "app_error", "inherited")]
    assert events[0].message == 'Object:\n{\n  "a": 1\n}'
    assert [(r.line, r.reason) for r in rejects] == [(5, "blank line"), (9, "blank line")]
    assert_accounted(text.encode(), events, rejects)


def test_a_log_record_does_not_swallow_an_error_after_it():
    text = ("[Nest] 1  - 05/20/2024, 2:35:01 PM     LOG [App] ready\n"
            "Error: crash\n    at f (/app/a.js:1:1)\n")
    events, _ = run(MOD, text)
    assert [(e.line, e.line_end, e.kind) for e in events] == [(1, 1, "log"), (2, 3, "app_error")]


def test_pino_and_winston_json():
    text = ('{"level":30,"time":1716906912123,"pid":1,"hostname":"h","msg":"up","context":"NestApplication"}\n'
            '{"level":50,"time":1716906913000,"pid":1,"hostname":"h","msg":"boom","err":{"type":"Error",'
            '"message":"connect ECONNREFUSED 10.0.0.5:5432","stack":"Error: connect ECONNREFUSED 10.0.0.5:5432"}}\n'
            '{"level":"error","message":"failed","timestamp":"2024-05-28T14:35:12.123Z","context":"Orders"}\n'
            '{"level":"warn","message":"slow","timestamp":"2024-05-28 14:35:13"}\n'
            '{"level":30,"time":1716906914000,"msg":"request completed","req":{"method":"GET","url":"/orders"},'
            '"res":{"statusCode":500},"responseTime":12}\n')
    events, rejects = run(MOD, text, Context(tz=zone("+02:00")))
    assert rejects == []
    e = events
    assert (e[0].ts_us, e[0].ts_quality, e[0].severity, e[0].host, e[0].pid, e[0].kind, e[0].attrs) == (
        t(2024, 5, 28, 14, 35, 12, 123), "exact", 6, "h", 1, "log", {"logger": "pino", "context": "NestApplication"})
    assert (e[1].kind, e[1].severity, e[1].attrs["target"], e[1].attrs["target_port"]) == (
        "connection_error", 3, "postgres", 5432)
    assert (e[2].kind, e[2].severity, e[2].ts_us, e[2].ts_quality, e[2].attrs) == (
        "app_error", 3, t(2024, 5, 28, 14, 35, 12, 123), "exact", {"logger": "winston", "context": "Orders"})
    assert (e[3].severity, e[3].ts_us, e[3].ts_quality) == (4, t(2024, 5, 28, 12, 35, 13), "zone_assumed")
    assert (e[4].kind, e[4].attrs) == ("http_request", {"logger": "pino", "method": "GET", "path": "/orders",
                                                        "status": 500, "duration_ms": 12})


@pytest.mark.parametrize("message, kind, attrs", [
    ("Nest can't resolve dependencies of the OrdersService (?, ConfigService). Please make sure that the argument "
     "DatabaseService at index [0] is available in the OrdersModule context.", "di_error",
     {"exception": "UnknownDependenciesException", "provider": "OrdersService",
      "dependencies": ["?", "ConfigService"], "missing": "DatabaseService", "index": 0, "module": "OrdersModule"}),
    ('Nest can\'t resolve dependencies of the CatsService. Please make sure that the "repo" property is available '
     "in the current context.", "di_error",
     {"exception": "UnknownDependenciesException", "provider": "CatsService", "missing": "repo", "property": True,
      "module": "current"}),
    ("Nest could not find UsersService element (this provider does not exist in the current context)", "di_error",
     {"exception": "UnknownElementException", "missing": "UsersService"}),
    ("Error: connect ECONNREFUSED 127.0.0.1:3306", "connection_error",
     {"code": "ECONNREFUSED", "target_host": "127.0.0.1", "target_port": 3306, "target": "mysql"}),
    ("Error: ER_CON_COUNT_ERROR: Too many connections", "connection_error",
     {"code": "ER_CON_COUNT_ERROR", "target": "mysql"}),
    ("error: sorry, too many clients already", "connection_error", {"code": "53300", "target": "postgres"}),
    ("PrismaClientInitializationError: Can't reach database server at `db:5432`", "connection_error",
     {"target_host": "db", "target_port": 5432, "target": "postgres"}),
    ("Error: P1001: Can't reach database server at `db`:`5432`", "connection_error",
     {"code": "P1001", "target_host": "db", "target_port": 5432, "target": "postgres"}),
    ("MongoServerSelectionError: connect ECONNREFUSED 10.0.0.9:27018", "connection_error",
     {"code": "ECONNREFUSED", "target_host": "10.0.0.9", "target_port": 27018, "target": "mongodb"}),
    ("Unable to connect to the database. Retrying (2)...", "connection_error", {"retry": 2}),
    ("(node:4242) UnhandledPromiseRejectionWarning: Error: x", "app_error", {"unhandled_rejection": True}),
    ("(node:7) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 close listeners added "
     "to [Socket]. Use emitter.setMaxListeners() to increase limit", "log",
     {"leak_hint": True, "listeners": 11, "event": "close", "emitter": "Socket", "pid": 7}),
])
def test_classify(message, kind, attrs):
    assert nestjs.classify(message) == (kind, attrs)


def test_leak_warning_pid_goes_to_the_column():
    e = run(MOD, "(node:7) MaxListenersExceededWarning: Possible EventEmitter memory leak detected. 11 error "
                 "listeners added to [Redis]. Use emitter.setMaxListeners() to increase limit\n")[0][0]
    assert (e.kind, e.pid, e.attrs) == ("log", 7, {"leak_hint": True, "listeners": 11, "event": "error",
                                                   "emitter": "Redis"})


def test_garbage_invalid_dates_crlf_and_start_line():
    data = (b"[Nest] 1  - 02/30/2024, 2:35:01 PM     LOG x\r\n"
            b"[Nest] 1  - 05/20/2024, 13:35:01 PM     LOG y\r\n"
            b"\xff\xfe\r\n"
            b"[Nest] 1  - 05/20/2024, 2:35:01 PM     LOG caf\xe9\r\n")
    events, rejects = run(MOD, data)
    assert [(r.line, r.reason) for r in rejects] == [(1, "invalid date in a Nest timestamp"),
                                                     (2, "invalid time in a Nest timestamp")]
    assert [(e.line, e.message, e.ts_quality) for e in events] == [(3, "\ufffd\ufffd", "untimed"),
                                                                   (4, "caf\ufffd", "zone_assumed")]
    out = list(nestjs.parse(io.BytesIO(b"[Nest] 1  - 05/20/2024, 2:35:01 PM     LOG a\n  b\nc"), Context(), 41))
    assert [(o.line, o.line_end) for o in out] == [(41, 42), (43, 43)]
    assert run(MOD, b"") == ([], [])


def test_through_the_pipeline(tmp_path, monkeypatch):
    """Registered (as parsers/__init__.py will), the samples go in with every line accounted for."""
    if "nestjs" not in parsers.FORMATS:
        monkeypatch.setitem(parsers.FORMATS, "nestjs", nestjs)
        monkeypatch.setattr(parsers, "MODULES", [*parsers.MODULES, nestjs])
    paths = [sample("nestjs/lab-nest10.4-di-error-startup.ansi.log"),
             sample("nestjs/issue-bradtraversy-nestjs_rest_api-pr34-excerpt.txt")]
    con, results = ingest(tmp_path, *paths)
    assert [(r.format, r.status) for r in results] == [("nestjs", "ingested")] * 2
    assert sorted(accounted(con, r.file_id) for r in results) == [(22, 22), (32, 32)]
    rows = con.execute("SELECT kind, attrs->>'missing', pid FROM events WHERE kind = 'di_error' ORDER BY pid").fetchall()
    assert rows == [("di_error", "ItemModel", 4656), ("di_error", "REDIS_CLIENT", 24520)]
