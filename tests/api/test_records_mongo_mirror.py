"""The MongoDB mirror of off-chain forecast records.

A MongoDB-wire test: it runs against nx-27017 (a pure-Python MongoDB wire-protocol server backed
by SQLite, from PyPI), not a real mongod. The API is started with ``GRIDCAST_MONGO_URL`` pointing
at it, records are uploaded through the real SIWE flow, and the mirrored documents must carry
the same verification as the Postgres rows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pymongo import MongoClient
from sqlalchemy import create_engine, text

from api.client import upload_record
from gridcast.chain.commitments import Curve
from tests.api.conftest import api_settings, serve

pytestmark = pytest.mark.mongo_wire


@pytest.fixture(scope="module")
def mongo_api(world: Any, nx_mongo: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second API on the shared world's database, configured through GRIDCAST_MONGO_URL."""
    from api.app import create_app

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRIDCAST_MONGO_URL", nx_mongo)
        settings = api_settings(
            world.node, world.db_url, world.redis_url, world.settings.deployment_file.parent
        )
    assert settings.mongo_url == nx_mongo
    with serve(create_app(settings, deployment="gridcast-mongo-test")) as url:
        yield url


def _pg_row(world: Any, record_id: str) -> dict[str, Any]:
    eng = create_engine(world.db_url)
    try:
        with eng.connect() as c:
            row = c.execute(
                text(
                    "SELECT id, feed_id, operator, first_epoch, root, commitments, verified, "
                    "reveal_verified, reason FROM api_forecast_records WHERE id = :i"
                ),
                {"i": int(record_id)},
            )
            return dict(row.mappings().one())
    finally:
        eng.dispose()


def _mongo_doc(nx_mongo: str, record_id: str) -> dict[str, Any]:
    client: Any = MongoClient(nx_mongo, serverSelectionTimeoutMS=5000)
    try:
        doc = client["gridcast"]["forecast_records"].find_one({"_id": int(record_id)})
        assert doc is not None, f"record {record_id} was not mirrored"
        return dict(doc)
    finally:
        client.close()


def _assert_mirrors(world: Any, nx_mongo: str, record_id: str) -> dict[str, Any]:
    pg = _pg_row(world, record_id)
    doc = _mongo_doc(nx_mongo, record_id)
    for key in ("feed_id", "operator", "first_epoch", "root", "commitments", "verified",
                "reveal_verified", "reason"):  # fmt: skip
        assert doc[key] == pg[key], key
    return doc


def test_verified_upload_lands_in_mongo_with_the_postgres_verification(
    world: Any, nx_mongo: str, mongo_api: str
) -> None:
    curve: Curve = world.round["curves"][2]
    op = next(o for o in world.market.operators if o.address == curve.operator)
    rec = upload_record(mongo_api, op.account, curve, model_id="mongo-mirror")
    assert rec["verified"] is True and rec["revealVerified"] is True
    doc = _assert_mirrors(world, nx_mongo, rec["id"])
    assert doc["verified"] is True and doc["reveal_verified"] is True and doc["reason"] is None
    assert doc["model_id"] == "mongo-mirror" and doc["values"] == curve.values
    assert doc["uploaded_by"] == op.address.lower()


def test_mismatching_upload_lands_in_mongo_unverified_with_the_reason(
    world: Any, nx_mongo: str, mongo_api: str
) -> None:
    curve: Curve = world.round["curves"][0]
    op = next(o for o in world.market.operators if o.address == curve.operator)
    lowers = [v - 1 for v in curve.lowers]
    forged = Curve(curve.feed, curve.operator, curve.first_epoch, curve.values, lowers,
                   curve.uppers, curve.model_hash, curve.salt)  # fmt: skip
    rec = upload_record(mongo_api, op.account, forged)
    assert rec["verified"] is False
    doc = _assert_mirrors(world, nx_mongo, rec["id"])
    assert doc["verified"] is False and doc["reveal_verified"] is None
    assert "root" in doc["reason"]
