"""Forecasters with one small interface, used by evaluation and by the oracle bot.

    fc = Forecaster.load(model_hash)           # the trained LSTM from the registry
    fc = SeasonalNaiveForecaster()              # or a baseline, same interface
    curve = fc.predict_curve(series, origin)   # origin: first forecast hour (timestamp or row)
    curve.p10, curve.p50, curve.p90            # np.ndarray[24] in the feed's unit
    fc.model_hash                              # "0x" + 64 hex: bytes32 for the commit

``predict_curve`` only ever sees the hours before ``origin`` (plus known-ahead covariates:
calendar flags and temperature), through :class:`ml.history.History`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ml.artifact import artifact_hash, read_artifact, spec_hash, weights_bytes
from ml.datasets import FeedSeries
from ml.errors import HistoryError
from ml.history import HORIZON, History

if TYPE_CHECKING:
    from ml.config import ModelConfig
    from ml.networks.lstm import LSTMQuantileNet
    from ml.scaling import Scaler
    from ml.training import TrainResult


@dataclass(frozen=True)
class QuantileCurve:
    """A day-ahead curve: ``HORIZON`` hourly values from ``index[0]`` on, three quantiles."""

    index: pd.DatetimeIndex
    p10: np.ndarray
    p50: np.ndarray
    p90: np.ndarray

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.p10, self.p50, self.p90

    def stacked(self) -> np.ndarray:
        """[3, HORIZON] array of p10, p50, p90."""
        return np.stack([self.p10, self.p50, self.p90])

    def to_fixed_point(self, decimals: int) -> dict[str, list[int]]:
        """Integers scaled by 10**decimals, as the contracts store them."""
        scale = 10**decimals
        return {
            name: [round(float(v) * scale) for v in arr]
            for name, arr in (("p10", self.p10), ("p50", self.p50), ("p90", self.p90))
        }


class Forecaster(ABC):
    """Day-ahead quantile forecaster. Subclasses implement :meth:`forecast`."""

    name: str = "forecaster"
    horizon: int = HORIZON

    @property
    @abstractmethod
    def model_hash(self) -> str:
        """0x-prefixed keccak256 identifying this model (fits a bytes32)."""

    @abstractmethod
    def forecast(self, history: History) -> np.ndarray:
        """[3, HORIZON] p10/p50/p90 in the feed's unit, from ``history`` alone."""

    def predict_curve(
        self,
        series: FeedSeries | History,
        origin: pd.Timestamp | str | int | None = None,
    ) -> QuantileCurve:
        """The 24-h curve starting at ``origin`` using only data before it."""
        if isinstance(series, History):
            history = series
        else:
            if origin is None:
                raise HistoryError("an origin is needed when forecasting from a FeedSeries")
            history = History.at(series, origin)
        q = np.asarray(self.forecast(history), dtype="float64")
        q = np.sort(q, axis=0)  # baselines may hand back crossed bounds at flat hours
        if history.nonnegative:
            q = np.maximum(q, 0.0)
        return QuantileCurve(history.target_index, q[0], q[1], q[2])

    @staticmethod
    def load(model_hash: str, model_dir: Path | None = None) -> LSTMForecaster | SelectedForecaster:
        """The stored forecaster with this hash (checked against its bytes): an LSTM, or the
        model chosen on validation among the LSTM, the baselines and their ensemble."""
        weights, document = read_artifact(model_hash, model_dir)
        spec, h = document["spec"], document["model_hash"]
        if spec.get("kind") == SelectedForecaster.kind:
            return SelectedForecaster.from_artifact(weights, spec, h)
        return LSTMForecaster.from_artifact(weights, spec, h)


class SeasonalNaiveForecaster(Forecaster):
    """Tomorrow = the last ``season`` hours; the band from statsforecast's residual quantiles."""

    def __init__(self, season: int = 24, input_days: int = 28) -> None:
        self.season = season
        self.input_days = input_days
        self.name = f"SeasonalNaive({season})"

    @property
    def model_hash(self) -> str:
        return spec_hash({"kind": "seasonal_naive", "season": self.season})

    def forecast(self, history: History) -> np.ndarray:
        from statsforecast.models import SeasonalNaive

        y = history.filled()[-self.input_days * 24 :]
        out = SeasonalNaive(season_length=self.season).forecast(y=y, h=self.horizon, level=[80])
        return np.stack([out["lo-80"], out["mean"], out["hi-80"]])


