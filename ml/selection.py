"""Per feed, choose on the validation window only among the LSTM, the baselines and their
validation-weighted ensemble; give the choice a split-conformal p10-p90 band fitted there too;
and judge the whole procedure over rolling-origin folds.

Selection: each candidate's day-ahead medians at the validation window's daily origins are scored
by MASE (the in-sample lag-24 naive scale of the fold's history); the lowest wins, so on
validation the chosen model is never worse than any baseline. The ensemble weighs every member's
median by 1 / (validation MAE)², renormalised. Every candidate gets its own
:class:`~ml.forecaster.Conformal` band from the same validation residuals.

Rolling origin: the last ``n_folds`` windows of ``test_days`` whole days (30 for a year or more
of data, shorter for short series, see :meth:`ml.config.ModelConfig.for_length`) are the test
folds; each fold trains the LSTM on what precedes its validation window, selects and calibrates
on that validation window, and is scored on its test days only. A fold is kept only when at
least two weeks of training targets precede its validation window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from ml import metrics
from ml.config import MIN_TRAIN_DAYS, ModelConfig
from ml.evaluation import forecast_origins
from ml.forecaster import (
    BASELINES,
    ENSEMBLE,
    Conformal,
    Forecaster,
    LSTMForecaster,
    SelectedForecaster,
    local_volatility,
)
from ml.history import HORIZON, impute_inputs
from ml.hybrid import HYBRID, SeasonalProfile, series_envelope
from ml.series import FeedSeries
from ml.splits import Split

# Number codes of the selected model in benchmarks/results/ml.json (selected_model_<series>).
CODES = {"LSTM": 0, "SeasonalNaive": 1, "MSTL": 2, "AutoETS": 3, ENSEMBLE: 4, HYBRID: 5}
# Candidates that are not baselines (the target compares these against the best baseline).
LEARNED = ("LSTM", HYBRID, ENSEMBLE)
SELECTED = "Selected"


def short(name: str) -> str:
    return name.split("(")[0]


def daily_origins(start: int, stop: int) -> np.ndarray:
    """Origins every 24 h from ``start`` whose 24-h target lies before ``stop``."""
    return np.arange(start, stop - HORIZON + 1, HORIZON)


def default_baselines() -> list[Forecaster]:
    return [b() for b in BASELINES]


@dataclass(frozen=True)
class Window:
    """Truths and every candidate's medians at a set of day-ahead origins ([n, HORIZON] each)."""

    origins: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    hours: np.ndarray
    p50: dict[str, np.ndarray]
    vol: np.ndarray | None = None  # local volatility at each origin (ml.forecaster)


# Medians of the refit-per-origin baselines, by (name, origin): they see only the history
# before each origin, so a fold's validation window (the previous fold's test window) reuses them.
BaselineCache = dict[tuple[str, int], np.ndarray]


def window(
    series: FeedSeries,
    origins: np.ndarray,
    members: Sequence[Forecaster],
    cache: BaselineCache | None = None,
) -> Window:
    y = sliding_window_view(series.target, HORIZON)[origins]
    mask = sliding_window_view(series.mask, HORIZON)[origins]
    steps = origins[:, None] + np.arange(HORIZON)[None, :]
    hours = series.index.hour.to_numpy()[steps]
    p50 = {}
    for m in members:
        if cache is None or isinstance(m, LSTMForecaster):
            med = forecast_origins(m, series, origins)[:, 1, :]
        else:
            todo = np.array([o for o in origins if (m.name, int(o)) not in cache], dtype=np.int64)
            if len(todo):
                for o, row in zip(todo, forecast_origins(m, series, todo)[:, 1, :], strict=True):
                    cache[(m.name, int(o))] = row
            med = np.stack([cache[(m.name, int(o))] for o in origins])
        p50[m.name] = np.maximum(med, 0.0) if series.nonnegative else med
    vol = local_volatility(impute_inputs(series.target, series.mask), origins)
    return Window(origins, np.where(mask, y, 0.0), mask, hours, p50, vol)


def ensemble_weights(val: Window) -> dict[str, float]:
    inv = {}
    for name, p in val.p50.items():
        mae = metrics.mae(val.y, p, val.mask)
        inv[name] = 1.0 / max(mae, 1e-12) ** 2
    total = sum(inv.values())
    return {k: v / total for k, v in inv.items()}


