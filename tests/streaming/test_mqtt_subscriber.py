"""The gateway's MQTT v5 reader (streaming.mqtt.Subscriber): packets cut anywhere by the socket
are reassembled, and a lost connection neither loses a message nor acks one twice."""

from __future__ import annotations

import socket
import struct
import threading
import time

from streaming.mqtt import Publisher, Subscriber, _publishes, varint


def _publish_packet(topic: str, payload: bytes, mid: int | None, props: bytes = b"") -> bytes:
    t = topic.encode()
    var = struct.pack("!H", len(t)) + t
    if mid is not None:
        var += struct.pack("!H", mid)
    var += varint(len(props)) + props
    first = 0x32 if mid is not None else 0x30
    return bytes([first]) + varint(len(var) + len(payload)) + var + payload


def test_reader_reassembles_packets_cut_at_every_byte() -> None:
    long_props = b"\x26" + b"\x00\x01k" + struct.pack("!H", 200) + b"v" * 200  # user property
    packets = [
        (b"\x90\x04\x00\x01\x00\x01", None),  # SUBACK, granted QoS 1
        (_publish_packet("gridcast/telemetry/solar/a", b'{"x":1}', 7), ("a", b'{"x":1}', 7)),
        (_publish_packet("gridcast/telemetry/solar/b", b"y" * 300, 8), ("b", b"y" * 300, 8)),
        (b"\xd0\x00", None),  # PINGRESP
        (_publish_packet("gridcast/telemetry/solar/c", b"z", None), ("c", b"z", None)),
        (_publish_packet("gridcast/telemetry/solar/d", b"w", 9, long_props), ("d", b"w", 9)),
    ]
    stream = b"".join(p for p, _ in packets)
    published = [e for _, e in packets if e is not None]
    expected = [(f"gridcast/telemetry/solar/{m}", body) for m, body, _ in published]
    expected_mids = [mid for _, _, mid in published if mid is not None]
    for cut in range(len(stream) + 1):
        got, mids, subacked = [], [], False
        buf = b""
        for chunk in (stream[:cut], stream[cut:]):
            buf += chunk
            messages, ids, pos, sub = _publishes(buf)
            buf = buf[pos:]
            got += messages
            mids += ids
            subacked |= sub
        assert buf == b"", cut
        assert got == expected, cut
        assert mids == expected_mids, cut
        assert subacked


def _take_acks(sub: Subscriber, count: int) -> tuple[int, list[int]]:
    """All `count` ids of one connection. The reader records a read's ids only once `on_batch`
    has returned (so nothing is acked before its owner holds it): the last batch's messages can
    be seen before their ids are there, so take until all have come."""
    generation, ids = sub.take_acks()
    deadline = time.monotonic() + 30
    while len(ids) < count:
        assert time.monotonic() < deadline, len(ids)
        time.sleep(0.02)
        more = sub.take_acks()
        assert more[0] == generation
        ids += more[1]
    assert len(ids) == count
    return generation, ids


def test_lost_connection_redelivers_unacked_messages_and_drops_stale_acks(broker_port: int) -> None:
    got: list[bytes] = []
    lock = threading.Lock()

    def on_batch(messages: list[tuple[str, bytes]]) -> None:
        with lock:
            got.extend(p for _, p in messages)

    sub = Subscriber(
        "gridcast/test/#", None, "reconnect-test", "127.0.0.1", broker_port, True, 65_535, on_batch
    )
    sub.start()
    try:
        assert sub.subscribed.wait(10)
        with Publisher("127.0.0.1", broker_port) as pub:
            for i in range(500):
                pub.publish("gridcast/test/m", str(i).encode())
        deadline = time.monotonic() + 60
        while len(got) < 500:
            assert time.monotonic() < deadline, len(got)
            time.sleep(0.02)
        stale = _take_acks(sub, 500)
        # The connection drops before the ids are acked: the broker must send all 500 again,
        # and the ids taken on the old connection must not ack anything on the new one.
        assert sub._sock is not None
        sub._sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 60
        while len(got) < 1000:
            assert time.monotonic() < deadline, len(got)
            time.sleep(0.02)
        sub.ack(stale)  # ignored: wrong connection
        fresh = _take_acks(sub, 500)
        assert fresh[0] != stale[0]
        assert sorted(int(p) for p in got[500:]) == list(range(500))
        sub.ack(fresh)
    finally:
        sub.stop()
    # Acked now: a new connection of the same session gets nothing more.
    again: list[bytes] = []
    sub = Subscriber(
        "gridcast/test/#", lambda _t, p: again.append(p), "reconnect-test", "127.0.0.1", broker_port
    )
    sub.start()
    try:
        assert sub.subscribed.wait(10)
        with Publisher("127.0.0.1", broker_port) as pub:
            pub.publish("gridcast/test/m", b"last")
        deadline = time.monotonic() + 60
        while not again:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        sub.stop()
    assert again == [b"last"]
