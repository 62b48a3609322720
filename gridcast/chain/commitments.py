"""Commitments and EIP-712 typed data exactly as ForecastRegistry computes them.

A forecast point for epoch e commits to
``keccak256(abi.encode(int64 value, int64 lower, int64 upper, bytes32 modelHash, bytes32 salt,
address operator, bytes32 feedId, uint64 epoch))``; a batch commits the root
``keccak256(concat(point commitments))``.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_abi import encode
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

INT40_MIN = -(2**39)
INT40_MAX = 2**39 - 1


def feed_id(region: str, metric: str, resolution_seconds: int) -> bytes:
    """keccak256(abi.encode(region, metric, resolutionSeconds)), as the registry computes it."""
    return keccak(encode(["string", "string", "uint32"], [region, metric, resolution_seconds]))


def point_commitment(
    value: int,
    lower: int,
    upper: int,
    model_hash: bytes,
    salt: bytes,
    operator: str,
    feed: bytes,
    epoch: int,
) -> bytes:
    return keccak(
        encode(
            ["int64", "int64", "int64", "bytes32", "bytes32", "address", "bytes32", "uint64"],
            [value, lower, upper, model_hash, salt, operator, feed, epoch],
        )
    )


def batch_root(commitments: Sequence[bytes]) -> bytes:
    return keccak(b"".join(commitments))


@dataclass
class Curve:
    """The openings of one batch: consecutive epochs from ``first_epoch``, scaled integers."""

    feed: bytes
    operator: str
    first_epoch: int
    values: list[int]
    lowers: list[int]
    uppers: list[int]
    model_hash: bytes
    salt: bytes = field(default_factory=lambda: secrets.token_bytes(32))

    def __post_init__(self) -> None:
        n = len(self.values)
        if n == 0 or len(self.lowers) != n or len(self.uppers) != n:
            raise ValueError("a curve needs equally long, non-empty values/lowers/uppers")
        for i, (lo, v, hi) in enumerate(zip(self.lowers, self.values, self.uppers, strict=True)):
            if not lo <= v <= hi:
                raise ValueError(f"point {i}: need lower <= value <= upper, got {lo}, {v}, {hi}")
            if lo < INT40_MIN or hi > INT40_MAX:
                raise ValueError(f"point {i}: values must fit int40 on-chain")
        self.operator = to_checksum_address(self.operator)

    @property
    def epochs(self) -> list[int]:
        return list(range(self.first_epoch, self.first_epoch + len(self.values)))

    def commitments(self) -> list[bytes]:
        return [
            point_commitment(v, lo, hi, self.model_hash, self.salt, self.operator, self.feed, e)
            for v, lo, hi, e in zip(self.values, self.lowers, self.uppers, self.epochs, strict=True)
        ]

    def root(self) -> bytes:
        return batch_root(self.commitments())

    def opening(self) -> tuple[list[int], list[int], list[int], bytes, bytes]:
        """The `Opening` struct argument of ForecastRegistry.reveal."""
        return (self.values, self.lowers, self.uppers, self.model_hash, self.salt)

    def to_json(self) -> dict[str, Any]:
        return {
            "feed": "0x" + self.feed.hex(),
            "operator": self.operator,
            "first_epoch": self.first_epoch,
            "values": self.values,
            "lowers": self.lowers,
            "uppers": self.uppers,
            "model_hash": "0x" + self.model_hash.hex(),
            "salt": "0x" + self.salt.hex(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Curve:
        return cls(
            feed=bytes.fromhex(data["feed"][2:]),
            operator=data["operator"],
            first_epoch=int(data["first_epoch"]),
            values=[int(x) for x in data["values"]],
            lowers=[int(x) for x in data["lowers"]],
            uppers=[int(x) for x in data["uppers"]],
            model_hash=bytes.fromhex(data["model_hash"][2:]),
            salt=bytes.fromhex(data["salt"][2:]),
        )


COMMIT_TYPES = {
    "Commit": [
        {"name": "operator", "type": "address"},
        {"name": "feedId", "type": "bytes32"},
        {"name": "firstEpoch", "type": "uint64"},
        {"name": "commitments", "type": "bytes32[]"},
        {"name": "nonce", "type": "uint256"},
        {"name": "deadline", "type": "uint256"},
    ]
}


def commit_typed_data(
    chain_id: int,
    registry: str,
    operator: str,
    feed: bytes,
    first_epoch: int,
    commitments: Sequence[bytes],
    nonce: int,
    deadline: int,
) -> dict[str, Any]:
    """EIP-712 typed data of a relayed commit (domain: 'Gridcast ForecastRegistry', version 1)."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            **COMMIT_TYPES,
        },
        "primaryType": "Commit",
        "domain": {
            "name": "Gridcast ForecastRegistry",
            "version": "1",
            "chainId": chain_id,
            "verifyingContract": to_checksum_address(registry),
        },
        "message": {
            "operator": to_checksum_address(operator),
            "feedId": feed,
            "firstEpoch": first_epoch,
            "commitments": list(commitments),
            "nonce": nonce,
            "deadline": deadline,
        },
    }


def commit_digest(typed: dict[str, Any]) -> bytes:
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_commit(private_key: str | bytes, typed: dict[str, Any]) -> bytes:
    signed = Account.sign_message(encode_typed_data(full_message=typed), private_key)
    return bytes(signed.signature)