def with_ensemble(p50: dict[str, np.ndarray], weights: dict[str, float]) -> dict[str, np.ndarray]:
    ens = sum(w * p50[name] for name, w in weights.items())
    return {**p50, ENSEMBLE: np.asarray(ens)}


@dataclass(frozen=True)
class Selection:
    choice: str
    weights: dict[str, float]
    val_mase: dict[str, float]
    conformal: dict[str, Conformal]  # each candidate's band
    # The band of the choice, fitted on residuals the choice and its weights never saw.
    selected_conformal: Conformal


def _rows(val: Window, rows: np.ndarray) -> Window:
    vol = val.vol[rows] if val.vol is not None else None
    p50 = {k: p[rows] for k, p in val.p50.items()}
    return Window(val.origins[rows], val.y[rows], val.mask[rows], val.hours[rows], p50, vol)


def _choose(val: Window, scale: float) -> tuple[str, dict[str, float], dict[str, float]]:
    weights = ensemble_weights(val)
    medians = with_ensemble(val.p50, weights)
    val_mase = {k: metrics.mase(val.y, p, val.mask, scale) for k, p in medians.items()}
    return min(val_mase, key=lambda k: val_mase[k]), weights, val_mase


def select(val: Window, scale: float) -> Selection:
    """The candidate with the lowest validation MASE (ties go to the earlier one: the LSTM).

    Bands: a candidate's residuals on the very days that picked it (and fitted the ensemble's
    weights) are smaller than its residuals on new days, so a band fitted on them under-covers
    (the choice held 72-74 % of test truths). The band of the ensemble and of the choice are
    therefore fitted on cross-fitted residuals: the validation days are split into alternate
    days, and each half's residuals come from the choice (and weights) made on the other half,
    so they are the residuals of the whole procedure on days it did not look at."""
    choice, weights, val_mase = _choose(val, scale)
    medians = with_ensemble(val.p50, weights)
    conformal = {
        k: Conformal.fit(val.y, p, val.mask, val.hours, val.vol) for k, p in medians.items()
    }
    selected = conformal[choice]
    n = len(val.origins)
    even = np.arange(n) % 2 == 0
    if n >= 4:
        ens_cf, sel_cf = np.zeros_like(val.y), np.zeros_like(val.y)
        for fit_rows, out_rows in ((even, ~even), (~even, even)):
            c, w, _ = _choose(_rows(val, fit_rows), scale)
            applied = with_ensemble({k: p[out_rows] for k, p in val.p50.items()}, w)
            ens_cf[out_rows], sel_cf[out_rows] = applied[ENSEMBLE], applied[c]
        conformal[ENSEMBLE] = Conformal.fit(val.y, ens_cf, val.mask, val.hours, val.vol)
        selected = Conformal.fit(val.y, sel_cf, val.mask, val.hours, val.vol)
    return Selection(choice, weights, val_mase, conformal, selected)


@dataclass(frozen=True)
class Score:
    """One candidate on one test window (or pooled: ``n``-weighted means over folds)."""

    name: str
    mae: float
    mase: float
    pinball: float
    coverage: float
    n: int  # measured target hours

    def row(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "mae": self.mae,
            "mase": self.mase,
            "pinball": self.pinball,
            "coverage_p10_p90": self.coverage,
            "hours": self.n,
        }


@dataclass
class FoldResult:
    fold: int
    test_start: pd.Timestamp
    test_end: pd.Timestamp
    train_days: float
    selected: str
    val_mase: dict[str, float]
    scores: dict[str, Score]  # every candidate, plus SELECTED
    err_by_horizon: dict[str, np.ndarray]  # sum of |error| per horizon step [HORIZON]
    n_by_horizon: np.ndarray  # measured hours per horizon step [HORIZON]
    test: Window
    q_selected: np.ndarray  # [n, 3, HORIZON]
    epochs: int = 0
    train_seconds: float = 0.0

    def row(self) -> dict[str, Any]:
        return {
            "fold": self.fold,
            "test_start": str(self.test_start),
            "test_end": str(self.test_end),
            "train_days": self.train_days,
            "selected": self.selected,
            "validation_mase": self.val_mase,
            "epochs": self.epochs,
            "train_seconds": round(self.train_seconds, 2),
            "scores": {k: s.row() for k, s in self.scores.items()},
        }


