"""AssetRegistry: registration by the registrar, unique meters, the compact trading view."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from gridcast.chain.deployment import role
from gridcast.chain.merkle import meter_id

SOLAR, WIND, STORAGE, LOAD = 0, 1, 2, 3
FEED = b"\x42" * 32


@pytest.fixture(scope="module")
def assets(project: Any, accounts: Any) -> Any:
    return project.AssetRegistry.deploy(accounts[0], sender=accounts[0])


def test_register_mints_to_the_owner_with_its_fields(assets: Any, accounts: Any) -> None:
    meters = [meter_id("solar-1/a"), meter_id("solar-1/b")]
    tx = assets.register(
        accounts[3], SOLAR, 5_000_000, FEED, "-37.81,144.96", meters, sender=accounts[0]
    )
    (event,) = tx.events.filter(assets.AssetRegistered)
    assert (event.assetId, event.owner, event.capacityW) == (1, accounts[3].address, 5_000_000)
    assert list(event.meterIds) == meters
    assert assets.ownerOf(1) == accounts[3].address
    a = assets.assetOf(1)
    assert (a.kind, a.capacityW, a.feedId, a.location) == (SOLAR, 5_000_000, FEED, "-37.81,144.96")
    assert list(assets.metersOf(1)) == meters
    assert assets.assetOfMeter(meters[1]) == 1
    assert assets.assetOfMeter(meter_id("nobody")) == 0
    assert tuple(assets.tradingInfo(1)) == (accounts[3].address, SOLAR, 5_000_000, FEED)
    assert assets.isRenewable(WIND) and not assets.isRenewable(STORAGE)
    assert not assets.isRenewable(LOAD)
    # the token moves; the new owner is the asset's owner everywhere
    assets.transferFrom(accounts[3], accounts[4], 1, sender=accounts[3])
    assert assets.tradingInfo(1)[0] == accounts[4].address


def test_registration_rules(assets: Any, accounts: Any) -> None:
    m = [meter_id("wind-1")]
    with ape.reverts(assets.AccessControlUnauthorizedAccount):
        assets.register(accounts[3], WIND, 1, FEED, "x", m, sender=accounts[3])
    with ape.reverts(assets.AssetRegistryZeroCapacity):
        assets.register(accounts[3], WIND, 0, FEED, "x", m, sender=accounts[0])
    with ape.reverts(assets.AssetRegistryNoMeters):
        assets.register(accounts[3], WIND, 1, FEED, "x", [], sender=accounts[0])
    with ape.reverts(assets.AssetRegistryZeroOwner):
        assets.register(ape.utils.ZERO_ADDRESS, WIND, 1, FEED, "x", m, sender=accounts[0])
    assets.register(accounts[3], WIND, 1, FEED, "x", m, sender=accounts[0])
    with ape.reverts(assets.AssetRegistryMeterTaken):
        assets.register(accounts[4], LOAD, 1, FEED, "y", m, sender=accounts[0])
    with ape.reverts(assets.AssetRegistryMeterTaken):
        dup = [meter_id("dup"), meter_id("dup")]  # twice in one registration
        assets.register(accounts[4], LOAD, 1, FEED, "y", dup, sender=accounts[0])
    with ape.reverts(assets.AssetRegistryUnknownAsset):
        assets.tradingInfo(99)
    # governance can hold the registrar role
    assets.grantRole(role("REGISTRAR_ROLE"), accounts[5], sender=accounts[0])
    assets.setCapacity(1, 7, sender=accounts[5])
    assert assets.tradingInfo(1)[2] == 7
