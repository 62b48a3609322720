"""Faults a third-party client found (issue 18), each pinned by a regression test."""

from __future__ import annotations

from typing import Any


def _body(w: Any, query: str, variables: dict[str, Any] | None = None) -> Any:
    r = w.gql(query, variables)
    assert r.status_code < 500, r.text
    return r.json()


def test_uint256_filters_above_2_63_compare_as_numbers(world: Any) -> None:
    b = world.block
    ops = _body(world, f"{{ operators(block: {{number: {b}}}) {{ id totalRewards }} }}")
    assert not ops.get("errors"), ops
    rewards = {o["id"]: int(o["totalRewards"]) for o in ops["data"]["operators"]}
    got = _body(world, f"{{ stakes(block: {{number: {b}}}) {{ id active }} }}")
    stakes = {s["id"]: int(s["active"]) for s in got["data"]["stakes"]}
    split = "10000000000000000000"  # above 2^63, and some operators earned more than it
    assert 0 < sum(v >= int(split) for v in rewards.values()) < len(rewards)
    for bound in (split, "33129674339134826899", "999999999999999999999", str(2**255)):
        got = _body(
            world,
            f'{{ operators(where: {{totalRewards_gte: "{bound}"}}, block: {{number: {b}}}) '
            "{ id } }",
        )
        assert not got.get("errors"), got
        assert {o["id"] for o in got["data"]["operators"]} == {
            k for k, v in rewards.items() if v >= int(bound)
        }
        lt = _body(
            world,
            f'{{ stakes(where: {{active_lt: "{bound}"}}, block: {{number: {b}}}) {{ id }} }}',
        )
        assert not lt.get("errors"), lt
        assert {s["id"] for s in lt["data"]["stakes"]} == {
            k for k, v in stakes.items() if v < int(bound)
        }
    q = "query($v: [BigInt!], $b: Int) { stakes(where: {active_in: $v}, block: {number: $b}) {id} }"
    some = min(stakes.values())
    inn = _body(world, q, {"v": [str(some), str(2**200)], "b": b})
    assert {s["id"] for s in inn["data"]["stakes"]} == {k for k, v in stakes.items() if v == some}
    q = "query($v: BigInt) { forecasts(where: {epoch_gt: $v}) { id } }"  # a BIGINT column
    assert _body(world, q, {"v": str(2**70)}) == {"data": {"forecasts": []}}


def test_chunked_body_over_the_limit_is_413_not_500(world: Any) -> None:
    import httpx

    def chunks() -> Any:
        yield b'{"query": "{ feeds { id } }", "pad": "'
        for _ in range(80):
            yield b"x" * 65_536  # 5 MiB in all, no Content-Length: Transfer-Encoding: chunked
        yield b'"}'

    r = httpx.post(
        f"{world.api_url}/graphql", content=chunks(),
        headers={"content-type": "application/json"}, timeout=30,
    )  # fmt: skip
    assert r.status_code == 413, r.text
    assert r.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert httpx.get(f"{world.api_url}/health").status_code == 200


def _nested(op: str, depth: int) -> dict[str, Any]:
    w: dict[str, Any] = {"feedId": "0x00"}
    for _ in range(depth):
        w = {op: [w]}
    return w


def _literal(w: Any) -> str:
    if isinstance(w, dict):
        return "{" + ", ".join(f"{k}: {_literal(v)}" for k, v in w.items()) + "}"
    if isinstance(w, list):
        return "[" + ", ".join(_literal(v) for v in w) + "]"
    return f'"{w}"'


def test_and_or_nested_300_deep_is_a_clear_depth_error(world: Any) -> None:
    for op in ("and", "or"):
        w = _nested(op, 300)
        inline = _body(world, "{ forecasts(where: " + _literal(w) + ") { id } }")
        var = _body(world, "query($w: Forecast_filter) { forecasts(where: $w) { id } }", {"w": w})
        for got in (inline, var):
            assert got["data"] is None or got["data"].get("forecasts") is None, got
            msg = got["errors"][0]["message"]
            assert "nest" in msg and "deep" in msg, msg
            assert "No GraphQL document" not in msg
        shallow = _body(world, "{ forecasts(where: " + _literal(_nested(op, 9)) + ") { id } }")
        assert "deeper than 8 levels" in shallow["errors"][0]["message"]
    ok = _body(world, "{ forecasts(where: " + _literal(_nested("and", 8)) + ") { id } }")
    assert ok == {"data": {"forecasts": []}}


def test_development_mode_errors_carry_no_sql(world: Any) -> None:
    assert not world.settings.is_production
    # a NUL byte reaches the database driver, which refuses it: an unexpected (non-API) error
    got = _body(world, 'query($f: String) { forecasts(where: {feedId: $f}) { id } }',
                {"f": "0x\u0000"})  # fmt: skip
    msg = got["errors"][0]["message"]
    for leak in ("SELECT", "FROM", "forecasts.", "%(", "[SQL", "sqlalche.me", "parameters"):
        assert leak not in msg, msg
    assert "internal error" in msg
    # errors of the API's own tree still say what was wrong
    assert (
        "malformed Forecast id"
        in _body(world, '{ forecast(id: "x") { id } }')["errors"][0]["message"]
    )


