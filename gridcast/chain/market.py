"""Which real dataset each on-chain feed stands for, and where in it epoch 0 falls.

Written by the deployer (or the demo) next to the deployment file and read by every oracle and by
the truth pipeline, so all of them map an epoch onto the same hour of data (gridcast.clock)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gridcast.clock import DataClock


@dataclass(frozen=True)
class FeedBinding:
    feed_id: str  # 0x-hex bytes32
    dataset: str  # ml.datasets feed name: "solar" | "demand"
    region: str
    metric: str
    resolution_s: int
    data_start: str  # ISO timestamp (data wall-clock time) that epoch 0 stands for
    data_step_s: int  # data seconds one epoch stands for

    @property
    def feed_bytes(self) -> bytes:
        return bytes.fromhex(self.feed_id[2:])

    def clock(self, genesis: int, epoch_length: int) -> DataClock:
        start = datetime.fromisoformat(self.data_start)
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        return DataClock(genesis, epoch_length, start, timedelta(seconds=self.data_step_s))

    def data_time(self, epoch: int) -> datetime:
        """Naive data wall-clock time of the start of `epoch` (the datasets' index is naive)."""
        start = datetime.fromisoformat(self.data_start).replace(tzinfo=None)
        return start + timedelta(seconds=self.data_step_s * epoch)


@dataclass(frozen=True)
class Market:
    feeds: list[FeedBinding]

    def binding(self, feed_id: bytes | str) -> FeedBinding:
        key = feed_id if isinstance(feed_id, str) else "0x" + feed_id.hex()
        for f in self.feeds:
            if f.feed_id.lower() == key.lower():
                return f
        raise KeyError(f"feed {key} is not in the market file")

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"feeds": [asdict(f) for f in self.feeds]}, indent=2))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Market:
        if not path.exists():
            raise FileNotFoundError(f"no market file at {path}: deploy and register feeds first")
        data = json.loads(path.read_text())
        return cls([FeedBinding(**f) for f in data["feeds"]])
