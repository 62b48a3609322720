"""The operator loop: `step()` plans, commits, reveals, claims and withdraws; `run()` repeats.

State comes from the chain and the journal, so the bot can be killed at any moment and restarted:
it never commits a batch twice (the registry's watermark forbids it, and the journal's planned
curve is re-sent rather than re-drawn) and it reveals what it committed while the window is open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from web3 import Web3

from gridcast.chain.commitments import Curve, commit_typed_data, sign_commit
from gridcast.chain.deployment import Deployment
from gridcast.chain.errors import ContractRevertError, GridcastError, NonRetryableError
from gridcast.chain.feeds import FeedView
from gridcast.chain.submitter import CircuitOpenError, Submitter
from gridcast.chain.views import Contracts, TruthStatus
from gridcast.errors import NotReadyError
from gridcast.operator.journal import (
    ABANDONED,
    COMMITTED,
    MISSED,
    PLANNED,
    REVEALED,
    Journal,
    JournalEntry,
)

log = logging.getLogger(__name__)


class CurveSource(Protocol):
    """What a forecasting model must offer the bot: scaled integer curves for consecutive epochs."""

    name: str

    def model_hash(self, feed: FeedView) -> bytes: ...

    def curve(
        self, feed: FeedView, first_epoch: int, count: int
    ) -> tuple[list[int], list[int], list[int]]: ...


Uploader = Callable[[Curve, FeedView, str], None]


@dataclass
class StepReport:
    committed: list[tuple[str, int, int]] = field(default_factory=list)
    revealed: list[tuple[str, int]] = field(default_factory=list)
    missed: list[tuple[str, int, str]] = field(default_factory=list)
    claimed: list[tuple[str, int]] = field(default_factory=list)
    withdrawn: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def did_something(self) -> bool:
        return bool(
            self.committed or self.revealed or self.missed or self.claimed or self.withdrawn
        )


class OperatorBot:
    def __init__(
        self,
        submitter: Submitter,
        deployment: Deployment,
        feed_ids: list[bytes],
        source: CurveSource,
        journal: Journal,
        *,
        relayer: Submitter | None = None,
        uploader: Uploader | None = None,
        commit_margin_s: int = 2,
        withdraw: bool = True,
    ) -> None:
        self.sub = submitter
        self.w3: Web3 = submitter.w3
        self.dep = deployment
        self.chain = Contracts(self.w3, deployment)
        self.registry = self.chain.registry
        self.settlement = self.chain.settlement
        self.feeds = self.chain.feeds(feed_ids)
        self.source = source
        self.journal = journal
        self.relayer = relayer
        self.uploader = uploader
        self._uploads: list[tuple[Curve, FeedView, int]] = []  # (curve, feed, attempts) to retry
        self.margin = commit_margin_s
        self.withdraw = withdraw
        self.operator = submitter.address
        self._waiting: set[bytes] = set()  # feeds whose source is not ready (warned once)

    def now(self) -> int:
        return self.chain.now()

    # ------------------------------------------------------------------ one pass

    def step(self) -> StepReport:
        report = StepReport()
        now = self.now()
        # Reveals first: their window is the shortest deadline an operator has.
        for stage in (
            self._recover_planned,
            self._reveal_due,
            self._commit_next,
            self._claim_settled,
        ):
            try:
                stage(now, report)
            except CircuitOpenError:
                raise
            except GridcastError as exc:
                log.error("%s: %s", stage.__name__, exc)
                report.errors.append(f"{stage.__name__}: {exc}")
        if self.uploader is not None and self._uploads:
            self._upload_pending(report)
        if self.withdraw:
            try:
                balance = int(self.settlement.functions.balanceOf(self.operator).call())
                if balance > 0:
                    self.sub.transact(self.settlement, "withdraw")
                    report.withdrawn = balance
            except GridcastError as exc:
                report.errors.append(f"withdraw: {exc}")
        return report

    def run(self, stop: threading.Event, interval_s: float = 1.0) -> None:
        while not stop.is_set():
            report = self.step()
            if report.did_something:
                log.info("operator %s: %s", self.operator, report)
            stop.wait(interval_s)

    # ------------------------------------------------------------------ stages

    def _feed(self, feed: bytes) -> FeedView:
        return next(f for f in self.feeds if f.feed_id == feed)

    def _onchain_root(self, curve: Curve) -> bytes:
        return self.chain.batch(curve.feed, curve.operator, curve.first_epoch).root

    def _recover_planned(self, now: int, report: StepReport) -> None:
        """A planned curve may or may not have landed before a crash: the chain decides."""
        for entry in self.journal.entries(PLANNED):
            curve = entry.curve
            if self._onchain_root(curve) == curve.root():
                self.journal.mark(curve, COMMITTED, note="found on-chain after restart")
                continue
            feed = self._feed(curve.feed)
            if feed.commit_deadline(curve.first_epoch) <= now + self.margin:
                self.journal.mark(curve, ABANDONED, note="commit window passed before sending")
                continue
            self._send_commit(feed, curve, report)

    def _commit_next(self, now: int, report: StepReport) -> None:
        for feed in self.feeds:
            watermark = int(
                self.registry.functions.nextCommittableEpoch(feed.feed_id, self.operator).call()
            )
            first = feed.next_open_round(now, watermark, self.margin)
            if first is None or self.journal.get(feed.feed_id, self.operator, first):
                continue
            count = feed.params.epochs_per_round
            try:
                values, lowers, uppers = self.source.curve(feed, first, count)
            except NotReadyError as exc:  # e.g. no nowcast yet: one warning while it waits
                if feed.feed_id not in self._waiting:
                    self._waiting.add(feed.feed_id)
                    log.warning("waiting for %s: %s", feed.name, exc)
                else:
                    log.debug("still waiting for %s: %s", feed.name, exc)
                report.errors.append(f"forecast {feed.name} epoch {first}: {exc}")
                continue
            except Exception as exc:  # noqa: BLE001 - a model failure skips this round, not the bot
                log.error("no curve for %s epochs %d+: %s", feed.name, first, exc)
                report.errors.append(f"forecast {feed.name} epoch {first}: {exc}")
                continue
            self._waiting.discard(feed.feed_id)
            curve = Curve(
                feed=feed.feed_id,
                operator=self.operator,
                first_epoch=first,
                values=values,
                lowers=lowers,
                uppers=uppers,
                model_hash=self.source.model_hash(feed),
            )
            self.journal.plan(curve)  # salt on disk before anything leaves this process
            self._send_commit(feed, curve, report)

    def _send_commit(self, feed: FeedView, curve: Curve, report: StepReport) -> None:
        try:
            if self.relayer is None:
                receipt = self.sub.transact(
                    self.registry, "commit", curve.feed, curve.first_epoch, curve.commitments()
                )
            else:
                receipt = self._relay_commit(curve)
        except ContractRevertError as exc:
            if (
                exc.name == "ForecastRegistryAlreadyCommitted"
                and self._onchain_root(curve) == curve.root()
            ):
                self.journal.mark(curve, COMMITTED)
                return
            self.journal.mark(curve, ABANDONED, note=str(exc))
            report.errors.append(f"commit {feed.name} epoch {curve.first_epoch}: {exc}")
            return
        if receipt is None:  # dry run
            return
        self.journal.mark(curve, COMMITTED, tx=receipt["transactionHash"].hex())
        report.committed.append((feed.name, curve.first_epoch, len(curve.values)))
        if self.uploader is not None:
            self._uploads.append((curve, feed, 0))
            self._upload_pending(report)

    def _upload_pending(self, report: StepReport, max_attempts: int = 20) -> None:
        """Off-chain records are best effort: an API outage must not stop the operator, and a
        failed upload is retried on later passes."""
        assert self.uploader is not None
        waiting, self._uploads = self._uploads, []
        for curve, feed, attempts in waiting:
            try:
                self.uploader(curve, feed, self.source.name)
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then given up
                if attempts + 1 < max_attempts:
                    self._uploads.append((curve, feed, attempts + 1))
                log.warning("upload of %s epoch %d failed: %s", feed.name, curve.first_epoch, exc)
                report.errors.append(f"upload: {exc}")

    def _relay_commit(self, curve: Curve):  # type: ignore[no-untyped-def]
        assert self.relayer is not None
        nonce = int(self.registry.functions.nonces(curve.operator).call())
        deadline = self.now() + 600
        typed = commit_typed_data(
            self.sub.chain_id,
            self.registry.address,
            curve.operator,
            curve.feed,
            curve.first_epoch,
            curve.commitments(),
            nonce,
            deadline,
        )
        signature = sign_commit(self.sub.account.key, typed)
        return self.relayer.transact(
            self.registry,
            "commitWithSignature",
            curve.operator,
            curve.feed,
            curve.first_epoch,
            curve.commitments(),
            deadline,
            signature,
        )

    def _reveal_due(self, now: int, report: StepReport) -> None:
        for entry in self.journal.entries(COMMITTED):
            curve = entry.curve
            feed = self._feed(curve.feed)
            if now < feed.commit_deadline(curve.first_epoch):
                continue
            if now >= feed.reveal_deadline(curve.first_epoch):
                self._missed(entry, feed, "reveal window passed", report)
                continue
            try:
                receipt = self.sub.transact(
                    self.registry,
                    "reveal",
                    curve.feed,
                    curve.operator,
                    curve.first_epoch,
                    curve.opening(),
                )
            except ContractRevertError as exc:
                if exc.name == "ForecastRegistryAlreadyRevealed":
                    self.journal.mark(curve, REVEALED, note="revealed by someone else")
                elif exc.name == "ForecastRegistryRevealClosed":
                    self._missed(entry, feed, str(exc), report)
                else:
                    raise
                continue
            if receipt is not None:
                self.journal.mark(curve, REVEALED, tx=receipt["transactionHash"].hex())
                report.revealed.append((feed.name, curve.first_epoch))

    def _missed(self, entry: JournalEntry, feed: FeedView, why: str, report: StepReport) -> None:
        self.journal.mark(entry.curve, MISSED, note=why)
        log.error("missed the reveal of %s epochs %d+: %s", feed.name, entry.curve.first_epoch, why)
        report.missed.append((feed.name, entry.curve.first_epoch, why))

    def _claim_settled(self, now: int, report: StepReport) -> None:
        for entry in self.journal.entries(REVEALED):
            curve = entry.curve
            feed = self._feed(curve.feed)
            done = self.journal.claimed_epochs(curve.feed, curve.operator)
            for epoch in curve.epochs:
                if epoch in done or now < feed.epoch_end(epoch):
                    continue
                status = self.chain.truth_status(curve.feed, epoch)
                if status == TruthStatus.CANCELLED:
                    self.journal.record_claim(curve.feed, curve.operator, epoch, "cancelled")
                elif status == TruthStatus.SETTLED:
                    if not self.settlement.functions.claimed(
                        curve.feed, epoch, curve.operator
                    ).call():
                        try:
                            self.sub.transact(
                                self.settlement,
                                "claim",
                                curve.feed,
                                epoch,
                                curve.operator,
                                curve.first_epoch,
                            )
                        except ContractRevertError as exc:
                            if exc.name != "SettlementAlreadyClaimed":
                                raise
                    self.journal.record_claim(curve.feed, curve.operator, epoch, "claimed")
                    report.claimed.append((feed.name, epoch))


def wait_for(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise NonRetryableError(f"timed out waiting for {what}")
        time.sleep(0.05)
