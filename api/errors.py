"""The API's error tree. Every rejection reaches the client as a GraphQL error, never a 5xx."""

from __future__ import annotations

from graphql import GraphQLError

from gridcast import errors as base


class ApiError(GraphQLError, base.GridcastError):
    """Base of the API's errors (on the project's tree); ``code`` goes to ``extensions.code``."""

    code = "BAD_REQUEST"

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": self.code})


class RetryableError(ApiError, base.RetryableError):
    code = "RETRYABLE"


class NonRetryableError(ApiError, base.NonRetryableError):
    code = "BAD_REQUEST"


class BlockNotIndexedError(NonRetryableError):
    code = "BLOCK_NOT_INDEXED"


class InvalidArgumentError(NonRetryableError):
    code = "BAD_USER_INPUT"


class AuthError(NonRetryableError):
    code = "UNAUTHENTICATED"


class ForbiddenError(NonRetryableError):
    code = "FORBIDDEN"
