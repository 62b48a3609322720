"""The one typed settings object. Every service reads it once through :func:`get_settings`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The session secret a development checkout runs with; refused in any other environment.
DEV_SESSION_SECRET = "dev-only-session-secret-do-not-use-in-production"
PLACEHOLDER_SECRETS = {"", "changeme", "change-me", "secret", "password", "placeholder", "xxx"}


class Settings(BaseSettings):
    """Configuration from the environment (prefix ``GRIDCAST_``) or a ``.env`` file."""

    model_config = SettingsConfigDict(
        env_prefix="GRIDCAST_", env_file=".env", extra="ignore", populate_by_name=True
    )

    # Where the project keeps its runtime state (embedded Postgres, journals, landed telemetry).
    state_dir: Path = PROJECT_ROOT / ".gridcast"

    # Chain
    rpc_url: str = "http://127.0.0.1:8545"
    ws_url: str | None = None
    chain_id: int = 31337
    deployment_file: Path = PROJECT_ROOT / ".gridcast" / "deployment.json"
    # anvil's first well-known dev key; accepted on local chains only (see gridcast.chain.keys).
    dev_private_key: str | None = None

    # Storage. DATABASE_URL / REDIS_URL (unprefixed) are honoured as the common convention.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GRIDCAST_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("GRIDCAST_REDIS_URL", "REDIS_URL")
    )
    mongo_url: str | None = None

    # Indexer
    finality_depth: int = 64
    index_start_block: int | None = None
    max_block_range: int = 10_000
    poll_interval_s: float = 0.2
    metrics_port: int = 9464

    # API
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    session_secret: str = Field(default=DEV_SESSION_SECRET)
    cors_origins: list[str] = ["*"]
    max_first: int = 1000
    max_query_depth: int = 10
    max_query_cost: int = 50_000
    rate_limit_per_minute: int = 6000
    ready_lag_blocks: int = 5
    environment: str = "development"

    # Streaming / telemetry
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 1883
    spark_master: str = "local[*]"

    # ML
    model_dir: Path = PROJECT_ROOT / ".gridcast" / "models"
    api_url: str | None = None

    @field_validator("session_secret")
    @classmethod
    def _refuse_placeholder(cls, value: str) -> str:
        if value.strip().lower() in PLACEHOLDER_SECRETS:
            raise ValueError(
                "GRIDCAST_SESSION_SECRET is a placeholder; set a random value "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return value

    @field_validator("finality_depth", "max_block_range", "max_first")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be positive")
        return value

    @model_validator(mode="after")
    def _refuse_dev_secret_outside_development(self) -> Settings:
        if self.environment != "development" and self.session_secret == DEV_SESSION_SECRET:
            raise ValueError(
                f"GRIDCAST_SESSION_SECRET is the development default but GRIDCAST_ENVIRONMENT is "
                f"{self.environment!r}; set a random secret "
                "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the settings once per process; invalid settings raise a ConfigurationError (one line
    for the CLI) instead of pydantic's report."""
    from gridcast.errors import ConfigurationError

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
