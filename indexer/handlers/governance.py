"""GridGovernor events → proposals (state, tallies, eta, execution) and governance_votes."""

from __future__ import annotations

from indexer.decoder import Event
from indexer.handlers import common
from indexer.store import Store

TALLY = {0: "against_votes", 1: "for_votes", 2: "abstain_votes"}


def _pid(ev: Event) -> str:
    return str(ev.args["proposalId"])


def _notify(store: Store, ev: Event, state: str) -> None:
    store.notify(
        "gridcast:proposalUpdated",
        {"proposalId": _pid(ev), "state": state, "block": ev.block_number},
    )


def on_proposal_created(ev: Event, store: Store) -> None:
    a = ev.args
    row = {
        "proposer": a["proposer"],
        "targets": list(a["targets"]),
        "values": [str(v) for v in a["values"]],
        "calldatas": list(a["calldatas"]),
        "description": a["description"],
        "vote_start": a["voteStart"],
        "vote_end": a["voteEnd"],
        "state": "pending",
        "for_votes": 0,
        "against_votes": 0,
        "abstain_votes": 0,
        "eta": None,
        "created_block": ev.block_number,
        "created_tx": ev.tx_hash,
        "executed_block": None,
        "executed_tx": None,
    }
    store.put("proposals", _pid(ev), row, ev.block_number)
    _notify(store, ev, "pending")


def on_vote_cast(ev: Event, store: Store) -> None:
    a = ev.args
    pid, column = _pid(ev), TALLY.get(int(a["support"]))
    current = store.get("proposals", pid)
    if current is not None and column is not None:
        total = int(current[column] or 0) + int(a["weight"])
        store.update("proposals", pid, ev.block_number, **{column: total})
    row = {
        "proposal_id": pid,
        "voter": a["voter"],
        "support": a["support"],
        "weight": a["weight"],
        "reason": a["reason"],
        "block_number": ev.block_number,
        "tx_hash": ev.tx_hash,
    }
    store.add("governance_votes", common.history_key(ev), row, ev.block_number)
    _notify(store, ev, "voted")


def on_proposal_queued(ev: Event, store: Store) -> None:
    store.update("proposals", _pid(ev), ev.block_number, state="queued", eta=ev.args["etaSeconds"])
    _notify(store, ev, "queued")


def on_proposal_executed(ev: Event, store: Store) -> None:
    store.update(
        "proposals",
        _pid(ev),
        ev.block_number,
        state="executed",
        executed_block=ev.block_number,
        executed_tx=ev.tx_hash,
    )
    _notify(store, ev, "executed")


def on_proposal_canceled(ev: Event, store: Store) -> None:
    store.update("proposals", _pid(ev), ev.block_number, state="canceled")
    _notify(store, ev, "canceled")


HANDLERS = {
    "ProposalCreated": on_proposal_created,
    "VoteCast": on_vote_cast,
    "ProposalQueued": on_proposal_queued,
    "ProposalExecuted": on_proposal_executed,
    "ProposalCanceled": on_proposal_canceled,
}
