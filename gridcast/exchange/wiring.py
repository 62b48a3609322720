"""The second wave as part of a whole deployment: deploy it next to the protocol, record its
addresses in the deployment file and hand its parameter and registrar roles to governance."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from gridcast.chain.deployment import Deployment, role
from gridcast.chain.submitter import Submitter
from gridcast.exchange.deploy import deploy_second_wave

# Roles the timelock receives on the second-wave contracts (the deployer keeps its own on dev
# chains, like the protocol's GOVERNED_ROLES): registering assets, market and certificate
# parameters (price bands, emission factors), appointing delivery reporters.
GOVERNED_SECOND_WAVE_ROLES = (
    ("AssetRegistry", "REGISTRAR_ROLE"),
    ("AssetRegistry", "DEFAULT_ADMIN_ROLE"),
    ("EnergyExchange", "PARAMS_ROLE"),
    ("EnergyExchange", "DEFAULT_ADMIN_ROLE"),
    ("EnergyCertificates", "PARAMS_ROLE"),
    ("EnergyCertificates", "DEFAULT_ADMIN_ROLE"),
    ("MeteredDelivery", "DEFAULT_ADMIN_ROLE"),
)


def deploy_with_second_wave(
    admin: Submitter, dep: Deployment, *, truth_reporters: Sequence[str] = ()
) -> Deployment:
    """Deploy the second wave against `dep` and return the deployment with its addresses; the
    truth reporters may also post delivery roots, and the timelock (when there is one) holds the
    governed roles."""
    wave = deploy_second_wave(admin, dep, truth_reporters=truth_reporters)
    out = dataclasses.replace(
        dep,
        delivery=wave.delivery,
        assets=wave.assets,
        exchange=wave.exchange,
        certificates=wave.certificates,
    )
    if out.timelock:
        for contract, name in GOVERNED_SECOND_WAVE_ROLES:
            admin.transact(out.contract(admin.w3, contract), "grantRole", role(name), out.timelock)
    return out
