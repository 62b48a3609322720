"""ml writes `model_artifacts` through its own table description (ml.registry_table), the API reads
it through the indexer's ORM model: both must describe the same columns, types and constraints."""

from __future__ import annotations

from indexer.models.ml_registry import ModelArtifact
from ml.registry_table import MODEL_ARTIFACTS


def _shape(table):  # type: ignore[no-untyped-def]
    return {
        c.name: (
            repr(c.type),
            c.nullable,
            c.primary_key,
            bool(c.unique),
            c.server_default is not None,
        )
        for c in table.columns
    }


def test_ml_and_the_api_describe_the_same_model_artifacts_table():
    orm = ModelArtifact.__table__
    assert MODEL_ARTIFACTS.name == orm.name
    assert _shape(MODEL_ARTIFACTS) == _shape(orm)


def test_ml_imports_no_indexer_module():
    import subprocess
    import sys

    code = (
        "import sys, ml.registry, ml.forecaster, ml.cli;"
        "print(sorted(m for m in sys.modules if m == 'indexer' or m.startswith('indexer.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
