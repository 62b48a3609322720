"""The SQL of one micro-batch commit. Every statement is an upsert or an insert-if-absent keyed by
feed + window (or feed + meter + ts), so re-running a batch after a crash changes nothing.

Parameters: job, b (batch id), watermark_s, width (interval), width_s, kind, spike_ratio,
spike_floor, stuck_run, origin (timestamptz); per-feed watermarks come from temp table batch_wm."""

# Watermarks are per feed: the feeds replay different years, so one global watermark would
# make a whole feed late. batch_wm holds (feed, before, after) for the batch in flight.
WATERMARKS = """
CREATE TEMP TABLE IF NOT EXISTS batch_wm (feed text PRIMARY KEY, before float8, after float8)
ON COMMIT DELETE ROWS
"""

WATERMARK_AFTER = """
INSERT INTO batch_wm (feed, before, after)
SELECT s.feed, -1e18, max(s.ts) - %(watermark_s)s FROM stream_staging s
WHERE s.job = %(job)s AND s.batch_id = %(b)s GROUP BY s.feed
ON CONFLICT (feed) DO UPDATE SET after = greatest(batch_wm.before, excluded.after)
"""

LATE_ALERTS = """
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT DISTINCT ON (s.feed, s.meter, s.ts) s.feed, 'late', s.meter, to_timestamp(s.ts), s.value,
       jsonb_build_object('watermark', w.before, 'behind_s', w.before - s.ts), %(b)s, now()
FROM stream_staging s JOIN batch_wm w ON w.feed = s.feed
WHERE s.job = %(job)s AND s.batch_id = %(b)s AND s.ts < w.before
ON CONFLICT DO NOTHING
"""

ACCEPT = """
INSERT INTO stream_readings (feed, meter, ts, value, batch_id)
SELECT s.feed, s.meter, to_timestamp(s.ts), s.value, %(b)s
FROM stream_staging s LEFT JOIN batch_wm w ON w.feed = s.feed
WHERE s.job = %(job)s AND s.batch_id = %(b)s AND s.ts >= coalesce(w.before, -1e18)
ON CONFLICT DO NOTHING
"""

BATCH_STATS = """
SELECT count(*),
       percentile_cont(ARRAY[0.05,0.1,0.15,0.2,0.25,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.65,0.7,
                             0.75,0.8,0.85,0.9,0.95,0.99]) WITHIN GROUP (ORDER BY sent_at)
FROM stream_staging WHERE job = %(job)s AND batch_id = %(b)s
"""

METERS = """
INSERT INTO stream_meters (feed, meter, first_seen, last_seen)
SELECT feed, meter, min(ts), max(ts) FROM stream_readings WHERE batch_id = %(b)s
GROUP BY feed, meter
ON CONFLICT (feed, meter) DO UPDATE
SET first_seen = least(stream_meters.first_seen, excluded.first_seen),
    last_seen = greatest(stream_meters.last_seen, excluded.last_seen)
"""

NEGATIVE = """
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT feed, 'negative_generation', meter, ts, value, '{}'::jsonb, %(b)s, now()
FROM stream_readings WHERE batch_id = %(b)s AND feed = 'solar' AND value < 0
ON CONFLICT DO NOTHING
"""

# A reading far above the median of its feed's meters in the same 5-minute window. The batch's
# span per feed is scanned once through the (feed, ts) index, then grouped by window.
SPIKES = """
WITH span AS (
  SELECT feed, date_bin('5 minutes', min(ts), %(origin)s) AS lo,
         date_bin('5 minutes', max(ts), %(origin)s) + interval '5 minutes' AS hi
  FROM stream_readings WHERE batch_id = %(b)s GROUP BY feed
), vals AS (
  SELECT r.feed, date_bin('5 minutes', r.ts, %(origin)s) AS ws, r.meter, r.ts, r.value,
         r.batch_id
  FROM span s JOIN stream_readings r ON r.feed = s.feed AND r.ts >= s.lo AND r.ts < s.hi
), med AS (
  SELECT feed, ws, percentile_cont(0.5) WITHIN GROUP (ORDER BY value) AS median,
         count(DISTINCT meter) AS meters
  FROM vals GROUP BY feed, ws
)
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT v.feed, 'spike', v.meter, v.ts, v.value,
       jsonb_build_object('window_median', m.median), %(b)s, now()
FROM vals v JOIN med m ON m.feed = v.feed AND m.ws = v.ws
WHERE v.batch_id = %(b)s AND m.meters >= 3
  AND v.value > %(spike_ratio)s * greatest(m.median, %(spike_floor)s)
ON CONFLICT DO NOTHING
"""

# The same non-zero value `stuck_run` times in a row from one meter.
STUCK = """
WITH touched AS (
  SELECT feed, meter, min(ts) AS since FROM stream_readings WHERE batch_id = %(b)s
  GROUP BY feed, meter
), runs AS (
  SELECT r.feed, r.meter, r.ts, r.value, r.batch_id,
         min(r.value) OVER w AS lo, max(r.value) OVER w AS hi, count(*) OVER w AS n
  FROM touched t JOIN stream_readings r
    ON r.feed = t.feed AND r.meter = t.meter AND r.ts >= t.since - interval '1 day'
  WINDOW w AS (PARTITION BY r.feed, r.meter ORDER BY r.ts
               ROWS BETWEEN %(stuck_run)s - 1 PRECEDING AND CURRENT ROW)
)
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT feed, 'stuck', meter, ts, value, jsonb_build_object('run', n), %(b)s, now()
FROM runs WHERE batch_id = %(b)s AND n = %(stuck_run)s AND lo = hi AND value <> 0
ON CONFLICT DO NOTHING
"""

