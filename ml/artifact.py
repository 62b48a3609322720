"""Content hashing and the on-disk form of model artifacts: the one canonical JSON.

An artifact is a directory ``<model_dir>/<model_hash>/`` holding ``weights.pt`` (``torch.save``
of the state dict only; empty for models without weights) and ``metadata.json``. The metadata's
``spec`` part is everything needed to rebuild predictions; its ``info`` part (metrics, timings) is
descriptive and may be updated later without changing the hash.

``modelHash = keccak256(weights_bytes || canonical_json(spec))`` (eth_utils.keccak), written as
``0x`` + 64 hex digits so it fits a bytes32 on-chain; a forecaster without weights hashes its spec
alone (:func:`spec_hash`). Reading recomputes the hash and refuses an artifact whose bytes no
longer match.

This module imports no other ``ml`` module except errors: the forecasters, the registry and the
CLI all build on it, so nothing here can close an import cycle.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ml.errors import ArtifactIntegrityError, ModelNotFoundError, NonRetryableError

if TYPE_CHECKING:
    from torch import nn

WEIGHTS = "weights.pt"
METADATA = "metadata.json"
HASH_SCHEME = "keccak256(weights||json(spec))"


def canonical_json(data: Any) -> bytes:
    """The one canonical JSON encoding every hash in ``ml`` is taken over: sorted keys, no
    whitespace, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def keccak_hex(blob: bytes) -> str:
    """``0x`` + 64 hex digits of keccak256(blob)."""
    from eth_utils import keccak

    return "0x" + keccak(blob).hex()


def spec_hash(spec: dict[str, Any]) -> str:
    """keccak256 of a canonical JSON spec, for forecasters that have no weights."""
    return keccak_hex(canonical_json(spec))


def artifact_hash(weights: bytes, spec: dict[str, Any]) -> str:
    """keccak256(weights || canonical_json(spec))."""
    return keccak_hex(weights + canonical_json(spec))


def weights_bytes(net: nn.Module) -> bytes:
    """The state dict as ``torch.save`` bytes (tensors on the CPU, so CUDA and CPU runs of the
    same weights hash alike)."""
    import torch

    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in net.state_dict().items()}, buf)
    return buf.getvalue()


def default_model_dir() -> Path:
    from gridcast.settings import get_settings

    return Path(get_settings().model_dir)


def check_hash(model_hash: str) -> str:
    """The hash normalised to lower-case ``0x`` + 64 hex digits, or NonRetryableError."""
    h = model_hash.lower()
    if not h.startswith("0x"):
        h = "0x" + h
    if len(h) != 66 or any(c not in "0123456789abcdef" for c in h[2:]):
        raise NonRetryableError(f"not a 32-byte hex model hash: {model_hash!r}")
    return h


def artifact_dir(model_hash: str, model_dir: Path | None = None) -> Path:
    return (model_dir or default_model_dir()) / check_hash(model_hash)


def write_artifact(
    weights: bytes,
    spec: dict[str, Any],
    info: dict[str, Any] | None = None,
    model_dir: Path | None = None,
) -> tuple[str, Path, dict[str, Any]]:
    """Write weights and metadata; return (model hash, directory, metadata document)."""
    model_hash = artifact_hash(weights, spec)
    directory = artifact_dir(model_hash, model_dir)
    directory.mkdir(parents=True, exist_ok=True)
    document = {
        "model_hash": model_hash,
        "hash_scheme": HASH_SCHEME,
        "spec": spec,
        "info": info or {},
    }
    (directory / WEIGHTS).write_bytes(weights)
    write_metadata(directory, document)
    return model_hash, directory, document


def write_metadata(directory: Path, document: dict[str, Any]) -> None:
    (directory / METADATA).write_text(json.dumps(document, indent=2, sort_keys=True))


def read_metadata(model_hash: str, model_dir: Path | None = None) -> dict[str, Any]:
    h = check_hash(model_hash)
    path = artifact_dir(h, model_dir) / METADATA
    if not path.is_file():
        raise ModelNotFoundError(f"no model artifact {h} under {path.parent.parent}")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def read_artifact(model_hash: str, model_dir: Path | None = None) -> tuple[bytes, dict[str, Any]]:
    """(weights bytes, metadata document) after checking they hash to ``model_hash``."""
    h = check_hash(model_hash)
    document = read_metadata(h, model_dir)
    weights_path = artifact_dir(h, model_dir) / WEIGHTS
    weights = weights_path.read_bytes() if weights_path.is_file() else b""
    if artifact_hash(weights, document["spec"]) != h:
        raise ArtifactIntegrityError(f"artifact {h} does not hash to its name; it was altered")
    return weights, document
