"""ForecastRegistry events → feeds, epochs, forecasts, consensus. Batches expand per epoch."""

from __future__ import annotations

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store

PARAM_FIELDS = (
    "genesis", "epoch_length", "epochs_per_round", "reveal_window", "lead_time", "truth_timeout",
    "dispute_window", "decimals", "max_forecasts_per_epoch", "slash_bps", "non_reveal_slash_bps",
    "min_stake", "reward_per_epoch", "dispute_bond", "tolerance", "slash_threshold",
)  # fmt: skip


def _params(values: list[int]) -> dict[str, int]:
    return dict(zip(PARAM_FIELDS, values, strict=True))


def on_feed_registered(ev: Event, store: Store) -> None:
    a = ev.args
    feed = a["feedId"]
    row = {
        "region": a["region"],
        "metric": a["metric"],
        "resolution_seconds": a["resolutionSeconds"],
        **_params(a["params"]),
        "paused": False,
        "pool": 0,
        "params_from": 0,
        "registered_block": ev.block_number,
        "registered_tx": ev.tx_hash,
    }
    store.put("feeds", feed, row, ev.block_number)
    store.notify("gridcast:feedUpdated", {"feedId": feed, "block": ev.block_number})


def on_feed_params_updated(ev: Event, store: Store) -> None:
    feed = ev.args["feedId"]
    store.update("feeds", feed, ev.block_number, **_params(ev.args["params"]))
    store.notify("gridcast:feedUpdated", {"feedId": feed, "block": ev.block_number})


def on_feed_params_scheduled(ev: Event, store: Store) -> None:
    """Follows FeedParamsUpdated: the new parameters apply from ``fromEpoch`` on."""
    feed = ev.args["feedId"]
    store.update("feeds", feed, ev.block_number, params_from=ev.args["fromEpoch"])
    store.notify("gridcast:feedUpdated", {"feedId": feed, "block": ev.block_number})


def on_feed_paused(ev: Event, store: Store) -> None:
    store.update("feeds", ev.args["feedId"], ev.block_number, paused=True)
    store.notify("gridcast:feedUpdated", {"feedId": ev.args["feedId"], "block": ev.block_number})


def on_feed_unpaused(ev: Event, store: Store) -> None:
    store.update("feeds", ev.args["feedId"], ev.block_number, paused=False)
    store.notify("gridcast:feedUpdated", {"feedId": ev.args["feedId"], "block": ev.block_number})


def on_forecasts_committed(ev: Event, store: Store) -> None:
    a = ev.args
    feed, op, first, weight = a["feedId"], a["operator"], a["firstEpoch"], a["weight"]
    block = ev.block_number
    for i, commitment in enumerate(a["commitments"]):
        number = first + i
        store.put(
            "forecasts",
            common.forecast_key(feed, number, op),
            {
                "feed_id": feed,
                "epoch": number,
                "operator": op,
                "first_epoch": first,
                "commitment": commitment,
                "root": a["root"],
                "weight": weight,
                "relayer": a["relayer"],
                "committed_block": block,
                "committed_tx": ev.tx_hash,
                "revealed": False,
                "scored": False,
            },
            block,
        )
        e = common.epoch(store, feed, number, block)
        store.update(
            "epochs",
            common.epoch_key(feed, number),
            block,
            commit_count=e["commit_count"] + 1,
            total_committed_weight=int(e["total_committed_weight"]) + weight,
        )
    o = common.operator(store, op, block)
    store.update(
        "operators", op, block, forecasts_committed=o["forecasts_committed"] + len(a["commitments"])
    )
    store.notify(
        "gridcast:forecastCommitted",
        {"feedId": feed, "operator": op, "firstEpoch": first, "epochs": len(a["commitments"]),
         "block": block},
    )  # fmt: skip


def on_forecasts_revealed(ev: Event, store: Store) -> None:
    a = ev.args
    feed, op, first = a["feedId"], a["operator"], a["firstEpoch"]
    values, lowers, uppers, model_hash, salt = a["opening"]
    block = ev.block_number
    for i, value in enumerate(values):
        number = first + i
        store.update(
            "forecasts",
            common.forecast_key(feed, number, op),
            block,
            revealed=True,
            value=value,
            lower=lowers[i],
            upper=uppers[i],
            model_hash=model_hash,
            salt=salt,
            revealer=a["revealer"],
            revealed_block=block,
            revealed_tx=ev.tx_hash,
        )
        e = common.epoch(store, feed, number, block)
        store.update(
            "epochs", common.epoch_key(feed, number), block, reveal_count=e["reveal_count"] + 1
        )
    o = common.operator(store, op, block)
    store.update("operators", op, block, forecasts_revealed=o["forecasts_revealed"] + len(values))
    store.notify(
        "gridcast:forecastRevealed",
        {"feedId": feed, "operator": op, "firstEpoch": first, "epochs": len(values),
         "block": block},
    )  # fmt: skip


def on_consensus_finalized(ev: Event, store: Store) -> None:
    a = ev.args
    feed, number, block = a["feedId"], a["epoch"], ev.block_number
    store.put(
        "consensus",
        common.epoch_key(feed, number),
        {
            "feed_id": feed,
            "epoch": number,
            "value": a["value"],
            "lower": a["lower"],
            "upper": a["upper"],
            "forecasts": a["forecasts"],
            "total_weight": a["totalWeight"],
            "finalized_block": block,
            "finalized_tx": ev.tx_hash,
        },
        block,
    )
    common.epoch(store, feed, number, block)
    store.update("epochs", common.epoch_key(feed, number), block, status="finalized")
    store.notify("gridcast:consensusUpdated", {"feedId": feed, "epoch": number, "block": block})


HANDLERS = {
    "FeedRegistered": on_feed_registered,
    "FeedParamsUpdated": on_feed_params_updated,
    "FeedParamsScheduled": on_feed_params_scheduled,
    "FeedPaused": on_feed_paused,
    "FeedUnpaused": on_feed_unpaused,
    "ForecastsCommitted": on_forecasts_committed,
    "ForecastsRevealed": on_forecasts_revealed,
    "ConsensusFinalized": on_consensus_finalized,
}
