-- Views over events, created in every database forensics writes.  Read them
-- with `forensics sql`, or in any DuckDB client; `SELECT * FROM duckdb_views()`
-- lists them with their SQL.

-- oom_kills: one row per process killed for memory, each kill once.
-- The kernel's kills (its OOM report folded into one event) appear once however
-- many files held them (dmesg, kern.log, the journal: see events.duplicate_of);
-- kills by systemd-oomd and earlyoom are listed too. systemd's "A process of this
-- unit has been killed by the OOM killer" stands in for a kill only where no
-- kernel kill on that host lies within 5 seconds of it.
CREATE OR REPLACE VIEW oom_kills AS
WITH k AS (
    SELECT e.*, coalesce(e.attrs->>'killer', CASE WHEN e.attrs->>'reported_by' = 'systemd' THEN 'systemd (attribution)'
                                                  ELSE 'kernel' END) AS killer
    FROM events e
    WHERE e.kind = 'oom_kill' AND e.duplicate_of IS NULL
)
SELECT k.event_id, k.ts, k.ts_quality, k.host, k.unit, k.pid, k.process, k.killer,
       k.attrs->>'constraint' AS "constraint",
       TRY_CAST(k.attrs->>'limit_bytes' AS BIGINT) AS limit_bytes,
       TRY_CAST(k.attrs->>'anon_rss_bytes' AS BIGINT) AS anon_rss_bytes,
       TRY_CAST(k.attrs->>'file_rss_bytes' AS BIGINT) AS file_rss_bytes,
       TRY_CAST(k.attrs->>'shmem_rss_bytes' AS BIGINT) AS shmem_rss_bytes,
       TRY_CAST(k.attrs->>'total_vm_bytes' AS BIGINT) AS total_vm_bytes,
       k.attrs->>'oom_memcg' AS oom_memcg, k.attrs->>'task_memcg' AS task_memcg,
       k.attrs->>'invoker' AS invoker, k.attrs->>'kernel' AS kernel,
       f.path AS file, k.line,
       (SELECT count(*) FROM events d WHERE d.duplicate_of = k.event_id) AS also_in_other_files
FROM k JOIN files f USING (file_id)
WHERE k.killer <> 'systemd (attribution)'
   OR NOT EXISTS (SELECT 1 FROM k AS kk WHERE kk.killer = 'kernel' AND kk.host IS NOT DISTINCT FROM k.host
                  AND abs(epoch(kk.ts) - epoch(k.ts)) <= 5);

-- lifecycle: what the process managers said about the processes they run, one shape for
-- systemd (journal and syslog), PM2 and supervisor: starts, exits (code, signal,
-- expected), restarts, give-ups, stops, failures and memory-limit restarts.
CREATE OR REPLACE VIEW lifecycle AS
SELECT e.event_id, e.ts, e.host,
       CASE WHEN e.source IN ('pm2', 'supervisord') THEN e.source
            WHEN e.process = 'systemd' THEN 'systemd' ELSE e.source END AS manager,
       e.unit,
       -- supervisor's exit lines name no pid: the pid of the program's last "spawned" line stands in
       coalesce(e.pid, TRY_CAST(e.attrs->>'spawned_pid' AS INTEGER)) AS pid, e.kind,
       -- one convention for all managers: code = how it ended (exited, killed, dumped), status = the exit
       -- status, signal without "SIG". PM2 prints "exited with code [N] via signal [S]": a signal with
       -- status 0 is a death by that signal, a non-zero status an exit of its own.
       CASE WHEN e.source = 'pm2' AND e.kind = 'process_exit'
            THEN CASE WHEN e.attrs->>'signal' IS NOT NULL AND TRY_CAST(e.attrs->>'code' AS INTEGER) = 0
                      THEN 'killed' ELSE 'exited' END
            ELSE e.attrs->>'code' END AS code,
       CASE WHEN e.source = 'pm2' THEN TRY_CAST(e.attrs->>'code' AS INTEGER)
            ELSE TRY_CAST(e.attrs->>'status' AS INTEGER) END AS status,
       regexp_replace(e.attrs->>'signal', '^SIG', '') AS signal,
       TRY_CAST(e.attrs->>'expected' AS BOOLEAN) AS expected,
       TRY_CAST(e.attrs->>'counter' AS INTEGER) AS restart_counter,
       coalesce(e.attrs->>'result', e.attrs->>'reason', e.attrs->>'phase') AS detail,
       f.path AS file, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.kind IN ('service_start', 'service_stop', 'service_failed', 'process_exit', 'restart', 'gave_up',
                 'memory_limit_restart')
  AND e.duplicate_of IS NULL;

-- pid_names: which program a pid was, per host, wherever a log ties the two (supervisor's
-- "spawned ... with pid", PM2's pid lines, the journal's _PID beside its unit), with the time
-- span it was seen in: a kernel OOM victim's pid resolves to a program through it.
CREATE OR REPLACE VIEW pid_names AS
SELECT host, pid, unit, min(ts) AS first_seen, max(ts) AS last_seen, count(*) AS events,
       list(DISTINCT source ORDER BY source) AS sources
FROM events
WHERE pid IS NOT NULL AND unit IS NOT NULL
  AND process IS DISTINCT FROM 'systemd'    -- the manager's own pid, reporting on another unit
  AND kind <> 'oom_invoked'                 -- the invoker need not be the unit's process
GROUP BY host, pid, unit;

-- deploys: when new code went out, from whatever the bundle says: a deploy log, git's reflog
-- (pull, reset, checkout), --deploy given by hand, and, as likelier-than-not hints, PM2's reload
-- of an app and npm ci / npm install runs seen in the logs (kind 'hint' in the evidence column).
CREATE OR REPLACE VIEW deploys AS
SELECT e.event_id, e.ts, e.host, e.unit, e.attrs->>'version' AS version, e.attrs->>'commit' AS commit,
       coalesce(e.attrs->>'note', e.attrs->>'reflog') AS note,
       CASE WHEN e.source = 'git_reflog' THEN 'git reflog'
            WHEN e.source = 'git_log' THEN 'git log (commit date)'
            WHEN e.attrs->>'given' IS NOT NULL THEN '--deploy' ELSE 'deploy log' END AS evidence,
       f.path AS file, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.kind = 'deploy' AND e.duplicate_of IS NULL
UNION ALL
SELECT e.event_id, e.ts, e.host, e.unit, NULL, NULL, e.message,
       CASE WHEN e.kind = 'restart' THEN 'hint: pm2 reload' ELSE 'hint: npm install' END, f.path, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.duplicate_of IS NULL
  AND ((e.source = 'pm2' AND e.kind = 'restart' AND e.attrs->>'reason' = 'reload')
       OR (e.kind = 'log' AND regexp_matches(e.message, '(^|\s)npm (ci|install)(\s|$)')));
