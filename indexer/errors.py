"""The indexer's errors, on the project's error tree (retry the first kind, stop on the second)."""

from __future__ import annotations

from gridcast.errors import GridcastError, NonRetryableError, RetryableError

__all__ = [
    "GridcastError",
    "NonRetryableError",
    "RangeTooLargeError",
    "ReorgTooDeepError",
    "RetryableError",
    "RpcError",
]


class RpcError(RetryableError):
    """A transient JSON-RPC failure; ``kind`` labels the metric (rate_limit, server, ...)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {message}")


class RangeTooLargeError(RpcError):
    """The node refused a log range (too many results / response too large / timeout): halve it."""


class ReorgTooDeepError(NonRetryableError):
    """The chain reorganised below the finality depth: the indexed data cannot be rolled back."""
