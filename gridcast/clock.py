"""The one clock mapping between chain time and historical data time.

Replay, oracles and the truth pipeline all import this so they agree which slice of data an epoch
stands for: ``data_time = data_start + (chain_time - genesis) * (data_step / epoch_length)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


class ClockError(ValueError):
    """A clock was configured with impossible parameters."""


@dataclass(frozen=True)
class DataClock:
    """Maps chain seconds (unix) to data timestamps and back."""

    genesis: int  # chain unix seconds of epoch 0
    epoch_length: int  # chain seconds per epoch
    data_start: datetime  # data time that epoch 0 stands for (tz-aware UTC)
    data_step: timedelta  # data time one epoch stands for

    def __post_init__(self) -> None:
        if self.epoch_length <= 0 or self.data_step.total_seconds() <= 0:
            raise ClockError("epoch_length and data_step must be positive")
        if self.data_start.tzinfo is None:
            object.__setattr__(self, "data_start", self.data_start.replace(tzinfo=UTC))

    @property
    def speedup(self) -> float:
        """Data seconds per chain second."""
        return self.data_step.total_seconds() / self.epoch_length

    def data_time(self, chain_time: float) -> datetime:
        return self.data_start + timedelta(seconds=(chain_time - self.genesis) * self.speedup)

    def chain_time(self, data_time: datetime) -> float:
        if data_time.tzinfo is None:
            data_time = data_time.replace(tzinfo=UTC)
        return self.genesis + (data_time - self.data_start).total_seconds() / self.speedup

    def epoch_of(self, chain_time: float) -> int:
        return int((chain_time - self.genesis) // self.epoch_length)

    def epoch_data_window(self, epoch: int) -> tuple[datetime, datetime]:
        """The half-open data-time interval [start, end) that `epoch` stands for."""
        start = self.data_start + self.data_step * epoch
        return start, start + self.data_step

    def epoch_of_data_time(self, data_time: datetime) -> int:
        if data_time.tzinfo is None:
            data_time = data_time.replace(tzinfo=UTC)
        return int((data_time - self.data_start) // self.data_step)
