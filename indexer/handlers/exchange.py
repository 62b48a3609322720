"""EnergyExchange events → exchange_markets, exchange_books, exchange_orders, exchange_clearings,
exchange_trades, exchange_deliveries, exchange_imbalances and exchange_accounts. One handler per
event.

The events' ``feedId`` is the *market id*: the feed id for a feed's plain market, or
``renewableMarketOf(feedId)`` for its renewable-only market (MarketListed maps it back to the
forecast feed). Rows keep both: ``market_id`` (the ids are built from it) and ``feed_id``."""

from __future__ import annotations

from typing import Any

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store

ACCOUNT = {
    "order_count": 0,
    "sold_wh": 0,
    "delivered_wh": 0,
    "bought_wh": 0,
    "proceeds": 0,
    "spent": 0,
    "penalties_paid": 0,
    "compensation": 0,
    "credited": 0,
    "withdrawn": 0,
    "balance": 0,
}


def order_key(feed: str, epoch: int, index: int) -> str:
    return f"{feed}-{epoch}-{index}"


def _account(store: Store, address: str, block: int) -> dict[str, Any]:
    row = store.get("exchange_accounts", address)
    if row is None:
        row = dict(ACCOUNT)
        store.put("exchange_accounts", address, row, block)
    return row


def _add(store: Store, address: str, block: int, **amounts: int) -> None:
    """Add ``amounts`` to an account's totals (``credited`` also raises the balance)."""
    row = _account(store, address, block)
    changes = {k: int(row[k] or 0) + int(v) for k, v in amounts.items()}
    if "credited" in amounts:
        changes["balance"] = int(row["balance"] or 0) + int(amounts["credited"])
    store.update("exchange_accounts", address, block, **changes)


def _market(store: Store, market: str) -> tuple[str, bool]:
    """(forecast feed, renewable only) of a market id; a market not listed yet is its own feed."""
    row = store.get("exchange_markets", market)
    if row is None:
        return market, False
    return str(row["feed_id"]), bool(row["renewable_only"])


def _market_row(store: Store, ev: Event, market: str, **changes: Any) -> None:
    row = store.get("exchange_markets", market) or {
        "feed_id": market,
        "renewable_only": False,
        **dict.fromkeys(MARKET_PARAMS, None),
        "genesis": None,
        "epoch_length": None,
    }
    store.put(
        "exchange_markets",
        market,
        {**row, **changes, "block_number": ev.block_number},
        ev.block_number,
    )


MARKET_PARAMS = (
    "base_price", "slope", "reference_value", "band_bps", "gate_lead", "settle_window",
    "penalty_per_wh",
)  # fmt: skip


def on_market_params_set(ev: Event, store: Store) -> None:
    a = ev.args
    params = dict(zip(MARKET_PARAMS, a["params"], strict=False))  # a longer struct: ignored
    _market_row(
        store, ev, a["feedId"], **params, genesis=a["genesis"], epoch_length=a["epochLength"]
    )


def on_market_listed(ev: Event, store: Store) -> None:
    a = ev.args
    _market_row(
        store, ev, a["marketId"], feed_id=a["feedId"], renewable_only=bool(a["renewableOnly"])
    )


def on_book_opened(ev: Event, store: Store) -> None:
    a = ev.args
    feed, renewable = _market(store, a["feedId"])
    row = {
        "market_id": a["feedId"],
        "renewable_only": renewable,
        "feed_id": feed,
        "epoch": a["epoch"],
        "status": "open",
        "consensus_value": a["consensusValue"],
        "band_low": a["bandLow"],
        "band_high": a["bandHigh"],
        "penalty_per_wh": a["penaltyPerWh"],
        "gate_at": a["gateAt"],
        "settle_after": a["settleAfter"],
        "order_count": 0,
        "open_buys": 0,
        "open_sells": 0,
        "cancelled": 0,
        "buy_volume_wh": 0,
        "sell_volume_wh": 0,
        "price": None,
        "volume_wh": None,
        "settled_orders": 0,
        "paid": 0,
        "penalties": 0,
        "voided": False,
        "opened_block": ev.block_number,
        "cleared_block": None,
    }
    store.put("exchange_books", common.epoch_key(a["feedId"], a["epoch"]), row, ev.block_number)


