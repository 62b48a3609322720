// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IForecastRegistry} from "./IForecastRegistry.sol";

/// @title ISettlement
/// @notice Truth, disputes, scoring, rewards and slashing for forecast epochs.
interface ISettlement {
    enum TruthStatus {
        None,
        Submitted,
        Disputed,
        Cancelled,
        Settled
    }

    struct Truth {
        int64 value;
        uint64 submittedAt;
        TruthStatus status;
        bool disputeResolved;
        address reporter;
        bytes32 evidenceHash;
    }

    struct Dispute {
        address disputer;
        int64 proposedValue;
    }

    struct EpochResult {
        uint128 reward;
        uint128 paidOut;
        uint256 totalScore;
    }

    error SettlementZeroAmount();
    error SettlementEpochNotEnded(bytes32 feedId, uint64 epoch, uint64 endsAt);
    error SettlementTruthTooLate(bytes32 feedId, uint64 epoch, uint64 deadline);
    error SettlementTruthExists(bytes32 feedId, uint64 epoch);
    error SettlementNoTruth(bytes32 feedId, uint64 epoch);
    error SettlementDisputeWindowClosed(bytes32 feedId, uint64 epoch);
    error SettlementDisputeWindowOpen(bytes32 feedId, uint64 epoch, uint64 closesAt);
    error SettlementAlreadyDisputed(bytes32 feedId, uint64 epoch);
    error SettlementNoOpenDispute(bytes32 feedId, uint64 epoch);
    error SettlementTruthPending(bytes32 feedId, uint64 epoch);
    error SettlementNotCancellable(bytes32 feedId, uint64 epoch);
    error SettlementNotSettled(bytes32 feedId, uint64 epoch);
    error SettlementAlreadySettled(bytes32 feedId, uint64 epoch);
    error SettlementAlreadyClaimed(bytes32 feedId, uint64 epoch, address operator);
    error SettlementNothingToClaim(bytes32 feedId, uint64 epoch, address operator);
    error SettlementNothingToWithdraw(address account);
    error SettlementSelfDispute(bytes32 feedId, uint64 epoch);
    error SettlementReserveExceeded(bytes32 feedId, uint64 epoch);
    error SettlementArbiterStillDue(bytes32 feedId, uint64 epoch, uint64 deadline);

    event RewardsFunded(bytes32 indexed feedId, address indexed funder, uint256 amount, uint256 poolAfter);
    event TruthSubmitted(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        int64 value,
        bytes32 evidenceHash,
        address reporter,
        uint256 bond
    );
    event TruthDisputed(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed disputer,
        int64 proposedValue,
        uint256 bond
    );
    event DisputeResolved(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        bool upheld,
        int64 finalValue,
        address winner,
        uint256 payout
    );
    /// @notice The arbiter did not decide in time: both bonds were returned, the epoch cancelled.
    event DisputeExpired(bytes32 indexed feedId, uint64 indexed epoch, uint256 bondReturned);
    event EpochCancelled(bytes32 indexed feedId, uint64 indexed epoch, uint256 rolledOver);
    event EpochSettled(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        int64 truthValue,
        uint256 reward,
        uint256 totalScore,
        uint32 forecasts,
        uint256 poolAfter,
        address reporter,
        uint256 bondRefund
    );
    event ForecastScored(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed operator,
        bool revealed,
        int64 value,
        uint256 absError,
        uint256 score,
        uint256 reward,
        uint256 slashed,
        uint256 poolAfter
    );
    event RewardsWithdrawn(address indexed account, uint256 amount);

    // ------------------------------------------------------------------------------------- roles

    /// @notice Role that may submit truths.
    function TRUTH_REPORTER_ROLE() external view returns (bytes32);

    /// @notice Role that decides disputes.
    function ARBITER_ROLE() external view returns (bytes32);

    /// @notice Role that may pause and unpause.
    function PAUSER_ROLE() external view returns (bytes32);

