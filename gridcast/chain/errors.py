"""Chain errors on the project's tree (:mod:`gridcast.errors`): a decoded contract revert."""

from __future__ import annotations

from typing import Any

from eth_abi import decode

from gridcast.errors import GridcastError, NonRetryableError, RetryableError

__all__ = [
    "ContractRevertError",
    "GridcastError",
    "NonRetryableError",
    "RetryableError",
    "decode_revert",
]


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
