"""Entity ids and get-or-create helpers shared by the handlers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from indexer.decoder import Event
from indexer.store import Store


def epoch_key(feed: str, epoch: int) -> str:
    return f"{feed}-{epoch}"


def forecast_key(feed: str, epoch: int, operator: str) -> str:
    return f"{feed}-{epoch}-{operator}"


def history_key(ev: Event) -> str:
    return f"{ev.tx_hash}-{ev.log_index}"


def operator(store: Store, address: str, block: int) -> dict[str, Any]:
    row = store.get("operators", address)
    if row is None:
        row = {
            "signer": None,
            "reward_balance": 0,
            "total_rewards": 0,
            "total_withdrawn": 0,
            "total_slashed": 0,
            "forecasts_committed": 0,
            "forecasts_revealed": 0,
            "first_seen_block": block,
        }
        store.put("operators", address, row, block)
    return row


def stake(store: Store, address: str, block: int) -> dict[str, Any]:
    row = store.get("stakes", address)
    if row is None:
        row = {"operator": address, "active": 0, "unbonding": 0, "release_at": None}
        store.put("stakes", address, row, block)
    return row


def accuracy(store: Store, address: str, block: int) -> dict[str, Any]:
    row = store.get("operator_accuracy", address)
    if row is None:
        row = {
            "operator": address,
            "scored": 0,
            "revealed_scored": 0,
            "sum_abs_error": 0,
            "mean_abs_error": None,
            "interval_hits": 0,
            "interval_hit_rate": None,
            "total_rewards": 0,
            "total_slashed": 0,
        }
        store.put("operator_accuracy", address, row, block)
    return row


def epoch(store: Store, feed: str, number: int, block: int) -> dict[str, Any]:
    key = epoch_key(feed, number)
    row = store.get("epochs", key)
    if row is None:
        row = {
            "feed_id": feed,
            "epoch": number,
            "status": "open",
            "commit_count": 0,
            "reveal_count": 0,
            "scored_count": 0,
            "total_committed_weight": 0,
        }
        store.put("epochs", key, row, block)
    return row


def credit(store: Store, ev: Event, account: str, kind: str, amount: int, **where: Any) -> None:
    """A reward movement row and the account's balance/totals."""
    block = ev.block_number
    op = operator(store, account, block)
    store.add(
        "rewards",
        history_key(ev),
        {
            "account": account,
            "kind": kind,
            "feed_id": where.get("feed_id"),
            "epoch": where.get("epoch"),
            "amount": amount,
            "block_number": block,
            "tx_hash": ev.tx_hash,
            "log_index": ev.log_index,
        },
        block,
    )
    if kind == "withdrawal":
        store.update(
            "operators",
            account,
            block,
            reward_balance=int(op["reward_balance"]) - amount,
            total_withdrawn=int(op["total_withdrawn"]) + amount,
        )
    else:
        store.update(
            "operators",
            account,
            block,
            reward_balance=int(op["reward_balance"]) + amount,
            total_rewards=int(op["total_rewards"]) + amount,
        )
    store.notify("gridcast:rewardsChanged", {"account": account, "kind": kind, "block": block})


EPOCH_TABLES = ("epochs", "consensus", "truths", "disputes", "settlements")
ACCOUNT_TABLES = ("operators", "stakes", "operator_accuracy")


def entity_keys(ev: Event) -> list[tuple[str, str]]:
    """The (table, id) keys a handler of ``ev`` may read, from the ids' conventions: the feed,
    its epochs (``epoch``, or ``firstEpoch`` + the batch's length), every address argument as an
    account, and the forecasts of an ``operator`` in those epochs. A superset is harmless (one
    query per table per batch); a key missed here is loaded on its own (``Store.misses``)."""
    a = ev.args
    keys: list[tuple[str, str]] = []
    feed = a.get("feedId")
    accounts = [v for v in a.values() if isinstance(v, str) and len(v) == 42 and v[:2] == "0x"]
    if ev.contract in SECOND_WAVE_KEYS:
        keys.extend(_second_wave_keys(ev, accounts))
    for acc in accounts:
        keys.extend((t, acc) for t in ACCOUNT_TABLES)
    if not isinstance(feed, str):
        return keys
    keys.append(("feeds", feed))
    epochs: list[int] = []
    if isinstance(a.get("epoch"), int):
        epochs.append(a["epoch"])
    if isinstance(a.get("firstEpoch"), int):
        n = len(a["commitments"]) if "commitments" in a else 1
        if "opening" in a:
            n = len(a["opening"][0])
        epochs.extend(range(a["firstEpoch"], a["firstEpoch"] + n))
    op = a.get("operator")
    for number in epochs:
        key = epoch_key(feed, number)
        keys.extend((t, key) for t in EPOCH_TABLES)
        if isinstance(op, str):
            keys.append(("forecasts", forecast_key(feed, number, op)))
    return keys