class MSTLForecaster(Forecaster):
    """statsforecast MSTL with daily and weekly seasons, fitted on a trailing window."""

    def __init__(self, seasons: tuple[int, ...] = (24, 168), input_days: int = 56) -> None:
        self.seasons = seasons
        self.input_days = input_days
        self.name = f"MSTL({','.join(map(str, seasons))})"

    @property
    def model_hash(self) -> str:
        spec = {
            "kind": "mstl",
            "seasons": list(self.seasons),
            "input_days": self.input_days,
        }
        return spec_hash(spec)

    def forecast(self, history: History) -> np.ndarray:
        from statsforecast.models import MSTL

        y = history.filled()[-self.input_days * 24 :]
        out = MSTL(season_length=list(self.seasons)).forecast(y=y, h=self.horizon, level=[80])
        return np.stack([out["lo-80"], out["mean"], out["hi-80"]])


class AutoETSForecaster(Forecaster):
    """statsforecast AutoETS with a daily season, fitted on a trailing window."""

    def __init__(self, season: int = 24, input_days: int = 28) -> None:
        self.season = season
        self.input_days = input_days
        self.name = f"AutoETS({season})"

    @property
    def model_hash(self) -> str:
        spec = {
            "kind": "auto_ets",
            "season": self.season,
            "input_days": self.input_days,
        }
        return spec_hash(spec)

    def forecast(self, history: History) -> np.ndarray:
        from statsforecast.models import AutoETS

        y = history.filled()[-self.input_days * 24 :]
        out = AutoETS(season_length=self.season).forecast(y=y, h=self.horizon, level=[80])
        return np.stack([out["lo-80"], out["mean"], out["hi-80"]])


class ConstantForecaster(Forecaster):
    """A deliberately bad operator: the mean of the last week, flat, with a narrow band."""

    name = "Constant"

    @property
    def model_hash(self) -> str:
        return spec_hash({"kind": "constant"})

    def forecast(self, history: History) -> np.ndarray:
        level = float(np.mean(history.filled()[-168:]))
        flat = np.full(self.horizon, level)
        return np.stack([flat * 0.95, flat, flat * 1.05])


class ShiftedForecaster(Forecaster):
    """A deliberately bad operator: yesterday's curve shifted by ``shift_hours``."""

    def __init__(self, shift_hours: int = 6) -> None:
        self.shift_hours = shift_hours
        self.name = f"Shifted({shift_hours}h)"

    @property
    def model_hash(self) -> str:
        return spec_hash({"kind": "shifted", "shift_hours": self.shift_hours})

    def forecast(self, history: History) -> np.ndarray:
        day = np.roll(history.filled()[-self.horizon :], self.shift_hours)
        return np.stack([day * 0.9, day, day * 1.1])


