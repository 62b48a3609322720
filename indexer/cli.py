"""`gridcast index`: follow the chain from the deployment block into Postgres."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=False, invoke_without_command=True)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "ts": round(record.created, 3),
                "level": record.levelname,
                "logger": record.name,
                "msg": record.getMessage(),
            }  # fmt: skip
        )


def _check_services(rpc_url: str, database_url: str, shown_database_url: str) -> None:
    """One attempt at the chain RPC and at Postgres before the indexer starts: a service absent at
    start-up is a user error (one line naming the URL and what to do, exit 2), not an outage to
    ride out; the runner's retries with backoff are for outages after a successful start."""
    import psycopg

    from gridcast.errors import fail, redact, unavailable
    from indexer.errors import RpcError
    from indexer.rpc import RpcClient
    from indexer.runner import pg_url

    rpc = RpcClient(rpc_url, timeout_s=10.0, max_attempts=1)
    try:
        rpc.chain_id()
    except RpcError as exc:
        if exc.kind in ("connection", "timeout"):  # nothing answered (another fault: the node did)
            fail(str(unavailable("chain RPC", rpc_url)))
    finally:
        rpc.close()
    try:
        with psycopg.connect(pg_url(database_url), connect_timeout=10) as conn:
            row = conn.execute("SELECT to_regclass('indexer_checkpoint')").fetchone()
    except psycopg.OperationalError:
        fail(str(unavailable("Postgres", shown_database_url)))
    if row is None or row[0] is None:
        fail(
            f"Postgres at {redact(shown_database_url)} has no indexer tables: "
            "run `gridcast db upgrade` first"
        )


@app.callback(invoke_without_command=True)
def index(
    from_block: int | None = typer.Option(None, help="Start here instead of the deployment block."),
    deployment_file: Path | None = typer.Option(None, help="Deployment JSON (addresses, block)."),
    rpc_url: str | None = typer.Option(None, help="JSON-RPC URL (default: settings.rpc_url)."),
    ws_url: str | None = typer.Option(None, help="WebSocket URL for newHeads (default: derived)."),
    follow: bool = typer.Option(True, help="Keep following new heads after catching up."),
    finality_depth: int | None = typer.Option(None, help="Blocks below head treated as final."),
    metrics: bool = typer.Option(True, help="Serve Prometheus metrics on settings.metrics_port."),
    progress: bool = typer.Option(True, help="Show a progress bar during backfill."),
) -> None:
    """Backfill every Gridcast event into Postgres, then follow new heads (Ctrl-C stops).

    The chain RPC and Postgres are tried once first: either absent (or a database without the
    migrations) is one line and exit 2.
    """
    from gridcast.chain.deployment import Deployment
    from gridcast.services import database_url
    from gridcast.settings import get_settings
    from indexer.errors import NonRetryableError
    from indexer.runner import Indexer, IndexerConfig

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    s = get_settings()
    try:
        dep = Deployment.load(deployment_file or s.deployment_file)
    except FileNotFoundError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(2) from exc
    rpc = rpc_url or s.rpc_url
    ws = ws_url or s.ws_url
    if ws is None and rpc.startswith("http"):
        ws = "ws" + rpc[4:]  # anvil and most nodes serve WebSocket on the same port
    cfg = IndexerConfig(
        rpc_url=rpc,
        ws_url=ws,
        database_url=database_url(s),
        redis_url=s.redis_url,
        deployment=dep,
        start_block=from_block if from_block is not None else s.index_start_block,
        finality_depth=finality_depth or s.finality_depth,
        max_block_range=s.max_block_range,
        poll_interval_s=s.poll_interval_s,
        progress=progress and sys.stderr.isatty(),
    )
    _check_services(cfg.rpc_url, cfg.database_url, s.database_url or cfg.database_url)
    if metrics:
        from prometheus_client import start_http_server

        start_http_server(s.metrics_port)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    indexer = Indexer(cfg)
    try:
        indexer.run(follow=follow, stop=stop)
    except NonRetryableError as exc:
        typer.secho(f"indexer stopped: {exc}", fg="red", err=True)
        raise typer.Exit(1) from exc
    finally:
        indexer.close()


if __name__ == "__main__":  # `python -m indexer.cli`: the indexer without the whole CLI's imports
    app()
