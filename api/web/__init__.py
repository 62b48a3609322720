"""The dashboard: the built React app (``api/web/dist``, made by ``npm run build``) served at
``/`` next to ``/graphql``, and ``/dashboard/config.json`` (chain id, contract addresses, the ABI
fragments the wallet needs) so the browser never hard-codes a deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.staticfiles import StaticFiles

from gridcast.settings import Settings

DIST = Path(__file__).resolve().parent / "dist"
BUILD_HINT = (
    "The dashboard is not built: run `./scripts/setup.sh` (or `npm --prefix api/web install && "
    "npm --prefix api/web run build`), then reload. The GraphQL API is at /graphql."
)
# What the wallet calls: the token's approve/balance, the staking contract's stake/unstake, and
# every custom error of both so reverts are decoded into sentences in the browser.
WALLET_FUNCTIONS = {
    "GridToken": {"approve", "allowance", "balanceOf", "delegate", "delegates", "getVotes"},
    "OperatorStaking": {"stake", "requestUnstake", "withdraw", "stakeOf", "unbondingOf"},
}
# Governance (on deployments made with it): voting, and every state-changing function of the
# contracts a proposal may call, so the page can show a proposal's actions as decoded calls.
GOVERNOR_FUNCTIONS = {"castVote", "castVoteWithReason", "state", "getVotes", "hasVoted"}
# Second wave (on deployments made with it): bids, sells and cancels, certificate claims and
# retirements.
SECOND_WAVE_FUNCTIONS = {
    "EnergyExchange": {"placeBuy", "placeSell", "cancel", "withdraw"},
    "EnergyCertificates": {"claim", "claimed", "retire", "balanceOf"},
}


def wallet_config(settings: Settings) -> dict[str, Any]:
    """Chain id, addresses and the ABI fragments of the wallet's contracts (errors included)."""
    from gridcast.chain import abi as abis
    from gridcast.chain.deployment import Deployment

    out: dict[str, Any] = {"chainId": settings.chain_id, "contracts": {}}
    try:
        dep = Deployment.load(settings.deployment_file)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        out["error"] = str(exc)
        return out
    out["chainId"] = dep.chain_id
    for name, wanted in WALLET_FUNCTIONS.items():
        try:
            items = abis.abi(name)
        except abis.ArtifactsMissingError as exc:
            out["error"] = str(exc)
            return out
        fragment = [i for i in items if i.get("type") == "error" or i.get("name") in wanted]
        out["contracts"][name] = {"address": dep.addresses[name], "abi": fragment}
    if dep.governor:
        items = abis.abi("GridGovernor")
        fragment = [
            i for i in items if i.get("type") == "error" or i.get("name") in GOVERNOR_FUNCTIONS
        ]
        out["contracts"]["GridGovernor"] = {"address": dep.governor, "abi": fragment}
    second = dep.second_wave_addresses
    for name, wanted in SECOND_WAVE_FUNCTIONS.items():
        if name not in second:
            continue
        items = abis.abi(name)
        fragment = [i for i in items if i.get("type") == "error" or i.get("name") in wanted]
        out["contracts"][name] = {"address": second[name], "abi": fragment}
    return out


def governed_contracts(settings: Settings) -> dict[str, Any]:
    """Every deployed contract with its state-changing functions: ``{address: {name, abi}}``
    (lowercase addresses), for decoding a proposal's calls."""
    from gridcast.chain import abi as abis
    from gridcast.chain.deployment import Deployment

    try:
        dep = Deployment.load(settings.deployment_file)
    except (FileNotFoundError, ValueError, TypeError) as exc:
        return {"contracts": {}, "error": str(exc)}
    named = {**dep.addresses, **dep.governance_addresses, **dep.second_wave_addresses}
    out: dict[str, Any] = {}
    for name, address in named.items():
        try:
            items = abis.abi(name)
        except (abis.ArtifactsMissingError, KeyError):
            continue
        fns = [
            i
            for i in items
            if i.get("type") == "function" and i.get("stateMutability") in ("nonpayable", "payable")
        ]
        out[address.lower()] = {"name": name, "abi": fns}
    return {"contracts": out}


def mount_dashboard(app: FastAPI, settings: Settings, dist: Path = DIST) -> None:
    """Add ``/dashboard/config.json`` and serve ``dist`` at ``/`` (a page explaining how to build
    it when missing). Call after every other route: the mount at ``/`` matches everything left."""

    @app.get("/dashboard/config.json", include_in_schema=False)
    async def dashboard_config() -> JSONResponse:
        return JSONResponse(wallet_config(settings))

    @app.get("/dashboard/governed.json", include_in_schema=False)
    async def dashboard_governed() -> JSONResponse:
        return JSONResponse(governed_contracts(settings))

    @app.get("/dashboard/head.json", include_in_schema=False)
    async def dashboard_head() -> JSONResponse:
        """The chain head (for the indexer lag), always 200: the page shows "–" when unknown."""
        try:
            async with httpx.AsyncClient(timeout=3.0) as client:
                r = await client.post(
                    settings.rpc_url,
                    json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"},
                )
            return JSONResponse({"head": int(r.json()["result"], 16)})
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"head": None, "error": str(exc)})

    if (dist / "index.html").is_file():
        app.mount("/", StaticFiles(directory=dist, html=True), name="dashboard")
        return

    @app.get("/", include_in_schema=False)
    async def not_built() -> HTMLResponse:
        return HTMLResponse(
            f"<!doctype html><title>Gridcast</title><p>{BUILD_HINT}</p>", status_code=503
        )
