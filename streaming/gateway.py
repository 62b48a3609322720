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
from bisect import bisect_left
from itertools import accumulate
from pathlib import Path
from typing import Any

from prometheus_client import Counter, Gauge

from streaming import schema
from streaming.errors import RetryableError
from streaming.landing import LandingSequence, gateway_name, land_lines, land_table
from streaming.mqtt import Subscriber

MESSAGES = Counter("gridcast_gateway_messages", "Telemetry messages received", ["status"])
READINGS = Counter("gridcast_gateway_readings", "Readings accepted by the gateway", ["feed"])
DEAD_LETTERS = Counter("gridcast_gateway_dead_letters", "Messages rejected", ["reason"])
FILES = Counter("gridcast_gateway_files", "Landing files written")
# Read from the gateway when scraped: nothing is counted per message on the MQTT thread.
RECEIVED = Gauge("gridcast_gateway_received_messages", "Messages received, landed or not")


class Gateway:
    """Buffers telemetry as received and validates it a buffer at a time: `flush()` parses the
    buffer in one pass (``schema.parse_batch``: one JSON decode, Arrow's typed conversion and
    vectorised checks), lands the valid messages as one file and the rest as dead letters, then
    acknowledges them all to the broker. The MQTT thread only appends (a single-reading message
    costs about a microsecond there), so one gateway keeps up with a fleet of small messages."""

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
        # This gateway's part of its file names (set from the MQTT client id in start()).
        self.name = "gateway"
        self._sequence: LandingSequence | None = None  # set in start(), with the name
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time: files land in receive order
        self._received: list[tuple[float, str, bytes]] = []
        self._buffered = 0
        self._first_at = 0.0
        self.received_messages = 0
        self.accepted_messages = 0
        self.rejected_messages = 0
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._subscriber: Subscriber | None = None
        RECEIVED.set_function(lambda: self.received_messages)

    def handle(self, topic: str, payload: bytes) -> None:
        self.handle_many([(topic, payload)])

    def handle_many(self, messages: list[tuple[str, bytes]]) -> None:
        """Buffer the messages of one socket read (the MQTT thread's only work per message),
        landing a file each time the buffer reaches `max_readings`."""
        now = time.time()
        # Readings per message, near enough to size the files; cumulative, to cut the read.
        upto = list(accumulate([p.count(b'"ts"') or 1 for _, p in messages]))
        start = 0
        while start < len(messages):
            with self._lock:
                base = upto[start - 1] if start else 0
                end = min(
                    bisect_left(upto, base + self.max_readings - self._buffered) + 1, len(upto)
                )
                if not self._received:
                    self._first_at = now
                self._received.extend([(now, t, p) for t, p in messages[start:end]])
                self._buffered += upto[end - 1] - base
                self.received_messages += end - start
                full = self._buffered >= self.max_readings
            if full:
                self.flush()
            start = end

    def flush(self) -> Path | None:
        """Land the buffer as one file (and the dead letters as another), then acknowledge the
        messages it holds: a message is acked to the broker only once it is durable here."""
        with self._flush_lock:
            with self._lock:
                # Ids first: every id taken belongs to a message whose handle() returned, so
                # it is in the buffer taken next (or in a file already landed).
                subscriber = self._subscriber
                acks = subscriber.take_acks() if subscriber is not None else None
                received, self._received, self._buffered = self._received, [], 0
            path = self._land(received) if received else None
            if acks is not None and subscriber is not None:
                subscriber.ack(acks)  # one write for the whole file's messages
        return path

    def _land(self, received: list[tuple[float, str, bytes]]) -> Path | None:
        import pyarrow as pa
        import pyarrow.compute as pc

        at, topics, payloads = (list(c) for c in zip(*received, strict=True))
        table, rejects = schema.parse_batch(topics, payloads)
        if rejects:
            records = []
            for i, exc in rejects:
                DEAD_LETTERS.labels(exc.reason).inc()
                record = {
                    "received_at": at[i],
                    "topic": topics[i],
                    "reason": exc.reason,
                    "detail": exc.detail,
                    "payload_b64": base64.b64encode(payloads[i]).decode(),
                }
                records.append(json.dumps(record).encode())
            land_lines(self.dead_letter_dir, records, prefix="dead")
            MESSAGES.labels("rejected").inc(len(rejects))
        self.rejected_messages += len(rejects)
        if table.num_rows == 0:
            return None
        MESSAGES.labels("accepted").inc(table.num_rows)
        self.accepted_messages += table.num_rows
        counts = pc.list_value_length(table.column("readings"))
        for feed, n in _per_feed(table.column("feed"), counts):
            READINGS.labels(feed).inc(n)
        received_at = pc.take(pa.array(at, pa.float64()), table.column("index"))
        FILES.inc()
        return land_table(
            self.landing_dir, landed_table(table, received_at), self.name, self._sequence
        )

    def _tick(self) -> None:
        """Land the buffer when its first message is `max_delay_s` old: it sleeps until then
        (an idle gateway looks every half delay), so no message waits longer."""
        while True:
            with self._lock:
                due_at = self._first_at + self.max_delay_s if self._received else None
            wait = self.max_delay_s / 2 if due_at is None else max(0.0, due_at - time.time())
            if self._stop.wait(wait):
                return
            with self._lock:
                due = self._received and time.time() - self._first_at >= self.max_delay_s
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
        self.name = gateway_name(client_id)
        self._sequence = LandingSequence(self.landing_dir, self.name)
        if share_group:
            topic = f"$share/{share_group}/{topic}"
        self._subscriber = Subscriber(
            topic, None, client_id, host, port, manual_ack=True, on_batch=self.handle_many
        )
        self._subscriber.start()
        if not self._subscriber.subscribed.wait(10):
            raise RetryableError("MQTT broker did not acknowledge the subscription")
        if auto_flush:
            self._ticker = threading.Thread(target=self._tick, name="gateway-flush", daemon=True)
            self._ticker.start()

    def stop(self) -> None:
        """Land and acknowledge what was received, then disconnect (the subscriber makes sure
        the broker has read those acks first); anything handed over in between is landed too,
        unacked: the broker redelivers it, and the job drops the repeated readings."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self.flush()
        subscriber, self._subscriber = self._subscriber, None
        if subscriber is not None:
            subscriber.stop()
        self.flush()


def _per_feed(feeds: Any, counts: Any) -> list[tuple[str, int]]:
    import pyarrow as pa

    grouped = pa.table({"feed": feeds, "n": counts}).group_by("feed").aggregate([("n", "sum")])
    feed, total = grouped.column("feed").to_pylist(), grouped.column("n_sum").to_pylist()
    return list(zip(feed, total, strict=True))


def landed_table(parsed: Any, received_at: Any) -> Any:
    """Parsed messages (``schema.parse_batch``) -> one Arrow table in RAW_SCHEMA's layout."""
    import numpy as np
    import pyarrow as pa

    return pa.table(
        {
            "received_at": received_at,
            "v": pa.array(np.full(parsed.num_rows, schema.SCHEMA_VERSION, dtype=np.int64)),
            "feed": parsed.column("feed"),
            "meter": parsed.column("meter"),
            "sent_at": parsed.column("sent_at"),
            "readings": parsed.column("readings"),
        }
    )


def read_dead_letters(dead_letter_dir: Path) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for path in sorted(dead_letter_dir.glob("dead-*.jsonl")):
        out.extend(json.loads(line) for line in path.read_bytes().splitlines() if line)
    return out
