"""An MQTT broker for the demo and the benchmarks: the one already listening, or a private
mosquitto with the project's broker settings (``streaming/mosquitto.conf``) on a free port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from gridcast.node import free_port

BROKER_CONF = Path(__file__).resolve().parents[2] / "streaming" / "mosquitto.conf"


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start_mosquitto(state_dir: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise RuntimeError(
            "no MQTT broker is running and mosquitto is not installed "
            "(scripts/setup.sh installs it as root; or `apt-get install mosquitto`)"
        )
    port = free_port()
    shared = [
        line for line in BROKER_CONF.read_text().splitlines() if not line.startswith("listener")
    ]
    conf = state_dir / "mosquitto.conf"
    conf.write_text("\n".join([f"listener {port} 127.0.0.1", "persistence false", *shared]) + "\n")
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while not listening("127.0.0.1", port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("mosquitto did not start")
        time.sleep(0.05)
    return proc, port
