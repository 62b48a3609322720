"""Durable, atomic file landing for Spark's file source: write to a hidden temp name, fsync,
rename into place, fsync the directory. Spark ignores names starting with '.' or '_', so it never
sees a half-written file. Telemetry lands as Parquet (columnar: Spark's vectorised reader turns it
into Arrow for the job without parsing text); dead letters land as JSON lines."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _land(directory: Path, prefix: str, suffix: str, write: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.{suffix}"
    tmp = directory / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        write(fh)
        fh.flush()
        os.fsync(fh.fileno())
    final = directory / name
    os.replace(tmp, final)
    fsync_dir(directory)
    return final


def land_lines(directory: Path, lines: Iterable[bytes], prefix: str = "part") -> Path:
    """Write newline-terminated `lines` as one new file in `directory`; returns its final path."""

    def write(fh: Any) -> None:
        for line in lines:
            fh.write(line)
            fh.write(b"\n")

    return _land(directory, prefix, "jsonl", write)


def land_table(directory: Path, table: Any, prefix: str = "part") -> Path:
    """Write an Arrow table as one new Parquet file in `directory`; returns its final path.
    Uncompressed: the files are transient and the gateway's CPU is the scarcer resource."""
    import pyarrow.parquet as pq

    def write(fh: Any) -> None:
        pq.write_table(table, fh, compression="none")

    return _land(directory, prefix, "parquet", write)
