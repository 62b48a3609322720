"""The demo's closing table, from the chain's own events (the API is checked against it)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from web3 import Web3

from gridcast.chain.deployment import Deployment
from gridcast.market import Market

TOKEN = 10**18


@dataclass
class OperatorSummary:
    label: str
    address: str
    forecasts: int = 0
    scored: int = 0
    scaled_errors: list[float] = field(default_factory=list)
    rewards: int = 0
    slashed: int = 0
    balance: int = 0
    stake: int = 0

    @property
    def mase(self) -> float | None:
        return float(np.mean(self.scaled_errors)) if self.scaled_errors else None


def naive24_scale(market: Market, feed_hex: str, decimals: int) -> float:
    """In-sample lag-24 naive MAE before the market's data start, in on-chain integer units."""
    import pandas as pd

    from ml.datasets import load_feed

    binding = market.binding(feed_hex)
    series = load_feed(binding.dataset)
    end = series.position(pd.Timestamp(binding.data_time(0)))
    y = series.target[max(0, end - 24 * 60) : end]
    diffs = np.abs(y[24:] - y[:-24])
    return float(np.nanmean(diffs)) * 10**decimals


def summarize(
    w3: Web3, dep: Deployment, market: Market, labels: dict[str, str]
) -> list[OperatorSummary]:
    registry = dep.contract(w3, "ForecastRegistry")
    settlement = dep.contract(w3, "Settlement")
    staking = dep.contract(w3, "OperatorStaking")
    token = dep.contract(w3, "GridToken")
    out = {a: OperatorSummary(label, Web3.to_checksum_address(a)) for a, label in labels.items()}
    start = dep.block
    scales: dict[str, float] = {}
    decimals: dict[str, int] = defaultdict(int)
    for b in market.feeds:
        params = registry.functions.feedParams(b.feed_bytes).call()
        decimals[b.feed_id.lower()] = int(params[7])
        scales[b.feed_id.lower()] = naive24_scale(market, b.feed_id, int(params[7]))
    for ev in registry.events.ForecastsRevealed().get_logs(from_block=start):
        op = ev["args"]["operator"]
        if op in out:
            out[op].forecasts += len(ev["args"]["opening"]["values"])
    for ev in settlement.events.ForecastScored().get_logs(from_block=start):
        a = ev["args"]
        op = a["operator"]
        if op not in out:
            continue
        s = out[op]
        s.rewards += int(a["reward"])
        s.slashed += int(a["slashed"])
        if a["revealed"]:
            s.scored += 1
            feed_hex = "0x" + bytes(a["feedId"]).hex()
            scale = scales.get(feed_hex.lower()) or 1.0
            s.scaled_errors.append(int(a["absError"]) / scale)
    for s in out.values():
        s.balance = int(token.functions.balanceOf(s.address).call())
        s.stake = int(staking.functions.stakeOf(s.address).call())
    return list(out.values())