def fit_selected(
    series: FeedSeries,
    split: Split,
    config: ModelConfig,
    baselines: Sequence[Forecaster] | None = None,
    device: str | None = None,
    on_epoch: Callable[[Any], None] | None = None,
    warm: SelectedForecaster | None = None,
    cache: BaselineCache | None = None,
) -> tuple[SelectedForecaster, Selection, float, Any]:
    """Train the LSTM and the hybrid (an LSTM on what remains after MSTL's seasonal profile of
    the training rows) on the split and choose on its validation window: (the selected
    forecaster, the selection, the MASE scale of the split's history, the LSTM's train
    result). ``warm``: a forecaster trained on earlier data whose nets start this training."""
    from ml.training import train

    bases = list(baselines) if baselines is not None else default_baselines()
    init = warm.lstm.net.state_dict() if warm is not None else None
    env = series_envelope(series)
    result = train(
        series,
        config,
        on_epoch=on_epoch,
        device=device,
        split=split,
        init_state=init,
        envelope=env,
    )
    lstm = LSTMForecaster.from_training(result, series, envelope=env is not None)
    members: list[Forecaster] = [lstm]
    hybrid = None
    if config.hybrid:
        profile = SeasonalProfile.fit(series, split.val_start)
        h_init = warm.hybrid.net.state_dict() if warm is not None and warm.hybrid else None
        h_result = train(
            series,
            config,
            device=device,
            split=split,
            offset=profile.series(series),
            init_state=h_init,
        )
        hybrid = LSTMForecaster.from_training(h_result, series, seasonal=profile)
        members.append(hybrid)
        result.train_seconds += h_result.train_seconds
    hist = slice(split.train_start, split.test_start)
    scale = metrics.naive_scale(series.target[hist], series.mask[hist], HORIZON)
    val_origins = daily_origins(split.val_start, split.test_start)
    val = window(series, val_origins, [*members, *bases], cache)
    sel = select(val, scale)
    fc = SelectedForecaster.build(
        lstm, bases, sel.choice, sel.weights, sel.selected_conformal, sel.val_mase, hybrid
    )
    return fc, sel, scale, result


