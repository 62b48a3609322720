"""Thin paho-mqtt 2 wrappers: a publisher that waits for QoS 1 acks, and a subscriber loop."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gridcast.settings import get_settings
from streaming.errors import BrokerUnavailableError

QOS = 1  # at-least-once end to end; duplicates are removed downstream by (feed, meter, ts).


def _client(client_id: str, clean: bool) -> mqtt.Client:
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean,
        protocol=mqtt.MQTTv311,
    )
    client.max_inflight_messages_set(2000)
    client.max_queued_messages_set(0)
    return client


def _connect(client: mqtt.Client, host: str | None, port: int | None) -> None:
    s = get_settings()
    try:
        client.connect(host or s.mqtt_host, port or s.mqtt_port, keepalive=30)
    except OSError as exc:
        raise BrokerUnavailableError(host or s.mqtt_host, port or s.mqtt_port) from exc


class Publisher:
    """Publishes with QoS 1 from a background network loop."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        self._client = _client(f"gridcast-replay-{uuid.uuid4().hex[:8]}", clean=True)
        _connect(self._client, host, port)
        self._client.loop_start()
        self._pending: list[mqtt.MQTTMessageInfo] = []

    def publish(self, topic: str, payload: bytes) -> None:
        info = self._client.publish(topic, payload, qos=QOS)
        self._pending.append(info)
        if len(self._pending) >= 1000:
            self.flush()

    def flush(self, timeout: float = 60.0) -> None:
        for info in self._pending:
            info.wait_for_publish(timeout)
        self._pending.clear()

    def close(self) -> None:
        self.flush()
        self._client.loop_stop()
        self._client.disconnect()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Subscriber:
    """A persistent-session subscriber: with a fixed client id the broker queues QoS 1 messages
    while the gateway is down, so a restart loses nothing."""

    def __init__(
        self,
        topic: str,
        on_message: Callable[[str, bytes], None],
        client_id: str = "gridcast-gateway",
        host: str | None = None,
        port: int | None = None,
    ) -> None:
        self.subscribed = threading.Event()
        self._client = _client(client_id, clean=False)

        def _on_connect(c: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
            c.subscribe(topic, qos=QOS)

        def _on_subscribe(*_args: object) -> None:
            self.subscribed.set()

        def _on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            on_message(msg.topic, bytes(msg.payload))

        self._client.on_connect = _on_connect
        self._client.on_subscribe = _on_subscribe
        self._client.on_message = _on_message
        _connect(self._client, host, port)

    def start(self) -> None:
        self._client.loop_start()

    def loop_forever(self) -> None:
        self._client.loop_forever(retry_first_connection=True)

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
