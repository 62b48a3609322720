"""Settlement events → truths, disputes, settlements, forecast scores, rewards, accuracy."""

from __future__ import annotations

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store


def _epoch_status(store: Store, feed: str, number: int, block: int, status: str) -> None:
    common.epoch(store, feed, number, block)
    store.update("epochs", common.epoch_key(feed, number), block, status=status)


def on_rewards_funded(ev: Event, store: Store) -> None:
    store.update("feeds", ev.args["feedId"], ev.block_number, pool=ev.args["poolAfter"])


def on_truth_submitted(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number = a["feedId"], a["epoch"]
    store.put(
        "truths",
        common.epoch_key(feed, number),
        {
            "feed_id": feed,
            "epoch": number,
            "value": a["value"],
            "evidence_hash": a["evidenceHash"],
            "reporter": a["reporter"],
            "bond": a["bond"],
            "status": "submitted",
            "submitted_block": block,
            "submitted_tx": ev.tx_hash,
        },
        block,
    )
    _epoch_status(store, feed, number, block, "truth_submitted")
    store.notify("gridcast:truthSubmitted", {"feedId": feed, "epoch": number, "block": block})


def on_truth_disputed(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number = a["feedId"], a["epoch"]
    key = common.epoch_key(feed, number)
    store.put(
        "disputes",
        key,
        {
            "feed_id": feed,
            "epoch": number,
            "disputer": a["disputer"],
            "proposed_value": a["proposedValue"],
            "bond": a["bond"],
            "resolved": False,
            "disputed_block": block,
        },
        block,
    )
    store.update("truths", key, block, status="disputed")
    _epoch_status(store, feed, number, block, "disputed")
    store.notify("gridcast:disputeUpdated", {"feedId": feed, "epoch": number, "block": block})


def on_dispute_resolved(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number = a["feedId"], a["epoch"]
    key = common.epoch_key(feed, number)
    store.update(
        "disputes",
        key,
        block,
        resolved=True,
        upheld=a["upheld"],
        final_value=a["finalValue"],
        winner=a["winner"],
        payout=a["payout"],
        resolved_block=block,
    )
    store.update("truths", key, block, status="submitted", value=a["finalValue"])
    _epoch_status(store, feed, number, block, "truth_submitted")
    if a["payout"]:
        common.credit(store, ev, a["winner"], "dispute_payout", a["payout"], feed_id=feed,
                      epoch=number)  # fmt: skip
    store.notify("gridcast:disputeUpdated", {"feedId": feed, "epoch": number, "block": block})


def on_epoch_cancelled(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number = a["feedId"], a["epoch"]
    key = common.epoch_key(feed, number)
    store.put(
        "settlements",
        key,
        {
            "feed_id": feed,
            "epoch": number,
            "cancelled": True,
            "truth_value": None,
            "reward": 0,
            "total_score": 0,
            "forecasts": 0,
            "pool_after": None,
            "reporter": None,
            "bond_refund": 0,
            "rolled_over": a["rolledOver"],
            "settled_block": block,
            "settled_tx": ev.tx_hash,
        },
        block,
    )
    store.update("truths", key, block, status="cancelled")
    _epoch_status(store, feed, number, block, "cancelled")
    store.notify("gridcast:epochSettled", {"feedId": feed, "epoch": number, "block": block,
                                           "cancelled": True})  # fmt: skip


def on_epoch_settled(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number = a["feedId"], a["epoch"]
    key = common.epoch_key(feed, number)
    store.put(
        "settlements",
        key,
        {
            "feed_id": feed,
            "epoch": number,
            "cancelled": False,
            "truth_value": a["truthValue"],
            "reward": a["reward"],
            "total_score": a["totalScore"],
            "forecasts": a["forecasts"],
            "pool_after": a["poolAfter"],
            "reporter": a["reporter"],
            "bond_refund": a["bondRefund"],
            "rolled_over": 0,
            "settled_block": block,
            "settled_tx": ev.tx_hash,
        },
        block,
    )
    store.update("truths", key, block, status="settled")
    store.update("feeds", feed, block, pool=a["poolAfter"])
    _epoch_status(store, feed, number, block, "settled")
    if a["bondRefund"]:
        common.credit(store, ev, a["reporter"], "bond_refund", a["bondRefund"], feed_id=feed,
                      epoch=number)  # fmt: skip
    store.notify("gridcast:epochSettled", {"feedId": feed, "epoch": number, "block": block,
                                           "cancelled": False})  # fmt: skip


def on_forecast_scored(ev: Event, store: Store) -> None:
    a, block = ev.args, ev.block_number
    feed, number, op = a["feedId"], a["epoch"], a["operator"]
    key = common.forecast_key(feed, number, op)
    fc = store.get("forecasts", key)
    truth = store.get("truths", common.epoch_key(feed, number))
    hit: bool | None = None
    if fc is not None and a["revealed"] and truth is not None and fc["lower"] is not None:
        hit = bool(fc["lower"] <= truth["value"] <= fc["upper"])
    store.update(
        "forecasts",
        key,
        block,
        scored=True,
        score=a["score"],
        abs_error=a["absError"],
        reward=a["reward"],
        slashed=a["slashed"],
        in_interval=hit,
    )
    e = common.epoch(store, feed, number, block)
    store.update(
        "epochs", common.epoch_key(feed, number), block, scored_count=e["scored_count"] + 1
    )
    store.update("feeds", feed, block, pool=a["poolAfter"])
    if a["reward"]:
        common.credit(store, ev, op, "credit", a["reward"], feed_id=feed, epoch=number)
    slash = store.scratch.pop(f"slash:{ev.tx_hash}:{op}", None)
    if slash is not None:
        slash["feed_id"], slash["epoch"] = feed, number
    acc = common.accuracy(store, op, block)
    scored = acc["scored"] + 1
    revealed = acc["revealed_scored"] + (1 if a["revealed"] else 0)
    sum_err = int(acc["sum_abs_error"]) + (a["absError"] if a["revealed"] else 0)
    hits = acc["interval_hits"] + (1 if hit else 0)
    store.update(
        "operator_accuracy",
        op,
        block,
        scored=scored,
        revealed_scored=revealed,
        sum_abs_error=sum_err,
        mean_abs_error=(sum_err / revealed) if revealed else None,
        interval_hits=hits,
        interval_hit_rate=(hits / revealed) if revealed else None,
        total_rewards=int(acc["total_rewards"]) + a["reward"],
    )
    store.notify(
        "gridcast:forecastScored", {"feedId": feed, "epoch": number, "operator": op, "block": block}
    )


def on_rewards_withdrawn(ev: Event, store: Store) -> None:
    common.credit(store, ev, ev.args["account"], "withdrawal", ev.args["amount"])


HANDLERS = {
    "RewardsFunded": on_rewards_funded,
    "TruthSubmitted": on_truth_submitted,
    "TruthDisputed": on_truth_disputed,
    "DisputeResolved": on_dispute_resolved,
    "EpochCancelled": on_epoch_cancelled,
    "EpochSettled": on_epoch_settled,
    "ForecastScored": on_forecast_scored,
    "RewardsWithdrawn": on_rewards_withdrawn,
}
