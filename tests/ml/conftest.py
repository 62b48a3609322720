"""A small deterministic seasonal feed and one model trained on it, shared by the ML tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from ml.config import ModelConfig
from ml.datasets import FeedSeries
from ml.forecaster import LSTMForecaster
from ml.training import TrainResult, train

# One torch thread: the suite runs on two shared cores, where OpenMP threads spinning against
# other processes made the small trainings here 4-7x slower (the end-to-end CLI test: 50 s at a
# load of 8 with two threads, 12 s with one).
torch.set_num_threads(1)


def seasonal_series(days: int = 100, seed: int = 7) -> FeedSeries:
    """Daily cycle, lower on weekends, plus noise: the kind of series seasonal naive stumbles
    on (noise doubles in its errors; weekday/weekend switches fool it)."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2020-01-06", periods=days * 24, freq="h")
    hour = index.hour.to_numpy()
    weekend = (index.dayofweek.to_numpy() >= 5).astype(float)
    daily = 10 + 4 * np.sin(2 * np.pi * (hour - 6) / 24)
    y = daily * (1 - 0.3 * weekend) + rng.normal(0, 0.8, len(index))
    mask = np.ones(len(index), bool)
    mask[500:510] = False  # a gap: masked, NaN, skipped by losses and metrics
    y[~mask] = np.nan
    return FeedSeries(
        name="synthetic",
        index=index,
        target=y,
        mask=mask,
        exog=pd.DataFrame(index=index),
        unit="MW",
        decimals=3,
        content_hash="0" * 64,
        source="tests",
        nonnegative=True,
    )


SMALL = ModelConfig(
    lookback_days=7,
    hidden_sizes=(16, 16),
    head_size=32,
    dropout=0.1,
    batch_size=256,
    max_epochs=12,
    patience=5,
    learning_rate=3e-3,
    test_days=10,
    val_days=10,
    train_days=365,
)


@pytest.fixture(scope="session")
def synthetic() -> FeedSeries:
    return seasonal_series()


@pytest.fixture(scope="session")
def trained(synthetic: FeedSeries) -> TrainResult:
    return train(synthetic, SMALL, device="cpu")


@pytest.fixture(scope="session")
def lstm(trained: TrainResult, synthetic: FeedSeries) -> LSTMForecaster:
    return LSTMForecaster.from_training(trained, synthetic)
