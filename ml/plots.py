"""PNG figures of a rolling evaluation: the selected model's band against the actual over the
last test fold, and the mean absolute error by horizon step pooled over every fold."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ml.history import HORIZON
from ml.selection import ENSEMBLE, SELECTED, RollingReport, short
from ml.series import FeedSeries


def _pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def band_png(series: FeedSeries, report: RollingReport, path: Path) -> Path:
    """Actual vs the selected p50 and its p10-p90 band over the last fold's test window."""
    plt = _pyplot()
    fold = report.folds[-1]
    test = fold.test
    hours = np.concatenate([series.index[o : o + HORIZON].to_numpy() for o in test.origins])
    actual = np.where(test.mask, test.y, np.nan).ravel()
    q = fold.q_selected
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.fill_between(
        hours,
        q[:, 0, :].ravel(),
        q[:, 2, :].ravel(),
        color="tab:blue",
        alpha=0.25,
        label="p10-p90 (conformal)",
    )
    ax.plot(hours, q[:, 1, :].ravel(), color="tab:blue", lw=1.1, label=f"{fold.selected} p50")
    ax.plot(hours, actual, color="black", lw=1.0, label="actual")
    cov = fold.scores[SELECTED].coverage
    ax.set_title(
        f"{series.name}: fold {fold.fold} test window {fold.test_start:%Y-%m-%d} to "
        f"{fold.test_end:%Y-%m-%d}, selected {short(fold.selected)}, coverage {cov:.2f}"
    )
    ax.set_ylabel(series.unit)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def horizon_png(report: RollingReport, path: Path) -> Path:
    """Pooled MAE per horizon step (hours ahead) for the selected model, the LSTM, the ensemble
    and the best baseline."""
    plt = _pyplot()
    by_h = report.mae_by_horizon()
    summary = report.summary()
    names = [SELECTED, "LSTM", ENSEMBLE, summary["best_baseline"]]
    fig, ax = plt.subplots(figsize=(8, 4))
    steps = np.arange(1, HORIZON + 1)
    for name in dict.fromkeys(names):
        style = {"color": "black", "ls": "--", "lw": 2, "zorder": 3} if name == SELECTED else {}
        ax.plot(steps, by_h[name], marker="o", ms=3, label=name, **style)
    ax.set_xlabel("hours ahead")
    ax.set_ylabel(f"MAE ({report.unit})")
    ax.set_title(f"{report.series}: error by horizon over {len(report.folds)} test folds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
