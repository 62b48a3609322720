"""Placeholder sub-command groups; filled in by the streaming issue."""

import typer

stream_app = typer.Typer(no_args_is_help=True)
telemetry_app = typer.Typer(no_args_is_help=True)


@stream_app.callback()
def _stream() -> None:
    """Not built yet."""


@telemetry_app.callback()
def _telemetry() -> None:
    """Not built yet."""
