"""Every forecaster answers the same call with a 24-h, ordered, leak-free quantile curve."""

from __future__ import annotations

import numpy as np
import pytest

from ml.datasets import FeedSeries, load_feed
from ml.errors import HistoryError
from ml.forecaster import (
    ConstantForecaster,
    Forecaster,
    LSTMForecaster,
    MSTLForecaster,
    SeasonalNaiveForecaster,
    ShiftedForecaster,
)
from ml.history import History


@pytest.mark.parametrize(
    "fc",
    [SeasonalNaiveForecaster(), MSTLForecaster(), ConstantForecaster(), ShiftedForecaster()],
    ids=lambda f: f.name,
)
def test_baselines_give_ordered_nonnegative_day_ahead_curves(fc: Forecaster) -> None:
    solar = load_feed("solar")
    curve = fc.predict_curve(solar, "2013-06-01 00:00")
    assert curve.p50.shape == (24,)
    assert (curve.p10 <= curve.p50).all() and (curve.p50 <= curve.p90).all()
    assert (curve.p10 >= 0).all()
    assert str(curve.index[0]) == "2013-06-01 00:00:00"
    assert fc.model_hash.startswith("0x") and len(fc.model_hash) == 66


def test_forecasts_ignore_everything_after_the_origin(
    lstm: LSTMForecaster, synthetic: FeedSeries
) -> None:
    origin = 24 * 80
    before = lstm.predict_curve(synthetic, origin).stacked()
    altered = synthetic.slice(0, len(synthetic))
    object.__setattr__(altered, "target", synthetic.target.copy())
    altered.target[origin:] += 100.0
    after = lstm.predict_curve(altered, origin).stacked()
    np.testing.assert_array_equal(before, after)


def test_curve_converts_to_fixed_point_for_the_chain(
    lstm: LSTMForecaster, synthetic: FeedSeries
) -> None:
    curve = lstm.predict_curve(synthetic, 24 * 80)
    fixed = curve.to_fixed_point(3)
    assert fixed["p50"][0] == round(float(curve.p50[0]) * 1000)


def test_lstm_refuses_too_short_a_history(lstm: LSTMForecaster, synthetic: FeedSeries) -> None:
    with pytest.raises(HistoryError):
        lstm.predict_curve(History.at(synthetic, 48))
