"""The processes a benchmark runs and what they cost: CPU seconds and memory, read from psutil
and /proc (shared by the streaming benchmarks)."""

from __future__ import annotations

from pathlib import Path

import psutil


def family(pid: int, exclude: frozenset[int] | set[int] = frozenset()) -> list[int]:
    """`pid` and all its descendants, less `exclude` (a broker or gateway it started, counted
    on its own)."""
    kids = psutil.Process(pid).children(recursive=True)
    return [pid] + [p.pid for p in kids if p.pid not in exclude]


def named(name: str) -> list[int]:
    """Every running process called `name` (a server the benchmark did not start)."""
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] == name]


def cpu_s(pids: list[int]) -> float:
    """User + system CPU seconds of the running processes (not of reaped children: the driver
    reaps the load generator)."""
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system
    return total


def peak_rss_mb(pids: list[int]) -> float:
    """Sum of the processes' peak resident set (VmHWM), MiB."""
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return round(total / 1024, 1)


def rss_mb(pids: list[int]) -> float:
    """Sum of the processes' resident set now, MiB: sampled through a run, growth shows (a sum
    of RSS counts pages that forked workers share more than once)."""
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            continue
    return round(total / 2**20, 1)
