"""The second-wave world of the API tests: anvil with the exchange, delivery and certificates
played (tests/indexer/second_wave.py), indexed into Postgres by the real indexer, the metered
leaves landed in the streaming table, and the API served by uvicorn."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from gridcast.node import AnvilNode

from .conftest import api_settings, index, scenario, serve


def _load(name: str) -> Any:
    # a `tests` package from site-packages shadows ours (see conftest): load by path
    path = Path(__file__).resolve().parent.parent / "indexer" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"gridcast_test_{name}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


sw = _load("second_wave")
# The window the streaming job would have written for the traded epoch, and two decoys: the same
# meter count with another total, and the same count and total with other values (another root).
LANDED = datetime(2014, 12, 1, 10, 0, tzinfo=UTC)
# The renewable epoch's window: the same readings, older, and linked to its truth the way the
# truth oracle links it (epoch_actuals.submission_tx), so only that link finds it first.
GREEN_LANDED = datetime(2014, 12, 1, 9, 30, tzinfo=UTC)
DECOYS = {
    datetime(2014, 12, 1, 9, 45, tzinfo=UTC): {**sw.ENERGY, "other/x": 6},
    datetime(2014, 12, 1, 10, 15, tzinfo=UTC): {**sw.ENERGY, "solar/a": 600, "solar/b": 700},
}


@dataclass
class GreenWorld:
    g: Any  # tests/indexer/second_wave.Green
    db_url: str
    redis_url: str
    api_url: str

    def index(self) -> int:
        return index(self.g.node, self.g.lm, self.db_url, self.redis_url)

    def gql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        r = httpx.post(
            f"{self.api_url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30,
        )
        body: dict[str, Any] = r.json()
        assert r.status_code == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


def land(db_url: str, g: Any) -> None:
    """Per-meter epoch energy as the streaming job writes it (epoch_meter_energy), and the
    renewable epoch's epoch actual marked as submitted in its truth's transaction."""
    rows = [(t, m, wh) for t in (LANDED, GREEN_LANDED) for m, wh in sw.ENERGY.items()]
    rows += [(t, m, wh) for t, energy in DECOYS.items() for m, wh in energy.items()]
    with psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.cursor().executemany(
            "INSERT INTO epoch_meter_energy (feed, epoch_start, meter, readings, mean_w, energy_wh)"
            " VALUES ('demand', %s, %s, 60, %s, %s)",
            [(t, m, wh * 4.0, wh) for t, m, wh in rows],
        )
        [(tx,)] = conn.execute(
            "SELECT submitted_tx FROM truths WHERE id = %s AND block_to IS NULL",
            (f"{g.feed}-{g.green_epoch}",),
        ).fetchall()
        conn.execute(
            "INSERT INTO epoch_actuals (feed, epoch_start, epoch_end, value, meter_count, "
            "reading_count, coverage, evidence_hash, closed_at, submitted_at, submission_tx) "
            "VALUES ('demand', %s, %s + interval '15 minutes', 0.1, %s, 300, 1.0, %s, now(), "
            "now(), %s)",
            (GREEN_LANDED, GREEN_LANDED, len(sw.ENERGY), "0x" + "00" * 32, tx[2:]),
        )


@pytest.fixture(scope="session")
def green_world(
    tmp_path_factory: pytest.TempPathFactory, fresh_database: Any, redis_url: str
) -> Iterator[GreenWorld]:
    from api.app import create_app
    from indexer.db.engine import upgrade

    db_url = fresh_database("gridcast_api_green")
    upgrade(db_url)
    state: Path = tmp_path_factory.mktemp("api-green")
    with AnvilNode() as node:
        g = sw.build(node, state)
        sw.trade(g, sw.consensus(g, scenario.play_round))
        sw.certify(g)
        sw.settle_renewable(g)
        index(node, g.lm, db_url, redis_url)
        land(db_url, g)
        app = create_app(api_settings(node, db_url, redis_url, state), deployment="green-test")
        with serve(app) as url:
            yield GreenWorld(g, db_url, redis_url, url)
