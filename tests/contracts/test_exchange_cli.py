"""`gridcast exchange clear-book` / `delivery-tree`: JSON in, one JSON line out, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from gridcast.chain.clearing import Order, clear
from gridcast.chain.merkle import build_tree, leaf_hash, process_proof
from gridcast.exchange.cli import app

runner = CliRunner()


def _write(tmp_path: Path, data: object) -> str:
    p = tmp_path / "in.json"
    p.write_text(json.dumps(data))
    return str(p)


def test_clear_book_prints_the_clearing(tmp_path: Path) -> None:
    book = [
        {"side": "sell", "volume_wh": 6, "limit_price": 10},
        {"side": "sell", "volume_wh": 3, "limit_price": 10},
        {"side": "buy", "volume_wh": 6, "limit_price": 12},
    ]
    r = runner.invoke(app, ["clear-book", _write(tmp_path, book)])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    expected = clear([Order(True, 6, 10), Order(True, 3, 10), Order(False, 6, 12)])
    assert out == expected.__dict__
    assert (out["price"], out["volume"], out["sell_num"], out["sell_den"]) == (10, 6, 6, 9)


def test_delivery_tree_prints_root_and_verifiable_proofs(tmp_path: Path) -> None:
    readings = {"m1": 1_200, "m2": 0, "m3": 77}
    r = runner.invoke(app, ["delivery-tree", _write(tmp_path, readings), "--epoch", "5"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    tree = build_tree(5, readings)
    assert (out["root"], out["count"], out["total_wh"]) == ("0x" + tree.root.hex(), 3, 1_277)
    for name, wh in readings.items():
        p = out["proofs"][name]
        leaf = leaf_hash(bytes.fromhex(p["meter_id"][2:]), 5, wh)
        proof = [bytes.fromhex(x[2:]) for x in p["proof"]]
        assert process_proof(leaf, proof) == tree.root


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    cases = [
        ["clear-book", str(tmp_path / "missing.json")],
        ["clear-book", _write(tmp_path, {"not": "a list"})],
        ["clear-book", _write(tmp_path, [{"side": "hold", "volume_wh": 1, "limit_price": 1}])],
        ["clear-book", _write(tmp_path, [{"side": "buy", "volume_wh": 0, "limit_price": 1}])],
        ["clear-book", _write(tmp_path, [{"side": "buy", "volume_wh": "1", "limit_price": 1}])],
        ["delivery-tree", _write(tmp_path, {}), "--epoch", "1"],
        ["delivery-tree", _write(tmp_path, {"m": -1}), "--epoch", "1"],
    ]
    for args in cases:
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert len(r.output.strip().splitlines()) == 1, r.output
        assert "Traceback" not in r.output
    (tmp_path / "bad.json").write_text("{")
    r = runner.invoke(app, ["clear-book", str(tmp_path / "bad.json")])
    assert r.exit_code == 2 and "not JSON" in r.output


def test_every_command_has_help() -> None:
    for cmd in ("clear-book", "delivery-tree", "sell", "buy", "clear", "settle"):
        r = runner.invoke(app, [cmd, "--help"])
        assert r.exit_code == 0 and "Usage" in r.output


def test_bad_options_exit_2_before_any_service_is_reached() -> None:
    """Option errors are found before the chain is asked (no node runs here)."""
    for args in (
        ["sell", "--asset", "0"],
        ["sell", "--asset", "1", "--share", "1.5"],
        ["sell", "--asset", "1", "--limit-at", "2"],
        ["buy", "--feed", "solar", "--volume-wh", "0"],
        ["buy", "--feed", "solar"],
        ["buy", "--feed", "solar", "--volume-wh", "5", "--model", "mstl"],
        ["buy", "--feed", "solar", "--model", "mstl"],
        ["clear", "--feed", "solar", "--epoch", "-1"],
    ):
        r = runner.invoke(app, args)
        assert r.exit_code == 2, (args, r.output)
        assert "Traceback" not in r.output
