"""``gridcast ml``: train, evaluate and list forecasting models. Torch and statsforecast are
imported inside the commands so that ``gridcast --help`` stays instant."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from ml.datasets import FEEDS

app = typer.Typer(help="Forecasting models: train, evaluate, registry.", no_args_is_help=True)
models_app = typer.Typer(help="The model registry (table model_artifacts).", no_args_is_help=True)
app.add_typer(models_app, name="models")

FEED_HELP = f"Feed to use: {' | '.join(FEEDS)}."


def _check_feed(feed: str) -> str:
    if feed not in FEEDS:
        raise typer.BadParameter(f"unknown feed {feed!r}; choose one of {', '.join(FEEDS)}")
    return feed


def _train(feed: str, seed: int, epochs: int | None, quiet: bool) -> tuple[Any, Any, Any]:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from ml.config import ModelConfig
    from ml.datasets import load_feed
    from ml.forecaster import LSTMForecaster
    from ml.training import EpochReport, train

    series = load_feed(feed)
    config = ModelConfig.for_feed(feed, seed=seed, **({"max_epochs": epochs} if epochs else {}))
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("epoch {task.completed}/{task.total}"),
        TextColumn("loss {task.fields[loss]}  val {task.fields[val]}  best {task.fields[best]}"),
        TimeElapsedColumn(),
        TextColumn("ETA ≤ {task.fields[eta]}"),
        disable=quiet,
    ) as progress:
        task = progress.add_task(
            f"train {feed}",
            total=config.max_epochs,
            loss="-",
            val="-",
            best="-",
            eta="-",
        )

        def on_epoch(r: EpochReport) -> None:
            progress.update(
                task,
                completed=r.epoch,
                loss=f"{r.train_loss:.4f}",
                val=f"{r.val_loss:.4f}",
                best=f"{r.best_val_loss:.4f}",
                eta=f"{r.eta_s:.0f}s",
            )

        result = train(series, config, on_epoch=on_epoch)
    return series, result, LSTMForecaster.from_training(result, series)


@app.command("train")
def train_cmd(
    feed: str = typer.Option(..., "--feed", help=FEED_HELP),
    seed: int = typer.Option(0, help="Random seed (training is deterministic for a seed)."),
    epochs: int = typer.Option(0, help="Maximum epochs (0: the configured default)."),
    register: bool = typer.Option(True, help="Record the artifact in Postgres."),
    quiet: bool = typer.Option(False, help="No progress bar."),
) -> None:
    """Train the LSTM on a feed, save the artifact under model_dir and register it."""
    from ml.errors import MLError
    from ml.registry import save_model

    _check_feed(feed)
    try:
        _series, result, fc = _train(feed, seed, epochs or None, quiet)
        info = {
            "best_epoch": result.best_epoch,
            "epochs_run": len(result.history),
            "best_val_pinball_scaled": min(r.val_loss for r in result.history),
            "train_seconds": round(result.train_seconds, 2),
            "device": result.device,
        }
        model_hash = save_model(fc, info=info, register=register)
    except MLError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(
        f"trained {fc.name} on {feed}: best epoch {result.best_epoch}, "
        f"{result.train_seconds:.1f}s on {result.device}"
    )
    typer.echo(f"model hash {model_hash}")


@app.command("evaluate")
def evaluate_cmd(
    feed: str = typer.Option(..., "--feed", help=FEED_HELP),
    model: str = typer.Option(
        "", "--model", help="Model hash to evaluate (default: train a fresh one)."
    ),
    out: str = typer.Option("", "--out", help="Report folder (default: <state_dir>/reports)."),
    register: bool = typer.Option(True, help="Store the metrics with the registered model."),
) -> None:
    """Backtest the LSTM against SeasonalNaive(24), MSTL(24,168) and AutoETS.

    Rolling origin over the last 30 held-out days (a 24-h curve from each midnight); prints MAE,
    MASE, pinball loss and p10-p90 coverage, writes a JSON report and a PNG plot."""
    from rich.console import Console
    from rich.table import Table

    from gridcast.settings import get_settings
    from ml.datasets import load_feed
    from ml.errors import MLError
    from ml.evaluation import backtest, summarize, write_report
    from ml.forecaster import BASELINES
    from ml.registry import load_model, save_model, update_info
    from ml.splits import split_feed

    _check_feed(feed)
    console = Console()
    try:
        if model:
            fc = load_model(model)
            if fc.feed != feed:
                raise typer.BadParameter(f"model {model} was trained on {fc.feed!r}, not {feed!r}")
            series = load_feed(feed)
            if fc.metadata["dataset"]["sha256"] != series.content_hash:
                console.print("[yellow]warning: dataset hash differs from the model's[/]")
        else:
            series, result, fc = _train(feed, 0, None, False)
            save_model(
                fc,
                info={"train_seconds": round(result.train_seconds, 2)},
                register=register,
            )
        split = split_feed(series, fc.config)
        with console.status("backtesting") as status:
            scores, origins, y, mask = backtest(
                series,
                split,
                [fc] + [b() for b in BASELINES],
                on_model=lambda name: status.update(f"backtesting {name}"),
            )
        out_dir = Path(out) if out else get_settings().state_dir / "reports"
        json_path, png_path = write_report(series, split, scores, origins, y, mask, out_dir)
        summary = summarize(scores)
        update_info(fc.model_hash, {"evaluation": summary}, register=register)
    except MLError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    table = Table(title=f"{feed}: {len(origins)} day-ahead origins, unit {series.unit}")
    for col in ("model", "MAE", "MASE", "pinball", "p10–p90 coverage"):
        table.add_column(col, justify="right" if col != "model" else "left")
    for s in scores:
        table.add_row(
            s.name,
            f"{s.mae:.4g}",
            f"{s.mase:.3f}",
            f"{s.pinball:.4g}",
            f"{s.coverage:.3f}",
        )
    console.print(table)
    console.print(
        f"LSTM MASE {summary['mase_lstm']:.3f} vs best baseline {summary['best_baseline']} "
        f"{summary['mase_best_baseline']:.3f}: {summary['mase_improvement']:+.1%} "
        f"(target ≥ 10%: {'met' if summary['target_mase_met'] else 'MISSED'}); coverage "
        f"{summary['coverage_lstm']:.3f} (target 0.75–0.85: "
        f"{'met' if summary['target_coverage_met'] else 'MISSED'})"
    )
    console.print(f"model {fc.model_hash}\nreport {json_path}\nplot   {png_path}")


@models_app.command("list")
def models_list(
    feed: str = typer.Option("", "--feed", help="Only this feed."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Registered models, newest first."""
    from rich.console import Console
    from rich.table import Table

    from ml.errors import MLError
    from ml.registry import list_models

    try:
        rows = list_models(feed=feed or None)
    except MLError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    if as_json:
        typer.echo(json.dumps([{k: v for k, v in r.items() if k != "metadata"} for r in rows]))
        return
    table = Table(title="model_artifacts")
    for col in ("model_hash", "feed", "name", "created_at", "val/test MASE"):
        table.add_column(col)
    for r in rows:
        ev = r["metadata"].get("info", {}).get("evaluation", {})
        mase = f"{ev['mase_lstm']:.3f}" if ev else "-"
        table.add_row(r["model_hash"], r["feed"], r["name"], r["created_at"][:19], mase)
    Console().print(table)


@models_app.command("show")
def models_show(
    model_hash: str = typer.Argument(..., help="0x-prefixed model hash."),
) -> None:
    """Print a model's metadata (spec, metrics) after checking the artifact's hash."""
    from ml.errors import MLError
    from ml.registry import load_model, read_metadata

    try:
        load_model(model_hash)  # verifies the bytes still hash to the name
        document = read_metadata(model_hash)
    except MLError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(json.dumps(document, indent=2, sort_keys=True))
