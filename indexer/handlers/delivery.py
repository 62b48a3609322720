"""MeteredDelivery events → delivery_roots (one immutable row per posted (feed, epoch) root)."""

from __future__ import annotations

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store


def on_delivery_root_posted(ev: Event, store: Store) -> None:
    a = ev.args
    row = {
        "feed_id": a["feedId"],
        "epoch": a["epoch"],
        "root": a["root"],
        "leaf_count": a["leafCount"],
        "total_wh": a["totalWh"],
        "truth_value": a["truthValue"],
        "truth_submitted_at": a["truthSubmittedAt"],
        "final_after": a["finalAfter"],
        "reporter": a["reporter"],
        "block_number": ev.block_number,
        "tx_hash": ev.tx_hash,
    }
    store.put("delivery_roots", common.epoch_key(a["feedId"], a["epoch"]), row, ev.block_number)
    store.notify(
        "gridcast:deliveryRootPosted",
        {"feedId": a["feedId"], "epoch": a["epoch"], "root": a["root"], "block": ev.block_number},
    )


HANDLERS = {"DeliveryRootPosted": on_delivery_root_posted}
