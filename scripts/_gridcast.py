"""Shared by the admin scripts and ape_console_extras: the deployed contracts as Ape objects."""

from __future__ import annotations

from typing import Any

from ape import project

from gridcast.chain.deployment import Deployment
from gridcast.settings import get_settings


def contracts() -> dict[str, Any]:
    dep = Deployment.load(get_settings().deployment_file)
    return {
        "token": project.GridToken.at(dep.token),
        "staking": project.OperatorStaking.at(dep.staking),
        "registry": project.ForecastRegistry.at(dep.registry),
        "settlement": project.Settlement.at(dep.settlement),
    }


def feed_params(c: dict[str, Any], feed: str) -> tuple[int, ...]:
    return tuple(int(x) for x in c["registry"].feedParams(feed))
