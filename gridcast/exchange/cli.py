"""``gridcast exchange``: the energy exchange's participants and its offline tools.

On-chain (restart-safe through a journal, like the operator's): ``sell`` (an asset owner offers
its forecast generation, forecast by the operators' models), ``buy`` (a load bids its forecast
demand, or a fixed volume, with a limit price), ``clear`` (computes a book's uniform-price
clearing off-chain and submits it; the contract verifies it) and ``settle`` (proves each sell's
metered delivery against the posted root, from the streaming job's landed meter energy, pays the
sellers, charges the buyers, takes imbalance penalties; then withdraws). ``--follow`` keeps
``sell`` and ``buy`` running: they place as books open and settle their own orders as roots
become final.

Offline: ``clear-book`` computes the clearing of a book (the ``low high`` to pass to
``EnergyExchange.clear``); ``delivery-tree`` builds an epoch's metered-delivery Merkle tree (the
root, leaf count and total the truth reporter posts, and each meter's proof a seller or an asset
owner submits). Both read JSON and print JSON on one line.

Bad input is one ``error:`` line and exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from gridcast.chain.clearing import ClearingError, Order, clear
from gridcast.chain.merkle import MerkleError, build_tree
from gridcast.diagnosis import exit_on_error
from gridcast.errors import fail

app = typer.Typer(
    help="Energy exchange: sell, buy, clear, settle; offline clearing and delivery trees.",
    no_args_is_help=True,
)

BookFile = typer.Argument(
    ..., help='JSON list of orders: {"side": "buy"|"sell", "volume_wh": int, "limit_price": int}.'
)
ReadingsFile = typer.Argument(
    ..., help='JSON object of meter name -> energy in Wh, e.g. {"m1": 1200}.'
)


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        fail(f"{path} is not JSON: {e.msg} (line {e.lineno})")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"{what} must be an integer, got {value!r}")
    return value


@app.command("clear-book")
def clear_book(path: Path = BookFile) -> None:
    """Print the uniform-price clearing of a book: low, high, price, volume and the marginal
    fractions (buy_num/buy_den, sell_num/sell_den)."""
    rows = _load(path)
    if not isinstance(rows, list):
        fail(f"{path}: expected a JSON list of orders")
    orders = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("side") not in ("buy", "sell"):
            fail(f"order {i}: expected an object with side 'buy' or 'sell'")
        volume = _int(row.get("volume_wh"), f"order {i} volume_wh")
        limit = _int(row.get("limit_price"), f"order {i} limit_price")
        orders.append(Order(row["side"] == "sell", volume, limit))
    try:
        c = clear(orders)
    except ClearingError as e:
        fail(str(e))
    print(json.dumps(c.__dict__))


@app.command("delivery-tree")
def delivery_tree(
    path: Path = ReadingsFile,
    epoch: int = typer.Option(..., "--epoch", min=0, help="The epoch the readings cover."),
) -> None:
    """Print an epoch's delivery root, leaf count, total Wh and every meter's proof."""
    data = _load(path)
    if not isinstance(data, dict) or not data:
        fail(f"{path}: expected a non-empty JSON object of meter name -> Wh")
    readings = {str(k): _int(v, f"energy of meter {k!r}") for k, v in data.items()}
    try:
        tree = build_tree(epoch, readings)
    except MerkleError as e:
        fail(str(e))
    out = {
        "root": "0x" + tree.root.hex(),
        "count": tree.count,
        "total_wh": tree.total_wh,
        "proofs": {
            name: {
                "meter_id": "0x" + r.meter.hex(),
                "energy_wh": r.energy_wh,
                "proof": ["0x" + p.hex() for p in tree.proof(r.meter)],
            }
            for name, r in zip(readings, tree.readings, strict=True)
        },
    }
    print(json.dumps(out))


# ---------------------------------------------------------------------------- on-chain agents

AccountOpt = typer.Option(None, "--account", help="Ape keystore alias of the signing key.")
DevKeyOpt = typer.Option(None, "--dev-key", help="Index of an anvil dev key (local chains only).")
JournalOpt = typer.Option(
    None, "--journal", help="Journal file (default: <state dir>/exchange-<address>.sqlite)."
)
FeedOpt = typer.Option(..., "--feed", help="The feed (market) by dataset name or 0x id.")
EpochOpt = typer.Option(
    None, "--epoch", min=0, help="One epoch; default: every epoch whose book is open for orders."
)
LimitPriceOpt = typer.Option(
    None, "--limit-price", min=0, help="Limit price in token base units per Wh."
)
FollowOpt = typer.Option(False, "--follow", help="Keep running: place, settle, withdraw.")
IntervalOpt = typer.Option(2.0, "--interval", min=0.1, help="Seconds between passes (--follow).")
RenewableOpt = typer.Option(
    False,
    "--renewable",
    help="The feed's renewable-only market (solar and wind sell; certificates follow the energy).",
)


class _Session:
    def __init__(self, account: str | None, dev_key: int | None, journal: Path | None) -> None:
        from gridcast.chain.views import KeyChoice, connect
        from gridcast.exchange.agents import Exchange
        from gridcast.exchange.journal import ExchangeJournal
        from gridcast.settings import get_settings

        s = get_settings()
        self.conn = connect(s, KeyChoice(account, dev_key))
        self.ex = Exchange(self.conn.submitter, self.conn.deployment, self.conn.market)
        path = journal or s.state_dir / f"exchange-{self.conn.account.address}.sqlite"
        self.journal = ExchangeJournal(path)
        self.settings = s

    def leaves(self) -> Any:
        from gridcast.exchange.agents import database_leaves
        from gridcast.services import database_url

        return database_leaves(database_url(self.settings))

    def epochs(self, feed_id: bytes, epoch: int | None) -> list[int]:
        """`epoch`, or every epoch around now whose book takes orders."""
        if epoch is not None:
            return [epoch]
        view = self.ex.view(self.ex.feed_of(feed_id))
        now = self.ex.now()
        first = max(0, view.epoch_of(now))
        last = first + 2 * view.params.epochs_per_round
        return [e for e in range(first, last) if self.ex.tradable(feed_id, e)]


def _limit(s: _Session, feed_id: bytes, epoch: int, price: int | None, at: float) -> int:
    return price if price is not None else s.ex.limit_from_band(feed_id, epoch, at)


def _echo(**fields: Any) -> None:
    typer.echo(json.dumps(fields))


def _loop(step: Any, follow: bool, interval: float) -> None:
    import time

    from gridcast.errors import RetryableError

    while True:
        try:
            step()
        except RetryableError as exc:
            if not follow:
                raise
            typer.echo(f"waiting: {exc}", err=True)
        if not follow:
            return
        time.sleep(interval)


def _settle_mine(s: _Session, feed_id: bytes, epochs: set[int]) -> None:
    for epoch in sorted(epochs):
        report = s.ex.settle(feed_id, epoch, s.leaves(), s.journal, only_mine=True)
        if report.sells or report.buys:
            _echo(settled=epoch, sells=report.sells, buys=report.buys)
    amount = s.ex.withdraw()
    if amount:
        _echo(withdrawn=amount)


@app.command()
@exit_on_error(FileNotFoundError)
def sell(
    asset: int = typer.Option(
        ..., "--asset", min=1, help="Your asset's id (see `gridcast assets list`)."
    ),
    epoch: int | None = EpochOpt,
    model: str = typer.Option(
        "seasonal-naive", "--model", help="Forecaster of the generation (as `gridcast oracle run`)."
    ),
    share: float = typer.Option(
        1.0, "--share", min=0.0, max=1.0, help="Share of the feed's forecast this asset produces."
    ),
    volume_wh: int | None = typer.Option(
        None, "--volume-wh", min=1, help="Offer this volume instead of the forecast."
    ),
    limit_price: int | None = LimitPriceOpt,
    limit_at: float = typer.Option(
        0.0, "--limit-at", min=0.0, max=1.0, help="Limit at this point of the band (0 low, 1 high)."
    ),
    renewable: bool = RenewableOpt,
    follow: bool = FollowOpt,
    interval: float = IntervalOpt,
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
    journal: Path | None = JournalOpt,
) -> None:
    """Offer an asset's forecast generation (capped at capacity x epoch length), collateral posted
    for the imbalance penalty. With --follow: keep offering as books open, prove delivery and
    settle each sold epoch once its delivery root is final, withdraw the proceeds."""
    from gridcast.exchange.agents import Forecaster

    s = _Session(account, dev_key, journal)
    a = s.ex.asset(asset)
    if a.owner != s.ex.address:
        fail(f"asset {asset} belongs to {a.owner}, not to the signer {s.ex.address}")
    if a.kind == "load":
        fail(f"asset {asset} is a load: it cannot sell")
    view = s.ex.view(a.feed_id)
    feed_id = s.ex.market_id(a.feed_id, renewable)
    forecaster = None if volume_wh is not None else Forecaster(model, s.conn.market)
    sold: set[int] = set()

    def step() -> None:
        for e in s.epochs(feed_id, epoch):
            if forecaster is not None:
                volume = forecaster.energy_wh(view, e, share, 1.0)
            else:
                volume = volume_wh or 0
            volume = min(volume, s.ex.max_sell_wh(a))
            if volume <= 0:
                _echo(epoch=e, skipped="nothing to sell (forecast 0 Wh)")
                continue
            index, sent = s.ex.place(
                s.journal, feed_id, e, side="sell", volume_wh=volume,
                limit_price=_limit(s, feed_id, e, limit_price, limit_at), asset_id=asset,
            )  # fmt: skip
            sold.add(e)
            if sent:
                _echo(side="sell", epoch=e, index=index, volume_wh=volume, asset=asset)
        if follow:
            _settle_mine(s, feed_id, sold)

    if epoch is not None and not s.ex.tradable(feed_id, epoch):
        fail(f"epoch {epoch}'s book does not take orders (no final consensus or gate closed)")
    _loop(step, follow, interval)


@app.command()
@exit_on_error(FileNotFoundError)
def buy(
    feed: str = FeedOpt,
    epoch: int | None = EpochOpt,
    volume_wh: int | None = typer.Option(None, "--volume-wh", min=1, help="Bid this volume."),
    model: str | None = typer.Option(
        None, "--model", help="Bid the forecast demand of this model (with --demand-feed)."
    ),
    demand_feed: str | None = typer.Option(
        None, "--demand-feed", help="The feed whose forecast is the load's demand."
    ),
    wh_per_unit: float = typer.Option(
        1.0, "--wh-per-unit", min=0.0, help="Wh per unit-hour of the demand feed, times --share."
    ),
    share: float = typer.Option(1.0, "--share", min=0.0, help="Share of the demand forecast."),
    limit_price: int | None = LimitPriceOpt,
    limit_at: float = typer.Option(
        1.0, "--limit-at", min=0.0, max=1.0, help="Limit at this point of the band (0 low, 1 high)."
    ),
    renewable: bool = RenewableOpt,
    follow: bool = FollowOpt,
    interval: float = IntervalOpt,
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
    journal: Path | None = JournalOpt,
) -> None:
    """Bid for energy with a limit price (escrow = volume x limit): a fixed --volume-wh, or the
    load's forecast demand (--model and --demand-feed). With --follow: keep bidding as books open,
    settle each epoch once its sells are settled, withdraw the refunds."""
    from gridcast.exchange.agents import Forecaster

    if (volume_wh is None) == (model is None):
        fail("give either --volume-wh or --model (with --demand-feed)")
    if model is not None and demand_feed is None:
        fail("--model needs --demand-feed: the feed whose forecast is the load's demand")
    s = _Session(account, dev_key, journal)
    feed_id = s.ex.market_id(feed, renewable)
    forecaster = Forecaster(model, s.conn.market) if model is not None else None
    demand_view = (
        s.ex.view(s.ex.binding(demand_feed).feed_bytes) if demand_feed is not None else None
    )
    feed_view = s.ex.view(s.ex.feed_of(feed_id))
    bought: set[int] = set()

    def step() -> None:
        for e in s.epochs(feed_id, epoch):
            volume = volume_wh or 0
            if forecaster is not None and demand_view is not None:
                # the demand feed's epoch covering the same chain time
                de = demand_view.epoch_of(feed_view.epoch_start(e))
                volume = forecaster.energy_wh(demand_view, de, share, wh_per_unit)
            if volume <= 0:
                _echo(epoch=e, skipped="nothing to buy (forecast 0 Wh)")
                continue
            index, sent = s.ex.place(
                s.journal, feed_id, e, side="buy", volume_wh=volume,
                limit_price=_limit(s, feed_id, e, limit_price, limit_at),
            )  # fmt: skip
            bought.add(e)
            if sent:
                _echo(side="buy", epoch=e, index=index, volume_wh=volume)
        if follow:
            _settle_mine(s, feed_id, bought)

    if epoch is not None and not s.ex.tradable(feed_id, epoch):
        fail(f"epoch {epoch}'s book does not take orders (no final consensus or gate closed)")
    _loop(step, follow, interval)


@app.command("clear")
@exit_on_error(FileNotFoundError)
def clear_cmd(
    feed: str = FeedOpt,
    epoch: int | None = typer.Option(
        None, "--epoch", min=0, help="One epoch; default: every book past its gate, not cleared."
    ),
    renewable: bool = RenewableOpt,
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
    journal: Path | None = JournalOpt,
) -> None:
    """Compute a book's uniform-price clearing off-chain and submit it (anyone may; the contract
    checks it and reverts a wrong one). Prints the price, volume and marginal fractions."""
    s = _Session(account, dev_key, journal)
    feed_id = s.ex.market_id(feed, renewable)
    for e in _books(s, feed_id, epoch, cleared=False):
        c = s.ex.clear(feed_id, e, s.journal)
        if c is None:
            if epoch is not None:
                fail(f"epoch {e}'s book cannot be cleared yet (no orders, or its gate is open)")
            continue
        _echo(epoch=e, **c.__dict__)


@app.command()
@exit_on_error(FileNotFoundError)
def settle(
    feed: str = FeedOpt,
    epoch: int | None = typer.Option(
        None, "--epoch", min=0, help="One epoch; default: every cleared book with open orders."
    ),
    mine: bool = typer.Option(False, "--mine", help="Only the signer's own orders."),
    withdraw: bool = typer.Option(True, help="Withdraw the signer's balance afterwards."),
    renewable: bool = RenewableOpt,
    account: str | None = AccountOpt,
    dev_key: int | None = DevKeyOpt,
    journal: Path | None = JournalOpt,
) -> None:
    """Settle cleared books: each sell's delivery proven against the epoch's final root (rebuilt
    from the streaming job's meter energy in DATABASE_URL), sellers paid the clearing price for
    min(delivered, sold), shortfalls penalised to the buyers, the rest refunded."""
    s = _Session(account, dev_key, journal)
    feed_id = s.ex.market_id(feed, renewable)
    leaves = s.leaves()
    for e in _books(s, feed_id, epoch, cleared=True):
        report = s.ex.settle(feed_id, e, leaves, s.journal, only_mine=mine)
        _echo(epoch=e, sells=report.sells, buys=report.buys, waiting=report.waiting)
    if withdraw:
        _echo(withdrawn=s.ex.withdraw())


def _books(s: _Session, feed_id: bytes, epoch: int | None, *, cleared: bool) -> list[int]:
    """`epoch`, or the epochs with an open book (from BookOpened logs) that still need it."""
    if epoch is not None:
        return [epoch]
    logs = s.ex.exchange.events.BookOpened().get_logs(
        from_block=s.conn.deployment.block, argument_filters={"feedId": feed_id}
    )
    out = []
    for e in sorted({int(ev.args.epoch) for ev in logs}):
        b = s.ex.book(feed_id, e)
        if (
            cleared
            and (b.cleared or b.voided)
            and any(not o.settled for o in s.ex.orders(feed_id, e))
        ):
            out.append(e)
        if not cleared and not b.cleared and s.ex.now() >= b.gate_at:
            out.append(e)
    return out
