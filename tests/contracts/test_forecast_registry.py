"""ForecastRegistry: feeds, batched commit (direct and EIP-712 relayed), reveal, consensus."""

import ape
from eth_account import Account
from eth_utils import keccak

from gridcast.chain.commitments import commit_digest, commit_typed_data, feed_id, point_commitment

from .conftest import MODEL, REGION, STAKE, feed_params


def test_feed_registration_and_params(proto, operators):
    assert proto.registry.feedIdOf(REGION, "demand", 900) == feed_id(REGION, "demand", 900)
    with ape.reverts(proto.registry.ForecastRegistryFeedExists):
        proto.registry.registerFeed(
            REGION, "demand", 900, proto.params.as_tuple(), sender=proto.admin
        )
    with ape.reverts(proto.registry.AccessControlUnauthorizedAccount):
        proto.registry.registerFeed("x", "y", 1, proto.params.as_tuple(), sender=operators[0])
    bad = feed_params(proto.params.genesis, tolerance=0)
    with ape.reverts(proto.registry.ForecastRegistryInvalidParams):
        proto.registry.registerFeed("x", "y", 1, bad.as_tuple(), sender=proto.admin)
    updated = feed_params(proto.params.genesis, reward_per_epoch=7)
    proto.registry.setFeedParams(proto.feed, updated.as_tuple(), sender=proto.admin)
    assert proto.registry.feedParams(proto.feed).rewardPerEpoch == 7
    moved = feed_params(proto.params.genesis + 900)
    with ape.reverts(proto.registry.ForecastRegistryImmutableParam):
        proto.registry.setFeedParams(proto.feed, moved.as_tuple(), sender=proto.admin)
    with ape.reverts(proto.registry.ForecastRegistryUnknownFeed):
        proto.registry.feedParams(b"\x00" * 32)


def test_paused_feed_refuses_commits(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [1_000])
    proto.registry.pauseFeed(proto.feed, sender=proto.admin)
    with ape.reverts(proto.registry.ForecastRegistryFeedIsPaused):
        proto.commit(op, c)
    proto.registry.unpauseFeed(proto.feed, sender=proto.admin)
    proto.registry.pause(sender=proto.admin)
    with ape.reverts(proto.registry.EnforcedPause):
        proto.commit(op, c)
    proto.registry.unpause(sender=proto.admin)
    proto.commit(op, c)


def test_commit_rules(proto, operators):
    op, poor = operators[0], operators[1]
    proto.stake(op)
    with ape.reverts(proto.registry.ForecastRegistryInsufficientStake):
        proto.commit(poor, proto.curve(poor, 0, [1]))
    with ape.reverts(proto.registry.ForecastRegistryBatchSpansRounds):
        proto.commit(op, proto.curve(op, 90, [1] * 10))
    with ape.reverts(proto.registry.ForecastRegistryEmptyBatch):
        proto.registry.commit(proto.feed, 0, [], sender=op)
    proto.commit(op, proto.curve(op, 0, [1] * 4))
    with ape.reverts(proto.registry.ForecastRegistryAlreadyCommitted):
        proto.commit(op, proto.curve(op, 2, [1]))
    assert proto.registry.commitCount(proto.feed, 3) == 1
    assert proto.registry.nextCommittableEpoch(proto.feed, op) == 4
    proto.goto(proto.commit_deadline(10))
    with ape.reverts(proto.registry.ForecastRegistryCommitClosed):
        proto.commit(op, proto.curve(op, 10, [1]))


def test_reveal_window_and_mismatch(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [1_000, 2_000, 3_000])
    proto.commit(op, c)
    with ape.reverts(proto.registry.ForecastRegistryRevealNotOpen):
        proto.reveal(c, op)
    proto.goto(proto.commit_deadline(0))
    forged = proto.curve(op, 0, [1_000, 2_000, 3_001])
    forged.salt = c.salt
    with ape.reverts(proto.registry.ForecastRegistryRevealMismatch):
        proto.reveal(forged, op)
    wrong_salt = proto.curve(op, 0, [1_000, 2_000, 3_000])
    with ape.reverts(proto.registry.ForecastRegistryRevealMismatch):
        proto.reveal(wrong_salt, op)
    proto.reveal(c, operators[1])  # anyone may reveal
    with ape.reverts(proto.registry.ForecastRegistryAlreadyRevealed):
        proto.reveal(c, op)
    assert proto.registry.revealCount(proto.feed, 2) == 1
    fc = proto.registry.getForecast(proto.feed, op, 0, 2)
    assert (fc.revealed, fc.value, fc.lower, fc.upper) == (True, 3_000, 2_800, 3_200)


def test_reveal_after_window_is_refused(proto, operators):
    op = operators[0]
    proto.stake(op)
    c = proto.curve(op, 0, [1_000])
    proto.commit(op, c)
    proto.goto(proto.reveal_deadline(0))
    with ape.reverts(proto.registry.ForecastRegistryRevealClosed):
        proto.reveal(c, op)


def test_large_batch_round_trips_through_code_storage(proto, operators):
    op = operators[0]
    proto.stake(op)
    values = [(-1) ** i * (i * 123_457) for i in range(96)]
    c = proto.curve(op, 0, values, width=5)
    proto.commit(op, c)
    proto.goto(proto.commit_deadline(0))
    proto.reveal(c, op)
    for e in (0, 1, 47, 94, 95):
        fc = proto.registry.getForecast(proto.feed, op, 0, e)
        assert (fc.value, fc.lower, fc.upper) == (values[e], values[e] - 5, values[e] + 5)


