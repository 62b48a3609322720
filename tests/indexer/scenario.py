"""A real market on anvil and full epoch rounds (commit → reveal → consensus → truth → settle →
claim → withdraw), shared by the indexer tests."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from gridcast.chain.commitments import Curve
from gridcast.localnet import LocalMarket, bootstrap
from gridcast.node import AnvilNode

EPOCH_LENGTH = 60
EPOCHS_PER_ROUND = 3


def market(node: AnvilNode, state_dir: Path, operators: int = 4) -> LocalMarket:
    now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    return bootstrap(
        node.url,
        state_dir,
        operator_keys=list(range(1, 1 + operators)),
        genesis=now + 3600,
        epoch_length=EPOCH_LENGTH,
        epochs_per_round=EPOCHS_PER_ROUND,
    )


def _warp(node: AnvilNode, t: int) -> None:
    now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    if t > now:
        node.rpc("evm_setNextBlockTimestamp", [t])
        node.rpc("evm_mine")


def play_round(
    node: AnvilNode, m: LocalMarket, feed: str, seed: int, *, settle: bool = True
) -> dict[str, Any]:
    """One round of one feed by every operator; returns what was sent."""
    reg = m.contract("ForecastRegistry")
    settlement = m.contract("Settlement")
    fid = bytes.fromhex(feed[2:])
    ops = sorted(m.operators, key=lambda o: o.address.lower())
    first = int(reg.functions.nextCommittableEpoch(fid, ops[0].address).call())
    now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    while int(reg.functions.commitDeadline(fid, first).call()) <= now + 30:
        first += EPOCHS_PER_ROUND
    # commits are refused beyond a horizon of a few rounds: move to shortly before the deadline
    _warp(node, int(reg.functions.commitDeadline(fid, first).call()) - 120)
    curves = []
    for i, op in enumerate(ops):
        base = 1000 + seed * 10 + i * 7
        values = [base + k for k in range(EPOCHS_PER_ROUND)]
        c = Curve(
            fid, op.address, first, values, [v - 50 for v in values], [v + 50 for v in values],
            secrets.token_bytes(32),
        )  # fmt: skip
        op.transact(reg, "commit", fid, first, c.commitments())
        curves.append(c)
    _warp(node, int(reg.functions.commitDeadline(fid, first).call()))
    for op, c in zip(ops, curves, strict=True):
        op.transact(reg, "reveal", fid, op.address, first, c.opening())
    _warp(node, int(reg.functions.revealDeadline(fid, first).call()))
    addrs = [o.address for o in ops]
    firsts = [first] * len(ops)
    for e in range(first, first + EPOCHS_PER_ROUND):
        m.admin.transact(reg, "finalizeConsensus", fid, e, addrs, firsts)
    if settle:
        last = first + EPOCHS_PER_ROUND - 1
        _warp(node, int(reg.functions.epochEnd(fid, last).call()))
        for e in range(first, first + EPOCHS_PER_ROUND):
            m.admin.transact(settlement, "submitTruth", fid, e, 1000 + seed * 10 + e % 5,
                             secrets.token_bytes(32))  # fmt: skip
        window = m.params[feed].dispute_window
        now = int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
        _warp(node, now + window + 1)
        for e in range(first, first + EPOCHS_PER_ROUND):
            m.admin.transact(settlement, "settle", fid, e, addrs, firsts)
            for op in ops:
                m.admin.transact(settlement, "claim", fid, e, op.address, first)
        for op in ops:
            if int(settlement.functions.balanceOf(op.address).call()) > 0:
                op.transact(settlement, "withdraw")
    return {"first": first, "curves": curves}


def revert(node: AnvilNode, m: LocalMarket, snapshot: object) -> None:
    """evm_revert, and make every submitter re-read its nonce from the node."""
    node.rpc("evm_revert", [snapshot])
    for sub in [m.admin, *m.operators]:
        sub._nonce = None
