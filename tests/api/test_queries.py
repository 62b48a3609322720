"""Query shapes against a Postgres filled by the real indexer from a real anvil chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event


def data(w: Any, query: str, variables: dict[str, Any] | None = None) -> Any:
    r = w.gql(query, variables)
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body.get("errors"), body["errors"]
    return body["data"]


def errors(w: Any, query: str, variables: dict[str, Any] | None = None) -> list[str]:
    r = w.gql(query, variables)
    assert r.status_code < 500, r.text
    return [e["message"] for e in r.json()["errors"]]


def test_single_and_list_fields_return_indexed_entities(world: Any) -> None:
    b = world.block
    d = data(world, f"{{ feeds(block: {{number: {b}}}) {{ id region decimals }} }}")
    ids = [f["id"] for f in d["feeds"]]
    assert world.feed in ids
    one = data(world, f'{{ feed(id: "{world.feed}", block: {{number: {b}}}) {{ id metric }} }}')
    assert one["feed"]["id"] == world.feed
    checksum = world.feed.upper().replace("0X", "0x")
    assert data(world, f'{{ feed(id: "{checksum}") {{ id }} }}')["feed"]["id"] == world.feed


def test_where_suffix_filters_and_or(world: Any) -> None:
    q = """query($w: Forecast_filter, $b: Int) { forecasts(where: $w, block: {number: $b},
           first: 1000) { id epoch operator value revealed } }"""
    b = world.block
    all_ = data(world, q, {"w": {"feedId": world.feed}, "b": b})["forecasts"]
    assert len(all_) == 9 and all(f["revealed"] for f in all_)
    epochs = sorted({int(f["epoch"]) for f in all_})
    gt = data(world, q, {"w": {"feedId": world.feed, "epoch_gt": str(epochs[0])}, "b": b})
    assert {int(f["epoch"]) for f in gt["forecasts"]} == set(epochs[1:])
    ops = sorted({f["operator"] for f in all_})
    inn = data(world, q, {"w": {"operator_in": ops[:2], "feedId": world.feed}, "b": b})
    assert {f["operator"] for f in inn["forecasts"]} == set(ops[:2])
    ors = data(world, q, {"w": {"or": [{"operator": ops[0]}, {"epoch": str(epochs[-1])}]}, "b": b})
    expect = {f["id"] for f in all_ if f["operator"] == ops[0] or int(f["epoch"]) == epochs[-1]}
    assert {f["id"] for f in ors["forecasts"]} == expect
    contains = data(world, q, {"w": {"id_contains": ops[1][2:12]}, "b": b})
    assert {f["operator"] for f in contains["forecasts"]} == {ops[1]}
    neg = data(world, q, {"w": {"and": [{"feedId": world.feed}, {"operator_not": ops[0]}]}, "b": b})
    assert len(neg["forecasts"]) == 6


def test_order_by_and_direction(world: Any) -> None:
    q = """query($d: OrderDirection, $b: Int) { forecasts(orderBy: value, orderDirection: $d,
           block: {number: $b}) { value } }"""
    asc = [int(f["value"]) for f in data(world, q, {"d": "asc", "b": world.block})["forecasts"]]
    desc = [int(f["value"]) for f in data(world, q, {"d": "desc", "b": world.block})["forecasts"]]
    assert asc == sorted(asc) and desc == sorted(desc, reverse=True) and len(asc) == 9


def test_cursor_paging_agrees_with_skip(world: Any) -> None:
    q = """query($first: Int!, $skip: Int!, $after: String, $b: Int) { forecasts(first: $first,
           skip: $skip, after: $after, orderBy: value, orderDirection: desc,
           block: {number: $b}) { id cursor } }"""
    by_skip = [
        data(world, q, {"first": 2, "skip": s, "b": world.block})["forecasts"]
        for s in (0, 2, 4, 6, 8)
    ]
    pages, after = [], None
    for _ in range(5):
        page = data(world, q, {"first": 2, "skip": 0, "after": after, "b": world.block})[
            "forecasts"
        ]
        pages.append(page)
        after = page[-1]["cursor"] if page else None
    assert [[f["id"] for f in p] for p in pages] == [[f["id"] for f in p] for p in by_skip]
    assert sum(len(p) for p in pages) == 9


def test_time_travel_answers_from_versions_as_of_the_block(world: Any) -> None:
    q = """query($b: Int) { forecasts(where: {feedId: "FEED"}, block: {number: $b}) {
           revealed value } }""".replace("FEED", world.feed)
    before = data(world, q, {"b": world.reveal_block - 1})["forecasts"]
    after = data(world, q, {"b": world.reveal_block + 5})["forecasts"]
    assert before and not any(f["revealed"] for f in before)
    assert all(f["value"] is None for f in before)
    assert any(f["revealed"] for f in after)


def test_block_not_indexed_is_a_clear_error(world: Any) -> None:
    msgs = errors(world, "{ feeds(block: {number: 99999999}) { id } }")
    assert "not indexed yet" in msgs[0]


def test_meta_reports_block_deployment_and_errors(world: Any) -> None:
    d = data(world, "{ _meta { block { number hash timestamp } deployment hasIndexingErrors } }")
    m = d["_meta"]
    assert m["block"]["number"] >= world.block and m["block"]["hash"].startswith("0x")
    assert m["deployment"] == "gridcast-test" and m["hasIndexingErrors"] is False
    pinned = data(world, f"{{ _meta(block: {{number: {world.block}}}) {{ block {{ number }} }} }}")
    assert pinned["_meta"]["block"]["number"] == world.block


def test_relations_resolve_feed_epochs_forecasts_and_operator_history(world: Any) -> None:
    d = data(
        world,
        f"""{{ feed(id: "{world.feed}", block: {{number: {world.block}}}) {{
        epochs(orderBy: epoch, first: 10) {{ id status consensus {{ value }}
          settlement {{ cancelled }}
          forecasts(orderBy: operator, first: 5) {{ operator revealed operatorEntity {{ id
            stake {{ active }} stakes(first: 5) {{ kind amount }}
            rewards(first: 5) {{ kind amount }}
            accuracy {{ scored }} }} }} }} }} }}""",
    )
    epochs = d["feed"]["epochs"]
    played = [e for e in epochs if e["forecasts"]]
    assert len(played) == 3
    for e in played:
        assert e["status"] == "settled" and e["consensus"] and e["settlement"]["cancelled"] is False
        assert len(e["forecasts"]) == 3
        for f in e["forecasts"]:
            op = f["operatorEntity"]
            assert op["id"] == f["operator"] and int(op["stake"]["active"]) > 0
            assert op["stakes"][0]["kind"] == "staked" and op["accuracy"]["scored"] >= 1


def test_nested_query_costs_a_bounded_number_of_statements(world: Any) -> None:
    engine = world.app.state.engine.sync_engine
    count = 0

    def on_exec(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        nonlocal count
        # The record re-verifier shares the engine and wakes on any notification on the session's
        # Redis (other worlds' indexers publish there too): its outbox/record statements are not
        # this query's.
        if any(t in statement for t in ("outbox", "api_forecast_records", "SELECT signer FROM")):
            return
        count += 1

    q = f"""{{ feeds(first: 5, block: {{number: {world.block}}}) {{ id epochs(first: 20) {{
        id consensus {{ value }} forecasts(first: 5) {{ id operatorEntity {{ id stake {{ active }}
        rewards(first: 5) {{ amount }} }} }} }} }} }}"""
    event.listen(engine, "before_cursor_execute", on_exec)
    try:
        data(world, q)
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)
    # feeds, epochs, consensus, forecasts, operators, stakes, rewards (+ checkpoint for `block`)
    assert count <= 8, count


def test_invalid_input_is_a_validation_error_not_a_5xx(world: Any) -> None:
    assert "malformed Forecast id" in errors(world, '{ forecast(id: "nope") { id } }')[0]
    assert "Cannot query field" in errors(world, "{ feeds { nope } }")[0]
    assert errors(world, '{ feeds(first: "ten") { id } }')
    assert "between 0 and 1000" in errors(world, "{ feeds(first: 1001) { id } }")[0]
    assert (
        "exceeds the limit"
        in errors(world, "{ feeds(first: 1000) { epochs(first: 1000) { id } } }")[0]
    )
    deep = "{ feeds(first: 1) { id " + "epochs(first: 1) { feed { " * 6 + "id" + " } }" * 6 + " } }"
    assert any("exceeds maximum operation depth" in m for m in errors(world, deep))
    assert "malformed cursor" in errors(world, '{ feeds(after: "!!") { id } }')[0]


def test_oversized_body_is_rejected_with_a_graphql_error(world: Any) -> None:
    r = world.gql("{ feeds { id } }" + " " * 300_000)
    assert r.status_code == 413 and "exceeds" in r.json()["errors"][0]["message"]


def test_health_ready_metrics(world: Any) -> None:
    import httpx

    assert httpx.get(f"{world.api_url}/health").json() == {"status": "ok"}
    r = httpx.get(f"{world.api_url}/ready")
    assert r.status_code in (200, 503) and "head" in r.json()
    m = httpx.get(f"{world.api_url}/metrics").text
    assert "gridcast_api_request_seconds" in m and "gridcast_api_subscriptions" in m
