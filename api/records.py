"""Off-chain forecast records: authorised upload, commitment recomputation, verification against
the indexed commits and reveals, and an optional MongoDB mirror."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.auth import session_address
from api.errors import ForbiddenError, InvalidArgumentError
from gridcast.chain.commitments import Curve

log = logging.getLogger("gridcast.api")
COLUMNS = (
    "id, feed_id, operator, first_epoch, epochs, values, lowers, uppers, quantiles, model_hash, "
    "model_id, feature_snapshot_id, salt, root, commitments, uploaded_by, verified, "
    "reveal_verified, reason, created_at, updated_at"
)


def _hex32(name: str, value: str) -> bytes:
    v = value.lower()
    if len(v) != 66 or not v.startswith("0x"):
        raise InvalidArgumentError(f"`{name}` must be 0x + 64 hex digits, got {value!r}")
    try:
        return bytes.fromhex(v[2:])
    except ValueError as exc:
        raise InvalidArgumentError(f"`{name}` must be 0x + 64 hex digits, got {value!r}") from exc


async def upload(
    ctx: Any, inp: Any, values: list[int], lowers: list[int], uppers: list[int]
) -> Any:
    engine: AsyncEngine = ctx.engine
    caller = await session_address(
        engine, ctx.settings.session_secret, ctx.request.headers.get("authorization")
    )
    operator = inp.operator.lower()
    if len(operator) != 42 or not operator.startswith("0x"):
        raise InvalidArgumentError(f"`operator` must be an address, got {inp.operator!r}")
    if caller != operator:
        async with engine.connect() as conn:
            signer = (
                await conn.execute(
                    text("SELECT signer FROM operators WHERE id = :o AND block_to IS NULL"),
                    {"o": operator},
                )
            ).scalar()
        if signer is None or signer.lower() != caller:
            raise ForbiddenError(
                f"{caller} may not upload for operator {operator}: only the operator or its "
                "registered signer may"
            )
    try:
        curve = Curve(
            feed=_hex32("feedId", inp.feed_id), operator=operator, first_epoch=inp.first_epoch,
            values=values, lowers=lowers, uppers=uppers,
            model_hash=_hex32("modelHash", inp.model_hash), salt=_hex32("salt", inp.salt),
        )  # fmt: skip
    except ValueError as exc:
        raise InvalidArgumentError(str(exc)) from exc
    commitments = ["0x" + c.hex() for c in curve.commitments()]
    import json

    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text(
                    "INSERT INTO api_forecast_records (feed_id, operator, first_epoch, epochs, "
                    "values, lowers, uppers, quantiles, model_hash, model_id, feature_snapshot_id, "
                    "salt, root, commitments, uploaded_by) VALUES (:f, :o, :e, :n, "
                    "CAST(:v AS jsonb), CAST(:lo AS jsonb), CAST(:hi AS jsonb), "
                    "CAST(:q AS jsonb), :m, :mid, :fs, :s, :r, CAST(:c AS jsonb), :u) RETURNING id"
                ),
                {
                    "f": inp.feed_id.lower(),
                    "o": operator,
                    "e": inp.first_epoch,
                    "n": len(values),
                    "v": json.dumps(values),
                    "lo": json.dumps(lowers),
                    "hi": json.dumps(uppers),
                    "q": json.dumps(inp.quantiles or {}),
                    "m": inp.model_hash.lower(),
                    "mid": inp.model_id,
                    "fs": inp.feature_snapshot_id,
                    "s": inp.salt.lower(),
                    "r": "0x" + curve.root().hex(),
                    "c": json.dumps(commitments),
                    "u": caller,
                },  # fmt: skip
            )
        ).first()
    assert row is not None
    return await verify(ctx.state, int(row.id))


def _check(rec: dict[str, Any], onchain: list[dict[str, Any]]) -> tuple[Any, Any, str | None]:
    """(verified, reveal_verified, reason) of a record against its indexed forecast rows."""
    if not onchain:
        return None, None, "commit not indexed yet"
    by_epoch = {int(r["epoch"]): r for r in onchain}
    problems: list[str] = []
    for i, c in enumerate(rec["commitments"]):
        e = int(rec["first_epoch"]) + i
        r = by_epoch.get(e)
        if r is None:
            problems.append(f"epoch {e}: no on-chain commit")
        elif int(r["first_epoch"]) != int(rec["first_epoch"]) or r["root"] != rec["root"]:
            problems.append(f"epoch {e}: batch root {r['root']} != recomputed {rec['root']}")
        elif r["commitment"] != c:
            problems.append(f"epoch {e}: commitment {r['commitment']} != recomputed {c}")
    if problems:
        return False, None, "; ".join(problems)
    if not all(r["revealed"] for r in onchain):
        return True, None, None
    rproblems = []
    for i in range(int(rec["epochs"])):
        r = by_epoch[int(rec["first_epoch"]) + i]
        want = (
            rec["values"][i],
            rec["lowers"][i],
            rec["uppers"][i],
            rec["model_hash"],
            rec["salt"],
        )
        got = (r["value"], r["lower"], r["upper"], r["model_hash"], r["salt"])
        if tuple(str(x) for x in want) != tuple(str(x) for x in got):
            rproblems.append(f"epoch {int(rec['first_epoch']) + i}: revealed {got} != {want}")
    if rproblems:
        return True, False, "; ".join(rproblems)
    return True, True, None


async def verify(state: Any, record_id: int) -> dict[str, Any]:
    engine: AsyncEngine = state.engine
    async with engine.begin() as conn:
        rec = dict(
            (
                await conn.execute(
                    text(f"SELECT {COLUMNS} FROM api_forecast_records WHERE id = :i FOR UPDATE"),
                    {"i": record_id},
                )
            )
            .mappings()
            .one()
        )
        onchain = [
            dict(r)
            for r in (
                await conn.execute(
                    text(
                        "SELECT epoch, first_epoch, commitment, root, revealed, value, lower, "
                        "upper, model_hash, salt FROM forecasts WHERE block_to IS NULL AND "
                        "feed_id = :f AND operator = :o AND epoch >= :a AND epoch < :b"
                    ),
                    {
                        "f": rec["feed_id"],
                        "o": rec["operator"],
                        "a": rec["first_epoch"],
                        "b": int(rec["first_epoch"]) + int(rec["epochs"]),
                    },  # fmt: skip
                )
            ).mappings()
        ]
        verified, reveal_verified, reason = _check(rec, onchain)
        if (verified, reveal_verified, reason) != (
            rec["verified"],
            rec["reveal_verified"],
            rec["reason"],
        ):
            rec.update(verified=verified, reveal_verified=reveal_verified, reason=reason)
            await conn.execute(
                text(
                    "UPDATE api_forecast_records SET verified = :v, reveal_verified = :rv, "
                    "reason = :r, updated_at = now() WHERE id = :i"
                ),
                {"v": verified, "rv": reveal_verified, "r": reason, "i": record_id},
            )
    if state.mongo is not None:
        # Postgres is the record of truth; a Mongo outage must not fail an upload that is already
        # stored. The next verification of the record (on commit/reveal/reorg) mirrors it again.
        try:
            await asyncio.to_thread(state.mongo.mirror, rec)
        except Exception as exc:  # noqa: BLE001 - any pymongo failure is only logged
            log.warning("MongoDB mirror of record %s failed: %s", record_id, exc)
    return rec


REVERIFIER = "api_record_reverifier"  # this consumer's name in outbox_cursors
REVERIFY_CHANNELS = ("gridcast:forecastCommitted", "gridcast:forecastRevealed", "gridcast:reorg")


async def reverify(state: Any, channel: str, payload: dict[str, Any]) -> None:
    """Notification hook (any channel, any payload): catch up with the indexer's outbox."""
    await catch_up(state)


