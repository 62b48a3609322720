"""Typed views of contract state: IntEnums mirroring the Solidity enums, named tuples for struct
reads, and :func:`connect`, the one place a Web3 connection, a signing account and the
deployment are put together (operator, keeper, truth oracle and demo all start from it).

``tests/gridcast/test_views.py`` checks the enums against the Solidity sources and the named
tuples against the compiled ABI, so a reordered enum or struct fails a test, not a settlement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple

from web3 import Web3
from web3.contract import Contract

from gridcast.chain.deployment import Deployment
from gridcast.chain.feeds import FeedView

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from gridcast.chain.market import Market
    from gridcast.chain.submitter import Submitter
    from gridcast.settings import Settings


class TruthStatus(IntEnum):
    """``ISettlement.TruthStatus``."""

    NONE = 0
    SUBMITTED = 1
    DISPUTED = 2
    CANCELLED = 3
    SETTLED = 4

    @property
    def final(self) -> bool:
        """Nothing more will happen to the epoch's truth."""
        return self in (TruthStatus.CANCELLED, TruthStatus.SETTLED)


# Solidity enum name -> its mirror (the test walks this table).
ENUMS: dict[str, type[IntEnum]] = {"ISettlement.TruthStatus": TruthStatus}


class Truth(NamedTuple):
    """``Settlement.truthOf(feedId, epoch)`` (``ISettlement.Truth``)."""

    value: int
    submitted_at: int
    status: TruthStatus
    dispute_resolved: bool
    reporter: str
    evidence_hash: bytes

    @classmethod
    def of(cls, raw: tuple | list) -> Truth:  # type: ignore[type-arg]
        value, submitted_at, status, resolved, reporter, evidence = raw
        return cls(
            int(value), int(submitted_at), TruthStatus(int(status)), bool(resolved), reporter,
            bytes(evidence),
        )  # fmt: skip


class Consensus(NamedTuple):
    """``ForecastRegistry.consensusOf(feedId, epoch)`` (``IForecastRegistry.Consensus``)."""

    value: int
    lower: int
    upper: int
    finalized_at: int

    @property
    def finalized(self) -> bool:
        return self.finalized_at != 0

    @classmethod
    def of(cls, raw: tuple | list) -> Consensus:  # type: ignore[type-arg]
        return cls(*(int(v) for v in raw))


class Batch(NamedTuple):
    """``ForecastRegistry.batch(feedId, operator, firstEpoch)``: one committed curve."""

    root: bytes
    weight: int
    count: int  # type: ignore[assignment]  # ABI field name; shadows tuple.count
    revealed: bool
    committed_at: int  # fixes the slash cap that applies to the batch

    @property
    def committed(self) -> bool:
        return self.count > 0

    @classmethod
    def of(cls, raw: tuple | list) -> Batch:  # type: ignore[type-arg]
        root, weight, count, revealed, committed_at = raw
        return cls(bytes(root), int(weight), int(count), bool(revealed), int(committed_at))


class Forecast(NamedTuple):
    """``ForecastRegistry.getForecast(feedId, epoch, operator)``."""

    committed: bool
    revealed: bool
    weight: int
    value: int
    lower: int
    upper: int

    @classmethod
    def of(cls, raw: tuple | list) -> Forecast:  # type: ignore[type-arg]
        committed, revealed, weight, value, lower, upper = raw
        return cls(bool(committed), bool(revealed), int(weight), int(value), int(lower), int(upper))


class Dispute(NamedTuple):
    """``Settlement.disputeOf(feedId, epoch)``."""

    disputer: str
    proposed_value: int

    @classmethod
    def of(cls, raw: tuple | list) -> Dispute:  # type: ignore[type-arg]
        return cls(raw[0], int(raw[1]))


class EpochResult(NamedTuple):
    """``Settlement.resultOf(feedId, epoch)``."""

    reward: int
    paid_out: int
    total_score: int

    @classmethod
    def of(cls, raw: tuple | list) -> EpochResult:  # type: ignore[type-arg]
        return cls(*(int(v) for v in raw))


