"""Sign-In with Ethereum (EIP-4361): single-use nonces, message verification, session tokens.

A token is ``base64url(json{sid, addr, exp}).hex(hmac_sha256(secret, payload))``; the session row
lets a token be revoked before it expires."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from api.errors import AuthError

NONCE_TTL = timedelta(minutes=5)
SESSION_TTL = timedelta(hours=1)


async def new_nonce(engine: AsyncEngine, ttl: timedelta = NONCE_TTL) -> str:
    nonce = secrets.token_hex(12)  # alphanumeric, ≥ 8 chars as EIP-4361 requires
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO api_siwe_nonces (nonce, expires_at) VALUES (:n, :e)"),
            {"n": nonce, "e": datetime.now(UTC) + ttl},
        )
    return nonce


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def make_token(secret: str, sid: str, address: str, expires: datetime) -> str:
    body = json.dumps({"sid": sid, "addr": address, "exp": int(expires.timestamp())}).encode()
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{payload}.{_sign(secret, payload.encode())}"


def public_origin(api_url: str | None, host: str, port: int) -> tuple[str, str]:
    """(domain, origin) SIWE messages must name: from the configured public URL of the API
    (``GRIDCAST_API_URL``), else the address it listens on."""
    u = urlparse(api_url or f"http://{host}:{port}")
    return u.netloc.lower(), f"{u.scheme}://{u.netloc}".lower()


def check_origin(msg: Any, domain: str, origin: str) -> None:
    """The message must be for this API: its domain, and a URI under this API's origin."""
    if str(msg.domain).lower() != domain:
        raise AuthError(f"wrong domain {msg.domain!r}: sign a message for {domain!r}")
    uri = urlparse(str(msg.uri))
    if f"{uri.scheme}://{uri.netloc}".lower() != origin:
        raise AuthError(f"wrong uri {msg.uri!r}: sign a message whose uri is under {origin}")


async def verify_siwe(
    engine: AsyncEngine,
    secret: str,
    chain_id: int,
    message: str,
    signature: str,
    origin: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Check the message (domain and uri against ``origin`` = (domain, scheme://host), chain id,
    nonce unused and unexpired, signature) and open a session."""
    from siwe import SiweMessage

    try:
        msg = SiweMessage.from_message(message)
    except Exception as exc:  # noqa: BLE001 - the parser raises several error types
        raise AuthError(f"not a valid EIP-4361 message: {exc}") from exc
    if origin is not None:
        check_origin(msg, *origin)
    if int(msg.chain_id) != chain_id:
        raise AuthError(f"wrong chain id {msg.chain_id}: this API serves chain {chain_id}")
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                text("SELECT expires_at, used_at FROM api_siwe_nonces WHERE nonce = :n FOR UPDATE"),
                {"n": msg.nonce},
            )
        ).first()
        if row is None:
            raise AuthError("unknown nonce: request one from /auth/nonce")
        if row.used_at is not None:
            raise AuthError("nonce already used: request a new one from /auth/nonce")
        if row.expires_at <= datetime.now(UTC):
            raise AuthError("nonce expired: request a new one from /auth/nonce")
        try:
            msg.verify(signature, nonce=msg.nonce, domain=msg.domain)
        except Exception as exc:  # noqa: BLE001 - siwe's VerificationError tree
            raise AuthError(f"SIWE verification failed: {type(exc).__name__} {exc}") from exc
        await conn.execute(
            text("UPDATE api_siwe_nonces SET used_at = now() WHERE nonce = :n"), {"n": msg.nonce}
        )
        sid = secrets.token_hex(16)
        expires = datetime.now(UTC) + SESSION_TTL
        address = msg.address.lower()
        await conn.execute(
            text(
                "INSERT INTO api_sessions (id, address, chain_id, expires_at) "
                "VALUES (:i, :a, :c, :e)"
            ),
            {"i": sid, "a": address, "c": chain_id, "e": expires},
        )
    return {
        "token": make_token(secret, sid, address, expires),
        "address": address,
        "expiresAt": expires.isoformat(),
    }


async def session_address(engine: AsyncEngine, secret: str, authorization: str | None) -> str:
    """The address of a valid ``Authorization: Bearer <token>``."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthError("sign in first: send `Authorization: Bearer <token>` from /auth/verify")
    token = authorization.split(None, 1)[1].strip()
    payload, _, sig = token.partition(".")
    if not hmac.compare_digest(_sign(secret, payload.encode()), sig):
        raise AuthError("invalid session token")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError as exc:
        raise AuthError("invalid session token") from exc
    if int(data["exp"]) <= time.time():
        raise AuthError("session expired: sign in again")
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT revoked FROM api_sessions WHERE id = :i"), {"i": data["sid"]}
            )
        ).first()
    if row is None or row.revoked:
        raise AuthError("session revoked: sign in again")
    return str(data["addr"])
