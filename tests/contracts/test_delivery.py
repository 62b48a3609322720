"""MeteredDelivery: roots posted with the truth, final and void with it; Python proofs on-chain."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from gridcast.chain.deployment import role
from gridcast.chain.merkle import DeliveryTree, Reading, build_tree, leaf_hash, meter_id

from .conftest import Protocol

NONE, PENDING, FINAL, VOID = 0, 1, 2, 3
TRUTH = 10_000


def deploy_delivery(proto: Protocol) -> Any:
    """MeteredDelivery wired to the module's Settlement and registry; the truth reporter posts."""
    from ape import project

    delivery = project.MeteredDelivery.deploy(
        proto.settlement, proto.registry, proto.admin, sender=proto.admin
    )
    delivery.grantRole(role("TRUTH_REPORTER_ROLE"), proto.reporter, sender=proto.admin)
    return delivery


def truth_and_root(proto: Protocol, delivery: Any, epoch: int, tree: DeliveryTree) -> None:
    """Moves past the epoch's end, submits its truth and posts the tree's root."""
    end = proto.epoch_end(epoch)
    if int(proto.chain.pending_timestamp) < end:
        proto.goto(end)
    proto.submit_truth(epoch, TRUTH)
    delivery.postRoot(
        proto.feed, epoch, tree.root, tree.count, tree.total_wh, sender=proto.reporter
    )


def past_window(proto: Protocol, epoch: int) -> None:
    t = proto.settlement.truthOf(proto.feed, epoch)
    proto.goto(int(t.submittedAt) + proto.params.dispute_window)


@pytest.fixture(scope="module")
def delivery(proto: Protocol) -> Any:
    return deploy_delivery(proto)


def _tree(epoch: int, n: int = 7) -> DeliveryTree:
    return build_tree(epoch, {f"meter-{i}": 1_000 * i + 3 for i in range(n)})


def test_python_tree_matches_openzeppelin_javascript() -> None:
    # Root and proof produced by @openzeppelin/merkle-tree 1.x StandardMerkleTree.of(values,
    # ["bytes32", "uint64", "uint256"]) for meters 0x01..01 .. 0x05..05, epoch 7, 1000*i + 17 Wh.
    tree = DeliveryTree([Reading(bytes([i + 1]) * 32, 7, 1000 * i + 17) for i in range(5)])
    assert tree.root.hex() == "dbd772cfe7334f515e0c0956099ab10e61b13515a42116b594fe736e7cac1d97"
    assert [p.hex() for p in tree.proof(bytes([3]) * 32)] == [
        "842e8ba47d30bc8e831d2f0a8d19b0c6dfd47c45947bb0495a083fd4f04aa0c7",
        "beaa83ef80f85a558ae4465a003d6bd894d80498b7ce23e6647702e981bd9a13",
    ]


def test_python_proofs_verify_on_chain(proto: Protocol, delivery: Any) -> None:
    for n in (1, 2, 7):
        epoch = n
        tree = _tree(epoch, n)
        truth_and_root(proto, delivery, epoch, tree)
        r = delivery.rootOf(proto.feed, epoch)
        assert (r.root, r.leafCount, r.totalWh) == (tree.root, n, tree.total_wh)
        for reading in tree.readings:
            proof = tree.proof(reading.meter)
            assert delivery.leafOf(*reading.values()) == leaf_hash(*reading.values())
            assert delivery.verify(proto.feed, epoch, reading.meter, reading.energy_wh, proof)
            # a different amount or epoch does not verify with the same proof
            m, wh = reading.meter, reading.energy_wh
            assert not delivery.verify(proto.feed, epoch, m, wh + 1, proof)
            assert not delivery.verify(proto.feed, epoch + 1, m, wh, proof)


