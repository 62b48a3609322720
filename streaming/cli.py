"""`gridcast telemetry ...` (replay, gateway) and `gridcast stream ...` (the Spark job)."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress

from gridcast.settings import get_settings

stream_app = typer.Typer(no_args_is_help=True, help="The Spark streaming job and its outputs.")
telemetry_app = typer.Typer(no_args_is_help=True, help="Meter telemetry: replay and ingestion.")
console = Console()


def _telemetry_dir() -> Path:
    return get_settings().state_dir / "telemetry"


def _parse_faults(spec: str, every: float) -> object:
    from streaming.replay import FAULT_KINDS, FaultRates

    rates = dict.fromkeys(FAULT_KINDS, every)
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition("=")
        if name not in FAULT_KINDS:
            raise typer.BadParameter(f"unknown fault {name!r}; known: {', '.join(FAULT_KINDS)}")
        try:
            rates[name] = float(value)
        except ValueError:
            raise typer.BadParameter(f"fault rate for {name!r} must be a number") from None
    return FaultRates(**rates)


@telemetry_app.command("replay")
def replay(
    feeds: str = typer.Option("solar,demand,household", help="Comma-separated feeds."),
    hours: float = typer.Option(2.0, min=0.01, help="Hours of data to replay per feed."),
    meters: int = typer.Option(10, min=1, help="Meters each PV/demand feed is split across."),
    batch: int = typer.Option(1, min=1, max=10_000, help="Readings per MQTT message."),
    speedup: float = typer.Option(
        0.0, min=0.0, help="Data seconds per wall second (0 = as fast as possible)."
    ),
    fault_rate: float = typer.Option(0.0, min=0.0, max=0.5, help="Rate of every fault kind."),
    faults: str = typer.Option("", help="Per-kind rates, e.g. 'late=0.05,spike=0.01'."),
    seed: int = typer.Option(7, help="Seed of meter variation and faults."),
    start: str = typer.Option(
        "", help="Data start for every feed (ISO time, UTC); default: each feed's own start."
    ),
) -> None:
    """Publish real series as per-meter telemetry on gridcast/telemetry/<class>/<meter>."""
    from streaming.errors import StreamingError
    from streaming.mqtt import Publisher
    from streaming.replay import build_plan, publish_plan

    names = [f.strip() for f in feeds.split(",") if f.strip()]
    try:
        when = datetime.fromisoformat(start) if start else None
    except ValueError:
        raise typer.BadParameter(f"--start must be an ISO time, got {start!r}") from None
    try:
        plan = build_plan(
            names,
            timedelta(hours=hours),
            starts=dict.fromkeys(names, when if when.tzinfo else when.replace(tzinfo=UTC))
            if when
            else None,
            meters=meters,
            batch=batch,
            faults=_parse_faults(faults, fault_rate),  # type: ignore[arg-type]
            seed=seed,
        )
        total = len(plan.all_messages())
        with Progress(console=console) as progress, Publisher() as pub:
            task = progress.add_task("publishing", total=total)
            started = time.time()
            sent = publish_plan(
                plan,
                pub,
                speedup=speedup,
                on_progress=lambda n: progress.update(task, completed=n),
            )
            progress.update(task, completed=total)
    except StreamingError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(
        f"published {total} messages carrying {sent} readings "
        f"({len(plan.late)} held back as late, {len(plan.gaps)} dropped as gaps)"
    )
    console.print(f"publishing started at {started:.3f} (unix), took {time.time() - started:.2f} s")


@telemetry_app.command("gateway")
def gateway(
    landing_dir: Path = typer.Option(None, help="Where landed files go (default: state dir)."),
    dead_letter_dir: Path = typer.Option(None, help="Dead-letter store (default: state dir)."),
    max_readings: int = typer.Option(50_000, min=1, help="Land a file after this many readings."),
    max_delay: float = typer.Option(0.25, min=0.01, help="...or after this many seconds."),
    metrics_port: int = typer.Option(0, help="Serve Prometheus metrics here (0 = off)."),
    client_id: str = typer.Option("gridcast-gateway", help="MQTT client id (persistent session)."),
    share_group: str = typer.Option(
        "", help="Share the telemetry topics with the other gateways of this group (MQTT v5)."
    ),
) -> None:
    """Validate MQTT telemetry and land it durably for Spark; bad messages go to dead letters."""
    from prometheus_client import start_http_server

    from streaming.errors import RetryableError
    from streaming.gateway import Gateway

    base = _telemetry_dir()
    gw = Gateway(
        landing_dir or base / "landing",
        dead_letter_dir or base / "dead-letter",
        max_readings=max_readings,
        max_delay_s=max_delay,
    )
    if metrics_port:
        start_http_server(metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        gw.start(client_id=client_id, share_group=share_group or None)
    except RetryableError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"gateway landing to {gw.landing_dir}; Ctrl-C to stop")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        gw.stop()
    console.print(f"accepted {gw.accepted_messages}, rejected {gw.rejected_messages} messages")


@stream_app.command("run")
def run(
    landing_dir: Path = typer.Option(None, help="Landed telemetry (default: state dir)."),
    checkpoint_dir: Path = typer.Option(None, help="Spark checkpoint (default: state dir)."),
    master: str = typer.Option(None, help="Spark master URL (default: settings spark_master)."),
    job: str = typer.Option("gridcast-stream", help="Job name (keys its batch log)."),
    watermark: float = typer.Option(600.0, min=0.0, help="Watermark delay, data seconds."),
    epoch_seconds: int = typer.Option(3600, min=60, help="Data seconds per epoch window."),
    trigger: float = typer.Option(0.5, min=0.05, help="Micro-batch trigger interval, seconds."),
    max_files_per_trigger: int = typer.Option(0, min=0, help="0 = no limit."),
    until_idle: bool = typer.Option(False, help="Stop once every landed file is processed."),
    store_readings: bool = typer.Option(
        False, help="Also keep every accepted reading in stream_readings (audit; slower)."
    ),
    reduce_on: str = typer.Option(
        "auto",
        help="Where each micro-batch is reduced per meter: auto (driver while the batch's files "
        "total at most --driver-reduce-mb, else executors), driver or executors.",
    ),
    driver_reduce_mb: float = typer.Option(
        64.0, min=0.0, help="Largest batch (MiB of landed files) that auto reduces on the driver."
    ),
    clean_source: str = typer.Option(
        "archive",
        help="Landed files after their batch committed: archive (moved to --archive-dir), "
        "delete, or off (left in place; the listing then grows with every file).",
    ),
    archive_dir: Path = typer.Option(
        None, help="Where archived landed files go (default: '<landing dir>-archive')."
    ),
    migrate: bool = typer.Option(True, help="Apply Alembic migrations first."),
) -> None:
    """Run the Structured Streaming job: windows, quality rules, Postgres/Redis/Mongo sinks."""
    from gridcast.services import database_url, redis_url
    from indexer.db.engine import upgrade
    from streaming.config import JobConfig
    from streaming.errors import NonRetryableError
    from streaming.job import run_until_idle, start
    from streaming.spark import spark_session

    settings = get_settings()
    url = database_url(settings)
    base = _telemetry_dir()
    try:
        cfg = JobConfig(
            landing_dir=landing_dir or base / "landing",
            checkpoint_dir=checkpoint_dir or settings.state_dir / "checkpoints" / job,
            database_url=url,
            redis_url=redis_url(settings),
            mongo_url=settings.mongo_url,
            job=job,
            watermark_s=watermark,
            epoch_s=epoch_seconds,
            trigger_s=trigger,
            max_files_per_trigger=max_files_per_trigger or None,
            master=master,
            store_readings=store_readings,
            reduce_on=reduce_on,
            driver_reduce_max_bytes=int(driver_reduce_mb * (1 << 20)),
            clean_source=clean_source,
            archive_dir=archive_dir,
        )
    except NonRetryableError as exc:
        raise typer.BadParameter(str(exc)) from None
    if migrate:
        upgrade(url)
    spark = spark_session(master)
    spark.sparkContext.setLogLevel("ERROR")
    if until_idle:
        run_until_idle(spark, cfg)
        console.print("all landed telemetry processed")
        return
    query = start(spark, cfg)
    console.print(f"streaming {cfg.landing_dir} -> Postgres/Redis; Ctrl-C to stop")
    try:
        query.awaitTermination()
    except KeyboardInterrupt:
        query.stop()


@stream_app.command("pending")
def pending(feed: str = typer.Option(None, help="Only this feed.")) -> None:
    """List closed epoch actuals not yet submitted as truth (the truth reporter's queue)."""
    from gridcast.services import database_url
    from streaming.actuals import pending_epoch_actuals

    for row in pending_epoch_actuals(database_url(), feed):
        console.print(json.dumps(row, default=str))
