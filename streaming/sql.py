"""The SQL of one micro-batch commit. Spark has already reduced the batch to per-(feed, window,
meter) partials, per-meter state and alert rows; the driver has merged the partials into the
stored per-window arrays (``streaming.windows``) and computed each touched window's aggregate.
These statements write those rows, recompute ramps, close windows behind the watermark (with the
missing-meter roll call) and turn closed epochs into epoch actuals.

A window's arrays are replaced by the merged ones, so the write is idempotent only together with
the ``stream_batches`` row inserted in the same transaction: a batch whose row exists is skipped
as a whole.

Parameters: b (batch id), width (interval), kind, epoch_width; per-feed watermarks come from
temp table batch_wm and the touched windows from batch_windows. Small per-meter inputs arrive
as arrays (one statement each, whatever the number of meters)."""

# Temp tables live as long as the job's connection and are emptied at every commit. Watermarks
# are per feed: the feeds replay different years, so one global watermark would make a whole
# feed late. batch_wm holds (feed, before, after) for the batch in flight.
TEMP_TABLES = """
CREATE TEMP TABLE IF NOT EXISTS batch_wm (feed text PRIMARY KEY, before float8, after float8)
  ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS batch_windows (
  feed text, window_kind text, ws float8, we float8, meters text[], totals float8[],
  counts int8[], value float8, mean float8, readings int8, meter_count int) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS batch_readings (feed text, meter text, ts timestamptz,
  value float8) ON COMMIT DELETE ROWS
"""

WATERMARKS = """
INSERT INTO batch_wm (feed, before, after)
SELECT * FROM unnest(%s::text[], %s::float8[], %s::float8[])
"""

METERS = """
INSERT INTO stream_meters (feed, meter, first_seen, last_seen)
SELECT f, m, to_timestamp(lo), to_timestamp(hi)
FROM unnest(%s::text[], %s::text[], %s::float8[], %s::float8[]) AS u(f, m, lo, hi)
ON CONFLICT (feed, meter) DO UPDATE
SET first_seen = least(stream_meters.first_seen, excluded.first_seen),
    last_seen = greatest(stream_meters.last_seen, excluded.last_seen)
"""

# recent_ts arrives as array literals ('{1.0,2.0}'), one per meter.
METER_STATE = """
INSERT INTO stream_meter_state (feed, meter, last_ts, last_value, run, recent_ts)
SELECT f, m, lt, lv, run, recent::float8[]
FROM unnest(%s::text[], %s::text[], %s::float8[], %s::float8[], %s::int[], %s::text[])
  AS u(f, m, lt, lv, run, recent)
ON CONFLICT (feed, meter) DO UPDATE
SET last_ts = excluded.last_ts, last_value = excluded.last_value, run = excluded.run,
    recent_ts = excluded.recent_ts
"""

ALERTS = """
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT f, rule, m, to_timestamp(ts), v, d::jsonb, %s, now()
FROM unnest(%s::text[], %s::text[], %s::text[], %s::float8[], %s::float8[], %s::text[])
  AS u(f, rule, m, ts, v, d)
ON CONFLICT DO NOTHING
"""

WINDOWS = """
INSERT INTO stream_window_meters (feed, window_kind, window_start, meters, totals, counts)
SELECT feed, window_kind, to_timestamp(ws), meters, totals, counts FROM batch_windows
ON CONFLICT (feed, window_kind, window_start) DO UPDATE
SET meters = excluded.meters, totals = excluded.totals, counts = excluded.counts
"""

# Coverage: the window's meters over the meters ever seen in the feed (this batch's included).
AGGREGATES = """
WITH fleet AS (SELECT feed, count(*) AS size FROM stream_meters GROUP BY feed)
INSERT INTO stream_aggregates (feed, window_kind, window_start, window_end, value, mean,
                               reading_count, meter_count, coverage, ramp_rate, closed, updated_at)
SELECT b.feed, b.window_kind, to_timestamp(b.ws), to_timestamp(b.we), b.value, b.mean,
       b.readings, b.meter_count, b.meter_count::float / f.size, NULL, false, now()
FROM batch_windows b JOIN fleet f USING (feed)
ON CONFLICT (feed, window_kind, window_start) DO UPDATE
SET value = excluded.value, mean = excluded.mean, reading_count = excluded.reading_count,
    meter_count = excluded.meter_count, coverage = excluded.coverage,
    updated_at = excluded.updated_at
"""

