"""Every command that talks to a service, run with that service absent (its URL points at a closed
port): exit code 2, one line naming the URL and what to do, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import redis
import typer
from typer.testing import CliRunner

from gridcast.diagnosis import exit_on_error
from gridcast.errors import ServiceUnavailableError
from gridcast.node import AnvilNode, free_port
from gridcast.settings import Settings

FEED = "0x" + "11" * 32


def _closed_port() -> int:
    return free_port()  # bound, then released: nothing listens there


@pytest.fixture(scope="module")
def closed() -> dict[str, str]:
    """A URL per service, each at its own closed port."""
    return {
        "rpc": f"http://127.0.0.1:{_closed_port()}",
        "postgres": f"postgresql://gridcast:secret-pw@127.0.0.1:{_closed_port()}/gridcast",
        "redis": f"redis://127.0.0.1:{_closed_port()}/0",
        "mqtt_port": str(_closed_port()),
        "api": f"http://127.0.0.1:{_closed_port()}",
    }


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A state dir with a deployment and a market file, so commands get as far as the service."""
    d = tmp_path_factory.mktemp("state")
    addr = {k: "0x" + f"{n:040x}" for n, k in enumerate(["admin", "token", "staking"], 1)}
    dep = {"chain_id": 31337, "block": 0, **addr}
    dep |= {"registry": "0x" + "0" * 39 + "4", "settlement": "0x" + "0" * 39 + "5"}
    second_wave = ["delivery", "assets", "exchange", "certificates"]
    dep |= {k: "0x" + f"{n:040x}" for n, k in enumerate(second_wave, 6)}
    (d / "deployment.json").write_text(json.dumps(dep))
    binding = {
        "feed_id": FEED, "dataset": "solar", "region": "x", "metric": "solar",
        "resolution_s": 3600, "data_start": "2012-01-01T00:00:00", "data_step_s": 3600,
    }  # fmt: skip
    (d / "market.json").write_text(json.dumps({"feeds": [binding]}))
    return d


