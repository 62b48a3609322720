"""EnergyCertificates events → certificates (minted, retired, supply), certified_epochs,
certificate_balances (ERC-1155 transfers), retirements, carbon_wallets and emission_factors."""

from __future__ import annotations

from typing import Any

from indexer.decoder import Event
from indexer.store import Store

ZERO = "0x" + "0" * 40
DAY_MASK = (1 << 64) - 1


def certificate_id(asset_id: int, day: int) -> int:
    """EnergyCertificates.idOf: assetId << 64 | day (day = epoch start / 86400)."""
    return (int(asset_id) << 64) | int(day)


def _certificate(store: Store, token: int, block: int) -> dict[str, Any]:
    key = str(token)
    row = store.get("certificates", key)
    if row is None:
        asset = store.get("assets", str(token >> 64))
        row = {
            "asset_id": token >> 64,
            "day": token & DAY_MASK,
            "feed_id": None if asset is None else asset["feed_id"],
            "minted": 0,
            "retired": 0,
            "supply": 0,
            "first_block": block,
        }
        store.put("certificates", key, row, block)
    return row


def _move(store: Store, block: int, sender: str, to: str, token: int, value: int) -> None:
    """One (id, value) of an ERC-1155 transfer: balances, and supply on mints and burns."""
    key = str(token)
    for account, sign in ((sender, -1), (to, 1)):
        if account == ZERO:
            cert = _certificate(store, token, block)
            changes = {"supply": int(cert["supply"]) - sign * value}
            if sign < 0:  # from zero: a mint
                changes["minted"] = int(cert["minted"]) + value
            store.update("certificates", key, block, **changes)
            continue
        bid = f"{key}-{account}"
        row = store.get("certificate_balances", bid)
        if row is None:
            row = {
                "certificate_id": key,
                "owner": account,
                "asset_id": token >> 64,
                "day": token & DAY_MASK,
                "balance": 0,
            }
        store.put(
            "certificate_balances",
            bid,
            {**row, "balance": int(row["balance"]) + sign * value},
            block,
        )


def on_transfer_single(ev: Event, store: Store) -> None:
    a = ev.args
    _move(store, ev.block_number, a["from"], a["to"], int(a["id"]), int(a["value"]))


def on_transfer_batch(ev: Event, store: Store) -> None:
    a = ev.args
    for token, value in zip(a["ids"], a["values"], strict=True):
        _move(store, ev.block_number, a["from"], a["to"], int(token), int(value))


def on_delivery_certified(ev: Event, store: Store) -> None:
    a = ev.args
    asset, feed, block = int(a["assetId"]), a["feedId"], ev.block_number
    params = store.get("feeds", feed)
    for epoch, energy in zip(a["epochs"], a["energyWh"], strict=True):
        token = None
        if params is not None:
            start = int(params["genesis"]) + int(epoch) * int(params["epoch_length"])
            token = certificate_id(asset, start // 86_400)
        row = {
            "asset_id": asset,
            "epoch": epoch,
            "feed_id": feed,
            "certificate_id": "" if token is None else str(token),
            "owner": a["owner"],
            "energy_wh": energy,
            "block_number": block,
            "tx_hash": ev.tx_hash,
        }
        store.put("certified_epochs", f"{asset}-{epoch}", row, block)
    store.notify(
        "gridcast:deliveryCertified",
        {"assetId": str(asset), "feedId": feed, "epochs": list(a["epochs"]), "block": block},
    )


def on_certificates_retired(ev: Event, store: Store) -> None:
    a = ev.args
    block, token, energy, co2e = (
        ev.block_number,
        int(a["id"]),
        int(a["energyWh"]),
        int(a["co2eGrams"]),
    )
    row = {
        "account": a["account"],
        "certificate_id": str(token),
        "asset_id": a["assetId"],
        "day": a["day"],
        "energy_wh": energy,
        "co2e_grams": co2e,
        "grams_per_kwh": a["gramsPerKwh"],
        "beneficiary": a["beneficiary"],
        "purpose": a["purpose"],
        "block_number": block,
        "tx_hash": ev.tx_hash,
    }
    store.put("retirements", str(a["retirementId"]), row, block)
    cert = _certificate(store, token, block)
    store.update("certificates", str(token), block, retired=int(cert["retired"]) + energy)
    wallet = store.get("carbon_wallets", a["account"]) or {
        "retired_wh": 0,
        "co2e_grams": 0,
        "retirement_count": 0,
    }
    store.put(
        "carbon_wallets",
        a["account"],
        {
            "retired_wh": int(wallet["retired_wh"]) + energy,
            "co2e_grams": int(wallet["co2e_grams"]) + co2e,
            "retirement_count": int(wallet["retirement_count"]) + 1,
        },
        block,
    )
    store.notify(
        "gridcast:certificateRetired",
        {
            "retirementId": str(a["retirementId"]),
            "account": a["account"],
            "certificateId": str(token),
            "energyWh": str(energy),
            "co2eGrams": str(co2e),
            "block": block,
        },
    )


def on_emission_factor_set(ev: Event, store: Store) -> None:
    a = ev.args
    store.put(
        "emission_factors",
        a["feedId"],
        {"grams_per_kwh": a["gramsPerKwh"], "block_number": ev.block_number},
        ev.block_number,
    )


HANDLERS = {
    "TransferSingle": on_transfer_single,
    "TransferBatch": on_transfer_batch,
    "DeliveryCertified": on_delivery_certified,
    "CertificatesRetired": on_certificates_retired,
    "EmissionFactorSet": on_emission_factor_set,
}
