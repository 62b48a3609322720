"""ML benchmark: CPU training time on one year of hourly data, inference latency per 24-h curve,
and the held-out evaluation table (LSTM vs statsforecast baselines) for both feeds.

Run: ``.venv/bin/python benchmarks/ml.py`` -> prints figures, writes benchmarks/results/ml.json.
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


def main() -> None:

    import argparse

    from gridcast.settings import get_settings
    from ml.config import ModelConfig
    from ml.datasets import load_feed
    from ml.evaluation import backtest, summarize, write_report
    from ml.forecaster import BASELINES, LSTMForecaster
    from ml.registry import save_model
    from ml.training import train

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "feeds", nargs="*", default=["demand", "solar"],
        help="feeds to run (default both); one feed updates only its keys in the results file",
    )  # fmt: skip
    feeds = parser.parse_args().feeds
    out: dict[str, float] = {}
    for feed in feeds:
        series = load_feed(feed)
        t0 = time.perf_counter()
        result = train(
            series,
            ModelConfig.for_feed(feed),
            device="cpu",
            on_epoch=lambda r, f=feed: print(
                f"  {f} epoch {r.epoch:2d} loss {r.train_loss:.4f} val {r.val_loss:.4f} "
                f"{r.elapsed_s:.0f}s",
                flush=True,
            ),
        )
        train_s = time.perf_counter() - t0
        fc = LSTMForecaster.from_training(result, series)
        days = (result.split.val_start - result.split.train_start) / 24
        print(
            f"{feed}: trained on {days:.0f} days in {train_s:.1f}s "
            f"(best epoch {result.best_epoch}/{len(result.history)})",
            flush=True,
        )
        out[f"train_s_cpu_{feed}"] = round(train_s, 2)
        if feed == "demand":
            out["train_s_cpu"] = round(train_s, 2)  # one year (2014) of hourly data
        out[f"train_days_{feed}"] = days
        out[f"epochs_{feed}"] = len(result.history)
        scores, origins, y, mask = backtest(series, result.split, [fc] + [b() for b in BASELINES])
        write_report(
            series, result.split, scores, origins, y, mask, get_settings().state_dir / "reports"
        )
        summary = summarize(scores)
        h = save_model(fc, info={"evaluation": summary}, register=False)
        print(f"{feed}: model {h}")
        for s in scores:
            print(
                f"  {s.name:18s} MAE {s.mae:10.4g}  MASE {s.mase:.3f}  pinball {s.pinball:.4g}"
                f"  coverage {s.coverage:.3f}"
            )
            key = s.name.split("(")[0].lower()
            out[f"mase_{key}_{feed}"] = round(s.mase, 4)
            out[f"coverage_{key}_{feed}"] = round(s.coverage, 4)
        out[f"mase_lstm_{feed}"] = round(summary["mase_lstm"], 4)
        out[f"mase_best_baseline_{feed}"] = round(summary["mase_best_baseline"], 4)
        out[f"mase_improvement_{feed}"] = round(summary["mase_improvement"], 4)
        out[f"coverage_{feed}"] = round(summary["coverage_lstm"], 4)
        print(
            f"{feed}: LSTM vs best baseline ({summary['best_baseline']}): "
            f"{summary['mase_improvement']:+.1%}",
            flush=True,
        )
        if feed == "demand":
            out.update(latency(fc, series))
        # Written after each feed, so a cut-short run still leaves its figures.
        write_results(out)

    print(json.dumps(write_results(out), indent=2, sort_keys=True))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