    // ------------------------------------------------------------------------------------- funding

    /// @notice Adds `amount` tokens to a feed's reward pool.
    /// @dev Emits `RewardsFunded`.
    /// Requirements:
    /// - `amount` > 0 and approved to this contract;
    /// - the feed exists.
    function fundRewards(bytes32 feedId, uint256 amount) external;

    // ------------------------------------------------------------------------------------- truth

    /// @notice Submits the measured value of an ended epoch with a hash of its evidence, posting the
    /// feed's dispute bond (fixed for this epoch from then on).
    /// @dev Never paused, so a pause cannot let the truth window lapse (the epoch would then be
    /// cancellable). Emits `TruthSubmitted`.
    /// Requirements:
    /// - the caller has TRUTH_REPORTER_ROLE;
    /// - the epoch has ended and its truth timeout has not passed; no truth yet;
    /// - the bond is approved.
    function submitTruth(bytes32 feedId, uint64 epoch, int64 value, bytes32 evidenceHash) external;

    /// @notice Disputes a submitted truth, posting the bond fixed when the truth was submitted.
    /// @dev One dispute per epoch. Never paused, so a pause cannot close the dispute window on a
    /// wrong truth. Emits `TruthDisputed`.
    /// Requirements:
    /// - a truth was submitted and its dispute window is open; no dispute yet (nor a resolved one);
    /// - the caller is not the truth's reporter (who could otherwise pre-empt every real dispute);
    /// - the bond is approved.
    function dispute(bytes32 feedId, uint64 epoch, int64 proposedValue) external;

    /// @notice Decides an open dispute. Upheld: the truth becomes `correctedValue` and the disputer
    /// receives both bonds; rejected: the reporter receives both bonds.
    /// @dev Not paused, so the arbiter can always meet its deadline. Emits `DisputeResolved`.
    /// Requirements:
    /// - the caller has ARBITER_ROLE;
    /// - the epoch has an open dispute.
    function resolveDispute(bytes32 feedId, uint64 epoch, bool upheld, int64 correctedValue) external;

    /// @notice Ends a dispute the arbiter left undecided for the feed's truth timeout: the epoch is
    /// cancelled (no scoring, no slashing, the reward rolls over) and each side gets its bond back.
    /// @dev Bounds the arbiter's time, so a silent arbiter cannot freeze an epoch and its bonds.
    /// Emits `DisputeExpired` and `EpochCancelled`.
    /// Requirements:
    /// - the epoch has an open dispute raised at least `truthTimeout` ago;
    /// - not paused.
    function expireDispute(bytes32 feedId, uint64 epoch) external;

    /// @notice Cancels an epoch whose truth never came: no scoring, no slashing, the reward rolls over.
    /// @dev Emits `EpochCancelled`.
    /// Requirements:
    /// - no truth was submitted and the epoch's truth timeout has passed;
    /// - not paused.
    function cancelEpoch(bytes32 feedId, uint64 epoch) external;

    // ------------------------------------------------------------------------------------- settlement

    /// @notice Scores the epoch's revealed forecasts against the truth and sets aside its reward
    /// (the feed's `rewardPerEpoch` for that epoch, at most the pool; none if no forecast scored).
    /// @dev The caller passes every revealed batch covering the epoch (operators strictly
    /// increasing); the registry checks the set is complete. O(n) in the epoch's revealed forecasts,
    /// which the feed caps. Returns the reporter's bond to its balance. Emits `EpochSettled`.
    /// Requirements:
    /// - a truth stands, its dispute window has passed (or its dispute was resolved) and no dispute
    ///   is open;
    /// - the epoch is not settled yet;
    /// - `operators`/`firstEpochs` list exactly the epoch's revealed batches;
    /// - not paused.
    function settle(bytes32 feedId, uint64 epoch, address[] calldata operators, uint64[] calldata firstEpochs) external;

