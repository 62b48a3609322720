"""The real packaged feeds load into the documented hourly shape, with gaps marked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.datasets import load_feed
from ml.errors import UnknownFeedError


def test_solar_feed_is_hourly_from_april_2011_to_december_2013_with_gaps_masked() -> None:
    s = load_feed("solar")
    assert s.start == pd.Timestamp("2011-04-15 00:00")
    assert s.end == pd.Timestamp("2013-12-31 23:00")
    assert len(s) == 992 * 24
    assert (np.diff(s.index.asi8) == 3600 * 10**9).all()
    assert s.unit == "W"
    # Some hours are missing in the source: they stay NaN and are masked, never filled.
    assert 0 < (~s.mask).sum() < 0.05 * len(s)
    assert np.isnan(s.target[~s.mask]).all()
    assert not np.isnan(s.target[s.mask]).any()
    assert s.target[s.mask].min() >= 0 and s.target[s.mask].max() < 5_000
    assert len(s.content_hash) == 64


def test_demand_feed_rebuilds_2014_timestamps_and_carries_temperature() -> None:
    s = load_feed("demand")
    assert s.start == pd.Timestamp("2014-01-01 00:00")
    assert s.end == pd.Timestamp("2014-12-31 23:00")
    assert len(s) == 8760
    assert s.mask.all()
    assert list(s.exog.columns) == ["temperature", "workday"]
    assert s.unit == "GW"
    assert 2.5 < s.target.min() < s.target.max() < 10
    # New Year's Day is a holiday; Thursday 2 January 2014 a work day.
    assert s.exog.loc["2014-01-01 12:00", "workday"] == 0
    assert s.exog.loc["2014-01-02 12:00", "workday"] == 1


def test_unknown_feed_is_refused() -> None:
    with pytest.raises(UnknownFeedError):
        load_feed("wind")
