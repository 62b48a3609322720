"""Second-wave tables of the exchange (EnergyExchange), the metered delivery roots
(MeteredDelivery) and the asset registry (AssetRegistry). Versioned like every entity table
(see indexer_entities): state rows (books, orders, accounts, assets) get a new version per change,
history rows (clearings, trades, deliveries, imbalances, roots) are immutable.

Ids: a market = its market id (the feed id for a feed's plain market); a book and its clearing =
"<marketId>-<epoch>"; a delivery root = "<feedId>-<epoch>"; an order, its delivery and its
imbalance = "<marketId>-<epoch>-<index>"; a trade = "<txHash>-<logIndex>"; an account = its
address; an asset = its token id in decimal. ``feed_id`` is always the forecast feed, ``market_id``
the exchange's market. Amounts (token units, Wh) are NUMERIC(78,0)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Integer, Numeric, String, Text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from indexer.db.base import Base
from indexer.models.columns import ADDR, B32, U256, Versioned

KEY = String(120)  # "<feedId>-<epoch>[-<index>]"


class DeliveryRoot(Versioned, Base):
    """DeliveryRootPosted: the Merkle root over one (feed, epoch)'s (meterId, epoch, energyWh)
    leaves, final after ``final_after`` unless the truth is disputed or cancelled."""

    __tablename__ = "delivery_roots"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(B32)
    leaf_count: Mapped[int] = mapped_column(Integer)
    total_wh: Mapped[Decimal] = mapped_column(U256)
    truth_value: Mapped[int] = mapped_column(BigInteger)
    truth_submitted_at: Mapped[int] = mapped_column(BigInteger)
    final_after: Mapped[int] = mapped_column(BigInteger)
    reporter: Mapped[str] = mapped_column(ADDR)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class Asset(Versioned, Base):
    """An AssetRegistry token (AssetRegistered, AssetCapacityChanged, ERC-721 Transfer)."""

    __tablename__ = "assets"
    owner: Mapped[str] = mapped_column(ADDR, index=True)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    kind: Mapped[str] = mapped_column(String(8))  # solar | wind | storage | load
    renewable: Mapped[bool] = mapped_column(Boolean)
    capacity_w: Mapped[int] = mapped_column(BigInteger)
    location: Mapped[str] = mapped_column(Text)
    meter_ids: Mapped[list[str]] = mapped_column(ARRAY(Text))
    registrar: Mapped[str] = mapped_column(ADDR)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    registered_tx: Mapped[str] = mapped_column(B32)


class ExchangeMarket(Versioned, Base):
    """A listed market (MarketParamsSet, MarketListed): its id is the feed id for the feed's plain
    market, or ``renewableMarketOf(feedId)`` for its renewable-only market (only solar and wind
    sell there; the delivered energy's certificates go to the buyers)."""

    __tablename__ = "exchange_markets"
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    renewable_only: Mapped[bool] = mapped_column(Boolean, default=False)
    base_price: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    slope: Mapped[Decimal | None] = mapped_column(Numeric(40, 0), nullable=True)
    reference_value: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    band_bps: Mapped[int | None] = mapped_column(Integer, nullable=True)
    gate_lead: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    settle_window: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    penalty_per_wh: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    genesis: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    epoch_length: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_number: Mapped[int] = mapped_column(BigInteger)


class ExchangeBook(Versioned, Base):
    """One (feed, delivery epoch) book: opened (BookOpened, with its band from the consensus),
    its live orders and volumes, cleared (BookCleared) and settled (OrderSettled). ``status``:
    open → cleared; ``voided`` once a settlement finds the epoch void. ``open_buys``,
    ``open_sells`` and the volumes count the orders not cancelled (settled ones included)."""

    __tablename__ = "exchange_books"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    renewable_only: Mapped[bool] = mapped_column(Boolean, default=False)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(12))
    consensus_value: Mapped[int] = mapped_column(BigInteger)
    band_low: Mapped[Decimal] = mapped_column(U256)
    band_high: Mapped[Decimal] = mapped_column(U256)
    penalty_per_wh: Mapped[Decimal] = mapped_column(U256)
    gate_at: Mapped[int] = mapped_column(BigInteger)
    settle_after: Mapped[int] = mapped_column(BigInteger)
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    open_buys: Mapped[int] = mapped_column(Integer, default=0)
    open_sells: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    buy_volume_wh: Mapped[Decimal] = mapped_column(U256, default=0)  # not cancelled
    sell_volume_wh: Mapped[Decimal] = mapped_column(U256, default=0)
    price: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    volume_wh: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    settled_orders: Mapped[int] = mapped_column(Integer, default=0)
    paid: Mapped[Decimal] = mapped_column(U256, default=0)
    penalties: Mapped[Decimal] = mapped_column(U256, default=0)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_block: Mapped[int] = mapped_column(BigInteger)
    cleared_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ExchangeOrder(Versioned, Base):
    """An order (OrderPlaced) and its end: cancelled (OrderCancelled, ``refund``) or settled
    (OrderSettled: ``filled_wh``, ``delivered_wh`` for a sell, ``amount`` = a sell's payment or
    a buy's charge, ``adjustment`` = a sell's penalty or a buy's compensation, ``credited``).
    ``locked`` is the escrow (buy) or collateral (sell) posted."""

    __tablename__ = "exchange_orders"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    book_id: Mapped[str] = mapped_column(KEY, index=True)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    index: Mapped[int] = mapped_column(BigInteger)
    trader: Mapped[str] = mapped_column(ADDR, index=True)
    side: Mapped[str] = mapped_column(String(4))  # buy | sell
    asset_id: Mapped[int] = mapped_column(BigInteger)  # 0 for a buy
    volume_wh: Mapped[Decimal] = mapped_column(U256)
    limit_price: Mapped[Decimal] = mapped_column(U256)
    locked: Mapped[Decimal] = mapped_column(U256)
    renewable_only: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))  # open | cancelled | settled
    refund: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    voided: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    filled_wh: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    delivered_wh: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    amount: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    adjustment: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    credited: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    # renewable market: a sell's traded Wh certified and escrowed for the buyers
    # (CertificatesEscrowed), or the certificates a buy received (CertificatesDelivered)
    certificates_wh: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    placed_block: Mapped[int] = mapped_column(BigInteger)
    placed_tx: Mapped[str] = mapped_column(B32)
    closed_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    closed_tx: Mapped[str | None] = mapped_column(B32, nullable=True)


