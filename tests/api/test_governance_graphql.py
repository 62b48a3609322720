"""Governance over GraphQL: a real proposal on anvil (GridGovernor over GridTimelock, dev profile)
runs from propose to execute, the real indexer follows it, and `proposals`, `proposal(id)` and
`governanceVotes` answer with its state, tallies and the vote."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eth_utils import keccak

from gridcast.chain.deployment import GOVERNANCE_PROFILES, FeedParams
from gridcast.localnet import DEMAND, bootstrap
from gridcast.node import AnvilNode

from .conftest import api_settings, index, serve


def _now(node: AnvilNode) -> int:
    return int(node.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]


def _mine(node: AnvilNode, blocks: int) -> None:
    node.rpc("anvil_mine", [hex(blocks)])


def _run_proposal(node: AnvilNode, state: Path) -> tuple[Any, int, str, int]:
    """Propose a reward change, vote for it, queue and execute it; (market, id, description,
    voting weight)."""
    lm = bootstrap(
        node.url, state, operator_keys=[1], genesis=_now(node) + 600, epoch_length=60,
        epochs_per_round=4, feeds=(DEMAND,),
    )  # fmt: skip
    admin, w3 = lm.admin, lm.admin.w3
    token, registry = lm.contract("GridToken"), lm.contract("ForecastRegistry")
    governor = lm.deployment.contract(w3, "GridGovernor")
    admin.transact(token, "delegate", admin.address)
    _mine(node, 1)
    feed_hex, old = next(iter(lm.params.items()))
    new = FeedParams(**{**old.__dict__, "reward_per_epoch": old.reward_per_epoch // 2})
    calldata = registry.encode_abi(
        "setFeedParams", args=[bytes.fromhex(feed_hex[2:]), new.as_tuple()]
    )
    targets, values, calldatas = [registry.address], [0], [calldata]
    description = "Halve the demand feed's reward"
    desc_hash = keccak(text=description)
    admin.transact(governor, "propose", targets, values, calldatas, description)
    pid = int(governor.functions.hashProposal(targets, values, calldatas, desc_hash).call())
    profile = GOVERNANCE_PROFILES["dev"]
    _mine(node, profile.voting_delay_blocks + 1)
    weight = int(token.functions.getVotes(admin.address).call())
    admin.transact(governor, "castVoteWithReason", pid, 1, "halve it")
    _mine(node, profile.voting_period_blocks + 1)
    admin.transact(governor, "queue", targets, values, calldatas, desc_hash)
    node.rpc("evm_setNextBlockTimestamp", [_now(node) + profile.timelock_delay_s + 1])
    node.rpc("evm_mine")
    receipt = admin.transact(governor, "execute", targets, values, calldatas, desc_hash)
    assert receipt is not None and receipt["status"] == 1
    return lm, pid, description, weight


QUERY = """
query ($id: ID!) {
  proposals(first: 5) { id proposer description state forVotes againstVotes eta executedBlock
              targets
              votes(first: 5) { voter support weight reason } }
  proposal(id: $id) { state votes(first: 5) { id } }
  governanceVotes(first: 5) { proposalId support proposal { id state description } }
}
"""


def test_graphql_serves_an_executed_proposal_and_its_vote(
    anvil: AnvilNode, tmp_path: Path, fresh_database: Any, redis_url: str
) -> None:
    from api.app import create_app
    from indexer.db.engine import upgrade

    db_url = fresh_database("gridcast_api_gov")
    upgrade(db_url)
    lm, pid, description, weight = _run_proposal(anvil, tmp_path)
    index(anvil, lm, db_url, redis_url)
    app = create_app(api_settings(anvil, db_url, redis_url, tmp_path), deployment="gov-test")
    with serve(app) as url:
        import httpx

        r = httpx.post(
            f"{url}/graphql", json={"query": QUERY, "variables": {"id": str(pid)}}, timeout=30
        )
    body = r.json()
    assert r.status_code == 200 and "errors" not in body, body
    data = body["data"]
    admin = lm.admin.address.lower()
    assert weight > 0
    [p] = data["proposals"]
    assert p["id"] == str(pid) and p["proposer"] == admin and p["description"] == description
    assert p["state"] == "executed" and p["executedBlock"] is not None and p["eta"] is not None
    assert int(p["forVotes"]) == weight and int(p["againstVotes"]) == 0
    assert [t.lower() for t in p["targets"]] == [lm.contract("ForecastRegistry").address.lower()]
    assert p["votes"] == [
        {"voter": admin, "support": 1, "weight": str(weight), "reason": "halve it"}
    ]
    assert data["proposal"]["state"] == "executed" and len(data["proposal"]["votes"]) == 1
    [v] = data["governanceVotes"]
    assert v["proposalId"] == str(pid) and v["support"] == 1
    assert v["proposal"] == {"id": str(pid), "state": "executed", "description": description}