@dataclass
class LSTMForecaster(Forecaster):
    """The trained stacked-LSTM quantile model plus what it needs to read a history."""

    net: LSTMQuantileNet
    config: ModelConfig
    scaler: Scaler
    calibration: dict[str, float]
    feed: str
    exog_names: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    hash_: str | None = None
    name: str = "LSTM"

    @classmethod
    def from_training(cls, result: TrainResult, series: FeedSeries) -> LSTMForecaster:
        """Wrap a finished training run; its spec metadata is what the model hash covers."""
        split = result.split
        spec: dict[str, Any] = {
            "feed": series.name,
            "name": f"lstm-{series.name}",
            "kind": "lstm_quantile",
            "config": result.config.to_dict(),
            "scaler": result.scaler.to_dict(),
            "calibration": result.calibration,
            "exog_names": list(series.exog.columns),
            "quantiles": [0.1, 0.5, 0.9],
            "horizon": HORIZON,
            "unit": series.unit,
            "decimals": series.decimals,
            "dataset": {"source": series.source, "sha256": series.content_hash},
            "span": {
                "train_start": str(series.index[split.train_start]),
                "val_start": str(series.index[split.val_start]),
                "test_start": str(series.index[split.test_start]),
                "end": str(series.index[split.end - 1]),
            },
        }
        return cls(
            net=result.net,
            config=result.config,
            scaler=result.scaler,
            calibration=result.calibration,
            feed=series.name,
            exog_names=tuple(series.exog.columns),
            metadata=spec,
        )

    def artifact_parts(self) -> tuple[bytes, dict[str, Any]]:
        """(weights bytes, spec): what the artifact stores and the model hash covers."""
        return weights_bytes(self.net), self.metadata

    @classmethod
    def from_artifact(cls, weights: bytes, spec: dict[str, Any], model_hash: str) -> LSTMForecaster:
        """Rebuild from an artifact's (already verified) weights and spec."""
        import io

        import torch

        from ml.config import ModelConfig
        from ml.scaling import Scaler
        from ml.training import build_net

        config = ModelConfig.from_dict(spec["config"])
        exog_names = tuple(spec["exog_names"])
        net = build_net(config, len(exog_names))
        state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        net.eval()
        return cls(
            net=net,
            config=config,
            scaler=Scaler.from_dict(spec["scaler"]),
            calibration=dict(spec["calibration"]),
            feed=spec["feed"],
            exog_names=exog_names,
            metadata=spec,
            hash_=model_hash,
        )

    @property
    def model_hash(self) -> str:
        if self.hash_ is None:
            self.hash_ = artifact_hash(weights_bytes(self.net), self.metadata)
        return self.hash_

    def forecast(self, history: History) -> np.ndarray:
        return self.forecast_many([history])[0]

    def forecast_many(self, histories: list[History]) -> np.ndarray:
        """[n, 3, HORIZON] for several histories in one batch."""
        from ml.training import apply_calibration, predict_windows
        from ml.windowing import make_windows

        lookback = self.config.lookback_days * HORIZON
        pasts, futures = [], []
        for h in histories:
            if len(h.y) < lookback:
                raise HistoryError(f"the LSTM needs at least {lookback} hours of history")
            if h.exog_names != self.exog_names:
                raise HistoryError(f"expected covariates {self.exog_names}, got {h.exog_names}")
            y = np.concatenate([h.filled()[-lookback:], np.zeros(HORIZON)])
            exog = np.concatenate([h.exog_past[-lookback:], h.exog_future])
            index = pd.date_range(
                end=h.origin + pd.Timedelta(hours=HORIZON - 1), periods=len(y), freq="h"
            )
            w = make_windows(
                y,
                np.ones(len(y), bool),
                exog,
                index,
                np.array([lookback]),
                self.config.lookback_days,
                self.scaler,
                with_target=False,
            )
            pasts.append(w.past)
            futures.append(w.future)
        from ml.windowing import Windows

        batch = Windows(
            past=np.concatenate(pasts),
            future=np.concatenate(futures),
            target=np.zeros((len(histories), HORIZON), "float32"),
            mask=np.zeros((len(histories), HORIZON), bool),
        )
        q = self.scaler.y_inverse(predict_windows(self.net, batch).astype("float64"))
        nonneg = bool(histories[0].nonnegative) if histories else True
        return apply_calibration(q, self.calibration, nonneg)


@dataclass(frozen=True)
class Conformal:
    """Split-conformal p10/p90 around any median, fitted on validation residuals.

    Residuals ``y - p50`` are divided by their mean absolute size at the target's hour of day
    (``scale``, 24 values: solar's nights get a zero-width band, its noons a wide one); ``lo`` and
    ``hi`` are the 10th and 90th percentiles of those normalised residuals, so the band
    ``p50 + scale[hour] * (lo, hi)`` holds ~80 % of validation truths."""

    scale: tuple[float, ...]
    lo: float
    hi: float

    @classmethod
    def fit(cls, y: np.ndarray, p50: np.ndarray, mask: np.ndarray, hours: np.ndarray) -> Conformal:
        """``y``, ``p50``, ``mask``, ``hours``: [n, HORIZON] (hours: hour of day of each target)."""
        r = (y - p50)[mask]
        h = hours[mask]
        overall = float(np.abs(r).mean()) if r.size else 0.0
        scale = []
        for hour in range(24):
            at = np.abs(r[h == hour])
            scale.append(float(at.mean()) if at.size else overall)
        s = np.asarray(scale)[h]
        keep = s > 1e-9 * max(overall, 1e-12)
        z = r[keep] / s[keep] if keep.any() else np.zeros(1)
        return cls(tuple(scale), float(np.quantile(z, 0.1)), float(np.quantile(z, 0.9)))

    def band(self, p50: np.ndarray, hours: np.ndarray, nonnegative: bool) -> np.ndarray:
        """[..., 3, HORIZON] p10/p50/p90 from a median [..., HORIZON]."""
        s = np.asarray(self.scale)[hours]
        q = np.stack([p50 + s * self.lo, p50, p50 + s * self.hi], axis=-2)
        return np.maximum(q, 0.0) if nonnegative else q

    def to_dict(self) -> dict[str, Any]:
        return {"scale": list(self.scale), "lo": self.lo, "hi": self.hi}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conformal:
        return cls(tuple(float(v) for v in data["scale"]), float(data["lo"]), float(data["hi"]))


ENSEMBLE = "Ensemble"