def test_root_final_after_the_truths_dispute_window(proto: Protocol, delivery: Any) -> None:
    tree = _tree(0)
    assert delivery.statusOf(proto.feed, 0) == NONE
    truth_and_root(proto, delivery, 0, tree)
    assert delivery.statusOf(proto.feed, 0) == PENDING
    metas = [tree.readings[1], tree.readings[4]]
    args = (
        [r.meter for r in metas],
        [r.energy_wh for r in metas],
        [tree.proof(r.meter) for r in metas],
    )
    with ape.reverts(delivery.MeteredDeliveryNotFinal):
        delivery.verifiedEnergy(proto.feed, 0, *args)
    past_window(proto, 0)
    proto.chain.mine()
    assert delivery.statusOf(proto.feed, 0) == FINAL
    assert delivery.verifiedEnergy(proto.feed, 0, *args) == sum(r.energy_wh for r in metas)
    bad = (args[0], [args[1][0] + 1, args[1][1]], args[2])
    with ape.reverts(delivery.MeteredDeliveryInvalidProof):
        delivery.verifiedEnergy(proto.feed, 0, *bad)


def test_post_root_rules(proto: Protocol, delivery: Any, accounts: Any) -> None:
    tree = _tree(0)
    proto.goto(proto.epoch_end(0))
    with ape.reverts(delivery.MeteredDeliveryNoTruth):
        delivery.postRoot(proto.feed, 0, tree.root, 7, 1, sender=proto.reporter)
    proto.submit_truth(0, TRUTH)
    with ape.reverts(delivery.AccessControlUnauthorizedAccount):
        delivery.postRoot(proto.feed, 0, tree.root, 7, 1, sender=accounts[8])
    with ape.reverts(delivery.MeteredDeliveryEmptyRoot):
        delivery.postRoot(proto.feed, 0, b"\x00" * 32, 7, 1, sender=proto.reporter)
    delivery.postRoot(proto.feed, 0, tree.root, 7, 1, sender=proto.reporter)
    with ape.reverts(delivery.MeteredDeliveryRootExists):
        delivery.postRoot(proto.feed, 0, tree.root, 7, 1, sender=proto.reporter)
    # epoch 1: the truth's window closed before the root came -> refused, and the epoch is void
    proto.goto(proto.epoch_end(1))
    proto.submit_truth(1, TRUTH)
    past_window(proto, 1)
    with ape.reverts(delivery.MeteredDeliveryWindowClosed):
        delivery.postRoot(proto.feed, 1, tree.root, 7, 1, sender=proto.reporter)
    assert delivery.statusOf(proto.feed, 1) == VOID


def test_cancelled_truth_voids_the_epoch(proto: Protocol, delivery: Any) -> None:
    proto.goto(proto.epoch_end(0) + proto.params.truth_timeout)
    proto.settlement.cancelEpoch(proto.feed, 0, sender=proto.admin)
    assert delivery.statusOf(proto.feed, 0) == VOID


def _dispute(proto: Protocol, who: Any, epoch: int, value: int) -> None:
    bond = proto.params.dispute_bond
    proto.fund(who, bond)
    proto.token.approve(proto.settlement, bond, sender=who)
    proto.settlement.dispute(proto.feed, epoch, value, sender=who)


def test_overturned_truth_voids_the_root_and_rejected_dispute_finalises_it(
    proto: Protocol, delivery: Any, accounts: Any
) -> None:
    for epoch, upheld in ((0, True), (1, False)):
        truth_and_root(proto, delivery, epoch, _tree(epoch))
        _dispute(proto, accounts[8], epoch, TRUTH + 50)
        assert delivery.statusOf(proto.feed, epoch) == PENDING
        proto.settlement.resolveDispute(proto.feed, epoch, upheld, TRUTH + 50, sender=proto.arbiter)
        assert delivery.statusOf(proto.feed, epoch) == (VOID if upheld else FINAL)


def test_meter_id_is_keccak_of_the_name() -> None:
    from eth_utils import keccak

    assert meter_id("m-1") == keccak(b"m-1")
