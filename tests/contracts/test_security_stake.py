"""Security finding High: weight fixed at commit while the stake behind it could leave.

The attack: commit rounds ahead, request unstake, withdraw after the unbonding delay, hand the
tokens to a second identity that does the same, and reveal with both: k x C of weight at no risk.
The fix: the stake that set a batch's weight stays locked until the batch's last epoch is past
its truth and dispute windows, and commits reach at most the next open round and the one after.
"""

import ape

from .conftest import STAKE, feed_params

TRUTH = 10_000


def _lock_end(proto, last_epoch: int) -> int:
    p = proto.params
    return proto.epoch_end(last_epoch) + p.truth_timeout + p.dispute_window


def test_security_unstake_after_commit_cannot_strip_the_weight(proto, operators):
    attacker = operators[0]
    proto.stake(attacker)
    proto.commit(attacker, proto.curve(attacker, 96, [TRUTH] * 24))  # next round, 24 epochs
    # Step one of the attack: move the stake that backs the commitment into unbonding.
    with ape.reverts():
        proto.staking.requestUnstake(STAKE, sender=attacker)
    with ape.reverts():
        proto.staking.requestUnstake(1, sender=attacker)
    assert proto.staking.stakeOf(attacker) == STAKE
    # More stake than the commitment's weight is free to leave.
    proto.stake(attacker, 10)
    proto.staking.requestUnstake(10, sender=attacker)
    # Once the batch's last epoch is past its truth and dispute windows, the stake is free.
    proto.goto(_lock_end(proto, 96 + 23))
    proto.staking.requestUnstake(STAKE, sender=attacker)
    assert proto.staking.stakeOf(attacker) == 0


def test_security_commit_rounds_ahead_is_refused(proto, operators):
    """The lead of the attack (commit k unbonding periods ahead) is bounded: two rounds at most."""
    attacker = operators[0]
    proto.stake(attacker)
    with ape.reverts():
        proto.commit(attacker, proto.curve(attacker, 96 * 7, [TRUTH]))
    # A far-future commit would also have blocked the (feed, operator) watermark for good.
    assert proto.registry.nextCommittableEpoch(proto.feed, attacker) == 0
    proto.commit(attacker, proto.curve(attacker, 0, [TRUTH]))
    proto.commit(attacker, proto.curve(attacker, 96, [TRUTH]))


def test_security_recycled_stake_backs_one_identity_only(proto, operators, accounts):
    """The full relay: one identity cannot hand its stake to a second before its epochs settle."""
    a, b = operators[0], operators[1]
    proto.stake(a)
    proto.commit(a, proto.curve(a, 96, [TRUTH]))
    delay = int(proto.staking.unbondingDelay())
    reverted = False
    try:
        proto.staking.requestUnstake(STAKE, sender=a)
        proto.goto(int(proto.chain.pending_timestamp) + delay)
        proto.staking.withdraw(sender=a)
        proto.token.transfer(b, STAKE, sender=a)
        proto.token.approve(proto.staking, STAKE, sender=b)
        proto.staking.stake(STAKE, sender=b)
        proto.commit(b, proto.curve(b, 96, [TRUTH]))
    except ape.exceptions.ContractLogicError:
        reverted = True
    assert reverted, "the same capital backed two identities' weight"
    assert proto.staking.stakeOf(a) == STAKE


def test_security_lock_covers_every_feed_with_the_largest_weight(proto, operators):
    op = operators[0]
    proto.stake(op)
    other = feed_params(proto.params.genesis, truth_timeout=7_200)
    proto.registry.registerFeed("vic", "solar", 900, other.as_tuple(), sender=proto.admin)
    proto.commit(op, proto.curve(op, 0, [TRUTH]))
    locked, until = proto.staking.lockOf(op)
    assert locked == STAKE and until == _lock_end(proto, 0)
