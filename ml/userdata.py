"""Bring your own series: a CSV or Parquet file of one meter's or area's readings, checked and
loaded into the same hourly :class:`~ml.series.FeedSeries` as the packaged feeds.

Checks, each failing with one line that says what to fix (:class:`UserDataError`): the file and
its columns exist; timestamps parse; no duplicate timestamps (naive local times with daylight
saving repeat an hour in autumn: pass ``--tz``); with ``--tz`` every local time exists and the
repeated autumn hour is in order; the readings sit on one regular 15-min, 30-min or hourly grid
with no missing timestamps (a missing reading is a row with an empty target, which is masked,
never filled); target values are numbers, finite, not negative (unless allowed), not above
``max_value`` and not an implausible spike; covariates are numbers without gaps; and the series
is long enough for the lookback, training, validation and test windows.

Timestamps with a UTC offset, or naive ones with ``--tz``, are converted to UTC, so the hourly
index is regular across daylight-saving changes; naive ones without ``--tz`` are taken as they are.

A checked series is registered as a feed spec (JSON under ``<model_dir>/feeds/``): the packaged
feed loader (:func:`ml.datasets.load_feed`) then loads it by name, so the operator bot
(``gridcast oracle run --model lstm:<hash>``) forecasts it like any packaged feed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.errors import DatasetError
from ml.series import RESERVED_NAMES, FeedSeries

FREQS = {"15min": 4, "30min": 2, "1h": 1}
SUFFIXES = (".csv", ".parquet")
MAX_MISSING_SHARE = 0.2
SPIKE_FACTOR = 20.0  # a reading above this many times the 99th percentile is not a reading
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,47}$")


class UserDataError(DatasetError):
    """A user's series file fails a check; the message says which row or value and what to do."""


@dataclass(frozen=True)
class UserFeedSpec:
    """How to read a user's file into a feed; stored as JSON and in every model trained on it."""

    name: str
    path: str
    timestamp: str
    target: str
    exog: tuple[str, ...] = ()
    freq: str | None = None
    tz: str | None = None
    unit: str = "kW"
    decimals: int = 3
    allow_negative: bool = False
    max_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["exog"] = list(self.exog)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UserFeedSpec:
        return cls(**{**data, "exog": tuple(data.get("exog", ()))})


def feeds_dir(model_dir: Path | None = None) -> Path:
    if model_dir is None:
        from gridcast.settings import get_settings

        model_dir = Path(get_settings().model_dir)
    return model_dir / "feeds"


def default_name(path: str | Path) -> str:
    """A feed name from a file name: lower case, letters, digits, ``-`` and ``_``."""
    stem = re.sub(r"[^a-z0-9_-]+", "-", Path(path).stem.lower()).strip("-_")
    return (stem or "user")[:48]


