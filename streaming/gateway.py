"""Ingestion gateway: MQTT -> schema validation -> batched, durable Parquet files.

Each accepted message becomes one row of the landed file (``received_at``, ``v``, ``feed``,
``meter``, ``sent_at`` and its ``readings`` as a list of (ts, value)), the layout of
``streaming.config.RAW_SCHEMA``. Rejected messages go to the dead-letter store (JSON lines with the
reason) and are counted in Prometheus metrics.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from pathlib import Path
from typing import Any

from prometheus_client import Counter

from streaming import schema
from streaming.errors import InvalidTelemetry, RetryableError
from streaming.landing import land_lines, land_table
from streaming.mqtt import Subscriber

MESSAGES = Counter("gridcast_gateway_messages", "Telemetry messages received", ["status"])
READINGS = Counter("gridcast_gateway_readings", "Readings accepted by the gateway", ["feed"])
DEAD_LETTERS = Counter("gridcast_gateway_dead_letters", "Messages rejected", ["reason"])
FILES = Counter("gridcast_gateway_files", "Landing files written")


class Gateway:
    """Validates and buffers telemetry; `flush()` lands the buffer as one file."""

    def __init__(
        self,
        landing_dir: Path,
        dead_letter_dir: Path,
        max_readings: int = 50_000,
        max_delay_s: float = 0.25,
    ) -> None:
        self.landing_dir = landing_dir
        self.dead_letter_dir = dead_letter_dir
        self.max_readings = max_readings
        self.max_delay_s = max_delay_s
        self._lock = threading.Lock()
        self._rows: list[tuple[float, str, str, float, list[float], list[float]]] = []
        self._dead: list[bytes] = []
        self._buffered = 0
        self._first_at = 0.0
        self.accepted_messages = 0
        self.rejected_messages = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._subscriber: Subscriber | None = None

    @property
    def received_messages(self) -> int:
        return self.accepted_messages + self.rejected_messages

    def handle(self, topic: str, payload: bytes) -> None:
        now = time.time()
        try:
            msg, ts, values = schema.parse(topic, payload)
        except InvalidTelemetry as exc:
            record = {
                "received_at": now,
                "topic": topic,
                "reason": exc.reason,
                "detail": exc.detail,
                "payload_b64": base64.b64encode(payload).decode(),
            }
            MESSAGES.labels("rejected").inc()
            DEAD_LETTERS.labels(exc.reason).inc()
            with self._lock:
                self._dead.append(json.dumps(record).encode())
                self.rejected_messages += 1
            return
        n = len(ts)
        MESSAGES.labels("accepted").inc()
        READINGS.labels(msg["feed"]).inc(n)
        row = (now, msg["feed"], msg["meter"], float(msg["sent_at"]), ts, values)
        with self._lock:
            if not self._rows:
                self._first_at = now
            self._rows.append(row)
            self._buffered += n
            self.accepted_messages += 1
            full = self._buffered >= self.max_readings
        if full:
            self.flush()

    def flush(self) -> Path | None:
        """Land the buffer as one file (and the dead letters as another), then acknowledge the
        messages it holds: a message is acked to the broker only once it is durable here."""
        with self._lock:
            # Ids first: every id taken belongs to a message whose handle() returned, so it is
            # in the rows taken next (or in a file already landed).
            acks = self._subscriber.take_acks() if self._subscriber is not None else []
            rows, self._rows, self._buffered = self._rows, [], 0
            dead, self._dead = self._dead, []
        if dead:
            land_lines(self.dead_letter_dir, dead, prefix="dead")
        path = None
        if rows:
            FILES.inc()
            path = land_table(self.landing_dir, landed_table(rows))
        if acks and self._subscriber is not None:
            self._subscriber.ack(acks)
        return path

    def _tick(self) -> None:
        while not self._stop.wait(self.max_delay_s / 2):
            with self._lock:
                due = (self._rows or self._dead) and (
                    time.time() - self._first_at >= self.max_delay_s or not self._rows
                )
            if due:
                self.flush()

    def start(
        self,
        client_id: str = "gridcast-gateway",
        host: str | None = None,
        port: int | None = None,
        auto_flush: bool = True,
        share_group: str | None = None,
    ) -> None:
        """Subscribe to every telemetry topic and run the MQTT loop in the background. With
        `share_group`, gateways of the same group share the topics (MQTT v5 shared subscription:
        each message goes to one of them)."""
        topic = f"{schema.TOPIC_PREFIX}/#"
        if share_group:
            topic = f"$share/{share_group}/{topic}"
        self._subscriber = Subscriber(topic, self.handle, client_id, host, port, manual_ack=True)
        self._subscriber.start()
        if not self._subscriber.subscribed.wait(10):
            raise RetryableError("MQTT broker did not acknowledge the subscription")
        if auto_flush:
            self._ticker = threading.Thread(target=self._tick, name="gateway-flush", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        """Land and acknowledge what was received, then disconnect; anything that arrived in
        between is landed too (its acks are lost: the broker redelivers it, and the job drops
        the repeated readings)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.flush()
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.stop()
        self.flush()


def landed_table(rows: list[tuple[float, str, str, float, list[float], list[float]]]) -> Any:
    """Buffered messages -> one Arrow table in RAW_SCHEMA's layout (readings flattened once,
    then wrapped as list<struct<ts, value>> by offsets: no Python object per reading)."""
    import itertools

    import numpy as np
    import pyarrow as pa

    received, feeds, meters, sent, ts, values = zip(*rows, strict=True)
    offsets = np.zeros(len(rows) + 1, dtype=np.int32)
    np.cumsum([len(t) for t in ts], out=offsets[1:])
    flat = pa.StructArray.from_arrays(
        [
            pa.array(itertools.chain.from_iterable(ts), pa.float64()),
            pa.array(itertools.chain.from_iterable(values), pa.float64()),
        ],
        names=["ts", "value"],
    )
    return pa.table(
        {
            "received_at": pa.array(received, pa.float64()),
            "v": pa.array(np.full(len(rows), schema.SCHEMA_VERSION, dtype=np.int64)),
            "feed": pa.array(feeds, pa.string()),
            "meter": pa.array(meters, pa.string()),
            "sent_at": pa.array(sent, pa.float64()),
            "readings": pa.ListArray.from_arrays(pa.array(offsets), flat),
        }
    )


def read_dead_letters(dead_letter_dir: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for path in sorted(dead_letter_dir.glob("dead-*.jsonl")):
        out.extend(json.loads(line) for line in path.read_bytes().splitlines() if line)
    return out
