"""Scalars: BigInt (uint256 and int64 values, as decimal strings) and JSON."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NewType

import strawberry

from api.errors import InvalidArgumentError


def _parse_bigint(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidArgumentError(f"BigInt expects an integer or decimal string, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise InvalidArgumentError(f"BigInt expects an integer or decimal string, got {value!r}")


def _serialize_bigint(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(int(value))
    return str(int(value))


BigInt = strawberry.scalar(
    NewType("BigInt", int),
    serialize=_serialize_bigint,
    parse_value=_parse_bigint,
    description="An integer of any size, serialized as a decimal string (uint256, int64).",
)

JSON = strawberry.scalars.JSON
