"""A feed's timing as the contracts define it, computed locally from its parameters."""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from gridcast.chain.deployment import FeedParams


@dataclass(frozen=True)
class FeedView:
    feed_id: bytes
    region: str
    metric: str
    resolution_s: int
    params: FeedParams

    @classmethod
    def read(cls, registry: Contract, feed_id: bytes) -> FeedView:
        params = FeedParams.from_tuple(registry.functions.feedParams(feed_id).call())
        region, metric, resolution, _paused = registry.functions.feedInfo(feed_id).call()
        return cls(feed_id, region, metric, int(resolution), params)

    @property
    def hex(self) -> str:
        return "0x" + self.feed_id.hex()

    @property
    def name(self) -> str:
        return f"{self.region}/{self.metric}"

    def epoch_of(self, t: int) -> int:
        return (t - self.params.genesis) // self.params.epoch_length

    def epoch_start(self, epoch: int) -> int:
        return self.params.genesis + epoch * self.params.epoch_length

    def epoch_end(self, epoch: int) -> int:
        return self.epoch_start(epoch + 1)

    def round_first_epoch(self, epoch: int) -> int:
        return (epoch // self.params.epochs_per_round) * self.params.epochs_per_round

    def reveal_deadline(self, epoch: int) -> int:
        return self.epoch_start(self.round_first_epoch(epoch)) - self.params.lead_time

    def commit_deadline(self, epoch: int) -> int:
        return self.reveal_deadline(epoch) - self.params.reveal_window

    def truth_deadline(self, epoch: int) -> int:
        return self.epoch_end(epoch) + self.params.truth_timeout

    def next_open_round(self, now: int, not_before_epoch: int, margin_s: int = 0) -> int | None:
        """First epoch of the earliest round still open for commits (with a safety margin), or
        None when the operator has already committed it (`not_before_epoch` is its watermark):
        an operator forecasts the next gate only, never rounds further ahead."""
        per = self.params.epochs_per_round
        epoch = max(0, self.round_first_epoch(max(self.epoch_of(now), 0)))
        while self.commit_deadline(epoch) <= now + margin_s:
            epoch += per
        return epoch if epoch >= not_before_epoch else None

    def scale(self, value: float) -> int:
        return round(value * 10**self.params.decimals)

    def unscale(self, value: int) -> float:
        return value / 10**self.params.decimals
