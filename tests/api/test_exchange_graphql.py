"""The exchange and metered delivery over GraphQL, against the chain: a book with its clearing,
depth, orders, trades, deliveries and imbalance, the traders' accounts and the assets; a meter's
reading whose proof MeteredDelivery.verify accepts on-chain; and the orderPlaced and
clearingPublished subscriptions fed by the real indexer following the chain."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from typing import Any

import httpx
from eth_utils import keccak
from websockets.sync.client import connect

from .conftest import scenario
from .second_wave_world import GREEN_LANDED, LANDED, GreenWorld, sw

BOOK = """
query ($book: ID!, $feed: String!) {
  exchangeBook(id: $book) {
    status price volumeWh bandLow bandHigh orderCount cancelled voided paid penalties
    marketId renewableOnly market { id feedId basePrice bandBps penaltyPerWh }
    clearing { price volumeWh low high buyNum buyDen sellNum sellDen }
    buys: depth(side: "buy") { price volumeWh orders cumulativeWh }
    sells: depth(side: "sell") { price volumeWh orders cumulativeWh }
    sellPage: depth(side: "sell", first: 1, skip: 1) { price }
    orders(first: 20, orderBy: index) {
      id index side trader status volumeWh limitPrice locked filledWh deliveredWh amount
      adjustment credited refund asset { id kind }
    }
    trades(first: 20) { orderId side filledWh price amount voided }
    deliveries { assetId seller soldWh deliveredWh shortfallWh payment penalty asset { kind } }
    imbalances { assetId shortfallWh penalty delivery { deliveredWh } }
    deliveryRoot { root leafCount totalWh }
  }
  exchangeBooks(first: 10, where: {feedId: $feed}) { id epoch }
  green: exchangeBooks(first: 5, where: {feedId: $feed, renewableOnly: true}) {
    marketId feedId epoch status price volumeWh market { renewableOnly feedId }
    orders(first: 10, orderBy: index) { side renewableOnly filledWh certificatesWh trader }
  }
}
"""


def _depth(orders: list[Any], sell: bool) -> list[dict[str, str]]:
    """Independent depth: live orders of one side per limit price, cumulated from the best."""
    levels: dict[int, list[int]] = defaultdict(list)
    for o in orders:
        if bool(o[5]) == sell and not o[6]:
            levels[int(o[4])].append(int(o[3]))
    out, total = [], 0
    for price in sorted(levels, reverse=not sell):
        total += sum(levels[price])
        out.append({
            "price": str(price), "volumeWh": str(sum(levels[price])),
            "orders": len(levels[price]), "cumulativeWh": str(total),
        })  # fmt: skip
    return out


def test_a_book_over_graphql_equals_the_chain(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    ex = g.c("EnergyExchange")
    data = w.gql(BOOK, {"book": f"{g.feed}-{g.epoch}", "feed": g.feed})
    b = data["exchangeBook"]
    chain_book = ex.functions.bookOf(g.fid, g.epoch).call()
    chain_orders = ex.functions.ordersOf(g.fid, g.epoch).call()
    assert b["status"] == "cleared" and b["voided"] is False and b["renewableOnly"] is False
    assert b["marketId"] == g.feed and b["market"]["feedId"] == g.feed
    assert int(b["market"]["penaltyPerWh"]) == sw.PARAMS.penalty_per_wh
    assert (int(b["bandLow"]), int(b["bandHigh"])) == (chain_book[0], chain_book[1])
    assert (int(b["price"]), int(b["volumeWh"])) == (chain_book[8], chain_book[9])
    c = g.clearing
    assert {k: int(v) for k, v in b["clearing"].items()} == {
        "price": c.price, "volumeWh": c.volume, "low": c.low, "high": c.high,
        "buyNum": c.buy_num, "buyDen": c.buy_den, "sellNum": c.sell_num, "sellDen": c.sell_den,
    }  # fmt: skip
    assert b["orderCount"] == len(chain_orders) and b["cancelled"] == 1
    assert b["buys"] == _depth(chain_orders, sell=False)
    assert b["sells"] == _depth(chain_orders, sell=True)
    assert b["sellPage"] == [{"price": b["sells"][1]["price"]}]
    for o, chain in zip(b["orders"], chain_orders, strict=True):
        assert (o["trader"], int(o["volumeWh"]), int(o["limitPrice"])) == (
            chain[0].lower(), chain[3], chain[4],
        )  # fmt: skip
        assert o["side"] == ("sell" if chain[5] else "buy")
        assert o["status"] == ("cancelled" if chain[6] else "settled")
        assert (o["asset"] is not None) == chain[5]
    assert b["orders"][0]["asset"] == {"id": "1", "kind": "solar"}
    # the money: every order's credit adds up to what it locked, less payments, plus proceeds
    paid = sum(int(o["amount"]) for o in b["orders"] if o["side"] == "sell" and o["amount"])
    charged = sum(int(o["amount"]) for o in b["orders"] if o["side"] == "buy" and o["amount"])
    assert paid == int(b["paid"]) and charged >= paid  # buys' charges round up
    assert int(b["penalties"]) == sum(int(i["penalty"]) for i in b["imbalances"]) > 0
    # deliveries and the imbalance: wind sold its fill but metered 400 Wh
    by_asset = {d["assetId"]: d for d in b["deliveries"]}
    assert by_asset["2"]["asset"]["kind"] == "wind" and by_asset["2"]["deliveredWh"] == "400"
    assert [i["assetId"] for i in b["imbalances"]] == ["2"]
    imb = b["imbalances"][0]
    assert int(imb["shortfallWh"]) == int(by_asset["2"]["soldWh"]) - 400
    assert int(imb["penalty"]) == int(imb["shortfallWh"]) * sw.PARAMS.penalty_per_wh
    assert len(b["trades"]) == 5 and {t["price"] for t in b["trades"]} == {str(c.price)}
    assert b["deliveryRoot"]["root"] == "0x" + g.tree.root.hex()
    green = "0x" + g.green_market.hex()
    assert {x["id"] for x in data["exchangeBooks"]} == {
        f"{g.feed}-{g.epoch}", f"{green}-{g.green_epoch}",
    }  # fmt: skip
    # the renewable book: the traded delivered energy's certificates went to its buyer
    [gb] = data["green"]
    assert (gb["marketId"], gb["feedId"], gb["status"]) == (green, g.feed, "cleared")
    assert gb["market"] == {"renewableOnly": True, "feedId": g.feed}
    assert (int(gb["price"]), int(gb["volumeWh"])) == (
        g.green_clearing.price, g.green_clearing.volume,
    )  # fmt: skip
    sell, buy = gb["orders"]
    assert (sell["side"], buy["side"], sell["renewableOnly"]) == ("sell", "buy", True)
    token = sw.certificate_id(g, 1, g.green_epoch)
    held = g.c("EnergyCertificates").functions.balanceOf(g.buyers[1].address, token).call()
    assert int(buy["certificatesWh"]) == int(sell["certificatesWh"]) == held == 600


ACCOUNTS = """
{ exchangeAccounts(first: 10) { id balance credited withdrawn soldWh deliveredWh boughtWh
                                penaltiesPaid compensation orderCount orders(first: 1) { id } }
  assets(orderBy: capacityW) { id kind owner capacityW meterIds renewable
                               sells { id } certificates { id } } }
