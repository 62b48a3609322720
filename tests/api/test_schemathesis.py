"""Schemathesis in GraphQL mode against the running app: for every root field, generated queries
never cause a 5xx or an internal error, each is answered within the request bound (plus slack),
and the server is still healthy afterwards."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.limits import REQUEST_TIMEOUT_S


@pytest.fixture(scope="module")
def graphql_schema(world: Any) -> Any:
    return schemathesis.graphql.from_url(f"{world.api_url}/graphql")


schema = schemathesis.pytest.from_fixture("graphql_schema")


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_queries_never_cause_a_server_error(case: Any) -> None:
    response = case.call(timeout=REQUEST_TIMEOUT_S + 5)  # a slower answer raises
    assert response.status_code < 500, response.text
    for e in response.json().get("errors") or ():
        assert "internal error" not in e["message"], (case.body, e)


def test_server_healthy_after_fuzzing(world: Any) -> None:
    # runs after the generated cases (file order)
    assert httpx.get(f"{world.api_url}/health").json() == {"status": "ok"}
    r = httpx.post(f"{world.api_url}/graphql", json={"query": "{ _meta { deployment } }"})
    assert r.json() == {"data": {"_meta": {"deployment": "gridcast-test"}}}