def baseline_spec(fc: Forecaster) -> dict[str, Any]:
    """Constructor arguments of a baseline, to rebuild it from an artifact."""
    if isinstance(fc, SeasonalNaiveForecaster):
        return {"kind": "seasonal_naive", "season": fc.season, "input_days": fc.input_days}
    if isinstance(fc, MSTLForecaster):
        return {"kind": "mstl", "seasons": list(fc.seasons), "input_days": fc.input_days}
    if isinstance(fc, AutoETSForecaster):
        return {"kind": "auto_ets", "season": fc.season, "input_days": fc.input_days}
    raise HistoryError(f"{fc.name} is not a baseline that can be stored")


def baseline_from_spec(spec: dict[str, Any]) -> Forecaster:
    kind = spec["kind"]
    if kind == "seasonal_naive":
        return SeasonalNaiveForecaster(spec["season"], spec["input_days"])
    if kind == "mstl":
        return MSTLForecaster(tuple(spec["seasons"]), spec["input_days"])
    if kind == "auto_ets":
        return AutoETSForecaster(spec["season"], spec["input_days"])
    raise HistoryError(f"unknown baseline kind {kind!r} in the artifact")


@dataclass
class SelectedForecaster(Forecaster):
    """The candidate chosen on the validation window (the LSTM, a baseline, or the
    validation-weighted ensemble of all of them), with a conformal band fitted there too.

    Its artifact holds the LSTM's weights and a spec naming the choice, the ensemble weights, the
    band and each member, so ``model_hash`` covers everything that decides its forecasts."""

    members: dict[str, Forecaster]
    choice: str
    weights: dict[str, float]
    conformal: Conformal
    feed: str
    metadata: dict[str, Any] = field(default_factory=dict)
    hash_: str | None = None
    kind = "selected"

    def __post_init__(self) -> None:
        self.name = f"Selected[{self.choice.split('(')[0]}]"

    @property
    def lstm(self) -> LSTMForecaster:
        fc = next(m for m in self.members.values() if isinstance(m, LSTMForecaster))
        return fc

    def artifact_parts(self) -> tuple[bytes, dict[str, Any]]:
        return weights_bytes(self.lstm.net), self.metadata

    @property
    def model_hash(self) -> str:
        if self.hash_ is None:
            self.hash_ = artifact_hash(*self.artifact_parts())
        return self.hash_

    @classmethod
    def build(
        cls,
        lstm: LSTMForecaster,
        baselines: list[Forecaster],
        choice: str,
        weights: dict[str, float],
        conformal: Conformal,
        validation: dict[str, float],
    ) -> SelectedForecaster:
        members: dict[str, Forecaster] = {lstm.name: lstm, **{b.name: b for b in baselines}}
        lspec = lstm.metadata
        spec = {
            "kind": cls.kind,
            "feed": lstm.feed,
            "name": f"selected-{lstm.feed}",
            "selected": choice,
            "weights": weights,
            "conformal": conformal.to_dict(),
            "validation_mase": validation,
            "lstm": lspec,
            "baselines": {b.name: baseline_spec(b) for b in baselines},
            "unit": lspec.get("unit"),
            "decimals": lspec.get("decimals"),
            "dataset": lspec.get("dataset"),
            "horizon": HORIZON,
            "quantiles": [0.1, 0.5, 0.9],
        }
        return cls(members, choice, weights, conformal, lstm.feed, spec)

    @classmethod
    def from_artifact(
        cls, weights: bytes, spec: dict[str, Any], model_hash: str
    ) -> SelectedForecaster:
        lstm = LSTMForecaster.from_artifact(
            weights, spec["lstm"], artifact_hash(weights, spec["lstm"])
        )
        members: dict[str, Forecaster] = {lstm.name: lstm}
        for name, b in spec["baselines"].items():
            members[name] = baseline_from_spec(b)
        return cls(
            members,
            spec["selected"],
            {k: float(v) for k, v in spec["weights"].items()},
            Conformal.from_dict(spec["conformal"]),
            spec["feed"],
            spec,
            model_hash,
        )

    def median(self, history: History) -> np.ndarray:
        """The chosen candidate's p50 [HORIZON]: one member's, or the weighted sum."""
        if self.choice != ENSEMBLE:
            return self.members[self.choice].predict_curve(history).p50
        total = np.zeros(self.horizon)
        for name, w in self.weights.items():
            if w:
                total += w * self.members[name].predict_curve(history).p50
        return total

    def forecast(self, history: History) -> np.ndarray:
        hours = history.target_index.hour.to_numpy()
        return self.conformal.band(self.median(history), hours, history.nonnegative)


BASELINES: tuple[type[Forecaster], ...] = (
    SeasonalNaiveForecaster,
    MSTLForecaster,
    AutoETSForecaster,
)
