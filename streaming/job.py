"""The Spark Structured Streaming job: landed telemetry files -> windows -> quality -> sinks.

Spark's file source and checkpoint decide which files make up each micro-batch (and replay the
same files for the same batch id after a crash); each micro-batch goes to ``BatchWriter``. The
pieces live by responsibility:

- ``streaming.config``: ``JobConfig`` and the landed-file layout;
- ``streaming.reduction``: the per-(feed, meter) numpy/Arrow reduction, on the driver for a small
  batch or on the executors (``applyInArrow``) for a large one, and the batch's summary;
- ``streaming.writer``: the foreachBatch callback, one Postgres transaction per batch;
- ``streaming.windows`` / ``streaming.sql``: the window merge and the commit's SQL;
- ``streaming.sinks``: Redis features, nowcasts and latency; MongoDB alerts;
- ``streaming.actuals``: the epoch-actuals queue the truth reporter reads.

The names callers used from this module stay importable from it.
"""

from __future__ import annotations

from typing import Any

from streaming.actuals import mark_submitted, pending_epoch_actuals
from streaming.config import CLEAN_SOURCE, LANDED_FILES, RAW_SCHEMA, REDUCE_ON, JobConfig
from streaming.reduction import ORIGIN, MeterState, meter_reducer
from streaming.sinks import (
    FEATURE_CHANNEL,
    FEATURE_KEY,
    LATENCY_KEY,
    NOWCAST_KEY,
    write_alerts_to_mongo,
)
from streaming.writer import BatchWriter

COMPACT_INTERVAL_CONF = "spark.sql.streaming.fileSource.log.compactInterval"

__all__ = [
    "COMPACT_INTERVAL_CONF",
    "CLEAN_SOURCE",
    "FEATURE_CHANNEL",
    "FEATURE_KEY",
    "LANDED_FILES",
    "LATENCY_KEY",
    "NOWCAST_KEY",
    "ORIGIN",
    "RAW_SCHEMA",
    "REDUCE_ON",
    "BatchWriter",
    "JobConfig",
    "MeterState",
    "mark_submitted",
    "meter_reducer",
    "pending_epoch_actuals",
    "run_until_idle",
    "start",
    "telemetry_stream",
    "write_alerts_to_mongo",
]


def telemetry_stream(spark: Any, cfg: JobConfig) -> Any:
    """Landed Parquet -> one row per message (feed, meter, sent_at, readings); the per-meter
    reduction flattens the readings itself, so the JVM never handles a row per reading."""
    columns = ("feed", "meter", "sent_at", "readings")
    archive = cfg.archive_path() if cfg.clean_source == "archive" else None
    if archive is not None:
        archive.mkdir(parents=True, exist_ok=True)
    most = cfg.max_files_per_trigger or None
    if cfg.source == "landed":
        from streaming.landed_source import NAME, LandedFiles

        spark.dataSource.register(LandedFiles)
        reader = spark.readStream.format(NAME)
        options: dict[str, Any] = {
            "path": cfg.landing_dir,
            "cleanSource": cfg.clean_source,
            # A batch of at most this much is one partition (the writer reduces it on the driver).
            "partitionBytes": max(1, cfg.driver_reduce_max_bytes),
            "archiveDir": archive,
            "maxFilesPerTrigger": most,
        }
    else:
        reader = spark.readStream.schema(RAW_SCHEMA)
        options = {
            "pathGlobFilter": LANDED_FILES,
            "cleanSource": None if cfg.clean_source == "off" else cfg.clean_source,
            "sourceArchiveDir": archive,
            "maxFilesPerTrigger": most,
        }
    for key, value in options.items():
        if value is not None:
            reader = reader.option(key, str(value))
    stream = reader.load() if cfg.source == "landed" else reader.parquet(str(cfg.landing_dir))
    return stream.select(*columns)


def start(spark: Any, cfg: JobConfig) -> Any:
    """Start the streaming query (returns the StreamingQuery)."""
    if not cfg.landing_dir.exists():
        cfg.landing_dir.mkdir(parents=True, exist_ok=True)
    # Read when the query builds its file source (start() clones the session's conf).
    spark.conf.set(COMPACT_INTERVAL_CONF, str(cfg.source_log_compact_interval))
    return (
        telemetry_stream(spark, cfg)
        .writeStream.foreachBatch(BatchWriter(cfg))
        .option("checkpointLocation", str(cfg.checkpoint_dir))
        .trigger(processingTime=f"{int(cfg.trigger_s * 1000)} milliseconds")
        .queryName(cfg.job)
        .start()
    )


def run_until_idle(spark: Any, cfg: JobConfig) -> None:
    """Process every file landed so far, then stop (tests, batch catch-up)."""
    query = start(spark, cfg)
    try:
        query.processAllAvailable()
    finally:
        query.stop()