def render(rows: list[OperatorSummary]) -> str:
    head = (
        f"{'operator':<22}{'forecasts':>10}{'scored':>8}{'MASE':>8}"
        f"{'rewards':>12}{'slashed':>10}{'balance+stake':>15}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        mase = f"{r.mase:.3f}" if r.mase is not None else "-"
        lines.append(
            f"{r.label:<22}{r.forecasts:>10}{r.scored:>8}{mase:>8}"
            f"{r.rewards / TOKEN:>12.4f}{r.slashed / TOKEN:>10.4f}"
            f"{(r.balance + r.stake) / TOKEN:>15.4f}"
        )
    for r in rows:  # a 0 in "scored" says why underneath, so it does not read as a failure
        if r.scored == 0:
            why = (
                "it revealed no forecast while the demo ran (a source that needs live history, "
                "like the nowcast, commits only once it has some)"
                if r.forecasts == 0
                else "its revealed epochs were not settled before the demo ended"
            )
            lines.append(f"note: {r.label} has 0 scored forecasts: {why}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the exchange


@dataclass
class TraderSummary:
    """One exchange participant's settled trading, from the exchange's and certificates' events."""

    label: str
    role: str  # producer | load | market
    address: str
    sold_wh: int = 0  # filled sells (Wh, rounded down as OrderSettled reports them)
    bought_wh: int = 0
    delivered_wh: int = 0  # proven metered delivery of its sells
    paid: int = 0  # buys: charged (token base units)
    received: int = 0  # sells: paid for delivered energy
    penalty: int = 0  # sells: imbalance penalty paid; buys: compensation received
    minted_wh: int = 0  # certificates minted to it
    retired_wh: int = 0


@dataclass
class ExchangeSummary:
    traders: list[TraderSummary]
    clearings: list[tuple[int, int, int]]  # (epoch, price per Wh, volume Wh)
    minted_wh: int
    retired_wh: int
    co2e_grams: int
    beneficiaries: list[str]


def summarize_exchange(
    w3: Web3, dep: Deployment, labels: dict[str, tuple[str, str]], feed_id: bytes
) -> ExchangeSummary:
    exchange = dep.contract(w3, "EnergyExchange")
    certificates = dep.contract(w3, "EnergyCertificates")
    start = dep.block
    rows = {a: TraderSummary(label, role, a) for a, (label, role) in labels.items()}
    for ev in exchange.events.OrderSettled().get_logs(from_block=start):
        a = ev["args"]
        row = rows.get(a["trader"])
        if row is None or bytes(a["feedId"]) != feed_id:
            continue
        if a["isSell"]:
            row.sold_wh += int(a["filledWh"])
            row.delivered_wh += int(a["deliveredWh"])
            row.received += int(a["amount"])
        else:
            row.bought_wh += int(a["filledWh"])
            row.paid += int(a["amount"])
        row.penalty += int(a["adjustment"])
    clearings = sorted(
        (int(ev["args"]["epoch"]), int(ev["args"]["price"]), int(ev["args"]["volume"]))
        for ev in exchange.events.BookCleared().get_logs(from_block=start)
        if bytes(ev["args"]["feedId"]) == feed_id
    )
    minted = 0
    for ev in certificates.events.DeliveryCertified().get_logs(from_block=start):
        energy = sum(int(x) for x in ev["args"]["energyWh"])
        minted += energy
        if ev["args"]["owner"] in rows:
            rows[ev["args"]["owner"]].minted_wh += energy
    retired = co2e = 0
    beneficiaries: list[str] = []
    for ev in certificates.events.CertificatesRetired().get_logs(from_block=start):
        a = ev["args"]
        retired += int(a["energyWh"])
        co2e += int(a["co2eGrams"])
        if a["beneficiary"] not in beneficiaries:
            beneficiaries.append(a["beneficiary"])
        if a["account"] in rows:
            rows[a["account"]].retired_wh += int(a["energyWh"])
    return ExchangeSummary(list(rows.values()), clearings, minted, retired, co2e, beneficiaries)


def render_exchange(s: ExchangeSummary) -> str:
    head = (
        f"{'exchange participant':<22}{'role':>9}{'sold Wh':>9}{'bought Wh':>10}"
        f"{'delivered Wh':>13}{'received':>10}{'paid':>10}{'penalty':>10}"
        f"{'certs Wh':>10}{'retired Wh':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in s.traders:
        lines.append(
            f"{r.label:<22}{r.role:>9}{r.sold_wh:>9}{r.bought_wh:>10}{r.delivered_wh:>13}"
            f"{r.received / TOKEN:>10.4f}{r.paid / TOKEN:>10.4f}{r.penalty / TOKEN:>10.4f}"
            f"{r.minted_wh:>10}{r.retired_wh:>11}"
        )
    lines.append(
        "(received / paid / penalty in GRID; penalty: imbalance penalty paid by a producer, "
        "compensation received by a load)"
    )
    for epoch, price, volume in s.clearings:
        lines.append(
            f"clearing: epoch {epoch} price {price * 1000 / TOKEN:.6f} GRID/kWh volume {volume} Wh"
        )
    who = ", ".join(s.beneficiaries) or "nobody"
    lines.append(
        f"certificates: minted {s.minted_wh} Wh, retired {s.retired_wh} Wh for {who} "
        f"({s.co2e_grams} g CO2e avoided)"
    )
    return "\n".join(lines)
