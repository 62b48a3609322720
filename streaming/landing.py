"""Durable, atomic file landing for Spark's file source: write to a hidden temp name, fsync,
rename into place, fsync the directory. Spark ignores names starting with '.' or '_', so it never
sees a half-written file."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from pathlib import Path


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def land_lines(directory: Path, lines: Iterable[bytes], prefix: str = "part") -> Path:
    """Write newline-terminated `lines` as one new file in `directory`; returns its final path."""
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}-{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.jsonl"
    tmp = directory / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        for line in lines:
            fh.write(line)
            fh.write(b"\n")
        fh.flush()
        os.fsync(fh.fileno())
    final = directory / name
    os.replace(tmp, final)
    fsync_dir(directory)
    return final
