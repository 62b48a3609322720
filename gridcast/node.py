"""A local anvil node started from node_modules, used by ``gridcast node``
(:mod:`gridcast.cli.node`), tests and the demo."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from gridcast.toolchain import anvil_binary

DEFAULT_MNEMONIC = "test test test test test test test test test test test junk"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def rpc_call(url: str, method: str, params: list | None = None, timeout: float = 10.0) -> object:
    """One JSON-RPC call over HTTP; raises RuntimeError with the node's message on error."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    req = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        reply = json.loads(resp.read())
    if "error" in reply:
        raise RuntimeError(f"{method}: {reply['error'].get('message', reply['error'])}")
    return reply["result"]


@dataclass
class AnvilNode:
    """An anvil child process; a context manager that always stops it."""

    host: str = "127.0.0.1"
    port: int = 0
    chain_id: int = 31337
    block_time: float | None = None
    accounts: int = 10
    balance_eth: int = 1_000_000
    gas_limit: int = 60_000_000
    log_file: Path | None = None
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> AnvilNode:
        if self.port == 0:
            self.port = free_port(self.host)
        cmd = [
            str(anvil_binary()),
            "--host", self.host,
            "--port", str(self.port),
            "--chain-id", str(self.chain_id),
            "--accounts", str(self.accounts),
            "--balance", str(self.balance_eth),
            "--gas-limit", str(self.gas_limit),
            "--mnemonic", DEFAULT_MNEMONIC,
            "--silent",
        ]  # fmt: skip
        if self.block_time:
            cmd += ["--block-time", str(self.block_time)]
        cmd += self.extra_args
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        # A session of its own: a terminal's Ctrl-C reaches the command that owns the node (it
        # stops the node in order), not the node first (the demo's live loop then saw a dead RPC
        # and ended with an "unreachable" error instead of stopping cleanly).
        self.process = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"anvil exited with code {self.process.returncode}: {cmd}")
            try:
                rpc_call(self.url, "eth_chainId", timeout=1.0)
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"anvil did not answer on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def rpc(self, method: str, params: list | None = None, timeout: float = 60.0) -> object:
        return rpc_call(self.url, method, params, timeout=timeout)

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
