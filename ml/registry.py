"""Model artifacts' rows in Postgres (table ``model_artifacts``), on top of :mod:`ml.artifact`
(files under ``model_dir``, content hash ``keccak256(weights || canonical_json(spec))``).
The names this module has always exported (``save_model``, ``load_model``, ``METADATA``, ...) stay
importable from here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ml.artifact import (
    HASH_SCHEME,
    METADATA,
    WEIGHTS,
    artifact_hash,
    canonical_json,
    check_hash,
    default_model_dir,
    read_metadata,
    weights_bytes,
    write_artifact,
    write_metadata,
)
from ml.errors import NonRetryableError, RetryableError
from ml.forecaster import Forecaster, LSTMForecaster, SelectedForecaster

__all__ = [
    "HASH_SCHEME",
    "METADATA",
    "WEIGHTS",
    "artifact_hash",
    "canonical_json",
    "list_models",
    "load_model",
    "read_metadata",
    "register_row",
    "save_model",
    "update_info",
    "weights_bytes",
]

NO_TABLE = "table model_artifacts is missing: run `gridcast db upgrade` first"


def save_model(
    forecaster: LSTMForecaster | SelectedForecaster,
    *,
    info: dict[str, Any] | None = None,
    model_dir: Path | None = None,
    database_url: str | None = None,
    register: bool = True,
) -> str:
    """Write the artifact, register it in Postgres (unless ``register`` is False), return its
    model hash. ``database_url`` defaults to the configured (or embedded) database."""
    model_hash, directory, document = write_artifact(*forecaster.artifact_parts(), info, model_dir)
    forecaster.hash_ = model_hash
    if register:
        register_row(model_hash, directory, document, database_url)
    return model_hash


def register_row(
    model_hash: str,
    directory: Path,
    document: dict[str, Any],
    database_url: str | None = None,
) -> None:
    """Insert (or refresh the metadata of) the registry row of an artifact."""
    from sqlalchemy.dialects.postgresql import insert
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from ml.registry_table import MODEL_ARTIFACTS as artifacts

    spec = document["spec"]
    stmt = insert(artifacts).values(
        model_hash=model_hash,
        feed=spec["feed"],
        name=spec.get("name", "lstm"),
        kind=spec.get("kind", "lstm_quantile"),
        metadata=document,
        path=str(directory),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[artifacts.c.model_hash],
        set_={"metadata": stmt.excluded["metadata"], "path": stmt.excluded["path"]},
    )
    try:
        with _engine(database_url).begin() as conn:
            conn.execute(stmt)
    except OperationalError as exc:
        raise RetryableError(f"model registry database unavailable: {exc}") from exc
    except ProgrammingError as exc:
        raise NonRetryableError(NO_TABLE) from exc


def _engine(database_url: str | None) -> Any:
    from gridcast.db import cached_engine

    if database_url is None:
        from gridcast.services import database_url as configured

        database_url = configured()
    return cached_engine(database_url)


def update_info(
    model_hash: str,
    info: dict[str, Any],
    *,
    model_dir: Path | None = None,
    database_url: str | None = None,
    register: bool = True,
) -> None:
    """Merge ``info`` (e.g. evaluation metrics) into an artifact's metadata; same hash."""
    h = check_hash(model_hash)
    directory = (model_dir or default_model_dir()) / h
    document = read_metadata(h, model_dir)
    document["info"] = {**document.get("info", {}), **info}
    write_metadata(directory, document)
    if register:
        register_row(h, directory, document, database_url)


def load_model(
    model_hash: str, model_dir: Path | None = None
) -> LSTMForecaster | SelectedForecaster:
    """The forecaster stored under ``model_hash``, after checking its bytes hash to it."""
    return Forecaster.load(model_hash, model_dir)


def list_models(database_url: str | None = None, feed: str | None = None) -> list[dict[str, Any]]:
    """Registry rows, newest first."""
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from ml.registry_table import MODEL_ARTIFACTS as artifacts

    query = select(artifacts).order_by(artifacts.c.created_at.desc(), artifacts.c.id.desc())
    if feed:
        query = query.where(artifacts.c.feed == feed)
    try:
        with _engine(database_url).connect() as conn:
            rows = list(conn.execute(query).mappings())
    except OperationalError as exc:
        raise RetryableError(f"model registry database unavailable: {exc}") from exc
    except ProgrammingError as exc:
        raise NonRetryableError(NO_TABLE) from exc
    return [
        {
            "model_hash": r["model_hash"],
            "feed": r["feed"],
            "name": r["name"],
            "kind": r["kind"],
            "created_at": r["created_at"].isoformat(),
            "metadata": r["metadata"],
            "path": r["path"],
        }
        for r in rows
    ]