class ExchangeClearing(Versioned, Base):
    """BookCleared: the uniform price, the volume, the equilibrium interval [low, high] and the
    pro-rata fractions at the margin (buyNum/buyDen, sellNum/sellDen). Immutable."""

    __tablename__ = "exchange_clearings"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    price: Mapped[Decimal] = mapped_column(U256)
    volume_wh: Mapped[Decimal] = mapped_column(U256)
    low: Mapped[Decimal] = mapped_column(U256)
    high: Mapped[Decimal] = mapped_column(U256)
    buy_num: Mapped[Decimal] = mapped_column(U256)
    buy_den: Mapped[Decimal] = mapped_column(U256)
    sell_num: Mapped[Decimal] = mapped_column(U256)
    sell_den: Mapped[Decimal] = mapped_column(U256)
    orders: Mapped[int] = mapped_column(Integer)
    filled_sells: Mapped[int] = mapped_column(Integer)
    clearer: Mapped[str] = mapped_column(ADDR)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class ExchangeTrade(Versioned, Base):
    """One OrderSettled: what an order traded at the book's clearing price and what it was
    credited. Immutable."""

    __tablename__ = "exchange_trades"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    book_id: Mapped[str] = mapped_column(KEY, index=True)
    order_id: Mapped[str] = mapped_column(KEY, index=True)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    trader: Mapped[str] = mapped_column(ADDR, index=True)
    side: Mapped[str] = mapped_column(String(4))
    voided: Mapped[bool] = mapped_column(Boolean)
    price: Mapped[Decimal | None] = mapped_column(U256, nullable=True)
    filled_wh: Mapped[Decimal] = mapped_column(U256)
    delivered_wh: Mapped[Decimal] = mapped_column(U256)
    amount: Mapped[Decimal] = mapped_column(U256)
    adjustment: Mapped[Decimal] = mapped_column(U256)
    credited: Mapped[Decimal] = mapped_column(U256)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class ExchangeDelivery(Versioned, Base):
    """A settled filled sell's proven delivery: sold (filled) against metered, the payment
    (price × min) and the shortfall. Immutable; id = the order's."""

    __tablename__ = "exchange_deliveries"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    book_id: Mapped[str] = mapped_column(KEY, index=True)
    order_id: Mapped[str] = mapped_column(KEY, index=True)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    seller: Mapped[str] = mapped_column(ADDR, index=True)
    asset_id: Mapped[int] = mapped_column(BigInteger, index=True)
    sold_wh: Mapped[Decimal] = mapped_column(U256)
    delivered_wh: Mapped[Decimal] = mapped_column(U256)
    shortfall_wh: Mapped[Decimal] = mapped_column(U256)
    payment: Mapped[Decimal] = mapped_column(U256)
    penalty: Mapped[Decimal] = mapped_column(U256)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class ExchangeImbalance(Versioned, Base):
    """A delivery short of what was sold: the shortfall and the penalty taken from the seller's
    collateral for the buyers. Immutable; id = the order's."""

    __tablename__ = "exchange_imbalances"
    market_id: Mapped[str] = mapped_column(B32, index=True)  # = feed_id on a plain market
    book_id: Mapped[str] = mapped_column(KEY, index=True)
    order_id: Mapped[str] = mapped_column(KEY, index=True)
    feed_id: Mapped[str] = mapped_column(B32, index=True)
    epoch: Mapped[int] = mapped_column(BigInteger)
    seller: Mapped[str] = mapped_column(ADDR, index=True)
    asset_id: Mapped[int] = mapped_column(BigInteger)
    shortfall_wh: Mapped[Decimal] = mapped_column(U256)
    penalty: Mapped[Decimal] = mapped_column(U256)
    block_number: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(B32)


class ExchangeAccount(Versioned, Base):
    """A trader's totals on the exchange and its withdrawable balance (credited − withdrawn)."""

    __tablename__ = "exchange_accounts"
    order_count: Mapped[int] = mapped_column(Integer, default=0)
    sold_wh: Mapped[Decimal] = mapped_column(U256, default=0)
    delivered_wh: Mapped[Decimal] = mapped_column(U256, default=0)
    bought_wh: Mapped[Decimal] = mapped_column(U256, default=0)
    proceeds: Mapped[Decimal] = mapped_column(U256, default=0)  # sells' payments
    spent: Mapped[Decimal] = mapped_column(U256, default=0)  # buys' charges
    penalties_paid: Mapped[Decimal] = mapped_column(U256, default=0)
    compensation: Mapped[Decimal] = mapped_column(U256, default=0)
    credited: Mapped[Decimal] = mapped_column(U256, default=0)
    withdrawn: Mapped[Decimal] = mapped_column(U256, default=0)
    balance: Mapped[Decimal] = mapped_column(U256, default=0)


EXCHANGE_MODELS: tuple[type[Base], ...] = (
    DeliveryRoot, Asset, ExchangeMarket, ExchangeBook, ExchangeOrder, ExchangeClearing,
    ExchangeTrade, ExchangeDelivery, ExchangeImbalance, ExchangeAccount,
)  # fmt: skip
