"""The one ``gridcast`` command. Each package contributes a sub-app from its own ``cli`` module
(``indexer.cli``, ``api.cli``, ``ml.cli``, ``streaming.cli``); the apps' command groups live here,
one module each (``db``, ``deploy``, ``node``, ``oracle``, ``demo``). Heavy imports (torch,
pyspark) stay inside the commands so ``gridcast --help`` is instant."""

from __future__ import annotations

from typing import Any

import typer

from api.cli import app as api_app
from gridcast.cli.assets import app as assets_app
from gridcast.cli.certificates import app as certificates_app
from gridcast.cli.db import app as db_app
from gridcast.cli.demo import app as demo_app
from gridcast.cli.deploy import app as deploy_app
from gridcast.cli.gov import app as gov_app
from gridcast.cli.node import app as node_app
from gridcast.cli.oracle import app as oracle_app
from gridcast.exchange.cli import app as exchange_app
from gridcast.toolchain import app as toolchain_app
from indexer.cli import app as indexer_app
from ml.cli import app as ml_app
from streaming.cli import stream_app, telemetry_app


class GridcastApp(typer.Typer):
    """The top-level app: every command runs under :class:`gridcast.diagnosis.exit_on_error`, so a
    GridcastError or an unreachable service is one line and exit code 2, never a traceback."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        from gridcast.diagnosis import exit_on_error

        with exit_on_error():
            return super().__call__(*args, **kwargs)


app = GridcastApp(
    help="Gridcast: a decentralized forecasting network for electricity grids.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(node_app, name="node")
app.add_typer(toolchain_app, name="toolchain")
app.add_typer(db_app, name="db")
app.add_typer(deploy_app, name="deploy")
app.add_typer(indexer_app, name="index")
app.add_typer(api_app, name="serve")
app.add_typer(ml_app, name="ml")
app.add_typer(oracle_app, name="oracle")
app.add_typer(telemetry_app, name="telemetry")
app.add_typer(stream_app, name="stream")
app.add_typer(demo_app, name="demo")
app.add_typer(gov_app, name="gov")
app.add_typer(exchange_app, name="exchange")
app.add_typer(assets_app, name="assets")
app.add_typer(certificates_app, name="certificates")
