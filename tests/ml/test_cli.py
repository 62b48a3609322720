"""`gridcast ml models list/show` read the registry and the artifacts; bad input fails clearly."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcast.settings import get_settings
from ml.cli import app
from ml.forecaster import LSTMForecaster
from ml.registry import save_model


@pytest.fixture()
def configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, migrated_database_url: str
) -> Iterator[Path]:
    monkeypatch.setenv("DATABASE_URL", migrated_database_url)
    monkeypatch.setenv("GRIDCAST_MODEL_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_models_list_and_show_print_the_registered_model(
    configured: Path, lstm: LSTMForecaster, migrated_database_url: str
) -> None:
    h = save_model(lstm, model_dir=configured, database_url=migrated_database_url)
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list", "--feed", "synthetic", "--json"])
    assert listed.exit_code == 0, listed.output
    assert h in [row["model_hash"] for row in json.loads(listed.output)]
    shown = runner.invoke(app, ["models", "show", h])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["spec"]["feed"] == "synthetic"


def test_show_of_an_unknown_hash_fails_with_a_message(configured: Path) -> None:
    result = CliRunner().invoke(app, ["models", "show", "0x" + "12" * 32])
    assert result.exit_code == 2
    assert "no model artifact" in result.output and "Traceback" not in result.output


def test_train_refuses_an_unknown_feed() -> None:
    result = CliRunner().invoke(app, ["train", "--feed", "wind"])
    assert result.exit_code == 2
    assert "unknown feed" in result.output
