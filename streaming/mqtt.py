"""Thin paho-mqtt 2 wrappers: a publisher that waits for QoS 1 acks, and a subscriber loop."""

from __future__ import annotations

import struct
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import PUBACK
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

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


class _BufferedSocket:
    """The broker socket read in large chunks. paho reads every packet with two or three small
    recv calls (command byte, length bytes, body), a system call each; this serves them from one
    256 KiB read. `pending()` (which paho asks of TLS sockets) tells paho's loop that buffered
    bytes remain, so it reads them without waiting in select()."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, bufsize: int) -> bytes:
        if self._pos >= len(self._buf):
            data = self._sock.recv(1 << 18)  # BlockingIOError propagates, as paho expects
            if not data:
                return b""
            self._buf, self._pos = data, 0
        end = min(self._pos + bufsize, len(self._buf))
        out = self._buf[self._pos : end]
        self._pos = end
        return out

    def pending(self) -> int:
        return len(self._buf) - self._pos

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _FastClient(mqtt.Client):
    """paho's client with buffered reads and acknowledgements sent many per write."""

    def _create_socket(self) -> Any:
        return _BufferedSocket(super()._create_socket())

    def ack_many(self, mids: list[int]) -> None:
        """PUBACKs for QoS 1 `mids` as one queued write (paho queues and wakes its loop once per
        packet otherwise). A v5 PUBACK without reason code means success: 0x40, 2, mid."""
        if mids:
            blob = b"".join(struct.pack("!BBH", 0x40, 2, mid) for mid in mids)
            self._packet_queue(PUBACK, blob, 0, 0)


SESSION_EXPIRY_S = 7 * 24 * 3600  # how long the broker keeps a gateway's session while it is away


class Subscriber:
    """A persistent-session MQTT v5 subscriber: with a fixed client id the broker queues QoS 1
    messages while the gateway is down, so a restart loses nothing.

    With `manual_ack` a message is acknowledged only when the owner calls `ack()` with the ids
    `take_acks()` returned (the gateway: once the file holding the message is durable), so a
    message received but not yet landed when the process dies is redelivered, not lost. MQTT v5
    lets the client raise the broker's in-flight window (Receive Maximum): mosquitto's default
    of 20 unacknowledged messages per v3.1.1 client would stall a gateway that acks per file.
    `topic` may be a shared subscription (``$share/<group>/<filter>``): the broker then gives
    each message to one member of the group."""

    def __init__(
        self,
        topic: str,
        on_message: Callable[[str, bytes], None],
        client_id: str = "gridcast-gateway",
        host: str | None = None,
        port: int | None = None,
        manual_ack: bool = False,
        receive_maximum: int = 65_535,
    ) -> None:
        self.subscribed = threading.Event()
        self._client = _FastClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
        self._client.max_inflight_messages_set(2000)
        self._client.max_queued_messages_set(0)
        self._acks: list[int] = []
        self._acks_lock = threading.Lock()

        def _on_connect(c: mqtt.Client, _u: object, _f: object, rc: object, _p: object) -> None:
            c.subscribe(topic, qos=QOS)

        def _on_subscribe(*_args: object) -> None:
            self.subscribed.set()

        def _on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
            on_message(msg.topic, bytes(msg.payload))
            if manual_ack:
                with self._acks_lock:  # after the owner took the message in
                    self._acks.append(msg.mid)

        self._client.on_connect = _on_connect
        self._client.on_subscribe = _on_subscribe
        self._client.on_message = _on_message
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        props.ReceiveMaximum = receive_maximum
        s = get_settings()
        host, port = host or s.mqtt_host, port or s.mqtt_port
        try:
            self._client.connect(host, port, keepalive=30, clean_start=False, properties=props)
        except OSError as exc:
            raise BrokerUnavailableError(host, port) from exc

    def take_acks(self) -> list[int]:
        """Ids of the messages handed to `on_message` since the last call (manual_ack)."""
        with self._acks_lock:
            acks, self._acks = self._acks, []
        return acks

    def ack(self, mids: list[int]) -> None:
        self._client.ack_many(mids)

    def start(self) -> None:
        self._client.loop_start()

    def loop_forever(self) -> None:
        self._client.loop_forever(retry_first_connection=True)

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()
