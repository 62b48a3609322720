"""The exchange's participants as code: sellers (asset owners offering their forecast generation),
buyers (loads bidding their forecast demand), the clearer and the settler, and certificate
claims and retirements. ``gridcast exchange``, ``gridcast certificates`` and the demo drive these.

Every write goes through the participant's :class:`~gridcast.exchange.journal.ExchangeJournal`
first and asks the chain before acting, so any of them can be killed and restarted at any moment:
an order is never placed twice (a planned order is looked for in the book before it is sent), a
book is cleared once (``ExchangeAlreadyCleared`` is success), a settled order is never settled
again (``Order.settled``), a claimed epoch is never claimed again (``claimed(asset, epoch)``).

Metered delivery comes from the streaming job's per-meter epoch energy (``epoch_meter_energy``):
the tree rebuilt from it must have the root the truth oracle posted, or nothing is proven.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

from web3 import Web3
from web3.logs import DISCARD

from gridcast.chain.clearing import Clearing, Order, clear
from gridcast.chain.deployment import Deployment
from gridcast.chain.errors import ContractRevertError
from gridcast.chain.feeds import FeedView
from gridcast.chain.market import FeedBinding, Market
from gridcast.chain.merkle import DeliveryTree, Reading, meter_id
from gridcast.chain.submitter import Submitter
from gridcast.errors import ConfigurationError, NonRetryableError, NotReadyError
from gridcast.exchange.journal import DONE, PLACED, PLANNED, SETTLED, ExchangeJournal

log = logging.getLogger(__name__)

KINDS = ("solar", "wind", "storage", "load")
ROOT_STATUS = ("none", "pending", "final", "void")
MAX_UINT = 2**256 - 1


class ExchangeError(NonRetryableError):
    """Bad input for the exchange (an unknown asset or feed, a price outside the band)."""


class DeliveryMismatchError(NonRetryableError):
    """The landed telemetry does not rebuild the root posted on-chain."""


@dataclass(frozen=True)
class Asset:
    asset_id: int
    owner: str
    kind: str
    capacity_w: int
    feed_id: bytes
    location: str
    meter_ids: tuple[bytes, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "asset_id": self.asset_id,
            "owner": self.owner,
            "kind": self.kind,
            "capacity_w": self.capacity_w,
            "feed_id": "0x" + self.feed_id.hex(),
            "location": self.location,
            "meter_ids": ["0x" + m.hex() for m in self.meter_ids],
        }


@dataclass(frozen=True)
class Book:
    band_low: int
    band_high: int
    penalty_per_wh: int
    gate_at: int
    settle_after: int
    open: bool
    cleared: bool
    voided: bool
    price: int
    volume: int
    unsettled_sells: int

    @classmethod
    def of(cls, raw: Sequence[Any]) -> Book:
        return cls(
            int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]), bool(raw[5]),
            bool(raw[6]), bool(raw[7]), int(raw[8]), int(raw[9]), int(raw[14]),
        )  # fmt: skip


@dataclass(frozen=True)
class BookOrder:
    index: int
    trader: str
    asset_id: int
    settled: bool
    volume_wh: int
    limit_price: int
    is_sell: bool
    cancelled: bool


@dataclass
class SettleReport:
    sells: list[int] = field(default_factory=list)
    buys: list[int] = field(default_factory=list)
    waiting: str | None = None  # why nothing (more) could be settled yet


LeafSource = Callable[[FeedBinding, int], list[tuple[str, int, int]]]
"""(binding, chain epoch) -> the epoch's (meter name, epoch, Wh) leaves as landed."""


def database_leaves(database_url: str) -> LeafSource:
    """Leaves from the streaming job's ``epoch_meter_energy`` table."""
    from streaming.actuals import meter_energy_leaves

    def leaves(binding: FeedBinding, epoch: int) -> list[tuple[str, int, int]]:
        start = binding.data_time(epoch).replace(tzinfo=UTC)
        return meter_energy_leaves(database_url, binding.dataset, start, epoch=epoch)

    return leaves