class KeyCollector:
    """The :func:`entity_keys` of a batch's events, gathered by what they name (accounts,
    feeds, epochs, forecasts) and expanded to ``(table, id)`` keys once per batch by
    :meth:`keys`: the same keys as the union of ``entity_keys``, built ~3x cheaper (a batch's
    events name the same few accounts and epochs over and over)."""

    __slots__ = ("accounts", "epochs", "feeds", "forecasts", "other")

    def __init__(self) -> None:
        self.accounts: set[str] = set()
        self.feeds: set[str] = set()
        self.epochs: set[tuple[str, int]] = set()
        self.forecasts: set[tuple[str, int, str]] = set()
        self.other: set[tuple[str, str]] = set()

    def add(self, ev: Event) -> None:
        a = ev.args
        names = _STR_ARGS.get((ev.contract, ev.name))
        if names is None:  # an event's argument types are fixed: which ones are strings too
            names = _STR_ARGS[(ev.contract, ev.name)] = tuple(
                k for k, v in a.items() if isinstance(v, str)
            )
        accounts = [v for v in map(a.__getitem__, names) if len(v) == 42 and v[:2] == "0x"]
        self.accounts.update(accounts)
        if ev.contract in SECOND_WAVE_KEYS:
            self.other.update(_second_wave_keys(ev, accounts))
        feed = a.get("feedId")
        if not isinstance(feed, str):
            return
        self.feeds.add(feed)
        number = a.get("epoch")
        op = a.get("operator")
        if not isinstance(op, str):
            op = None
        if isinstance(number, int):
            self.epochs.add((feed, number))
            if op is not None:
                self.forecasts.add((feed, number, op))
        first = a.get("firstEpoch")
        if isinstance(first, int):
            n = len(a["commitments"]) if "commitments" in a else 1
            if "opening" in a:
                n = len(a["opening"][0])
            for number in range(first, first + n):
                self.epochs.add((feed, number))
                if op is not None:
                    self.forecasts.add((feed, number, op))

    def keys(self) -> Iterator[tuple[str, str]]:
        for acc in self.accounts:
            for t in ACCOUNT_TABLES:
                yield t, acc
        for feed in self.feeds:
            yield "feeds", feed
        for feed, number in self.epochs:
            key = epoch_key(feed, number)
            for t in EPOCH_TABLES:
                yield t, key
        for feed, number, op in self.forecasts:
            yield "forecasts", forecast_key(feed, number, op)
        yield from self.other


_STR_ARGS: dict[tuple[str, str], tuple[str, ...]] = {}


SECOND_WAVE_KEYS = {
    "EnergyExchange": ("exchange_accounts",),
    "EnergyCertificates": ("carbon_wallets",),
    "AssetRegistry": (),
    "MeteredDelivery": (),
}


def _second_wave_keys(ev: Event, accounts: list[str]) -> list[tuple[str, str]]:
    """The rows a second-wave handler reads: the market, book and order of an exchange event,
    its accounts; a certificate event's tokens, balances and wallet; an asset by its id."""
    a = ev.args
    keys = [(t, acc) for acc in accounts for t in SECOND_WAVE_KEYS[ev.contract]]
    market, epoch = a.get("feedId"), a.get("epoch")
    if ev.contract == "EnergyExchange" and isinstance(market, str):
        keys.append(("exchange_markets", market))
        if isinstance(epoch, int):
            keys.append(("exchange_books", epoch_key(market, epoch)))
            if isinstance(a.get("index"), int):
                keys.append(("exchange_orders", f"{market}-{epoch}-{a['index']}"))
    tokens: list[int] = []
    if ev.contract == "EnergyCertificates":
        tokens = [a["id"]] if isinstance(a.get("id"), int) else list(a.get("ids") or [])
    for token in tokens:
        keys.append(("certificates", str(token)))
        keys.extend(("certificate_balances", f"{token}-{acc}") for acc in accounts)
        keys.append(("assets", str(int(token) >> 64)))
    for k in ("assetId", "tokenId"):
        if isinstance(a.get(k), int):
            keys.append(("assets", str(a[k])))
    return keys
