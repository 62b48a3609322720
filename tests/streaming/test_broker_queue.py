"""The project's broker settings keep a gateway's whole backlog: mosquitto's default per-client
queue (1000 messages) would drop QoS 1 telemetry published while the gateway was down."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from gridcast.demo.broker import start_mosquitto
from streaming.mqtt import Publisher, Subscriber


def test_private_broker_queues_more_than_the_default_1000_messages(tmp_path: Path) -> None:
    proc, port = start_mosquitto(tmp_path)
    try:
        got: list[bytes] = []
        done = threading.Event()
        total = 3_000

        def on_message(_topic: str, payload: bytes) -> None:
            got.append(payload)
            if len(got) >= total:
                done.set()

        # Subscribe once (the broker now holds a persistent session), then go away.
        first = Subscriber("gridcast/test/#", lambda *_: None, "queue-test", "127.0.0.1", port)
        first.start()
        assert first.subscribed.wait(10)
        first.stop()

        with Publisher("127.0.0.1", port) as pub:
            for i in range(total):
                pub.publish("gridcast/test/m", str(i).encode())

        again = Subscriber("gridcast/test/#", on_message, "queue-test", "127.0.0.1", port)
        again.start()
        deadline = time.monotonic() + 60
        while not done.is_set() and time.monotonic() < deadline:
            done.wait(0.2)
        again.stop()
        assert sorted(int(p) for p in set(got)) == list(range(total))
    finally:
        proc.terminate()
        proc.wait(10)
