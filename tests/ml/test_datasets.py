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


def test_solar_feed_carries_known_ahead_clear_sky_geometry_zero_at_night() -> None:
    s = load_feed("solar")
    assert list(s.exog.columns) == ["clearsky_poa", "sun_elevation", "temp_air", "ghi_lag24"]
    assert not s.exog.isna().any().any()
    assert (s.exog.to_numpy() >= 0).all()
    night = s.exog.loc["2013-06-21 00:00":"2013-06-21 03:00"]
    assert (night[["clearsky_poa", "sun_elevation", "ghi_lag24"]].to_numpy() == 0).all()
    assert s.exog.loc["2013-06-21 12:00", "clearsky_poa"] > 500
    # The geometry follows the feed's DST wall clock: the day's clear-sky peak sits an hour
    # later in summer (daylight time) than in winter (standard time).
    summer = s.exog.loc["2013-06-21", "clearsky_poa"].to_numpy()
    winter = s.exog.loc["2013-12-21", "clearsky_poa"].to_numpy()
    centroid = [float((np.arange(24) * d).sum() / d.sum()) for d in (summer, winter)]
    assert 0.6 < centroid[0] - centroid[1] < 1.4


def test_solar_weather_is_on_the_feeds_wall_clock_and_lags_irradiance_by_a_day() -> None:
    s = load_feed("solar")
    w = s.exog
    assert 0 <= w["temp_air"].min() and w["temp_air"].max() < 45
    # Summer afternoons are warmer than winter ones at the same site.
    assert w.loc["2013-07-15 15:00", "temp_air"] > w.loc["2013-01-15 15:00", "temp_air"]
    # ghi_lag24 at hour h is the irradiance of hour h one day earlier: it is what was observed
    # yesterday, so the curve of one day reappears shifted by 24 rows.
    day = w.loc["2013-06-20 00:00":"2013-06-20 23:00", "ghi_lag24"].to_numpy()
    nxt = w.loc["2013-06-21 00:00":"2013-06-21 23:00", "ghi_lag24"].to_numpy()
    assert day.max() > 500 and not np.allclose(day, nxt)
    # Irradiance peaks near the clear-sky peak of the same wall-clock day (DST handled alike).
    for when in ("2013-06-21", "2013-12-21"):
        ghi = w.loc[when, "ghi_lag24"].to_numpy()  # the day before `when`
        cs = w.loc[when, "clearsky_poa"].to_numpy()
        assert abs(int(np.argmax(ghi)) - int(np.argmax(cs))) <= 2
    # The content hash covers both files: power and weather.
    assert "psm3" in s.source


def test_extra_evaluation_series_load_hourly_from_their_packages() -> None:
    taylor = load_feed("taylor")  # England and Wales demand, 12 weeks of 2000, in MW
    assert taylor.start == pd.Timestamp("2000-06-05 00:00") and len(taylor) == 84 * 24
    assert taylor.mask.all() and 15_000 < taylor.target.min() < taylor.target.max() < 40_000
    serf = load_feed("serf-east")  # a PV system's AC power, 15 weeks of 2016, in W
    assert serf.start == pd.Timestamp("2016-07-01 00:00") and len(serf) // 24 == 104
    assert serf.target[serf.mask].min() == 0.0  # night tare clipped, never negative
    assert serf.target[serf.mask].max() < 6_000
    for s in (taylor, serf):
        assert (np.diff(s.index.asi8) == 3600 * 10**9).all() and len(s.content_hash) == 64
