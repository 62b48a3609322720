"""Two gateway processes share the telemetry topics through an MQTT v5 shared subscription
($share/<group>/gridcast/telemetry/#): every message is landed by exactly one of them."""

from __future__ import annotations

import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridcast.demo.broker import start_mosquitto
from streaming.mqtt import Publisher
from streaming.schema import encode, topic_for
from streaming.testing import gateway_command, landed_readings, spawn

MESSAGES = 3000


@pytest.fixture()
def broker_port(tmp_path: Path) -> Iterator[int]:
    proc, port = start_mosquitto(tmp_path)  # private: no other test's telemetry reaches it
    yield port
    proc.terminate()
    proc.wait(10)


def test_two_gateways_share_the_stream_without_loss_or_doubling(
    broker_port: int, tmp_path: Path
) -> None:
    env = {**os.environ, "GRIDCAST_MQTT_PORT": str(broker_port)}
    group = f"gw-{uuid.uuid4().hex[:6]}"
    procs = []
    for i in (1, 2):
        cmd = gateway_command(
            tmp_path / f"landing{i}",
            tmp_path / f"dead{i}",
            f"{group}-{i}",
            "--share-group",
            group,
            "--max-delay",
            "0.1",
        )
        procs.append(spawn(cmd, env, tmp_path / f"gw{i}.log"))
    try:
        deadline = time.monotonic() + 300  # guards against a hung gateway only
        while not all("landing to" in (tmp_path / f"gw{i}.log").read_text() for i in (1, 2)):
            assert all(p.poll() is None for p in procs), (tmp_path / "gw1.log").read_text()
            assert time.monotonic() < deadline, "gateways never subscribed"
            time.sleep(0.05)
        sent: Counter[tuple[str, float]] = Counter()
        with Publisher("127.0.0.1", broker_port) as pub:
            for k in range(MESSAGES):
                meter = f"demand-{k % 100:03d}"
                ts = 1.39e9 + 1800.0 * (k // 100)
                pub.publish(topic_for("demand", meter), encode("demand", meter, [(ts, 1.0)], 1.0))
                sent[(meter, ts)] += 1
        dirs = [tmp_path / "landing1", tmp_path / "landing2"]
        deadline = time.monotonic() + 300
        while len(landed_readings(*dirs)) < MESSAGES:
            assert time.monotonic() < deadline, f"{len(landed_readings(*dirs))} landed"
            time.sleep(0.1)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)
    landed = Counter((m, ts) for _, m, ts, _ in landed_readings(*dirs))
    assert landed == sent  # each message once: none lost, none landed by both
    by_gateway = [len(landed_readings(d)) for d in dirs]
    assert min(by_gateway) > 0, by_gateway  # both gateways took a share
