"""Log decoding with eth-abi decoders built once per event signature (topic0)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_abi.decoding import ContextFramesBytesIO, TupleDecoder
from eth_abi.registry import registry

from gridcast.chain.abi import canonical_type, events


class DecodeError(ValueError):
    """A log whose topics or data do not match its event ABI."""


@dataclass(frozen=True)
class Event:
    """A decoded log: contract and event name, arguments by ABI name, and its position."""

    contract: str
    name: str
    args: dict[str, Any]
    address: str
    block_number: int
    block_hash: str
    log_index: int
    tx_hash: str


def _to_py(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [_to_py(v) for v in value]
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    return value


@dataclass
class _Spec:
    contract: str
    name: str
    indexed: list[tuple[str, Any]]  # (arg name, decoder) for topics[1:]
    data_names: list[str]
    data_decoder: TupleDecoder


class LogDecoder:
    """topic0 → precompiled decoders for topics and data; ``addresses`` maps address → contract."""

    def __init__(self, addresses: dict[str, str]) -> None:
        self.addresses = {a.lower(): name for a, name in addresses.items()}
        self._specs: dict[str, _Spec] = {}
        for topic, (contract, item) in events().items():
            indexed = [
                (p["name"], registry.get_decoder(canonical_type(p)))
                for p in item["inputs"]
                if p["indexed"]
            ]
            data = [p for p in item["inputs"] if not p["indexed"]]
            decoders = [registry.get_decoder(canonical_type(p)) for p in data]
            names = [p["name"] for p in data]
            tuple_decoder = TupleDecoder(decoders=tuple(decoders))
            self._specs[topic] = _Spec(contract, item["name"], indexed, names, tuple_decoder)

    def decode(self, log: dict[str, Any]) -> Event:
        address = str(log["address"]).lower()
        contract = self.addresses.get(address)
        if contract is None:
            raise DecodeError(f"log from unknown contract {address}")
        topics: list[str] = log["topics"]
        if not topics:
            raise DecodeError("anonymous log (no topic0)")
        spec = self._specs.get(topics[0])
        if spec is None:
            raise DecodeError(f"unknown event topic {topics[0]} for {contract}")
        if len(topics) != len(spec.indexed) + 1:
            raise DecodeError(f"{spec.name}: expected {len(spec.indexed)} indexed topics")
        args: dict[str, Any] = {}
        try:
            for (name, dec), topic in zip(spec.indexed, topics[1:], strict=True):
                args[name] = _to_py(dec(ContextFramesBytesIO(bytes.fromhex(topic[2:]))))
            values = spec.data_decoder(ContextFramesBytesIO(bytes.fromhex(log["data"][2:])))
        except Exception as exc:  # eth-abi raises several unrelated types for bad payloads
            raise DecodeError(f"{spec.name}: undecodable payload: {exc}") from exc
        for name, value in zip(spec.data_names, values, strict=True):
            args[name] = _to_py(value)
        return Event(
            contract=contract,
            name=spec.name,
            args=args,
            address=address,
            block_number=int(log["blockNumber"], 16),
            block_hash=log["blockHash"],
            log_index=int(log["logIndex"], 16),
            tx_hash=log["transactionHash"],
        )
