"""Security findings Medium (cap lock-out, re-scoring with current params) and the Low findings on
feed parameters: each epoch keeps the parameters it was committed and settled under."""

import ape

from gridcast.chain.deployment import MAX_SLASH_PER_EPOCH_BPS

from .conftest import E18, STAKE, feed_params

TRUTH = 10_000


def _settled_epoch0(proto, ops_values):
    for op, v in ops_values:
        proto.stake(op)
        proto.commit(op, proto.curve(op, 0, [v], width=100))
    proto.goto(proto.commit_deadline(0))
    for op, _ in ops_values:
        proto.reveal(proto.curves[(op.address, 0)], op)
    proto.goto(proto.epoch_end(0))
    proto.fund_rewards(100 * E18)
    tx = proto.submit_truth(0, TRUTH)
    proto.goto(proto.chain.blocks[tx.block_number].timestamp + proto.params.dispute_window)
    addrs, firsts = proto.revealed_set(0, [op for op, _ in ops_values])
    proto.settlement.settle(proto.feed, 0, addrs, firsts, sender=proto.admin)
    return addrs, firsts


def test_security_raising_tolerance_after_settle_cannot_overpay(proto, operators):
    a, b = operators[:2]
    _settled_epoch0(proto, [(a, TRUTH + 400), (b, TRUTH - 50)])
    reserve = proto.settlement.resultOf(proto.feed, 0).reward
    tolerance = 10 * proto.params.tolerance
    raised = feed_params(proto.params.genesis, tolerance=tolerance, slash_bps=9_000)
    proto.registry.setFeedParams(proto.feed, raised.as_tuple(), sender=proto.admin)
    for op in (a, b):
        proto.settlement.claim(proto.feed, 0, op, 0, sender=op)
    paid = proto.settlement.balanceOf(a) + proto.settlement.balanceOf(b)
    assert paid <= reserve
    assert proto.settlement.resultOf(proto.feed, 0).paidOut <= reserve
    # The epoch still uses the tolerance it was settled under.
    assert proto.registry.feedParamsAt(proto.feed, 0).tolerance == proto.params.tolerance


def test_security_param_change_cannot_move_windows_of_epochs_in_flight(proto, operators):
    before = (proto.commit_deadline(0), proto.reveal_deadline(0), proto.commit_deadline(96))
    moved = feed_params(proto.params.genesis, lead_time=3_000, reveal_window=3_000)
    proto.registry.setFeedParams(proto.feed, moved.as_tuple(), sender=proto.admin)
    after = (proto.commit_deadline(0), proto.reveal_deadline(0), proto.commit_deadline(96))
    assert after == before
    # Epochs beyond the commit horizon take the new windows.
    assert proto.commit_deadline(96 * 5) == proto.epoch_end(96 * 5 - 1) - 6_000


def test_security_reward_change_applies_to_later_epochs_only(proto, operators):
    a = operators[0]
    proto.registry.setFeedParams(
        proto.feed,
        feed_params(proto.params.genesis, reward_per_epoch=E18).as_tuple(),
        sender=proto.admin,
    )
    _settled_epoch0(proto, [(a, TRUTH)])
    assert proto.settlement.resultOf(proto.feed, 0).reward == proto.params.reward_per_epoch


def test_security_zero_stake_sybils_cannot_fill_the_cap(proto, operators):
    """Identities at minStake 0 (1 wei staked) filled maxForecastsPerEpoch, first come first in."""
    g = proto.params.genesis
    with ape.reverts():
        sybil_feed = feed_params(g, min_stake=0, max_forecasts_per_epoch=2)
        proto.registry.registerFeed(
            "sybil", "demand", 900, sybil_feed.as_tuple(), sender=proto.admin
        )
    with ape.reverts():
        proto.registry.setFeedParams(
            proto.feed, feed_params(g, min_stake=1).as_tuple(), sender=proto.admin
        )
    sybil = operators[0]
    proto.stake(sybil, 1)
    with ape.reverts():
        proto.commit(sybil, proto.curve(sybil, 0, [TRUTH]))
    assert proto.staking.stakeOf(sybil) < STAKE


def test_security_unbounded_cap_and_zero_bond_refused(proto):
    g = proto.params.genesis
    for bad in (feed_params(g, max_forecasts_per_epoch=10_000), feed_params(g, dispute_bond=0)):
        with ape.reverts():
            proto.registry.registerFeed("bad", "demand", 900, bad.as_tuple(), sender=proto.admin)


def test_security_lowering_slash_cap_after_settle_cannot_spare_a_bad_forecast(proto, operators):
    """`setMaxSlashPerEpoch(0)` after settle spared a forecast beyond the threshold its slash."""
    a, b = operators[:2]
    bad = TRUTH + 5 * proto.params.slash_threshold
    _settled_epoch0(proto, [(a, bad), (b, TRUTH)])
    proto.staking.setMaxSlashPerEpoch(0, sender=proto.admin)
    proto.settlement.claim(proto.feed, 0, a, 0, sender=a)
    assert proto.staking.stakeOf(a) < STAKE  # slashed under the cap the epoch settled with
    committed_at = proto.registry.batch(proto.feed, a, 0).committedAt
    cap_bps = proto.staking.maxSlashPerEpochBpsAt(committed_at)
    assert cap_bps == MAX_SLASH_PER_EPOCH_BPS
    penalty = min(proto.params.slash_bps, cap_bps) * STAKE // 10_000
    assert proto.staking.stakeOf(a) == STAKE - penalty
    # The lowered cap is today's, and applies to commitments made from now on.
    assert proto.staking.maxSlashPerEpochBps() == 0
