"""Rolling-origin backtest over the held-out test window: 24-h-ahead curves from each midnight,
scored with MAE, MASE (scaled by the in-sample lag-24 naive), pinball loss and p10-p90 coverage."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ml import metrics
from ml.datasets import FeedSeries
from ml.forecaster import Forecaster, LSTMForecaster
from ml.history import HORIZON, History
from ml.splits import Split


@dataclass(frozen=True)
class ModelScore:
    name: str
    model_hash: str
    mae: float
    mase: float
    pinball: float
    coverage: float
    quantiles: np.ndarray  # [n_origins, 3, HORIZON]

    def row(self) -> dict[str, Any]:
        return {
            "model": self.name,
            "model_hash": self.model_hash,
            "mae": self.mae,
            "mase": self.mase,
            "pinball": self.pinball,
            "coverage_p10_p90": self.coverage,
        }


def forecast_origins(fc: Forecaster, series: FeedSeries, origins: np.ndarray) -> np.ndarray:
    histories = [History.at(series, int(o)) for o in origins]
    if isinstance(fc, LSTMForecaster):
        return fc.forecast_many(histories)
    return np.stack([fc.predict_curve(h).stacked() for h in histories])


def backtest(
    series: FeedSeries,
    split: Split,
    forecasters: Sequence[Forecaster],
    on_model: Callable[[str], None] | None = None,
) -> tuple[list[ModelScore], np.ndarray, np.ndarray, np.ndarray]:
    """Scores per forecaster, plus the origins, truths [n, 24] and masks [n, 24]."""
    origins = split.test_origins(HORIZON)
    y = sliding_window_view(series.target, HORIZON)[origins]
    mask = sliding_window_view(series.mask, HORIZON)[origins]
    y = np.where(mask, y, 0.0)
    hist = slice(split.train_start, split.test_start)
    scale = metrics.naive_scale(series.target[hist], series.mask[hist], HORIZON)
    scores = []
    for fc in forecasters:
        if on_model:
            on_model(fc.name)
        q = forecast_origins(fc, series, origins)
        if series.nonnegative:
            q = np.maximum(q, 0.0)
        scores.append(
            ModelScore(
                name=fc.name,
                model_hash=fc.model_hash,
                mae=metrics.mae(y, q[:, 1, :], mask),
                mase=metrics.mase(y, q[:, 1, :], mask, scale),
                pinball=metrics.pinball(y, q, mask),
                coverage=metrics.coverage(y, q, mask),
                quantiles=q,
            )
        )
    return scores, origins, y, mask


def summarize(scores: Sequence[ModelScore], lstm_name: str = "LSTM") -> dict[str, Any]:
    lstm = next(s for s in scores if s.name == lstm_name)
    baselines = [s for s in scores if s.name != lstm_name]
    best = min(baselines, key=lambda s: s.mase)
    gain = 1.0 - lstm.mase / best.mase
    return {
        "mase_lstm": lstm.mase,
        "best_baseline": best.name,
        "mase_best_baseline": best.mase,
        "mase_improvement": gain,
        "coverage_lstm": lstm.coverage,
        "target_mase_met": gain >= 0.10,
        "target_coverage_met": 0.75 <= lstm.coverage <= 0.85,
    }


def write_report(
    series: FeedSeries,
    split: Split,
    scores: Sequence[ModelScore],
    origins: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    out_dir: Path,
) -> tuple[Path, Path]:
    """JSON report and a PNG of the last week: actual vs LSTM p50 with its p10-p90 band."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    report = {
        "feed": series.name,
        "unit": series.unit,
        "dataset_sha256": series.content_hash,
        "test_window": [
            str(series.index[split.test_start]),
            str(series.index[split.end - 1]),
        ],
        "origins": len(origins),
        "horizon_hours": HORIZON,
        "models": [s.row() for s in scores],
        "summary": summarize(scores),
    }
    json_path = out_dir / f"ml_eval_{series.name}.json"
    json_path.write_text(json.dumps(report, indent=2))

    days = min(7, len(origins))
    sel = slice(len(origins) - days, len(origins))
    hours = np.concatenate([series.index[o : o + HORIZON].to_numpy() for o in origins[sel]])
    actual = np.where(mask[sel], y[sel], np.nan).ravel()
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.plot(hours, actual, color="black", lw=1.4, label="actual")
    lstm = next(s for s in scores if s.name == "LSTM")
    q = lstm.quantiles[sel]
    ax.fill_between(
        hours,
        q[:, 0, :].ravel(),
        q[:, 2, :].ravel(),
        color="tab:blue",
        alpha=0.25,
        label="LSTM p10-p90",
    )
    ax.plot(hours, q[:, 1, :].ravel(), color="tab:blue", lw=1.2, label="LSTM p50")
    best = min((s for s in scores if s.name != "LSTM"), key=lambda s: s.mase)
    ax.plot(
        hours,
        best.quantiles[sel][:, 1, :].ravel(),
        color="tab:orange",
        lw=1,
        ls="--",
        label=f"{best.name} p50",
    )
    ax.set_title(f"{series.name}: day-ahead forecasts, last {days} days of the test window")
    ax.set_ylabel(series.unit)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    png_path = out_dir / f"ml_eval_{series.name}.png"
    fig.savefig(png_path, dpi=110)
    plt.close(fig)
    return json_path, png_path
