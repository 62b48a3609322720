// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IOperatorStaking
/// @notice Stakes of forecast operators: stake, unbond, withdraw, optional signer key, capped slashing.
interface IOperatorStaking {
    error OperatorStakingZeroAmount();
    error OperatorStakingInsufficientStake(address operator, uint256 requested, uint256 available);
    error OperatorStakingNothingUnbonding(address operator);
    error OperatorStakingStillUnbonding(address operator, uint64 releaseAt);
    error OperatorStakingInvalidSigner(address signer);
    error OperatorStakingInvalidParameter();
    error OperatorStakingStakeLocked(address operator, uint256 locked, uint64 until);

    event Staked(address indexed operator, uint256 amount, uint256 totalStake);
    event UnstakeRequested(
        address indexed operator,
        uint256 amount,
        uint256 totalStake,
        uint256 totalUnbonding,
        uint64 releaseAt
    );
    event StakeWithdrawn(address indexed operator, uint256 amount, uint256 totalUnbonding);
    event SignerSet(address indexed operator, address indexed signer);
    event StakeSlashed(
        address indexed operator,
        bytes32 indexed epochKey,
        uint256 amount,
        uint256 totalStake,
        uint256 totalUnbonding,
        address recipient
    );
    event StakeLocked(address indexed operator, uint256 amount, uint64 until);
    event UnbondingDelaySet(uint64 delay);
    event MaxSlashPerEpochSet(uint16 bps);

    // ------------------------------------------------------------------------------------- operator

    /// @notice Adds `amount` tokens to the caller's stake.
    /// @dev Emits Staked. Requirements:
    /// - `amount` > 0 and approved to this contract;
    /// - the contract is not paused.
    function stake(uint256 amount) external;

    /// @notice Moves `amount` of the caller's stake into unbonding; it stays slashable until withdrawn.
    /// @dev A new request adds to the pending amount and restarts the delay. Open even while paused.
    /// Emits UnstakeRequested. Requirements:
    /// - 0 < `amount` <= the caller's active stake;
    /// - what stays active covers the stake locked behind open commitments (see `lockOf`).
    function requestUnstake(uint256 amount) external;

    /// @notice Withdraws the caller's unbonded tokens once the delay has passed.
    /// @dev Open even while paused. Emits StakeWithdrawn. Requirements:
    /// - something is unbonding and its release time has passed.
    function withdraw() external;

    /// @notice Names a separate key that may sign commitments for the caller; address(0) clears it.
    /// @dev Emits SignerSet. Requirements:
    /// - `signer` is not the caller itself.
    function setSigner(address signer) external;

    // ------------------------------------------------------------------------------------- locks

    /// @notice Locks the operator's whole active stake until at least `until` and returns it: the
    /// registry calls this on every commit, so the stake that set a commitment's weight backs it until
    /// the commitment's last epoch is past its truth and dispute windows.
    /// @dev A live lock keeps the larger amount and the later time (one stake backs every feed).
    /// Emits StakeLocked when the lock changes. Requirements:
    /// - the caller has LOCKER_ROLE (the forecast registry).
    function lockStake(address operator, uint64 until) external returns (uint256 stake_);

    // ------------------------------------------------------------------------------------- slashing

    /// @notice Slashes up to `amount` of `operator`'s stake (active first, then unbonding) to `recipient`.
    /// @dev The total slashed under one `epochKey` never exceeds the cap in force when the slashed
    /// commitment was made (`maxSlashPerEpochBpsAt(committedAt)`) of the stake the operator held when
    /// first slashed under that key; the excess is ignored, not reverted, so that settlement never
    /// blocks. Returns the amount actually slashed. Emits StakeSlashed when non-zero. Requirements:
    /// - the caller has SLASHER_ROLE (the settlement contract).
    function slash(
        address operator,
        bytes32 epochKey,
        uint256 amount,
        uint64 committedAt,
        address recipient
    ) external returns (uint256 slashed);

    // ------------------------------------------------------------------------------------- admin

    /// @notice Sets the unbonding delay for future unstake requests.
    /// @dev Emits UnbondingDelaySet. Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE.
    function setUnbondingDelay(uint64 delay) external;

    /// @notice Sets the per-epoch slashing cap in basis points of stake, for commitments made after
    /// this block; commitments already made keep the cap they were made under.
    /// @dev Emits MaxSlashPerEpochSet. Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE;
    /// - `bps` <= 10000.
    function setMaxSlashPerEpoch(uint16 bps) external;

    /// @notice Pauses new stakes. Unstaking and withdrawals stay open so that funds are never locked.
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the contract is not paused.
    function pause() external;

    /// @notice Resumes staking.
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the contract is paused.
    function unpause() external;

    // ------------------------------------------------------------------------------------- views

    /// @notice The staked token.
    /// @dev Requirements: none.
    function token() external view returns (IERC20);

    /// @notice The operator's active stake (excluding what is unbonding).
    /// @dev Requirements: none.
    function stakeOf(address operator) external view returns (uint256);

    /// @notice The operator's unbonding amount and the time it may be withdrawn from.
    /// @dev Requirements: none.
    function unbondingOf(address operator) external view returns (uint256 amount, uint64 releaseAt);

    /// @notice The active stake that cannot enter unbonding before `until`.
    /// @dev Requirements: none (the lock is void once `until` has passed).
    function lockOf(address operator) external view returns (uint256 amount, uint64 until);

    /// @notice The separate signing key the operator named (address(0) if none).
    /// @dev Requirements: none.
    function signerOf(address operator) external view returns (address);

    /// @notice Whether `signer` may sign commitments for `operator`: the operator itself or its named signer.
    /// @dev Requirements: none (address(0) is never authorised).
    function isAuthorizedSigner(address operator, address signer) external view returns (bool);

    /// @notice The amount slashed from `operator` under `epochKey` so far.
    /// @dev Requirements: none.
    function slashedIn(address operator, bytes32 epochKey) external view returns (uint256);

    /// @notice The delay between an unstake request and its withdrawal.
    /// @dev Requirements: none.
    function unbondingDelay() external view returns (uint64);

    /// @notice The per-epoch slashing cap in basis points of stake (for commitments made from the
    /// next block on).
    /// @dev Requirements: none.
    function maxSlashPerEpochBps() external view returns (uint16);

    /// @notice The per-epoch slashing cap that applies to a commitment made at time `committedAt`.
    /// @dev Requirements: none.
    function maxSlashPerEpochBpsAt(uint64 committedAt) external view returns (uint16);
}