async def catch_up(state: Any) -> int:
    """Re-check the records that outbox rows past this consumer's durable cursor may have
    changed, then move the cursor; returns how many records were re-checked.

    Commits and reveals re-check the unverified records of their (feed, operator); a reorg, or a
    gap (rows pruned before this consumer read them, or its first run), re-checks every record.
    The cursor moves only after the checks, and a check is idempotent, so a consumer that was down
    or saw a batch of any size handles every row once (a crash in between repeats a harmless
    check)."""
    lock = getattr(state, "reverify_lock", None)
    if lock is None:
        lock = asyncio.Lock()
        state.reverify_lock = lock
    async with lock:
        engine: AsyncEngine = state.engine
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox_cursors (name, position) VALUES (:n, 0) "
                    "ON CONFLICT (name) DO NOTHING"
                ),
                {"n": REVERIFIER},
            )
            cursor = (
                await conn.execute(
                    text("SELECT position FROM outbox_cursors WHERE name = :n"), {"n": REVERIFIER}
                )
            ).scalar_one()
            bounds = (
                await conn.execute(text("SELECT min(position), max(position) FROM indexer_outbox"))
            ).one()
            oldest, top = bounds[0], bounds[1]
            if top is None or top <= cursor:
                return 0
            changed = (
                await conn.execute(
                    text(
                        "SELECT channel = 'gridcast:reorg' AS reorg, payload->>'feedId' AS f, "
                        "payload->>'operator' AS o FROM indexer_outbox WHERE position > :c AND "
                        "position <= :t AND channel = ANY(:ch) GROUP BY 1, 2, 3"
                    ),
                    {"c": cursor, "t": top, "ch": list(REVERIFY_CHANNELS)},
                )
            ).all()
            full = cursor < oldest - 1 or cursor == 0 or any(r.reorg for r in changed)
            ids: list[int] = []
            if full:
                rows = await conn.execute(text("SELECT id FROM api_forecast_records ORDER BY id"))
                ids = [r.id for r in rows]
            elif changed:
                rows = await conn.execute(
                    text(
                        "SELECT id FROM api_forecast_records WHERE (verified IS NULL OR "
                        "reveal_verified IS NULL) AND (feed_id, operator) IN (SELECT * FROM "
                        "unnest(CAST(:fs AS text[]), CAST(:os AS text[]))) ORDER BY id"
                    ),
                    {"fs": [r.f for r in changed], "os": [r.o for r in changed]},
                )
                ids = [r.id for r in rows]
        for i in ids:
            await verify(state, i)
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE outbox_cursors SET position = :p, updated_at = now() WHERE name = :n"),
                {"p": top, "n": REVERIFIER},
            )
        return len(ids)


class MongoMirror:
    """Copies each record (with its verification) to MongoDB when settings.mongo_url is set."""

    def __init__(self, url: str, database: str = "gridcast") -> None:
        import pymongo

        self.client: Any = pymongo.MongoClient(url, serverSelectionTimeoutMS=3000)
        self.coll = self.client[database]["forecast_records"]

    def mirror(self, rec: dict[str, Any]) -> None:
        doc = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in rec.items()}
        doc["_id"] = doc.pop("id")
        self.coll.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def close(self) -> None:
        self.client.close()
