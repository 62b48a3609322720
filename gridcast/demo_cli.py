"""Placeholder sub-command group; filled in by its package's issue."""

import typer

app = typer.Typer(no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Not built yet."""
