"""``gridcast ml``: train, evaluate and list forecasting models. Torch and statsforecast are
imported inside the commands so that ``gridcast --help`` stays instant."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gridcast.diagnosis import exit_on_error
from gridcast.errors import fail
from ml.config import MIN_TRAIN_DAYS
from ml.datasets import EXTRA_SERIES, FEEDS
from ml.forecaster import LSTMForecaster, SelectedForecaster

if TYPE_CHECKING:
    from ml.userdata import UserFeedSpec

app = typer.Typer(help="Forecasting models: train, evaluate, registry.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry (table model_artifacts).", no_args_is_help=True)
app.add_typer(models_app, name="models")

FEED_HELP = (
    f"Packaged feed: {' | '.join(FEEDS)}, or an evaluation series: {' | '.join(EXTRA_SERIES)} "
    "(or bring your own with --data)."
)


@dataclass(frozen=True)
class SeriesOptions:
    """Where the series comes from: a packaged feed, or a user's file and how to read it."""

    feed: str = ""
    data: str = ""
    timestamp: str = ""
    target: str = ""
    exog: tuple[str, ...] = ()
    freq: str | None = None
    tz: str | None = None
    name: str = ""
    unit: str = "kW"
    decimals: int = 3
    allow_negative: bool = False
    max_value: float | None = None

    def user_spec(self) -> UserFeedSpec:
        from ml.userdata import UserFeedSpec, default_name

        if not self.timestamp or not self.target:
            fail("--data needs --timestamp COL and --target COL")
        return UserFeedSpec(
            name=self.name or default_name(self.data),
            path=self.data,
            timestamp=self.timestamp,
            target=self.target,
            exog=self.exog,
            freq=self.freq,
            tz=self.tz,
            unit=self.unit,
            decimals=self.decimals,
            allow_negative=self.allow_negative,
            max_value=self.max_value,
        )


BASELINE_NAMES = ("seasonal-naive", "mstl", "auto-ets")
BASELINES_OPT = typer.Option(
    ",".join(BASELINE_NAMES), "--baselines", help="Baselines among the candidates (comma list)."
)


def _baselines(names: str) -> list[Any]:
    from ml.forecaster import AutoETSForecaster, MSTLForecaster, SeasonalNaiveForecaster

    table = {
        "seasonal-naive": SeasonalNaiveForecaster,
        "mstl": MSTLForecaster,
        "auto-ets": AutoETSForecaster,
    }
    chosen = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in chosen if n not in table]
    if unknown or not chosen:
        fail(f"--baselines: choose from {', '.join(BASELINE_NAMES)} (got {names!r})")
    return [table[n]() for n in chosen]


# Shared by `train` and `evaluate`: where the series comes from.
FEED_OPT = typer.Option("", "--feed", help=FEED_HELP)
DATA_OPT = typer.Option("", "--data", help="Your own series: a .csv or .parquet file.")
TIMESTAMP_OPT = typer.Option("", "--timestamp", help="Timestamp column of --data.")
TARGET_OPT = typer.Option("", "--target", help="Column of --data to forecast.")
EXOG_OPT = typer.Option(
    [], "--exog", help="Known-ahead covariate column(s) of --data (repeat the option)."
)
FREQ_OPT = typer.Option(
    None, "--freq", help="Step of --data: 15min | 30min | 1h (default: inferred)."
)
TZ_OPT = typer.Option(None, "--tz", help="IANA zone of --data's naive local times (DST-aware).")
NAME_OPT = typer.Option("", "--name", help="Feed name for --data (default: from the file name).")
UNIT_OPT = typer.Option("kW", "--unit", help="Unit of --data's target.")
DECIMALS_OPT = typer.Option(3, "--decimals", help="On-chain fixed-point decimals for --data.")
NEGATIVE_OPT = typer.Option(
    False, "--allow-negative", help="--data's target may be negative (e.g. net load)."
)
MAX_VALUE_OPT = typer.Option(
    None, "--max-value", help="Refuse --data target values above this (impossible readings)."
)


