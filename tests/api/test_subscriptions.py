"""graphql-ws subscriptions over a real websocket, fed by the real indexer following the chain."""

from __future__ import annotations

import json
import threading
from typing import Any

from websockets.sync.client import connect


def _follow(world: Any, stop: threading.Event) -> threading.Thread:
    from tests.api.conftest import follow

    return follow(world.node.url, world.db_url, world.market.deployment, world.redis_url, stop)


def test_subscribers_receive_blocks_reveals_consensus_and_settlements(world: Any) -> None:
    from tests.api.conftest import play_round

    url = world.api_url.replace("http", "ws") + "/graphql"
    subs = {
        "b": "subscription { newBlock { number hash } }",
        "r": 'subscription { forecastRevealed(feedId: "%s") { operator firstEpoch block } }',
        "c": 'subscription { consensusUpdated(feedId: "%s") { epoch consensus { value } } }',
        "s": 'subscription { epochSettled(feedId: "%s") { epoch cancelled } }',
    }
    stop = threading.Event()
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        for sid, q in subs.items():
            query = q % world.feed if "%s" in q else q
            ws.send(json.dumps({"id": sid, "type": "subscribe", "payload": {"query": query}}))
        t = _follow(world, stop)
        try:
            world.node.rpc("evm_mine")
            seen: dict[str, list[Any]] = {k: [] for k in subs}
            raw = ws.recv(timeout=30)
            # graphql-ws speaks text frames; a binary frame is dropped by browser clients.
            assert isinstance(raw, str), "subscription message sent as a binary frame"
            first = json.loads(raw)
            assert first["type"] == "next", first
            seen[first["id"]].append(first["payload"]["data"])
            play_round(world.node, world.market, world.feed, seed=7)
            while not (seen["r"] and seen["c"] and len(seen["s"]) >= 3):
                msg = json.loads(ws.recv(timeout=60))
                assert msg["type"] == "next", msg
                seen[msg["id"]].append(msg["payload"]["data"])
        finally:
            stop.set()
            t.join(timeout=10)
    assert seen["b"] and int(seen["b"][0]["newBlock"]["number"]) > world.block
    assert seen["c"][0]["consensusUpdated"]["consensus"]["value"] is not None
    assert all(s["epochSettled"]["cancelled"] is False for s in seen["s"])
