"""`gridcast deploy` on anvil: the protocol, governance and the second wave in one deployment file,
with the second wave's governed roles held by the timelock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from web3 import Web3

from gridcast.chain.deployment import Deployment, role
from gridcast.exchange.wiring import GOVERNED_SECOND_WAVE_ROLES

REPORTER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"


def _gridcast(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = str(Path(sys.executable).parent / "gridcast")
    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=300)


def test_deploy_writes_the_second_wave_and_hands_its_roles_to_governance(anvil, tmp_path):
    path = tmp_path / "deployment.json"
    env = {**os.environ, "GRIDCAST_RPC_URL": anvil.url, "GRIDCAST_DEPLOYMENT_FILE": str(path)}
    proc = _gridcast("deploy", "--dev-key", "0", "--reporter", REPORTER, env=env)
    assert proc.returncode == 0, proc.stderr
    dep = Deployment.load(path)
    assert set(dep.second_wave_addresses) == {
        "MeteredDelivery",
        "AssetRegistry",
        "EnergyExchange",
        "EnergyCertificates",
    }
    w3 = Web3(Web3.HTTPProvider(anvil.url))
    for name, address in dep.second_wave_addresses.items():
        assert len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0, name
        assert address in proc.stdout
    for contract, name in GOVERNED_SECOND_WAVE_ROLES:
        assert dep.contract(w3, contract).functions.hasRole(role(name), dep.timelock).call(), (
            contract,
            name,
        )
    delivery = dep.contract(w3, "MeteredDelivery")
    assert delivery.functions.hasRole(role("TRUTH_REPORTER_ROLE"), REPORTER).call()
    # The exchange trades against this deployment's registry and token.
    assert dep.contract(w3, "EnergyExchange").functions.token().call() == dep.token


def test_deploy_without_second_wave_leaves_it_out(anvil, tmp_path):
    path = tmp_path / "deployment.json"
    env = {**os.environ, "GRIDCAST_RPC_URL": anvil.url, "GRIDCAST_DEPLOYMENT_FILE": str(path)}
    proc = _gridcast("deploy", "--dev-key", "0", "--no-second-wave", env=env)
    assert proc.returncode == 0, proc.stderr
    dep = Deployment.load(path)
    assert dep.second_wave_addresses == {}
    assert dep.exchange == ""
