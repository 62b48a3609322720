"""MeterReading: one leaf (meterId, epoch, energyWh) of a metered-delivery root with its Merkle
proof, which ``MeteredDelivery.verify`` (or OpenZeppelin ``MerkleProof.verify``) accepts.

The leaves come from the streaming job's per-meter epoch energy (``epoch_meter_energy``, one row
per meter of a closed window). The API does not need the market file to know which data window a
chain epoch is. It tries first the window whose epoch actual this pipeline's truth oracle
submitted in the epoch's truth transaction (``epoch_actuals.submission_tx`` = the indexed
truth's ``submitted_tx``), then the windows whose meter count and total equal the root's leaf
count and total Wh (newest first, at most MAX_CANDIDATES); it rebuilds each one's tree
(gridcast.chain.merkle, leaves tagged with the chain epoch) and serves the first whose root is
the posted root, so a proof served always verifies against the chain. A root with no matching
window (its data not landed here) has no readings. Trees are cached per (feed, epoch, root): a
posted root never changes."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import datetime
from typing import Any, Optional

import strawberry
from sqlalchemy import text
from strawberry.types import Info

from api.errors import InvalidArgumentError
from api.graphql.derive import BlockHeight
from api.graphql.scalars import BigInt
from api.graphql.sql import Node, base_select, check_paging
from gridcast.chain.merkle import (
    DeliveryTree,
    MerkleError,
    Reading,
    leaf_hash,
    meter_id,
    process_proof,
)

METER_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")
MAX_CANDIDATES = 50  # data windows tried per root (same leaf count and total)
_CACHE_SIZE = 256
Window = tuple[str, datetime]  # (streaming feed name, window start)
Found = tuple[DeliveryTree, dict[bytes, str], Window]
_TREES: OrderedDict[tuple[str, int, str], Found] = OrderedDict()


@strawberry.type(description="One meter's energy in one epoch, a leaf of the delivery root.")
class MeterReading:
    feed_id: str
    epoch: BigInt  # type: ignore[valid-type]
    meter_id: str = strawberry.field(description="keccak256 of the meter's name.")
    meter: str | None = strawberry.field(description="The meter's name.")
    energy_wh: BigInt  # type: ignore[valid-type]
    leaf: str = strawberry.field(description="The StandardMerkleTree leaf hash.")
    proof: list[str] = strawberry.field(description="Sibling hashes from the leaf to the root.")
    root: str
    verified: bool = strawberry.field(description="The proof leads from the leaf to `root`.")
    data_feed: str = strawberry.field(
        description="The streaming feed whose closed window the leaves came from."
    )
    data_start: datetime = strawberry.field(description="That window's start (data time).")


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


async def _windows(info: Info, root: Any) -> list[Window]:
    """Candidate data windows of a root: the one its truth transaction submitted, then those
    with its leaf count and total."""
    ctx = info.context
    linked = await ctx.rows(
        text(
            "SELECT a.feed, a.epoch_start FROM truths t JOIN epoch_actuals a "
            "ON lower(a.submission_tx) IN (t.submitted_tx, substr(t.submitted_tx, 3)) "
            "WHERE t.id = :key AND t.block_to IS NULL"
        ),
        {"key": f"{root.feed_id}-{int(root.epoch)}"},
    )
    counted = await ctx.rows(
        text(
            "SELECT feed, epoch_start FROM epoch_meter_energy GROUP BY feed, epoch_start "
            "HAVING count(*) = :n AND sum(energy_wh) = :total "
            "ORDER BY epoch_start DESC LIMIT :k"
        ),
        {"n": int(root.leaf_count), "total": int(root.total_wh), "k": MAX_CANDIDATES},
    )
    out: list[Window] = []
    for w in linked + counted:
        window = (str(w["feed"]), w["epoch_start"])
        if window not in out:
            out.append(window)
    return out


async def _tree(info: Info, root: Any) -> Found | None:
    key = (str(root.feed_id), int(root.epoch), str(root.root))
    hit = _TREES.get(key)
    if hit is not None:
        _TREES.move_to_end(key)
        return hit
    ctx = info.context
    for window in await _windows(info, root):
        rows = await ctx.rows(
            text(
                "SELECT meter, energy_wh FROM epoch_meter_energy "
                "WHERE feed = :feed AND epoch_start = :start"
            ),
            {"feed": window[0], "start": window[1]},
        )
        names = {meter_id(str(r["meter"])): str(r["meter"]) for r in rows}
        readings = [
            Reading(meter_id(str(r["meter"])), int(root.epoch), int(r["energy_wh"])) for r in rows
        ]
        try:
            tree = DeliveryTree(readings)
        except MerkleError:
            continue
        if _hex(tree.root) == key[2]:
            _TREES[key] = (tree, names, window)
            while len(_TREES) > _CACHE_SIZE:
                _TREES.popitem(last=False)
            return tree, names, window
    return None


def _out(root: Any, found: Found, meter: bytes) -> MeterReading:
    tree, names, window = found
    r = tree.reading(meter)
    proof = tree.proof(meter)
    leaf = leaf_hash(*r.values())
    return MeterReading(
        feed_id=str(root.feed_id), epoch=int(root.epoch), meter_id=_hex(meter),
        meter=names.get(meter), energy_wh=r.energy_wh, leaf=_hex(leaf),
        proof=[_hex(p) for p in proof], root=str(root.root),
        verified=_hex(process_proof(leaf, proof)) == str(root.root), data_feed=window[0],
        data_start=window[1],
    )  # fmt: skip


def parse_meter(meter: str) -> bytes:
    """A meter's 32-byte id from its name or its 0x-hex id."""
    if METER_ID.match(meter):
        return bytes.fromhex(meter[2:])
    if not meter or len(meter) > 200:
        raise InvalidArgumentError("`meter` is a meter name (1-200 characters) or a 0x-hex id")
    return meter_id(meter)


async def reading_of(info: Info, root: Any, meter: str) -> MeterReading | None:
    """The reading of ``meter`` (name or id) under ``root`` (a DeliveryRoot row), or None."""
    mid = parse_meter(meter)
    found = await _tree(info, root)
    if found is None:
        return None
    try:
        return _out(root, found, mid)
    except MerkleError:
        return None


async def readings_of(info: Info, root: Any, first: int, skip: int) -> list[MeterReading]:
    check_paging(first, skip, info.context.settings.max_first)
    found = await _tree(info, root)
    if found is None:
        return []
    meters = sorted(r.meter for r in found[0].readings)[skip : skip + first]
    return [_out(root, found, m) for m in meters]


async def meter_reading(
    info: Info,
    feed_id: str,
    epoch: int,
    meter: str,
    block: Optional[BlockHeight] = None,  # noqa: UP045
) -> Optional[MeterReading]:  # noqa: UP045
    """Query field: a meter's reading with its proof for (feed, epoch)."""
    from api.graphql.entities import DELIVERY_ROOT

    key = f"{feed_id.lower()}-{int(epoch)}"
    DELIVERY_ROOT.check_id(key)
    number = await info.context.resolve_block(block)
    rows = await info.context.rows(
        base_select(DELIVERY_ROOT, number).where(DELIVERY_ROOT.columns["id"] == key)
    )
    if not rows:
        return None
    return await reading_of(info, Node(rows[0], number), meter)
