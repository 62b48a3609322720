"""The streaming job's settings (`JobConfig`, checked when built) and the landed-file layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from streaming.errors import NonRetryableError

RAW_SCHEMA = (
    "received_at DOUBLE, v LONG, feed STRING, meter STRING, sent_at DOUBLE, "
    "readings ARRAY<STRUCT<ts: DOUBLE, value: DOUBLE>>"
)
LANDED_FILES = "part-*.parquet"  # what the gateway lands (streaming.landing.land_table)
REDUCE_ON = ("auto", "driver", "executors")
CLEAN_SOURCE = ("archive", "delete", "off")
SOURCES = ("landed", "files")


@dataclass(frozen=True)
class JobConfig:
    landing_dir: Path
    checkpoint_dir: Path
    database_url: str
    redis_url: str | None = None
    mongo_url: str | None = None
    job: str = "gridcast-stream"
    window_s: int = 300  # 5-minute windows (data time)
    epoch_s: int = 3600  # data time one epoch stands for (hourly feeds)
    watermark_s: float = 600.0  # data seconds a reading may trail the newest one
    trigger_s: float = 0.5
    max_files_per_trigger: int | None = None
    spike_ratio: float = 4.0
    spike_floor: float = 0.1
    stuck_run: int = 6
    season: int = 24  # epochs per day, for the nowcast's seasonal term
    master: str | None = None
    # Also keep every accepted reading in stream_readings (audit; costs a row per reading).
    store_readings: bool = False
    # Where micro-batches are reduced per meter: "auto" = on the driver while the batch's files
    # total at most driver_reduce_max_bytes, else on the executors; or always "driver" /
    # always "executors".
    reduce_on: str = "auto"
    driver_reduce_max_bytes: int = 64 << 20
    # Landed files once their batch committed: "archive" moves them under archive_dir (default:
    # a sibling "<landing>-archive"), "delete" removes them, "off" leaves them. The file source
    # lists the landing directory at every trigger, so a directory that only grows makes every
    # micro-batch slower over the hours.
    clean_source: str = "archive"
    archive_dir: Path | None = None
    # Which source reads the landing directory: "landed" (streaming.landed_source: the offset is
    # each gateway's newest landed sequence number, so the checkpoint's offset log is its only
    # state) or "files" (Spark's file source: its checkpoint log lists every file it ever saw,
    # and its compactions rewrite that list whole, so batches slow down over a long run).
    source: str = "landed"
    # Batches between compactions of the file source's log (sources/0 in the checkpoint; source
    # "files" only). A compaction rewrites every file the source ever saw (archived ones too):
    # 1.8 s at 98k files. Spark's default of 10 put it on every 10th batch; at 100 it is 1% of
    # batches. A checkpoint that already compacted continues at an interval Spark derives from
    # its newest compaction (CompactibleFileStreamLog.deriveCompactInterval: 10 after a
    # compaction at batch 9, 100 after one at 99), so its log stays readable across the change.
    source_log_compact_interval: int = 100
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A bad setting is refused when the config is built: before migrations or Spark start.
        if self.watermark_s < 0 or self.window_s <= 0 or self.epoch_s % self.window_s:
            raise NonRetryableError("epoch_s must be a positive multiple of window_s")
        if self.clean_source not in CLEAN_SOURCE:
            raise NonRetryableError(f"clean_source must be one of {', '.join(CLEAN_SOURCE)}")
        if self.source not in SOURCES:
            raise NonRetryableError(f"source must be one of {', '.join(SOURCES)}")
        if self.source_log_compact_interval < 1:
            raise NonRetryableError("source_log_compact_interval must be at least 1")
        if self.reduce_on not in REDUCE_ON:
            raise NonRetryableError(f"reduce_on must be one of {', '.join(REDUCE_ON)}")

    def archive_path(self) -> Path:
        return self.archive_dir or self.landing_dir.with_name(self.landing_dir.name + "-archive")