def test_relayed_commit_with_signature(proto, operators, accounts, signer_key):
    op, relayer = operators[0], accounts[9]
    proto.stake(op)
    signer = Account.from_key(signer_key)
    proto.staking.setSigner(signer.address, sender=op)
    c = proto.curve(op, 0, [5_000] * 4)
    deadline = int(proto.chain.pending_timestamp) + 600
    sig = proto.signed_commit(signer_key, op.address, c, deadline)
    args = (op, proto.feed, 0, c.commitments(), deadline, sig)
    proto.registry.commitWithSignature(*args, sender=relayer)
    assert proto.registry.batch(proto.feed, op, 0).root == c.root()
    with ape.reverts(proto.registry.ForecastRegistryUnauthorizedSigner):  # replay: nonce used
        proto.registry.commitWithSignature(*args, sender=relayer)


def test_relayed_commit_rejects_expired_and_foreign_signatures(proto, operators, accounts):
    op, relayer = operators[0], accounts[9]
    proto.stake(op)
    c = proto.curve(op, 0, [5_000])
    stranger = Account.create()
    deadline = int(proto.chain.pending_timestamp) + 600
    sig = proto.signed_commit(bytes(stranger.key), op.address, c, deadline)
    with ape.reverts(proto.registry.ForecastRegistryUnauthorizedSigner):
        proto.registry.commitWithSignature(
            op, proto.feed, 0, c.commitments(), deadline, sig, sender=relayer
        )
    past = int(proto.chain.pending_timestamp) - 1
    sig = proto.signed_commit(bytes(stranger.key), op.address, c, past)
    with ape.reverts(proto.registry.ForecastRegistryExpiredSignature):
        proto.registry.commitWithSignature(
            op, proto.feed, 0, c.commitments(), past, sig, sender=relayer
        )


def test_python_eip712_digest_matches_contract(proto, operators):
    commitments = [keccak(text=str(i)) for i in range(3)]
    typed = commit_typed_data(
        proto.chain.chain_id,
        proto.registry.address,
        operators[0].address,
        proto.feed,
        7,
        commitments,
        3,
        12345,
    )
    onchain = proto.registry.commitDigest(operators[0], proto.feed, 7, commitments, 3, 12345)
    assert bytes(onchain) == commit_digest(typed)


def test_python_point_commitment_matches_contract(proto, operators):
    args = (-12_345, -20_000, 99, MODEL, b"\x07" * 32, operators[0].address, proto.feed, 42)
    assert bytes(proto.registry.commitmentOf(*args)) == point_commitment(*args)


def _commit_reveal(proto, ops_values):
    for op, v in ops_values:
        proto.stake(op)
        proto.commit(op, proto.curve(op, 0, [v]))
    proto.goto(proto.commit_deadline(0))
    for op, _ in ops_values:
        proto.reveal(proto.curves[(op.address, 0)], op)


def test_weighted_median_consensus_and_latest(proto, operators):
    ops = operators[:3]
    _commit_reveal(proto, [(ops[0], 1_000), (ops[1], 2_000), (ops[2], 9_000)])
    proto.stake(ops[2], 3 * STAKE)  # later stake changes nothing: weight fixed at commit
    addrs, firsts = proto.revealed_set(0, ops)
    with ape.reverts(proto.registry.ForecastRegistryConsensusNotOpen):
        proto.registry.finalizeConsensus(proto.feed, 0, addrs, firsts, sender=proto.admin)
    with ape.reverts(proto.registry.ForecastRegistryNoConsensus):
        proto.registry.latest(proto.feed, 3600)
    proto.goto(proto.reveal_deadline(0))
    with ape.reverts(proto.registry.ForecastRegistryIncompleteForecastSet):
        proto.registry.finalizeConsensus(proto.feed, 0, addrs[:2], firsts[:2], sender=proto.admin)
    with ape.reverts(proto.registry.ForecastRegistryUnsortedOperators):
        proto.registry.finalizeConsensus(proto.feed, 0, addrs[::-1], firsts, sender=proto.admin)
    tx = proto.registry.finalizeConsensus(proto.feed, 0, addrs, firsts, sender=proto.admin)
    c = proto.registry.consensusOf(proto.feed, 0)
    assert (c.value, c.lower, c.upper) == (2_000, 1_800, 2_200)
    epoch, latest = proto.registry.latest(proto.feed, 3600)
    assert epoch == 0 and latest[0] == 2_000
    with ape.reverts(proto.registry.ForecastRegistryConsensusFinalized):
        proto.registry.finalizeConsensus(proto.feed, 0, addrs, firsts, sender=proto.admin)
    assert tx.timestamp < proto.epoch_end(0)
    # Age counts from the end of the epoch, not from its finalization.
    proto.goto(proto.epoch_end(0) + 3700)
    with ape.reverts(proto.registry.ForecastRegistryStale):
        proto.registry.latest(proto.feed, 3600)


def test_median_follows_stake_weight(proto, operators):
    big, a, b = operators[:3]
    proto.stake(big, 5 * STAKE)
    # Epoch 1 shares epoch 0's round, so its commit must precede the round's commit deadline.
    proto.commit(big, proto.curve(big, 1, [7_000]))  # epoch 1 only; epoch 0 median unaffected
    _commit_reveal(proto, [(a, 1_000), (b, 2_000)])
    proto.goto(proto.reveal_deadline(0))
    addrs, firsts = proto.revealed_set(0, [a, b])
    proto.registry.finalizeConsensus(proto.feed, 0, addrs, firsts, sender=proto.admin)
    assert proto.registry.consensusOf(proto.feed, 0).value == 1_000
