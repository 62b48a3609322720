"""`/ready` follows the indexer's lag behind the chain head: 503 while the indexer is more than
`ready_lag_blocks` behind, 200 once it has caught up."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import index


def _ready(world: Any) -> httpx.Response:
    return httpx.get(f"{world.api_url}/ready", timeout=10)


def test_ready_is_503_while_the_indexer_lags_and_200_after_catching_up(world: Any) -> None:
    lag = world.settings.ready_lag_blocks
    caught_up = index(world.node, world.market, world.db_url, world.redis_url)
    r = _ready(world)
    assert r.status_code == 200, r.text
    assert r.json() == {"ready": True, "indexed": caught_up, "head": caught_up, "maxLag": lag}

    world.node.rpc("anvil_mine", [hex(lag + 1)])  # new blocks the indexer has not seen
    r = _ready(world)
    assert r.status_code == 503, r.text
    assert r.json() == {
        "ready": False, "indexed": caught_up, "head": caught_up + lag + 1, "maxLag": lag
    }  # fmt: skip

    head = index(world.node, world.market, world.db_url, world.redis_url)
    assert head == caught_up + lag + 1
    r = _ready(world)
    assert r.status_code == 200 and r.json()["indexed"] == head, r.text


def test_ready_tolerates_a_lag_within_the_limit(world: Any) -> None:
    lag = world.settings.ready_lag_blocks
    caught_up = index(world.node, world.market, world.db_url, world.redis_url)
    world.node.rpc("anvil_mine", [hex(lag)])
    r = _ready(world)
    assert r.status_code == 200, r.text
    assert r.json()["head"] - r.json()["indexed"] == lag and r.json()["indexed"] == caught_up
    index(world.node, world.market, world.db_url, world.redis_url)