"""


def test_accounts_and_assets_equal_the_chain(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    data = w.gql(ACCOUNTS)
    ex, reg = g.c("EnergyExchange"), g.c("AssetRegistry")
    accounts = {a["id"]: a for a in data["exchangeAccounts"]}
    for who in g.sellers + g.buyers:
        a = accounts[who.address.lower()]
        assert int(a["balance"]) == ex.functions.balanceOf(who.address).call()
        assert int(a["credited"]) - int(a["withdrawn"]) == int(a["balance"])
        assert a["orderCount"] >= 1 and len(a["orders"]) == 1
    wind = accounts[g.sellers[1].address.lower()]
    assert int(wind["penaltiesPaid"]) > 0 and wind["deliveredWh"] == "400"
    comp = sum(int(accounts[b.address.lower()]["compensation"]) for b in g.buyers)
    assert 0 < comp <= int(wind["penaltiesPaid"])
    assets = {a["id"]: a for a in data["assets"]}
    assert set(assets) == {"1", "2", "3"}
    for aid, a in assets.items():
        chain = reg.functions.assetOf(int(aid)).call()
        assert a["owner"] == reg.functions.ownerOf(int(aid)).call().lower()
        assert int(a["capacityW"]) == chain[1]
        assert sorted(a["meterIds"]) == sorted("0x" + m.hex() for m in chain[4])
    assert assets["1"]["renewable"] and not assets["3"]["renewable"]
    assert assets["3"]["owner"] == g.buyers[1].address.lower()  # moved after registration
    assert int(assets["3"]["capacityW"]) == sw.LOAD_CAPACITY_W
    assert len(assets["1"]["sells"]) >= 1 and len(assets["1"]["certificates"]) >= 1


READING = """
query ($feed: String!, $epoch: Int!, $meter: String!, $root: ID!) {
  meterReading(feedId: $feed, epoch: $epoch, meter: $meter) {
    meterId meter energyWh leaf proof root verified dataFeed dataStart
  }
  deliveryRoot(id: $root) {
    root leafCount status blockNumber readings(first: 100) { meter energyWh verified }
  }
}
"""


def test_a_meter_reading_proof_from_graphql_verifies_on_chain(green_world: GreenWorld) -> None:
    w, g = green_world, green_world.g
    w.index()
    delivery = g.c("MeteredDelivery")
    query, key = READING, f"{g.feed}-{g.epoch}"
    data = w.gql(query, {"feed": g.feed, "epoch": g.epoch, "meter": "wind/a", "root": key})
    r = data["meterReading"]
    assert r["meter"] == "wind/a" and r["energyWh"] == "400" and r["verified"] is True
    # found by count and total (newest first): a decoy with another root is passed over
    assert (r["dataFeed"], r["dataStart"]) == ("demand", LANDED.isoformat())
    assert r["meterId"] == "0x" + keccak(text="wind/a").hex()
    assert r["root"] == "0x" + delivery.functions.rootOf(g.fid, g.epoch).call()[0].hex()
    proof = [bytes.fromhex(p[2:]) for p in r["proof"]]
    mid = bytes.fromhex(r["meterId"][2:])
    assert delivery.functions.verify(g.fid, g.epoch, mid, 400, proof).call() is True
    assert delivery.functions.verify(g.fid, g.epoch, mid, 401, proof).call() is False
    assert r["leaf"] == "0x" + delivery.functions.leafOf(mid, g.epoch, 400).call().hex()
    # by id too; the whole tree rebuilt from the landed rows is the posted one
    again = w.gql(query, {"feed": g.feed, "epoch": g.epoch, "meter": r["meterId"], "root": key})
    assert again["meterReading"] == r
    root = data["deliveryRoot"]
    # status as MeteredDelivery.statusOf: final now, pending at the block it was posted in
    assert root["status"] == "final" and delivery.functions.statusOf(g.fid, g.epoch).call() == 2
    posted = int(root["blockNumber"])
    then = w.gql(
        "query ($id: ID!, $b: Int!) { deliveryRoot(id: $id, block: {number: $b}) { status } }",
        {"id": key, "b": posted},
    )["deliveryRoot"]
    at_posting = delivery.functions.statusOf(g.fid, g.epoch).call(block_identifier=posted)
    assert then == {"status": "pending"} and at_posting == 1
    assert root["leafCount"] == len(sw.ENERGY) == len(root["readings"])
    assert {x["meter"]: int(x["energyWh"]) for x in root["readings"]} == sw.ENERGY
    assert all(x["verified"] for x in root["readings"])
    missing = w.gql(query, {"feed": g.feed, "epoch": g.epoch, "meter": "nobody", "root": key})
    assert missing["meterReading"] is None
    other_epoch = w.gql(
        query, {"feed": g.feed, "epoch": g.green_epoch + 1, "meter": "wind/a", "root": key}
    )
    assert other_epoch["meterReading"] is None  # no root posted for that epoch
    # the renewable book's epoch has its own root over the same readings, tagged with its epoch
    green = w.gql(query, {"feed": g.feed, "epoch": g.green_epoch, "meter": "wind/a", "root": key})[
        "meterReading"
    ]
    assert green["verified"] and green["root"] != r["root"] and green["energyWh"] == "400"
    # found through the truth transaction that submitted its epoch actual (the older window)
    assert green["dataStart"] == GREEN_LANDED.isoformat()
    mid_proof = [bytes.fromhex(p[2:]) for p in green["proof"]]
    assert delivery.functions.verify(g.fid, g.green_epoch, mid, 400, mid_proof).call() is True


def _follow(w: GreenWorld, stop: threading.Event) -> threading.Thread:
    from .conftest import follow

    return follow(w.g.node.url, w.db_url, w.g.lm.deployment, w.redis_url, stop)


def test_order_and_clearing_subscriptions(green_world: GreenWorld) -> None:
    """A new round's consensus, two orders and the clearing of their book reach subscribers of
    orderPlaced and clearingPublished for the feed (and nothing for another feed)."""
    w, g = green_world, green_world.g
    w.index()
    url = w.api_url.replace("http", "ws") + "/graphql"
    other = "0x" + "ab" * 32
    subs = {
        "o": "subscription ($f: String!) { orderPlaced(feedId: $f) { epoch index side volumeWh "
        "limitPrice order { status trader } } }",
        "c": "subscription ($f: String!) { clearingPublished(feedId: $f) { epoch price volumeWh "
        "clearing { price } book { status } } }",
        "x": "subscription ($f: String!) { orderPlaced(feedId: $f) { epoch } }",
    }
    feeds = {"o": g.feed, "c": g.feed, "x": other}
    stop = threading.Event()
    ex = g.c("EnergyExchange")
    with connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:  # type: ignore[list-item]
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        for sid, q in subs.items():
            payload = {"query": q, "variables": {"f": feeds[sid]}}
            ws.send(json.dumps({"id": sid, "type": "subscribe", "payload": payload}))
        t = _follow(w, stop)
        try:
            epoch = sw.consensus(g, scenario.play_round)
            g.sellers[0].transact(ex, "placeSell", g.fid, epoch, 1, 700, 900)
            g.buyers[1].transact(ex, "placeBuy", g.fid, epoch, 500, 1_100)
            g.warp(int(ex.functions.gateOf(g.fid, epoch).call()))
            c = sw.clear([sw.Order(True, 700, 900), sw.Order(False, 500, 1_100)])
            g.lm.admin.transact(ex, "clear", g.fid, epoch, c.low, c.high)
            seen: dict[str, list[Any]] = {k: [] for k in subs}
            while not (len(seen["o"]) >= 2 and seen["c"]):
                msg = json.loads(ws.recv(timeout=60))
                assert msg["type"] == "next", msg
                seen[msg["id"]].append(msg["payload"]["data"])
        finally:
            stop.set()
            t.join(timeout=10)
    placed = [s["orderPlaced"] for s in seen["o"]]
    assert [(p["epoch"], p["side"], p["volumeWh"]) for p in placed] == [
        (epoch, "sell", "700"), (epoch, "buy", "500"),
    ]  # fmt: skip
    assert placed[0]["order"] == {"status": "open", "trader": g.sellers[0].address.lower()}
    [cleared] = [s["clearingPublished"] for s in seen["c"]]
    assert cleared["epoch"] == epoch and int(cleared["price"]) == c.price
    assert int(cleared["volumeWh"]) == c.volume == 500
    assert cleared["clearing"] == {"price": str(c.price)} and cleared["book"]["status"] == "cleared"
    assert seen["x"] == []


def test_a_malformed_block_hash_is_bad_input(green_world: GreenWorld) -> None:
    """A block hash that is not 0x + 64 hex digits (here a NUL, which Postgres text cannot hold)
    is the caller's error (BAD_USER_INPUT), not an internal DataError (schemathesis found it on
    the certificate field)."""
    for query in (
        '{ certificate(id: "0", block: { hash: "\\u0000" }) { id } }',
        '{ assets(block: { hash: "0x1234" }) { id } }',
    ):
        r = httpx.post(f"{green_world.api_url}/graphql", json={"query": query}, timeout=30)
        [err] = r.json()["errors"]
        assert err["extensions"]["code"] == "BAD_USER_INPUT", (query, err)
        assert "malformed block hash" in err["message"]
