"""The MongoDB alert sink, exercised over the MongoDB wire protocol against nx-27017 (a
pure-Python wire server backed by SQLite), not a real mongod."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from pymongo import MongoClient

from gridcast.services import libpq_url
from indexer.db.engine import upgrade
from streaming.sinks import write_alerts_to_mongo

pytestmark = pytest.mark.mongo_wire


def test_alert_sink_upserts_alerts_idempotently(nx_mongo: str, fresh_database: Any) -> None:
    db = fresh_database("stream_mongo")
    upgrade(db)
    with psycopg.connect(libpq_url(db)) as conn:
        conn.execute(
            "INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id,"
            " created_at) VALUES"
            " ('solar', 'spike', 'solar-001', to_timestamp(1306944000), 12.5,"
            "  '{\"window_median\": 1.2}', 3, now()),"
            " ('solar', 'late', 'solar-002', to_timestamp(1306943700), 1.0, '{}', 3, now()),"
            " ('demand', 'stuck', 'demand-004', to_timestamp(1388966400), 410.0, '{}', 3, now()),"
            " ('demand', 'stuck', 'demand-004', to_timestamp(1388970000), 410.0, '{}', 4, now())"
        )
    assert write_alerts_to_mongo(libpq_url(db), nx_mongo, 3) == 3
    assert write_alerts_to_mongo(libpq_url(db), nx_mongo, 3) == 3  # a replayed batch
    client: Any = MongoClient(nx_mongo, serverSelectionTimeoutMS=5000)
    try:
        alerts = client.get_default_database().stream_alerts
        assert sorted(d["key"] for d in alerts.find({})) == [
            "demand|stuck|demand-004|1388966400.000",
            "solar|late|solar-002|1306943700.000",
            "solar|spike|solar-001|1306944000.000",
        ]
        spike = alerts.find_one({"rule": "spike"})
        assert spike["value"] == 12.5 and spike["detail"] == {"window_median": 1.2}
    finally:
        client.close()
