"""Bootstrap a complete local market: contracts, the two real-data feeds, funded and staked
operators, reward pools, the deployment and market files. For the demo, tests and benchmarks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from web3 import Web3

from gridcast.chain.deploy import deploy_all, fund_and_stake, register_feed
from gridcast.chain.deployment import Deployment, FeedParams
from gridcast.chain.keys import dev_account
from gridcast.chain.market import FeedBinding, Market
from gridcast.chain.submitter import Submitter
from gridcast.chain.views import Contracts

TOKEN = 10**18


@dataclass(frozen=True)
class FeedSpec:
    dataset: str
    region: str
    metric: str
    resolution_s: int
    decimals: int
    tolerance: float  # in the feed's unit: error at which accuracy reaches zero
    slash_threshold: float  # in the feed's unit
    data_start: str


# Held-out months of each dataset (the ML split keeps its last 30 days out of training).
SOLAR = FeedSpec("solar", "NREL-system50", "solar_ac_power_w", 3600, 1, 900.0, 2500.0, "2013-12-01")
DEMAND = FeedSpec("demand", "AU-VIC", "demand_gw", 3600, 4, 0.6, 1.5, "2014-12-01")
DEFAULT_FEEDS = (SOLAR, DEMAND)


def feed_params(
    spec: FeedSpec,
    genesis: int,
    *,
    epoch_length: int,
    epochs_per_round: int = 24,
    reveal_window: int | None = None,
    lead_time: int | None = None,
    truth_timeout: int | None = None,
    dispute_window: int | None = None,
) -> FeedParams:
    scale = 10**spec.decimals
    return FeedParams(
        genesis=genesis,
        epoch_length=epoch_length,
        epochs_per_round=epochs_per_round,
        reveal_window=reveal_window or max(epoch_length, 4),
        lead_time=lead_time or max(epoch_length // 2, 2),
        truth_timeout=truth_timeout or epoch_length * epochs_per_round * 4,
        dispute_window=dispute_window or max(epoch_length // 2, 2),
        decimals=spec.decimals,
        max_forecasts_per_epoch=64,
        slash_bps=500,
        non_reveal_slash_bps=200,
        min_stake=100 * TOKEN,
        reward_per_epoch=10 * TOKEN,
        dispute_bond=5 * TOKEN,
        tolerance=round(spec.tolerance * scale),
        slash_threshold=round(spec.slash_threshold * scale),
    )


@dataclass
class LocalMarket:
    deployment: Deployment
    market: Market
    admin: Submitter
    operators: list[Submitter]
    params: dict[str, FeedParams]  # feed id hex -> params

    def contract(self, name: str):  # type: ignore[no-untyped-def]
        return self.deployment.contract(self.admin.w3, name)

    @property
    def chain(self) -> Contracts:
        """Typed reads of the deployed contracts (truth status, batches, consensus)."""
        return Contracts(self.admin.w3, self.deployment)


def bootstrap(
    rpc_url: str,
    state_dir: Path,
    *,
    operator_keys: list[int],
    genesis: int,
    epoch_length: int,
    epochs_per_round: int = 24,
    feeds: tuple[FeedSpec, ...] = DEFAULT_FEEDS,
    stake: int = 1_000 * TOKEN,
    pool: int = 10_000 * TOKEN,
    chain_id: int = 31337,
    **timing: int,
) -> LocalMarket:
    """Dev key 0 is the admin, truth reporter and arbiter; `operator_keys` name the operators."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}))
    admin = Submitter(w3, dev_account(0, chain_id))
    dep = deploy_all(admin, truth_reporters=[admin.address], arbiters=[admin.address])
    registry = dep.contract(w3, "ForecastRegistry")
    token = dep.contract(w3, "GridToken")
    staking = dep.contract(w3, "OperatorStaking")
    settlement = dep.contract(w3, "Settlement")
    bindings: list[FeedBinding] = []
    params: dict[str, FeedParams] = {}
    admin.transact(token, "mint", admin.address, pool * len(feeds) + 10_000 * TOKEN)
    admin.transact(token, "approve", settlement.address, 2**256 - 1)
    for spec in feeds:
        p = feed_params(
            spec, genesis, epoch_length=epoch_length, epochs_per_round=epochs_per_round, **timing
        )
        fid = register_feed(admin, registry, spec.region, spec.metric, spec.resolution_s, p)
        admin.transact(settlement, "fundRewards", fid, pool)
        bindings.append(
            FeedBinding(
                "0x" + fid.hex(),
                spec.dataset,
                spec.region,
                spec.metric,
                spec.resolution_s,
                spec.data_start,
                spec.resolution_s,
            )
        )
        params["0x" + fid.hex()] = p
    ops = [Submitter(w3, dev_account(i, chain_id)) for i in operator_keys]
    for op in ops:
        fund_and_stake(admin, op, token, staking, stake)
    market = Market(bindings)
    state_dir.mkdir(parents=True, exist_ok=True)
    dep.save(state_dir / "deployment.json")
    market.save(state_dir / "market.json")
    return LocalMarket(dep, market, admin, ops, params)
