"""Schemathesis in GraphQL mode against the running app: generated queries never cause a 5xx."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings


@pytest.fixture(scope="module")
def graphql_schema(world: Any) -> Any:
    return schemathesis.graphql.from_url(f"{world.api_url}/graphql")


schema = schemathesis.pytest.from_fixture("graphql_schema")


@schema.parametrize()
@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_queries_never_cause_a_server_error(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, response.text
