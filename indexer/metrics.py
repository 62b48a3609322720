"""Prometheus metrics of the indexer (served on settings.metrics_port by `gridcast index`)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

HEAD_BLOCK = Gauge("gridcast_indexer_head_block", "Chain head seen by the indexer")
INDEXED_BLOCK = Gauge("gridcast_indexer_indexed_block", "Last block committed to Postgres")
LAG_BLOCKS = Gauge("gridcast_indexer_lag_blocks", "Head minus indexed block")
EVENTS = Counter("gridcast_indexer_events", "Logs indexed")
EVENTS_PER_S = Gauge("gridcast_indexer_events_per_second", "Events/s of the last batch")
REORGS = Counter("gridcast_indexer_reorgs", "Chain reorganisations rolled back")
ROLLBACK_DEPTH = Gauge("gridcast_indexer_rollback_depth", "Depth of the last rollback in blocks")
RPC_ERRORS = Counter("gridcast_indexer_rpc_errors", "JSON-RPC faults by kind", ["kind"])
INDEXING_ERRORS = Counter("gridcast_indexer_indexing_errors", "Logs that could not be indexed")


def rpc_error(kind: str) -> None:
    RPC_ERRORS.labels(kind=kind).inc()
