"""The keeper: permissionless upkeep that someone must do: finalize consensus after the reveal
deadline, settle epochs after the dispute window, cancel epochs whose truth never came.

The revealed set of an epoch comes from the registry's own `ForecastsRevealed` logs, so the
keeper depends on nothing but the chain."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from web3 import Web3

from gridcast.chain.deployment import Deployment
from gridcast.chain.errors import ContractRevertError
from gridcast.chain.feeds import FeedView
from gridcast.chain.submitter import Submitter
from gridcast.chain.views import Contracts, TruthStatus

log = logging.getLogger(__name__)


@dataclass
class KeeperReport:
    finalized: list[tuple[str, int]] = field(default_factory=list)
    settled: list[tuple[str, int]] = field(default_factory=list)
    cancelled: list[tuple[str, int]] = field(default_factory=list)
    penalized: list[tuple[str, int, str]] = field(default_factory=list)


class Keeper:
    def __init__(self, submitter: Submitter, deployment: Deployment, feed_ids: list[bytes]) -> None:
        self.sub = submitter
        self.w3: Web3 = submitter.w3
        self.dep = deployment
        self.chain = Contracts(self.w3, deployment)
        self.registry = self.chain.registry
        self.settlement = self.chain.settlement
        self.feeds = self.chain.feeds(feed_ids)
        self._scanned_to = deployment.block - 1
        # feed -> epoch -> {operator: firstEpoch}
        self._revealed: dict[bytes, dict[int, dict[str, int]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        # the same for every committed batch, revealed or not
        self._committed: dict[bytes, dict[int, dict[str, int]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        self._done: set[tuple[bytes, int, str]] = set()

    def _scan(self) -> None:
        head = int(self.w3.eth.block_number)
        if head <= self._scanned_to:
            return
        commits = self.registry.events.ForecastsCommitted().get_logs(
            from_block=self._scanned_to + 1, to_block=head
        )
        for ev in commits:
            args = ev["args"]
            first = int(args["firstEpoch"])
            for i in range(len(args["commitments"])):
                self._committed[bytes(args["feedId"])][first + i][args["operator"]] = first
        logs = self.registry.events.ForecastsRevealed().get_logs(
            from_block=self._scanned_to + 1, to_block=head
        )
        for ev in logs:
            args = ev["args"]
            first = int(args["firstEpoch"])
            for i in range(len(args["opening"]["values"])):
                self._revealed[bytes(args["feedId"])][first + i][args["operator"]] = first
        self._scanned_to = head

    def revealed_set(self, feed: bytes, epoch: int) -> tuple[list[str], list[int]]:
        self._scan()
        entries = sorted(self._revealed[feed][epoch].items(), key=lambda kv: int(kv[0], 16))
        return [op for op, _ in entries], [first for _, first in entries]

    def step(self, now: int | None = None) -> KeeperReport:
        report = KeeperReport()
        now = now if now is not None else self.chain.now()
        self._scan()
        for feed in self.feeds:
            epochs = sorted(set(self._revealed[feed.feed_id]) | set(self._committed[feed.feed_id]))
            for epoch in epochs:
                self._finalize(feed, epoch, now, report)
                self._settle(feed, epoch, now, report)
            for epoch in sorted(self._committed[feed.feed_id]):
                self._penalize_unrevealed(feed, epoch, report)
        return report

    def _penalize_unrevealed(self, feed: FeedView, epoch: int, report: KeeperReport) -> None:
        """A commitment never revealed is penalised once its epoch is settled: anyone may claim
        for it, and nobody else will."""
        key = (feed.feed_id, epoch, "penalize")
        if key in self._done:
            return
        status = self.chain.truth_status(feed.feed_id, epoch)
        if status == TruthStatus.CANCELLED:
            self._done.add(key)
            return
        if status != TruthStatus.SETTLED:
            return
        revealed = self._revealed[feed.feed_id].get(epoch, {})
        for op, first in self._committed[feed.feed_id][epoch].items():
            if op in revealed or self.settlement.functions.claimed(feed.feed_id, epoch, op).call():
                continue
            try:
                self.sub.transact(self.settlement, "claim", feed.feed_id, epoch, op, first)
                report.penalized.append((feed.name, epoch, op))
            except ContractRevertError as exc:
                if exc.name != "SettlementAlreadyClaimed":
                    log.warning("penalty claim %s/%d %s: %s", feed.name, epoch, op, exc)
        self._done.add(key)

    def _finalize(self, feed: FeedView, epoch: int, now: int, report: KeeperReport) -> None:
        key = (feed.feed_id, epoch, "finalize")
        if key in self._done or now < feed.reveal_deadline(epoch):
            return
        if self.chain.consensus(feed.feed_id, epoch).finalized:
            self._done.add(key)
            return
        ops, firsts = self.revealed_set(feed.feed_id, epoch)
        if not ops:  # nothing revealed: no consensus for this epoch
            self._done.add(key)
            return
        try:
            self.sub.transact(self.registry, "finalizeConsensus", feed.feed_id, epoch, ops, firsts)
            report.finalized.append((feed.name, epoch))
        except ContractRevertError as exc:
            if exc.name != "ForecastRegistryConsensusFinalized":
                log.warning("finalize %s/%d: %s", feed.name, epoch, exc)
                return
        self._done.add(key)

    def _settle(self, feed: FeedView, epoch: int, now: int, report: KeeperReport) -> None:
        key = (feed.feed_id, epoch, "settle")
        if key in self._done or now < feed.epoch_end(epoch):
            return
        truth = self.chain.truth(feed.feed_id, epoch)
        if truth.status.final:
            self._done.add(key)
            return
        if truth.status == TruthStatus.NONE:
            if now >= feed.truth_deadline(epoch):
                self.sub.transact(self.settlement, "cancelEpoch", feed.feed_id, epoch)
                report.cancelled.append((feed.name, epoch))
                self._done.add(key)
            return
        if truth.status != TruthStatus.SUBMITTED or (
            not truth.dispute_resolved and now < truth.submitted_at + feed.params.dispute_window
        ):
            return
        ops, firsts = self.revealed_set(feed.feed_id, epoch)
        self.sub.transact(self.settlement, "settle", feed.feed_id, epoch, ops, firsts)
        report.settled.append((feed.name, epoch))
        self._done.add(key)
