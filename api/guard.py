"""Error masking: only the API's own errors reach clients with their text.

Anything else (a database error, a bug) is logged here with its traceback and answered as
"internal error" with a reference id, in every environment: development no longer returns SQL
text and bound parameters to whoever sends a query."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionResult

from api.errors import ApiError, RetryableError
from api.limits import MAX_TOKENS

log = logging.getLogger("gridcast.api")


def _internal(error: GraphQLError) -> bool:
    """Errors raised while resolving a field (they have a path) that are not the API's own;
    syntax, validation and variable errors are the client's and keep their text."""
    original = error.original_error
    return (
        error.path is not None
        and original is not None
        and not isinstance(original, GraphQLError | ApiError)
    )


class MaskInternalErrors(MaskErrors):
    def __init__(self, production: bool) -> None:
        super().__init__(should_mask_error=_internal)
        self.production = production

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        ref = secrets.token_hex(4)
        exc = error.original_error
        log.error("internal error %s at %s", ref, error.path, exc_info=exc)
        kind = "" if self.production or exc is None else f" ({type(exc).__name__})"
        return GraphQLError(
            message=f"internal error{kind}: reference {ref} in the API log",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_SERVER_ERROR"},
        )


class QueryTimeoutError(RetryableError):
    code = "TIMEOUT"


_TOKEN = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""|"(?:[^"\\\n]|\\.)*"'  # block strings, strings
    r"|(?P<comment>#[^\n\r]*)"
    r"|[_A-Za-z][_0-9A-Za-z]*|-?\d[\d.eE+-]*|\.\.\.|[!$&()\[\]{}:=@|]"
)


def rough_tokens(query: str, stop: int | None = None) -> int:
    """GraphQL tokens of a document (comments not counted), by one regular expression at C
    speed: the parser needs ~15 ms per 1,000 tokens to reach its own limit, which let a flood of
    oversized documents keep the event loop busy. Never more than the parser counts."""
    tokens = (m for m in _TOKEN.finditer(query) if m.lastgroup is None)
    return sum(1 for _ in itertools.islice(tokens, stop))


# documents that read what the API itself writes (off-chain records) or ML registers (artifacts)
# change without a block being indexed: never cached
_UNCACHED = ("record", "modelartifact", "mutation", "subscription", "__")
CACHE_TTL_S = 0.5
CACHE_SIZE = 1024


class TimedSchema(strawberry.Schema):
    """A schema whose HTTP executions are bounded in time: a query still running after
    ``timeout_s`` is cancelled (its statements with it) and answered with a TIMEOUT error.

    With ``version`` set (the outbox position the pubsub hub has read up to), answers to
    chain-derived queries are cached per (version, document, variables, operation) for
    CACHE_TTL_S, then answered once more while one refresh runs (at most TTL plus one execution
    stale): a new indexed batch or reorg moves the version, and the TTL bounds staleness if a
    wake-up is late. Answers with errors are not cached."""

    timeout_s: float = 10.0
    max_tokens: int = MAX_TOKENS
    version: Callable[[], Any] | None = None
    _cache: OrderedDict[Any, tuple[float, ExecutionResult]]

    def _key(self, query: Any, kwargs: dict[str, Any]) -> Any:
        if self.version is None or not isinstance(query, str) or len(query) > 20_000:
            return None
        low = query.lower()
        if any(word in low for word in _UNCACHED):
            return None
        try:
            variables = json.dumps(kwargs.get("variable_values"), sort_keys=True)
        except (TypeError, ValueError):
            return None
        ops = kwargs.get("allowed_operation_types")
        return (self.version(), query, variables, kwargs.get("operation_name"),
                None if ops is None else frozenset(ops))  # fmt: skip

    async def _run(self, args: Any, kwargs: Any) -> ExecutionResult:
        try:
            return await asyncio.wait_for(super().execute(*args, **kwargs), self.timeout_s)
        except TimeoutError:
            return ExecutionResult(
                data=None,
                errors=[
                    QueryTimeoutError(
                        f"the query ran longer than {self.timeout_s:g} s and was cancelled: "
                        "ask for less"
                    )
                ],
            )

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        query = args[0] if args else kwargs.get("query")
        if isinstance(query, str) and len(query) > self.max_tokens:
            n = rough_tokens(query, self.max_tokens + 1)
            if n > self.max_tokens:  # refused without the (pure Python) parser's work
                return ExecutionResult(
                    data=None,
                    errors=[
                        GraphQLError(
                            f"Syntax Error: Document contains more than {self.max_tokens} "
                            "tokens. Parsing aborted."
                        )
                    ],
                )
        key = self._key(query, kwargs)
        if key is None:
            return await self._run(args, kwargs)
        cache: OrderedDict[Any, tuple[float, ExecutionResult]] = self.__dict__.setdefault(
            "_cache", OrderedDict()
        )
        hit = cache.get(key)
        if hit is not None:
            if hit[0] <= time.monotonic():
                # stale while revalidating: an entry of the same version that has outlived its
                # TTL is answered once more while one refresh runs in the background. Under load
                # the refresh's awaits queue behind every other request, and clients waiting on
                # it made the p99 at 50 connections (613 ms against a 13 ms p50). Staleness stays
                # bounded: the TTL plus one execution, and a new version is a new key.
                self._flight(key, args, kwargs, cache)
            return hit[1]
        # single flight: concurrent misses of one key share one execution, so a cold key under
        # load does not become one execution per waiting client
        return await asyncio.shield(self._flight(key, args, kwargs, cache))

    def _flight(
        self,
        key: Any,
        args: Any,
        kwargs: Any,
        cache: OrderedDict[Any, tuple[float, ExecutionResult]],
    ) -> asyncio.Future[ExecutionResult]:
        """The one execution of `key` in flight (started if there is none); it stores its
        answer in `cache` when it has no errors."""
        inflight: dict[Any, asyncio.Future[ExecutionResult]] = self.__dict__.setdefault(
            "_inflight", {}
        )
        task = inflight.get(key)
        if task is not None:
            return task
        task = asyncio.ensure_future(self._run(args, kwargs))
        inflight[key] = task

        def done(t: asyncio.Future[ExecutionResult], k: Any = key) -> None:
            inflight.pop(k, None)
            if t.cancelled() or t.exception() is not None:
                return
            result = t.result()
            if not result.errors and isinstance(result, ExecutionResult):
                # the TTL runs from the answer, not from the request (a slow execution under
                # load would otherwise store entries that are already nearly expired)
                cache[k] = (time.monotonic() + CACHE_TTL_S, result)
                cache.move_to_end(k)
                if len(cache) > CACHE_SIZE:
                    cache.popitem(last=False)

        task.add_done_callback(done)
        return task
