"""EnergyCertificates: minting from proven delivery, once per (asset, epoch), within capacity,
renewables only; retirement with avoided CO2e; supply = minted - retired under random transfers."""

from __future__ import annotations

import os
from typing import Any

import ape
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from gridcast.chain.merkle import DeliveryTree, meter_id

from .conftest import Protocol
from .test_exchange import MAX_WH, Market, deploy_market

SOLAR_ID, WIND_ID, LOAD_ID = 1, 2, 3
GRAMS_PER_KWH = 500
EXAMPLES = int(os.environ.get("GRIDCAST_CERTIFICATES_EXAMPLES", "5"))


class World:
    def __init__(self, market: Market, certs: Any) -> None:
        self.m, self.certs = market, certs
        self.trees: dict[int, DeliveryTree] = {}

    @property
    def proto(self) -> Protocol:
        return self.m.proto

    def deliver(self, epoch: int, readings: dict[str, int]) -> None:
        self.trees[epoch] = self.m.deliver(epoch, readings)

    def claim_args(self, epoch: int, meters: list[str]) -> tuple:
        _, amounts, proofs = self.m.proofs(self.trees[epoch], meters)
        return (epoch, amounts, proofs)

    @staticmethod
    def ids(meters: list[str]) -> list[bytes]:
        return sorted(meter_id(n) for n in meters)

    def day(self, epoch: int) -> int:
        return (self.proto.params.genesis + epoch * 900) // 86_400

    def cert_id(self, asset: int, epoch: int) -> int:
        return (asset << 64) | self.day(epoch)


@pytest.fixture(scope="module")
def world(proto: Protocol, accounts: Any) -> World:
    from ape import project

    m = deploy_market(proto, accounts)
    certs = project.EnergyCertificates.deploy(
        m.delivery,
        m.assets,
        proto.registry,
        proto.admin,
        "ipfs://gridcast/{id}",
        sender=proto.admin,
    )
    certs.setEmissionFactor(proto.feed, GRAMS_PER_KWH, sender=proto.admin)
    return World(m, certs)


SOLAR = ["solar/a", "solar/b"]
WIND = ["wind/a"]


def test_claim_mints_each_epoch_once_to_the_owner(world: World) -> None:
    certs, owner = world.certs, world.m.sellers[0]
    for e in range(3):
        world.deliver(e, {"solar/a": 700 + e, "solar/b": 600, "wind/a": 900})
    claims = [world.claim_args(e, SOLAR) for e in range(3)]
    tx = certs.claim(SOLAR_ID, world.ids(SOLAR), claims, sender=world.m.buyers[0])  # anyone
    (ev,) = tx.events.filter(certs.DeliveryCertified)
    assert (list(ev.epochs), list(ev.energyWh)) == ([0, 1, 2], [1_300 + e for e in range(3)])
    cid = world.cert_id(SOLAR_ID, 0)
    assert world.cert_id(SOLAR_ID, 2) == cid  # same day: one id
    total = sum(1_300 + e for e in range(3))
    assert certs.balanceOf(owner, cid) == certs.minted(cid) == certs.totalSupply(cid) == total
    assert certs.claimed(SOLAR_ID, 1) and not certs.claimed(SOLAR_ID, 3)
    with ape.reverts(certs.CertificatesAlreadyClaimed):
        certs.claim(SOLAR_ID, world.ids(SOLAR), [claims[1]], sender=owner)
    wind = world.claim_args(0, WIND)
    with ape.reverts(certs.CertificatesAlreadyClaimed):
        certs.claim(WIND_ID, world.ids(WIND), [wind, wind], sender=owner)  # twice in one claim
    certs.claim(WIND_ID, world.ids(WIND), [wind], sender=owner)
    assert certs.balanceOf(world.m.sellers[1], world.cert_id(WIND_ID, 0)) == 900


def test_claim_rules(world: World) -> None:
    certs, who = world.certs, world.m.sellers[0]
    world.deliver(0, {"solar/a": MAX_WH, "solar/b": 1, "wind/a": 900, "load/a": 50})
    with ape.reverts(certs.CertificatesOverCapacity):
        certs.claim(SOLAR_ID, world.ids(SOLAR), [world.claim_args(0, SOLAR)], sender=who)
    with ape.reverts(certs.CertificatesMeterNotOfAsset):
        certs.claim(SOLAR_ID, world.ids(WIND), [world.claim_args(0, WIND)], sender=who)
    with ape.reverts(certs.CertificatesNotRenewable):
        certs.claim(LOAD_ID, world.ids(["load/a"]), [world.claim_args(0, ["load/a"])], sender=who)
    with ape.reverts(certs.CertificatesEmptyClaim):
        certs.claim(SOLAR_ID, world.ids(SOLAR), [], sender=who)
    epoch, amounts, proofs = world.claim_args(0, SOLAR)
    with ape.reverts(certs.CertificatesMetersUnsorted):
        certs.claim(SOLAR_ID, world.ids(SOLAR)[::-1], [(epoch, amounts, proofs)], sender=who)
    with ape.reverts(certs.CertificatesInvalidProof):
        certs.claim(SOLAR_ID, world.ids(SOLAR), [(epoch, amounts[::-1], proofs)], sender=who)
    # a pending root (truth still disputable) mints nothing
    world.proto.goto(world.proto.epoch_end(1))
    world.proto.submit_truth(1, 10_000)
    tree = world.trees[0]  # any root will do: it stays pending
    world.m.delivery.postRoot(
        world.m.feed, 1, tree.root, tree.count, tree.total_wh, sender=world.proto.reporter
    )
    with ape.reverts(world.m.delivery.MeteredDeliveryNotFinal):
        certs.claim(WIND_ID, world.ids(WIND), [(1, *world.claim_args(0, WIND)[1:])], sender=who)


