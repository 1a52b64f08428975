-- Correlation: the views that turn events into incidents. docs/incidents.md states the rule behind every
-- column; this file is that rule in SQL. Created in every database after views.sql.

-- memory_samples: one memory figure of one process at one time. metric: 'rss', 'heap_used', 'heap_total',
-- 'external', 'array_buffers' (a printed process.memoryUsage()), 'memory_peak' (systemd's figure at a
-- unit's stop: a peak, not a sample), 'gc_heap_after' (the heap left after a V8 collection, from --trace-gc).
CREATE OR REPLACE VIEW memory_samples AS
SELECT e.event_id, e.ts, e.host, e.unit, e.process,
       coalesce(e.pid, TRY_CAST(e.attrs->>'pid' AS INTEGER)) AS pid, e.source,
       CASE WHEN e.kind = 'gc' THEN 'gc_heap_after' ELSE e.attrs->>'metric' END AS metric,
       CASE WHEN e.kind = 'gc' THEN TRY_CAST(e.attrs->>'heap_after_bytes' AS BIGINT)
            ELSE TRY_CAST(e.attrs->>'bytes' AS BIGINT) END AS bytes,
       f.path AS file, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.kind IN ('memory_sample', 'gc') AND e.duplicate_of IS NULL AND e.ts IS NOT NULL;

-- http_requests: nginx's access log (combined/main or JSON), one row per request, its fields typed. An app's
-- own request log (pino-http) is not here: counted beside nginx's it would count each request twice.
CREATE OR REPLACE VIEW http_requests AS
SELECT e.event_id, e.ts, e.host, TRY_CAST(e.attrs->>'status' AS SMALLINT) AS status, e.attrs->>'method' AS method,
       e.attrs->>'path' AS path, TRY_CAST(e.attrs->>'bytes' AS BIGINT) AS bytes, e.attrs->>'client' AS client,
       e.attrs->>'user_agent' AS user_agent, TRY_CAST(e.attrs->>'request_time' AS DOUBLE) AS request_time,
       TRY_CAST(e.attrs->>'upstream_time' AS DOUBLE) AS upstream_time,
       TRY_CAST(e.attrs->>'upstream_status' AS SMALLINT) AS upstream_status, e.attrs->>'upstream_addr' AS upstream_addr,
       TRY_CAST(regexp_extract(e.attrs->>'upstream_addr', ':([0-9]+)$', 1) AS INTEGER) AS upstream_port,
       e.file_id, e.line
FROM events e
WHERE e.kind = 'http_request' AND e.source IN ('nginx_access', 'nginx_json');

-- upstream_errors: nginx could not reach or read its upstream (error log), with the upstream's address.
CREATE OR REPLACE VIEW upstream_errors AS
SELECT e.event_id, e.ts, e.host, e.attrs->>'upstream' AS upstream, e.attrs->>'upstream_host' AS upstream_host,
       TRY_CAST(e.attrs->>'upstream_port' AS INTEGER) AS upstream_port, e.attrs->>'reason' AS reason,
       e.attrs->>'client' AS client, e.attrs->>'request' AS request, e.message, f.path AS file, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.kind = 'upstream_error' AND e.duplicate_of IS NULL;

-- errors: what the applications said went wrong. kind 'leak_hint' is Node's MaxListenersExceededWarning.
CREATE OR REPLACE VIEW errors AS
SELECT e.event_id, e.ts, e.host, CASE WHEN e.kind = 'log' THEN 'leak_hint' ELSE e.kind END AS kind,
       e.unit, e.process, e.pid, e.source, e.message, f.path AS file, e.line
FROM events e JOIN files f USING (file_id)
WHERE e.duplicate_of IS NULL AND e.ts IS NOT NULL
  AND (e.kind IN ('app_error', 'di_error', 'connection_error')
       OR (e.kind = 'log' AND TRY_CAST(e.attrs->>'leak_hint' AS BOOLEAN)));

-- listen_ports: which service said it listens on which TCP port ("listening on port 3000", "running on
-- http://[::1]:3000"), so that an nginx upstream error on that port belongs to it.
CREATE OR REPLACE VIEW listen_ports AS
SELECT DISTINCT host, unit AS service,
       TRY_CAST(regexp_extract(message, '(?i)(?:listen(?:ing)?|running|started|serving|bound)\b[^\n]{0,40}?(?:port[ :=]*|https?://[^\s/]*:)([0-9]{2,5})\b', 1) AS INTEGER) AS port
FROM events
WHERE unit IS NOT NULL AND kind = 'log'
  AND regexp_matches(message, '(?i)(?:listen(?:ing)?|running|started|serving|bound)\b[^\n]{0,40}?(?:port[ :=]*|https?://[^\s/]*:)[0-9]{2,5}\b');

-- service_starts: a service (systemd unit, PM2 app, supervisor program) coming up.
CREATE OR REPLACE VIEW service_starts AS
SELECT e.event_id, e.ts, e.host, e.unit AS service, e.source, e.attrs->>'phase' AS phase
FROM events e
WHERE e.kind = 'service_start' AND e.unit IS NOT NULL AND e.duplicate_of IS NULL AND e.ts IS NOT NULL;

-- deaths: every event that says a process died or was given up on, tied to a service on its host
-- (docs/incidents.md §1, §2). family: which witness saw it (kernel, oomd, systemd_oom, systemd,
-- systemd_result, pm2, pm2_memory, supervisord, v8, gave_up); the same death seen by the kernel and by
-- systemd is one row of each family. resolved_by: how the service name was found: 'unit' (the record
-- names it), 'pid' (a pid another log tied to a unit), 'memcg' (the victim's cgroup), 'process' (its name
-- only), 'time' (another witness of the same second named it).
CREATE OR REPLACE VIEW deaths AS
WITH raw AS (
    SELECT e.event_id, e.ts, e.host, e.source, e.kind,
           -- earlyoom's and systemd-oomd's own unit is the killer's, not the victim's
           CASE WHEN e.kind = 'oom_kill' AND e.attrs->>'killer' IS NOT NULL
                 AND e.unit IN ('earlyoom.service', 'systemd-oomd.service') THEN NULL ELSE e.unit END AS unit,
           e.process,
           -- the systemd manager's messages carry its own pid, not the process's
           CASE WHEN e.process = 'systemd' THEN NULL
                ELSE coalesce(e.pid, TRY_CAST(e.attrs->>'pid' AS INTEGER)) END AS pid,
           e.attrs, e.file_id, e.line, e.message,
           CASE WHEN e.kind = 'oom_kill' AND e.attrs->>'reported_by' = 'systemd' THEN 'systemd_oom'
                WHEN e.kind = 'oom_kill' AND e.attrs->>'killer' IS NOT NULL THEN 'oomd'
                WHEN e.kind = 'oom_kill' THEN 'kernel'
                WHEN e.kind = 'heap_oom' THEN 'v8'
                WHEN e.kind = 'memory_limit_restart' THEN 'pm2_memory'
                WHEN e.kind = 'gave_up' THEN 'gave_up'
                WHEN e.kind = 'service_failed' THEN 'systemd_result' END AS family,
           CASE WHEN e.kind = 'oom_kill' THEN 'oom_kill'
                WHEN e.kind = 'service_failed' AND e.attrs->>'result' = 'oom-kill' THEN 'oom_kill'
                WHEN e.kind = 'service_failed' THEN 'crash'
                ELSE e.kind END AS cause,
           NULL::INTEGER AS exit_code, NULL::VARCHAR AS signal
    FROM events e
    WHERE e.kind IN ('oom_kill', 'heap_oom', 'memory_limit_restart', 'gave_up', 'service_failed')
      AND e.duplicate_of IS NULL AND e.ts IS NOT NULL
      -- systemd names the slices above a killed unit too ("system.slice: A process of this unit has been
      -- killed by the OOM killer"): a slice is no process, its unit's own line is the witness
      AND NOT coalesce(e.kind = 'oom_kill' AND e.attrs->>'reported_by' = 'systemd' AND e.unit LIKE '%.slice', false)
    UNION ALL
    -- a process_exit is a death unless it is expected: PM2's and supervisor's own verdict, a clean exit,
    -- or the signal that stop and restart send. A non-zero exit status is a death whatever signal PM2
    -- names beside it (it prints "exited with code [1] via signal [SIGINT]" for a plain exit(1)).
    SELECT l.event_id, l.ts, l.host, e.source, 'process_exit', l.unit, e.process,
           CASE WHEN l.manager = 'systemd' THEN NULL ELSE l.pid END, e.attrs, e.file_id, e.line, e.message,
           l.manager, 'crash', CASE WHEN coalesce(l.code, 'exited') = 'exited' THEN l.status END,
           CASE WHEN coalesce(l.code, 'exited') <> 'exited' THEN l.signal END
    FROM lifecycle l JOIN events e USING (event_id)
    WHERE l.kind = 'process_exit' AND l.ts IS NOT NULL
      AND NOT coalesce(l.expected, false)
      AND ((coalesce(l.code, 'exited') = 'exited' AND coalesce(l.status, 0) <> 0)
           OR (coalesce(l.code, 'exited') <> 'exited' AND coalesce(l.signal, '') NOT IN ('TERM', 'INT', 'HUP', 'QUIT')))
),
pid_units AS (   -- pid -> unit wherever a log other than the kernel's kill report ties them
    SELECT host, pid, unit, min(ts) AS first_seen, max(ts) AS last_seen
    FROM events
    WHERE pid IS NOT NULL AND unit IS NOT NULL AND process IS DISTINCT FROM 'systemd'
      AND kind NOT IN ('oom_invoked', 'oom_kill') AND ts IS NOT NULL
    GROUP BY ALL
),
named AS (
    SELECT r.*,
           CASE WHEN r.family IN ('kernel', 'oomd') THEN
                (SELECT arg_min(p.unit, CASE WHEN r.ts BETWEEN p.first_seen AND p.last_seen THEN 0
                                             ELSE least(abs(epoch(r.ts) - epoch(p.first_seen)),
                                                        abs(epoch(r.ts) - epoch(p.last_seen))) END)
                 FROM pid_units p WHERE p.host IS NOT DISTINCT FROM r.host AND p.pid = r.pid) END AS pid_unit,
           -- PM2 lines that give only the app's id: the name PM2's log gives that id nearest in time
           CASE WHEN r.source = 'pm2' AND r.unit IS NULL AND r.attrs->>'app_id' IS NOT NULL THEN
                (SELECT arg_min(p.unit, abs(epoch(p.ts) - epoch(r.ts))) FROM events p
                 WHERE p.source = 'pm2' AND p.host IS NOT DISTINCT FROM r.host AND p.unit IS NOT NULL
                   AND p.attrs->>'app_id' = r.attrs->>'app_id') END AS app_unit
    FROM raw r
),
first_pass AS (
    SELECT n.* EXCLUDE (pid_unit, app_unit),
           CASE WHEN n.pid_unit IS NOT NULL THEN n.pid_unit
                WHEN n.app_unit IS NOT NULL THEN n.app_unit
                WHEN n.family IN ('kernel', 'oomd') AND n.unit IS NOT NULL THEN n.unit
                -- PM2 names an app only by its id where the log has not yet said its name
                ELSE coalesce(n.unit, n.process, CASE WHEN n.source = 'pm2' AND n.attrs->>'app_id' IS NOT NULL
                                                      THEN 'pm2 app ' || (n.attrs->>'app_id') END) END AS service0,
           CASE WHEN n.pid_unit IS NOT NULL THEN 'pid'
                WHEN n.app_unit IS NOT NULL THEN 'unit'
                WHEN n.family IN ('kernel', 'oomd') AND n.unit IS NOT NULL THEN 'memcg'
                WHEN n.unit IS NOT NULL THEN 'unit'
                ELSE 'process' END AS resolved0
    FROM named n
),
adopted AS (     -- a kill named only by its cgroup or process name takes the name that a manager gave the
                 -- same death (within 5 s, same host), when exactly one name is on offer and it differs
    SELECT f.*,
           (SELECT CASE WHEN count(DISTINCT g.service0) = 1 THEN any_value(g.service0) END
            FROM first_pass g
            WHERE g.host IS NOT DISTINCT FROM f.host AND g.resolved0 IN ('unit', 'pid')
              AND g.service0 NOT IN ('earlyoom.service', 'systemd-oomd.service')   -- the killer dying is not the victim
              AND abs(epoch(g.ts) - epoch(f.ts)) <= 5 AND g.event_id <> f.event_id) AS offered
    FROM first_pass f
)
SELECT a.event_id, a.ts, a.host,
       CASE WHEN a.resolved0 IN ('memcg', 'process') AND a.offered IS NOT NULL THEN a.offered ELSE a.service0 END AS service,
       CASE WHEN a.resolved0 IN ('memcg', 'process') AND a.offered IS NOT NULL AND a.offered <> a.service0 THEN 'time'
            ELSE a.resolved0 END AS resolved_by,
       a.family, a.cause, a.kind, a.source, a.unit, a.process, a.pid, a.exit_code, a.signal,
       -- kernels before 4.19 print no constraint: their kill line says which ("Memory cgroup out of memory"
       -- or plain "Out of memory")
       coalesce(a.attrs->>'constraint',
                CASE WHEN a.family = 'kernel' AND a.message LIKE 'Memory cgroup out of memory%' THEN 'CONSTRAINT_MEMCG'
                     WHEN a.family = 'kernel' AND a.message LIKE 'Out of memory%' THEN 'CONSTRAINT_NONE' END) AS "constraint",
       a.attrs->>'oom_memcg' AS oom_memcg, a.attrs->>'killer' AS killer,
       TRY_CAST(a.attrs->>'limit_bytes' AS BIGINT) AS limit_bytes,
       CASE WHEN a.family = 'kernel' THEN TRY_CAST(a.attrs->>'anon_rss_bytes' AS BIGINT)
                                          + coalesce(TRY_CAST(a.attrs->>'file_rss_bytes' AS BIGINT), 0)
                                          + coalesce(TRY_CAST(a.attrs->>'shmem_rss_bytes' AS BIGINT), 0)
            WHEN a.family = 'pm2_memory' THEN TRY_CAST(a.attrs->>'current_bytes' AS BIGINT) END AS rss_bytes,
       TRY_CAST(a.attrs->>'heap_bytes' AS BIGINT) AS heap_bytes,
       a.file_id, a.line
FROM adopted a;

-- can_be_upstream_of(...): whether nginx's upstream (address and port, where the log names them) can be the
-- service's: a port the service was seen listening on, or one no other service of the host was; a unix socket
-- (php-fpm's) only for a PHP service. An upstream the log does not name can be anyone's.
CREATE OR REPLACE MACRO can_be_upstream_of(addr, port, own_ports, other_ports, php) AS
    NOT (coalesce(addr, '') ILIKE '%unix:%' AND NOT php)
    AND (port IS NULL OR list_contains(own_ports, port) OR NOT list_contains(other_ports, port));

-- incidents_with(gap): deaths of one service on one host, each within `gap` of the one before and with no
-- deploy between them, as one incident (docs/incidents.md §3-§6). The view `incidents` is incidents_with(INTERVAL 10 MINUTE).
CREATE OR REPLACE MACRO incidents_with(gap) AS TABLE
WITH d AS (
    SELECT *, CASE WHEN family = 'gave_up' THEN 0 ELSE 1 END AS is_death,
           coalesce(host, '') AS hk       -- the host as a join key: events without a host are one host too
    FROM deaths WHERE service IS NOT NULL
),
prev AS (
    SELECT *, lag(ts) OVER (PARTITION BY host, service ORDER BY ts, event_id) AS prev_ts FROM d
),
marked AS (      -- a death starts a new incident after a quiet gap, or when a deploy came since the last one
    SELECT p.*, CASE WHEN p.prev_ts IS NULL OR p.ts - p.prev_ts > gap
                       OR EXISTS (SELECT 1 FROM deploys dp WHERE dp.host IS NOT DISTINCT FROM p.host
                                  AND dp.evidence NOT LIKE 'hint%' AND dp.ts > p.prev_ts AND dp.ts <= p.ts)
                     THEN 1 ELSE 0 END AS starts
    FROM prev p
),
grouped AS (
    SELECT *, sum(starts) OVER (PARTITION BY host, service ORDER BY ts, event_id ROWS UNBOUNDED PRECEDING) AS seq
    FROM marked
),
moments AS (     -- deaths more than 5 s after the previous one are another death, whoever saw them
    SELECT hk, service, seq, count(*) FILTER (WHERE new_moment) AS moments
    FROM (SELECT hk, service, seq,
                 lag(ts) OVER (PARTITION BY host, service, seq ORDER BY ts, event_id) IS NULL
                 OR ts - lag(ts) OVER (PARTITION BY host, service, seq ORDER BY ts, event_id) > INTERVAL 5 SECOND AS new_moment
          FROM grouped WHERE is_death = 1)
    GROUP BY ALL
),
spans AS (
    SELECT hk, any_value(host) AS host, service, seq, min(ts) AS ts,
           coalesce(max(ts) FILTER (WHERE is_death = 1), min(ts)) AS end_ts,
           bool_or(family = 'gave_up') AS gave_up,
           coalesce(max(n) FILTER (WHERE family <> 'gave_up'), 0) AS family_deaths,
           list(event_id ORDER BY ts, event_id) AS death_event_ids,
           list(DISTINCT family ORDER BY family) AS families,
           CASE WHEN bool_or(resolved_by = 'time') THEN 'time'
                WHEN bool_or(resolved_by = 'pid') THEN 'pid' ELSE 'unit' END AS link
    FROM (SELECT g.*, count(*) OVER (PARTITION BY host, service, seq, family) AS n FROM grouped g)
    GROUP BY hk, service, seq
),
first_death AS (  -- the events of the first death: within 5 s of the incident's first event
    SELECT s.hk, s.service, s.seq,
           arg_min(g.cause, CASE g.cause WHEN 'oom_kill' THEN 1 WHEN 'heap_oom' THEN 2
                                         WHEN 'memory_limit_restart' THEN 3 WHEN 'crash' THEN 4 ELSE 5 END) AS trigger,
           arg_min(g.event_id, CASE g.family WHEN 'kernel' THEN 1 WHEN 'oomd' THEN 2 WHEN 'v8' THEN 3
                                             WHEN 'pm2_memory' THEN 4 WHEN 'systemd_oom' THEN 5 ELSE 6 END) AS trigger_event_id,
           bool_or(g.family = 'kernel') AS has_kernel,
           any_value(g."constraint") FILTER (WHERE g.family = 'kernel') AS "constraint",
           any_value(g.oom_memcg) FILTER (WHERE g.family = 'kernel') AS oom_memcg,
           any_value(g.limit_bytes) FILTER (WHERE g.family IN ('kernel', 'pm2_memory')) AS oom_limit_bytes,
           any_value(g.heap_bytes) FILTER (WHERE g.family = 'v8') AS heap_bytes,
           any_value(g.rss_bytes) FILTER (WHERE g.family IN ('kernel', 'pm2_memory')) AS rss_bytes,
           any_value(g.process) FILTER (WHERE g.family = 'kernel') AS kernel_process,
           any_value(g.pid) FILTER (WHERE g.family = 'kernel') AS kernel_pid,
           arg_min(g.process, g.ts) FILTER (WHERE g.process IS NOT NULL AND g.process <> 'systemd') AS any_process,
           arg_min(g.pid, g.ts) FILTER (WHERE g.pid IS NOT NULL) AS any_pid,
           arg_min(g.exit_code, g.ts) FILTER (WHERE g.exit_code IS NOT NULL) AS exit_code,
           arg_min(g.signal, g.ts) FILTER (WHERE g.signal IS NOT NULL) AS signal,
           arg_min(g.unit, CASE g.family WHEN 'systemd' THEN 1 WHEN 'systemd_result' THEN 1 WHEN 'systemd_oom' THEN 1
                                         WHEN 'pm2' THEN 2 WHEN 'pm2_memory' THEN 2 WHEN 'supervisord' THEN 3 ELSE 4 END)
               FILTER (WHERE g.unit IS NOT NULL AND g.family NOT IN ('kernel', 'oomd')) AS manager_unit,
           bool_or(g.family = 'oomd') AS by_oomd,
           any_value(g.killer) FILTER (WHERE g.family IN ('oomd', 'systemd_oom') AND g.killer IS NOT NULL) AS killer
    FROM spans s JOIN grouped g ON g.host IS NOT DISTINCT FROM s.host AND g.service = s.service AND g.seq = s.seq
    WHERE g.ts <= s.ts + INTERVAL 5 SECOND
    GROUP BY s.hk, s.service, s.seq
),
base AS (
    SELECT s.* EXCLUDE (family_deaths), greatest(s.family_deaths, coalesce(m.moments, 0)) AS deaths,
           f.* EXCLUDE (hk, service, seq),
           (SELECT min(st.ts) FROM service_starts st
            WHERE st.host IS NOT DISTINCT FROM s.host AND st.service = s.service AND st.ts > s.end_ts
              AND coalesce(st.phase, '') <> 'starting') AS recovered_ts,   -- PM2: online, not starting
           (SELECT max(st.ts) FROM service_starts st
            WHERE st.host IS NOT DISTINCT FROM s.host AND st.service = s.service AND st.ts <= s.ts
              AND coalesce(st.phase, '') NOT IN ('online', 'running')) AS last_start_ts   -- when the process began
    FROM spans s JOIN first_death f USING (hk, service, seq) LEFT JOIN moments m USING (hk, service, seq)
),
with_deploy AS (
    SELECT b.*,
           (SELECT arg_max(dp.event_id, (CASE WHEN dp.evidence LIKE 'hint:%' THEN 0 ELSE 1 END, dp.ts))
            FROM deploys dp WHERE dp.host IS NOT DISTINCT FROM b.host AND dp.ts <= b.ts
              AND dp.ts >= b.ts - INTERVAL 7 DAY) AS deploy_event_id
    FROM base b
),
windows AS (
    SELECT w.*, dp.ts AS deploy_ts, dp.version AS deploy_version, dp.commit AS deploy_commit,
           dp.evidence AS deploy_evidence,
           w.ts - INTERVAL 5 MINUTE AS impact_from,
           coalesce(w.recovered_ts + INTERVAL 1 MINUTE, w.end_ts + INTERVAL 30 MINUTE) AS impact_to,
           coalesce(greatest(dp.ts, w.last_start_ts), w.ts - INTERVAL 24 HOUR) AS trend_from
    FROM with_deploy w LEFT JOIN deploys dp ON dp.event_id = w.deploy_event_id
),
trend_raw AS (   -- the victim's samples from the trend window's start to its death, per metric
    SELECT w.hk, w.service, w.seq, m.metric, count(*) AS n,
           arg_min(m.bytes, (m.ts, m.event_id)) AS first_bytes, arg_max(m.bytes, (m.ts, m.event_id)) AS last_bytes,
           arg_min(m.event_id, (m.ts, m.event_id)) AS first_event_id,
           arg_max(m.event_id, (m.ts, m.event_id)) AS last_event_id,
           regr_slope(m.bytes, epoch(m.ts)) * 60 AS slope_per_min, regr_r2(m.bytes, epoch(m.ts)) AS r2
    FROM windows w JOIN memory_samples m
      ON m.host IS NOT DISTINCT FROM w.host AND m.ts BETWEEN w.trend_from AND w.ts
     AND (m.unit = w.service OR m.pid = coalesce(w.kernel_pid, w.any_pid))
    WHERE m.metric IN ('rss', 'heap_used', 'gc_heap_after') AND m.bytes IS NOT NULL
    GROUP BY ALL
),
trend AS (
    SELECT hk, service, seq,
           arg_min(metric, CASE metric WHEN 'rss' THEN 1 WHEN 'heap_used' THEN 2 ELSE 3 END) AS memory_metric,
           arg_min({n: n, first_bytes: first_bytes, last_bytes: last_bytes, first_event_id: first_event_id,
                    last_event_id: last_event_id, slope: slope_per_min, r2: r2},
                   CASE metric WHEN 'rss' THEN 1 WHEN 'heap_used' THEN 2 ELSE 3 END) AS t
    FROM trend_raw GROUP BY ALL
),
ports AS (       -- the ports the service and the host's other services were seen listening on, and whether it is PHP
    SELECT w.hk, w.service, w.seq,
           coalesce(list(lp.port) FILTER (WHERE lp.service = w.service), []) AS own_ports,
           coalesce(list(lp.port) FILTER (WHERE lp.service <> w.service AND lp.port IS NOT NULL), []) AS other_ports,
           w.service ILIKE '%php%' OR coalesce(w.kernel_process, w.any_process, '') ILIKE 'php%' AS php
    FROM windows w LEFT JOIN listen_ports lp ON lp.host IS NOT DISTINCT FROM w.host
    GROUP BY ALL
),
impact AS (      -- nginx's requests on the host in the impact window that can belong to the service
    SELECT w.hk, w.service, w.seq, count(h.event_id) AS http_requests,
           count(h.event_id) FILTER (WHERE h.status BETWEEN 500 AND 599) AS http_5xx,
           min(h.ts) FILTER (WHERE h.status BETWEEN 500 AND 599) AS first_5xx_ts,
           max(h.ts) FILTER (WHERE h.status BETWEEN 500 AND 599) AS last_5xx_ts,
           arg_min(h.event_id, (h.ts, h.event_id)) FILTER (WHERE h.status BETWEEN 500 AND 599) AS first_5xx_event_id,
           arg_max(h.event_id, (h.ts, h.event_id)) FILTER (WHERE h.status BETWEEN 500 AND 599) AS last_5xx_event_id
    FROM windows w JOIN ports p USING (hk, service, seq) LEFT JOIN http_requests h
      ON h.host IS NOT DISTINCT FROM w.host AND h.ts BETWEEN w.impact_from AND w.impact_to
     -- where the access log names the upstream ($upstream_addr), only the service's own requests
     AND can_be_upstream_of(h.upstream_addr, h.upstream_port, p.own_ports, p.other_ports, p.php)
    GROUP BY ALL
),
upstream AS (    -- nginx's upstream errors on the host in the impact window that can belong to the service
    SELECT w.hk, w.service, w.seq, count(u.event_id) AS upstream_errors,
           arg_min(u.event_id, (u.ts, u.event_id)) AS first_upstream_event_id
    FROM windows w JOIN ports p USING (hk, service, seq) LEFT JOIN upstream_errors u
      ON u.host IS NOT DISTINCT FROM w.host AND u.ts BETWEEN w.impact_from AND w.impact_to
     AND can_be_upstream_of(u.upstream, u.upstream_port, p.own_ports, p.other_ports, p.php)
    GROUP BY ALL
),
errs_raw AS (
    SELECT w.hk, w.service, w.seq, w.deploy_ts, e.kind, count(*) AS n, min(e.ts) AS first_ts,
           arg_min(e.event_id, (e.ts, e.event_id)) AS first_event_id
    FROM windows w JOIN errors e
      ON e.host IS NOT DISTINCT FROM w.host
     AND e.ts BETWEEN greatest(w.deploy_ts, w.ts - INTERVAL 1 HOUR) AND w.impact_to
    GROUP BY ALL
),
errs AS (
    SELECT r.hk, r.service, r.seq,
           list({kind: r.kind, count: r.n, first_ts: r.first_ts, first_event_id: r.first_event_id,
                 new: CASE WHEN r.deploy_ts IS NULL THEN NULL
                           ELSE NOT EXISTS (SELECT 1 FROM errors e2 WHERE coalesce(e2.host, '') = r.hk
                                            AND e2.kind = r.kind AND e2.ts >= r.deploy_ts - INTERVAL 1 HOUR
                                            AND e2.ts < r.deploy_ts) END}
                ORDER BY r.first_ts, r.kind) AS errors
    FROM errs_raw r GROUP BY ALL
),
unit_limits AS (  -- the memory the unit's configuration allows (MemoryMax=, or cgroup v1's MemoryLimit=)
    SELECT w.hk, w.service, w.seq,
           max(coalesce(TRY_CAST(c.attrs->>'memory_max_bytes' AS BIGINT),
                        TRY_CAST(c.attrs->>'memory_limit_bytes' AS BIGINT))) AS unit_memory_max_bytes,
           min(c.event_id) AS unit_config_event_id
    FROM windows w JOIN events c
      ON c.kind = 'unit_config' AND c.host IS NOT DISTINCT FROM w.host
     AND c.unit IN (w.service, w.manager_unit, regexp_extract(coalesce(w.oom_memcg, ''), '([^/]+)$', 1))
    GROUP BY ALL
)
SELECT coalesce(w.host, '-') || '/' || w.service || '/' || strftime(w.ts, '%Y-%m-%dT%H:%M:%SZ') AS id,
       w.host, w.service, coalesce(w.manager_unit, w.service) AS unit,
       coalesce(w.kernel_process, w.any_process) AS process, coalesce(w.kernel_pid, w.any_pid) AS pid,
       w.ts, w.end_ts, w.trigger,
       CASE WHEN w.trigger = 'oom_kill' AND w.by_oomd AND NOT w.has_kernel THEN 'oomd'
            WHEN w.trigger = 'oom_kill' AND w."constraint" = 'CONSTRAINT_MEMCG' THEN 'cgroup'
            WHEN w.trigger = 'oom_kill' AND w."constraint" = 'CONSTRAINT_NONE' THEN 'global'
            WHEN w.trigger = 'oom_kill' AND w."constraint" IS NOT NULL THEN lower(replace(w."constraint", 'CONSTRAINT_', ''))
            WHEN w.trigger = 'heap_oom' THEN 'v8_heap'
            WHEN w.trigger = 'memory_limit_restart' THEN 'pm2_max_memory' END AS "limit",
       CASE WHEN w.trigger = 'oom_kill' AND w."constraint" = 'CONSTRAINT_MEMCG'
            THEN coalesce(w.oom_limit_bytes, ul.unit_memory_max_bytes)
            WHEN w.trigger = 'heap_oom' THEN w.heap_bytes
            WHEN w.trigger = 'memory_limit_restart' THEN w.oom_limit_bytes END AS limit_bytes,
       CASE WHEN w.trigger IN ('oom_kill', 'memory_limit_restart') THEN w.rss_bytes END AS rss_bytes,
       CASE WHEN w.trigger = 'oom_kill' THEN w.oom_memcg END AS oom_memcg,
       CASE WHEN w.trigger = 'oom_kill' THEN coalesce(w.killer, CASE WHEN w.has_kernel THEN 'kernel' END) END AS killer,
       ul.unit_memory_max_bytes, w.exit_code, w.signal, w.deaths,
       greatest(
           (SELECT count(*) FROM events r WHERE r.kind = 'restart' AND r.host IS NOT DISTINCT FROM w.host
              AND r.unit = w.service AND r.duplicate_of IS NULL AND r.source NOT IN ('pm2')
              AND r.ts BETWEEN w.ts AND coalesce(w.recovered_ts, w.end_ts)),
           (SELECT count(*) FROM service_starts st WHERE st.host IS NOT DISTINCT FROM w.host AND st.service = w.service
              AND st.source IN ('pm2', 'supervisord') AND coalesce(st.phase, '') IN ('starting', 'spawned')
              AND st.ts BETWEEN w.ts AND coalesce(w.recovered_ts, w.end_ts))) AS restarts,
       w.gave_up, w.recovered_ts,
       round(epoch(w.recovered_ts) - epoch(w.ts), 3) AS downtime_s,
       w.deploy_ts, w.deploy_version, w.deploy_commit, w.deploy_evidence,
       t.memory_metric, coalesce(t.t.n, 0) AS memory_samples,
       CASE WHEN t.t.n >= 3 THEN t.t.first_bytes END AS memory_start_bytes,
       CASE WHEN t.t.n >= 3 THEN t.t.last_bytes END AS memory_end_bytes,
       CASE WHEN t.t.n >= 3 THEN round(t.t.slope)::BIGINT END AS memory_growth_bytes_per_min,
       CASE WHEN t.t.n >= 3 THEN round(t.t.r2, 3) END AS memory_fit_r2,
       CASE WHEN t.t.n >= 4 THEN t.t.slope > 0 AND t.t.r2 >= 0.8 AND t.t.last_bytes >= 1.2 * t.t.first_bytes END AS leak,
       i.http_requests, i.http_5xx, i.first_5xx_ts, i.last_5xx_ts, u.upstream_errors,
       coalesce(er.errors, []) AS errors, w.link,
       -- for the evidence list and the unknowns
       w.death_event_ids, w.trigger_event_id, w.deploy_event_id, t.t.first_event_id AS memory_first_event_id,
       t.t.last_event_id AS memory_last_event_id, i.first_5xx_event_id, i.last_5xx_event_id,
       u.first_upstream_event_id, ul.unit_config_event_id,
       (SELECT min(st.event_id) FROM service_starts st WHERE st.host IS NOT DISTINCT FROM w.host
          AND st.service = w.service AND st.ts = w.recovered_ts AND coalesce(st.phase, '') <> 'starting') AS recovered_event_id,
       w.has_kernel, w.impact_from, w.impact_to, w.trend_from, w.families,
       EXISTS (SELECT 1 FROM events n WHERE n.host IS NOT DISTINCT FROM w.host
               AND n.source IN ('nginx_access', 'nginx_json', 'nginx_error')) AS nginx_logged
FROM windows w
LEFT JOIN trend t USING (hk, service, seq)
LEFT JOIN impact i USING (hk, service, seq)
LEFT JOIN upstream u USING (hk, service, seq)
LEFT JOIN errs er USING (hk, service, seq)
LEFT JOIN unit_limits ul USING (hk, service, seq)
ORDER BY w.ts, w.host, w.service;

CREATE OR REPLACE VIEW incidents AS SELECT * FROM incidents_with(INTERVAL 10 MINUTE);

-- clock_pairs: moments that two files of one host both recorded: the kernel's kill of a pid and a process
-- manager's report of that pid's death (PM2, supervisor, V8's own death line); the kernel's kill and
-- systemd's "A process of this unit has been killed by the OOM killer". delta_s = the witness's time
-- minus the kernel's: a few milliseconds to a second where both clocks agree.
CREATE OR REPLACE VIEW clock_pairs AS
WITH k AS (
    SELECT event_id, ts, host, pid, unit, file_id, ts_quality FROM events
    WHERE kind = 'oom_kill' AND duplicate_of IS NULL AND ts IS NOT NULL AND pid IS NOT NULL
      AND attrs->>'reported_by' IS NULL AND attrs->>'killer' IS NULL
),
by_pid AS (
    SELECT e.event_id, e.ts, e.host, e.file_id, e.ts_quality, e.kind,
           coalesce(e.pid, TRY_CAST(e.attrs->>'spawned_pid' AS INTEGER), TRY_CAST(e.attrs->>'pid' AS INTEGER)) AS pid
    FROM events e
    WHERE e.kind IN ('process_exit', 'heap_oom') AND e.process IS DISTINCT FROM 'systemd'
      AND e.duplicate_of IS NULL AND e.ts IS NOT NULL
),
by_unit AS (
    SELECT event_id, ts, host, unit, file_id, ts_quality, kind FROM events
    WHERE kind = 'oom_kill' AND attrs->>'reported_by' = 'systemd' AND duplicate_of IS NULL AND ts IS NOT NULL
),
pairs AS (
    SELECT k.host, k.event_id AS kernel_event_id, k.file_id AS kernel_file_id, k.ts_quality AS kernel_quality,
           w.event_id, w.file_id, w.ts_quality, w.kind, 'pid ' || k.pid AS matched_by, epoch(w.ts) - epoch(k.ts) AS delta_s
    FROM k JOIN by_pid w ON w.host IS NOT DISTINCT FROM k.host AND w.pid = k.pid AND w.file_id <> k.file_id
     AND abs(epoch(w.ts) - epoch(k.ts)) < 26 * 3600
    UNION ALL
    SELECT k.host, k.event_id, k.file_id, k.ts_quality, w.event_id, w.file_id, w.ts_quality, w.kind,
           'unit ' || k.unit, epoch(w.ts) - epoch(k.ts)
    FROM k JOIN by_unit w ON w.host IS NOT DISTINCT FROM k.host AND w.unit = k.unit AND w.file_id <> k.file_id
     AND abs(epoch(w.ts) - epoch(k.ts)) < 26 * 3600
)
-- each witness with its nearest kernel kill, and each kill with its nearest witness per file
SELECT * FROM pairs
QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY abs(delta_s)) = 1
    AND row_number() OVER (PARTITION BY kernel_event_id, file_id ORDER BY abs(delta_s)) = 1;

-- clock_skew: per file, how far its clock is from the kernel's (aligned) clock, where they recorded the same
-- moments. A median beyond 5 s is a clock or zone error; near a whole quarter hour it is a zone read wrongly
-- (a local time taken for UTC). fixable: the file's times were written without a zone, so a shift is the
-- likely repair (forensics incidents --fix-skew).
CREATE OR REPLACE VIEW clock_skew AS
SELECT p.host, p.file_id, f.path AS file, count(*) AS pairs, median(p.delta_s) AS median_delta_s,
       min(p.delta_s) AS min_delta_s, max(p.delta_s) AS max_delta_s,
       abs(median(p.delta_s)) > 5 AS skewed,
       abs(median(p.delta_s)) >= 600 AND abs(median(p.delta_s) - round(median(p.delta_s) / 900) * 900) <= 60 AS zone_like,
       bool_and(p.ts_quality IN ('zone_assumed', 'year_inferred')) AS fixable,
       list(DISTINCT kf.path ORDER BY kf.path) AS reference_files, list(DISTINCT p.matched_by) AS matched_by
FROM clock_pairs p JOIN files f ON f.file_id = p.file_id JOIN files kf ON kf.file_id = p.kernel_file_id
GROUP BY p.host, p.file_id, f.path;
