"""AssetRegistry events → assets (registration, capacity changes, ERC-721 ownership)."""

from __future__ import annotations

from indexer.decoder import Event
from indexer.store import Store

KINDS = {0: "solar", 1: "wind", 2: "storage", 3: "load"}
RENEWABLE = {"solar", "wind"}
ZERO = "0x" + "0" * 40


def on_asset_registered(ev: Event, store: Store) -> None:
    a = ev.args
    kind = KINDS.get(int(a["kind"]), str(a["kind"]))
    row = {
        "owner": a["owner"],
        "feed_id": a["feedId"],
        "kind": kind,
        "renewable": kind in RENEWABLE,
        "capacity_w": a["capacityW"],
        "location": a["location"],
        "meter_ids": list(a["meterIds"]),
        "registrar": a["registrar"],
        "registered_block": ev.block_number,
        "registered_tx": ev.tx_hash,
    }
    store.put("assets", str(a["assetId"]), row, ev.block_number)
    store.notify("gridcast:assetChanged", {"assetId": str(a["assetId"]), "block": ev.block_number})


def on_asset_capacity_changed(ev: Event, store: Store) -> None:
    a = ev.args
    store.update("assets", str(a["assetId"]), ev.block_number, capacity_w=a["capacityW"])
    store.notify("gridcast:assetChanged", {"assetId": str(a["assetId"]), "block": ev.block_number})


def on_transfer(ev: Event, store: Store) -> None:
    """ERC-721 Transfer: the new owner (the mint's Transfer precedes AssetRegistered, which
    writes the row; a burn keeps the last owner)."""
    a = ev.args
    if a["to"] != ZERO:
        store.update("assets", str(a["tokenId"]), ev.block_number, owner=a["to"])


HANDLERS = {
    "AssetRegistered": on_asset_registered,
    "AssetCapacityChanged": on_asset_capacity_changed,
    "Transfer": on_transfer,
}
