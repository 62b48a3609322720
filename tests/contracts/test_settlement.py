"""Settlement: truth, disputes, cancellation, scoring, rewards, slashing, reentrancy."""

import ape

from .conftest import E18, STAKE, deploy_protocol

TRUTH = 10_000


def _epoch0(proto, ops_values, reveal=None):
    """Stake, commit epoch 0, reveal (all or `reveal`), finalize, move past the epoch's end."""
    reveal = reveal if reveal is not None else [op for op, _ in ops_values]
    for op, v in ops_values:
        proto.stake(op)
        proto.commit(op, proto.curve(op, 0, [v], width=100))
    proto.goto(proto.commit_deadline(0))
    for op in reveal:
        proto.reveal(proto.curves[(op.address, 0)], op)
    proto.goto(proto.reveal_deadline(0))
    addrs, firsts = proto.revealed_set(0, reveal)
    if addrs:
        proto.registry.finalizeConsensus(proto.feed, 0, addrs, firsts, sender=proto.admin)
    proto.goto(proto.epoch_end(0))
    return addrs, firsts


def _conserved(proto):
    pools, bonds, balances, unclaimed = proto.settlement.accounting()
    assert proto.token.balanceOf(proto.settlement) == pools + bonds + balances + unclaimed


def test_truth_rules(proto, operators):
    with ape.reverts(proto.settlement.SettlementEpochNotEnded):
        proto.submit_truth(0, TRUTH)
    proto.goto(proto.epoch_end(0))
    with ape.reverts(proto.settlement.AccessControlUnauthorizedAccount):
        proto.settlement.submitTruth(proto.feed, 0, 1, b"\x00" * 32, sender=operators[0])
    proto.submit_truth(0, TRUTH)
    with ape.reverts(proto.settlement.SettlementTruthExists):
        proto.submit_truth(0, TRUTH)
    proto.goto(proto.epoch_end(1) + proto.params.truth_timeout)
    with ape.reverts(proto.settlement.SettlementTruthTooLate):
        proto.submit_truth(1, TRUTH)


def test_cancelled_epoch_rolls_reward_over(proto, operators):
    addrs, firsts = _epoch0(proto, [(operators[0], TRUTH)])
    proto.fund_rewards(20 * E18)
    with ape.reverts(proto.settlement.SettlementNotCancellable):
        proto.settlement.cancelEpoch(proto.feed, 0, sender=operators[1])
    proto.goto(proto.epoch_end(0) + proto.params.truth_timeout)
    proto.settlement.cancelEpoch(proto.feed, 0, sender=operators[1])
    assert proto.settlement.pool(proto.feed) == 20 * E18
    with ape.reverts(proto.settlement.SettlementNotSettled):
        proto.settlement.claim(proto.feed, 0, operators[0], 0, sender=operators[0])
    assert proto.staking.stakeOf(operators[0]) == STAKE


def test_dispute_rejected_pays_reporter(proto, operators):
    addrs, firsts = _epoch0(proto, [(operators[0], TRUTH)])
    proto.submit_truth(0, TRUTH)
    disputer = operators[1]
    bond = proto.params.dispute_bond
    proto.fund(disputer, bond)
    proto.token.approve(proto.settlement, bond, sender=disputer)
    proto.settlement.dispute(proto.feed, 0, TRUTH + 5, sender=disputer)
    with ape.reverts(proto.settlement.SettlementTruthPending):
        proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=disputer)
    with ape.reverts(proto.settlement.AccessControlUnauthorizedAccount):
        proto.settlement.resolveDispute(proto.feed, 0, False, 0, sender=disputer)
    proto.settlement.resolveDispute(proto.feed, 0, False, 0, sender=proto.arbiter)
    assert proto.settlement.balanceOf(proto.reporter) == 2 * bond
    with ape.reverts(proto.settlement.SettlementAlreadyDisputed):
        proto.settlement.dispute(proto.feed, 0, 1, sender=disputer)
    proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=disputer)  # no window wait
    _conserved(proto)


def test_dispute_upheld_corrects_truth_and_pays_disputer(proto, operators):
    addrs, firsts = _epoch0(proto, [(operators[0], TRUTH)])
    proto.submit_truth(0, TRUTH + 50_000)
    disputer = operators[1]
    bond = proto.params.dispute_bond
    proto.fund(disputer, bond)
    proto.token.approve(proto.settlement, bond, sender=disputer)
    proto.settlement.dispute(proto.feed, 0, TRUTH, sender=disputer)
    proto.settlement.resolveDispute(proto.feed, 0, True, TRUTH, sender=proto.arbiter)
    assert proto.settlement.truthOf(proto.feed, 0).value == TRUTH
    proto.settlement.withdraw(sender=disputer)
    assert proto.token.balanceOf(disputer) == 2 * bond
    with ape.reverts(proto.settlement.SettlementNothingToWithdraw):
        proto.settlement.withdraw(sender=disputer)
    _conserved(proto)


