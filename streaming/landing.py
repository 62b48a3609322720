"""Durable, atomic file landing for the streaming job: write to a hidden temp name, fsync, rename
into place, fsync the directory. The job's sources ignore names starting with '.', so they never
see a half-written file. Telemetry lands as Parquet, ``part-<gateway>-<sequence>.parquet``
(columnar: read as Arrow without parsing text; the job's source reads each gateway's files in
sequence order); dead letters land as JSON lines."""

from __future__ import annotations

import os
import re
import threading
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


_sequence_lock = threading.Lock()
_last_sequence = 0


def next_sequence() -> int:
    """A landing sequence number: the wall clock in ns, strictly increasing in this process (a
    restarted gateway continues above its files as long as the clock did not step back)."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(time.time_ns(), _last_sequence + 1)
        return _last_sequence


def gateway_name(client_id: str) -> str:
    """A gateway's part of its file names (its MQTT client id, unique per broker): letters,
    digits, '_', '.' and '-' kept, anything else '_'."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", client_id).strip(".-")
    return name or "gateway"


def _land(directory: Path, name: str, write: Any) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
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

    name = f"{prefix}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.jsonl"
    return _land(directory, name, write)


def land_table(directory: Path, table: Any, gateway: str = "gateway") -> Path:
    """Write an Arrow table as one new Parquet file ``part-<gateway>-<sequence>.parquet`` in
    `directory`; returns its final path. A gateway lands one file at a time, so its files appear
    in sequence order: the job's source (``streaming.landed_source``) reads "gateway g up to
    sequence s" as an offset. Uncompressed: the files are transient and the gateway's CPU is
    the scarcer resource."""
    import pyarrow.parquet as pq

    def write(fh: Any) -> None:
        pq.write_table(table, fh, compression="none")

    return _land(directory, f"part-{gateway}-{next_sequence():020d}.parquet", write)
