"""The project's one error tree (the root of the core: it imports nothing of the project).

``GridcastError`` is the root; loops back off on :class:`RetryableError` and stop with a clear
message on :class:`NonRetryableError`. Every package's errors subclass these (``ml.errors``,
``streaming.errors``, ``indexer.errors``, ``api.errors``, ``gridcast.chain.errors``).

:func:`gridcast.diagnosis.exit_on_error` is what every ``gridcast`` command runs under: a
``GridcastError`` (and a service that cannot be reached, whatever library noticed it) becomes one
line on stderr (:func:`fail`) and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

EXIT_USER_ERROR = 2


class GridcastError(Exception):
    """Base of Gridcast's own errors."""


class RetryableError(GridcastError):
    """A transient failure (connection, rate limit, timeout): back off and try again."""


class NonRetryableError(GridcastError):
    """A failure that will not go away by retrying (a revert, a bad key, bad input)."""


class NotReadyError(RetryableError):
    """A source has nothing to offer yet (a nowcast before its first window): wait, it is not
    a failure; callers log it once while waiting rather than at every pass."""


class ConfigurationError(NonRetryableError, ValueError):
    """The settings or the command's options cannot work (a placeholder secret, a missing key)."""


class ServiceUnavailableError(RetryableError):
    """A service the command needs (chain RPC, Postgres, Redis, MQTT, the API) did not answer."""

    def __init__(self, service: str, url: str, hint: str) -> None:
        self.service = service
        self.url = redact(url)
        self.hint = hint
        super().__init__(f"{service} at {self.url} is unreachable: {hint}")


# What to do when each service is absent: shown after the URL.
HINTS = {
    "chain RPC": "start a node with `gridcast node` or set GRIDCAST_RPC_URL",
    "Postgres": "start PostgreSQL or set DATABASE_URL (unset: gridcast starts an embedded one)",
    "Redis": "start redis-server or set REDIS_URL (unset: gridcast starts an embedded one)",
    "MQTT broker": (
        "start mosquitto (`mosquitto -c streaming/mosquitto.conf`) "
        "or set GRIDCAST_MQTT_HOST / GRIDCAST_MQTT_PORT"
    ),
    "API": "start it with `gridcast serve` or set GRIDCAST_API_URL",
}


def unavailable(service: str, url: str) -> ServiceUnavailableError:
    """The error for `service` (a key of :data:`HINTS`) not answering at `url`."""
    return ServiceUnavailableError(service, url, HINTS[service])


def redact(url: str) -> str:
    """`url` without its password (safe to print)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    """Print ``error: <message>`` (one line, red on a terminal) to stderr and exit with `code`."""
    line = " ".join(message.split())
    if sys.stderr.isatty():
        line = f"\x1b[31merror:\x1b[0m {line}"
    else:
        line = f"error: {line}"
    print(line, file=sys.stderr, flush=True)
    raise SystemExit(code)
