"""Adapts any :class:`ml.forecaster.Forecaster` to the operator bot's CurveSource: epochs are
mapped onto data hours through the market's clock, and values scaled to the feed's decimals."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridcast.chain.feeds import FeedView
from gridcast.chain.market import Market
from ml.datasets import FeedSeries, load_feed
from ml.forecaster import Forecaster


class ForecasterSource:
    """Curves for consecutive epochs from a forecaster over the real series bound to each feed.

    `forecaster` is one model for every feed, or one per dataset name (an LSTM is trained per
    feed). `bias` shifts every value by a fraction (a deliberately bad operator uses it)."""

    def __init__(
        self, forecaster: Forecaster | dict[str, Forecaster], market: Market, bias: float = 0.0
    ) -> None:
        self.forecasters = forecaster if isinstance(forecaster, dict) else None
        self.default = None if isinstance(forecaster, dict) else forecaster
        self.market = market
        self.bias = bias
        first = self.default or next(iter(self.forecasters.values()))  # type: ignore[union-attr]
        self.name = first.name + (f"+bias{bias:+.0%}" if bias else "")
        self._series: dict[str, FeedSeries] = {}

    def forecaster_for(self, feed: FeedView) -> Forecaster:
        if self.default is not None:
            return self.default
        assert self.forecasters is not None
        dataset = self.market.binding(feed.feed_id).dataset
        if dataset not in self.forecasters:
            raise ValueError(f"no model for dataset {dataset!r}")
        return self.forecasters[dataset]

    def _series_for(self, dataset: str) -> FeedSeries:
        if dataset not in self._series:
            self._series[dataset] = load_feed(dataset)
        return self._series[dataset]

    def model_hash(self, feed: FeedView) -> bytes:
        return bytes.fromhex(self.forecaster_for(feed).model_hash[2:])

    def curve(
        self, feed: FeedView, first_epoch: int, count: int
    ) -> tuple[list[int], list[int], list[int]]:
        binding = self.market.binding(feed.feed_id)
        series = self._series_for(binding.dataset)
        origin = pd.Timestamp(binding.data_time(first_epoch))
        q = self.forecaster_for(feed).predict_curve(series, origin)
        horizon = len(q.p50)
        if count > horizon:
            raise ValueError(f"a round of {count} epochs exceeds the {horizon}-step horizon")
        factor = 1.0 + self.bias
        p10, p50, p90 = (np.asarray(a[:count], dtype="float64") * factor for a in q.as_tuple())
        lo = np.minimum(p10, p50)
        hi = np.maximum(p90, p50)
        return (
            [feed.scale(v) for v in p50],
            [feed.scale(v) for v in lo],
            [feed.scale(v) for v in hi],
        )


def newest_lstms(market: Market) -> dict[str, Forecaster]:
    """The newest registered LSTM of each dataset the market uses."""
    from ml.registry import list_models

    out: dict[str, Forecaster] = {}
    for b in market.feeds:
        rows = list_models(feed=b.dataset)  # newest first
        if not rows:
            raise ValueError(
                f"no LSTM registered for {b.dataset}: run `gridcast ml train --feed {b.dataset}`"
            )
        out[b.dataset] = Forecaster.load(rows[0]["model_hash"])
    return out


def forecaster_by_name(spec: str, market: Market) -> Forecaster | dict[str, Forecaster]:
    """`lstm` (newest per feed), `lstm:<model hash>`, `seasonal-naive`, `mstl`, `auto-ets`,
    `constant`."""
    from ml import forecaster as f

    if spec == "lstm":
        return newest_lstms(market)
    if spec.startswith("lstm:"):
        return f.Forecaster.load(spec.split(":", 1)[1])
    table = {
        "seasonal-naive": f.SeasonalNaiveForecaster,
        "mstl": f.MSTLForecaster,
        "auto-ets": f.AutoETSForecaster,
        "constant": f.ConstantForecaster,
    }
    if spec not in table:
        raise ValueError(f"unknown model {spec!r}; choose lstm:<hash> or one of {sorted(table)}")
    return table[spec]()
