"""One canonical JSON behind every model hash, and no import cycle inside ``ml``."""

from __future__ import annotations

import ast
import json
from pathlib import Path

from ml.artifact import artifact_hash, canonical_json, read_artifact, spec_hash
from ml.forecaster import LSTMForecaster, SeasonalNaiveForecaster
from ml.registry import save_model

ML = Path(__file__).resolve().parents[2] / "ml"


def test_canonical_json_ignores_key_order_and_whitespace() -> None:
    a = canonical_json({"b": [1, 2], "a": {"y": 1.5, "x": "z"}})
    b = canonical_json(json.loads('{ "a": {"x": "z", "y": 1.5},\n "b": [1, 2] }'))
    assert a == b == b'{"a":{"x":"z","y":1.5},"b":[1,2]}'
    assert spec_hash({"k": 1, "j": 2}) == spec_hash({"j": 2, "k": 1})
    assert spec_hash({"k": 1}) != spec_hash({"k": 2})


def test_baseline_hash_is_the_hash_of_its_spec() -> None:
    fc = SeasonalNaiveForecaster()
    assert fc.model_hash == spec_hash({"kind": "seasonal_naive", "season": 24})


def test_saved_lstm_hash_covers_weights_and_spec(lstm: LSTMForecaster, tmp_path: Path) -> None:
    h = save_model(lstm, model_dir=tmp_path, register=False)
    weights, document = read_artifact(h, tmp_path)
    assert artifact_hash(weights, document["spec"]) == h
    assert artifact_hash(weights + b"x", document["spec"]) != h


def _imports(path: Path) -> set[str]:
    """Every ``ml.*`` module a file imports, at any depth (function-level imports included)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("ml."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "ml":
                found.update(f"ml.{a.name}" for a in node.names)
            elif node.module.startswith("ml."):
                found.add(node.module)
    return found


def test_ml_modules_import_each_other_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for path in ML.rglob("*.py"):
        rel = path.relative_to(ML.parent).with_suffix("")
        name = ".".join(p for p in rel.parts if p != "__init__")
        graph[name] = _imports(path)
    assert {"ml.artifact", "ml.registry", "ml.forecaster"} <= set(graph)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            assert state.get(nxt) != 1, "import cycle: " + " -> ".join([*path, node, nxt])
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
