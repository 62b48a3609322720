"""A user's CSV all the way to the chain: train on it, register its feed, and an operator running
`gridcast oracle run --model lstm:<hash>` commits that model's curve on anvil."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gridcast.localnet import FeedSpec, bootstrap
from gridcast.node import AnvilNode
from gridcast.operator.journal import COMMITTED, Journal
from gridcast.settings import get_settings
from ml.cli import app

from .test_userdata import meter_frame, write


@pytest.fixture()
def model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("GRIDCAST_MODEL_DIR", str(tmp_path / "models"))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


def test_operator_commits_a_users_series_with_the_registered_model(
    anvil: AnvilNode, model_dir: Path, tmp_path: Path
) -> None:
    csv = write(meter_frame(days=45), tmp_path / "meter.csv")
    trained = CliRunner().invoke(
        app,
        ["train", "--data", str(csv), "--timestamp", "time", "--target", "load",
         "--name", "meter-7", "--epochs", "1", "--baselines", "seasonal-naive",
         "--no-register", "--quiet"],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    model_hash = trained.output.split("model hash ")[1].split()[0]

    now = int(anvil.rpc("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)  # type: ignore[index]
    feed = FeedSpec("meter-7", "USER-meter-7", "load_kw", 3600, 3, 1.0, 5.0, "2021-02-10")
    lm = bootstrap(
        anvil.url,
        tmp_path / "state",
        operator_keys=[1],
        genesis=now + 600,
        epoch_length=60,
        epochs_per_round=4,
        feeds=(feed,),
        reveal_window=120,
        lead_time=60,
        dispute_window=30,
        truth_timeout=3600,
    )
    env = {
        **os.environ,
        "GRIDCAST_RPC_URL": anvil.url,
        "GRIDCAST_STATE_DIR": str(tmp_path / "state"),
        "GRIDCAST_DEPLOYMENT_FILE": str(tmp_path / "state" / "deployment.json"),
        "GRIDCAST_MODEL_DIR": str(model_dir),
    }
    cmd = [sys.executable, "-m", "gridcast.cli", "oracle", "run", "--model",
           f"lstm:{model_hash}", "--dev-key", "1", "--once"]  # fmt: skip
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    operator = lm.operators[0].address
    entries = Journal(tmp_path / "state" / f"journal-{operator}.sqlite").entries(COMMITTED)
    assert [e.curve.first_epoch for e in entries] == [0]
    assert "0x" + entries[0].curve.model_hash.hex() == model_hash
    registry = lm.contract("ForecastRegistry")
    assert registry.functions.commitCount(lm.market.feeds[0].feed_bytes, 0).call() == 1