def test_siwe_message_for_another_domain_uri_or_chain_is_refused(world: Any) -> None:
    import httpx
    from eth_account.messages import encode_defunct
    from siwe import SiweMessage

    acct = world.market.operators[0].account
    here = world.settings.api_url.removeprefix("http://")

    def attempt(domain: str, uri: str, chain_id: int = 31337) -> httpx.Response:
        nonce = httpx.get(f"{world.api_url}/auth/nonce").json()["nonce"]
        msg = SiweMessage(
            domain=domain, address=acct.address, uri=uri, version="1", chain_id=chain_id,
            nonce=nonce, issued_at="2026-01-01T00:00:00Z", statement="Sign in.",
        ).prepare_message()  # fmt: skip
        sig = "0x" + acct.sign_message(encode_defunct(text=msg)).signature.hex().removeprefix("0x")
        return httpx.post(f"{world.api_url}/auth/verify", json={"message": msg, "signature": sig})

    for domain, uri, chain, word in [
        ("evil.example", "https://evil.example", 31337, "domain"),
        (here, "https://evil.example/login", 31337, "uri"),
        ("evil.example", f"http://{here}", 31337, "domain"),
        (here, f"http://{here}", 1, "chain"),
    ]:
        r = attempt(domain, uri, chain)
        assert r.status_code == 401, (domain, uri, r.text)
        assert word in r.json()["errors"][0]["message"].lower()
    ok = attempt(here, f"http://{here}/graphql")
    assert ok.status_code == 200 and ok.json()["token"]


def _statements(
    w: Any, query: str, tables: tuple[str, ...] = ("indexed_blocks", "indexer_checkpoint")
) -> tuple[Any, int]:
    from sqlalchemy import event

    engine = w.app.state.engine.sync_engine
    count = 0

    def on_exec(_c: Any, _cur: Any, statement: str, *_: Any) -> None:
        nonlocal count  # the queries' statements (the record re-verifier shares the engine)
        count += any(t in statement for t in tables)

    event.listen(engine, "before_cursor_execute", on_exec)
    try:
        body = _body(w, query)
    finally:
        event.remove(engine, "before_cursor_execute", on_exec)
    return body, count


def test_thousands_of_meta_aliases_are_refused_before_execution(world: Any) -> None:
    fields = " ".join(f"m{i}: _meta {{ deployment }}" for i in range(9000))
    heavy = "{ " + fields + " }"
    assert 200_000 < len(heavy) < 256 * 1024
    got, statements = _statements(world, heavy)
    assert got["data"] is None and statements == 0
    assert "more than 10000 tokens" in got["errors"][0]["message"]
    # below the token limit the alias count refuses it
    some = "{ " + " ".join(f"m{i}: _meta {{ deployment }}" for i in range(101)) + " }"
    got, statements = _statements(world, some)
    assert "101 aliases exceed the limit of 100" in got["errors"][0]["message"]
    assert statements == 0
    ok = _body(world, "{ " + " ".join(f"m{i}: _meta {{ deployment }}" for i in range(50)) + " }")
    assert ok["data"]["m49"] == {"deployment": "gridcast-test"}


def test_fragments_spread_exponentially_are_counted_not_walked(world: Any) -> None:
    # F30 spreads F29 twice, ... : 2^30 selections of one field if walked
    frags = ["fragment F0 on Query { _meta { deployment } }"]
    frags += [f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, 31)]
    got, statements = _statements(world, "{ ...F30 } " + " ".join(frags))
    assert statements == 0
    assert "field selections (fragments expanded) exceed the limit" in got["errors"][0]["message"]
    small = _body(world, "{ ...F3 } " + " ".join(frags[:4]))
    assert small == {"data": {"_meta": {"deployment": "gridcast-test"}}}


def test_each_request_is_bounded_in_time(world: Any) -> None:
    import httpx

    from api.app import create_app
    from tests.api.conftest import api_settings, serve

    settings = api_settings(
        world.node, world.db_url, world.redis_url, world.settings.deployment_file.parent
    )
    # a bound no query can meet: every execution awaits the database
    app = create_app(settings, deployment="t", request_timeout_s=1e-6)
    with serve(app) as url:
        r = httpx.post(f"{url}/graphql", json={"query": "{ feeds { id } _meta { deployment } }"})
        assert r.status_code == 200, r.text
        err = r.json()["errors"][0]
        assert err["extensions"]["code"] == "TIMEOUT" and "longer than" in err["message"]
        assert httpx.get(f"{url}/health").json() == {"status": "ok"}
    assert _body(world, "{ _meta { deployment } }")["data"]["_meta"]["deployment"]


def test_answers_are_cached_until_the_indexer_moves(world: Any) -> None:
    import time

    from tests.api.conftest import index

    q = "{ _meta { block { number } } }"
    first, _ = _statements(world, q)
    again, statements = _statements(world, q)
    assert again == first and statements == 0  # served from the cache
    hub = world.app.state.hub
    before = hub.position
    world.node.rpc("evm_mine")
    head = index(world.node, world.market, world.db_url, world.redis_url)
    deadline = time.monotonic() + 30
    while hub.position == before and time.monotonic() < deadline:
        time.sleep(0.05)  # the hub reads the indexer's outbox on its wake-up
    assert hub.position != before
    moved, statements = _statements(world, q)
    assert (
        moved["data"]["_meta"]["block"]["number"]
        == head
        > first["data"]["_meta"]["block"]["number"]
    )
    assert statements > 0
    # documents that read what the API writes itself are never cached
    rec = "{ forecastRecords(first: 1) { id } }"
    _statements(world, rec, ("forecast_records",))
    assert _statements(world, rec, ("forecast_records",))[1] == 1


def test_aliases_of_meta_share_one_statement(world: Any) -> None:
    import secrets

    tag = secrets.token_hex(3)  # a document not in the answer cache
    q = "{ " + " ".join(f"m{tag}{i}: _meta {{ deployment block {{ hash }} }}" for i in range(60))
    got, statements = _statements(world, q + " }")
    assert len(got["data"]) == 60 and not got.get("errors")
    assert statements == 2  # the checkpoint and the block row, once each
