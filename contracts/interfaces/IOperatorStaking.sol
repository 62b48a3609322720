// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

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

    function stakeOf(address operator) external view returns (uint256);
    function unbondingOf(address operator) external view returns (uint256 amount, uint64 releaseAt);
    function signerOf(address operator) external view returns (address);
    function isAuthorizedSigner(address operator, address signer) external view returns (bool);
    function lockOf(address operator) external view returns (uint256 amount, uint64 until);
    function lockStake(address operator, uint64 until) external returns (uint256 stake);
    function slash(
        address operator,
        bytes32 epochKey,
        uint256 amount,
        address recipient
    ) external returns (uint256 slashed);
}
