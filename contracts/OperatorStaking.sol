// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IOperatorStaking} from "./interfaces/IOperatorStaking.sol";

/// @title OperatorStaking
/// @notice Holds operator stakes. Unstaking is a request followed by an unbonding delay during which
/// the stake can still be slashed. Only the settlement contract (SLASHER_ROLE) slashes, and at most
/// `maxSlashPerEpochBps` of an operator's stake per epoch key: the cap in force when the slashed
/// commitment was made (the cap's history is checkpointed), so a later change never applies to
/// commitments already made.
contract OperatorStaking is IOperatorStaking, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Held by the forecast registry: locks the stake that sets a commitment's weight.
    bytes32 public constant LOCKER_ROLE = keccak256("LOCKER_ROLE");
    uint16 internal constant BPS = 10_000;

    struct Unbonding {
        uint192 amount;
        uint64 releaseAt;
    }

    /// @dev Active stake that may not enter unbonding before `until` (it backs open commitments).
    struct Lock {
        uint192 amount;
        uint64 until;
    }

    IERC20 private immutable _token;
    uint64 private _unbondingDelay;
    // The per-epoch slash cap (bps) by the first commit time it applies to.
    Checkpoints.Trace208 private _maxSlashBps;

    mapping(address operator => uint256) private _stakes;
    mapping(address operator => Unbonding) private _unbonding;
    mapping(address operator => address) private _signers;
    mapping(address operator => Lock) private _locks;
    // Slashed amount and the stake it is capped against, per operator and epoch key.
    mapping(address operator => mapping(bytes32 epochKey => uint256)) private _slashedIn;
    mapping(address operator => mapping(bytes32 epochKey => uint256)) private _capBase;

    constructor(IERC20 token_, address admin, uint64 unbondingDelay_, uint16 maxSlashPerEpochBps_) {
        if (maxSlashPerEpochBps_ > BPS) revert OperatorStakingInvalidParameter();
        _token = token_;
        _unbondingDelay = unbondingDelay_;
        _maxSlashBps.push(0, maxSlashPerEpochBps_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------- operator

    /// @inheritdoc IOperatorStaking
    function stake(uint256 amount) external nonReentrant whenNotPaused {
        if (amount == 0) revert OperatorStakingZeroAmount();
        _stakes[msg.sender] += amount;
        _token.safeTransferFrom(msg.sender, address(this), amount);
        emit Staked(msg.sender, amount, _stakes[msg.sender]);
    }

    /// @inheritdoc IOperatorStaking
    function requestUnstake(uint256 amount) external {
        if (amount == 0) revert OperatorStakingZeroAmount();
        uint256 current = _stakes[msg.sender];
        if (amount > current) revert OperatorStakingInsufficientStake(msg.sender, amount, current);
        Lock memory l = _locks[msg.sender];
        if (block.timestamp < l.until && current - amount < l.amount) {
            revert OperatorStakingStakeLocked(msg.sender, l.amount, l.until);
        }
        _stakes[msg.sender] = current - amount;
        Unbonding storage u = _unbonding[msg.sender];
        u.amount += uint192(amount);
        u.releaseAt = uint64(block.timestamp) + _unbondingDelay;
        emit UnstakeRequested(msg.sender, amount, current - amount, u.amount, u.releaseAt);
    }

    /// @inheritdoc IOperatorStaking
    function withdraw() external nonReentrant {
        Unbonding memory u = _unbonding[msg.sender];
        if (u.amount == 0) revert OperatorStakingNothingUnbonding(msg.sender);
        if (block.timestamp < u.releaseAt) revert OperatorStakingStillUnbonding(msg.sender, u.releaseAt);
        delete _unbonding[msg.sender];
        _token.safeTransfer(msg.sender, u.amount);
        emit StakeWithdrawn(msg.sender, u.amount, 0);
    }

    /// @inheritdoc IOperatorStaking
    function setSigner(address signer) external {
        if (signer == msg.sender) revert OperatorStakingInvalidSigner(signer);
        _signers[msg.sender] = signer;
        emit SignerSet(msg.sender, signer);
    }

    // ----------------------------------------------------------------------------------------- locks

    /// @inheritdoc IOperatorStaking
    function lockStake(address operator, uint64 until) external onlyRole(LOCKER_ROLE) returns (uint256 stake_) {
        stake_ = _stakes[operator];
        Lock memory l = _locks[operator];
        uint256 amount = stake_;
        if (block.timestamp < l.until) {
            if (l.amount > amount) amount = l.amount;
            if (l.until > until) until = l.until;
        }
        if (amount != l.amount || until != l.until) {
            _locks[operator] = Lock(uint192(amount), until);
            emit StakeLocked(operator, amount, until);
        }
    }

    // ----------------------------------------------------------------------------------------- slashing

    /// @inheritdoc IOperatorStaking
    function slash(
        address operator,
        bytes32 epochKey,
        uint256 amount,
        uint64 committedAt,
        address recipient
    ) external onlyRole(SLASHER_ROLE) nonReentrant returns (uint256 slashed) {
        slashed = _recordSlash(operator, epochKey, amount, maxSlashPerEpochBpsAt(committedAt));
        if (slashed == 0) return 0;
        uint256 active = _stakes[operator];
        uint256 fromActive = slashed <= active ? slashed : active;
        _stakes[operator] = active - fromActive;
        Unbonding storage u = _unbonding[operator];
        u.amount -= uint192(slashed - fromActive);
        _token.safeTransfer(recipient, slashed);
        emit StakeSlashed(operator, epochKey, slashed, active - fromActive, u.amount, recipient);
    }

    /// @dev Clamps `amount` to what the per-epoch cap still allows and records it.
    function _recordSlash(
        address operator,
        bytes32 epochKey,
        uint256 amount,
        uint256 capBps
    ) private returns (uint256 slashed) {
        uint256 total = _stakes[operator] + _unbonding[operator].amount;
        uint256 base = _capBase[operator][epochKey];
        if (base == 0) {
            base = total;
            _capBase[operator][epochKey] = base;
        }
        uint256 cap = (base * capBps) / BPS;
        uint256 already = _slashedIn[operator][epochKey];
        uint256 room = cap > already ? cap - already : 0;
        slashed = amount < room ? amount : room;
        if (slashed > total) slashed = total;
        _slashedIn[operator][epochKey] = already + slashed;
    }

    // ----------------------------------------------------------------------------------------- admin

    /// @inheritdoc IOperatorStaking
    function setUnbondingDelay(uint64 delay) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unbondingDelay = delay;
        emit UnbondingDelaySet(delay);
    }

    /// @inheritdoc IOperatorStaking
    function setMaxSlashPerEpoch(uint16 bps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bps > BPS) revert OperatorStakingInvalidParameter();
        // From the next second on: a commitment made in this block keeps the cap it was made under.
        _maxSlashBps.push(uint48(block.timestamp) + 1, bps);
        emit MaxSlashPerEpochSet(bps);
    }

    /// @inheritdoc IOperatorStaking
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IOperatorStaking
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------- views

    /// @inheritdoc IOperatorStaking
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IOperatorStaking
    function stakeOf(address operator) external view returns (uint256) {
        return _stakes[operator];
    }

    /// @inheritdoc IOperatorStaking
    function unbondingOf(address operator) external view returns (uint256 amount, uint64 releaseAt) {
        Unbonding memory u = _unbonding[operator];
        return (u.amount, u.releaseAt);
    }

    /// @inheritdoc IOperatorStaking
    function lockOf(address operator) external view returns (uint256 amount, uint64 until) {
        Lock memory l = _locks[operator];
        return (l.amount, l.until);
    }

    /// @inheritdoc IOperatorStaking
    function signerOf(address operator) external view returns (address) {
        return _signers[operator];
    }

    /// @inheritdoc IOperatorStaking
    function isAuthorizedSigner(address operator, address signer) external view returns (bool) {
        return signer != address(0) && (signer == operator || signer == _signers[operator]);
    }

    /// @inheritdoc IOperatorStaking
    function slashedIn(address operator, bytes32 epochKey) external view returns (uint256) {
        return _slashedIn[operator][epochKey];
    }

    /// @inheritdoc IOperatorStaking
    function unbondingDelay() external view returns (uint64) {
        return _unbondingDelay;
    }

    /// @inheritdoc IOperatorStaking
    function maxSlashPerEpochBps() external view returns (uint16) {
        return uint16(_maxSlashBps.latest());
    }

    /// @inheritdoc IOperatorStaking
    function maxSlashPerEpochBpsAt(uint64 committedAt) public view returns (uint16) {
        uint48 at = committedAt > type(uint48).max ? type(uint48).max : uint48(committedAt);
        return uint16(_maxSlashBps.upperLookupRecent(at));
    }
}
