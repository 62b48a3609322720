"""The project's one error tree, and how a command turns an error into one line.

``GridcastError`` is the root; loops back off on :class:`RetryableError` and stop with a clear
message on :class:`NonRetryableError`. Every package's errors subclass these (``ml.errors``,
``streaming.errors``, ``indexer.errors``, ``api.errors``, ``gridcast.chain.errors``).

:func:`exit_on_error` is what every ``gridcast`` command runs under: a ``GridcastError`` (and a
service that cannot be reached, whatever library noticed it) becomes one line on stderr and exit
code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ContextDecorator
from types import TracebackType
from typing import TYPE_CHECKING, Literal, NoReturn
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from gridcast.settings import Settings

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


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        yield cur
        cur = cur.__cause__ or cur.__context__


def _is(exc: BaseException, *names: str) -> bool:
    """Whether `exc` is an instance of a class named ``module.Name`` (without importing it)."""
    return any(f"{k.__module__}.{k.__qualname__}" in names for k in type(exc).__mro__)


_HTTP_CONNECT = (
    "requests.exceptions.ConnectionError",
    "urllib3.exceptions.NewConnectionError",
    "urllib3.exceptions.MaxRetryError",
    "aiohttp.client_exceptions.ClientConnectorError",
)
_HTTPX_CONNECT = ("httpx.ConnectError", "httpx.ConnectTimeout")
_PG_CONNECT = ("psycopg.OperationalError", "sqlalchemy.exc.OperationalError")
_REDIS_CONNECT = ("redis.exceptions.ConnectionError", "redis.exceptions.TimeoutError")


def _host_port(url: str | None) -> tuple[str, int | None] | None:
    if not url:
        return None
    try:
        parts = urlsplit(url)
        return (parts.hostname or "", parts.port)
    except ValueError:
        return None


def _database_url(s: Settings) -> str:
    if s.database_url:
        return s.database_url
    return f"the embedded Postgres in {s.state_dir / 'pgdata'}"


def as_service_error(
    exc: BaseException, settings: Settings | None = None
) -> ServiceUnavailableError | None:
    """The :class:`ServiceUnavailableError` behind `exc` (looking through its causes), if a
    connection to one of the project's services is what failed."""
    for e in _chain(exc):
        if isinstance(e, ServiceUnavailableError):
            return e
    s = settings
    if s is None:
        from gridcast.settings import Settings

        try:
            s = Settings()
        except Exception:  # noqa: BLE001 - invalid settings: say what failed without URLs
            return None
    for e in _chain(exc):
        web3 = _is(e, *_HTTP_CONNECT)  # requests/urllib3: web3's HTTP provider
        if web3 or _is(e, *_HTTPX_CONNECT):  # httpx: the indexer's RPC client, the API client
            request = getattr(e, "request" if web3 else "_request", None)
            url = str(getattr(request, "url", "") or "")
            if not url or _host_port(url) == _host_port(s.rpc_url):
                return unavailable("chain RPC", s.rpc_url if web3 or not url else url)
            if s.api_url and _host_port(url) == _host_port(s.api_url):
                return unavailable("API", s.api_url)
            return unavailable("chain RPC" if web3 else "API", url)
        if _is(e, *_PG_CONNECT) and "connect" in str(e).lower():
            return unavailable("Postgres", _database_url(s))
        if _is(e, *_REDIS_CONNECT):
            return unavailable("Redis", s.redis_url or f"the embedded Redis in {s.state_dir}")
    return None


def user_message(exc: BaseException) -> str | None:
    """The one line a command prints for `exc`, or None when `exc` is a bug (keep the trace)."""
    service = as_service_error(exc)
    if service is not None:
        return str(service)
    if isinstance(exc, GridcastError):
        return str(exc) or type(exc).__name__
    return None


class exit_on_error(ContextDecorator):  # noqa: N801 - used as a decorator and a context
    """Turn a :class:`GridcastError` or an unreachable service into ``error: <one line>`` on
    stderr and exit code 2. Anything else (a bug) keeps its traceback.

    Use as ``@exit_on_error()`` on a command, or ``with exit_on_error(): ...``. Extra exception
    types given here count as user errors too (e.g. ``exit_on_error(FileNotFoundError)``).
    """

    def __init__(self, *user_errors: type[BaseException]) -> None:
        self.user_errors = user_errors

    def __enter__(self) -> exit_on_error:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        if exc is None or isinstance(exc, SystemExit | KeyboardInterrupt | GeneratorExit):
            return False
        if _is(exc, "click.exceptions.Exit", "click.exceptions.ClickException") or _is(
            exc, "click.exceptions.Abort"
        ):
            return False
        message = user_message(exc)
        if message is None and self.user_errors and isinstance(exc, self.user_errors):
            message = str(exc) or type(exc).__name__
        if message is None:
            return False
        fail(message)


def fail(message: str, code: int = EXIT_USER_ERROR) -> NoReturn:
    """Print ``error: <message>`` (one line, red on a terminal) to stderr and exit with `code`."""
    line = " ".join(message.split())
    if sys.stderr.isatty():
        line = f"\x1b[31merror:\x1b[0m {line}"
    else:
        line = f"error: {line}"
    print(line, file=sys.stderr, flush=True)
    raise SystemExit(code)
