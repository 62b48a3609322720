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
from ml.hybrid import ENVELOPE_COLUMN, ENVELOPE_FLOOR, HYBRID, SeasonalProfile, envelope_of

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
    # The hybrid: the net forecasts what remains after this profile, which is added back.
    seasonal: SeasonalProfile | None = None
    # Solar: the net forecasts the ratio of the target to the clear-sky envelope (ml.hybrid).
    envelope: bool = False

    @classmethod
    def from_training(
        cls,
        result: TrainResult,
        series: FeedSeries,
        seasonal: SeasonalProfile | None = None,
        envelope: bool = False,
    ) -> LSTMForecaster:
        """Wrap a finished training run; its spec metadata is what the model hash covers.
        ``seasonal``: the profile the run was trained on the remainder of (the hybrid)."""
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
        if seasonal is not None:
            spec["name"] = f"hybrid-{series.name}"
            spec["seasonal"] = seasonal.to_dict()
        if envelope:
            spec["envelope"] = {"column": ENVELOPE_COLUMN, "floor": ENVELOPE_FLOOR}
        return cls(
            net=result.net,
            config=result.config,
            scaler=result.scaler,
            calibration=result.calibration,
            feed=series.name,
            exog_names=tuple(series.exog.columns),
            metadata=spec,
            name=HYBRID if seasonal is not None else "LSTM",
            seasonal=seasonal,
            envelope=envelope,
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
        seasonal = SeasonalProfile.from_dict(spec["seasonal"]) if "seasonal" in spec else None
        return cls(
            net=net,
            config=config,
            scaler=Scaler.from_dict(spec["scaler"]),
            calibration=dict(spec["calibration"]),
            feed=spec["feed"],
            exog_names=exog_names,
            metadata=spec,
            hash_=model_hash,
            name=HYBRID if seasonal is not None else "LSTM",
            seasonal=seasonal,
            envelope="envelope" in spec,
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
        pasts, futures, offsets, envelopes = [], [], [], []
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
            off, env = np.zeros(len(y)), np.ones(len(y))
            if self.seasonal is not None:
                off = self.seasonal.at(index)
            if self.envelope:
                found = envelope_of(exog, self.exog_names)
                if found is None:
                    raise HistoryError(f"the model needs the {ENVELOPE_COLUMN} covariate")
                env = found
            y = (y - off) / env
            offsets.append(off[-HORIZON:])
            envelopes.append(env[-HORIZON:])
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
        if offsets:
            q = q * np.stack(envelopes)[:, None, :] + np.stack(offsets)[:, None, :]
        nonneg = bool(histories[0].nonnegative) if histories else True
        return apply_calibration(q, self.calibration, nonneg)


@dataclass(frozen=True)
class Conformal:
    """Split-conformal p10/p90 around any median, fitted on validation residuals.

    Residuals ``y - p50`` are divided by their mean absolute size at the target's hour of day
    (``scale``, 24 values: solar's nights get a zero-width band, its noons a wide one); ``lo`` and
    ``hi`` are order statistics of those normalised residuals, so the band
    ``p50 + scale[hour] * (lo, hi)`` leaves ~10 % of new truths below and ~10 % above it.

    Two things keep the band from under-covering new data (it held 72-74 % of test truths when
    both were missing): the score of each residual is normalised by its hour's scale computed
    *without the residual's own day* (leave one day out), because a new day's error is not part
    of the scale it is divided by either (an in-sample scale shrinks every score towards 1 and
    the band with it); and the bounds are the finite-sample conformal ranks ``ceil((n+1)(1-a))``
    of the ``n`` scores, not plain empirical quantiles."""

    scale: tuple[float, ...]
    lo: float
    hi: float
    # Days of history behind the local volatility each band is also scaled by (0: none, as in
    # bands stored before it existed).
    local_days: int = 0

    TAIL = 0.1  # each side: p10 and p90

    @classmethod
    def fit(
        cls,
        y: np.ndarray,
        p50: np.ndarray,
        mask: np.ndarray,
        hours: np.ndarray,
        vol: np.ndarray | None = None,
    ) -> Conformal:
        """``y``, ``p50``, ``mask``, ``hours``: [n_days, HORIZON] (hours: of each target);
        ``vol`` [n_days]: :func:`local_volatility` at each origin (None: no local scaling)."""
        if vol is not None:
            y, p50 = y / vol[:, None], p50 / vol[:, None]
        err = np.where(mask, np.abs(y - p50), 0.0)
        overall = float(err.sum() / max(mask.sum(), 1))
        # Per hour of day: sums and counts over days, to take each day out of its own scale.
        sums = np.zeros(24)
        counts = np.zeros(24)
        np.add.at(sums, hours[mask], err[mask])
        np.add.at(counts, hours[mask], 1.0)
        scale = np.where(counts > 0, sums / np.maximum(counts, 1), overall)
        h = hours[mask]
        e = err[mask]
        r = (y - p50)[mask]
        loo_n = counts[h] - 1
        loo = np.where(loo_n > 0, (sums[h] - e) / np.maximum(loo_n, 1), overall)
        keep = loo > 1e-9 * max(overall, 1e-12)
        z = np.sort(r[keep] / loo[keep]) if keep.any() else np.zeros(1)
        n = len(z)
        # Finite-sample ranks (1-based): the band then holds >= 1 - 2 * TAIL of exchangeable
        # new points; with fewer than 1 / TAIL scores the extreme score is the best available.
        k_hi = min(n, int(np.ceil((n + 1) * (1 - cls.TAIL))))
        k_lo = max(1, int(np.floor((n + 1) * cls.TAIL)))
        local = LOCAL_DAYS if vol is not None else 0
        lo, hi = float(z[k_lo - 1]), float(z[k_hi - 1])
        return cls(tuple(float(v) for v in scale), lo, hi, local)

    def band(
        self,
        p50: np.ndarray,
        hours: np.ndarray,
        nonnegative: bool,
        vol: np.ndarray | float | None = None,
    ) -> np.ndarray:
        """[..., 3, HORIZON] p10/p50/p90 from a median [..., HORIZON]; ``vol`` [...]: the local
        volatility at each origin when the band was fitted with one."""
        s = np.asarray(self.scale)[hours]
        if self.local_days and vol is not None:
            s = s * np.asarray(vol, dtype="float64")[..., None]
        q = np.stack([p50 + s * self.lo, p50, p50 + s * self.hi], axis=-2)
        return np.maximum(q, 0.0) if nonnegative else q

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scale": list(self.scale), "lo": self.lo, "hi": self.hi}
        if self.local_days:
            out["local_days"] = self.local_days
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conformal:
        return cls(
            tuple(float(v) for v in data["scale"]),
            float(data["lo"]),
            float(data["hi"]),
            int(data.get("local_days", 0)),
        )


# The band also scales with how much the series moved lately: the mean |y(t) - y(t - 24 h)|
# over the last LOCAL_DAYS days before the origin (from the history alone, no model run).
# Calibrated on one validation month and applied to the next, a band of fixed width
# under-covered whenever the test month was more volatile than the validation month (an
# honest baseline such as MSTL held 68 % on demand's October); the score r / volatility
# carries over between months better than r itself.
LOCAL_DAYS = 7


def local_volatility(filled: np.ndarray, origins: np.ndarray) -> np.ndarray:
    """For each origin row, the mean |y(t) - y(t - 24)| over the LOCAL_DAYS days before it
    (``filled``: the input-imputed series); floored so that a flat week never gives zero."""
    d = np.abs(filled[HORIZON:] - filled[:-HORIZON])  # d[j] belongs to row j + 24
    c = np.concatenate([[0.0], np.cumsum(d)])  # c[i]: sum of d[:i]
    hi = np.clip(np.asarray(origins, dtype=np.int64) - HORIZON, 0, len(d))
    lo = np.maximum(hi - LOCAL_DAYS * HORIZON, 0)
    recent = (c[hi] - c[lo]) / np.maximum(hi - lo, 1)
    longer = c[hi] / np.maximum(hi, 1)  # all the history before the origin
    return np.maximum(recent, 1e-3 * np.maximum(longer, 1e-12))


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
        fc = next(
            m for m in self.members.values() if isinstance(m, LSTMForecaster) and not m.seasonal
        )
        return fc

    @property
    def hybrid(self) -> LSTMForecaster | None:
        m = self.members.get(HYBRID)
        return m if isinstance(m, LSTMForecaster) else None

    def artifact_parts(self) -> tuple[bytes, dict[str, Any]]:
        # The hybrid's weights follow the LSTM's; the spec records where they start.
        hybrid = weights_bytes(self.hybrid.net) if self.hybrid is not None else b""
        return weights_bytes(self.lstm.net) + hybrid, self.metadata

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
        hybrid: LSTMForecaster | None = None,
    ) -> SelectedForecaster:
        members: dict[str, Forecaster] = {lstm.name: lstm}
        if hybrid is not None:
            members[hybrid.name] = hybrid
        members.update({b.name: b for b in baselines})
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
        if hybrid is not None:
            spec["hybrid"] = hybrid.metadata
            spec["lstm_weights_bytes"] = len(weights_bytes(lstm.net))
        return cls(members, choice, weights, conformal, lstm.feed, spec)

    @classmethod
    def from_artifact(
        cls, weights: bytes, spec: dict[str, Any], model_hash: str
    ) -> SelectedForecaster:
        cut = int(spec.get("lstm_weights_bytes", len(weights)))
        lw, hw = weights[:cut], weights[cut:]
        lstm = LSTMForecaster.from_artifact(lw, spec["lstm"], artifact_hash(lw, spec["lstm"]))
        members: dict[str, Forecaster] = {lstm.name: lstm}
        if "hybrid" in spec:
            hspec = spec["hybrid"]
            hyb = LSTMForecaster.from_artifact(hw, hspec, artifact_hash(hw, hspec))
            members[hyb.name] = hyb
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
        vol = None
        if self.conformal.local_days:
            filled = history.filled()
            vol = float(local_volatility(filled, np.array([len(filled)]))[0])
        return self.conformal.band(self.median(history), hours, history.nonnegative, vol)


BASELINES: tuple[type[Forecaster], ...] = (
    SeasonalNaiveForecaster,
    MSTLForecaster,
    AutoETSForecaster,
)
