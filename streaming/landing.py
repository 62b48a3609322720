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

from streaming.errors import NonRetryableError


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_sequence_lock = threading.Lock()
_last_sequence = 0


def next_sequence() -> int:
    """A sequence number strictly increasing in this process (the wall clock in ns, or one more
    than the last): for files landed by tests and benchmarks. A gateway uses `LandingSequence`."""
    global _last_sequence
    with _sequence_lock:
        _last_sequence = max(time.time_ns(), _last_sequence + 1)
        return _last_sequence


RESERVE_NS = 3600 * 10**9  # how far ahead a gateway reserves sequence numbers: one write an hour


class LandingSequence:
    """One gateway's file sequence in one landing directory, strictly increasing across restarts
    even when the clock steps back. The job's source reads "gateway g up to sequence s": a file
    landed below a sequence it already passed would never be read. So the gateway reserves
    numbers ahead in a hidden ``.sequence-<gateway>`` file (landed durably, an hour of ns at a
    time) and a restarted gateway starts above the reservation, whatever the clock says."""

    def __init__(self, directory: Path, gateway: str) -> None:
        self.directory, self.gateway = directory, gateway
        self.path = directory / f".sequence-{gateway}"
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            text = "0"
        if not text.strip().isdigit():  # landed atomically, so only a hand edit gets here
            raise NonRetryableError(f"{self.path}: not a sequence number: {text[:40]!r}")
        self._reserved = int(text)
        self._last = self._reserved  # a previous run may have used anything up to it
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            seq = max(time.time_ns(), self._last + 1)
            if seq > self._reserved:
                reserved = seq + RESERVE_NS
                _land(self.directory, self.path.name, lambda fh: fh.write(b"%d" % reserved))
                self._reserved = reserved
            self._last = seq
            return seq


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


def land_table(
    directory: Path, table: Any, gateway: str = "gateway", sequence: LandingSequence | None = None
) -> Path:
    """Write an Arrow table as one new Parquet file ``part-<gateway>-<sequence>.parquet`` in
    `directory`; returns its final path. A gateway lands one file at a time, so its files appear
    in sequence order: the job's source (``streaming.landed_source``) reads "gateway g up to
    sequence s" as an offset. Uncompressed: the files are transient and the gateway's CPU is
    the scarcer resource."""
    import pyarrow.parquet as pq

    def write(fh: Any) -> None:
        pq.write_table(table, fh, compression="none")

    seq = sequence.next() if sequence is not None else next_sequence()
    return _land(directory, f"part-{gateway}-{seq:020d}.parquet", write)
