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
