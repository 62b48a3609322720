// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {IForecastRegistry} from "./interfaces/IForecastRegistry.sol";
import {IOperatorStaking} from "./interfaces/IOperatorStaking.sol";
import {ISettlement} from "./interfaces/ISettlement.sol";

/// @title Settlement
/// @notice Measured truth, disputes, scoring and rewards. Rewards are credited to balances that
/// accounts withdraw themselves.
/// @dev Gas stays bounded two ways: `settle` is O(n) in the epoch's revealed forecasts, which the
/// feed caps (maxForecastsPerEpoch), and reads them without writing per-operator state; `claim`
/// is O(1) per operator. Accounting counters make the conservation invariant checkable on-chain:
/// token balance == pools + bonds held + credited balances + settled-but-unclaimed rewards.
contract Settlement is ISettlement, AccessControl, Pausable, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @inheritdoc ISettlement
    bytes32 public constant TRUTH_REPORTER_ROLE = keccak256("TRUTH_REPORTER_ROLE");
    /// @inheritdoc ISettlement
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    /// @inheritdoc ISettlement
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    uint256 internal constant WAD = 1e18;
    uint256 internal constant BPS = 10_000;

    IERC20 private immutable _token;
    IForecastRegistry private immutable _registry;
    IOperatorStaking private immutable _staking;

    mapping(bytes32 feedId => uint256) private _pool;
    mapping(bytes32 feedId => mapping(uint64 epoch => Truth)) private _truths;
    mapping(bytes32 feedId => mapping(uint64 epoch => Dispute)) private _disputes;
    mapping(bytes32 feedId => mapping(uint64 epoch => EpochResult)) private _results;
    mapping(bytes32 feedId => mapping(uint64 epoch => mapping(address operator => bool))) private _claimed;
    mapping(address account => uint256) private _balances;
    // The bond each side of an epoch's truth posts, fixed when the truth is submitted so that a later
    // change of the feed's disputeBond cannot unbalance the accounting.
    mapping(bytes32 feedId => mapping(uint64 epoch => uint256)) private _bonds;
    // Batches whose non-reveal penalty was charged: once per batch, not once per epoch.
    mapping(bytes32 feedId => mapping(address operator => mapping(uint64 firstEpoch => bool)))
        private _nonRevealCharged;
    // When each open dispute was raised: the arbiter has the feed's truth timeout from then on.
    mapping(bytes32 feedId => mapping(uint64 epoch => uint64)) private _disputedAt;

    uint256 private _totalPools;
    uint256 private _totalBonds;
    uint256 private _totalBalances;
    uint256 private _totalUnclaimed;

    constructor(IERC20 token_, IForecastRegistry registry_, IOperatorStaking staking_, address admin) {
        _token = token_;
        _registry = registry_;
        _staking = staking_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------- funding

    /// @inheritdoc ISettlement
    function fundRewards(bytes32 feedId, uint256 amount) external nonReentrant {
        if (amount == 0) revert SettlementZeroAmount();
        _registry.feedParams(feedId); // reverts for an unknown feed
        _token.safeTransferFrom(msg.sender, address(this), amount);
        _pool[feedId] += amount;
        _totalPools += amount;
        emit RewardsFunded(feedId, msg.sender, amount, _pool[feedId]);
    }

    // ----------------------------------------------------------------------------------------- truth

    /// @inheritdoc ISettlement
    function submitTruth(
        bytes32 feedId,
        uint64 epoch,
        int64 value,
        bytes32 evidenceHash
    ) external onlyRole(TRUTH_REPORTER_ROLE) nonReentrant {
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        uint64 endsAt = p.genesis + (epoch + 1) * p.epochLength;
        if (block.timestamp < endsAt) revert SettlementEpochNotEnded(feedId, epoch, endsAt);
        if (block.timestamp >= endsAt + p.truthTimeout) {
            revert SettlementTruthTooLate(feedId, epoch, endsAt + p.truthTimeout);
        }
        Truth storage t = _truths[feedId][epoch];
        if (t.status != TruthStatus.None) revert SettlementTruthExists(feedId, epoch);
        _truths[feedId][epoch] = Truth(
            value,
            uint64(block.timestamp),
            TruthStatus.Submitted,
            false,
            msg.sender,
            evidenceHash
        );
        _bonds[feedId][epoch] = p.disputeBond;
        _takeBond(p.disputeBond);
        emit TruthSubmitted(feedId, epoch, value, evidenceHash, msg.sender, p.disputeBond);
    }

    /// @inheritdoc ISettlement
    function dispute(bytes32 feedId, uint64 epoch, int64 proposedValue) external nonReentrant {
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        Truth storage t = _truths[feedId][epoch];
        if (t.status == TruthStatus.Disputed || t.disputeResolved) revert SettlementAlreadyDisputed(feedId, epoch);
        if (t.status != TruthStatus.Submitted) revert SettlementNoTruth(feedId, epoch);
        if (msg.sender == t.reporter) revert SettlementSelfDispute(feedId, epoch);
        if (block.timestamp >= uint256(t.submittedAt) + p.disputeWindow) {
            revert SettlementDisputeWindowClosed(feedId, epoch);
        }
        t.status = TruthStatus.Disputed;
        _disputes[feedId][epoch] = Dispute(msg.sender, proposedValue);
        _disputedAt[feedId][epoch] = uint64(block.timestamp);
        uint256 bond = _bonds[feedId][epoch];
        _takeBond(bond);
        emit TruthDisputed(feedId, epoch, msg.sender, proposedValue, bond);
    }

    /// @inheritdoc ISettlement
    function resolveDispute(
        bytes32 feedId,
        uint64 epoch,
        bool upheld,
        int64 correctedValue
    ) external onlyRole(ARBITER_ROLE) {
        Truth storage t = _truths[feedId][epoch];
        if (t.status != TruthStatus.Disputed) revert SettlementNoOpenDispute(feedId, epoch);
        uint256 payout = 2 * _bonds[feedId][epoch];
        address winner = upheld ? _disputes[feedId][epoch].disputer : t.reporter;
        if (upheld) t.value = correctedValue;
        t.status = TruthStatus.Submitted;
        t.disputeResolved = true;
        _totalBonds -= payout;
        if (payout != 0) _credit(winner, payout);
        emit DisputeResolved(feedId, epoch, upheld, t.value, winner, payout);
    }

    /// @inheritdoc ISettlement
    function expireDispute(bytes32 feedId, uint64 epoch) external whenNotPaused {
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        Truth storage t = _truths[feedId][epoch];
        if (t.status != TruthStatus.Disputed) revert SettlementNoOpenDispute(feedId, epoch);
        uint64 deadline = _disputedAt[feedId][epoch] + p.truthTimeout;
        if (block.timestamp < deadline) revert SettlementArbiterStillDue(feedId, epoch, deadline);
        t.status = TruthStatus.Cancelled;
        uint256 bond = _bonds[feedId][epoch];
        _totalBonds -= 2 * bond;
        if (bond != 0) {
            _credit(t.reporter, bond);
            _credit(_disputes[feedId][epoch].disputer, bond);
        }
        emit DisputeExpired(feedId, epoch, bond);
        emit EpochCancelled(feedId, epoch, p.rewardPerEpoch);
    }

    /// @inheritdoc ISettlement
    function cancelEpoch(bytes32 feedId, uint64 epoch) external whenNotPaused {
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        Truth storage t = _truths[feedId][epoch];
        uint256 deadline = uint256(p.genesis) + (uint256(epoch) + 1) * p.epochLength + p.truthTimeout;
        if (t.status != TruthStatus.None || block.timestamp < deadline) revert SettlementNotCancellable(feedId, epoch);
        t.status = TruthStatus.Cancelled;
        emit EpochCancelled(feedId, epoch, p.rewardPerEpoch);
    }

    // ----------------------------------------------------------------------------------------- settlement

    /// @inheritdoc ISettlement
    function settle(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) external whenNotPaused {
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        Truth storage t = _truths[feedId][epoch];
        if (t.status == TruthStatus.Settled) revert SettlementAlreadySettled(feedId, epoch);
        if (t.status == TruthStatus.Disputed) revert SettlementTruthPending(feedId, epoch);
        if (t.status != TruthStatus.Submitted) revert SettlementNoTruth(feedId, epoch);
        uint64 closesAt = t.submittedAt + p.disputeWindow;
        if (!t.disputeResolved && block.timestamp < closesAt) {
            revert SettlementDisputeWindowOpen(feedId, epoch, closesAt);
        }
        IForecastRegistry.ForecastSet memory set = _registry.revealedSet(feedId, epoch, operators, firstEpochs);
        uint256 total = _totalScore(set, t.value, p.tolerance);
        uint256 reward = total == 0 ? 0 : _min(_pool[feedId], p.rewardPerEpoch);
        _pool[feedId] -= reward;
        _totalPools -= reward;
        _totalUnclaimed += reward;
        _results[feedId][epoch] = EpochResult(uint128(reward), 0, total);
        t.status = TruthStatus.Settled;
        uint256 refund = t.disputeResolved ? 0 : _bonds[feedId][epoch];
        if (refund != 0) {
            _totalBonds -= refund;
            _credit(t.reporter, refund);
        }
        _emitSettled(feedId, epoch, t, uint32(set.values.length), refund);
    }

    function _totalScore(
        IForecastRegistry.ForecastSet memory set,
        int64 truth,
        uint64 tolerance
    ) private pure returns (uint256 total) {
        for (uint256 i = 0; i < set.values.length; ++i) {
            (uint256 s, ) = scoreOf(truth, set.values[i], set.lowers[i], set.uppers[i], tolerance);
            total += set.weights[i] * s;
        }
    }

    function _emitSettled(bytes32 feedId, uint64 epoch, Truth storage t, uint32 n, uint256 refund) private {
        EpochResult storage r = _results[feedId][epoch];
        emit EpochSettled(feedId, epoch, t.value, r.reward, r.totalScore, n, _pool[feedId], t.reporter, refund);
    }

    /// @inheritdoc ISettlement
    function claim(
        bytes32 feedId,
        uint64 epoch,
        address operator,
        uint64 firstEpoch
    ) external whenNotPaused nonReentrant {
        Truth storage t = _truths[feedId][epoch];
        if (t.status != TruthStatus.Settled) revert SettlementNotSettled(feedId, epoch);
        if (_claimed[feedId][epoch][operator]) revert SettlementAlreadyClaimed(feedId, epoch, operator);
        IForecastRegistry.Forecast memory fc = _registry.getForecast(feedId, operator, firstEpoch, epoch);
        if (!fc.committed) revert SettlementNothingToClaim(feedId, epoch, operator);
        _claimed[feedId][epoch][operator] = true;
        IForecastRegistry.FeedParams memory p = _registry.feedParamsAt(feedId, epoch);
        Outcome memory o;
        uint256 penaltyBps;
        bytes32 key = keccak256(abi.encode(feedId, epoch));
        if (fc.revealed) {
            (o.score, o.absError) = scoreOf(t.value, fc.value, fc.lower, fc.upper, p.tolerance);
            o.reward = _payShare(feedId, epoch, operator, uint256(fc.weight) * o.score);
            penaltyBps = o.absError > p.slashThreshold ? p.slashBps : 0;
        } else if (!_nonRevealCharged[feedId][operator][firstEpoch]) {
            _nonRevealCharged[feedId][operator][firstEpoch] = true;
            penaltyBps = p.nonRevealSlashBps;
            key = keccak256(abi.encode(feedId, operator, firstEpoch));
        }
        if (penaltyBps != 0) {
            // Capped by the slash cap in force when the batch was committed, not today's.
            uint64 committedAt = _registry.batch(feedId, operator, firstEpoch).committedAt;
            uint256 amount = (uint256(fc.weight) * penaltyBps) / BPS;
            o.slashed = _staking.slash(operator, key, amount, committedAt, address(this));
            _pool[feedId] += o.slashed;
            _totalPools += o.slashed;
        }
        _emitScored(feedId, epoch, operator, fc, o);
    }

    function _emitScored(
        bytes32 feedId,
        uint64 epoch,
        address operator,
        IForecastRegistry.Forecast memory fc,
        Outcome memory o
    ) private {
        emit ForecastScored(
            feedId,
            epoch,
            operator,
            fc.revealed,
            fc.value,
            o.absError,
            o.score,
            o.reward,
            o.slashed,
            _pool[feedId]
        );
    }

    struct Outcome {
        uint256 absError;
        uint256 score;
        uint256 reward;
        uint256 slashed;
    }

    function _payShare(
        bytes32 feedId,
        uint64 epoch,
        address operator,
        uint256 weightedScore
    ) private returns (uint256 reward) {
        EpochResult storage r = _results[feedId][epoch];
        if (r.totalScore == 0) return 0;
        reward = (uint256(r.reward) * weightedScore) / r.totalScore;
        if (reward == 0) return 0;
        if (uint256(r.paidOut) + reward > r.reward) revert SettlementReserveExceeded(feedId, epoch);
        r.paidOut += uint128(reward);
        _totalUnclaimed -= reward;
        _credit(operator, reward);
    }

    /// @inheritdoc ISettlement
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert SettlementNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        _totalBalances -= amount;
        _token.safeTransfer(msg.sender, amount);
        emit RewardsWithdrawn(msg.sender, amount);
    }

    /// @inheritdoc ISettlement
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc ISettlement
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------- views

    /// @inheritdoc ISettlement
    function scoreOf(
        int64 truth,
        int64 value,
        int64 lower,
        int64 upper,
        uint64 tolerance
    ) public pure returns (uint256 score, uint256 absError) {
        int256 diff = int256(value) - int256(truth);
        absError = uint256(diff < 0 ? -diff : diff);
        if (absError >= tolerance) return (0, absError);
        uint256 accuracy = (WAD * (tolerance - absError)) / tolerance;
        uint256 factor = WAD / 4;
        if (lower <= truth && truth <= upper) {
            uint256 width = uint256(int256(upper) - int256(lower));
            uint256 span = 2 * uint256(tolerance);
            factor = WAD / 2 + (width >= span ? 0 : ((WAD / 2) * (span - width)) / span);
        }
        score = (accuracy * factor) / WAD;
    }

    /// @inheritdoc ISettlement
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc ISettlement
    function registry() external view returns (IForecastRegistry) {
        return _registry;
    }

    /// @inheritdoc ISettlement
    function pool(bytes32 feedId) external view returns (uint256) {
        return _pool[feedId];
    }

    /// @inheritdoc ISettlement
    function truthOf(bytes32 feedId, uint64 epoch) external view returns (Truth memory) {
        return _truths[feedId][epoch];
    }

    /// @inheritdoc ISettlement
    function disputeOf(bytes32 feedId, uint64 epoch) external view returns (Dispute memory) {
        return _disputes[feedId][epoch];
    }

    /// @inheritdoc ISettlement
    function resultOf(bytes32 feedId, uint64 epoch) external view returns (EpochResult memory) {
        return _results[feedId][epoch];
    }

    /// @inheritdoc ISettlement
    function claimed(bytes32 feedId, uint64 epoch, address operator) external view returns (bool) {
        return _claimed[feedId][epoch][operator];
    }

    /// @inheritdoc ISettlement
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @inheritdoc ISettlement
    function accounting() external view returns (uint256 pools, uint256 bonds, uint256 balances, uint256 unclaimed) {
        return (_totalPools, _totalBonds, _totalBalances, _totalUnclaimed);
    }

    // ----------------------------------------------------------------------------------------- internal

    function _takeBond(uint256 bond) private {
        if (bond == 0) return;
        _token.safeTransferFrom(msg.sender, address(this), bond);
        _totalBonds += bond;
    }

    function _credit(address account, uint256 amount) private {
        _balances[account] += amount;
        _totalBalances += amount;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
