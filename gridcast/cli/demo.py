"""``gridcast demo``: the whole market on embedded defaults, then a summary."""

from __future__ import annotations

import signal
from pathlib import Path

import typer

app = typer.Typer(help="Run a whole forecasting market locally.", invoke_without_command=True)


@app.callback(invoke_without_command=True)
def demo(
    epochs: int = typer.Option(3, min=1, max=24, help="Epochs to run (one day-ahead round)."),
    epoch_seconds: int = typer.Option(10, min=4, help="Chain seconds per epoch (one data hour)."),
    state_dir: Path = typer.Option(Path(".gridcast/demo"), help="Where each run keeps its state."),
    train_epochs: int = typer.Option(
        0, help="Cap LSTM training epochs when a model must be trained."
    ),
    timeout: float = typer.Option(900.0, help="Give up after this many seconds of running epochs."),
    no_streaming: bool = typer.Option(
        False, help="Skip telemetry/Spark; truths then never come and epochs are cancelled."
    ),
    hold: bool = typer.Option(
        False, help="Kept for old scripts: staying live after the summary is the default now."
    ),
    exit_after: bool = typer.Option(
        False, "--exit", help="Close the market before the summary and stop everything after it."
    ),
    no_exchange: bool = typer.Option(
        False, "--no-exchange", help="Skip the energy exchange (producers, loads, certificates)."
    ),
) -> None:
    """Start anvil, Postgres, Redis and MQTT (embedded unless configured), deploy, register the
    solar and demand feeds, stake five operators (LSTM, seasonal naive, MSTL, a bad one, the
    streaming nowcast), run the epochs with indexer, API, telemetry and Spark, then print a
    summary per operator, example GraphQL queries and the dashboard's URL. The market, the API
    and the dashboard stay live until Ctrl-C (--exit: stop after the summary). Stops everything
    it started. Three solar producers and two loads trade each epoch on the energy exchange,
    settled against metered delivery, with certificates claimed and retired (--no-exchange skips
    it); the summary adds their table."""
    from rich.console import Console

    from gridcast.demo.run import Demo, DemoConfig, DemoError, print_result

    console = Console(soft_wrap=True)
    cfg = DemoConfig(
        epochs=epochs,
        epoch_seconds=epoch_seconds,
        state_dir=state_dir,
        train_epochs=train_epochs,
        timeout_s=timeout,
        streaming=not no_streaming,
        live=not exit_after,
        exchange=not no_exchange,
    )
    runner = Demo(cfg, console)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    code = 0
    try:
        result = runner.run()
        print_result(result)
        if runner.anvil is not None:
            print(f"chain RPC: {runner.anvil.url}", flush=True)
        if not exit_after:
            print("live: market, API and dashboard keep running; Ctrl-C stops them", flush=True)
            runner.keep_running()
    except KeyboardInterrupt:
        console.print("[yellow]interrupted[/]")
        code = 130
    except DemoError as exc:
        console.print(f"[red]demo failed:[/] {exc}")
        code = 1
    finally:
        console.print("stopping every process the demo started…")
        runner.stop()
        console.print(f"logs and state: {runner.run_dir}")
    raise typer.Exit(code)
