"""SIWE login with real signatures and the record upload: authorisation, nonce rules, and
verification of uploads against the indexed commits and reveals."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from eth_account.messages import encode_defunct
from sqlalchemy import create_engine, text

from api.client import UPLOAD, UploadError, login, record_input, siwe_message, upload_record
from gridcast.chain.commitments import Curve


def _signed(world: Any, account: Any, chain_id: int = 31337) -> tuple[str, str]:
    nonce = httpx.get(f"{world.api_url}/auth/nonce").json()["nonce"]
    msg = siwe_message(world.api_url, account.address, nonce, chain_id)
    return msg, "0x" + account.sign_message(encode_defunct(text=msg)).signature.hex().removeprefix(
        "0x"
    )


def _verify(world: Any, msg: str, sig: str) -> httpx.Response:
    return httpx.post(f"{world.api_url}/auth/verify", json={"message": msg, "signature": sig})


def test_operator_uploads_its_record_and_it_verifies_against_commit_and_reveal(world: Any) -> None:
    curve: Curve = world.round["curves"][0]
    op = next(o for o in world.market.operators if o.address == curve.operator)
    rec = upload_record(world.api_url, op.account, curve, quantiles={"0.1": curve.lowers},
                        model_id="lstm-test", feature_snapshot_id="snap-1")  # fmt: skip
    assert rec["verified"] is True and rec["revealVerified"] is True and rec["reason"] is None
    assert rec["root"] == "0x" + curve.root().hex()


def test_mismatching_record_is_stored_unverified_with_the_reason(world: Any) -> None:
    curve: Curve = world.round["curves"][1]
    op = next(o for o in world.market.operators if o.address == curve.operator)
    forged = Curve(curve.feed, curve.operator, curve.first_epoch, [v + 1 for v in curve.values],
                   curve.lowers, curve.uppers, curve.model_hash, curve.salt)  # fmt: skip
    rec = upload_record(world.api_url, op.account, forged)
    assert rec["verified"] is False and "root" in rec["reason"]
    got = world.gql(f'{{ forecastRecord(id: "{rec["id"]}") {{ verified reason }} }}').json()
    assert got["data"]["forecastRecord"]["verified"] is False


def test_upload_for_another_operator_is_refused(world: Any) -> None:
    a, b = world.market.operators[0], world.market.operators[1]
    curve = next(c for c in world.round["curves"] if c.operator == b.address)
    with pytest.raises(UploadError, match="may not upload for operator"):
        upload_record(world.api_url, a.account, curve)


def test_upload_without_session_is_refused(world: Any) -> None:
    curve = world.round["curves"][0]
    r = world.gql(UPLOAD, {"input": record_input(curve)})
    assert "sign in first" in r.json()["errors"][0]["message"]


def test_replayed_nonce_is_refused(world: Any) -> None:
    acct = world.market.operators[0].account
    msg, sig = _signed(world, acct)
    assert _verify(world, msg, sig).status_code == 200
    again = _verify(world, msg, sig)
    assert again.status_code == 401 and "already used" in again.json()["errors"][0]["message"]


def test_expired_nonce_is_refused(world: Any) -> None:
    acct = world.market.operators[0].account
    msg, sig = _signed(world, acct)
    nonce = msg.split("Nonce: ")[1].split("\n")[0]
    eng = create_engine(world.db_url)
    with eng.begin() as c:
        c.execute(text("UPDATE api_siwe_nonces SET expires_at = now() - interval '1 minute' "
                       "WHERE nonce = :n"), {"n": nonce})  # fmt: skip
    eng.dispose()
    r = _verify(world, msg, sig)
    assert r.status_code == 401 and "expired" in r.json()["errors"][0]["message"]


def test_wrong_chain_id_is_refused(world: Any) -> None:
    msg, sig = _signed(world, world.market.operators[0].account, chain_id=1)
    r = _verify(world, msg, sig)
    assert r.status_code == 401 and "wrong chain id" in r.json()["errors"][0]["message"]


def test_signature_of_another_key_is_refused(world: Any) -> None:
    a, b = world.market.operators[0].account, world.market.operators[1].account
    msg, _ = _signed(world, a)
    sig = "0x" + b.sign_message(encode_defunct(text=msg)).signature.hex().removeprefix("0x")
    assert _verify(world, msg, sig).status_code == 401


def test_login_returns_a_token_for_the_signing_address(world: Any) -> None:
    acct = world.market.operators[2].account
    assert login(world.api_url, acct, 31337)
