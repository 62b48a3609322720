"""ABIs and bytecode of the Gridcast contracts, read from Ape's build manifest (``ape compile``)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_utils import keccak

from gridcast.settings import PROJECT_ROOT

MANIFEST = PROJECT_ROOT / ".build" / "__local__.json"
CONTRACTS = ("GridToken", "OperatorStaking", "ForecastRegistry", "Settlement")
# Governance (deployed by gridcast deploy, indexed by indexer/handlers/governance.py).
GOVERNANCE_CONTRACTS = ("GridGovernor",)
# Second wave (metered delivery, assets, exchange, certificates): their errors decode too.
SECOND_WAVE_CONTRACTS = ("MeteredDelivery", "AssetRegistry", "EnergyExchange", "EnergyCertificates")


class ArtifactsMissingError(RuntimeError):
    """The contracts are not compiled."""


@lru_cache(maxsize=1)
def _manifest(path: Path = MANIFEST) -> dict[str, Any]:
    if not path.exists():
        raise ArtifactsMissingError(f"{path} not found: run `ape compile` (scripts/setup.sh does)")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def abi(name: str) -> list[dict[str, Any]]:
    return list(_manifest()["contractTypes"][name]["abi"])


def bytecode(name: str) -> str:
    return str(_manifest()["contractTypes"][name]["deploymentBytecode"]["bytecode"])


def canonical_type(param: dict[str, Any]) -> str:
    """The ABI type string of a parameter, expanding tuples: ``(int64[],bytes32)[]``."""
    t = str(param["type"])
    if t.startswith("tuple"):
        inner = ",".join(canonical_type(c) for c in param["components"])
        return f"({inner}){t[5:]}"
    return t


def signature(item: dict[str, Any]) -> str:
    return f"{item['name']}({','.join(canonical_type(i) for i in item['inputs'])})"


def event_topic(item: dict[str, Any]) -> str:
    return "0x" + keccak(text=signature(item)).hex()


@lru_cache(maxsize=1)
def events() -> dict[str, tuple[str, dict[str, Any]]]:
    """topic0 -> (contract name, event ABI) for every event the Gridcast contracts emit."""
    out: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in (*CONTRACTS, *GOVERNANCE_CONTRACTS):
        for item in abi(name):
            if item["type"] == "event":
                out.setdefault(event_topic(item), (name, item))
    return out


@lru_cache(maxsize=1)
def errors() -> dict[bytes, dict[str, Any]]:
    """4-byte selector -> custom error ABI, across all contracts (OpenZeppelin's included)."""
    out: dict[bytes, dict[str, Any]] = {}
    for name in (*CONTRACTS, *SECOND_WAVE_CONTRACTS):
        for item in abi(name):
            if item["type"] == "error":
                out[keccak(text=signature(item))[:4]] = item
    return out
