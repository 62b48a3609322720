"""The truth oracle: closed per-epoch windows from the Spark job (``epoch_actuals``) become on-chain
truths, at most once per (feed, epoch), through the shared Submitter. Also the dispute watch.

An epoch with too little meter coverage is not submitted: an alert is raised instead and the
contract's truth timeout cancels the epoch (no slashing, the reward rolls over).

Where the deployment has a MeteredDelivery contract, the oracle also posts, for every (feed,
epoch) whose truth is on-chain and still disputable, the Merkle root over that epoch's
``(meterId, epoch, energyWh)`` leaves (``epoch_meter_energy``, written once by the streaming job)
with the leaf count and total: the same dispute window covers both. The chain is the journal: a
root is posted only while ``rootOf`` shows none, so a restart (even one between the truth and the
root) posts each missing root once and never a second one."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from gridcast.chain.deployment import Deployment
from gridcast.chain.errors import ContractRevertError
from gridcast.chain.feeds import FeedView
from gridcast.chain.market import FeedBinding, Market
from gridcast.chain.merkle import DeliveryTree, Reading, meter_id
from gridcast.chain.submitter import Submitter, TransactionFailedError
from gridcast.chain.views import Contracts, TruthStatus
from gridcast.services import libpq_url
from streaming.actuals import mark_submitted, meter_energy_leaves, pending_epoch_actuals

log = logging.getLogger(__name__)
ALERT_SQL = (
    "INSERT INTO stream_alerts (feed, rule, meter, event_ts, value, detail, batch_id, created_at)"
    " VALUES (%s, %s, '*', %s, %s, %s, -1, now()) ON CONFLICT DO NOTHING"
)


@dataclass
class TruthReport:
    submitted: list[tuple[str, int, int]] = field(default_factory=list)
    skipped: list[tuple[str, int, str]] = field(default_factory=list)
    disputed: list[tuple[str, int]] = field(default_factory=list)
    # (feed, epoch, root hex, leaf count, total Wh) of the delivery roots posted
    roots: list[tuple[str, int, str, int, int]] = field(default_factory=list)


def _alert(
    url: str, feed: str, rule: str, ts: datetime, value: float | None, detail: dict[str, Any]
) -> None:
    with psycopg.connect(libpq_url(url)) as conn:
        conn.execute(
            ALERT_SQL,
            (feed, rule, ts, value, json.dumps(detail)),
        )


class TruthOracle:
    def __init__(
        self,
        submitter: Submitter,
        deployment: Deployment,
        market: Market,
        database_url: str,
        *,
        min_coverage: float = 0.8,
        dispute: bool = False,
    ) -> None:
        self.sub = submitter
        self.w3 = submitter.w3
        self.chain = Contracts(self.w3, deployment)
        self.registry = self.chain.registry
        self.settlement = self.chain.settlement
        self.token = self.chain.token
        self.market = market
        self.url = database_url
        self.min_coverage = min_coverage
        self.dispute = dispute
        self.feeds = {
            b.dataset: (b, FeedView.read(self.registry, b.feed_bytes)) for b in market.feeds
        }
        self._alerted: set[tuple[str, int]] = set()
        self._own_values: dict[tuple[str, int], int] = {}
        self._watched: set[tuple[str, int]] = set()
        self.delivery = (
            deployment.contract(self.w3, "MeteredDelivery")
            if getattr(deployment, "delivery", "")
            else None
        )
        self._rooted: set[tuple[str, int]] = set()  # root posted, or it never can be

    def _epoch(self, binding: FeedBinding, view: FeedView, data_start: datetime) -> int:
        clock = binding.clock(view.params.genesis, view.params.epoch_length)
        if data_start.tzinfo is None:
            data_start = data_start.replace(tzinfo=UTC)
        return clock.epoch_of_data_time(data_start)

    def step(self) -> TruthReport:
        report = TruthReport()
        now = int(self.w3.eth.get_block("latest")["timestamp"])
        for row in pending_epoch_actuals(self.url):
            if row["feed"] not in self.feeds:
                continue
            binding, view = self.feeds[row["feed"]]
            epoch = self._epoch(binding, view, row["epoch_start"])
            if epoch < 0 or now < view.epoch_end(epoch):
                continue
            key = (row["feed"], epoch)
            # already on-chain (ours before a crash, or another reporter's)
            if self.chain.truth_status(view.feed_id, epoch) != TruthStatus.NONE:
                mark_submitted(self.url, row["feed"], row["epoch_start"], "0x" + "0" * 64)
                continue
            if now >= view.truth_deadline(epoch):
                report.skipped.append((row["feed"], epoch, "truth timeout passed"))
                mark_submitted(self.url, row["feed"], row["epoch_start"], "expired")
                continue
            if float(row["coverage"]) < self.min_coverage:
                if key not in self._alerted:
                    _alert(
                        self.url,
                        row["feed"],
                        "insufficient_coverage",
                        row["epoch_start"],
                        float(row["coverage"]),
                        {"epoch": epoch, "min_coverage": self.min_coverage},
                    )
                    self._alerted.add(key)
                report.skipped.append((row["feed"], epoch, f"coverage {row['coverage']:.2f}"))
                continue
            value = view.scale(float(row["value"]))
            evidence = bytes.fromhex(str(row["evidence_hash"])[2:])
            self._approve_bond(view)
            # the root's tree is built before the truth is sent, so the root follows at once
            tree = (
                self.delivery_tree(row["feed"], row["epoch_start"], epoch)
                if self.delivery is not None
                else None
            )
            try:
                receipt = self.sub.transact(
                    self.settlement, "submitTruth", view.feed_id, epoch, value, evidence
                )
            except ContractRevertError as exc:
                if exc.name == "SettlementTruthExists":
                    mark_submitted(self.url, row["feed"], row["epoch_start"], "0x" + "0" * 64)
                    continue
                raise
            if receipt is None:
                continue
            mark_submitted(
                self.url, row["feed"], row["epoch_start"], receipt["transactionHash"].hex()
            )
            self._own_values[key] = value
            report.submitted.append((row["feed"], epoch, value))
            self._post_root(row["feed"], epoch, view, tree, report)
        self._post_roots(report)
        self._watch_disputes(now, report)
        return report

    def delivery_tree(self, feed: str, epoch_start: datetime, epoch: int) -> DeliveryTree | None:
        """The epoch's delivery tree from the landed per-meter energy (None: no meters)."""
        leaves = meter_energy_leaves(self.url, feed, epoch_start, epoch=epoch)
        if not leaves:
            return None
        return DeliveryTree([Reading(meter_id(m), e, wh) for m, e, wh in leaves])

    def _post_roots(self, report: TruthReport) -> None:
        """Post the delivery root of every reported epoch whose truth is on-chain and disputable
        and which has none yet (the recovery after a crash between truth and root included)."""
        if self.delivery is None:
            return
        with psycopg.connect(libpq_url(self.url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT feed, epoch_start FROM epoch_actuals"
                " WHERE submitted_at IS NOT NULL ORDER BY epoch_start DESC LIMIT 200"
            )
            rows = cur.fetchall()
        for feed, start in reversed(rows):
            if feed not in self.feeds:
                continue
            binding, view = self.feeds[feed]
            epoch = self._epoch(binding, view, start)
            key = (feed, epoch)
            if key in self._rooted or epoch < 0:
                continue
            if int(self.delivery.functions.rootOf(view.feed_id, epoch).call()[1]) != 0:
                self._rooted.add(key)  # posted (by us before a restart, or another reporter)
                continue
            truth = self.chain.truth(view.feed_id, epoch)
            if truth.status == TruthStatus.NONE:
                continue  # expired or not yet landed: nothing to anchor a root to
            if (
                truth.status != TruthStatus.SUBMITTED
                or truth.dispute_resolved
                or self.chain.now() >= truth.submitted_at + view.params.dispute_window
            ):
                self._rooted.add(key)  # the window is closed: a root can no longer be posted
                continue
            self._post_root(feed, epoch, view, self.delivery_tree(feed, start, epoch), report)

    def _post_root(
        self,
        feed: str,
        epoch: int,
        view: FeedView,
        tree: DeliveryTree | None,
        report: TruthReport,
    ) -> None:
        """Send one root (right after its truth: the dispute window may be seconds long)."""
        key = (feed, epoch)
        if self.delivery is None:
            return
        if tree is None:
            self._rooted.add(key)  # no meter energy landed for it
            return
        try:
            receipt = self.sub.transact(
                self.delivery, "postRoot", view.feed_id, epoch, tree.root, tree.count,
                tree.total_wh,
            )  # fmt: skip
        except ContractRevertError as exc:
            if exc.name not in (
                "MeteredDeliveryRootExists",
                "MeteredDeliveryWindowClosed",
                "MeteredDeliveryNoTruth",
            ):
                raise
            log.warning("delivery root %s/%d not posted: %s", feed, epoch, exc.name)
            self._rooted.add(key)
            return
        except TransactionFailedError as exc:
            # estimated inside the window, mined after it closed
            log.warning("delivery root %s/%d not posted: %s", feed, epoch, exc)
            self._rooted.add(key)
            return
        if receipt is None:
            return
        self._rooted.add(key)
        report.roots.append((feed, epoch, "0x" + tree.root.hex(), tree.count, tree.total_wh))

    def _approve_bond(self, view: FeedView) -> None:
        bond = view.params.dispute_bond
        if (
            bond
            and int(
                self.token.functions.allowance(self.sub.address, self.settlement.address).call()
            )
            < bond
        ):
            self.sub.transact(self.token, "approve", self.settlement.address, 2**256 - 1)

    def _watch_disputes(self, now: int, report: TruthReport) -> None:
        """Compare on-chain truths with the pipeline's own values; dispute or alert on mismatch."""
        with psycopg.connect(libpq_url(self.url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT feed, epoch_start, value FROM epoch_actuals"
                " WHERE submitted_at IS NOT NULL ORDER BY epoch_start DESC LIMIT 200"
            )
            rows = cur.fetchall()
        for feed, start, value in rows:
            if feed not in self.feeds:
                continue
            binding, view = self.feeds[feed]
            epoch = self._epoch(binding, view, start)
            key = (feed, epoch)
            if key in self._watched or key in self._own_values:
                continue
            truth = self.chain.truth(view.feed_id, epoch)
            chain_value, submitted_at = truth.value, truth.submitted_at
            if truth.status != TruthStatus.SUBMITTED:
                continue
            self._watched.add(key)
            own = view.scale(float(value))
            if abs(own - chain_value) <= view.params.tolerance:
                continue
            detail = {"epoch": epoch, "onchain": chain_value, "pipeline": own}
            if self.dispute and now < submitted_at + view.params.dispute_window:
                self._approve_bond(view)
                self.sub.transact(self.settlement, "dispute", view.feed_id, epoch, own)
                report.disputed.append(key)
                _alert(self.url, feed, "truth_disputed", start, float(value), detail)
            else:
                _alert(self.url, feed, "truth_mismatch", start, float(value), detail)