def _load_series(opts: SeriesOptions, **overrides: Any) -> tuple[Any, Any, Any]:
    """(series, config, user spec or None); a bad choice or file ends the command (exit 2)."""
    from ml.config import ModelConfig
    from ml.datasets import load_feed
    from ml.userdata import read_user_series

    if bool(opts.feed) == bool(opts.data):
        fail("give either --feed NAME or --data FILE")
    if opts.feed:
        if opts.feed not in FEEDS and opts.feed not in EXTRA_SERIES:
            known = ", ".join((*FEEDS, *EXTRA_SERIES))
            fail(f"unknown feed {opts.feed!r}; choose one of {known} or use --data")
        series = load_feed(opts.feed)
        if opts.feed in FEEDS:
            return series, ModelConfig.for_feed(opts.feed, **overrides), None
        return series, ModelConfig.for_length(len(series) // 24, **overrides), None
    spec = opts.user_spec()
    series = read_user_series(spec)
    config = ModelConfig.for_length(len(series) // 24, **overrides)
    if len(series) // 24 < config.min_days():
        fail(
            f"{opts.data}: {len(series) // 24} whole days of data; at least {config.min_days()} "
            f"are needed ({config.lookback_days}-day lookback, {MIN_TRAIN_DAYS} days of training, "
            f"{config.val_days} validation, {config.test_days} test)"
        )
    return series, config, spec


def _progress(label: str, total: int, quiet: bool) -> tuple[Any, Callable[[Any], None]]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("epoch {task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]}  val {task.fields[val]}  best {task.fields[best]}"),
        TimeElapsedColumn(),
        TextColumn("ETA ≤ {task.fields[eta]}"),
        disable=quiet,
    )
    task = progress.add_task(label, total=total, loss="-", val="-", best="-", eta="-")

    def on_epoch(r: Any) -> None:
        if r.epoch == 1:
            progress.reset(task, total=r.max_epochs)
        progress.update(
            task,
            completed=r.epoch,
            loss=f"{r.train_loss:.4f}",
            val=f"{r.val_loss:.4f}",
            best=f"{r.best_val_loss:.4f}",
            eta=f"{r.eta_s:.0f}s",
        )

    return progress, on_epoch


@app.command("train")
def train_cmd(
    feed: str = FEED_OPT,
    data: str = DATA_OPT,
    timestamp: str = TIMESTAMP_OPT,
    target: str = TARGET_OPT,
    exog: list[str] = EXOG_OPT,
    freq: str | None = FREQ_OPT,
    tz: str | None = TZ_OPT,
    name: str = NAME_OPT,
    unit: str = UNIT_OPT,
    decimals: int = DECIMALS_OPT,
    allow_negative: bool = NEGATIVE_OPT,
    max_value: float | None = MAX_VALUE_OPT,
    seed: int = typer.Option(0, help="Random seed (training is deterministic for a seed)."),
    epochs: int = typer.Option(0, help="Maximum epochs (0: the configured default)."),
    baselines: str = BASELINES_OPT,
    select: bool = typer.Option(
        True,
        help="Register the model chosen on validation among the LSTM, the baselines and their "
        "ensemble (--no-select: the LSTM alone).",
    ),
    register: bool = typer.Option(True, help="Record the artifact in Postgres."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train on a packaged feed or your own series (--data), save and register the model.

    With --data the file is checked (gaps, duplicates, DST, negative or impossible values,
    length) and registered as a feed spec, so an operator can serve it:
    `gridcast oracle run --model lstm:<hash>` on a market whose feed is bound to that name."""
    series_opts = SeriesOptions(
        feed, data, timestamp, target, tuple(exog), freq, tz, name, unit, decimals,
        allow_negative, max_value,
    )  # fmt: skip
    from rich.console import Console

    from ml.registry import save_model
    from ml.selection import fit_selected, short
    from ml.splits import split_feed
    from ml.training import train
    from ml.userdata import register_feed

    console = Console()
    with exit_on_error():
        series, config, spec = _load_series(
            series_opts, seed=seed, **({"max_epochs": epochs} if epochs else {})
        )
        feed_path = register_feed(spec) if spec is not None else None
        split = split_feed(series, config)
        progress, on_epoch = _progress(f"train {series.name}", config.max_epochs, quiet)
        fc: LSTMForecaster | SelectedForecaster
        with progress:
            if select:
                fc, sel, _scale, result = fit_selected(
                    series, split, config, _baselines(baselines), on_epoch=on_epoch
                )
            else:
                result = train(series, config, on_epoch=on_epoch, split=split)
                fc = LSTMForecaster.from_training(result, series)
        info = {
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "best_val_pinball_scaled": min(r.val_loss for r in result.history),
            "train_seconds": round(result.train_seconds, 2),
            "device": result.device,
        }
        model_hash = save_model(fc, info=info, register=register)
    typer.echo(
        f"trained LSTM on {series.name} ({len(series) // 24} days): best epoch "
        f"{result.best_epoch}, {result.train_seconds:.1f}s on {result.device}"
    )
    if select:
        _print_candidates(console, sel.val_mase, sel.choice, "validation MASE")
        typer.echo(f"selected {short(sel.choice)} (lowest validation MASE)")
    typer.echo(f"model hash {model_hash}")
    if feed_path is not None:
        typer.echo(f"feed spec {feed_path} (dataset {series.name!r})")
        typer.echo(f"serve it: gridcast oracle run --model lstm:{model_hash}")


def _print_candidates(console: Any, mase: dict[str, float], choice: str, label: str) -> None:
    from rich.table import Table

    table = Table(title=f"candidates by {label}")
    table.add_column("model")
    table.add_column(label, justify="right")
    table.add_column("chosen")
    for name, value in mase.items():
        table.add_row(name, f"{value:.3f}", "✓" if name == choice else "")
    console.print(table)


@app.command("evaluate")
def evaluate_cmd(
    feed: str = FEED_OPT,
    data: str = DATA_OPT,
    timestamp: str = TIMESTAMP_OPT,
    target: str = TARGET_OPT,
    exog: list[str] = EXOG_OPT,
    freq: str | None = FREQ_OPT,
    tz: str | None = TZ_OPT,
    name: str = NAME_OPT,
    unit: str = UNIT_OPT,
    decimals: int = DECIMALS_OPT,
    allow_negative: bool = NEGATIVE_OPT,
    max_value: float | None = MAX_VALUE_OPT,
    model: str = typer.Option(
        "", "--model", help="Backtest this registered model on its own test window instead."
    ),
    folds: int = typer.Option(12, "--folds", help="Rolling-origin test folds (at most)."),
    baselines: str = BASELINES_OPT,
    epochs: int = typer.Option(0, help="Maximum epochs per fold (0: the configured default)."),
    seed: int = typer.Option(0, help="Random seed."),
    plot: bool = typer.Option(
        False, "--plot", help="Write PNGs: band vs actual, error by horizon."
    ),
    out: str = typer.Option("", "--out", help="Report folder (default: <state_dir>/reports)."),
    register: bool = typer.Option(True, help="With --model: store the metrics with it."),
) -> None:
    """Rolling-origin evaluation: per fold, train the LSTM on what precedes it, choose among the
    LSTM, SeasonalNaive(24), MSTL(24,168), AutoETS and their ensemble on the validation window,
    calibrate a conformal p10-p90 band there, and score the test days. Prints MASE and coverage
    per fold and pooled, every candidate and the choice; writes a JSON report (and PNGs)."""
    series_opts = SeriesOptions(
        feed, data, timestamp, target, tuple(exog), freq, tz, name, unit, decimals,
        allow_negative, max_value,
    )  # fmt: skip
    from rich.console import Console

    from gridcast.settings import get_settings

    console = Console()
    out_dir = Path(out) if out else get_settings().state_dir / "reports"
    with exit_on_error():
        if model:
            _evaluate_model(console, series_opts, model, out_dir, register)
            return
        series, config, _spec = _load_series(
            series_opts, seed=seed, **({"max_epochs": epochs} if epochs else {})
        )
        _evaluate_rolling(console, series, config, folds, out_dir, plot, _baselines(baselines))


def _evaluate_rolling(
    console: Any,
    series: Any,
    config: Any,
    folds: int,
    out_dir: Path,
    plot: bool,
    baselines: list[Any],
) -> None:
    from rich.table import Table

    from ml.selection import SELECTED, rolling_evaluation, rolling_splits, short

    n = len(rolling_splits(series, config, folds))
    fold_table = Table(title=f"{series.name}: rolling-origin folds of {config.test_days} days")
    for col in ("fold", "test days", "train d", "selected", "MASE sel", "MASE LSTM",
                "MASE best base", "coverage"):  # fmt: skip
        fold_table.add_column(col, justify="left" if col in ("test days", "selected") else "right")

    def on_fold(f: Any) -> None:
        base = min(
            (s for k, s in f.scores.items() if k in {b.name for b in baselines}),
            key=lambda s: s.mase,
        )
        console.print(
            f"fold {f.fold}/{n} {f.test_start:%Y-%m-%d}: selected {short(f.selected)}, MASE "
            f"{f.scores[SELECTED].mase:.3f} (LSTM {f.scores['LSTM'].mase:.3f}, {base.name} "
            f"{base.mase:.3f}), coverage {f.scores[SELECTED].coverage:.3f}"
        )
        fold_table.add_row(
            str(f.fold),
            f"{f.test_start:%Y-%m-%d}..{f.test_end:%m-%d}",
            f"{f.train_days:.0f}",
            short(f.selected),
            f"{f.scores[SELECTED].mase:.3f}",
            f"{f.scores['LSTM'].mase:.3f}",
            f"{base.mase:.3f}",
            f"{f.scores[SELECTED].coverage:.3f}",
        )

    report = rolling_evaluation(series, config, folds, baselines, on_fold=on_fold)
    console.print(fold_table)
    pooled = report.pooled()
    table = Table(title=f"{series.name}: pooled over {len(report.folds)} folds, unit {series.unit}")
    for col in ("model", "MAE", "MASE", "pinball", "p10–p90 coverage"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for s in pooled.values():
        table.add_row(
            s.name, f"{s.mae:.4g}", f"{s.mase:.3f}", f"{s.pinball:.4g}", f"{s.coverage:.3f}"
        )
    console.print(table)
    summary = report.summary()
    console.print(
        f"choice for the newest fold: {summary['selected_model']} "
        f"(selections: {summary['selection_counts']}); pooled MASE selected "
        f"{summary['mase_selected']:.3f}, LSTM {summary['mase_lstm']:.3f}, best baseline "
        f"{summary['best_baseline']} {summary['mase_best_baseline']:.3f}; coverage "
        f"{summary['coverage_selected']:.3f} (target 0.75–0.85: "
        f"{'met' if summary['target_coverage_met'] else 'MISSED'})"
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"ml_rolling_{series.name}.json"
    json_path.write_text(
        json.dumps(
            {
                "series": series.name,
                "unit": series.unit,
                "config": config.to_dict(),
                "folds": [f.row() for f in report.folds],
                "pooled": {k: s.row() for k, s in pooled.items()},
                "summary": summary,
            },
            indent=2,
        )
    )
    console.print(f"report {json_path}")
    if plot:
        from ml.plots import band_png, horizon_png

        console.print(f"plot   {band_png(series, report, out_dir / f'ml_band_{series.name}.png')}")
        console.print(f"plot   {horizon_png(report, out_dir / f'ml_horizon_{series.name}.png')}")


def _evaluate_model(
    console: Any, series_opts: SeriesOptions, model: str, out_dir: Path, register: bool
) -> None:
    """The previous single-window backtest of one registered model against the baselines."""
    from rich.table import Table

    from ml.datasets import load_feed
    from ml.evaluation import backtest, write_report
    from ml.forecaster import BASELINES
    from ml.registry import load_model, update_info
    from ml.splits import split_feed

    fc = load_model(model)
    lstm = fc.lstm if isinstance(fc, SelectedForecaster) else fc
    if series_opts.feed and fc.feed != series_opts.feed:
        fail(f"model {model} was trained on {fc.feed!r}, not {series_opts.feed!r}")
    series = load_feed(fc.feed)
    if lstm.metadata["dataset"]["sha256"] != series.content_hash:
        console.print("[yellow]warning: dataset hash differs from the model's[/]")
    split = split_feed(series, lstm.config)
    with console.status("backtesting"):
        scores, origins, y, mask = backtest(
            series, split, [lstm] + ([fc] if fc is not lstm else []) + [b() for b in BASELINES]
        )
    json_path, png_path = write_report(series, split, scores, origins, y, mask, out_dir)
    from ml.evaluation import summarize

    summary = summarize(scores)
    update_info(fc.model_hash, {"evaluation": summary}, register=register)
    table = Table(title=f"{fc.feed}: {len(origins)} day-ahead origins, unit {series.unit}")
    for col in ("model", "MAE", "MASE", "pinball", "p10–p90 coverage"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for s in scores:
        table.add_row(
            s.name, f"{s.mae:.4g}", f"{s.mase:.3f}", f"{s.pinball:.4g}", f"{s.coverage:.3f}"
        )
    console.print(table)
    console.print(f"model {fc.model_hash}\nreport {json_path}\nplot   {png_path}")


@models_app.command("list")
def models_list(
    feed: str = typer.Option("", "--feed", help="Only this feed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Registered models, newest first."""
    from rich.console import Console
    from rich.table import Table

    from ml.registry import list_models

    with exit_on_error():
        rows = list_models(feed=feed or None)
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in r.items() if k != "metadata"} for r in rows]))
        return
    table = Table(title="model_artifacts")
    for col in ("model_hash", "feed", "name", "created_at", "val/test MASE"):
        table.add_column(col)
    for r in rows:
        ev = r["metadata"].get("info", {}).get("evaluation", {})
        mase = f"{ev['mase_lstm']:.3f}" if "mase_lstm" in ev else "-"
        table.add_row(r["model_hash"], r["feed"], r["name"], r["created_at"][:19], mase)
    Console().print(table)


@models_app.command("show")
def models_show(
    model_hash: str = typer.Argument(..., help="0x-prefixed model hash."),
) -> None:
    """Print a model's metadata (spec, metrics) after checking the artifact's hash."""
    from ml.registry import load_model, read_metadata

    with exit_on_error():
        load_model(model_hash)  # verifies the bytes still hash to the name
        document = read_metadata(model_hash)
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
