"""The one hourly shape every feed is loaded into, packaged or brought by a user."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ml.errors import DatasetError

PACKAGED_FEEDS = ("solar", "demand")
# Names a user feed may not take: the packaged feeds and the extra evaluation series.
RESERVED_NAMES = (*PACKAGED_FEEDS, "taylor", "serf-east")


@dataclass(frozen=True)
class FeedSeries:
    """One feed on an hourly grid.

    ``index``: tz-naive local wall-clock hours, contiguous, no duplicates.
    ``target``: float64 values in ``unit`` (NaN where missing).
    ``mask``: True where ``target`` is a real measurement.
    ``exog``: known-ahead covariates aligned with ``index`` (no NaN), may have no columns.
    ``decimals``: fixed-point decimals on-chain (value_int = round(value * 10**decimals)).
    ``content_hash``: sha256 hex of the source file's bytes, recorded with every model.
    """

    name: str
    index: pd.DatetimeIndex
    target: np.ndarray
    mask: np.ndarray
    exog: pd.DataFrame
    unit: str
    decimals: int
    content_hash: str
    source: str
    nonnegative: bool = True
    extra: dict[str, object] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def start(self) -> pd.Timestamp:
        return self.index[0]

    @property
    def end(self) -> pd.Timestamp:
        return self.index[-1]

    def frame(self) -> pd.DataFrame:
        """The series as one DataFrame: ``y``, ``mask`` and the exogenous columns."""
        df = pd.DataFrame({"y": self.target, "mask": self.mask}, index=self.index)
        return df.join(self.exog)

    def slice(self, start: int, stop: int) -> FeedSeries:
        """Rows ``[start, stop)`` as a new series (positional, like a list slice)."""
        return FeedSeries(
            name=self.name,
            index=self.index[start:stop],
            target=self.target[start:stop],
            mask=self.mask[start:stop],
            exog=self.exog.iloc[start:stop],
            unit=self.unit,
            decimals=self.decimals,
            content_hash=self.content_hash,
            source=self.source,
            nonnegative=self.nonnegative,
            extra=self.extra,
        )

    def position(self, when: pd.Timestamp | str) -> int:
        """Row number of the hour ``when`` (which must lie on the grid)."""
        try:
            return int(self.index.get_loc(pd.Timestamp(when)))
        except KeyError as exc:
            raise DatasetError(f"{when} is not an hour of feed {self.name!r}") from exc
