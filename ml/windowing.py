"""Turns an hourly series into (past blocks, known-ahead features, 24-h target) samples.

The past is cut into ``lookback_days`` blocks of 24 hours that end at the origin, so one LSTM
step sees one whole day: the sequences stay short (fast on CPU) and the daily cycle lines up
across steps whatever the origin hour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ml.history import HORIZON
from ml.scaling import Scaler

N_CALENDAR = 6


@dataclass(frozen=True)
class Windows:
    past: np.ndarray  # [n, lookback_days, 24 * (1 + n_exog)]
    future: np.ndarray  # [n, 24 * n_exog + N_CALENDAR]
    target: np.ndarray  # [n, 24] scaled, NaN-free (0 where masked)
    mask: np.ndarray  # [n, 24] True where the target was measured


def calendar_features(origins: pd.DatetimeIndex) -> np.ndarray:
    """[n, N_CALENDAR]: hour of day, day of week, day of year of each origin, as sin/cos."""
    hour = origins.hour.to_numpy() / 24.0
    dow = origins.dayofweek.to_numpy() / 7.0
    doy = origins.dayofyear.to_numpy() / 365.25
    cols = [f(2 * np.pi * x) for x in (hour, dow, doy) for f in (np.sin, np.cos)]
    return np.stack(cols, axis=1).astype("float32")


def n_past_features(n_exog: int) -> int:
    return HORIZON * (1 + n_exog)


def n_future_features(n_exog: int) -> int:
    return HORIZON * n_exog + N_CALENDAR


def make_windows(
    y_filled: np.ndarray,
    mask: np.ndarray,
    exog: np.ndarray,
    index: pd.DatetimeIndex,
    origins: np.ndarray,
    lookback_days: int,
    scaler: Scaler,
    with_target: bool = True,
) -> Windows:
    """Samples for each origin position in ``origins``.

    ``y_filled`` has input gaps imputed; ``mask`` says which hours were measured, so that
    imputed hours never count as targets. Every origin needs ``lookback_days * 24`` rows before
    it and (for targets or future covariates) ``HORIZON`` rows from it.
    """
    lookback = lookback_days * HORIZON
    origins = np.asarray(origins, dtype=np.int64)
    n_exog = exog.shape[1]
    ys = scaler.y(y_filled).astype("float32")
    es = scaler.exog(exog).astype("float32")
    # Every window of `lookback` rows; the one for origin t starts at t - lookback.
    y_win = sliding_window_view(ys, lookback)[origins - lookback]  # [n, lookback]
    blocks = [y_win.reshape(len(origins), lookback_days, HORIZON)]
    if n_exog:
        e_win = sliding_window_view(es, lookback, axis=0)[origins - lookback]  # [n, n_exog, lb]
        e_win = e_win.reshape(len(origins), n_exog, lookback_days, HORIZON)
        blocks.append(e_win.transpose(0, 2, 1, 3).reshape(len(origins), lookback_days, -1))
    past = np.concatenate(blocks, axis=2)
    cal = calendar_features(index[origins])
    if n_exog:
        f_win = sliding_window_view(es, HORIZON, axis=0)[origins]  # [n, n_exog, 24]
        future = np.concatenate([f_win.reshape(len(origins), -1), cal], axis=1)
    else:
        future = cal
    if with_target:
        t_mask = sliding_window_view(mask, HORIZON)[origins]
        t_val = sliding_window_view(ys, HORIZON)[origins]
        target = np.where(t_mask, t_val, 0.0).astype("float32")
    else:
        t_mask = np.zeros((len(origins), HORIZON), dtype=bool)
        target = np.zeros((len(origins), HORIZON), dtype="float32")
    return Windows(
        past=np.ascontiguousarray(past, dtype="float32"),
        future=np.ascontiguousarray(future, dtype="float32"),
        target=target,
        mask=np.ascontiguousarray(t_mask),
    )
