"""OperatorAccuracy.mase: MAE scaled by the in-sample seasonal-naive MAE of each feed's settled
truth series. Checked against an independent computation in Python, on rows written to a real
Postgres (the seasonal and lag-1 cases, time travel, feeds without a scale) and through the API
on the chain the real indexer filled."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api.graphql.types.operator_accuracy import mase_statement

DAY = 86_400


def expected_mase(
    epoch_lengths: dict[str, int],
    truths: list[tuple[str, int, int]],
    forecasts: list[tuple[str, str, int]],
) -> dict[str, float]:
    """feed -> epoch length; (feed, epoch, settled truth); (operator, feed, absError)."""
    series: dict[str, dict[int, int]] = defaultdict(dict)
    for feed, epoch, value in truths:
        series[feed][epoch] = value
    scale: dict[str, float] = {}
    for feed, y in series.items():
        m = max(1, int(DAY / max(epoch_lengths[feed], 1) + 0.5))
        diffs = [abs(v - y[e - m]) for e, v in y.items() if e - m in y]
        if not diffs:
            diffs = [abs(v - y[e - 1]) for e, v in y.items() if e - 1 in y]
        if diffs and sum(diffs) > 0:
            scale[feed] = sum(diffs) / len(diffs)
    per_op: dict[str, list[float]] = defaultdict(list)
    for op, feed, err in forecasts:
        if feed in scale:
            per_op[op].append(err / scale[feed])
    return {op: sum(v) / len(v) for op, v in per_op.items()}


def _feed(fid: str, epoch_length: int, block: int = 1) -> Any:
    from indexer.models.indexer_entities import Feed

    return Feed(
        id=fid, block_from=block, block_to=None, region="r" + fid[-2:], metric="load_mw",
        resolution_seconds=epoch_length, genesis=0, epoch_length=epoch_length,
        epochs_per_round=3, reveal_window=1, lead_time=1, truth_timeout=1, dispute_window=1,
        decimals=0, max_forecasts_per_epoch=10, slash_bps=0, non_reveal_slash_bps=0,
        min_stake=0, reward_per_epoch=0, dispute_bond=0, tolerance=0, slash_threshold=0,
        paused=False, pool=0, params_from=0, registered_block=block, registered_tx="0x" + "0" * 64,
    )  # fmt: skip


def _truth(fid: str, epoch: int, value: int, block: int, status: str = "settled") -> Any:
    from indexer.models.indexer_entities import Truth

    return Truth(
        id=f"{fid}-{epoch}", block_from=block, block_to=None, feed_id=fid, epoch=epoch,
        value=value, evidence_hash="0x" + "0" * 64, reporter="0x" + "1" * 40, bond=0,
        status=status, submitted_block=block, submitted_tx="0x" + "0" * 64,
    )  # fmt: skip


def _forecast(fid: str, epoch: int, op: str, err: int | None, block: int, **kw: Any) -> Any:
    from indexer.models.indexer_entities import Forecast

    fields: dict[str, Any] = {
        "id": f"{fid}-{epoch}-{op}", "block_from": block, "block_to": None, "feed_id": fid,
        "epoch": epoch, "operator": op, "first_epoch": epoch, "commitment": "0x" + "0" * 64,
        "root": "0x" + "0" * 64, "weight": 1, "relayer": op, "committed_block": block,
        "committed_tx": "0x" + "0" * 64, "revealed": True, "value": 0, "lower": 0, "upper": 0,
        "scored": err is not None, "abs_error": None if err is None else Decimal(err),
    }  # fmt: skip
    fields.update(kw)
    return Forecast(**fields)


def _run(url: str, operators: list[str], block: int | None = None) -> dict[str, float]:
    eng = create_engine(url)
    params: dict[str, Any] = {"operators": operators}
    if block is not None:
        params["as_of_block"] = block
    with eng.connect() as c:
        rows = c.execute(mase_statement(block), params).mappings().all()
    eng.dispose()
    return {r["operator"]: r["mase"] for r in rows}


@pytest.fixture(scope="module")
def mase_db(fresh_database: Any) -> str:
    from indexer.db.engine import upgrade

    url = fresh_database("gridcast_mase")
    upgrade(url)
    return url


def test_mase_matches_an_independent_computation_seasonal_lag1_and_time_travel(
    mase_db: str,
) -> None:
    rng = random.Random(17)
    hourly, young, flat = "0x" + "a" * 64, "0x" + "b" * 64, "0x" + "c" * 64
    ops = ["0x" + c * 40 for c in "123"]
    lengths = {hourly: 3600, young: 12, flat: 3600}
    truths: list[tuple[str, int, int]] = []
    forecasts: list[tuple[str, str, int]] = []
    rows: list[Any] = [_feed(f, n) for f, n in lengths.items()]
    # hourly: 60 epochs of a daily shape + noise, one missing epoch (a gap, not a zero)
    for e in range(60):
        if e == 30:
            continue
        v = 1000 + int(300 * (e % 24 > 8)) + rng.randint(-40, 40)
        truths.append((hourly, e, v))
    # young: 5 epochs of 12 s (a day is 7200 epochs: no seasonal pair, the lag-1 scale applies)
    truths += [(young, e, 50 + 7 * e + rng.randint(0, 5)) for e in range(100, 105)]
    # flat: a constant series has no scale; its forecasts are left out
    truths += [(flat, e, 500) for e in range(30)]
    for feed, epoch, _v in truths:
        rows.append(_truth(feed, epoch, _v, block=10))
        for op in ops[:2] if feed != flat else ops:
            err = rng.randint(0, 120)
            rows.append(_forecast(feed, epoch, op, err, block=10))
            forecasts.append((op, feed, err))
    # not counted: a disputed (unsettled) truth, an unscored and an unrevealed forecast
    rows.append(_truth(hourly, 60, 99_999, block=10, status="disputed"))
    rows.append(_forecast(hourly, 60, ops[0], None, block=10))
    rows.append(_forecast(hourly, 61, ops[1], 9_999, block=10, revealed=False))
    eng = create_engine(mase_db)
    with Session(eng) as s:
        s.add_all(rows)
        s.commit()
    eng.dispose()

    want = expected_mase(lengths, truths, forecasts)
    got = _run(mase_db, ops)
    assert set(got) == {ops[0], ops[1]}  # ops[2] forecast only the flat feed: no MASE
    for op in (ops[0], ops[1]):
        assert got[op] == pytest.approx(want[op], rel=1e-9)
    # the seasonal scale differs from the lag-1 one here, so the check would catch a wrong lag
    hourly_only = [t for t in truths if t[0] == hourly]
    lag1 = expected_mase({hourly: 86_400}, hourly_only, [(ops[0], hourly, 100)])[ops[0]]
    seasonal = expected_mase({hourly: 3600}, hourly_only, [(ops[0], hourly, 100)])[ops[0]]
    assert abs(lag1 - seasonal) / seasonal > 0.05

    # time travel: at block 9 nothing is settled yet, so no operator has a MASE
    assert _run(mase_db, ops, block=9) == {}
    assert _run(mase_db, ops, block=10) == pytest.approx(got)


def test_mase_through_the_api_on_the_indexed_chain(world: Any) -> None:
    q = """{ feeds(first: 100) { id epochLength }
             truths(first: 1000, where: {status: "settled"}) { feedId epoch value }
             forecasts(first: 1000, where: {scored: true, revealed: true}) {
               operator feedId absError }
             operators(first: 100) { id accuracy { mase meanAbsError scored } } }"""
    r = world.gql(q)
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body.get("errors"), body
    d = body["data"]
    want = expected_mase(
        {f["id"]: int(f["epochLength"]) for f in d["feeds"]},
        [(t["feedId"], int(t["epoch"]), int(t["value"])) for t in d["truths"]],
        [(f["operator"], f["feedId"], int(f["absError"])) for f in d["forecasts"]],
    )
    assert want, "the played round settled no scaled forecast"
    got = {o["id"]: o["accuracy"]["mase"] for o in d["operators"] if o["accuracy"]}
    for op, value in want.items():
        assert got[op] == pytest.approx(value, rel=1e-9)
    assert all(got[op] is None for op in got if op not in want)
