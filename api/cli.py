"""`gridcast serve`: the GraphQL API (HTTP, graphql-ws subscriptions, health/ready/metrics)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=False, invoke_without_command=True)


@app.callback(invoke_without_command=True)
def serve(
    host: str | None = typer.Option(None, help="Bind address (default: settings.api_host)."),
    port: int | None = typer.Option(None, help="Port (default: settings.api_port)."),
    workers: int = typer.Option(1, min=1, help="Uvicorn worker processes."),
    log_level: str = typer.Option("info", help="Uvicorn log level."),
) -> None:
    """Serve the GraphQL API at /graphql (GraphiQL in development), plus /health, /ready,
    /metrics and the SIWE endpoints /auth/nonce and /auth/verify."""
    import uvicorn

    from gridcast.settings import get_settings

    s = get_settings()
    uvicorn.run(
        "api.app:served_app",
        factory=True,
        host=host or s.api_host,
        port=port or s.api_port,
        workers=workers,
        log_level=log_level,
    )