def on_order_placed(ev: Event, store: Store) -> None:
    a = ev.args
    market, epoch, block = a["feedId"], a["epoch"], ev.block_number
    feed, renewable = _market(store, market)
    book_id = common.epoch_key(market, epoch)
    side = "sell" if a["isSell"] else "buy"
    row = {
        "book_id": book_id,
        "market_id": market,
        "feed_id": feed,
        "epoch": epoch,
        "index": a["index"],
        "trader": a["trader"],
        "side": side,
        "asset_id": a["assetId"],
        "volume_wh": a["volumeWh"],
        "limit_price": a["limitPrice"],
        "locked": a["locked"],
        "renewable_only": renewable,
        "status": "open",
        "refund": None,
        "voided": None,
        "filled_wh": None,
        "delivered_wh": None,
        "amount": None,
        "adjustment": None,
        "credited": None,
        "certificates_wh": None,
        "placed_block": block,
        "placed_tx": ev.tx_hash,
        "closed_block": None,
        "closed_tx": None,
    }
    store.put("exchange_orders", order_key(market, epoch, a["index"]), row, block)
    book = store.get("exchange_books", book_id)
    if book is not None:
        store.update(
            "exchange_books",
            book_id,
            block,
            order_count=int(book["order_count"]) + 1,
            **{f"open_{side}s": int(book[f"open_{side}s"]) + 1},
            **{f"{side}_volume_wh": int(book[f"{side}_volume_wh"]) + int(a["volumeWh"])},
        )
    _add(store, a["trader"], block, order_count=1)
    store.notify(
        "gridcast:orderPlaced",
        {
            "feedId": feed,
            "marketId": market,
            "epoch": epoch,
            "index": a["index"],
            "trader": a["trader"],
            "side": side,
            "volumeWh": str(a["volumeWh"]),
            "limitPrice": str(a["limitPrice"]),
            "block": block,
        },
    )


def on_order_cancelled(ev: Event, store: Store) -> None:
    a = ev.args
    market, epoch, block = a["feedId"], a["epoch"], ev.block_number
    key = order_key(market, epoch, a["index"])
    order = store.update(
        "exchange_orders",
        key,
        block,
        status="cancelled",
        refund=a["refund"],
        closed_block=block,
        closed_tx=ev.tx_hash,
    )
    book_id = common.epoch_key(market, epoch)
    book = store.get("exchange_books", book_id)
    if order is not None and book is not None:
        side = order["side"]
        store.update(
            "exchange_books",
            book_id,
            block,
            cancelled=int(book["cancelled"]) + 1,
            **{f"open_{side}s": int(book[f"open_{side}s"]) - 1},
            **{f"{side}_volume_wh": int(book[f"{side}_volume_wh"]) - int(order["volume_wh"])},
        )
    _add(store, a["trader"], block, credited=a["refund"])


def on_book_cleared(ev: Event, store: Store) -> None:
    a = ev.args
    market, epoch, block = a["feedId"], a["epoch"], ev.block_number
    feed, _ = _market(store, market)
    key = common.epoch_key(market, epoch)
    row = {
        "market_id": market,
        "feed_id": feed,
        "epoch": epoch,
        "price": a["price"],
        "volume_wh": a["volume"],
        "low": a["low"],
        "high": a["high"],
        "buy_num": a["buyNum"],
        "buy_den": a["buyDen"],
        "sell_num": a["sellNum"],
        "sell_den": a["sellDen"],
        "orders": a["orders"],
        "filled_sells": a["filledSells"],
        "clearer": a["clearer"],
        "block_number": block,
        "tx_hash": ev.tx_hash,
    }
    store.put("exchange_clearings", key, row, block)
    store.update(
        "exchange_books",
        key,
        block,
        status="cleared",
        price=a["price"],
        volume_wh=a["volume"],
        cleared_block=block,
    )
    store.notify(
        "gridcast:clearingPublished",
        {
            "feedId": feed,
            "marketId": market,
            "epoch": epoch,
            "price": str(a["price"]),
            "volumeWh": str(a["volume"]),
            "block": block,
        },
    )


