"""Telemetry replay that follows the chain clock: the meters publish the data hour that the
current epoch stands for (gridcast.clock via the market file), so oracles, Spark and the truth
oracle agree which hour is "now". A burst of history is published first so the nowcast has context.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from web3 import Web3

from gridcast.chain.feeds import FeedView
from gridcast.chain.market import Market
from streaming import schema
from streaming.mqtt import Publisher
from streaming.replay import meter_frame
from streaming.sources import load_series

log = logging.getLogger(__name__)


@dataclass
class _FeedState:
    name: str
    view: FeedView
    frame: pd.DataFrame  # meter, ts, value (sorted by ts)
    ts: np.ndarray
    cursor: float  # data unix seconds already published (exclusive upper bound)


class ChainFollower:
    def __init__(
        self,
        w3: Web3,
        registry,  # type: ignore[no-untyped-def]
        market: Market,
        publisher: Publisher,
        *,
        feeds: tuple[str, ...] = ("solar", "demand"),
        meters: int = 10,
        batch: int = 500,
        history_hours: float = 72.0,
        seed: int = 7,
    ) -> None:
        self.w3 = w3
        self.pub = publisher
        self.batch = batch
        self.published = 0
        self.states: list[_FeedState] = []
        for binding in market.feeds:
            if binding.dataset not in feeds:
                continue
            view = FeedView.read(registry, binding.feed_bytes)
            series = load_series(binding.dataset, rows=10**9)
            frame = meter_frame(series, binding.dataset, meters, seed).sort_values(["ts", "meter"])
            now_data = self._data_ts(binding, view, self._chain_now())
            self.states.append(
                _FeedState(
                    binding.dataset,
                    view,
                    frame.reset_index(drop=True),
                    frame["ts"].to_numpy(),
                    now_data - history_hours * 3600,
                )
            )
        self.market = market

    def _chain_now(self) -> float:
        return float(self.w3.eth.get_block("latest")["timestamp"])

    @staticmethod
    def _data_ts(binding, view: FeedView, chain_t: float) -> float:  # type: ignore[no-untyped-def]
        clock = binding.clock(view.params.genesis, view.params.epoch_length)
        return clock.data_time(chain_t).timestamp()

    def step(self) -> int:
        """Publish every reading whose data time has come; returns readings published."""
        chain_t = self._chain_now()
        sent = 0
        for st in self.states:
            binding = self.market.binding(st.view.feed_id)
            target = self._data_ts(binding, st.view, chain_t)
            lo = int(np.searchsorted(st.ts, st.cursor, side="left"))
            hi = int(np.searchsorted(st.ts, target, side="left"))
            if hi <= lo:
                continue
            chunk = st.frame.iloc[lo:hi]
            for meter, group in chunk.groupby("meter", sort=True):
                readings = list(zip(group["ts"].tolist(), group["value"].tolist(), strict=True))
                for i in range(0, len(readings), self.batch):
                    part = readings[i : i + self.batch]
                    payload = schema.encode(st.name, str(meter), part, time.time())
                    self.pub.publish(schema.topic_for(st.name, str(meter)), payload)
                    sent += len(part)
            st.cursor = target
        self.pub.flush()
        self.published += sent
        return sent

    def run(self, stop: threading.Event, interval_s: float = 0.5) -> None:
        while not stop.is_set():
            n = self.step()
            if n:
                log.info("published %d readings (total %d)", n, self.published)
            stop.wait(interval_s)
