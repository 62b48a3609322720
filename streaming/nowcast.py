"""Nowcast of a feed's next epoch: additive Holt-Winters (level, trend, daily season).

alpha = 0.3 is the simplest setting the design names; with less than two seasons of history the
seasonal term cannot be initialised and the model falls back to Holt's linear trend."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Nowcast:
    value: float
    method: str
    based_on: int


def holt_winters(
    values: Sequence[float],
    season: int = 24,
    alpha: float = 0.3,
    beta: float = 0.1,
    gamma: float = 0.1,
) -> Nowcast:
    """One-step-ahead forecast after the last of `values` (oldest first)."""
    n = len(values)
    if n == 0:
        raise ValueError("no history to nowcast from")
    if n == 1:
        return Nowcast(float(values[0]), "naive", 1)
    if n < 2 * season:
        level, trend = float(values[0]), float(values[1] - values[0])
        for y in values[1:]:
            prev = level
            level = alpha * y + (1 - alpha) * (level + trend)
            trend = beta * (level - prev) + (1 - beta) * trend
        return Nowcast(level + trend, f"holt(alpha={alpha},beta={beta})", n)
    first = sum(values[:season]) / season
    second = sum(values[season : 2 * season]) / season
    level, trend = first, (second - first) / season
    seasonal = [values[i] - first for i in range(season)]
    for t in range(season, n):
        y = values[t]
        s = seasonal[t % season]
        prev = level
        level = alpha * (y - s) + (1 - alpha) * (level + trend)
        trend = beta * (level - prev) + (1 - beta) * trend
        seasonal[t % season] = gamma * (y - level) + (1 - gamma) * s
    return Nowcast(
        level + trend + seasonal[n % season],
        f"holt_winters_additive(alpha={alpha},beta={beta},gamma={gamma},season={season})",
        n,
    )
