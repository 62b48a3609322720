"""The renewable market's certificates under random interleavings (hypothesis stateful test).

Each history starts from a cleared renewable book (solar and wind sell 1,000 Wh each, two buyers)
and a final delivery root of random energies; then sells settled with or without proofs, buys
settled, the sellers claiming certificates themselves, and the settle window passing, in any
order. After every step: the exchange's tokens equal its liabilities; no (asset, day) certificate
was minted above the energy its asset delivered (the green attribute is never counted twice,
whoever certifies first); every minted unit is held by a seller, a buyer or the exchange; and
every revert is a custom error.

Short by default (GRIDCAST_RENEWABLE_EXAMPLES=8 histories of 8 steps).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from ape.exceptions import ContractLogicError, CustomError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from gridcast.chain.merkle import DeliveryTree, meter_id

from .conftest import Protocol
from .test_exchange import EPOCHS, finalize_consensus
from .test_exchange_renewable import SOLAR, WIND, Green, deploy_green

EXAMPLES = int(os.environ.get("GRIDCAST_RENEWABLE_EXAMPLES", "8"))
STEPS = int(os.environ.get("GRIDCAST_RENEWABLE_STEPS", "8"))
ASSETS = {1: SOLAR, 2: WIND}  # asset id -> meters (sellers[0] solar, sellers[1] wind)


@pytest.fixture(scope="module")
def green(proto: Protocol, accounts: Any) -> Green:
    g = deploy_green(proto, accounts)
    finalize_consensus(proto, accounts[7], EPOCHS)
    return g


class RenewableMachine(RuleBasedStateMachine):
    green: Green

    def __init__(self) -> None:
        super().__init__()
        g = self.g = self.green
        self.m, self.ex, self.certs = g.m, g.ex, g.certs
        self.snapshot = self.m.proto.chain.snapshot()
        self.tree: DeliveryTree | None = None

    def teardown(self) -> None:
        self.m.proto.chain.restore(self.snapshot)

    def attempt(self, fn: Any, *args: Any, **kw: Any) -> None:
        try:
            fn(*args, **kw)
        except CustomError:
            pass
        except ContractLogicError as e:  # a panic or a revert string: a bug
            raise AssertionError(f"{fn} reverted without a custom error: {e}") from e

    # ------------------------------------------------------------------ rules
    @initialize(
        solar=st.sampled_from([0, 300, 1_000, 1_400]), wind=st.sampled_from([0, 500, 1_000])
    )
    def trade_and_deliver(self, solar: int, wind: int) -> None:
        """A cleared book, then the epoch's delivery root, final."""
        (b0, b1) = self.m.buyers
        self.g.sell(0, 1_000, 1_500)
        self.g.sell(1, 1_000, 1_800)
        self.g.buy(b0, 1_500, 2_500)
        self.g.buy(b1, 1_000, 2_000)
        self.m.gate()
        self.g.clear()
        readings = {"solar/a": solar // 2, "solar/b": solar - solar // 2, "wind/a": wind}
        self.tree = self.m.deliver(0, readings)

    @rule(i=st.integers(0, 1), prove=st.booleans())
    def settle_sell(self, i: int, prove: bool) -> None:
        d: tuple[list, list, list] = ([], [], [])
        if prove and self.tree is not None:
            d = self.m.proofs(self.tree, ASSETS[i + 1])
        self.attempt(self.ex.settleSell, self.g.market, 0, i, d, sender=self.m.sellers[i])

    @rule(k=st.integers(0, 1))
    def settle_buy(self, k: int) -> None:
        self.attempt(self.ex.settleBuy, self.g.market, 0, 2 + k, sender=self.m.buyers[k])

    @rule(i=st.integers(0, 1))
    def claim(self, i: int) -> None:
        """The seller certifies its asset's epoch itself (refused while its sell is pending, and
        once the exchange certified it)."""
        if self.tree is None:
            return
        ids, amounts, proofs = self.m.proofs(self.tree, ASSETS[i + 1])
        self.attempt(self.certs.claim, i + 1, ids, [(0, amounts, proofs)], sender=self.m.sellers[i])

    @rule()
    def pass_settle_window(self) -> None:
        after = int(self.ex.bookOf(self.g.market, 0).settleAfter)
        now = int(self.m.proto.chain.pending_timestamp)
        self.m.proto.chain.mine(timestamp=max(now, after) + 1)

    # ------------------------------------------------------------------ invariants
    @invariant()
    def tokens_are_conserved(self) -> None:
        self.m.conserved()

    @invariant()
    def certified_at_most_once(self) -> None:
        holders = [*self.m.sellers, *self.m.buyers, self.ex]
        for asset, meters in ASSETS.items():
            cid = self.g.cert_id(asset)
            minted = int(self.certs.minted(cid))
            delivered = 0
            if self.tree is not None:
                delivered = sum(self.tree.reading(meter_id(n)).energy_wh for n in meters)
            assert minted <= delivered
            assert sum(int(self.certs.balanceOf(h, cid)) for h in holders) == minted


def test_renewable_certificates_are_never_counted_twice(green: Green) -> None:
    RenewableMachine.green = green
    run_state_machine_as_test(
        RenewableMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=STEPS,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
