"""A hypothesis strategy over the live schema (hypothesis-graphql): generated queries, valid and
invalid, never get a 5xx or an internal error, each is answered within the request bound, and the
server is healthy afterwards.

Examples per run come from a hypothesis profile named by ``GRIDCAST_API_FUZZ`` (default
``api-fuzz-short``; ``api-fuzz-long`` for a longer hunt)."""

from __future__ import annotations

import os
from typing import Any

import httpx
from graphql import build_schema as sdl_schema
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, nodes, queries

from api.limits import REQUEST_TIMEOUT_S

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": list(HealthCheck),
    "database": None,
}
settings.register_profile(
    "api-fuzz-short",
    max_examples=25,
    phases=[Phase.explicit, Phase.generate],
    **_COMMON,
)
settings.register_profile("api-fuzz-long", max_examples=2000, **_COMMON)
PROFILE = settings.get_profile(os.environ.get("GRIDCAST_API_FUZZ", "api-fuzz-short"))

# an answer later than the server's own bound plus slack fails the test (httpx raises)
CLIENT_TIMEOUT = httpx.Timeout(REQUEST_TIMEOUT_S + 5)

BIGINTS = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**260), st.sampled_from([0, 2**63, 2**256 - 1])
).map(lambda n: nodes.String(str(n)))
SCALARS = {"BigInt": BIGINTS, "JSON": st.just(nodes.String("{}")), "DateTime": st.just(
    nodes.String("2026-01-01T00:00:00+00:00"))}  # fmt: skip


def _schema(world: Any) -> Any:
    from api.graphql.schema import build_schema

    return sdl_schema(build_schema().as_str())


def _check(world: Any, client: httpx.Client, query: str) -> None:
    r = client.post(f"{world.api_url}/graphql", json={"query": query})
    assert r.status_code < 500, (query, r.text)
    body = r.json()
    for e in body.get("errors") or ():
        assert "internal error" not in e["message"], (query, e)


def _run(world: Any, strategy: Any) -> None:
    with httpx.Client(timeout=CLIENT_TIMEOUT) as client:

        @PROFILE
        @given(query=strategy)
        def fuzz(query: str) -> None:
            _check(world, client, query)

        fuzz()
        assert client.get(f"{world.api_url}/health").json() == {"status": "ok"}
        ok = client.post(f"{world.api_url}/graphql", json={"query": "{ _meta { deployment } }"})
        assert ok.json() == {"data": {"_meta": {"deployment": "gridcast-test"}}}


def test_generated_valid_queries_never_fail_internally(world: Any) -> None:
    _run(world, queries(_schema(world), custom_scalars=SCALARS))


def test_generated_invalid_queries_are_client_errors(world: Any) -> None:
    _run(world, queries(_schema(world), custom_scalars=SCALARS, mode=Mode.NEGATIVE))