def on_order_settled(ev: Event, store: Store) -> None:
    a = ev.args
    market, epoch, block = a["feedId"], a["epoch"], ev.block_number
    feed, _ = _market(store, market)
    book_id, key = common.epoch_key(market, epoch), order_key(market, epoch, a["index"])
    sell, voided = bool(a["isSell"]), bool(a["voided"])
    filled, delivered = int(a["filledWh"]), int(a["deliveredWh"])
    amount, adjustment, credited = int(a["amount"]), int(a["adjustment"]), int(a["credited"])
    side = "sell" if sell else "buy"
    store.update(
        "exchange_orders",
        key,
        block,
        status="settled",
        voided=voided,
        filled_wh=filled,
        delivered_wh=delivered,
        amount=amount,
        adjustment=adjustment,
        credited=credited,
        closed_block=block,
        closed_tx=ev.tx_hash,
    )
    book = store.get("exchange_books", book_id)
    price = None if book is None else book["price"]
    if book is not None:
        changes: dict[str, Any] = {"settled_orders": int(book["settled_orders"]) + 1}
        if voided:
            changes["voided"] = True
        if sell:
            changes["paid"] = int(book["paid"]) + amount
            changes["penalties"] = int(book["penalties"]) + adjustment
        store.update("exchange_books", book_id, block, **changes)
    trade = {
        "book_id": book_id,
        "order_id": key,
        "market_id": market,
        "feed_id": feed,
        "epoch": epoch,
        "trader": a["trader"],
        "side": side,
        "voided": voided,
        "price": price,
        "filled_wh": filled,
        "delivered_wh": delivered,
        "amount": amount,
        "adjustment": adjustment,
        "credited": credited,
        "block_number": block,
        "tx_hash": ev.tx_hash,
    }
    store.add("exchange_trades", common.history_key(ev), trade, block)
    if sell:
        _add(
            store, a["trader"], block, sold_wh=filled, delivered_wh=delivered, proceeds=amount,
            penalties_paid=adjustment, credited=credited,
        )  # fmt: skip
        if filled > 0 and not voided:
            _delivery(store, ev, key, book_id, feed, filled, delivered, amount, adjustment)
    else:
        _add(
            store, a["trader"], block, bought_wh=filled, spent=amount, compensation=adjustment,
            credited=credited,
        )  # fmt: skip


def _delivery(
    store: Store, ev: Event, key: str, book_id: str, feed: str, filled: int, delivered: int,
    pay: int, penalty: int,
) -> None:  # fmt: skip
    a, block = ev.args, ev.block_number
    order = store.get("exchange_orders", key)
    asset = int(order["asset_id"]) if order is not None else 0
    shortfall = max(filled - delivered, 0)
    common_cols = {
        "book_id": book_id,
        "order_id": key,
        "market_id": a["feedId"],
        "feed_id": feed,
        "epoch": a["epoch"],
        "seller": a["trader"],
        "asset_id": asset,
        "block_number": block,
        "tx_hash": ev.tx_hash,
    }
    store.put(
        "exchange_deliveries",
        key,
        {
            **common_cols,
            "sold_wh": filled,
            "delivered_wh": delivered,
            "shortfall_wh": shortfall,
            "payment": pay,
            "penalty": penalty,
        },
        block,
    )
    if shortfall > 0 or penalty > 0:
        store.put(
            "exchange_imbalances",
            key,
            {**common_cols, "shortfall_wh": shortfall, "penalty": penalty},
            block,
        )


def on_withdrawn(ev: Event, store: Store) -> None:
    a = ev.args
    row = _account(store, a["account"], ev.block_number)
    store.update(
        "exchange_accounts",
        a["account"],
        ev.block_number,
        withdrawn=int(row["withdrawn"]) + int(a["amount"]),
        balance=int(row["balance"]) - int(a["amount"]),
    )


def _certificates(ev: Event, store: Store, energy: int) -> None:
    a = ev.args
    key = order_key(a["feedId"], a["epoch"], a["index"])
    order = store.get("exchange_orders", key)
    if order is not None:
        total = int(order["certificates_wh"] or 0) + energy
        store.update("exchange_orders", key, ev.block_number, certificates_wh=total)


def on_certificates_escrowed(ev: Event, store: Store) -> None:
    """A renewable sell's traded, delivered Wh certified and held for the book's buyers."""
    _certificates(ev, store, int(ev.args["energyWh"]))


def on_certificates_delivered(ev: Event, store: Store) -> None:
    """A renewable buy's share of the certificates, transferred to the buyer at settlement."""
    _certificates(ev, store, sum(int(x) for x in ev.args["amounts"]))


HANDLERS = {
    "MarketParamsSet": on_market_params_set,
    "MarketListed": on_market_listed,
    "CertificatesEscrowed": on_certificates_escrowed,
    "CertificatesDelivered": on_certificates_delivered,
    "BookOpened": on_book_opened,
    "OrderPlaced": on_order_placed,
    "OrderCancelled": on_order_cancelled,
    "BookCleared": on_book_cleared,
    "OrderSettled": on_order_settled,
    "Withdrawn": on_withdrawn,
}
