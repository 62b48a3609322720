"""``gridcast node``: a local anvil node until Ctrl-C."""

from __future__ import annotations

import signal
import time

import typer

from gridcast.node import AnvilNode

app = typer.Typer(
    help="Run a local anvil node.", no_args_is_help=False, invoke_without_command=True
)


@app.callback(invoke_without_command=True)
def node(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8545, help="JSON-RPC port (HTTP and WebSocket)."),
    block_time: float | None = typer.Option(
        None, help="Seconds between blocks; default mines on each transaction."
    ),
    chain_id: int = typer.Option(31337, help="Chain id."),
) -> None:
    """Start anvil from node_modules and run until Ctrl-C, then stop it cleanly."""
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    # Handlers first: a Ctrl-C during start-up must still stop the child cleanly.
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    anvil = AnvilNode(host=host, port=port, chain_id=chain_id, block_time=block_time)
    try:
        anvil.start()
    except RuntimeError as exc:
        typer.secho(str(exc), fg="red", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"anvil listening on {anvil.url} (chain id {chain_id}); Ctrl-C stops it")
    try:
        while not stop and anvil.process and anvil.process.poll() is None:
            time.sleep(0.2)
    finally:
        anvil.stop()
        typer.echo("anvil stopped")
