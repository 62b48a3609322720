"""The demo's energy exchange: three solar producers and two loads trade the solar feed's
delivery epochs, a market agent clears and settles each book, certificates are claimed from the
proven delivery every epoch and some are retired for a named beneficiary.

The participants are the library the commands use (:mod:`gridcast.exchange.agents`), each with
its own key and journal; they forecast with the operators' models (seasonal naive here: instant,
so the trading window between the consensus and the gate is never missed). The driver runs in a
thread beside the keeper: orders must land in the few seconds between the round's consensus and
each epoch's gate, so the participants send theirs in parallel.

Chain time runs 3600 / epoch_seconds faster than the data, so capacities are registered at that
multiple of the nameplate: capacity x epoch length is then the data hour's energy, which is what
the exchange and the certificates cap a sale and a claim at."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from gridcast.chain.deployment import Deployment
from gridcast.chain.errors import ContractRevertError
from gridcast.chain.market import Market
from gridcast.chain.submitter import Submitter
from gridcast.errors import GridcastError
from gridcast.exchange.agents import Exchange, Forecaster, LeafSource, list_feed
from gridcast.exchange.deploy import MarketParams
from gridcast.exchange.journal import ExchangeJournal

log = logging.getLogger(__name__)

TOKEN = 10**18
# Prices in token base units per Wh: 0.1 GRID per kWh at a consensus of 2,000 W, 0.001 GRID/kWh
# cheaper per 10 W more forecast sun; a band of +-50 %; the imbalance penalty 0.05 GRID per kWh.
MARKET = {
    "base_price": 10**14,
    "slope": -(10**9),
    "reference_value": 20_000,
    "band_bps": 5_000,
    "penalty_per_wh": 5 * 10**13,
}
BENEFICIARY = "Gridcast Primary School"
PURPOSE = "demo: 2026 scope 2 electricity"
EMISSION_G_PER_KWH = 400
MAX_FAILURES = 8  # consecutive failing passes before an epoch is given up


@dataclass(frozen=True)
class Producer:
    label: str
    meters: tuple[str, ...]
    nameplate_w: int
    limit_at: float  # where in the band it asks (0 = low, 1 = high)


@dataclass(frozen=True)
class Load:
    label: str
    share: float  # of the demand forecast, times WH_PER_GW
    limit_at: float


PRODUCERS = (
    Producer("solar A (4 meters)", tuple(f"solar-{i:03d}" for i in range(4)), 2_400, 0.1),
    Producer("solar B (3 meters)", tuple(f"solar-{i:03d}" for i in range(4, 7)), 1_800, 0.3),
    Producer("solar C (3 meters)", tuple(f"solar-{i:03d}" for i in range(7, 10)), 1_800, 0.5),
)
LOADS = (Load("load X (household)", 1.0, 0.9), Load("load Y (EV fleet)", 0.6, 0.5))
# Wh bid per GW of forecast regional demand (a load of ~1 kWh an hour at 5 GW).
WH_PER_GW = 200.0
FEED_SHARE_OF_METERS = 10  # the replay splits each feed across 10 meters


def demo_account(name: str) -> LocalAccount:
    """A deterministic local key per participant (the dev mnemonic has only ten)."""
    acct: LocalAccount = Account.from_key(keccak(text=f"gridcast-demo/{name}"))
    return acct


@dataclass
class Participant:
    label: str
    role: str  # "producer" | "load" | "market"
    ex: Exchange
    journal: ExchangeJournal
    asset_id: int = 0
    producer: Producer | None = None
    load: Load | None = None

    @property
    def address(self) -> str:
        return self.ex.address


@dataclass
class EpochState:
    placed: bool = False
    cleared: bool = False
    settled: bool = False
    certified: bool = False
    failures: int = 0
    notes: list[str] = field(default_factory=list)


class ExchangeDriver:
    """Set up the exchange (listing, assets, funded participants), then trade the target epochs
    in a thread until each is settled and certified."""

    def __init__(
        self,
        rpc_url: str,
        admin: Submitter,
        deployment: Deployment,
        market: Market,
        run_dir: Path,
        leaves: LeafSource,
        say: Callable[[str], None],
        *,
        gate_lead: int,
        settle_window: int,
    ) -> None:
        self.rpc_url = rpc_url
        self.admin = admin
        self.dep = deployment
        self.market = market
        self.leaves = leaves
        self.say = say
        self.solar = next(b for b in market.feeds if b.dataset == "solar")
        self.demand = next(b for b in market.feeds if b.dataset == "demand")
        self.feed_id = self.solar.feed_bytes
        params = MarketParams(
            MARKET["base_price"], MARKET["slope"], MARKET["reference_value"],
            MARKET["band_bps"], gate_lead, settle_window, MARKET["penalty_per_wh"],
        )  # fmt: skip
        list_feed(admin, deployment, self.feed_id, params)
        certificates = deployment.contract(admin.w3, "EnergyCertificates")
        admin.transact(certificates, "setEmissionFactor", self.feed_id, EMISSION_G_PER_KWH)
        registrar = Exchange(admin, deployment, market)
        epoch_length = registrar.view(self.feed_id).params.epoch_length
        speedup = 3600 // epoch_length
        token = deployment.contract(admin.w3, "GridToken")
        self.participants: list[Participant] = []
        for p in PRODUCERS:
            acct = self._fund(p.label, token)
            ex = self._exchange(acct)
            asset_id = registrar.register_asset(
                acct.address, "solar", p.nameplate_w * speedup, "solar", p.label, list(p.meters)
            )
            self.participants.append(
                Participant(p.label, "producer", ex, self._journal(run_dir, p.label), asset_id, p)
            )
        for ld in LOADS:
            acct = self._fund(ld.label, token)
            self.participants.append(
                Participant(
                    ld.label,
                    "load",
                    self._exchange(acct),
                    self._journal(run_dir, ld.label),
                    load=ld,
                )  # fmt: skip
            )
        agent = self._fund("market agent", token)
        self.agent = Participant(
            "market agent", "market", self._exchange(agent), self._journal(run_dir, "agent")
        )
        self.forecaster = Forecaster("seasonal-naive", market)
        # Before the first trading window, which lasts seconds: allowances approved, the
        # datasets loaded into the forecaster.
        with ThreadPoolExecutor(max_workers=len(self.participants)) as setup:
            list(setup.map(lambda member: member.ex.allow(1), self.participants))
        self.forecaster.value(registrar.view(self.feed_id), 0)
        self.forecaster.value(registrar.view(self.demand.feed_bytes), 0)
        self.epochs: dict[int, EpochState] = {}
        self.retired_wh = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.say(
            f"exchange: solar feed listed; {len(PRODUCERS)} solar assets registered "
            f"(ids {', '.join(str(p.asset_id) for p in self.producers)}); "
            f"{len(LOADS)} loads and a market agent funded"
        )

    # ------------------------------------------------------------------ set-up helpers

    def _fund(self, label: str, token: object) -> LocalAccount:
        acct = demo_account(label)
        from gridcast.node import rpc_call

        rpc_call(self.rpc_url, "anvil_setBalance", [acct.address, hex(10**21)])
        self.admin.transact(token, "transfer", acct.address, 100 * TOKEN)  # type: ignore[arg-type]
        return acct

    def _exchange(self, acct: LocalAccount) -> Exchange:
        # one HTTP connection per participant: they send in parallel threads
        w3 = Web3(Web3.HTTPProvider(self.rpc_url, request_kwargs={"timeout": 30}))
        return Exchange(Submitter(w3, acct), self.dep, self.market)

    @staticmethod
    def _journal(run_dir: Path, label: str) -> ExchangeJournal:
        name = "".join(c if c.isalnum() else "-" for c in label.lower())
        return ExchangeJournal(run_dir / "exchange" / f"{name}.sqlite")

    @property
    def producers(self) -> list[Participant]:
        return [p for p in self.participants if p.role == "producer"]

    @property
    def loads(self) -> list[Participant]:
        return [p for p in self.participants if p.role == "load"]

    @property
    def labels(self) -> dict[str, tuple[str, str]]:
        """address -> (label, role) of every trading participant."""
        return {p.address: (p.label, p.role) for p in self.participants}

    # ------------------------------------------------------------------ trading

    def follow(self, epochs: range) -> None:
        """Trade `epochs` in a background thread."""
        self.epochs = {e: EpochState() for e in epochs}
        self._thread = threading.Thread(target=self._run, name="exchange", daemon=True)
        self._thread.start()

    @property
    def done(self) -> bool:
        return bool(self.epochs) and all(s.certified for s in self.epochs.values())

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        with ThreadPoolExecutor(max_workers=len(self.participants)) as pool:
            self.pool = pool
            while not self._stop.is_set() and not self.done:
                try:
                    self.step()
                except GridcastError as exc:
                    log.warning("exchange step: %s", exc)
                    self.errors.append(str(exc))
                except Exception as exc:  # noqa: BLE001 - keep the demo's market going
                    log.exception("exchange step failed")
                    self.errors.append(f"{type(exc).__name__}: {exc}")
                self._stop.wait(0.3)

    def step(self) -> None:
        agent = self.agent.ex
        now = agent.now()
        for epoch, st in self.epochs.items():
            if st.certified:
                continue
            try:
                self._epoch_step(epoch, st, now)
            except GridcastError as exc:
                # A stage that keeps failing gives the epoch up instead of holding the demo.
                st.failures += 1
                log.warning("exchange epoch %d: %s", epoch, exc)
                if st.failures >= MAX_FAILURES:
                    st.notes.append(str(exc))
                    st.placed = st.cleared = st.settled = st.certified = True
                    self.errors.append(f"epoch {epoch}: {exc}")
                    self.say(f"[yellow]exchange: epoch {epoch} given up: {exc}[/]")

    def _epoch_step(self, epoch: int, st: EpochState, now: int) -> None:
        agent = self.agent.ex
        gate = agent.gate(self.feed_id, epoch)
        if not st.placed:
            if now >= gate:
                st.placed = True
                self.say(f"[yellow]exchange: epoch {epoch}'s gate closed before any order[/]")
            elif agent.band(self.feed_id, epoch) is not None:
                self._place(epoch)
                st.placed = True
        if st.placed and not st.cleared and now >= gate:
            c = agent.clear(self.feed_id, epoch, self.agent.journal)
            st.cleared = True
            if c is not None:
                price = c.price * 1000 / TOKEN
                self.say(
                    f"exchange: epoch {epoch} cleared at {price:.4f} GRID/kWh, {c.volume} Wh traded"
                )
        if st.cleared and not st.settled:
            self._settle(epoch)
        if st.settled and not st.certified:
            self._certify(epoch)

    def _place(self, epoch: int) -> None:
        view = self.agent.ex.view(self.feed_id)
        demand_view = self.agent.ex.view(self.demand.feed_bytes)
        demand_epoch = demand_view.epoch_of(view.epoch_start(epoch))

        def place(p: Participant) -> str:
            if p.producer is not None:
                share = len(p.producer.meters) / FEED_SHARE_OF_METERS
                asset = p.ex.asset(p.asset_id)
                volume = min(
                    self.forecaster.energy_wh(view, epoch, share, 1.0), p.ex.max_sell_wh(asset)
                )
                side, limit_at = "sell", p.producer.limit_at
            else:
                assert p.load is not None
                volume = self.forecaster.energy_wh(
                    demand_view, demand_epoch, p.load.share, WH_PER_GW
                )
                side, limit_at = "buy", p.load.limit_at
            if volume <= 0:
                return f"{p.label}: nothing to {side}"
            limit = p.ex.limit_from_band(self.feed_id, epoch, limit_at)
            try:
                p.ex.place(
                    p.journal, self.feed_id, epoch, side=side, volume_wh=volume,
                    limit_price=limit, asset_id=p.asset_id,
                )  # fmt: skip
            except ContractRevertError as exc:
                return f"{p.label}: {exc}"
            return f"{p.label} {side}s {volume} Wh"

        done = list(self.pool.map(place, self.participants))
        self.say(f"exchange: epoch {epoch} orders: " + "; ".join(done))

    def _settle(self, epoch: int) -> None:
        agent = self.agent.ex
        report = agent.settle(self.feed_id, epoch, self.leaves, self.agent.journal)
        if not agent.book(self.feed_id, epoch).open:
            self.epochs[epoch].settled = True
            return
        if any(not o.settled for o in agent.orders(self.feed_id, epoch)):
            return
        self.epochs[epoch].settled = True
        self.say(
            f"exchange: epoch {epoch} settled against metered delivery "
            f"({len(report.sells)} sells, {len(report.buys)} buys)"
        )
        list(self.pool.map(lambda p: p.ex.withdraw(), self.participants))

    def _certify(self, epoch: int) -> None:
        agent = self.agent.ex
        status = agent.root_status(self.feed_id, epoch)
        if status == "void":
            self.epochs[epoch].certified = True
            return
        if status != "final":
            return
        # Each producer claims its own asset's certificates (in parallel: one block for all).
        claims = self.pool.map(
            lambda p: p.ex.claim_certificates(p.asset_id, [epoch], self.leaves, p.journal),
            self.producers,
        )
        minted = sum(wh for claimed in claims for _, wh in claimed)
        # The first producer retires half of what it holds for the beneficiary.
        first = self.producers[0]
        held = first.ex.holdings(first.address)
        for cert_id, wh in held.items():
            amount = wh // 2
            if amount:
                first.ex.retire(cert_id, amount, BENEFICIARY, PURPOSE)
                self.retired_wh += amount
        self.epochs[epoch].certified = True
        self.say(f"certificates: epoch {epoch} minted {minted} Wh; retired for {BENEFICIARY}")
