"""MQTT clients: a paho-mqtt 2 publisher that waits for QoS 1 acks, a lean MQTT v5 subscriber."""

from __future__ import annotations

import socket
import struct
import threading
import time
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


SESSION_EXPIRY_S = 7 * 24 * 3600  # how long the broker keeps a gateway's session while it is away


class Subscriber:
    """A persistent-session MQTT v5 subscriber: with a fixed client id the broker queues QoS 1
    messages while the gateway is down, so a restart loses nothing.

    With `manual_ack` a message is acknowledged only when the owner passes what `take_acks()`
    returned to `ack()` (the gateway: once the file holding the message is durable), so a message
    received but not yet landed when the process dies is redelivered, not lost. The client raises
    the broker's in-flight window to `receive_maximum` (MQTT v5 Receive Maximum; mosquitto honours
    it for v5 clients instead of its max_inflight_messages, 20): a gateway that acks per file
    holds thousands of messages in flight. `topic` may be a shared subscription
    (``$share/<group>/<filter>``): the broker then gives each message to one member of the group.

    Its own MQTT v5 reader, not paho's: paho costs ~60 us of Python per received message (a loop
    iteration, recv calls, a Properties and an MQTTMessage object per packet), more than the rest
    of the gateway together at fleet rates. This reads 256 KiB at a time and cuts the PUBLISH
    packets out of it in one tight loop (~2 us a message); `on_batch`, if given, takes all the
    messages of one read at once. It reconnects after a lost connection (same session);
    acknowledgements taken before that are dropped, since packet ids belong to one connection
    and the broker redelivers those messages on the new one."""

    def __init__(
        self,
        topic: str,
        on_message: Callable[[str, bytes], None] | None,
        client_id: str = "gridcast-gateway",
        host: str | None = None,
        port: int | None = None,
        manual_ack: bool = False,
        receive_maximum: int = 65_535,
        on_batch: Callable[[list[tuple[str, bytes]]], None] | None = None,
        keepalive: int = 30,
    ) -> None:
        s = get_settings()
        self.host, self.port = host or s.mqtt_host, port or s.mqtt_port
        self.topic = topic
        self.client_id = client_id
        self.manual_ack = manual_ack
        self.receive_maximum = receive_maximum
        self.keepalive = keepalive
        if on_batch is None:
            if on_message is None:
                raise ValueError("on_message or on_batch is required")
            per_message = on_message

            def on_batch(messages: list[tuple[str, bytes]]) -> None:
                for t, p in messages:
                    per_message(t, p)

        self._on_batch = on_batch
        self.subscribed = threading.Event()
        self._stopping = threading.Event()
        self._send_lock = threading.Lock()
        self._acks_lock = threading.Lock()
        self._acks: list[int] = []
        self._generation = 0
        self._thread: threading.Thread | None = None
        self._last_send = 0.0
        self._sock: socket.socket | None = None
        self._connect()

    # -- connection ---------------------------------------------------------------------------

    def _connect(self) -> None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=10)
        except OSError as exc:
            raise BrokerUnavailableError(self.host, self.port) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = self.client_id.encode()
        props = struct.pack("!BIBH", 0x11, SESSION_EXPIRY_S, 0x21, self.receive_maximum)
        body = (
            b"\x00\x04MQTT\x05\x00"  # protocol v5, flags: clean start off (resume the session)
            + struct.pack("!H", self.keepalive)
            + varint(len(props))
            + props
            + struct.pack("!H", len(cid))
            + cid
        )
        try:
            sock.sendall(b"\x10" + varint(len(body)) + body)
            kind, packet, rest = _read_packet(sock, b"")
        except OSError as exc:
            sock.close()
            raise BrokerUnavailableError(self.host, self.port) from exc
        if kind != 0x20 or len(packet) < 2 or packet[1] >= 0x80:
            sock.close()
            raise BrokerUnavailableError(self.host, self.port)
        topic = self.topic.encode()
        # SUBSCRIBE: packet id 1, no properties, subscription options = QoS 1.
        body = b"\x00\x01\x00" + struct.pack("!H", len(topic)) + topic + bytes([QOS])
        sock.settimeout(None)
        with self._send_lock:
            self._sock = sock
            self._generation += 1
            with self._acks_lock:
                self._acks = []
            self._send(b"\x82" + varint(len(body)) + body)
        self._rest = rest

    def _send(self, data: bytes) -> None:
        """Caller holds _send_lock."""
        assert self._sock is not None
        self._sock.sendall(data)
        self._last_send = time.monotonic()

    def _reconnect(self) -> bool:
        delay = 0.5
        while not self._stopping.is_set():
            try:
                self._connect()
                return True
            except BrokerUnavailableError:
                self._stopping.wait(delay)
                delay = min(delay * 2, 10.0)
        return False

    # -- acknowledgements -----------------------------------------------------------------

    def take_acks(self) -> tuple[int, list[int]]:
        """Ids of the messages handed over since the last call (manual_ack), tagged with their
        connection."""
        with self._acks_lock:
            acks, self._acks = self._acks, []
            return self._generation, acks

    def ack(self, taken: tuple[int, list[int]]) -> None:
        """PUBACK (v5, success: 0x40 2 id) each id of `taken`, all in one write."""
        generation, mids = taken
        if not mids:
            return
        blob = b"".join([_PUBACK.pack(0x40, 2, mid) for mid in mids])
        with self._send_lock:
            if generation != self._generation or self._sock is None:
                return  # ids of a lost connection: those messages come again
            try:
                self._send(blob)
            except OSError:
                pass  # the reader sees the loss and reconnects

    # -- the read loop ----------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self.loop_forever, name="mqtt-read", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """DISCONNECT (the session stays) without losing the acks sent just before: close() on a
        socket the broker is still writing to resets the connection, and the broker drops what
        it had not read yet (a gateway's last PUBACKs: those messages came again). So half-close,
        let the reader see the broker close its side, drain what is left, then close."""
        self._stopping.set()
        with self._send_lock:
            sock = self._sock
            if sock is not None:
                try:
                    sock.sendall(b"\xe0\x00")  # DISCONNECT
                    sock.shutdown(socket.SHUT_WR)  # FIN after everything sent before it
                except OSError:
                    pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)
        with self._send_lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            _drain(sock, STOP_DRAIN_S)
            sock.close()

    def loop_forever(self) -> None:
        while not self._stopping.is_set():
            sock = self._sock
            try:
                if sock is not None:
                    self._read(sock)
            except OSError:
                pass
            if self._stopping.is_set() or not self._reconnect():
                return

    def _read(self, sock: socket.socket) -> None:
        """Read until the connection ends; hand PUBLISH packets over a read at a time."""
        sock.settimeout(self.keepalive / 2)
        buf = self._rest
        on_batch, manual = self._on_batch, self.manual_ack
        while not self._stopping.is_set():
            try:
                data = sock.recv(1 << 18)
            except TimeoutError:
                data = None
            if data == b"" or self._stopping.is_set():
                return  # stopping: what came after DISCONNECT is unacked and comes again
            if time.monotonic() - self._last_send > self.keepalive / 2:
                with self._send_lock:
                    if self._sock is sock:
                        self._send(b"\xc0\x00")  # PINGREQ
            if data is None:
                continue
            buf = buf + data if buf else data
            messages, mids, pos, subacked = _publishes(buf)
            buf = buf[pos:]
            if subacked:
                self.subscribed.set()
            if messages:
                on_batch(messages)
            if mids:
                if manual:
                    with self._acks_lock:  # after the owner took the messages in
                        self._acks.extend(mids)
                else:
                    self.ack((self._generation, mids))


_PUBACK = struct.Struct("!BBH")
STOP_DRAIN_S = 5.0  # how long stop() waits for the broker to close its side


def _drain(sock: socket.socket, seconds: float) -> None:
    """Read and drop until the peer closes (or `seconds` pass): closing with unread data
    would reset the connection instead of ending it."""
    deadline = time.monotonic() + seconds
    try:
        while (left := deadline - time.monotonic()) > 0:
            sock.settimeout(left)
            if not sock.recv(1 << 16):
                return
    except OSError:
        pass


def varint(n: int) -> bytes:
    """MQTT's variable byte integer (remaining lengths, property lengths)."""
    out = bytearray()
    while True:
        n, byte = n >> 7, n & 0x7F
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _read_packet(sock: socket.socket, buf: bytes) -> tuple[int, bytes, bytes]:
    """One whole packet from `sock` (after `buf`): (type nibble << 4, body, bytes after it)."""
    while True:
        header = _header(buf, 0)
        if header is not None and len(buf) >= header[1] + header[2]:
            start, length = header[1], header[2]
            return buf[0] & 0xF0, buf[start : start + length], buf[start + length :]
        data = sock.recv(1 << 16)
        if not data:
            raise ConnectionError("broker closed the connection")
        buf += data


def _header(buf: bytes, pos: int) -> tuple[int, int, int] | None:
    """(first byte, start of the body, body length) of the packet at `pos`, None if cut off."""
    n = len(buf)
    length, shift, i = 0, 0, pos + 1
    while i < n:
        byte = buf[i]
        length |= (byte & 0x7F) << shift
        i += 1
        if not byte & 0x80:
            return buf[pos], i, length
        shift += 7
    return None


def _publishes(buf: bytes) -> tuple[list[tuple[str, bytes]], list[int], int, bool]:
    """The whole packets at the start of `buf`: ([(topic, payload)] of the PUBLISH packets, their
    QoS 1 packet ids, bytes consumed, whether a successful SUBACK was among them). PINGRESP is
    skipped; a refused subscription or a server DISCONNECT ends the connection. The common case
    (one-byte lengths) is inlined: this runs per message."""
    messages: list[tuple[str, bytes]] = []
    mids: list[int] = []
    subacked = False
    pos, n = 0, len(buf)
    while pos + 1 < n:
        first = buf[pos]
        second = buf[pos + 1]
        if second < 0x80:
            start, length = pos + 2, second
        else:
            header = _header(buf, pos)
            if header is None:
                break
            _, start, length = header
        end = start + length
        if end > n:
            break
        kind = first & 0xF0
        if kind == 0x30:
            tlen = (buf[start] << 8) | buf[start + 1]
            p = start + 2 + tlen
            topic = buf[start + 2 : p].decode()
            if first & 0x06:  # QoS 1 (the subscription's maximum)
                mids.append((buf[p] << 8) | buf[p + 1])
                p += 2
            plen = buf[p]
            if plen < 0x80:
                p += 1 + plen
            else:
                header = _header(buf, p - 1)  # properties length is a varint too
                assert header is not None
                p = header[1] + header[2]
            messages.append((topic, buf[p:end]))
        elif kind == 0x90:  # SUBACK: packet id, properties, then the reason code
            if buf[end - 1] >= 0x80:
                raise ConnectionError(f"subscription refused (reason {buf[end - 1]:#x})")
            subacked = True
        elif kind == 0xE0:
            raise ConnectionError("broker sent DISCONNECT")
        pos = end
    return messages, mids, pos, subacked