def score_window(
    series: FeedSeries, test: Window, sel: Selection, scale: float
) -> tuple[dict[str, Score], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores of every candidate (with its own conformal band) on a test window, the sums of
    absolute error per horizon step, and the quantiles [n, 3, HORIZON] of every candidate."""
    medians = with_ensemble(test.p50, sel.weights)
    scores, errs, quantiles = {}, {}, {}
    n = int(test.mask.sum())
    for name, p in medians.items():
        q = sel.conformal[name].band(p, test.hours, series.nonnegative, test.vol)
        scores[name] = Score(
            name,
            metrics.mae(test.y, p, test.mask),
            metrics.mase(test.y, p, test.mask, scale),
            metrics.pinball(test.y, q, test.mask),
            metrics.coverage(test.y, q, test.mask),
            n,
        )
        errs[name] = np.where(test.mask, np.abs(test.y - p), 0.0).sum(axis=0)
        quantiles[name] = q
    q = sel.selected_conformal.band(medians[sel.choice], test.hours, series.nonnegative, test.vol)
    scores[SELECTED] = replace(
        scores[sel.choice],
        name=SELECTED,
        pinball=metrics.pinball(test.y, q, test.mask),
        coverage=metrics.coverage(test.y, q, test.mask),
    )
    errs[SELECTED] = errs[sel.choice]
    quantiles[SELECTED] = q
    return scores, errs, quantiles


def rolling_splits(series: FeedSeries, config: ModelConfig, n_folds: int = 12) -> list[Split]:
    """Up to ``n_folds`` consecutive test windows of ``config.test_days`` ending at the last whole
    day, oldest first; each with its own validation and training windows before it."""
    end = len(series) - len(series) % HORIZON
    fold = config.test_days * HORIZON
    lookback = config.lookback_days * HORIZON
    splits = []
    for k in range(n_folds):
        test_end = end - k * fold
        test_start = test_end - fold
        val_start = test_start - config.val_days * HORIZON
        train_start = max(0, val_start - config.train_days * HORIZON)
        if val_start - max(train_start, lookback) < MIN_TRAIN_DAYS * HORIZON:
            break
        splits.append(Split(train_start, val_start, test_start, test_end))
    return splits[::-1]


@dataclass
class RollingReport:
    series: str
    unit: str
    folds: list[FoldResult] = field(default_factory=list)
    last_model: SelectedForecaster | None = None  # the newest fold's selected forecaster
    device: str = "cpu"

    def pooled(self) -> dict[str, Score]:
        """Per candidate (and SELECTED): hour-weighted means of the fold scores."""
        out = {}
        for name in self.folds[0].scores:
            rows = [f.scores[name] for f in self.folds]
            n = sum(r.n for r in rows)

            def mean(attr: str, rows: list[Score] = rows, n: int = n) -> float:
                return float(sum(getattr(r, attr) * r.n for r in rows) / max(n, 1))

            out[name] = Score(name, mean("mae"), mean("mase"), mean("pinball"), mean("coverage"), n)
        return out

    def mae_by_horizon(self) -> dict[str, np.ndarray]:
        n = sum(f.n_by_horizon for f in self.folds)
        names = self.folds[0].err_by_horizon
        return {k: sum(f.err_by_horizon[k] for f in self.folds) / np.maximum(n, 1) for k in names}

    def summary(self) -> dict[str, Any]:
        pooled = self.pooled()
        baselines = [s for k, s in pooled.items() if short(k) not in (*LEARNED, SELECTED)]
        best = min(baselines, key=lambda s: s.mase)
        last = self.folds[-1].selected
        counts: dict[str, int] = {}
        for f in self.folds:
            counts[short(f.selected)] = counts.get(short(f.selected), 0) + 1
        return {
            "folds": len(self.folds),
            "mase_selected": pooled[SELECTED].mase,
            "mase_lstm": pooled["LSTM"].mase,
            "mase_ensemble": pooled[ENSEMBLE].mase,
            "mase_hybrid": pooled[HYBRID].mase if HYBRID in pooled else float("nan"),
            "best_baseline": best.name,
            "mase_best_baseline": best.mase,
            "coverage_selected": pooled[SELECTED].coverage,
            "coverage_lstm": pooled["LSTM"].coverage,
            "selected_model": short(last),
            "selected_model_code": CODES[short(last)],
            "selection_counts": counts,
            "lstm_vs_best_baseline": pooled["LSTM"].mase / best.mase,
            "learned_vs_best_baseline": min(pooled[k].mase for k in ("LSTM", HYBRID) if k in pooled)
            / best.mase,
            "selected_vs_best_baseline": pooled[SELECTED].mase / best.mase,
            "target_coverage_met": 0.75 <= pooled[SELECTED].coverage <= 0.85,
        }


def rolling_evaluation(
    series: FeedSeries,
    config: ModelConfig,
    n_folds: int = 12,
    baselines: Sequence[Forecaster] | None = None,
    device: str | None = None,
    on_fold: Callable[[FoldResult], None] | None = None,
    on_epoch: Callable[[Any], None] | None = None,
) -> RollingReport:
    """Train, select and calibrate per fold on what precedes its test days; score the test."""
    from ml.errors import NonRetryableError

    splits = rolling_splits(series, config, n_folds)
    if not splits:
        raise NonRetryableError(
            f"{series.name!r} is too short for one fold of {config.test_days} test days "
            f"(needs {config.min_days()} whole days)"
        )
    bases = list(baselines) if baselines is not None else default_baselines()
    report = RollingReport(series.name, series.unit)
    cache: BaselineCache = {}
    for i, split in enumerate(splits, start=1):
        # Each fold's nets start from the previous fold's (trained on strictly earlier data).
        fc, sel, scale, result = fit_selected(
            series, split, config, bases, device, on_epoch, report.last_model, cache
        )
        test = window(series, split.test_origins(HORIZON), list(fc.members.values()), cache)
        scores, errs, quantiles = score_window(series, test, sel, scale)
        fold = FoldResult(
            fold=i,
            test_start=series.index[split.test_start],
            test_end=series.index[split.end - 1],
            train_days=(split.val_start - max(split.train_start, 0)) / HORIZON,
            selected=sel.choice,
            val_mase=sel.val_mase,
            scores=scores,
            err_by_horizon=errs,
            n_by_horizon=test.mask.sum(axis=0),
            test=test,
            q_selected=quantiles[SELECTED],
            epochs=len(result.history),
            train_seconds=result.train_seconds,
        )
        report.folds.append(fold)
        report.last_model, report.device = fc, result.device
        if on_fold:
            on_fold(fold)
    return report
