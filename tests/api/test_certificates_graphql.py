"""Certificates over GraphQL, against the chain: certificates by asset, epoch and owner,
retirements, carbon wallets (Wh, t CO2e) and the carbon leaderboard; the certificateRetired
subscription fed by the real indexer following the chain."""

from __future__ import annotations

import json
import threading
from typing import Any

from web3 import Web3
from websockets.sync.client import connect

from .second_wave_world import GreenWorld, sw
from .test_exchange_graphql import _follow

CERTS = """
query ($epoch: BigInt!, $owner: String!) {
  certificates(first: 10, orderBy: assetId) {
    id assetId day feedId minted retired supply asset { kind }
    balances(first: 10, orderBy: owner) { owner balance }
    certifiedEpochs(first: 10) { epoch energyWh }
  }
  certifiedEpochs(first: 10, where: {epoch: $epoch}, orderBy: assetId) {
    id assetId epoch energyWh certificateId owner certificate { id }
    deliveryRoot { leafCount }
  }
  certificateBalances(first: 10, where: {owner: $owner}) { certificateId balance assetId }
  retirements(first: 50) {
    id account certificateId assetId day energyWh co2eGrams gramsPerKwh beneficiary purpose
    certificate { assetId } wallet { id }
  }
  emissionFactors(first: 5) { id gramsPerKwh }
}
"""

WALLETS = """
query ($id: ID!) {
  carbonWallet(id: $id) { id retiredWh co2eGrams co2eTonnes retiredMwh retirementCount
                          retirements(first: 10) { beneficiary } }
  carbonLeaderboard(first: 10) { id co2eGrams retiredWh }
  page: carbonLeaderboard(first: 1, skip: 1) { id }
}
"""