# Change per hour against the previous non-empty window (up to a day back), for touched
# windows and the one after each; the span per feed is read once through the primary key.
RAMP = """
WITH span AS (
  SELECT feed, to_timestamp(min(ws)) AS first, to_timestamp(min(ws)) - interval '1 day' AS lo,
         to_timestamp(max(ws)) + %(width)s AS hi
  FROM batch_windows WHERE window_kind = %(kind)s GROUP BY feed
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
# Every window ending at or before a feed's previous watermark was closed by an earlier batch
# (accepted readings are never behind it), so only windows ending after it are looked at. A
# window whose meter count equals the feed's fleet has nobody missing and skips the roll call.
# The roll call is an anti-join against the window's meters unnested (hashed), not a search of
# the array per fleet meter: that was quadratic in the fleet (10,000 meters: 10^8 comparisons
# per closed window).
CLOSE = """
WITH closed AS (
  UPDATE stream_aggregates a SET closed = true FROM batch_wm w
  WHERE a.window_kind = %(kind)s AND NOT a.closed AND w.feed = a.feed
    AND a.window_start > to_timestamp(greatest(w.before, 0)) - %(width)s
    AND a.window_end <= to_timestamp(w.after)
  RETURNING a.feed, a.window_start, a.window_end, a.meter_count
), fleet AS (SELECT feed, count(*) AS size FROM stream_meters GROUP BY feed),
short AS (
  SELECT c.feed, c.window_start FROM closed c JOIN fleet f ON f.feed = c.feed
  WHERE c.meter_count < f.size
), present AS (
  SELECT s.feed, s.window_start, u.meter
  FROM short s JOIN stream_window_meters p ON p.feed = s.feed AND p.window_kind = %(kind)s
   AND p.window_start = s.window_start
  CROSS JOIN LATERAL unnest(p.meters) AS u(meter)
)
INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)
SELECT s.feed, 'missing_meter', m.meter, s.window_start, NULL,
       jsonb_build_object('window', %(kind)s), %(b)s, now()
FROM short s JOIN stream_meters m ON m.feed = s.feed
WHERE NOT EXISTS (SELECT 1 FROM present x WHERE x.feed = s.feed
                  AND x.window_start = s.window_start AND x.meter = m.meter)
ON CONFLICT DO NOTHING
"""

# Closed epoch windows become epoch actuals once; the evidence hash commits to every meter's
# reading count and sum in the epoch (the per-meter sums the value was computed from). Only epochs
# that can have closed in this batch (ending after the feed's previous watermark) are looked at.
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
                     'window_end', extract(epoch FROM a.window_end),
                     'hash_of', 'meter|readings|sum'),
  '0x' || encode(sha256(convert_to(coalesce((
      SELECT string_agg(u.meter || '|' || u.n || '|' || u.total, ';' ORDER BY u.meter)
      FROM stream_window_meters p, unnest(p.meters, p.counts, p.totals) AS u(meter, n, total)
      WHERE p.feed = a.feed AND p.window_kind = 'epoch'
        AND p.window_start = a.window_start), ''), 'UTF8')), 'hex'),
  now()
FROM batch_wm w JOIN stream_aggregates a ON a.feed = w.feed
WHERE a.window_kind = 'epoch' AND a.closed
  AND a.window_start > to_timestamp(greatest(w.before, 0)) - %(epoch_width)s
  AND NOT EXISTS (SELECT 1 FROM epoch_actuals e WHERE e.feed = a.feed
                  AND e.epoch_start = a.window_start)
RETURNING feed, epoch_start
"""

# Every meter's energy in each epoch that just became an epoch actual (same transaction, so once):
# the meter's mean power over its accepted readings (the per-meter mean the actual's value sums),
# in W, times the epoch's length, in whole Wh, never below zero (a negative-generation fault is
# alerted, not delivered). Parameters: the new epochs as (feed, start, watts per unit) arrays and
# epoch_hours.
METER_ENERGY = """
INSERT INTO epoch_meter_energy (feed, epoch_start, meter, readings, mean_w, energy_wh)
SELECT p.feed, p.window_start, u.meter, u.n, u.total / u.n * e.unit_w,
       greatest(0, round(u.total / u.n * e.unit_w * %(epoch_hours)s))::bigint
FROM unnest(%(feeds)s::text[], %(starts)s::timestamptz[], %(units)s::float8[])
  AS e(feed, ws, unit_w)
JOIN stream_window_meters p
  ON p.feed = e.feed AND p.window_kind = 'epoch' AND p.window_start = e.ws
CROSS JOIN LATERAL unnest(p.meters, p.counts, p.totals) AS u(meter, n, total)
ON CONFLICT DO NOTHING
"""

# Audit copy of the accepted readings (optional: the hot path never reads it).
AUDIT_READINGS = """
INSERT INTO stream_readings (feed, meter, ts, value, batch_id)
SELECT feed, meter, ts, value, %(b)s FROM batch_readings
ON CONFLICT DO NOTHING
"""
