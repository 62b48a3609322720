"""Error masking: only the API's own errors reach clients with their text.

Anything else (a database error, a bug) is logged here with its traceback and answered as
"internal error" with a reference id, in every environment: development no longer returns SQL
text and bound parameters to whoever sends a query."""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionResult

from api.errors import ApiError, RetryableError

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


class TimedSchema(strawberry.Schema):
    """A schema whose HTTP executions are bounded in time: a query still running after
    ``timeout_s`` is cancelled (its statements with it) and answered with a TIMEOUT error."""

    timeout_s: float = 10.0

    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
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