def test_certificates_by_asset_epoch_and_owner_equal_the_chain(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    certs = g.c("EnergyCertificates")
    owner = g.sellers[0].address.lower()
    data = w.gql(CERTS, {"epoch": str(g.epoch), "owner": owner})
    # the plain epoch's two assets, and the solar asset's renewable-market epoch (which may fall
    # on the same UTC day, hence the same certificate id)
    pairs = ((1, g.epoch), (2, g.epoch), (1, g.green_epoch))
    tokens = {str(sw.certificate_id(g, a, e)): a for a, e in pairs}
    by_id = {c["id"]: c for c in data["certificates"]}
    assert set(by_id) == set(tokens)
    for token_id, c in by_id.items():
        token = int(token_id)
        assert int(c["assetId"]) == tokens[token_id] and int(c["day"]) == token & (2**64 - 1)
        assert int(c["minted"]) == certs.functions.minted(token).call() > 0
        assert int(c["retired"]) == certs.functions.retired(token).call()
        assert int(c["supply"]) == certs.functions.totalSupply(token).call()
        kind = "solar" if c["assetId"] == "1" else "wind"
        assert c["feedId"] == g.feed and c["asset"]["kind"] == kind
        for b in c["balances"]:
            held = certs.functions.balanceOf(Web3.to_checksum_address(b["owner"]), token).call()
            assert int(b["balance"]) == held
        assert sum(int(b["balance"]) for b in c["balances"]) == int(c["supply"])
    solar = sw.certificate_id(g, 1)
    assert {"epoch": str(g.epoch), "energyWh": "1300"} in by_id[str(solar)]["certifiedEpochs"]
    assert int(by_id[str(solar)]["retired"]) > 0
    epochs = data["certifiedEpochs"]
    assert [(e["assetId"], e["energyWh"]) for e in epochs] == [("1", "1300"), ("2", "400")]
    assert all(e["certificate"]["id"] == e["certificateId"] for e in epochs)
    assert all(e["deliveryRoot"]["leafCount"] == len(sw.ENERGY) for e in epochs)
    assert epochs[0]["owner"] == owner
    [held] = [b for b in data["certificateBalances"] if b["certificateId"] == str(solar)]
    assert held["assetId"] == "1"
    assert int(held["balance"]) == certs.functions.balanceOf(g.sellers[0].address, solar).call()
    assert int(held["balance"]) > 0
    n = certs.functions.retirementCount().call()
    assert len(data["retirements"]) == n >= 3
    for r in data["retirements"]:
        chain = certs.functions.retirementOf(int(r["id"])).call()
        assert (r["account"], int(r["energyWh"]), int(r["co2eGrams"])) == (
            chain[0].lower(), chain[3], chain[4],
        )  # fmt: skip
        assert r["gramsPerKwh"] == chain[2] == sw.GRAMS_PER_KWH
        assert int(r["co2eGrams"]) == int(r["energyWh"]) * sw.GRAMS_PER_KWH // 1000
        assert r["wallet"]["id"] == r["account"] and r["certificate"]["assetId"] == r["assetId"]
    assert {r["beneficiary"] for r in data["retirements"]} >= {"Acme Pty Ltd", "Beta Co-op"}
    assert data["emissionFactors"] == [{"id": g.feed, "gramsPerKwh": sw.GRAMS_PER_KWH}]


def test_carbon_wallets_and_the_leaderboard_equal_the_chain(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    certs = g.c("EnergyCertificates")
    s0 = g.sellers[0].address.lower()
    data = w.gql(WALLETS, {"id": s0})
    wallet = data["carbonWallet"]
    retired, grams = certs.functions.walletOf(g.sellers[0].address).call()
    assert (int(wallet["retiredWh"]), int(wallet["co2eGrams"])) == (retired, grams)
    assert wallet["co2eTonnes"] == grams / 1e6 and wallet["retiredMwh"] == retired / 1e6
    assert wallet["retirementCount"] == len(wallet["retirements"]) >= 1
    # the leaderboard: every account with a retirement, by avoided CO2e from the chain
    chain = {
        who.address.lower(): tuple(certs.functions.walletOf(who.address).call())
        for who in g.sellers + g.buyers
    }
    expected = sorted(
        ((a, wh, co2) for a, (wh, co2) in chain.items() if wh > 0),
        key=lambda t: (-t[2], -t[1], t[0]),
    )
    board = data["carbonLeaderboard"]
    assert [(b["id"], int(b["retiredWh"]), int(b["co2eGrams"])) for b in board] == expected
    assert len(board) >= 3 and data["page"] == [{"id": board[1]["id"]}]


def test_certificate_retired_subscription(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    url = w.api_url.replace("http", "ws") + "/graphql"
    query = (
        "subscription { certificateRetired { retirementId account certificateId energyWh "
        "co2eGrams retirement { beneficiary purpose } wallet { retiredWh } } }"
    )
    stop = threading.Event()
    solar = sw.certificate_id(g, 1)
    seller = g.sellers[0]
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "r", "type": "subscribe", "payload": {"query": query}}))
        t = _follow(w, stop)
        try:
            sw.retire(g, seller, solar, 40, "Subscriber Ltd")
            msg: dict[str, Any] = json.loads(ws.recv(timeout=60))
        finally:
            stop.set()
            t.join(timeout=10)
    assert msg["type"] == "next", msg
    ev = msg["payload"]["data"]["certificateRetired"]
    certs = g.c("EnergyCertificates")
    rid = certs.functions.retirementCount().call() - 1
    assert ev["retirementId"] == str(rid) and ev["account"] == seller.address.lower()
    assert ev["certificateId"] == str(solar) and ev["energyWh"] == "40"
    assert int(ev["co2eGrams"]) == 40 * sw.GRAMS_PER_KWH // 1000
    assert ev["retirement"] == {"beneficiary": "Subscriber Ltd", "purpose": "scope 2"}
    assert int(ev["wallet"]["retiredWh"]) == certs.functions.walletOf(seller.address).call()[0]
