"""OperatorStaking: stake, unbonding, signer keys, capped slashing by settlement only."""

import ape

from gridcast.chain.deployment import MAX_SLASH_PER_EPOCH_BPS, UNBONDING_DELAY_S

from .conftest import STAKE


def test_stake_moves_tokens_and_emits(proto, operators):
    op = operators[0]
    proto.stake(op, STAKE)
    assert proto.staking.stakeOf(op) == STAKE
    assert proto.token.balanceOf(proto.staking) == STAKE


def test_stake_rejects_zero(proto, operators):
    with ape.reverts(proto.staking.OperatorStakingZeroAmount):
        proto.staking.stake(0, sender=operators[0])


def test_unstake_unbonds_then_withdraws_after_delay(proto, operators):
    op = operators[0]
    proto.stake(op, STAKE)
    tx = proto.staking.requestUnstake(STAKE // 4, sender=op)
    assert proto.staking.stakeOf(op) == STAKE - STAKE // 4
    amount, release = proto.staking.unbondingOf(op)
    assert amount == STAKE // 4
    assert release == proto.chain.blocks[tx.block_number].timestamp + UNBONDING_DELAY_S
    with ape.reverts(proto.staking.OperatorStakingStillUnbonding):
        proto.staking.withdraw(sender=op)
    proto.goto(release)
    proto.staking.withdraw(sender=op)
    assert proto.token.balanceOf(op) == STAKE // 4
    with ape.reverts(proto.staking.OperatorStakingNothingUnbonding):
        proto.staking.withdraw(sender=op)


def test_unstake_more_than_stake_is_refused(proto, operators):
    proto.stake(operators[0], STAKE)
    with ape.reverts(proto.staking.OperatorStakingInsufficientStake):
        proto.staking.requestUnstake(STAKE + 1, sender=operators[0])


def test_signer_is_authorised_and_cannot_be_self(proto, operators, accounts):
    op, key = operators[0], accounts[9]
    proto.staking.setSigner(key, sender=op)
    assert proto.staking.signerOf(op) == key.address
    assert proto.staking.isAuthorizedSigner(op, key)
    assert proto.staking.isAuthorizedSigner(op, op)
    assert not proto.staking.isAuthorizedSigner(op, operators[1])
    with ape.reverts(proto.staking.OperatorStakingInvalidSigner):
        proto.staking.setSigner(op, sender=op)


def test_slash_only_by_slasher_role(proto, operators):
    proto.stake(operators[0], STAKE)
    for caller in (proto.admin, operators[0], operators[1]):
        with ape.reverts(proto.staking.AccessControlUnauthorizedAccount):
            proto.staking.slash(operators[0], b"\x01" * 32, 1, 0, caller, sender=caller)


def test_slash_is_capped_per_epoch_key_and_reaches_unbonding(proto, operators, accounts):
    op, slasher = operators[0], accounts[9]
    proto.staking.grantRole(proto.staking.SLASHER_ROLE(), slasher, sender=proto.admin)
    proto.stake(op, STAKE)
    proto.staking.requestUnstake(STAKE // 2, sender=op)
    cap = STAKE * MAX_SLASH_PER_EPOCH_BPS // 10_000
    key = b"\x01" * 32
    proto.staking.slash(op, key, cap // 2, 0, slasher, sender=slasher)
    proto.staking.slash(op, key, cap, 0, slasher, sender=slasher)  # only the rest of the cap
    assert proto.staking.slashedIn(op, key) == cap
    assert proto.token.balanceOf(slasher) == cap
    proto.staking.slash(op, key, cap, 0, slasher, sender=slasher)  # nothing left under this key
    assert proto.token.balanceOf(slasher) == cap
    # A second key slashes again; active stake goes first, then unbonding.
    key2 = b"\x02" * 32
    proto.staking.slash(op, key2, 10**30, 0, slasher, sender=slasher)
    total = proto.staking.stakeOf(op) + proto.staking.unbondingOf(op)[0]
    assert total == STAKE - cap - (STAKE - cap) * MAX_SLASH_PER_EPOCH_BPS // 10_000
    assert proto.token.balanceOf(proto.staking) == total


def test_slash_cap_change_applies_to_commitments_made_after_it(proto, operators, accounts, chain):
    """A cap change (up or down) leaves commitments already made under the cap they were made in."""
    op, slasher = operators[0], accounts[9]
    proto.staking.grantRole(proto.staking.SLASHER_ROLE(), slasher, sender=proto.admin)
    proto.stake(op, STAKE)
    before = chain.pending_timestamp - 1
    tx = proto.staking.setMaxSlashPerEpoch(5_000, sender=proto.admin)
    changed = chain.blocks[tx.block_number].timestamp
    assert proto.staking.maxSlashPerEpochBps() == 5_000
    assert proto.staking.maxSlashPerEpochBpsAt(before) == MAX_SLASH_PER_EPOCH_BPS
    assert proto.staking.maxSlashPerEpochBpsAt(changed) == MAX_SLASH_PER_EPOCH_BPS  # same block
    assert proto.staking.maxSlashPerEpochBpsAt(changed + 1) == 5_000
    old_cap = STAKE * MAX_SLASH_PER_EPOCH_BPS // 10_000
    proto.staking.slash(op, b"\x01" * 32, STAKE, before, slasher, sender=slasher)
    assert proto.staking.slashedIn(op, b"\x01" * 32) == old_cap
    left = STAKE - old_cap
    proto.staking.slash(op, b"\x02" * 32, STAKE, changed + 1, slasher, sender=slasher)
    assert proto.staking.slashedIn(op, b"\x02" * 32) == left * 5_000 // 10_000


def test_pause_blocks_stake_but_not_exit(proto, operators):
    op = operators[0]
    proto.stake(op, STAKE)
    proto.staking.pause(sender=proto.admin)
    proto.fund(op, STAKE)
    proto.token.approve(proto.staking, STAKE, sender=op)
    with ape.reverts(proto.staking.EnforcedPause):
        proto.staking.stake(STAKE, sender=op)
    proto.staking.requestUnstake(STAKE, sender=op)
    assert proto.staking.stakeOf(op) == 0


def test_admin_parameters(proto, operators):
    proto.staking.setUnbondingDelay(60, sender=proto.admin)
    assert proto.staking.unbondingDelay() == 60
    with ape.reverts(proto.staking.OperatorStakingInvalidParameter):
        proto.staking.setMaxSlashPerEpoch(10_001, sender=proto.admin)
    with ape.reverts(proto.staking.AccessControlUnauthorizedAccount):
        proto.staking.setUnbondingDelay(1, sender=operators[0])
