"""Streaming fixtures: one local Spark session per test session, real Mosquitto, per-module DBs."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridcast.demo.broker import start_mosquitto
from gridcast.settings import get_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "mongo_wire: runs against the nx-27017 MongoDB-wire server, not a real mongod"
    )
    config.addinivalue_line("markers", "spark_cluster: starts a standalone Spark master + worker")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    from streaming.spark import spark_session

    session = spark_session("local[2]", app_name="gridcast-tests")
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """The Mosquitto broker from settings; fail loudly rather than skip when it is down."""
    s = get_settings()
    with socket.create_connection((s.mqtt_host, s.mqtt_port), timeout=5):
        pass
    return s.mqtt_host, s.mqtt_port


@pytest.fixture()
def broker_port(tmp_path: Path) -> Iterator[int]:
    """A private mosquitto (the project's settings): no other test's telemetry reaches it."""
    proc, port = start_mosquitto(tmp_path)
    yield port
    proc.terminate()
    proc.wait(10)
