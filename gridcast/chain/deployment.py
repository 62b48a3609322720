"""The deployment file (addresses + start block) that the indexer, API and oracles read, and the
one deployment plan that both `gridcast deploy` and `ape run deploy` carry out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import keccak

from gridcast.chain import abi as abis

if TYPE_CHECKING:  # web3 costs ~1 s of imports: the indexer reads this file without it
    from web3 import Web3
    from web3.contract import Contract


@dataclass(frozen=True)
class FeedParams:
    """Mirror of IForecastRegistry.FeedParams (same field order)."""

    genesis: int
    epoch_length: int
    epochs_per_round: int
    reveal_window: int
    lead_time: int
    truth_timeout: int
    dispute_window: int
    decimals: int
    max_forecasts_per_epoch: int
    slash_bps: int
    non_reveal_slash_bps: int
    min_stake: int
    reward_per_epoch: int
    dispute_bond: int
    tolerance: int
    slash_threshold: int

    def as_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, f.name) for f in fields(self))

    @classmethod
    def from_tuple(cls, values: tuple[int, ...] | list[int]) -> FeedParams:
        return cls(*[int(v) for v in values])


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    block: int
    admin: str
    token: str
    staking: str
    registry: str
    settlement: str
    # Governance (GridGovernor over GridTimelock); empty on deployments made without it.
    governor: str = ""
    timelock: str = ""
    # Second wave (MeteredDelivery, AssetRegistry, EnergyExchange, EnergyCertificates); empty on
    # deployments made without it (older deployment files load unchanged).
    delivery: str = ""
    assets: str = ""
    exchange: str = ""
    certificates: str = ""

    @property
    def governance_addresses(self) -> dict[str, str]:
        if not self.governor:
            return {}
        return {"GridGovernor": self.governor, "GridTimelock": self.timelock}

    @property
    def second_wave_addresses(self) -> dict[str, str]:
        named = {
            "MeteredDelivery": self.delivery,
            "AssetRegistry": self.assets,
            "EnergyExchange": self.exchange,
            "EnergyCertificates": self.certificates,
        }
        return {name: address for name, address in named.items() if address}

    @property
    def addresses(self) -> dict[str, str]:
        return {
            "GridToken": self.token,
            "OperatorStaking": self.staking,
            "ForecastRegistry": self.registry,
            "Settlement": self.settlement,
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Deployment:
        if not path.exists():
            raise FileNotFoundError(f"no deployment file at {path}: run `gridcast deploy` first")
        data: dict[str, Any] = json.loads(path.read_text())
        return cls(**data)

    def contract(self, w3: Web3, name: str) -> Contract:
        from web3 import Web3

        address = {
            **self.addresses,
            **self.governance_addresses,
            **self.second_wave_addresses,
        }[name]
        return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abis.abi(name))


def role(name: str) -> bytes:
    """An AccessControl role id: keccak256(name), except DEFAULT_ADMIN_ROLE (zero)."""
    return bytes(32) if name == "DEFAULT_ADMIN_ROLE" else keccak(text=name)


# Constructor arguments and role grants, in order; shared by both deployers.
UNBONDING_DELAY_S = 7 * 24 * 3600
MAX_SLASH_PER_EPOCH_BPS = 1_000


@dataclass(frozen=True)
class GovernanceProfile:
    """GridGovernor settings (delay and period in blocks) and the timelock's delay (seconds)."""

    voting_delay_blocks: int
    voting_period_blocks: int
    proposal_threshold: int
    quorum_percent: int
    timelock_delay_s: int


GOVERNANCE_PROFILES = {
    # Local chains: a whole proposal fits in a test (mine ~25 blocks, wait a minute).
    "dev": GovernanceProfile(1, 20, 0, 4, 60),
    # Public chains (12 s blocks): one day of delay, one week of voting, two days of timelock.
    "standard": GovernanceProfile(7_200, 50_400, 1_000 * 10**18, 4, 2 * 24 * 3600),
}
# Roles the timelock receives: feed admin and parameters, staking parameters, appointing arbiters
# and truth reporters (Settlement's DEFAULT_ADMIN_ROLE administers both).
GOVERNED_ROLES = (
    ("ForecastRegistry", "FEED_ADMIN_ROLE"),
    ("ForecastRegistry", "DEFAULT_ADMIN_ROLE"),
    ("OperatorStaking", "DEFAULT_ADMIN_ROLE"),
    ("Settlement", "DEFAULT_ADMIN_ROLE"),
)
