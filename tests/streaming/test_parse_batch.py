"""The gateway's batch validation (schema.parse_batch) decides every message exactly as the
per-message parse does: same accepted readings, same rejection reasons, input order kept."""

from __future__ import annotations

import json

import numpy as np
import pytest

from streaming.errors import InvalidTelemetry
from streaming.replay import MALFORMED_SAMPLES
from streaming.schema import encode, parse, parse_batch, topic_for

GOOD = {
    "v": 1,
    "feed": "solar",
    "meter": "m",
    "sent_at": 1.0,
    "readings": [{"ts": 1.3e9, "value": 1}],
}


def _variants() -> list[tuple[str, bytes]]:
    def msg(topic: str = "gridcast/telemetry/solar/m", **over: object) -> tuple[str, bytes]:
        return topic, json.dumps({**GOOD, **over}).encode()

    out = [
        msg(),
        msg(readings=[{"ts": 1.3e9, "value": True}]),  # a boolean is not a number
        msg(sent_at=False),
        msg(readings=[{"ts": "1.3e9", "value": 1}]),
        msg(readings=[{"ts": 1.0e12, "value": 1}]),  # milliseconds
        msg(readings=[]),
        msg(readings=[{"ts": 1.3e9}]),
        msg(readings=[{"ts": 1.3e9, "value": None}]),
        msg(v=2),
        msg(v=1.5),
        msg(meter=""),
        msg(meter=7),
        msg(meter="x" * 65, topic="gridcast/telemetry/solar/" + "x" * 65),
        msg(topic="gridcast/telemetry/demand/m"),
        msg(feed="household", topic="gridcast/telemetry/demand/m"),  # household is demand-side
        msg(feed="household", topic="gridcast/telemetry/household/m"),
        msg(feed="wind", topic="gridcast/telemetry/wind/m"),
        msg(sent_at=None),
        msg(extra={"nested": [1, 2]}),
        ("gridcast/telemetry/solar/m", json.dumps(GOOD, indent=2).encode()),  # spans lines
        ("gridcast/telemetry/solar/m", b"[1, 2]"),
        ("gridcast/telemetry/solar/m", b'{"v": 1, "sent_at": 1e400}'),
    ]
    out += [
        ("gridcast/telemetry/solar/m", body.replace(b"%s", b"m")) for _, body in MALFORMED_SAMPLES
    ]
    return out


def _one_by_one(topic: str, payload: bytes) -> tuple[str, object]:
    try:
        msg, ts, values = parse(topic, payload)
    except InvalidTelemetry as exc:
        return "rejected", exc.reason
    readings = [(float(t), float(v)) for t, v in zip(ts, values, strict=True)]
    return "accepted", (msg["feed"], msg["meter"], float(msg["sent_at"]), readings)


@pytest.mark.parametrize("seed", [1, 2])
def test_batch_parse_agrees_with_parse_message_by_message(seed: int) -> None:
    rng = np.random.default_rng(seed)
    variants = _variants()
    good = [
        (topic_for("household", f"h{i}"), encode("household", f"h{i}", [(1.3e9 + i, 0.5 * i)], 2.0))
        for i in range(40)
    ]
    # Mostly good messages with the odd bad one: slices Arrow cannot type get split.
    pool = good * 8 + variants
    picks = [pool[i] for i in rng.integers(0, len(pool), 500)] + variants
    topics, payloads = [p[0] for p in picks], [p[1] for p in picks]
    table, rejects = parse_batch(topics, payloads)
    got: dict[int, tuple[str, object]] = {i: ("rejected", exc.reason) for i, exc in rejects}
    for row in table.to_pylist():
        readings = [(r["ts"], r["value"]) for r in row["readings"]]
        got[row["index"]] = ("accepted", (row["feed"], row["meter"], row["sent_at"], readings))
    assert table.column("index").to_pylist() == sorted(table.column("index").to_pylist())
    assert got == {
        i: _one_by_one(t, p) for i, (t, p) in enumerate(zip(topics, payloads, strict=True))
    }
    assert {r for kind, r in got.values() if kind == "rejected"} >= {"bad_value", "bad_ts"}


def test_well_typed_batches_take_the_vectorised_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import streaming.schema as schema

    good = [
        (
            topic_for("solar", f"s{i}"),
            encode("solar", f"s{i}", [(1.3e9, 1.0), (1.3e9 + 1, 2.0)], 1.0),
        )
        for i in range(300)
    ]
    # Wrong in value only (Arrow types them fine): refused by the vectorised checks.
    bad = [
        ("gridcast/telemetry/demand/s1", good[1][1]),  # topic mismatch
        (good[0][0], encode("solar", "s0", [(1.0e12, 1.0)], 1.0)),  # milliseconds
    ]
    calls: list[str] = []
    real = schema.parse

    def counting(topic: str, payload: bytes) -> object:
        calls.append(topic)
        return real(topic, payload)

    monkeypatch.setattr(schema, "parse", counting)
    batch = good[:150] + bad + good[150:]
    table, rejects = parse_batch([b[0] for b in batch], [b[1] for b in batch])
    assert sorted((i, e.reason) for i, e in rejects) == [(150, "topic_mismatch"), (151, "bad_ts")]
    assert table.num_rows == 300
    assert len(calls) == 2  # only the refused messages went through parse()
