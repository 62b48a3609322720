"""``gridcast exchange``: offline tools of the energy exchange and metered delivery.

``clear-book`` computes the clearing of a book (the ``low high`` to pass to
``EnergyExchange.clear``); ``delivery-tree`` builds an epoch's metered-delivery Merkle tree (the
root, leaf count and total the truth reporter posts, and each meter's proof a seller or an asset
owner submits). Both read JSON and print JSON on one line; bad input is one ``error:`` line and
exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from gridcast.chain.clearing import ClearingError, Order, clear
from gridcast.chain.merkle import MerkleError, build_tree
from gridcast.errors import fail

app = typer.Typer(help="Energy exchange tools (clearing, delivery trees).", no_args_is_help=True)

BookFile = typer.Argument(
    ..., help='JSON list of orders: {"side": "buy"|"sell", "volume_wh": int, "limit_price": int}.'
)
ReadingsFile = typer.Argument(
    ..., help='JSON object of meter name -> energy in Wh, e.g. {"m1": 1200}.'
)


def _load(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        fail(f"cannot read {path}: {e.strerror}")
    except json.JSONDecodeError as e:
        fail(f"{path} is not JSON: {e.msg} (line {e.lineno})")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(f"{what} must be an integer, got {value!r}")
    return value


@app.command("clear-book")
def clear_book(path: Path = BookFile) -> None:
    """Print the uniform-price clearing of a book: low, high, price, volume and the marginal
    fractions (buy_num/buy_den, sell_num/sell_den)."""
    rows = _load(path)
    if not isinstance(rows, list):
        fail(f"{path}: expected a JSON list of orders")
    orders = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("side") not in ("buy", "sell"):
            fail(f"order {i}: expected an object with side 'buy' or 'sell'")
        volume = _int(row.get("volume_wh"), f"order {i} volume_wh")
        limit = _int(row.get("limit_price"), f"order {i} limit_price")
        orders.append(Order(row["side"] == "sell", volume, limit))
    try:
        c = clear(orders)
    except ClearingError as e:
        fail(str(e))
    print(json.dumps(c.__dict__))


@app.command("delivery-tree")
def delivery_tree(
    path: Path = ReadingsFile,
    epoch: int = typer.Option(..., "--epoch", min=0, help="The epoch the readings cover."),
) -> None:
    """Print an epoch's delivery root, leaf count, total Wh and every meter's proof."""
    data = _load(path)
    if not isinstance(data, dict) or not data:
        fail(f"{path}: expected a non-empty JSON object of meter name -> Wh")
    readings = {str(k): _int(v, f"energy of meter {k!r}") for k, v in data.items()}
    try:
        tree = build_tree(epoch, readings)
    except MerkleError as e:
        fail(str(e))
    out = {
        "root": "0x" + tree.root.hex(),
        "count": tree.count,
        "total_wh": tree.total_wh,
        "proofs": {
            name: {
                "meter_id": "0x" + r.meter.hex(),
                "energy_wh": r.energy_wh,
                "proof": ["0x" + p.hex() for p in tree.proof(r.meter)],
            }
            for name, r in zip(readings, tree.readings, strict=True)
        },
    }
    print(json.dumps(out))