def register_feed(spec: UserFeedSpec, model_dir: Path | None = None) -> Path:
    """Write the feed spec (absolute file path, content hash) where :func:`find_feed` reads it."""
    if spec.name in RESERVED_NAMES:
        raise UserDataError(f"feed name {spec.name!r} is a packaged series; choose another --name")
    if not NAME_RE.match(spec.name):
        raise UserDataError(
            f"feed name {spec.name!r}: use 1-48 lower-case letters, digits, '-' or '_'"
        )
    path = Path(spec.path).resolve()
    document = {
        "spec": replace(spec, path=str(path)).to_dict(),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    out = feeds_dir(model_dir) / f"{spec.name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2, sort_keys=True))
    return out


def find_feed(name: str, model_dir: Path | None = None) -> UserFeedSpec | None:
    """The registered spec of a user feed, or None."""
    if not NAME_RE.match(name):
        return None
    path = feeds_dir(model_dir) / f"{name}.json"
    if not path.is_file():
        return None
    return UserFeedSpec.from_dict(json.loads(path.read_text())["spec"])


def _fail(message: str) -> UserDataError:
    return UserDataError(message)


def _read_frame(path: Path) -> pd.DataFrame:
    if path.suffix.lower() not in SUFFIXES:
        raise _fail(f"{path.name}: expected a .csv or .parquet file")
    if not path.is_file():
        raise _fail(f"no such file: {path}")
    try:
        if path.suffix.lower() == ".csv":
            return pd.read_csv(path, dtype=str, keep_default_na=False)
        return pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
        raise _fail(f"cannot read {path.name}: {type(exc).__name__}: {exc}") from exc


def _timestamps(raw: pd.Series, spec: UserFeedSpec) -> pd.DatetimeIndex:
    col = spec.timestamp
    if pd.api.types.is_datetime64_any_dtype(raw):
        when = pd.DatetimeIndex(raw)
    else:
        text = raw.astype(str).str.strip()
        parsed = pd.to_datetime(text, errors="coerce", utc=True, format="mixed")
        bad = parsed.isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise _fail(f"row {row + 2}: {col} {text.iloc[row]!r} is not a date/time")
        has_offset = text.str.contains(r"(?:Z|[+-]\d\d:?\d\d)$", regex=True)
        if has_offset.all():
            when = pd.DatetimeIndex(parsed)
        elif has_offset.any():
            row = int(np.flatnonzero(~has_offset.to_numpy())[0])
            raise _fail(f"row {row + 2}: {col} mixes times with and without a UTC offset")
        else:
            when = pd.DatetimeIndex(pd.to_datetime(text, format="mixed"))
    if when.tz is not None:
        return when.tz_convert("UTC").tz_localize(None)
    if spec.tz is None:
        return when
    return _localize(when, spec.tz)


def _localize(when: pd.DatetimeIndex, tz: str) -> pd.DatetimeIndex:
    """Naive local wall-clock times in ``tz`` -> naive UTC, refusing what DST makes impossible."""
    import pytz

    try:
        pytz.timezone(tz)
    except pytz.UnknownTimeZoneError as exc:
        raise _fail(f"unknown time zone {tz!r} (use an IANA name such as Europe/Berlin)") from exc
    try:
        local = when.tz_localize(tz, ambiguous="infer", nonexistent="raise")
    except pytz.NonExistentTimeError as exc:
        raise _fail(
            f"{exc} does not exist in {tz} (clocks jump forward there); "
            f"are the times really {tz} wall-clock times?"
        ) from exc
    except pytz.AmbiguousTimeError as exc:
        raise _fail(
            f"{tz}: the repeated hour when clocks fall back cannot be placed ({exc}); "
            "write the timestamps with their UTC offset"
        ) from exc
    return local.tz_convert("UTC").tz_localize(None)


def _numbers(frame: pd.DataFrame, col: str) -> np.ndarray:
    raw = frame[col]
    if pd.api.types.is_numeric_dtype(raw):
        return raw.to_numpy(dtype="float64")
    text = raw.astype(str).str.strip()
    values = pd.to_numeric(text.replace({"": np.nan, "NA": np.nan, "NaN": np.nan, "nan": np.nan}),
                           errors="coerce")  # fmt: skip
    bad = values.isna() & ~text.isin(["", "NA", "NaN", "nan"])
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise _fail(f"row {row + 2}: {col} {text.iloc[row]!r} is not a number")
    return values.to_numpy(dtype="float64")


def _step(index: pd.DatetimeIndex, spec: UserFeedSpec) -> str:
    diffs = index.to_series().diff().dropna()
    if diffs.empty:
        raise _fail("the file has fewer than two readings")
    common = diffs.mode().iloc[0]
    found = {pd.Timedelta(k): k for k in FREQS}.get(common)
    if found is None:
        raise _fail(f"readings are {common} apart; supported steps are {', '.join(FREQS)}")
    if spec.freq is not None and spec.freq != found:
        raise _fail(f"--freq {spec.freq}, but the readings are {found} apart")
    off = index[(index - index.floor(found)) != pd.Timedelta(0)]
    if len(off):
        raise _fail(f"{off[0]} is not on the {found} grid")
    return found


def read_user_series(spec: UserFeedSpec, min_days: int = 0) -> FeedSeries:
    """The checked series on an hourly grid; UserDataError (one line) on the first problem."""
    if spec.freq is not None and spec.freq not in FREQS:
        raise _fail(f"--freq must be one of {', '.join(FREQS)}, not {spec.freq!r}")
    path = Path(spec.path)
    frame = _read_frame(path)
    for col in (spec.timestamp, spec.target, *spec.exog):
        if col not in frame.columns:
            cols = ", ".join(map(str, frame.columns))
            raise _fail(f"column {col!r} is not in {path.name} (columns: {cols})")
    if len(frame) < 2:
        raise _fail(f"{path.name} has fewer than two readings")
    when = _timestamps(frame[spec.timestamp], spec)
    order = np.argsort(when.asi8, kind="stable")
    when, frame = when[order], frame.iloc[order].reset_index(drop=True)
    dup = when[when.duplicated()]
    if len(dup):
        hint = "" if spec.tz else " (local times with daylight saving? pass --tz ZONE)"
        raise _fail(f"{len(dup)} duplicate timestamp(s), first {dup[0]}{hint}")
    step = _step(when, spec)
    grid = pd.date_range(when[0], when[-1], freq=step)
    if len(grid) != len(when):
        missing = grid.difference(when)
        hint = "" if spec.tz else " (a daylight-saving jump? pass --tz ZONE)"
        raise _fail(
            f"{len(missing)} timestamp(s) missing from the {step} grid, first {missing[0]}"
            f"{hint}; add rows with an empty {spec.target} to mark missing readings"
        )
    y = _numbers(frame, spec.target)
    _check_values(y, when, spec)
    exog = pd.DataFrame(index=when)
    for col in spec.exog:
        values = _numbers(frame, col)
        if not np.isfinite(values).all():
            row = int(np.flatnonzero(~np.isfinite(values))[0])
            raise _fail(f"{col} is empty or not finite at {when[row]}: covariates need every row")
        exog[col] = values
    series = _hourly(
        spec, when, y, exog, FREQS[step], hashlib.sha256(path.read_bytes()).hexdigest()
    )
    days = len(series) // 24
    if days < min_days:
        raise _fail(
            f"{days} whole days of data; at least {min_days} are needed for the lookback, "
            "training, validation and test windows"
        )
    return series


def _check_values(y: np.ndarray, when: pd.DatetimeIndex, spec: UserFeedSpec) -> None:
    col = spec.target
    if np.isinf(y).any():
        raise _fail(f"{col} is infinite at {when[int(np.flatnonzero(np.isinf(y))[0])]}")
    present = ~np.isnan(y)
    share = 1 - present.mean()
    if share > MAX_MISSING_SHARE:
        raise _fail(f"{share:.0%} of {col} is empty (at most {MAX_MISSING_SHARE:.0%} may be)")
    values = y[present]
    if not spec.allow_negative and (values < 0).any():
        i = int(np.argmin(np.where(present, y, np.inf)))
        raise _fail(
            f"{(values < 0).sum()} negative {col} value(s), lowest {y[i]:g} at {when[i]}; "
            "pass --allow-negative if the series can be negative (e.g. net load)"
        )
    if spec.max_value is not None and (values > spec.max_value).any():
        i = int(np.argmax(np.where(present, y, -np.inf)))
        raise _fail(f"{col} {y[i]:g} at {when[i]} is above --max-value {spec.max_value:g}")
    p99 = float(np.percentile(np.abs(values), 99))
    top = int(np.argmax(np.where(present, np.abs(y), -np.inf)))
    if p99 > 0 and abs(y[top]) > SPIKE_FACTOR * p99:
        raise _fail(
            f"{col} {y[top]:g} at {when[top]} is over {SPIKE_FACTOR:g}x the 99th percentile "
            f"({p99:g}): an impossible reading? blank it or fix it"
        )


def _hourly(
    spec: UserFeedSpec,
    when: pd.DatetimeIndex,
    y: np.ndarray,
    exog: pd.DataFrame,
    per_hour: int,
    content_hash: str,
) -> FeedSeries:
    """Hourly means; an hour is measured only when all of its readings are."""
    target = pd.Series(y, index=when)
    grouped = target.resample("1h")
    mean = grouped.mean()
    complete = (grouped.count() == per_hour).reindex(mean.index, fill_value=False)
    # The first and last hours may be partial: keep whole hours only.
    full = pd.Series(1, index=when).resample("1h").count() == per_hour
    keep = full[full].index
    mean, complete = mean.reindex(keep), complete.reindex(keep)
    hourly_exog = exog.resample("1h").mean().reindex(keep) if len(exog.columns) else None
    index = pd.DatetimeIndex(keep.astype("datetime64[ns]"), freq="h", name=None)
    if len(index) and len(pd.date_range(index[0], index[-1], freq="h")) != len(index):
        raise _fail("the series has incomplete hours inside it")
    mask = complete.to_numpy(dtype=bool) & mean.notna().to_numpy()
    values = mean.to_numpy(dtype="float64")
    return FeedSeries(
        name=spec.name,
        index=index,
        target=np.where(mask, values, np.nan),
        mask=mask,
        exog=(
            pd.DataFrame(hourly_exog.to_numpy(), index=index, columns=list(spec.exog))
            if hourly_exog is not None
            else pd.DataFrame(index=index)
        ),
        unit=spec.unit,
        decimals=spec.decimals,
        content_hash=content_hash,
        source=f"user:{Path(spec.path).name}",
        nonnegative=not spec.allow_negative,
        extra={"user_spec": spec.to_dict(), "freq": spec.freq, "tz": spec.tz},
    )
