"""The error tree of chain work: retry the first kind, stop on the second."""

from __future__ import annotations

from typing import Any

from eth_abi import decode


class GridcastError(Exception):
    """Base of Gridcast's own errors."""


class RetryableError(GridcastError):
    """A transient failure (connection, rate limit, timeout): back off and try again."""


class NonRetryableError(GridcastError):
    """A failure that will not go away by retrying (a revert, a bad key, bad input)."""


class ContractRevertError(NonRetryableError):
    """A transaction or call reverted with a (decoded, where known) custom error."""

    def __init__(self, name: str, args: dict[str, Any], raw: str = "") -> None:
        self.name = name
        self.args_dict = args
        self.raw = raw
        detail = ", ".join(f"{k}={v}" for k, v in args.items())
        super().__init__(f"{name}({detail})" if name else f"reverted: {raw}")


def decode_revert(data: str | bytes | None) -> ContractRevertError:
    """Turn revert data into a named custom error using the contracts' ABIs."""
    from gridcast.chain.abi import canonical_type, errors

    if isinstance(data, str):
        raw = bytes.fromhex(data[2:] if data.startswith("0x") else data)
    else:
        raw = data or b""
    if len(raw) < 4:
        return ContractRevertError("", {}, raw.hex())
    item = errors().get(raw[:4])
    if item is None:
        return ContractRevertError("", {}, "0x" + raw.hex())
    types = [canonical_type(i) for i in item["inputs"]]
    try:
        values = decode(types, raw[4:])
    except Exception:  # noqa: BLE001 - undecodable payload: keep the raw bytes for the message
        return ContractRevertError(item["name"], {}, "0x" + raw.hex())
    names = [i["name"] or f"arg{n}" for n, i in enumerate(item["inputs"])]
    return ContractRevertError(
        item["name"], dict(zip(names, values, strict=True)), "0x" + raw.hex()
    )
