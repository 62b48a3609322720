"""Deploy and wire the second-wave contracts (MeteredDelivery, AssetRegistry, EnergyExchange,
EnergyCertificates) next to an existing protocol deployment, through a Submitter (web3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract

from gridcast.chain import abi as abis
from gridcast.chain.deployment import Deployment, role
from gridcast.chain.submitter import Submitter

CERTIFICATE_URI = "gridcast://certificates/{id}"


@dataclass(frozen=True)
class MarketParams:
    """Mirror of IEnergyExchange.MarketParams (same field order); prices per Wh in token units."""

    base_price: int
    slope: int
    reference_value: int
    band_bps: int
    gate_lead: int
    settle_window: int
    penalty_per_wh: int

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.base_price,
            self.slope,
            self.reference_value,
            self.band_bps,
            self.gate_lead,
            self.settle_window,
            self.penalty_per_wh,
        )


@dataclass(frozen=True)
class SecondWave:
    delivery: str
    assets: str
    exchange: str
    certificates: str

    def addresses(self) -> dict[str, str]:
        return {
            "MeteredDelivery": self.delivery,
            "AssetRegistry": self.assets,
            "EnergyExchange": self.exchange,
            "EnergyCertificates": self.certificates,
        }

    def contract(self, w3: Web3, name: str) -> Contract:
        return contract(w3, name, self.addresses()[name])


def contract(w3: Web3, name: str, address: str) -> Any:
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abis.abi(name))


def deploy_second_wave(
    admin: Submitter, dep: Deployment, *, truth_reporters: Sequence[str] = ()
) -> SecondWave:
    """Deploy the four contracts against `dep` and let `truth_reporters` post delivery roots."""
    me = admin.address
    delivery = admin.deploy(
        abis.abi("MeteredDelivery"),
        abis.bytecode("MeteredDelivery"),
        dep.settlement,
        dep.registry,
        me,
    )
    assets = admin.deploy(abis.abi("AssetRegistry"), abis.bytecode("AssetRegistry"), me)
    exchange = admin.deploy(
        abis.abi("EnergyExchange"),
        abis.bytecode("EnergyExchange"),
        dep.token,
        dep.registry,
        delivery,
        assets,
        me,
    )
    certificates = admin.deploy(
        abis.abi("EnergyCertificates"),
        abis.bytecode("EnergyCertificates"),
        delivery,
        assets,
        dep.registry,
        me,
        CERTIFICATE_URI,
    )
    out = SecondWave(delivery, assets, exchange, certificates)
    delivery_c = out.contract(admin.w3, "MeteredDelivery")
    for account in truth_reporters:
        admin.transact(delivery_c, "grantRole", role("TRUTH_REPORTER_ROLE"), account)
    # Renewable markets certify traded energy through the certificates, which refuse claims of
    # epochs an asset still has an unsettled renewable sell in.
    admin.transact(out.contract(admin.w3, "EnergyExchange"), "setCertificates", certificates)
    admin.transact(out.contract(admin.w3, "EnergyCertificates"), "setExchange", exchange)
    return out


def renewable_market_id(feed_id: bytes) -> bytes:
    """EnergyExchange.renewableMarketOf(feed_id): the id of a feed's renewable market."""
    return bytes(Web3.keccak(encode(["bytes32", "string"], [feed_id, "gridcast.renewable"])))
