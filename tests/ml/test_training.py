"""Training reduces the loss, is deterministic, and beats seasonal naive on a seasonal series."""

from __future__ import annotations

import numpy as np

from ml.datasets import FeedSeries
from ml.evaluation import backtest
from ml.forecaster import LSTMForecaster, SeasonalNaiveForecaster
from ml.training import TrainResult, train

from .conftest import SMALL


def test_training_reduces_the_validation_loss(trained: TrainResult) -> None:
    first = trained.history[0]
    # The untrained net forecasts seasonal naive; training must improve on it.
    assert min(r.val_loss for r in trained.history) < 0.9 * trained.initial_val_loss
    assert trained.history[-1].train_loss < first.train_loss
    assert 1 <= trained.best_epoch <= len(trained.history)


def test_lstm_beats_seasonal_naive_on_a_seasonal_series(
    lstm: LSTMForecaster, trained: TrainResult, synthetic: FeedSeries
) -> None:
    scores, _, _, _ = backtest(synthetic, trained.split, [lstm, SeasonalNaiveForecaster()])
    by_name = {s.name: s for s in scores}
    assert by_name["LSTM"].mase < 0.9 * by_name["SeasonalNaive(24)"].mase
    assert 0.5 < by_name["LSTM"].coverage <= 1.0


def test_training_is_deterministic_for_a_seed(synthetic: FeedSeries, trained: TrainResult) -> None:
    from dataclasses import replace

    config = replace(SMALL, max_epochs=1, train_days=30)
    a = train(synthetic, config, device="cpu")
    b = train(synthetic, config, device="cpu")
    for key, value in a.net.state_dict().items():
        assert np.array_equal(value.numpy(), b.net.state_dict()[key].numpy())


def test_feed_defaults_apply_under_explicit_overrides() -> None:
    from ml.config import ModelConfig

    solar = ModelConfig.for_feed("solar")
    assert (solar.train_days, solar.learning_rate) == (900, 1e-3)
    assert ModelConfig.for_feed("solar", train_days=30).train_days == 30
    assert ModelConfig.for_feed("demand") == ModelConfig()
    assert ModelConfig.from_dict(solar.to_dict()) == solar  # what the artifact stores


def test_training_picks_cuda_when_present_and_matches_the_cpu_within_tolerance(
    synthetic: FeedSeries,
) -> None:
    """Default device: CUDA when present (recorded in the result). Same seed on CUDA and on the
    CPU gives the same validation loss within 2 % (different kernels, same data order)."""
    from dataclasses import replace

    import pytest
    import torch

    config = replace(SMALL, max_epochs=2, train_days=30)
    auto = train(synthetic, config)
    assert auto.device == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device here: the CPU default is what was checked")
    cpu = train(synthetic, config, device="cpu")
    a, b = auto.history[-1].val_loss, cpu.history[-1].val_loss
    assert abs(a - b) <= 0.02 * b
