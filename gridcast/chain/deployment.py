"""The deployment file (addresses + start block) that the indexer, API and oracles read, and the
one deployment plan that both `gridcast deploy` and `ape run deploy` carry out."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from eth_utils import keccak
from web3 import Web3
from web3.contract import Contract

from gridcast.chain import abi as abis


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
        return w3.eth.contract(
            address=Web3.to_checksum_address(self.addresses[name]), abi=abis.abi(name)
        )


def role(name: str) -> bytes:
    return keccak(text=name)


# Constructor arguments and role grants, in order; shared by both deployers.
UNBONDING_DELAY_S = 7 * 24 * 3600
MAX_SLASH_PER_EPOCH_BPS = 1_000
