"""Artifacts round-trip through disk with their hash, and are registered in real Postgres."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine, text

from ml.datasets import FeedSeries
from ml.errors import ArtifactIntegrityError, ModelNotFoundError
from ml.forecaster import Forecaster, LSTMForecaster
from ml.registry import list_models, load_model, read_metadata, save_model, update_info


def test_save_and_load_keep_predictions_and_hash(
    lstm: LSTMForecaster, synthetic: FeedSeries, tmp_path: Path, migrated_database_url: str
) -> None:
    h = save_model(
        lstm, info={"note": "test"}, model_dir=tmp_path, database_url=migrated_database_url
    )
    assert h.startswith("0x") and len(h) == 66
    loaded = load_model(h, model_dir=tmp_path)
    assert loaded.model_hash == h == lstm.model_hash
    origin = 24 * 85
    np.testing.assert_allclose(
        loaded.predict_curve(synthetic, origin).stacked(),
        lstm.predict_curve(synthetic, origin).stacked(),
        rtol=0,
        atol=1e-9,
    )
    # Saving the same model again gives the same hash (the bytes are deterministic).
    assert save_model(lstm, model_dir=tmp_path, register=False) == h


def test_registry_row_is_written_to_postgres(
    lstm: LSTMForecaster, tmp_path: Path, migrated_database_url: str
) -> None:
    h = save_model(lstm, model_dir=tmp_path, database_url=migrated_database_url)
    engine = create_engine(migrated_database_url)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT feed, kind, path, metadata FROM model_artifacts WHERE model_hash = :h"),
            {"h": h},
        ).one()
    engine.dispose()
    assert row.feed == "synthetic" and row.kind == "lstm_quantile"
    assert row.metadata["spec"]["dataset"]["sha256"] == "0" * 64
    assert Path(row.path).name == h
    update_info(
        h,
        {"evaluation": {"mase_lstm": 0.5}},
        model_dir=tmp_path,
        database_url=migrated_database_url,
    )
    rows = [r for r in list_models(migrated_database_url, feed="synthetic") if r["model_hash"] == h]
    assert rows[0]["metadata"]["info"]["evaluation"]["mase_lstm"] == 0.5
    assert read_metadata(h, tmp_path)["model_hash"] == h


def test_tampered_artifact_is_refused(lstm: LSTMForecaster, tmp_path: Path) -> None:
    h = save_model(lstm, model_dir=tmp_path, register=False)
    meta = tmp_path / h / "metadata.json"
    meta.write_text(meta.read_text().replace('"lower":', '"lower": 9, "x":', 1))
    with pytest.raises(ArtifactIntegrityError):
        load_model(h, model_dir=tmp_path)


def test_unknown_model_hash_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError):
        load_model("0x" + "ab" * 32, tmp_path)
    with pytest.raises(ModelNotFoundError):
        Forecaster.load("0x" + "cd" * 32)  # the configured model_dir has no such artifact