def test_retire_records_the_retirement_and_avoided_co2e(world: World, accounts: Any) -> None:
    certs, owner, other = world.certs, world.m.sellers[0], accounts[8]
    world.deliver(0, {"solar/a": 2_000, "solar/b": 400, "wind/a": 1})
    certs.claim(SOLAR_ID, world.ids(SOLAR), [world.claim_args(0, SOLAR)], sender=owner)
    cid = world.cert_id(SOLAR_ID, 0)
    with ape.reverts(certs.CertificatesZeroAmount):
        certs.retire(cid, 0, "x", "y", sender=owner)
    with ape.reverts(certs.CertificatesRetireExceedsBalance):
        certs.retire(cid, 2_401, "x", "y", sender=owner)
    certs.safeTransferFrom(owner, other, cid, 1_000, b"", sender=owner)
    tx = certs.retire(cid, 1_000, "Acme Pty Ltd", "Scope 2, FY2026", sender=other)
    (ev,) = tx.events.filter(certs.CertificatesRetired)
    assert (ev.retirementId, ev.energyWh, ev.co2eGrams, ev.beneficiary) == (
        0,
        1_000,
        500,
        "Acme Pty Ltd",
    )
    assert (ev.assetId, ev.day) == (SOLAR_ID, world.day(0))
    assert tuple(certs.walletOf(other)) == (1_000, 500)
    r = certs.retirementOf(0)
    assert (r.account, r.energyWh, r.co2eGrams) == (other.address, 1_000, 500)
    assert certs.totalSupply(cid) == 1_400 == certs.minted(cid) - certs.retired(cid)
    with ape.reverts(certs.CertificatesRetireExceedsBalance):
        certs.retire(cid, 1, "x", "y", sender=other)  # retired units are gone
    with ape.reverts(certs.AccessControlUnauthorizedAccount):
        certs.setEmissionFactor(world.m.feed, 1, sender=other)
    with ape.reverts(certs.CertificatesFactorTooLarge):
        certs.setEmissionFactor(world.m.feed, 2_001, sender=world.proto.admin)


class SupplyMachine(RuleBasedStateMachine):
    """Random transfers and retirements of two minted ids; supply = minted - retired = balances."""

    world: World

    def __init__(self) -> None:
        super().__init__()
        w = self.world
        self.certs = w.certs
        self.snapshot = w.proto.chain.snapshot()
        self.holders = [w.m.sellers[0], w.m.sellers[1], w.m.buyers[0], w.m.buyers[1]]
        self.ids = [w.cert_id(SOLAR_ID, 0), w.cert_id(WIND_ID, 0)]
        self.retired = dict.fromkeys(self.ids, 0)

    def teardown(self) -> None:
        self.world.proto.chain.restore(self.snapshot)

    @rule(k=st.integers(0, 1), a=st.integers(0, 3), b=st.integers(0, 3), amount=st.integers(1, 900))
    def transfer(self, k: int, a: int, b: int, amount: int) -> None:
        cid, src = self.ids[k], self.holders[a]
        amount = min(amount, int(self.certs.balanceOf(src, cid)))
        if amount:
            self.certs.safeTransferFrom(src, self.holders[b], cid, amount, b"", sender=src)

    @rule(k=st.integers(0, 1), a=st.integers(0, 3), amount=st.integers(1, 1_500))
    def retire(self, k: int, a: int, amount: int) -> None:
        cid, who = self.ids[k], self.holders[a]
        if amount > self.certs.balanceOf(who, cid):
            with ape.reverts(self.certs.CertificatesRetireExceedsBalance):
                self.certs.retire(cid, amount, "b", "p", sender=who)
            return
        self.certs.retire(cid, amount, "b", "p", sender=who)
        self.retired[cid] += amount

    @invariant()
    def supply_is_minted_minus_retired(self) -> None:
        for cid in self.ids:
            held = sum(int(self.certs.balanceOf(h, cid)) for h in self.holders)
            assert self.certs.retired(cid) == self.retired[cid]
            assert held == self.certs.totalSupply(cid) == self.certs.minted(cid) - self.retired[cid]


def test_supply_equals_minted_minus_retired_under_transfers(world: World) -> None:
    world.deliver(0, {"solar/a": 1_000, "solar/b": 500, "wind/a": 1_200})
    certs, (s0, s1) = world.certs, world.m.sellers
    certs.claim(SOLAR_ID, world.ids(SOLAR), [world.claim_args(0, SOLAR)], sender=s0)
    certs.claim(WIND_ID, world.ids(WIND), [world.claim_args(0, WIND)], sender=s1)
    SupplyMachine.world = world
    run_state_machine_as_test(
        SupplyMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
