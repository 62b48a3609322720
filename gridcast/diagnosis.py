"""How a command turns an error into one line: which service could not be reached (whatever
library noticed it, named with the configured URL and what to do), and :class:`exit_on_error`,
which every ``gridcast`` command runs under. It reads the settings for the URLs, so it sits above
both ``gridcast.errors`` (the tree, which imports nothing) and ``gridcast.settings``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ContextDecorator
from types import TracebackType
from typing import Literal
from urllib.parse import urlsplit

from gridcast.errors import GridcastError, ServiceUnavailableError, fail, unavailable
from gridcast.settings import Settings


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