    /// @notice Credits one operator's share of a settled epoch's reward (weight × score), and slashes
    /// a forecast beyond the feed's threshold or a commitment that was never revealed. Anyone may call.
    /// @dev O(1). Scores with the parameters the epoch was committed and settled under
    /// (`feedParamsAt`); reverts `SettlementReserveExceeded` rather than pay past the epoch's reserve.
    /// A slash is capped by the staking cap in force when the batch was committed
    /// (`OperatorStaking.maxSlashPerEpochBpsAt(batch.committedAt)`). The non-reveal penalty is charged once per batch (its first unrevealed claim). Emits
    /// `ForecastScored`.
    /// Requirements:
    /// - the epoch is settled;
    /// - `operator` committed a batch from `firstEpoch` covering the epoch;
    /// - not claimed yet for (`feedId`, `epoch`, `operator`);
    /// - not paused.
    function claim(bytes32 feedId, uint64 epoch, address operator, uint64 firstEpoch) external;

    /// @notice Withdraws the caller's credited rewards and bond payouts.
    /// @dev Never paused, so funds can always leave. Emits `RewardsWithdrawn`.
    /// Requirements:
    /// - the caller's balance is non-zero.
    function withdraw() external;

    /// @notice Pauses settlement, claims, cancellation and dispute expiry. Truth submission,
    /// disputes, the arbiter's decisions and withdrawals stay open, so no deadline lapses under a pause.
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - not paused.
    function pause() external;

    /// @notice Resumes settlement, claims, cancellation and dispute expiry.
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - paused.
    function unpause() external;

    // ------------------------------------------------------------------------------------- views

    /// @notice Interval-aware score in [0, 1e18] and the absolute error.
    /// @dev accuracy = max(0, 1 - |value - truth| / tolerance); an interval that contains the truth
    /// multiplies it by 0.5..1 (narrower is better, full credit at zero width, half at >= 2×tolerance);
    /// an interval that misses the truth multiplies it by 0.25.
    /// Requirements:
    /// - `tolerance` > 0 (feeds enforce it).
    function scoreOf(
        int64 truth,
        int64 value,
        int64 lower,
        int64 upper,
        uint64 tolerance
    ) external pure returns (uint256 score, uint256 absError);

    /// @notice The reward and bond token.
    /// @dev Requirements: none (view).
    function token() external view returns (IERC20);

    /// @notice The forecast registry read for parameters and revealed forecasts.
    /// @dev Requirements: none (view).
    function registry() external view returns (IForecastRegistry);

    /// @notice A feed's undistributed reward pool.
    /// @dev Requirements: none (view).
    function pool(bytes32 feedId) external view returns (uint256);

    /// @notice The truth of an epoch (status None if none was submitted).
    /// @dev Requirements: none (view).
    function truthOf(bytes32 feedId, uint64 epoch) external view returns (Truth memory);

    /// @notice The dispute of an epoch (zero disputer if none).
    /// @dev Requirements: none (view).
    function disputeOf(bytes32 feedId, uint64 epoch) external view returns (Dispute memory);

    /// @notice A settled epoch's reserve, paid-out amount and total weighted score.
    /// @dev Requirements: none (view).
    function resultOf(bytes32 feedId, uint64 epoch) external view returns (EpochResult memory);

    /// @notice Whether `operator`'s forecast for the epoch was claimed.
    /// @dev Requirements: none (view).
    function claimed(bytes32 feedId, uint64 epoch, address operator) external view returns (bool);

    /// @notice An account's credited, withdrawable balance.
    /// @dev Requirements: none (view).
    function balanceOf(address account) external view returns (uint256);

    /// @notice The liabilities the token balance must cover: pools, bonds held, credited balances,
    /// settled rewards not yet claimed (rounding dust of claims stays in the last).
    /// @dev Requirements: none (view).
    function accounting() external view returns (uint256 pools, uint256 bonds, uint256 balances, uint256 unclaimed);
}
