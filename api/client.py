"""A small client for operators: SIWE login and the record upload mutation.

``make_uploader(api_url, account)`` returns an ``Uploader`` for
:class:`gridcast.operator.bot.OperatorBot`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import httpx
from eth_account.messages import encode_defunct

from gridcast.chain.commitments import Curve

UPLOAD = """
mutation Upload($input: ForecastRecordInput!) {
  uploadForecastRecord(input: $input) { id verified revealVerified reason root }
}"""


class UploadError(Exception):
    """The API refused the login or the upload."""


def siwe_message(api_url: str, address: str, nonce: str, chain_id: int) -> str:
    from siwe import SiweMessage

    u = urlparse(api_url)
    msg = SiweMessage(
        domain=u.netloc,
        address=address,
        statement="Sign in to the Gridcast API to upload forecast records.",
        uri=f"{u.scheme}://{u.netloc}",
        version="1",
        chain_id=chain_id,
        nonce=nonce,
        issued_at=datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    )
    return str(msg.prepare_message())


def login(api_url: str, account: Any, chain_id: int, client: httpx.Client | None = None) -> str:
    """SIWE: fetch a nonce, sign the EIP-4361 message, exchange it for a session token."""
    c = client or httpx.Client(timeout=10)
    base = api_url.rstrip("/")
    nonce = c.get(f"{base}/auth/nonce").json()["nonce"]
    message = siwe_message(base, account.address, nonce, chain_id)
    sig = account.sign_message(encode_defunct(text=message)).signature.hex()
    r = c.post(
        f"{base}/auth/verify", json={"message": message, "signature": "0x" + sig.removeprefix("0x")}
    )
    if r.status_code != 200:
        raise UploadError(f"login refused: {r.text}")
    return str(r.json()["token"])


def record_input(
    curve: Curve,
    *,
    quantiles: dict[str, Any] | None = None,
    model_id: str | None = None,
    feature_snapshot_id: str | None = None,
) -> dict[str, Any]:
    return {
        "feedId": "0x" + curve.feed.hex(),
        "operator": curve.operator,
        "firstEpoch": curve.first_epoch,
        "values": [str(v) for v in curve.values],
        "lowers": [str(v) for v in curve.lowers],
        "uppers": [str(v) for v in curve.uppers],
        "modelHash": "0x" + curve.model_hash.hex(),
        "salt": "0x" + curve.salt.hex(),
        "quantiles": quantiles,
        "modelId": model_id,
        "featureSnapshotId": feature_snapshot_id,
    }


def upload_record(
    api_url: str,
    account: Any,
    curve: Curve,
    *,
    chain_id: int = 31337,
    token: str | None = None,
    **record: Any,
) -> dict[str, Any]:
    """Log in (unless given a token) and upload ``curve``'s record; returns the stored record."""
    with httpx.Client(timeout=10) as c:
        token = token or login(api_url, account, chain_id, c)
        r = c.post(
            api_url.rstrip("/") + "/graphql",
            json={"query": UPLOAD, "variables": {"input": record_input(curve, **record)}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = r.json()
    if body.get("errors"):
        raise UploadError("; ".join(e["message"] for e in body["errors"]))
    return body["data"]["uploadForecastRecord"]  # type: ignore[no-any-return]


def make_uploader(api_url: str, account: Any, chain_id: int = 31337) -> Callable[..., None]:
    """An ``Uploader`` (curve, feed, model name) for the operator bot."""

    def uploader(curve: Curve, feed: Any, model: str) -> None:
        upload_record(api_url, account, curve, chain_id=chain_id, model_id=model)

    return uploader