class Exchange:
    """One participant's view of the second-wave contracts, signing with `submitter`."""

    def __init__(
        self,
        submitter: Submitter | None,
        deployment: Deployment,
        market: Market,
        *,
        w3: Web3 | None = None,
    ) -> None:
        """`submitter` signs; None (with `w3`) makes a read-only view."""
        if not deployment.exchange:
            raise ConfigurationError(
                "this deployment has no exchange: redeploy with `gridcast deploy` "
                "(the second wave is on by default)"
            )
        self._sub = submitter
        found = submitter.w3 if submitter is not None else w3
        if found is None:
            raise ConfigurationError("an Exchange needs a submitter or a web3 connection")
        self.w3: Web3 = found
        self.dep = deployment
        self.market = market
        self.exchange = deployment.contract(self.w3, "EnergyExchange")
        self.delivery = deployment.contract(self.w3, "MeteredDelivery")
        self.assets = deployment.contract(self.w3, "AssetRegistry")
        self.certificates = deployment.contract(self.w3, "EnergyCertificates")
        self.token = deployment.contract(self.w3, "GridToken")
        self.registry = deployment.contract(self.w3, "ForecastRegistry")
        self._views: dict[bytes, FeedView] = {}
        self._trees: dict[tuple[bytes, int], DeliveryTree] = {}

    @property
    def sub(self) -> Submitter:
        if self._sub is None:
            raise ConfigurationError("this command signs: pass --account or --dev-key")
        return self._sub

    @property
    def address(self) -> str:
        return self.sub.address

    def now(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    # ------------------------------------------------------------------ feeds and assets

    def binding(self, feed: str | bytes) -> FeedBinding:
        """A feed by dataset name (``solar``) or id (``0x…``)."""
        if isinstance(feed, bytes):
            return self.market.binding(feed)
        for b in self.market.feeds:
            if feed in (b.dataset, b.feed_id) or feed.lower() == b.feed_id.lower():
                return b
        names = ", ".join(b.dataset for b in self.market.feeds)
        raise ExchangeError(f"unknown feed {feed!r}: one of {names} or its 0x id")

    def market_id(self, feed: str | bytes, renewable: bool = False) -> bytes:
        """The exchange market of a feed: the feed id itself, or its renewable-only market
        (``renewableMarketOf``: only solar and wind sell there, and the certificates of the
        delivered energy go to its buyers at settlement)."""
        feed_id = self.binding(feed).feed_bytes
        if not renewable:
            return feed_id
        from gridcast.exchange.deploy import renewable_market_id

        return renewable_market_id(feed_id)

    def feed_of(self, market_id: bytes) -> bytes:
        """The forecast feed a market id trades (its own id for a plain market)."""
        from gridcast.exchange.deploy import renewable_market_id

        for b in self.market.feeds:
            if market_id in (b.feed_bytes, renewable_market_id(b.feed_bytes)):
                return b.feed_bytes
        raise ExchangeError(f"market 0x{market_id.hex()} is not one of this market file's feeds")

    def view(self, feed_id: bytes) -> FeedView:
        if feed_id not in self._views:
            self._views[feed_id] = FeedView.read(self.registry, feed_id)
        return self._views[feed_id]

    def asset(self, asset_id: int) -> Asset:
        try:
            raw = _view(self.assets.functions.assetOf(asset_id))
            owner = _view(self.assets.functions.ownerOf(asset_id))
        except ContractRevertError as exc:
            raise ExchangeError(f"no asset {asset_id} in the registry") from exc
        kind, capacity, feed_id, location, meters = raw
        return Asset(
            asset_id, owner, KINDS[int(kind)], int(capacity), bytes(feed_id), location,
            tuple(bytes(m) for m in meters),
        )  # fmt: skip

    def asset_count(self) -> int:
        return int(self.assets.functions.assetCount().call())

    def register_asset(
        self,
        owner: str,
        kind: str,
        capacity_w: int,
        feed: str,
        location: str,
        meters: Sequence[str],
    ) -> int:
        """Register an asset (the signer needs REGISTRAR_ROLE); meters by name (keccak ids)."""
        if kind not in KINDS:
            raise ExchangeError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
        if not meters:
            raise ExchangeError("an asset needs at least one meter")
        binding = self.binding(feed)
        ids = [meter_id(m) for m in meters]
        receipt = self.sub.transact(
            self.assets, "register", Web3.to_checksum_address(owner), KINDS.index(kind),
            capacity_w, binding.feed_bytes, location, ids,
        )  # fmt: skip
        if receipt is None:
            return 0
        events = self.assets.events.AssetRegistered().process_receipt(receipt, errors=DISCARD)
        return int(events[0]["args"]["assetId"])

    def max_sell_wh(self, asset: Asset) -> int:
        """What the exchange lets the asset offer per epoch: capacity x epoch length."""
        return asset.capacity_w * self.view(asset.feed_id).params.epoch_length // 3600

    # ------------------------------------------------------------------ books

    def book(self, feed_id: bytes, epoch: int) -> Book:
        return Book.of(self.exchange.functions.bookOf(feed_id, epoch).call())

    def orders(self, feed_id: bytes, epoch: int) -> list[BookOrder]:
        raw = self.exchange.functions.ordersOf(feed_id, epoch).call()
        return [
            BookOrder(i, o[0], int(o[1]), bool(o[2]), int(o[3]), int(o[4]), bool(o[5]), bool(o[6]))
            for i, o in enumerate(raw)
        ]

    def gate(self, feed_id: bytes, epoch: int) -> int:
        return int(self.exchange.functions.gateOf(feed_id, epoch).call())

    def band(self, feed_id: bytes, epoch: int) -> tuple[int, int, int] | None:
        """(low, high, consensus) of the epoch's book, None while its consensus is not final."""
        try:
            low, high, consensus = _view(self.exchange.functions.bandOf(feed_id, epoch))
        except ContractRevertError as exc:
            if exc.name == "ExchangeNoConsensus":
                return None
            raise
        return int(low), int(high), int(consensus)

    def tradable(self, feed_id: bytes, epoch: int) -> bool:
        """The epoch's consensus is final and its gate still open."""
        return self.now() < self.gate(feed_id, epoch) - 1 and self.band(feed_id, epoch) is not None

    def limit_from_band(self, feed_id: bytes, epoch: int, at: float) -> int:
        """A limit price `at` of the way from the band's low (0) to its high (1)."""
        band = self.band(feed_id, epoch)
        if band is None:
            raise NotReadyError(f"no final consensus for epoch {epoch} yet: the band is unknown")
        low, high, _ = band
        return low + int((high - low) * min(max(at, 0.0), 1.0))

    def allow(self, amount: int) -> None:
        """Let the exchange take `amount` of the signer's tokens (approves the maximum once)."""
        allowance = int(self.token.functions.allowance(self.address, self.exchange.address).call())
        if allowance < amount:
            self.sub.transact(self.token, "approve", self.exchange.address, MAX_UINT)

    # ------------------------------------------------------------------ orders

    def place(
        self,
        journal: ExchangeJournal,
        feed_id: bytes,
        epoch: int,
        *,
        side: str,
        volume_wh: int,
        limit_price: int,
        asset_id: int = 0,
    ) -> tuple[int | None, bool]:
        """Place a buy or a sell once: (its index in the book, whether this call sent it)."""
        if volume_wh <= 0:
            raise ExchangeError(f"nothing to offer: volume {volume_wh} Wh")
        feed_hex = "0x" + feed_id.hex()
        entry = journal.plan(feed_hex, epoch, self.address, side, asset_id, volume_wh, limit_price)
        if entry.status != PLANNED:
            return entry.index, False
        # Sent before a crash? The book is the authority.
        for o in self.orders(feed_id, epoch):
            if (
                o.trader == self.address
                and o.is_sell == entry.is_sell
                and o.asset_id == entry.asset_id
                and o.volume_wh == entry.volume_wh
                and o.limit_price == entry.limit_price
            ):
                journal.mark_order(entry, PLACED, index=o.index, note="found in the book")
                return o.index, False
        if entry.is_sell:
            collateral = entry.volume_wh * self._penalty_per_wh(feed_id, epoch)
            self.allow(collateral)
            receipt = self.sub.transact(
                self.exchange, "placeSell", feed_id, epoch, entry.asset_id, entry.volume_wh,
                entry.limit_price,
            )  # fmt: skip
        else:
            self.allow(entry.volume_wh * entry.limit_price)
            receipt = self.sub.transact(
                self.exchange, "placeBuy", feed_id, epoch, entry.volume_wh, entry.limit_price
            )
        if receipt is None:  # dry run
            return None, False
        placed = self.exchange.events.OrderPlaced().process_receipt(receipt, errors=DISCARD)
        index = int(placed[0]["args"]["index"])
        journal.mark_order(entry, PLACED, index=index, tx=receipt["transactionHash"].hex())
        return index, True

    def _penalty_per_wh(self, feed_id: bytes, epoch: int) -> int:
        book = self.book(feed_id, epoch)
        if book.open:
            return book.penalty_per_wh
        market = self.exchange.functions.marketOf(feed_id).call()
        return int(market[0][6])

    def resume(self, journal: ExchangeJournal) -> list[tuple[str, int, int | None]]:
        """Re-send (or find) every order planned before a crash whose gate is still open."""
        out = []
        for e in journal.orders(PLANNED):
            if e.trader != self.address:
                continue
            feed_id = bytes.fromhex(e.feed[2:])
            if self.now() >= self.gate(feed_id, e.epoch):
                journal.mark_order(e, DONE, note="gate closed before it was sent")
                continue
            index, _ = self.place(
                journal, feed_id, e.epoch, side=e.side, volume_wh=e.volume_wh,
                limit_price=e.limit_price, asset_id=e.asset_id,
            )  # fmt: skip
            out.append((e.side, e.epoch, index))
        return out

    # ------------------------------------------------------------------ clearing

    def clearing(self, feed_id: bytes, epoch: int) -> Clearing:
        """The book's clearing, computed off-chain exactly as the contract verifies it."""
        book = [
            Order(o.is_sell, o.volume_wh, o.limit_price)
            for o in self.orders(feed_id, epoch)
            if not o.cancelled
        ]
        return clear(book)

    def clear(
        self, feed_id: bytes, epoch: int, journal: ExchangeJournal | None = None
    ) -> Clearing | None:
        """Clear the book after its gate (None: nothing to clear, or not yet)."""
        book = self.book(feed_id, epoch)
        if not book.open:
            return None
        feed_hex = "0x" + feed_id.hex()
        c = self.clearing(feed_id, epoch)
        if book.cleared:
            if journal is not None:
                journal.record("clear", feed_hex, epoch, DONE, detail="already cleared")
            return c
        if self.now() < book.gate_at:
            return None
        try:
            receipt = self.sub.transact(self.exchange, "clear", feed_id, epoch, c.low, c.high)
        except ContractRevertError as exc:
            if exc.name != "ExchangeAlreadyCleared":
                raise
            receipt = None
        if journal is not None:
            tx = receipt["transactionHash"].hex() if receipt is not None else None
            journal.record("clear", feed_hex, epoch, DONE, tx=tx, detail=f"{c.price} {c.volume}")
        return c

    # ------------------------------------------------------------------ delivery

    def root_status(self, feed_id: bytes, epoch: int) -> str:
        return ROOT_STATUS[int(self.delivery.functions.statusOf(feed_id, epoch).call())]

    def delivery_tree(self, feed_id: bytes, epoch: int, leaves: LeafSource) -> DeliveryTree:
        """The epoch's tree from the landed telemetry, checked against the root on-chain."""
        key = (feed_id, epoch)
        if key in self._trees:
            return self._trees[key]
        binding = self.market.binding(feed_id)
        rows = leaves(binding, epoch)
        posted = self.delivery.functions.rootOf(feed_id, epoch).call()
        if not rows:
            raise DeliveryMismatchError(
                f"no landed meter energy for {binding.dataset} epoch {epoch} "
                "(is DATABASE_URL the streaming job's database?)"
            )
        tree = DeliveryTree([Reading(meter_id(m), e, wh) for m, e, wh in rows])
        if tree.root != bytes(posted[0]):
            raise DeliveryMismatchError(
                f"the landed telemetry of {binding.dataset} epoch {epoch} rebuilds root "
                f"0x{tree.root.hex()}, the chain has 0x{bytes(posted[0]).hex()}"
            )
        self._trees[key] = tree
        return tree

    def proofs(
        self, tree: DeliveryTree, meters: Iterable[bytes]
    ) -> tuple[list[bytes], list[int], list[list[bytes]]]:
        """Sorted meter ids present in the tree, their energy and proofs (a Delivery)."""
        present = sorted(m for m in meters if _in_tree(tree, m))
        return (
            present,
            [tree.reading(m).energy_wh for m in present],
            [tree.proof(m) for m in present],
        )

    # ------------------------------------------------------------------ settlement

    def settle(
        self,
        feed_id: bytes,
        epoch: int,
        leaves: LeafSource,
        journal: ExchangeJournal | None = None,
        *,
        only_mine: bool = False,
    ) -> SettleReport:
        """Settle every open order of a book (or only the signer's) in one transaction: the sells
        with their proven delivery, then the buys. A filled sell waits for the final root; an
        unproven filled sell of someone else waits for the book's settleAfter."""
        report = SettleReport()
        book = self.book(feed_id, epoch)
        if not book.open:
            report.waiting = "no book"
            return report
        feed = self.feed_of(feed_id)  # `feed_id` may be a renewable market's id
        status = self.root_status(feed, epoch)
        if not book.cleared and status != "void":
            report.waiting = "not cleared"
            return report
        orders = [o for o in self.orders(feed_id, epoch) if not o.settled]
        if only_mine:
            orders = [o for o in orders if o.trader == self.address]
        c = self.clearing(feed_id, epoch)
        now = self.now()
        sells: list[int] = []
        deliveries: list[tuple[list[bytes], list[int], list[list[bytes]]]] = []
        filled_here = 0  # filled sells this batch settles
        for o in (o for o in orders if o.is_sell):
            filled = not o.cancelled and c.fill(Order(True, o.volume_wh, o.limit_price)) > 0
            if status == "void" or not filled:
                sells.append(o.index)
                deliveries.append(([], [], []))
                continue
            if status != "final":
                report.waiting = f"delivery root {status}"
                continue
            meters = self.asset(o.asset_id).meter_ids
            proof = self.proofs(self.delivery_tree(feed, epoch, leaves), meters)
            if not proof[0] and o.trader != self.address and now < book.settle_after:
                report.waiting = "an unproven sell waits for the book's settleAfter"
                continue
            sells.append(o.index)
            deliveries.append(proof)
            filled_here += 1
        # A filled buy needs every filled sell settled first (the sellers' pay is its charge).
        buys: list[int] = []
        if status == "void" or book.unsettled_sells == filled_here:
            buys = [o.index for o in orders if not o.is_sell]
        if not sells and not buys:
            return report
        self.sub.transact(self.exchange, "settleBatch", feed_id, epoch, sells, deliveries, buys)
        report.sells, report.buys = sells, buys
        if journal is not None:
            feed_hex = "0x" + feed_id.hex()
            for e in journal.orders(PLACED):
                if (
                    e.feed == feed_hex
                    and e.epoch == epoch
                    and e.index in (sells if e.is_sell else buys)
                ):
                    journal.mark_order(e, SETTLED)
        return report

    def withdraw(self) -> int:
        amount = int(self.exchange.functions.balanceOf(self.address).call())
        if amount:
            self.sub.transact(self.exchange, "withdraw")
        return amount

    # ------------------------------------------------------------------ certificates

    def claim_certificates(
        self,
        asset_id: int,
        epochs: Iterable[int],
        leaves: LeafSource,
        journal: ExchangeJournal | None = None,
    ) -> list[tuple[int, int]]:
        """Claim the asset's certificates for every given epoch whose root is final and that is
        not claimed yet, batched in as few transactions as the meters allow (one when every meter
        reported in every epoch). Returns (epoch, Wh) claimed."""
        asset = self.asset(asset_id)
        if asset.kind not in ("solar", "wind"):
            raise ExchangeError(f"asset {asset_id} is {asset.kind}: only solar and wind certify")
        groups: dict[tuple[bytes, ...], list[tuple[int, list[int], list[list[bytes]]]]] = {}
        for epoch in sorted(set(epochs)):
            if self.certificates.functions.claimed(asset_id, epoch).call():
                continue
            if self.root_status(asset.feed_id, epoch) != "final":
                continue
            tree = self.delivery_tree(asset.feed_id, epoch, leaves)
            ids, energy, proofs = self.proofs(tree, asset.meter_ids)
            if not ids or sum(energy) == 0:
                continue
            groups.setdefault(tuple(ids), []).append((epoch, energy, proofs))
        out: list[tuple[int, int]] = []
        for group, claims in groups.items():
            self.sub.transact(
                self.certificates, "claim", asset_id, list(group),
                [(e, energy, proofs) for e, energy, proofs in claims],
            )  # fmt: skip
            for e, energy, _ in claims:
                out.append((e, sum(energy)))
                if journal is not None:
                    journal.record(
                        "claim", "0x" + asset.feed_id.hex(), e, DONE, subject=str(asset_id),
                        detail=str(sum(energy)),
                    )  # fmt: skip
        return out

    def retire(self, cert_id: int, amount: int, beneficiary: str, purpose: str) -> int:
        """Retire `amount` Wh of certificate `cert_id` held by the signer; the retirement id."""
        if amount <= 0:
            raise ExchangeError("retire a positive amount of Wh")
        held = int(self.certificates.functions.balanceOf(self.address, cert_id).call())
        if amount > held:
            raise ExchangeError(
                f"{self.address} holds {held} Wh of certificate {cert_id}, not {amount}"
            )
        receipt = self.sub.transact(
            self.certificates, "retire", cert_id, amount, beneficiary, purpose
        )
        if receipt is None:
            return -1
        ev = self.certificates.events.CertificatesRetired().process_receipt(receipt, errors=DISCARD)
        return int(ev[0]["args"]["retirementId"])

    def holdings(self, account: str) -> dict[int, int]:
        """Certificate id -> Wh held by `account` (from the mint and transfer logs)."""
        ids: set[int] = set()
        start = self.dep.block
        for name in ("TransferSingle", "TransferBatch"):
            event = getattr(self.certificates.events, name)
            for ev in event().get_logs(from_block=start):
                a = ev["args"]
                if account.lower() not in (str(a["to"]).lower(), str(a["from"]).lower()):
                    continue
                ids.update([int(a["id"])] if name == "TransferSingle" else map(int, a["ids"]))
        out = {}
        for i in sorted(ids):
            bal = int(self.certificates.functions.balanceOf(account, i).call())
            if bal:
                out[i] = bal
        return out


def list_feed(admin: Submitter, deployment: Deployment, feed_id: bytes, params: Any) -> None:
    """List a feed on the exchange with its market parameters (`params`: a
    :class:`gridcast.exchange.deploy.MarketParams`; the signer needs PARAMS_ROLE)."""
    exchange = deployment.contract(admin.w3, "EnergyExchange")
    admin.transact(exchange, "setMarketParams", feed_id, params.as_tuple())


class Forecaster:
    """An asset owner's or a load's forecast of an epoch's energy, from the operators' curve
    sources (:class:`ml.oracle_source.ForecasterSource`: the same models, over the same data)."""

    def __init__(self, model: str, market: Market) -> None:
        from ml.oracle_source import ForecasterSource, forecaster_by_name

        try:
            self.source = ForecasterSource(forecaster_by_name(model, market), market)
        except ValueError as exc:
            raise ExchangeError(str(exc)) from exc
        self.market = market
        self.name = self.source.name
        self._cache: dict[tuple[bytes, int], float] = {}

    def value(self, view: FeedView, epoch: int) -> float:
        """The forecast p50 of the feed for `epoch`, in the feed's unit (one-epoch curve)."""
        key = (view.feed_id, epoch)
        if key not in self._cache:
            values, _, _ = self.source.curve(view, epoch, 1)
            self._cache[key] = view.unscale(values[0])
        return self._cache[key]

    def energy_wh(self, view: FeedView, epoch: int, share: float, wh_per_unit: float) -> int:
        """`share` of the forecast, as Wh over the epoch's data step (`wh_per_unit` Wh per
        unit-hour: 1 for a feed in W, 1e9 for one in GW), never negative."""
        binding = self.market.binding(view.feed_id)
        hours = binding.data_step_s / 3600
        return max(0, int(self.value(view, epoch) * wh_per_unit * hours * share))


def _in_tree(tree: DeliveryTree, meter: bytes) -> bool:
    try:
        tree.reading(meter)
    except NonRetryableError:
        return False
    return True


def _view(call: Any) -> Any:
    """A view call whose revert surfaces as the decoded ContractRevertError."""
    from web3.exceptions import ContractCustomError, ContractLogicError

    from gridcast.chain.submitter import classify

    try:
        return call.call()
    except (ContractCustomError, ContractLogicError) as exc:
        raise classify(exc) from exc
