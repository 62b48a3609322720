"""``gridcast db``: schema migrations."""

from __future__ import annotations

import typer

app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)


@app.command()
def upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Apply migrations to the configured database (the embedded one when DATABASE_URL is unset)."""
    from gridcast.db import upgrade as do_upgrade
    from gridcast.diagnosis import exit_on_error
    from gridcast.services import database_url

    with exit_on_error():
        url = database_url()
        do_upgrade(url, revision)
    typer.echo(f"database at {url.split('@')[-1]} is at {revision}")


@app.command()
def url() -> None:
    """Print the database URL in use (starting the embedded server if needed)."""
    from gridcast.services import database_url

    typer.echo(database_url())