def _env(state: Path, closed: dict[str, str], **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDCAST_")}
    env |= {
        "GRIDCAST_STATE_DIR": str(state),
        "GRIDCAST_DEPLOYMENT_FILE": str(state / "deployment.json"),
        "GRIDCAST_RPC_URL": closed["rpc"],
        "DATABASE_URL": closed["postgres"],
        "REDIS_URL": closed["redis"],
        "GRIDCAST_MQTT_HOST": "127.0.0.1",
        "GRIDCAST_MQTT_PORT": closed["mqtt_port"],
        "GRIDCAST_API_URL": closed["api"],
        "GRIDCAST_MODEL_DIR": str(state / "models"),
    }
    env.pop("GRIDCAST_DATABASE_URL", None)
    return env | overrides


def _gridcast(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gridcast.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _assert_one_line_exit_2(done: subprocess.CompletedProcess[str], *named: str) -> None:
    out = done.stdout + done.stderr
    assert "Traceback" not in out, out[-3000:]
    assert done.returncode == 2, out[-3000:]
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("error: "), out[-3000:]
    for text in named:
        assert text in line, line


# (command, service that is absent, what the line must name besides the URL)
RPC = "chain RPC"
COMMANDS = [
    (["deploy", "--dev-key", "0"], "rpc", RPC),
    (["oracle", "run", "--model", "lstm", "--dev-key", "0"], "rpc", RPC),
    (["oracle", "run", "--model", "seasonal-naive", "--dev-key", "0", "--once"], "rpc", RPC),
    (["oracle", "run", "--model", "nowcast", "--dev-key", "0", "--once"], "rpc", RPC),
    (["stream", "truth", "--once"], "rpc", RPC),
    (["db", "upgrade"], "postgres", "Postgres"),
    (["stream", "pending"], "postgres", "Postgres"),
    (["stream", "run"], "postgres", "Postgres"),
    (["telemetry", "follow"], "mqtt_port", "MQTT broker"),
    (["ml", "models", "list"], "postgres", "Postgres"),
    (["telemetry", "replay", "--hours", "0.01"], "mqtt_port", "MQTT broker"),
    (["telemetry", "gateway"], "mqtt_port", "MQTT broker"),
    (["exchange", "sell", "--asset", "1", "--dev-key", "0"], "rpc", RPC),
    (["exchange", "buy", "--feed", "solar", "--volume-wh", "5", "--dev-key", "0"], "rpc", RPC),
    (["exchange", "clear", "--feed", "solar", "--dev-key", "0"], "rpc", RPC),
    (["exchange", "settle", "--feed", "solar", "--dev-key", "0"], "rpc", RPC),
    (["assets", "list"], "rpc", RPC),
    (["certificates", "claim", "--asset", "1", "--dev-key", "0"], "rpc", RPC),
    (["certificates", "list", "--owner", "0x" + "11" * 20], "rpc", RPC),
]


@pytest.mark.parametrize(
    ("args", "absent", "service"), COMMANDS, ids=[" ".join(c[0][:2]) for c in COMMANDS]
)
def test_command_with_its_service_absent_prints_one_line_and_exits_2(
    args: list[str], absent: str, service: str, state: Path, closed: dict[str, str]
) -> None:
    done = _gridcast(args, _env(state, closed))
    url = closed[absent]
    if absent == "mqtt_port":
        url = f"mqtt://127.0.0.1:{url}"
    if absent == "postgres":
        url = url.replace("secret-pw", "***")  # the password is never printed
    _assert_one_line_exit_2(done, service, url)
    assert "secret-pw" not in done.stdout + done.stderr


INDEX = ["index", "--no-metrics", "--no-follow", "--no-progress"]


def _assert_no_retries(done: subprocess.CompletedProcess[str]) -> None:
    """The indexer tried once: it used to log a retry 20 times with backoff (87 s) first."""
    assert "retrying" not in done.stderr and "database error" not in done.stderr, done.stderr
    not_logs = [ln for ln in done.stderr.strip().splitlines() if not ln.startswith('{"ts"')]
    assert len(not_logs) == 1, done.stderr[-3000:]


def test_index_with_postgres_absent_checks_once_at_start_up(
    anvil_session: AnvilNode, state: Path, closed: dict[str, str]
) -> None:
    done = _gridcast(INDEX, _env(state, closed, GRIDCAST_RPC_URL=anvil_session.url))
    _assert_one_line_exit_2(done, "Postgres", closed["postgres"].replace("secret-pw", "***"))
    assert "DATABASE_URL" in done.stderr
    assert "secret-pw" not in done.stdout + done.stderr
    _assert_no_retries(done)


def test_index_with_the_rpc_absent_checks_once_at_start_up(
    fresh_database,  # type: ignore[no-untyped-def]
    state: Path,
    closed: dict[str, str],
) -> None:
    done = _gridcast(INDEX, _env(state, closed, DATABASE_URL=fresh_database()))
    _assert_one_line_exit_2(done, RPC, closed["rpc"], "gridcast node")
    _assert_no_retries(done)


def test_index_on_an_unmigrated_database_says_to_migrate(
    anvil_session: AnvilNode,
    fresh_database,  # type: ignore[no-untyped-def]
    state: Path,
    closed: dict[str, str],
) -> None:
    env = _env(state, closed, GRIDCAST_RPC_URL=anvil_session.url, DATABASE_URL=fresh_database())
    done = _gridcast(INDEX, env)
    _assert_one_line_exit_2(done, "gridcast db upgrade")


def test_oracle_with_an_unknown_model_hash_exits_2(
    anvil_session: AnvilNode, state: Path, closed: dict[str, str]
) -> None:
    unknown = "0x" + "ab" * 32
    args = ["oracle", "run", "--model", f"lstm:{unknown}", "--dev-key", "0", "--once"]
    done = _gridcast(args, _env(state, closed, GRIDCAST_RPC_URL=anvil_session.url))
    _assert_one_line_exit_2(done, unknown)


def test_oracle_lstm_on_an_unmigrated_database_says_to_migrate(
    anvil_session: AnvilNode,
    fresh_database,
    state: Path,
    closed: dict[str, str],  # type: ignore[no-untyped-def]
) -> None:
    env = _env(state, closed, GRIDCAST_RPC_URL=anvil_session.url, DATABASE_URL=fresh_database())
    done = _gridcast(["oracle", "run", "--model", "lstm", "--dev-key", "0", "--once"], env)
    _assert_one_line_exit_2(done, "gridcast db upgrade")


def test_serve_with_redis_absent_logs_one_line_per_retry_naming_the_url(
    state: Path, closed: dict[str, str]
) -> None:
    env = _env(state, closed, GRIDCAST_API_PORT=str(free_port()))
    proc = subprocess.Popen(
        [sys.executable, "-m", "gridcast.cli", "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if "reconnecting" in line:
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = "".join(seen)
    assert "Traceback" not in text, text[-3000:]
    assert f"Redis at {closed['redis']} is unreachable" in seen[-1], text[-3000:]


def _cli_raising(exc_factory: object) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def talk() -> None:
        with exit_on_error():
            exc_factory()  # type: ignore[operator]

    return app


def test_exit_on_error_names_redis_and_the_api_when_their_clients_cannot_connect(
    closed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REDIS_URL", closed["redis"])
    monkeypatch.setenv("GRIDCAST_API_URL", closed["api"])
    r = CliRunner().invoke(_cli_raising(lambda: redis.Redis.from_url(closed["redis"]).ping()))
    assert r.exit_code == 2
    assert f"Redis at {closed['redis']} is unreachable" in r.output
    a = CliRunner().invoke(_cli_raising(lambda: httpx.get(closed["api"] + "/health")))
    assert a.exit_code == 2
    assert f"API at {closed['api']} is unreachable" in a.output
    assert "gridcast serve" in a.output


def test_exit_on_error_keeps_the_traceback_of_a_bug() -> None:
    r = CliRunner().invoke(_cli_raising(lambda: 1 / 0))
    assert isinstance(r.exception, ZeroDivisionError)


def test_service_error_is_retryable_and_hides_the_password() -> None:
    from gridcast.errors import RetryableError, unavailable

    e = unavailable("Postgres", "postgresql://u:hunter2@db:5432/x")
    assert isinstance(e, ServiceUnavailableError)
    assert isinstance(e, RetryableError)
    assert "hunter2" not in str(e)
    assert "DATABASE_URL" in str(e)


def test_settings_refuse_the_dev_session_secret_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gridcast.errors import ConfigurationError
    from gridcast.settings import get_settings

    monkeypatch.delenv("GRIDCAST_SESSION_SECRET", raising=False)
    assert Settings(environment="development").session_secret  # the default is fine locally
    for env in ("production", "staging"):
        with pytest.raises(ValueError, match="development default"):
            Settings(environment=env)
    assert Settings(environment="production", session_secret="a" * 64).is_production
    monkeypatch.setenv("GRIDCAST_ENVIRONMENT", "production")
    get_settings.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="GRIDCAST_SESSION_SECRET"):
            get_settings()
    finally:
        get_settings.cache_clear()
