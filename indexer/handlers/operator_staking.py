"""OperatorStaking events → stakes (state), stake_events (history), operators, slashes."""

from __future__ import annotations

from typing import Any

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store


def _history(ev: Event, store: Store, kind: str, **fields: Any) -> None:
    row = {
        "operator": ev.args["operator"],
        "kind": kind,
        "amount": ev.args["amount"],
        "total_stake": None,
        "total_unbonding": None,
        "release_at": None,
        "block_number": ev.block_number,
        "tx_hash": ev.tx_hash,
        "log_index": ev.log_index,
        **fields,
    }
    store.add("stake_events", common.history_key(ev), row, ev.block_number)
    store.notify(
        "gridcast:stakeChanged",
        {"operator": ev.args["operator"], "kind": kind, "block": ev.block_number},
    )


def on_staked(ev: Event, store: Store) -> None:
    op, block = ev.args["operator"], ev.block_number
    common.operator(store, op, block)
    common.stake(store, op, block)
    store.update("stakes", op, block, active=ev.args["totalStake"])
    _history(ev, store, "staked", total_stake=ev.args["totalStake"])


def on_unstake_requested(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    common.stake(store, a["operator"], block)
    store.update(
        "stakes",
        a["operator"],
        block,
        active=a["totalStake"],
        unbonding=a["totalUnbonding"],
        release_at=a["releaseAt"],
    )
    _history(
        ev,
        store,
        "unstake_requested",
        total_stake=a["totalStake"],
        total_unbonding=a["totalUnbonding"],
        release_at=a["releaseAt"],
    )


def on_stake_withdrawn(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    common.stake(store, a["operator"], block)
    release = None if a["totalUnbonding"] == 0 else store.get("stakes", a["operator"])
    store.update(
        "stakes",
        a["operator"],
        block,
        unbonding=a["totalUnbonding"],
        release_at=None if release is None else release["release_at"],
    )
    _history(ev, store, "withdrawn", total_unbonding=a["totalUnbonding"])


def on_signer_set(ev: Event, store: Store) -> None:
    op, block = ev.args["operator"], ev.block_number
    common.operator(store, op, block)
    store.update("operators", op, block, signer=ev.args["signer"])


def on_stake_slashed(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    op = a["operator"]
    common.stake(store, op, block)
    store.update("stakes", op, block, active=a["totalStake"], unbonding=a["totalUnbonding"])
    slash = store.add(
        "slashes",
        common.history_key(ev),
        {
            "operator": op,
            "epoch_key": a["epochKey"],
            "feed_id": None,
            "epoch": None,
            "amount": a["amount"],
            "total_stake": a["totalStake"],
            "total_unbonding": a["totalUnbonding"],
            "recipient": a["recipient"],
            "block_number": block,
            "tx_hash": ev.tx_hash,
            "log_index": ev.log_index,
        },
        block,
    )
    # Settlement emits ForecastScored right after, in the same transaction: it names the epoch.
    store.scratch[f"slash:{ev.tx_hash}:{op}"] = slash
    o = common.operator(store, op, block)
    store.update("operators", op, block, total_slashed=int(o["total_slashed"]) + a["amount"])
    acc = common.accuracy(store, op, block)
    store.update(
        "operator_accuracy", op, block, total_slashed=int(acc["total_slashed"]) + a["amount"]
    )
    _history(ev, store, "slashed", total_stake=a["totalStake"], total_unbonding=a["totalUnbonding"])


HANDLERS = {
    "Staked": on_staked,
    "UnstakeRequested": on_unstake_requested,
    "StakeWithdrawn": on_stake_withdrawn,
    "SignerSet": on_signer_set,
    "StakeSlashed": on_stake_slashed,
}
