"""A batch's transaction as a plan: a list of steps built by the handlers' thread and run on the
writer connection, in this process or in a writer process.

Steps (plain data, so a plan crosses a process boundary as one pickle):
  ("copy", statement, text, rows)   COPY … FROM STDIN: ``text`` (COPY text lines, bytes) then
                                    ``rows`` (tuples the connection formats: values the text
                                    path does not take)
  ("exec", sql, params)             one statement
  ("many", sql, rows)               executemany
  ("wake", channel, body, notify)   the outbox's newest position into the wake-up message
                                    (``body`` + ``"position"``), sent by pg_notify when ``notify``

Why a process: the backfill's transactions (~400k rows per 100k events) were written by a thread
that shared the GIL with the handlers and the decoder. Each time it came back from the server it
waited for the GIL (up to the switch interval), and the COPY formatting ran time-sliced with the
handlers, so Postgres sat idle between bursts: the writer thread took ~2x the server's own CPU
time and bounded the wall time. :class:`WriterProcess` runs plans in a child
(``python -m indexer.writer``) with its own interpreter: the parent builds the COPY text, hands
the plan over through a file (one write, no pipe ping-pong under the GIL; the file has no
name, so a kill leaves nothing behind) and reads back the
wake-up; the child does nothing but talk to Postgres. One plan is in flight at a time and each
is one transaction, so commits stay in order and atomic; the parent keeps the writer lock.
The child dies with its parent (PR_SET_PDEATHSIG on Linux; else at the end of its input).
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Any

import psycopg

Step = tuple[Any, ...]
Wake = tuple[str, str] | None
_LEN = struct.Struct("!Q")


def run(conn: psycopg.Connection[Any], steps: list[Step]) -> Wake:
    """Run ``steps`` in the caller's transaction; returns the wake-up to send after commit."""
    wake: Wake = None
    for step in steps:
        kind = step[0]
        if kind == "copy":
            with conn.cursor().copy(step[1]) as copy:
                if step[2]:
                    copy.write(step[2])
                for row in step[3]:
                    copy.write_row(row)
        elif kind == "exec":
            conn.execute(step[1], step[2])
        elif kind == "many":
            conn.cursor().executemany(step[1], step[2])
        elif kind == "wake":
            row = conn.execute(
                "SELECT currval(pg_get_serial_sequence('indexer_outbox', 'position'))"
            ).fetchone()
            assert row is not None
            wake = (step[1], json.dumps({**json.loads(step[2]), "position": int(row[0])}))
            if step[3]:
                conn.execute("SELECT pg_notify(%s, %s)", wake)
        else:
            raise ValueError(f"unknown plan step {kind!r}")
    return wake


def commit(conn: psycopg.Connection[Any], steps: list[Step]) -> Wake:
    """Run ``steps`` as one transaction."""
    with conn.transaction():
        return run(conn, steps)


def _spool() -> IO[bytes]:
    """Plans go through a file with no name (nothing to clean up after a kill), on tmpfs when
    there is one (never written back to a disk)."""
    shm = "/dev/shm"
    base = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return tempfile.TemporaryFile(dir=base)


def _send(out: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LEN.pack(len(data)) + data)
    out.flush()


def _recv(inp: IO[bytes]) -> Any:
    head = inp.read(_LEN.size)
    if len(head) < _LEN.size:
        raise EOFError("writer pipe closed")
    (n,) = _LEN.unpack(head)
    data = inp.read(n)
    if len(data) < n:
        raise EOFError("writer pipe closed")
    return pickle.loads(data)


class WriterProcess:
    """Plans committed by a child process, one at a time: :meth:`submit` then :meth:`result`."""

    def __init__(self, dsn: str) -> None:
        import indexer

        root = str(Path(indexer.__file__).resolve().parent.parent)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._spool = _spool()
        self._busy = False
        fd = self._spool.fileno()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "indexer.writer", str(os.getpid()), str(fd)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            pass_fds=(fd,),
        )
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._in, self._out = self._proc.stdout, self._proc.stdin
        _send(self._out, dsn)  # not on the command line (a password would show in ps)

    def submit(self, steps: list[Step]) -> None:
        assert not self._busy, "one plan at a time"
        data = pickle.dumps(steps, protocol=pickle.HIGHEST_PROTOCOL)
        view, done = memoryview(data), 0
        while done < len(data):  # the child has read the previous plan already
            done += os.pwrite(self._spool.fileno(), view[done:], done)
        try:
            _send(self._out, done)
        except OSError as exc:
            raise psycopg.OperationalError(f"writer process gone: {exc}") from exc
        self._busy = True

    def result(self) -> Wake:
        """Wait for the plan submitted last: its wake-up, or its exception raised here."""
        assert self._busy, "nothing submitted"
        self._busy = False
        try:
            kind, value = _recv(self._in)
        except (EOFError, OSError) as exc:
            code = self._proc.poll()
            raise psycopg.OperationalError(f"writer process gone (exit {code})") from exc
        if kind == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        try:
            self._out.close()  # end of input: the child closes its connection and exits
        except OSError:
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._in.close()
        self._spool.close()


def _die_with_parent(parent: int) -> None:
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the prctl
        os._exit(1)


def _read(fd: int, n: int) -> bytes:
    parts: list[bytes] = []
    done = 0
    while done < n:
        part = os.pread(fd, n - done, done)
        if not part:
            raise EOFError("plan file truncated")
        parts.append(part)
        done += len(part)
    return b"".join(parts)


def _serve(parent: int, spool: int) -> None:
    _die_with_parent(parent)
    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    sys.stdout = sys.stderr  # nothing else may write into the reply pipe
    dsn = _recv(inp)
    conn = psycopg.connect(dsn, autocommit=True)
    try:
        while True:
            try:
                size = _recv(inp)
            except EOFError:
                return
            try:
                steps = pickle.loads(_read(spool, size))
                reply: tuple[str, Any] = ("ok", commit(conn, steps))
            except Exception as exc:  # noqa: BLE001 - handed to the parent, which raises it
                try:
                    pickle.dumps(exc)
                    reply = ("error", exc)
                except Exception:  # noqa: BLE001
                    reply = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
                if conn.closed or conn.broken:
                    conn = psycopg.connect(dsn, autocommit=True)
            _send(out, reply)
    finally:
        conn.close()


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