TOUCHED_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS touched_windows (feed text, kind text, ws timestamptz)
ON COMMIT DELETE ROWS
"""

TOUCHED_WINDOWS = """
INSERT INTO touched_windows
SELECT DISTINCT feed, %(kind)s, date_bin(%(width)s, ts, %(origin)s)
FROM stream_readings WHERE batch_id = %(b)s
"""

AGGREGATE = """
WITH per_meter AS (
  SELECT t.feed, t.ws, r.meter, avg(r.value) AS m, sum(r.value) AS s, count(*) AS n
  FROM touched_windows t JOIN stream_readings r
    ON r.feed = t.feed AND r.ts >= t.ws AND r.ts < t.ws + %(width)s
  WHERE t.kind = %(kind)s
  GROUP BY t.feed, t.ws, r.meter
), agg AS (
  SELECT feed, ws, sum(m) AS value, sum(s) / sum(n) AS mean, sum(n) AS readings,
         count(*) AS meters
  FROM per_meter GROUP BY feed, ws
), fleet AS (SELECT feed, count(*) AS size FROM stream_meters GROUP BY feed)
INSERT INTO stream_aggregates (feed, window_kind, window_start, window_end, value, mean,
                               reading_count, meter_count, coverage, ramp_rate, closed, updated_at)
SELECT a.feed, %(kind)s, a.ws, a.ws + %(width)s, a.value, a.mean, a.readings, a.meters,
       a.meters::float / f.size, NULL, false, now()
FROM agg a JOIN fleet f USING (feed)
ON CONFLICT (feed, window_kind, window_start) DO UPDATE
SET value = excluded.value, mean = excluded.mean, reading_count = excluded.reading_count,
    meter_count = excluded.meter_count, coverage = excluded.coverage,
    updated_at = excluded.updated_at
"""

# Change per hour against the previous non-empty window (up to a day back), for touched
# windows and the one after each; the span per feed is read once through the primary key.
RAMP = """
WITH span AS (
  SELECT feed, min(ws) AS first, min(ws) - interval '1 day' AS lo, max(ws) + %(width)s AS hi
  FROM touched_windows WHERE kind = %(kind)s GROUP BY feed
), lagged AS (
  SELECT a.feed, a.window_start, s.first,
         a.value - lag(a.value) OVER w AS delta, lag(a.window_start) OVER w AS prev_start
  FROM span s JOIN stream_aggregates a
    ON a.feed = s.feed AND a.window_kind = %(kind)s AND a.window_start >= s.lo
   AND a.window_start <= s.hi
  WINDOW w AS (PARTITION BY a.feed ORDER BY a.window_start)
)
UPDATE stream_aggregates a
SET ramp_rate = l.delta / (extract(epoch FROM l.window_start - l.prev_start) / 3600.0)
FROM lagged l
WHERE a.feed = l.feed AND a.window_kind = %(kind)s AND a.window_start = l.window_start
  AND l.window_start >= l.first AND l.prev_start IS NOT NULL
"""

# Windows whose end the watermark passed are final: close them and roll-call their meters.
CLOSE = """
WITH closed AS (
  UPDATE stream_aggregates a SET closed = true FROM batch_wm w
  WHERE a.window_kind = %(kind)s AND NOT a.closed AND w.feed = a.feed
    AND a.window_end <= to_timestamp(w.after)
  RETURNING a.feed, a.window_start, a.window_end
)
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT c.feed, 'missing_meter', m.meter, c.window_start, NULL,
       jsonb_build_object('window', %(kind)s), %(b)s, now()
FROM closed c JOIN stream_meters m ON m.feed = c.feed
WHERE NOT EXISTS (SELECT 1 FROM stream_readings r WHERE r.feed = c.feed AND r.meter = m.meter
                  AND r.ts >= c.window_start AND r.ts < c.window_end)
ON CONFLICT DO NOTHING
"""

# Closed epoch windows become epoch actuals once; the evidence hash commits to every reading.
EPOCH_ACTUALS = """
INSERT INTO epoch_actuals (feed, epoch_start, epoch_end, value, meter_count, reading_count,
                           coverage, quality_flags, evidence, evidence_hash, closed_at)
SELECT a.feed, a.window_start, a.window_end, a.value, a.meter_count, a.reading_count, a.coverage,
  coalesce((SELECT jsonb_object_agg(rule, n) FROM (
      SELECT rule, count(*) AS n FROM stream_alerts al
      WHERE al.feed = a.feed AND al.event_ts >= a.window_start AND al.event_ts < a.window_end
      GROUP BY rule) q), '{}'::jsonb),
  jsonb_build_object('readings', a.reading_count, 'meters', a.meter_count,
                     'window_start', extract(epoch FROM a.window_start),
                     'window_end', extract(epoch FROM a.window_end), 'hash_of', 'meter|ts|value'),
  '0x' || encode(sha256(convert_to(coalesce((
      SELECT string_agg(r.meter || '|' || extract(epoch FROM r.ts) || '|' || r.value, ';'
                        ORDER BY r.meter, r.ts)
      FROM stream_readings r WHERE r.feed = a.feed AND r.ts >= a.window_start
        AND r.ts < a.window_end), ''), 'UTF8')), 'hex'),
  now()
FROM stream_aggregates a
WHERE a.window_kind = 'epoch' AND a.closed
  AND NOT EXISTS (SELECT 1 FROM epoch_actuals e WHERE e.feed = a.feed
                  AND e.epoch_start = a.window_start)
RETURNING feed
"""
