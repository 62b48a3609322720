"""Model artifacts on disk plus their rows in Postgres (table ``model_artifacts``).

An artifact is a directory ``<model_dir>/<model_hash>/`` holding ``weights.pt`` (``torch.save``
of the state dict only) and ``metadata.json``. The metadata's ``spec`` part (config, scaler,
calibration, feed, dataset hash, training span) is everything needed to rebuild predictions;
its ``info`` part (metrics, timings) is descriptive and may be updated later.

``modelHash = keccak256(weights_bytes || canonical_json(spec))`` (eth_utils.keccak), written as
``0x`` + 64 hex digits so it fits a bytes32 on-chain. Loading recomputes it and refuses an
artifact whose bytes no longer match.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.errors import (
    ArtifactIntegrityError,
    ModelNotFoundError,
    NonRetryableError,
    RetryableError,
)

if TYPE_CHECKING:
    from torch import nn

    from ml.forecaster import LSTMForecaster

WEIGHTS = "weights.pt"
METADATA = "metadata.json"
NO_TABLE = "table model_artifacts is missing: run `gridcast db upgrade` first"


def canonical_json(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def weights_bytes(net: nn.Module) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, buf)
    return buf.getvalue()


def artifact_hash(weights: bytes, spec: dict[str, Any]) -> str:
    from eth_utils import keccak

    return "0x" + keccak(weights + canonical_json(spec)).hex()


def default_model_dir() -> Path:
    from gridcast.settings import get_settings

    return Path(get_settings().model_dir)


def _check_hash(model_hash: str) -> str:
    h = model_hash.lower()
    if not h.startswith("0x"):
        h = "0x" + h
    if len(h) != 66 or any(c not in "0123456789abcdef" for c in h[2:]):
        raise NonRetryableError(f"not a 32-byte hex model hash: {model_hash!r}")
    return h


def save_model(
    forecaster: LSTMForecaster,
    *,
    info: dict[str, Any] | None = None,
    model_dir: Path | None = None,
    database_url: str | None = None,
    register: bool = True,
) -> str:
    """Write the artifact, register it in Postgres (unless ``register`` is False), return its
    model hash. ``database_url`` defaults to the configured (or embedded) database."""
    spec = forecaster.metadata
    weights = weights_bytes(forecaster.net)
    model_hash = artifact_hash(weights, spec)
    forecaster.hash_ = model_hash
    directory = (model_dir or default_model_dir()) / model_hash
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "model_hash": model_hash,
        "hash_scheme": "keccak256(weights||json(spec))",
        "spec": spec,
        "info": info or {},
    }
    (directory / WEIGHTS).write_bytes(weights)
    (directory / METADATA).write_text(json.dumps(document, indent=2, sort_keys=True))
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

    from indexer.models.ml_registry import ModelArtifact

    spec = document["spec"]
    stmt = insert(ModelArtifact).values(
        model_hash=model_hash,
        feed=spec["feed"],
        name=spec.get("name", "lstm"),
        kind=spec.get("kind", "lstm_quantile"),
        meta=document,
        path=str(directory),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[ModelArtifact.model_hash],
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
    from indexer.db.engine import cached_engine

    if database_url is None:
        from gridcast.services import database_url as configured

        database_url = configured()
    return cached_engine(database_url)


def read_metadata(model_hash: str, model_dir: Path | None = None) -> dict[str, Any]:
    h = _check_hash(model_hash)
    path = (model_dir or default_model_dir()) / h / METADATA
    if not path.is_file():
        raise ModelNotFoundError(f"no model artifact {h} under {path.parent.parent}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def update_info(
    model_hash: str,
    info: dict[str, Any],
    *,
    model_dir: Path | None = None,
    database_url: str | None = None,
    register: bool = True,
) -> None:
    """Merge ``info`` (e.g. evaluation metrics) into an artifact's metadata; same hash."""
    h = _check_hash(model_hash)
    directory = (model_dir or default_model_dir()) / h
    document = read_metadata(h, model_dir)
    document["info"] = {**document.get("info", {}), **info}
    (directory / METADATA).write_text(json.dumps(document, indent=2, sort_keys=True))
    if register:
        register_row(h, directory, document, database_url)


def load_model(model_hash: str, model_dir: Path | None = None) -> LSTMForecaster:
    """The forecaster stored under ``model_hash``, after checking its bytes hash to it."""
    import torch

    from ml.config import ModelConfig
    from ml.forecaster import LSTMForecaster
    from ml.scaling import Scaler
    from ml.training import build_net

    h = _check_hash(model_hash)
    directory = (model_dir or default_model_dir()) / h
    document = read_metadata(h, model_dir)
    weights = (directory / WEIGHTS).read_bytes()
    spec = document["spec"]
    if artifact_hash(weights, spec) != h:
        raise ArtifactIntegrityError(f"artifact {h} does not hash to its name; it was altered")
    config = ModelConfig.from_dict(spec["config"])
    exog_names = tuple(spec["exog_names"])
    net = build_net(config, len(exog_names))
    state = torch.load(io.BytesIO(weights), map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    net.eval()
    return LSTMForecaster(
        net=net,
        config=config,
        scaler=Scaler.from_dict(spec["scaler"]),
        calibration=dict(spec["calibration"]),
        feed=spec["feed"],
        exog_names=exog_names,
        metadata=spec,
        hash_=h,
    )


def list_models(database_url: str | None = None, feed: str | None = None) -> list[dict[str, Any]]:
    """Registry rows, newest first."""
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError, ProgrammingError
    from sqlalchemy.orm import Session

    from indexer.models.ml_registry import ModelArtifact

    query = select(ModelArtifact).order_by(ModelArtifact.created_at.desc(), ModelArtifact.id.desc())
    if feed:
        query = query.where(ModelArtifact.feed == feed)
    try:
        with Session(_engine(database_url)) as session:
            rows = list(session.scalars(query).all())
    except OperationalError as exc:
        raise RetryableError(f"model registry database unavailable: {exc}") from exc
    except ProgrammingError as exc:
        raise NonRetryableError(NO_TABLE) from exc
    return [
        {
            "model_hash": r.model_hash,
            "feed": r.feed,
            "name": r.name,
            "kind": r.kind,
            "created_at": r.created_at.isoformat(),
            "metadata": r.meta,
            "path": r.path,
        }
        for r in rows
    ]
