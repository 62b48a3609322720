"""Security findings Medium (pause during the reveal window; one missed reveal slashed per epoch)
and the Low findings on Settlement: self-dispute, cancel while paused, freshness of `latest`."""

import ape

from .conftest import E18, STAKE

TRUTH = 10_000
BPS = 10_000


def test_security_pause_during_reveal_window_cannot_force_non_reveal_slash(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [TRUTH] * 10)
    proto.commit(op, c)
    proto.goto(proto.commit_deadline(0))
    proto.registry.pause(sender=proto.admin)
    proto.registry.pauseFeed(proto.feed, sender=proto.admin)
    proto.reveal(c, op)  # reveals are never paused
    assert proto.registry.batch(proto.feed, op, 0).revealed


def _settle_empty(proto, epoch):
    tx = proto.submit_truth(epoch, TRUTH)
    proto.goto(proto.chain.blocks[tx.block_number].timestamp + proto.params.dispute_window)
    proto.settlement.settle(proto.feed, epoch, [], [], sender=proto.admin)


def test_security_one_missed_reveal_is_slashed_once_per_batch(proto, operators):
    op = operators[0]
    proto.stake(op)
    proto.commit(op, proto.curve(op, 0, [TRUTH] * 10))
    proto.goto(proto.epoch_end(2))
    for epoch in range(3):
        _settle_empty(proto, epoch)
    for epoch in range(3):
        proto.settlement.claim(proto.feed, epoch, op, 0, sender=op)
    slashed = STAKE - proto.staking.stakeOf(op)
    assert slashed == STAKE * proto.params.non_reveal_slash_bps // BPS


def test_security_reporter_cannot_dispute_its_own_truth(proto, operators):
    proto.goto(proto.epoch_end(0))
    proto.submit_truth(0, TRUTH)
    bond = proto.params.dispute_bond
    proto.fund(proto.reporter, bond)
    proto.token.approve(proto.settlement, bond, sender=proto.reporter)
    with ape.reverts():
        proto.settlement.dispute(proto.feed, 0, TRUTH, sender=proto.reporter)
    assert proto.settlement.truthOf(proto.feed, 0).status == 1  # still Submitted, open to others


def test_security_cancel_epoch_refused_while_settlement_paused(proto, operators):
    proto.fund_rewards(20 * E18)
    proto.goto(proto.epoch_end(0) + proto.params.truth_timeout)
    proto.settlement.pause(sender=proto.admin)
    with ape.reverts():
        proto.settlement.cancelEpoch(proto.feed, 0, sender=operators[0])
    proto.settlement.unpause(sender=proto.admin)
    proto.settlement.cancelEpoch(proto.feed, 0, sender=operators[0])


def test_security_latest_age_counts_from_the_epoch_not_finalization(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [TRUTH])
    proto.commit(op, c)
    proto.goto(proto.commit_deadline(0))
    proto.reveal(c, op)
    # Finalized long after the epoch: the value is old although the finalization is new.
    proto.goto(proto.epoch_end(0) + 7_200)
    proto.registry.finalizeConsensus(proto.feed, 0, [op.address], [0], sender=proto.admin)
    with ape.reverts(proto.registry.ForecastRegistryStale):
        proto.registry.latest(proto.feed, 3_600)
    epoch, _ = proto.registry.latest(proto.feed, 7_300)
    assert epoch == 0


def test_security_silent_arbiter_cannot_freeze_an_epoch(proto, operators):
    """No deadline for the arbiter kept an epoch and both bonds locked for good."""
    proto.goto(proto.epoch_end(0))
    proto.submit_truth(0, TRUTH)
    disputer, bond = operators[1], proto.params.dispute_bond
    proto.fund(disputer, bond)
    proto.token.approve(proto.settlement, bond, sender=disputer)
    tx = proto.settlement.dispute(proto.feed, 0, TRUTH + 1, sender=disputer)
    with ape.reverts():
        proto.settlement.expireDispute(proto.feed, 0, sender=operators[2])
    proto.goto(tx.timestamp + proto.params.truth_timeout)
    proto.settlement.expireDispute(proto.feed, 0, sender=operators[2])
    assert proto.settlement.truthOf(proto.feed, 0).status == 3  # Cancelled
    assert proto.settlement.balanceOf(disputer) == bond
    assert proto.settlement.balanceOf(proto.reporter) == bond
    with ape.reverts(proto.settlement.SettlementNoOpenDispute):
        proto.settlement.resolveDispute(proto.feed, 0, True, TRUTH, sender=proto.arbiter)


def test_security_pause_cannot_let_the_truth_window_lapse(proto, operators):
    """A Settlement pause over the truth window let the epoch be cancelled after the unpause."""
    proto.fund_rewards(20 * E18)
    proto.goto(proto.epoch_end(0))
    proto.settlement.pause(sender=proto.admin)
    proto.submit_truth(0, TRUTH)  # truth is never paused: the window cannot lapse under a pause
    proto.goto(proto.epoch_end(0) + proto.params.truth_timeout + proto.params.dispute_window)
    proto.settlement.unpause(sender=proto.admin)
    with ape.reverts(proto.settlement.SettlementNotCancellable):
        proto.settlement.cancelEpoch(proto.feed, 0, sender=operators[0])
    proto.settlement.settle(proto.feed, 0, [], [], sender=proto.admin)
    assert proto.settlement.truthOf(proto.feed, 0).status == 4  # Settled


def test_security_pause_cannot_close_the_dispute_window_on_a_wrong_truth(proto, operators):
    """A Settlement pause over the dispute window let a wrong truth settle undisputed."""
    proto.goto(proto.epoch_end(0))
    tx = proto.submit_truth(0, TRUTH + 5_000)
    proto.settlement.pause(sender=proto.admin)
    disputer, bond = operators[1], proto.params.dispute_bond
    proto.fund(disputer, bond)
    proto.token.approve(proto.settlement, bond, sender=disputer)
    proto.settlement.dispute(proto.feed, 0, TRUTH, sender=disputer)  # disputes are never paused
    proto.goto(tx.timestamp + proto.params.dispute_window)
    proto.settlement.unpause(sender=proto.admin)
    with ape.reverts(proto.settlement.SettlementTruthPending):
        proto.settlement.settle(proto.feed, 0, [], [], sender=proto.admin)
    proto.settlement.resolveDispute(proto.feed, 0, True, TRUTH, sender=proto.arbiter)
    proto.settlement.settle(proto.feed, 0, [], [], sender=proto.admin)
    assert proto.settlement.truthOf(proto.feed, 0).value == TRUTH
