"""Bring your own series: every check on a user's file fails with one line and exit code 2, and a
small series trains, evaluates (rolling folds, plots) and loads back by its feed name."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridcast.settings import get_settings
from ml.cli import app
from ml.datasets import load_feed
from ml.forecaster import Forecaster, SelectedForecaster
from ml.userdata import UserDataError, UserFeedSpec, read_user_series


def meter_frame(days: int = 50, step: str = "30min", seed: int = 1) -> pd.DataFrame:
    """A meter's load with a daily cycle, lower weekends, noise, and a temperature column."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2021-01-04", periods=days * pd.Timedelta("1D") // pd.Timedelta(step),
                        freq=step)  # fmt: skip
    hour = idx.hour + idx.minute / 60
    weekend = (idx.dayofweek >= 5).astype(float)
    load = 10 + 4 * np.sin(2 * np.pi * (hour - 6) / 24) * (1 - 0.3 * weekend)
    load = load + rng.normal(0, 0.5, len(idx))
    temp = 15 + 5 * np.sin(2 * np.pi * (hour - 9) / 24)
    return pd.DataFrame(
        {"time": idx.strftime("%Y-%m-%d %H:%M"), "load": load.round(3), "temp": temp.round(2)}
    )


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.fixture()
def model_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.setenv("GRIDCAST_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("GRIDCAST_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    yield tmp_path / "models"
    get_settings.cache_clear()


def _spoil_row(col: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def spoil(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype({col: object})
        f.loc[row, col] = value
        return f

    return spoil


def _berlin_spring(f: pd.DataFrame) -> pd.DataFrame:
    # Hourly naive times straight through 2021-03-28 02:00, which Berlin's clocks skip.
    idx = pd.date_range("2021-03-20", periods=len(f) // 2, freq="1h")
    return f.iloc[: len(idx)].assign(time=idx.strftime("%Y-%m-%d %H:%M"))


CASES = [
    ("missing column", lambda f: f, ["--target", "kwh"], "column 'kwh' is not in"),
    ("bad timestamp", _spoil_row("time", 5, "yesterday"), [], "row 7: time 'yesterday' is not"),
    ("duplicate", lambda f: pd.concat([f, f.iloc[[10]]]), [], "duplicate timestamp"),
    ("gap", lambda f: f.drop(index=[100, 101]), [], "missing from the 30min grid"),
    ("not a number", _spoil_row("load", 3, "n/a"), [], "row 5: load 'n/a' is not a number"),
    ("negative", _spoil_row("load", 3, -2.5), [], "negative load value(s), lowest -2.5"),
    ("impossible", _spoil_row("load", 3, 1e9), [], "impossible reading"),
    ("above max", lambda f: f, ["--max-value", "12"], "is above --max-value 12"),
    ("infinite", _spoil_row("load", 3, "inf"), [], "load is infinite"),
    ("exog gap", _spoil_row("temp", 3, ""), ["--exog", "temp"], "covariates need every row"),
    ("freq mismatch", lambda f: f, ["--freq", "1h"], "--freq 1h, but the readings are 30min"),
    ("odd step", lambda f: f.iloc[::5], [], "supported steps are 15min, 30min, 1h"),
    ("too short", lambda f: f.iloc[: 48 * 20], [], "20 whole days of data; at least 35"),
    ("DST gap", _berlin_spring, ["--tz", "Europe/Berlin"], "does not exist in Europe/Berlin"),
    ("unknown zone", lambda f: f, ["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
]


@pytest.mark.parametrize(("spoil", "extra", "message"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_each_bad_file_is_refused_with_one_line_and_exit_2(
    model_dir: Path,
    tmp_path: Path,
    spoil: Callable[[pd.DataFrame], pd.DataFrame],
    extra: list[str],
    message: str,
) -> None:
    path = write(spoil(meter_frame()), tmp_path / "meter.csv")
    args = ["train", "--data", str(path), "--timestamp", "time", "--target", "load"]
    result = CliRunner().invoke(app, [*args, *extra, "--no-register", "--quiet"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert not (model_dir / "feeds").exists()  # nothing registered from a bad file


def test_a_wrong_file_type_and_missing_columns_options_are_refused(tmp_path: Path) -> None:
    path = write(meter_frame(), tmp_path / "meter.txt")
    spec = UserFeedSpec("m", str(path), "time", "load")
    with pytest.raises(UserDataError, match="expected a .csv or .parquet"):
        read_user_series(spec)
    result = CliRunner().invoke(app, ["train", "--data", str(path)])
    assert result.exit_code == 2 and "--timestamp COL and --target COL" in result.output


def test_local_times_with_daylight_saving_need_the_zone(tmp_path: Path) -> None:
    # Naive Berlin wall-clock half-hours across the autumn change: 02:00-02:30 happens twice.
    utc = pd.date_range("2021-10-20", "2021-11-05", freq="30min", tz="UTC", inclusive="left")
    local = utc.tz_convert("Europe/Berlin").tz_localize(None)
    frame = pd.DataFrame({"time": local.strftime("%Y-%m-%d %H:%M"), "load": 5.0})
    path = write(frame, tmp_path / "autumn.csv")
    with pytest.raises(UserDataError, match="duplicate timestamp.*pass --tz ZONE"):
        read_user_series(UserFeedSpec("a", str(path), "time", "load"))
    series = read_user_series(UserFeedSpec("a", str(path), "time", "load", tz="Europe/Berlin"))
    assert series.index[0] == pd.Timestamp("2021-10-20 00:00")  # UTC, regular across the change
    assert len(series) == len(utc) // 2 and series.mask.all()


def test_empty_readings_are_masked_not_filled_and_hours_need_every_reading(tmp_path: Path) -> None:
    frame = meter_frame(days=3).astype({"load": object})
    frame.loc[[4, 9], "load"] = ""  # 02:00-02:30 and 04:30-05:00
    series = read_user_series(UserFeedSpec("m", str(write(frame, tmp_path / "m.csv")), "time",
                                            "load"))  # fmt: skip
    assert len(series) == 72
    assert list(np.flatnonzero(~series.mask)) == [2, 4]
    assert np.isnan(series.target[[2, 4]]).all()
    first = pd.to_numeric(frame["load"].iloc[:2]).mean()
    assert series.target[0] == pytest.approx(first)


def test_train_and_evaluate_a_users_series_end_to_end(model_dir: Path, tmp_path: Path) -> None:
    frame = meter_frame()
    utc = pd.to_datetime(frame["time"]).dt.tz_localize("UTC")
    frame = frame.assign(time=utc)  # Parquet with tz-aware timestamps
    path = write(frame, tmp_path / "site-7.parquet")
    common = ["--data", str(path), "--timestamp", "time", "--target", "load", "--exog", "temp",
              "--epochs", "1", "--baselines", "seasonal-naive"]  # fmt: skip
    runner = CliRunner()
    trained = runner.invoke(app, ["train", *common, "--name", "site-7", "--no-register", "--quiet"])
    assert trained.exit_code == 0, trained.output
    assert "selected " in trained.output and "Ensemble" in trained.output
    model_hash = trained.output.split("model hash ")[1].split()[0]
    assert f"gridcast oracle run --model lstm:{model_hash}" in trained.output
    # The feed spec makes the series a feed by name; the artifact loads back and forecasts it.
    spec = json.loads((model_dir / "feeds" / "site-7.json").read_text())
    assert spec["spec"]["exog"] == ["temp"] and len(spec["sha256"]) == 64
    series = load_feed("site-7")
    assert len(series) == 50 * 24 and list(series.exog.columns) == ["temp"]
    fc = Forecaster.load(model_hash)
    assert isinstance(fc, SelectedForecaster) and fc.model_hash == model_hash
    curve = fc.predict_curve(series, series.index[24 * 45])
    assert (curve.p10 <= curve.p50).all() and (curve.p50 <= curve.p90).all()

    out = tmp_path / "reports"
    evaluated = runner.invoke(app, ["evaluate", *common, "--folds", "2", "--plot",
                                    "--out", str(out)])  # fmt: skip
    assert evaluated.exit_code == 0, evaluated.output
    report = json.loads((out / "ml_rolling_site-7.json").read_text())
    assert len(report["folds"]) == 2
    first, second = report["folds"]
    assert first["test_end"] < second["test_start"]
    assert {"LSTM", "SeasonalNaive(24)", "Ensemble", "Selected"} <= set(report["pooled"])
    for fold in report["folds"]:
        chosen = fold["selected"]
        assert fold["validation_mase"][chosen] == min(fold["validation_mase"].values())
        assert fold["scores"]["Selected"]["mase"] == fold["scores"][chosen]["mase"]
    assert 0.0 < report["summary"]["coverage_selected"] <= 1.0
    for png in ("ml_band_site-7.png", "ml_horizon_site-7.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