# ABI function (contract, name) -> the named tuple its (single struct) output reads into.
STRUCT_READS: dict[tuple[str, str], type[tuple]] = {  # type: ignore[type-arg]
    ("Settlement", "truthOf"): Truth,
    ("Settlement", "disputeOf"): Dispute,
    ("Settlement", "resultOf"): EpochResult,
    ("ForecastRegistry", "consensusOf"): Consensus,
    ("ForecastRegistry", "batch"): Batch,
    ("ForecastRegistry", "getForecast"): Forecast,
}


@dataclass
class Contracts:
    """The deployed contracts seen through one Web3 connection, with typed reads."""

    w3: Web3
    deployment: Deployment

    @cached_property
    def registry(self) -> Contract:
        return self.deployment.contract(self.w3, "ForecastRegistry")

    @cached_property
    def settlement(self) -> Contract:
        return self.deployment.contract(self.w3, "Settlement")

    @cached_property
    def staking(self) -> Contract:
        return self.deployment.contract(self.w3, "OperatorStaking")

    @cached_property
    def token(self) -> Contract:
        return self.deployment.contract(self.w3, "GridToken")

    def now(self) -> int:
        """The latest block's timestamp (chain time)."""
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def feed(self, feed_id: bytes) -> FeedView:
        return FeedView.read(self.registry, feed_id)

    def feeds(self, feed_ids: list[bytes]) -> list[FeedView]:
        return [self.feed(f) for f in feed_ids]

    def truth(self, feed_id: bytes, epoch: int) -> Truth:
        return Truth.of(self.settlement.functions.truthOf(feed_id, epoch).call())

    def truth_status(self, feed_id: bytes, epoch: int) -> TruthStatus:
        return self.truth(feed_id, epoch).status

    def consensus(self, feed_id: bytes, epoch: int) -> Consensus:
        return Consensus.of(self.registry.functions.consensusOf(feed_id, epoch).call())

    def batch(self, feed_id: bytes, operator: str, first_epoch: int) -> Batch:
        return Batch.of(self.registry.functions.batch(feed_id, operator, first_epoch).call())

    def forecast(self, feed_id: bytes, epoch: int, operator: str) -> Forecast:
        raw = self.registry.functions.getForecast(feed_id, epoch, operator).call()
        return Forecast.of(raw)


@dataclass
class Connection(Contracts):
    """:class:`Contracts` plus the account that signs (a :class:`Submitter`) and the market."""

    submitter: Submitter
    settings: Settings

    @property
    def account(self) -> LocalAccount:
        return self.submitter.account

    @cached_property
    def market(self) -> Market:
        from gridcast.chain.market import Market

        return Market.load(self.settings.deployment_file.with_name("market.json"))


@dataclass(frozen=True)
class KeyChoice:
    """Which key signs: an Ape keystore alias, or an anvil dev key (local chains only)."""

    alias: str | None = None
    dev_key: int | None = None

    def resolve(self, chain_id: int) -> LocalAccount:
        from gridcast.chain.accounts import resolve_account

        return resolve_account(self.alias, self.dev_key, chain_id)


def web3_for(settings: Settings, timeout_s: float = 30.0) -> Web3:
    """A Web3 over HTTP to ``settings.rpc_url``."""
    return Web3(Web3.HTTPProvider(settings.rpc_url, request_kwargs={"timeout": timeout_s}))


def connect(
    settings: Settings,
    account: LocalAccount | KeyChoice,
    *,
    w3: Web3 | None = None,
    deployment: Deployment | None = None,
    **submitter_options: object,
) -> Connection:
    """Connect to the chain at ``settings.rpc_url`` (or `w3`), resolve `account` against its chain
    id, and load the deployment file: everything a process that signs needs. An unreachable node
    surfaces as the transport's connection error, which :func:`gridcast.diagnosis.exit_on_error`
    turns into one line naming the URL."""
    from gridcast.chain.submitter import Submitter

    w3 = w3 or web3_for(settings)
    if isinstance(account, KeyChoice):
        account = account.resolve(int(w3.eth.chain_id))
    dep = deployment or Deployment.load(settings.deployment_file)
    submitter = Submitter(w3, account, **submitter_options)  # type: ignore[arg-type]
    return Connection(w3=w3, deployment=dep, submitter=submitter, settings=settings)