def test_dispute_after_window_is_refused(proto, operators):
    _epoch0(proto, [(operators[0], TRUTH)])
    tx = proto.submit_truth(0, TRUTH)
    proto.goto(proto.chain.blocks[tx.block_number].timestamp + proto.params.dispute_window)
    with ape.reverts(proto.settlement.SettlementDisputeWindowClosed):
        proto.settlement.dispute(proto.feed, 0, 1, sender=operators[1])


def test_full_epoch_five_operators(proto, operators):
    """One non-revealer, one far off (slashed), three scored by stake × score."""
    good = operators[:3]
    far, silent = operators[3], operators[4]
    values = [(good[0], TRUTH), (good[1], TRUTH + 200), (good[2], TRUTH - 500)]
    values += [(far, TRUTH + 9_000), (silent, TRUTH)]
    revealed = [*good, far]
    addrs, firsts = _epoch0(proto, values, reveal=revealed)
    proto.stake(good[0])  # weight is fixed at commit: this must not change rewards
    proto.fund_rewards(100 * E18)
    tx = proto.submit_truth(0, TRUTH)
    with ape.reverts(proto.settlement.SettlementDisputeWindowOpen):
        proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=proto.admin)
    proto.goto(proto.chain.blocks[tx.block_number].timestamp + proto.params.dispute_window)
    proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=proto.admin)
    with ape.reverts(proto.settlement.SettlementAlreadySettled):
        proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=proto.admin)
    reward = proto.params.reward_per_epoch
    scores = {
        op.address: proto.settlement.scoreOf(TRUTH, v, v - 100, v + 100, proto.params.tolerance)[0]
        for op, v in values
    }
    total = sum(STAKE * scores[op.address] for op in revealed)
    assert proto.settlement.resultOf(proto.feed, 0).totalScore == total
    for op in operators[:5]:
        proto.settlement.claim(proto.feed, 0, op, 0, sender=proto.admin)
    with ape.reverts(proto.settlement.SettlementAlreadyClaimed):
        proto.settlement.claim(proto.feed, 0, good[0], 0, sender=proto.admin)
    with ape.reverts(proto.settlement.SettlementNothingToClaim):
        proto.settlement.claim(proto.feed, 0, proto.admin, 0, sender=proto.admin)
    for op in good:
        assert proto.settlement.balanceOf(op) == reward * STAKE * scores[op.address] // total
    assert proto.settlement.balanceOf(good[0]) > proto.settlement.balanceOf(good[1])
    assert proto.settlement.balanceOf(far) == 0 and proto.settlement.balanceOf(silent) == 0
    assert proto.staking.stakeOf(far) == STAKE - STAKE * proto.params.slash_bps // 10_000
    assert (
        proto.staking.stakeOf(silent) == STAKE - STAKE * proto.params.non_reveal_slash_bps // 10_000
    )
    assert proto.staking.stakeOf(good[1]) == STAKE
    proto.settlement.withdraw(sender=good[0])
    with ape.reverts(proto.settlement.SettlementNothingToWithdraw):
        proto.settlement.withdraw(sender=good[0])
    _conserved(proto)


def test_reentrant_token_is_stopped_by_guard(project, accounts, chain):
    evil = project.ReentrantToken.deploy(sender=accounts[0])
    proto = deploy_protocol(project, accounts, chain, token_contract=evil)
    op = accounts[5]
    # Settlement: the reporter's bond refund, withdrawn through the malicious token.
    proto.goto(proto.epoch_end(0))
    tx = proto.submit_truth(0, TRUTH)
    proto.goto(proto.chain.blocks[tx.block_number].timestamp + proto.params.dispute_window)
    proto.settlement.settle(proto.feed, 0, [], [], sender=op)
    payload = proto.settlement.withdraw.as_transaction(sender=proto.reporter).data
    evil.arm(proto.settlement, payload, sender=op)
    with ape.reverts(proto.settlement.ReentrancyGuardReentrantCall):
        proto.settlement.withdraw(sender=proto.reporter)
    evil.disarm(sender=op)
    proto.settlement.withdraw(sender=proto.reporter)  # the honest path still works
    proto.stake(op)
    proto.staking.requestUnstake(STAKE, sender=op)
    proto.goto(proto.staking.unbondingOf(op)[1])
    evil.arm(proto.staking, proto.staking.withdraw.as_transaction(sender=op).data, sender=op)
    with ape.reverts(proto.staking.ReentrancyGuardReentrantCall):
        proto.staking.withdraw(sender=op)
