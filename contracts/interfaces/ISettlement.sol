// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

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
}
