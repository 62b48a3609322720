"""Prometheus metrics of the API (one registry per app, so tests can build several apps)."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Histogram(
            "gridcast_api_request_seconds", "GraphQL request duration by operation",
            ["operation", "outcome"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )  # fmt: skip
        self.rejections = Counter(
            "gridcast_api_rejections_total", "Requests rejected before execution", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self.subscriptions = Gauge(
            "gridcast_api_subscriptions", "Open subscription streams", registry=self.registry
        )
        self.subscriptions_total = Counter(
            "gridcast_api_subscriptions_started_total", "Subscriptions started", ["field"],
            registry=self.registry,
        )  # fmt: skip

    def extension(self) -> type[SchemaExtension]:
        metrics = self

        class Timing(SchemaExtension):
            def on_operation(self) -> Iterator[None]:
                t0 = time.perf_counter()
                yield
                ec: Any = self.execution_context
                name = (ec.operation_name or "anonymous")[:64]
                # no document when parsing failed: operation_type would raise and replace the
                # parser's error with "No GraphQL document available"
                if ec.graphql_document is not None and ec.operation_type.value == "subscription":
                    return
                errors = getattr(ec, "errors", None) or (
                    ec.result.errors if ec.result is not None else None
                )
                metrics.requests.labels(name, "error" if errors else "ok").observe(
                    time.perf_counter() - t0
                )

        return Timing


async def counted(metrics: ApiMetrics, field: str, gen: AsyncIterator[Any]) -> AsyncIterator[Any]:
    metrics.subscriptions.inc()
    metrics.subscriptions_total.labels(field).inc()
    try:
        async for item in gen:
            yield item
    finally:
        metrics.subscriptions.dec()
