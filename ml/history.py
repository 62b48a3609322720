"""What a forecaster may see at a forecast origin: the past, plus covariates known ahead."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.datasets import FeedSeries
from ml.errors import HistoryError

HORIZON = 24


@dataclass(frozen=True)
class History:
    """Hourly history ending just before ``origin`` (the first hour to forecast).

    ``y``/``mask``: past values (NaN where missing) and their validity, oldest first.
    ``exog_past``: covariates for the past hours; ``exog_future``: the same columns for the
    ``HORIZON`` hours from ``origin`` (calendar flags, or a weather forecast; in replay the
    measured temperature stands in for a perfect temperature forecast).
    """

    origin: pd.Timestamp
    y: np.ndarray
    mask: np.ndarray
    exog_past: np.ndarray  # [len(y), n_exog]
    exog_future: np.ndarray  # [HORIZON, n_exog]
    exog_names: tuple[str, ...]
    nonnegative: bool = True

    def __post_init__(self) -> None:
        if len(self.y) != len(self.mask) or len(self.y) != len(self.exog_past):
            raise HistoryError("y, mask and exog_past must have the same length")
        if self.exog_future.shape != (HORIZON, len(self.exog_names)):
            raise HistoryError(f"exog_future must be [{HORIZON}, {len(self.exog_names)}]")

    @property
    def target_index(self) -> pd.DatetimeIndex:
        return pd.date_range(self.origin, periods=HORIZON, freq="h")

    def filled(self) -> np.ndarray:
        """Past values with gaps imputed, for use as model INPUTS only (never as targets)."""
        return impute_inputs(self.y, self.mask)

    @classmethod
    def at(cls, series: FeedSeries, origin: pd.Timestamp | str | int) -> History:
        """The history of ``series`` before ``origin`` (a timestamp on its grid or a row number)."""
        pos = origin if isinstance(origin, int) else series.position(pd.Timestamp(origin))
        if pos <= 0:
            raise HistoryError("no history before the first hour of the feed")
        if pos + HORIZON > len(series):
            raise HistoryError("the feed has no known-ahead covariates past its last hour")
        exog = series.exog.to_numpy(dtype="float64")
        if exog.shape[1] == 0:
            exog = np.zeros((len(series), 0))
        return cls(
            origin=series.index[pos],
            y=series.target[:pos],
            mask=series.mask[:pos],
            exog_past=exog[:pos],
            exog_future=exog[pos : pos + HORIZON],
            exog_names=tuple(series.exog.columns),
            nonnegative=series.nonnegative,
        )


def impute_inputs(y: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Fill gaps with the same hour of the previous valid day, else linear interpolation.

    Only model inputs are imputed; losses and metrics use ``mask`` and skip the gaps.
    """
    out = np.where(mask, y, np.nan).astype("float64")
    missing = np.flatnonzero(np.isnan(out))
    for i in missing:
        if i >= HORIZON and not np.isnan(out[i - HORIZON]):
            out[i] = out[i - HORIZON]
    if np.isnan(out).any():
        idx = np.arange(len(out))
        good = ~np.isnan(out)
        if not good.any():
            raise HistoryError("history has no valid value at all")
        out = np.interp(idx, idx[good], out[good])
    return out
