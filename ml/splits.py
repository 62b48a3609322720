"""Chronological train / validation / test split of a feed (no shuffling across time)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.config import ModelConfig
from ml.datasets import FeedSeries
from ml.errors import NonRetryableError
from ml.history import HORIZON


@dataclass(frozen=True)
class Split:
    """Row positions: train targets lie in [train_start, val_start), validation targets in
    [val_start, test_start), test targets in [test_start, end)."""

    train_start: int
    val_start: int
    test_start: int
    end: int

    def train_origins(self, lookback: int, stride: int = 1) -> np.ndarray:
        first = max(self.train_start, lookback)
        return np.arange(first, self.val_start - HORIZON + 1, stride)

    def val_origins(self) -> np.ndarray:
        return np.arange(self.val_start, self.test_start - HORIZON + 1)

    def test_origins(self, step: int = HORIZON) -> np.ndarray:
        return np.arange(self.test_start, self.end - HORIZON + 1, step)


def split_feed(series: FeedSeries, config: ModelConfig) -> Split:
    """The last ``test_days`` whole days are the test window, the ``val_days`` before them
    validation, and up to ``train_days`` before those training."""
    end = len(series) - len(series) % HORIZON
    test_start = end - config.test_days * HORIZON
    val_start = test_start - config.val_days * HORIZON
    lookback = config.lookback_days * HORIZON
    train_start = max(0, val_start - config.train_days * HORIZON)
    if val_start - max(train_start, lookback) < 14 * HORIZON:
        raise NonRetryableError(f"feed {series.name!r} is too short for this split")
    return Split(train_start=train_start, val_start=val_start, test_start=test_start, end=end)
