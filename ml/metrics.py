"""Forecast scores; every one skips unmeasured hours (``mask`` False)."""

from __future__ import annotations

import numpy as np

from ml.config import QUANTILES


def mae(y: np.ndarray, p50: np.ndarray, mask: np.ndarray) -> float:
    return float(np.abs(y - p50)[mask].mean())


def naive_scale(y: np.ndarray, mask: np.ndarray, season: int = 24) -> float:
    """In-sample MAE of the lag-``season`` naive forecast: the MASE denominator."""
    both = mask[season:] & mask[:-season]
    return float(np.abs(y[season:] - y[:-season])[both].mean())


def mase(y: np.ndarray, p50: np.ndarray, mask: np.ndarray, scale: float) -> float:
    return mae(y, p50, mask) / scale


def pinball(y: np.ndarray, q: np.ndarray, mask: np.ndarray) -> float:
    """Mean pinball loss over p10/p50/p90; ``q`` is [..., 3, horizon], ``y`` [..., horizon]."""
    total = 0.0
    for i, level in enumerate(QUANTILES):
        diff = y - q[..., i, :]
        total += float(np.maximum(level * diff, (level - 1) * diff)[mask].mean())
    return total / len(QUANTILES)


def coverage(y: np.ndarray, q: np.ndarray, mask: np.ndarray) -> float:
    """Share of measured hours inside [p10, p90] (bounds included)."""
    inside = (y >= q[..., 0, :]) & (y <= q[..., 2, :])
    return float(inside[mask].mean())
