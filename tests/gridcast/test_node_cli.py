"""`gridcast node` starts anvil from node_modules on the given port and stops it cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from gridcast.node import free_port, rpc_call


def test_node_command_serves_json_rpc_and_stops_on_ctrl_c() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridcast.cli", "node", "--port", str(port), "--chain-id", "4242"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        chain_id = None
        while time.monotonic() < deadline and chain_id is None:
            try:
                chain_id = int(str(rpc_call(url, "eth_chainId", timeout=1)), 16)
            except OSError:
                time.sleep(0.1)
        assert chain_id == 4242
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "anvil stopped" in out
    try:
        rpc_call(url, "eth_chainId", timeout=1)
        raise AssertionError("anvil still answers after the node command exited")
    except OSError:
        pass


def test_node_command_refuses_a_port_in_use() -> None:
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "gridcast.cli", "node", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "anvil" in (done.stdout + done.stderr)
