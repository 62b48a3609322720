"""Child processes of the demo: started with their own log files, watched, and always stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


class ChildFailedError(RuntimeError):
    """A child process the demo depends on exited."""


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class ProcessGroup:
    def __init__(self, log_dir: Path, env: dict[str, str]) -> None:
        self.log_dir = log_dir
        self.env = env
        self.children: list[Child] = []
        log_dir.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, args: list[str]) -> Child:
        """Start `gridcast <args>` (or an absolute command), logging to <log_dir>/<name>.log."""
        cmd = args if os.path.isabs(args[0]) else [sys.executable, "-m", "gridcast.cli", *args]
        log = self.log_dir / f"{name}.log"
        out = open(log, "ab")  # noqa: SIM115 - owned by the child for its lifetime
        proc = subprocess.Popen(
            cmd, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        child = Child(name, proc, log)
        self.children.append(child)
        return child

    def check(self, *, allow_exited: tuple[str, ...] = ()) -> None:
        for c in self.children:
            code = c.proc.poll()
            if code is not None and c.name not in allow_exited and code != 0:
                raise ChildFailedError(f"{c.name} exited with code {code}:\n{c.tail()}")

    def stop(self, timeout: float = 10.0, names: tuple[str, ...] | None = None) -> None:
        """SIGTERM every child (or those whose name starts with one of `names`), each as a whole
        process group, then SIGKILL what is left."""
        chosen = [
            c for c in self.children if names is None or any(c.name.startswith(n) for n in names)
        ]
        for c in reversed(chosen):
            if c.proc.poll() is None:
                try:
                    os.killpg(c.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + timeout
        for c in chosen:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                c.proc.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(c.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                c.proc.wait()
        self.children = [c for c in self.children if c not in chosen]
