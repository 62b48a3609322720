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

from gridcast.errors import fail
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
        fail(str(exc))  # one line, exit 2 (gridcast.errors)
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
        fail(str(exc))  # one line, exit 2 (gridcast.errors)
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
    source: str = typer.Option(
        "landed",
        help="landed (offsets are the gateways' file sequence numbers: nothing grows with the "
        "run) or files (Spark's file source: its checkpoint log lists every file ever seen).",
    ),
    source_log_compact_interval: int = typer.Option(
        100,
        min=1,
        help="--source files: batches between compactions of the file source's checkpoint log "
        "(each rewrites every file the job has seen; Spark's default is 10).",
    ),
    migrate: bool = typer.Option(True, help="Apply Alembic migrations first."),
) -> None:
    """Run the Structured Streaming job: windows, quality rules, Postgres/Redis/Mongo sinks."""
    from gridcast.db import upgrade
    from gridcast.services import database_url, redis_url
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
            source=source,
            source_log_compact_interval=source_log_compact_interval,
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


# ---- on-chain commands: the truth oracle (`stream truth`) and the chain-clock replay
# (`telemetry follow`); they sign/read through gridcast.chain, never through another package.


def _chain_stop_event() -> threading.Event:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop


@stream_app.command("truth")
def truth(
    dev_key: int | None = typer.Option(0, help="Anvil dev key of the truth reporter (local only)."),
    account: str | None = typer.Option(None, help="Ape keystore alias of the truth reporter."),
    min_coverage: float = typer.Option(0.8, min=0.0, max=1.0, help="Meter coverage needed."),
    dispute: bool = typer.Option(False, help="Dispute on-chain truths that differ from ours."),
    interval: float = typer.Option(0.5, help="Seconds between passes."),
    once: bool = typer.Option(False, help="One pass, then exit."),
) -> None:
    """Submit closed epochs (epoch_actuals) as on-chain truth, at most once per feed and epoch."""
    import logging

    from gridcast.chain.views import KeyChoice, connect
    from gridcast.diagnosis import exit_on_error
    from gridcast.errors import GridcastError
    from gridcast.services import database_url
    from streaming.truth_oracle import TruthOracle

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = get_settings()
    with exit_on_error(ValueError, FileNotFoundError):
        chain = connect(s, KeyChoice(account, None if account else dev_key))
        oracle = TruthOracle(
            chain.submitter,
            chain.deployment,
            chain.market,
            database_url(),
            min_coverage=min_coverage,
            dispute=dispute,
        )
    log = logging.getLogger("gridcast.truth")
    stop = _chain_stop_event()
    while not stop.is_set():
        try:
            report = oracle.step()
        except GridcastError as exc:
            log.error("truth pass failed: %s", exc)
        else:
            for feed, epoch, value in report.submitted:
                log.info("truth submitted: %s epoch %d value %d", feed, epoch, value)
            for feed, epoch, root, count, total in report.roots:
                log.info(
                    "delivery root posted: %s epoch %d %s (%d meters, %d Wh)",
                    feed,
                    epoch,
                    root,
                    count,
                    total,
                )
            for feed, epoch, why in report.skipped:
                log.warning("truth not submitted: %s epoch %d (%s)", feed, epoch, why)
        if once:
            return
        stop.wait(interval)


@telemetry_app.command("follow")
def follow(
    feeds: str = typer.Option("solar,demand", help="Comma-separated feeds of the market file."),
    meters: int = typer.Option(10, min=1, help="Meters each feed is split across."),
    batch: int = typer.Option(500, min=1, help="Readings per MQTT message."),
    history_hours: float = typer.Option(72.0, min=0.0, help="Hours of history sent first."),
    interval: float = typer.Option(0.5, help="Seconds between passes."),
) -> None:
    """Publish per-meter telemetry for the data hour the chain's current epoch stands for."""
    import logging

    from gridcast.chain.deployment import Deployment
    from gridcast.chain.market import Market
    from gridcast.chain.views import web3_for
    from gridcast.diagnosis import exit_on_error
    from streaming.follow import ChainFollower
    from streaming.mqtt import Publisher

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    s = get_settings()
    with exit_on_error(ValueError, FileNotFoundError, KeyError):
        w3 = web3_for(s)
        dep = Deployment.load(s.deployment_file)
        market = Market.load(s.deployment_file.with_name("market.json"))
        wanted = tuple(f.strip() for f in feeds.split(",") if f.strip())
        with Publisher() as pub:
            follower = ChainFollower(
                w3,
                dep.contract(w3, "ForecastRegistry"),
                market,
                pub,
                feeds=wanted,
                meters=meters,
                batch=batch,
                history_hours=history_hours,
            )
            follower.run(_chain_stop_event(), interval)
