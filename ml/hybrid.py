"""The hybrid candidate's seasonal part: MSTL's daily and weekly components, fitted once on the
training rows of a split, continued as MSTL forecasts them (each component's last cycle
repeated). The LSTM of the hybrid learns and forecasts what remains (``y - profile``), and its
curve is the profile plus that remainder.

The profile is fixed per trained model (168 numbers and the timestamp they start at, stored in
the model's spec), so training and forecasting take off exactly the same values and no MSTL fit
runs per forecast origin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml.history import impute_inputs
from ml.series import FeedSeries

DAY, WEEK = 24, 168
HYBRID = "Hybrid"

# Solar: the LSTM models the clear-sky index, power / (clear-sky plane-of-array irradiance +
# ENVELOPE_FLOOR), rather than raw power: the envelope (known ahead from the sun's position)
# carries the daily and yearly shape, the net only how much of it clouds and snow let through.
# The floor keeps dawn and dusk finite and makes night a plain zero.
ENVELOPE_COLUMN = "clearsky_poa"
ENVELOPE_FLOOR = 50.0  # W/m², about 5 % of a clear noon


def envelope_of(exog: np.ndarray, names: tuple[str, ...]) -> np.ndarray | None:
    """The clear-sky envelope of rows of ``exog`` (columns ``names``), or None without one."""
    if ENVELOPE_COLUMN not in names:
        return None
    return np.asarray(exog[:, names.index(ENVELOPE_COLUMN)], dtype="float64") + ENVELOPE_FLOOR


def series_envelope(series: FeedSeries) -> np.ndarray | None:
    names = tuple(series.exog.columns)
    return envelope_of(series.exog.to_numpy(dtype="float64"), names) if names else None


@dataclass(frozen=True)
class SeasonalProfile:
    """Hourly values repeating every ``len(values)`` hours from ``start``."""

    start: pd.Timestamp
    values: tuple[float, ...]

    @classmethod
    def fit(cls, series: FeedSeries, stop: int, input_days: int = 56) -> SeasonalProfile:
        """MSTL (24, 168) on the ``input_days`` before row ``stop`` (the MSTL baseline's
        window); the profile is the last week of daily plus weekly components."""
        from statsforecast.mstl import mstl

        begin = max(0, stop - input_days * DAY)
        y = impute_inputs(series.target[begin:stop], series.mask[begin:stop])
        seasons = [s for s in (DAY, WEEK) if len(y) >= 2 * s]
        if not seasons:
            return cls(series.index[stop - 1], (0.0,))
        fitted = mstl(y, seasons)  # the decomposition alone: no trend model is needed here
        period = max(seasons)
        total = sum(fitted[f"seasonal{s}"].to_numpy()[-period:] for s in seasons)
        return cls(series.index[stop - period], tuple(float(v) for v in total))

    def at(self, index: pd.DatetimeIndex) -> np.ndarray:
        hours = np.asarray((index - self.start) // pd.Timedelta(hours=1), dtype=np.int64)
        return np.asarray(self.values)[hours % len(self.values)]

    def series(self, series: FeedSeries) -> np.ndarray:
        """The profile on every row of ``series``."""
        return self.at(series.index)

    def to_dict(self) -> dict[str, Any]:
        return {"start": str(self.start), "values": list(self.values)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SeasonalProfile:
        return cls(pd.Timestamp(data["start"]), tuple(float(v) for v in data["values"]))
