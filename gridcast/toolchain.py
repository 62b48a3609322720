"""Offline toolchain glue: the solcjs wrapper registered with py-solc-x, anvil from npm.

py-solc-x cannot download a native solc here, so the npm ``solc`` package is fronted by
``scripts/solc/solc.js`` and installed as ``solc-v0.8.37`` in py-solc-x's binary folder.
"""

from __future__ import annotations

import os
import platform
import stat
import sys
from pathlib import Path

import typer

from gridcast.settings import PROJECT_ROOT

SOLC_VERSION = "0.8.37"
WRAPPER = PROJECT_ROOT / "scripts" / "solc" / "solc.js"

app = typer.Typer(help="Toolchain helpers (solc wrapper, anvil binary).", no_args_is_help=True)


def solcx_dir() -> Path:
    return Path(os.environ.get("SOLCX_BINARY_PATH", Path.home() / ".solcx"))


def solc_binary() -> Path:
    return solcx_dir() / f"solc-v{SOLC_VERSION}"


def register_solc() -> Path:
    """Install the shim that py-solc-x (and so ape-solidity and slither) will call as solc."""
    if not (PROJECT_ROOT / "node_modules" / "solc").is_dir():
        raise RuntimeError("node_modules/solc is missing: run `npm ci` (scripts/setup.sh does)")
    target = solc_binary()
    target.parent.mkdir(parents=True, exist_ok=True)
    shim = f'#!/bin/sh\nexec node "{WRAPPER}" "$@"\n'
    if not target.exists() or target.read_text() != shim:
        target.write_text(shim)
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def anvil_binary() -> Path:
    """The anvil executable shipped inside the @foundry-rs npm package for this platform."""
    machine = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}
    arch = machine.get(platform.machine().lower(), platform.machine().lower())
    system = {"linux": "linux", "darwin": "darwin"}.get(sys.platform, sys.platform)
    path = (
        PROJECT_ROOT / "node_modules" / "@foundry-rs" / f"anvil-{system}-{arch}" / "bin" / "anvil"
    )
    if not path.exists():
        raise RuntimeError(f"anvil not found at {path}: run `npm ci` (scripts/setup.sh does)")
    return path


@app.callback()
def _group() -> None:
    """Toolchain helpers."""


@app.command("register-solc")
def register_solc_cmd() -> None:
    """Install the solcjs wrapper as py-solc-x's solc 0.8.37."""
    path = register_solc()
    typer.echo(f"solc {SOLC_VERSION} -> {path}")


if __name__ == "__main__":
    app()
