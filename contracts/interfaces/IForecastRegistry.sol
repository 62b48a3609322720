// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IForecastRegistry
/// @notice Feeds, epochs and the commit → reveal → consensus life of forecasts.
interface IForecastRegistry {
    /// @notice Parameters of a feed. Times are seconds; values are integers scaled by 10**decimals.
    /// @dev Epoch e starts at genesis + e*epochLength. Epochs are grouped in rounds of epochsPerRound
    /// (a day-ahead gate closure when epochsPerRound covers a day): every epoch of a round shares
    /// revealDeadline = roundStart - leadTime and commitDeadline = revealDeadline - revealWindow.
    struct FeedParams {
        uint64 genesis;
        uint32 epochLength;
        uint16 epochsPerRound;
        uint32 revealWindow;
        uint32 leadTime;
        uint32 truthTimeout;
        uint32 disputeWindow;
        uint8 decimals;
        uint16 maxForecastsPerEpoch;
        uint16 slashBps;
        uint16 nonRevealSlashBps;
        uint128 minStake;
        uint128 rewardPerEpoch;
        uint128 disputeBond;
        uint64 tolerance;
        uint64 slashThreshold;
    }

    /// @notice A stake-weighted median of the revealed forecasts of one epoch.
    struct Consensus {
        int64 value;
        int64 lower;
        int64 upper;
        uint64 finalizedAt;
    }

    /// @notice The openings of a committed batch: one value and interval per epoch, shared model and salt.
    struct Opening {
        int64[] values;
        int64[] lowers;
        int64[] uppers;
        bytes32 modelHash;
        bytes32 salt;
    }

    /// @notice One operator's forecast for one epoch, as settlement reads it.
    struct Forecast {
        bool committed;
        bool revealed;
        uint96 weight;
        int64 value;
        int64 lower;
        int64 upper;
    }

    /// @notice The revealed forecasts of one epoch, in the order of the operators given.
    struct ForecastSet {
        int64[] values;
        int64[] lowers;
        int64[] uppers;
        uint256[] weights;
        uint256 totalWeight;
    }

    error ForecastRegistryFeedExists(bytes32 feedId);
    error ForecastRegistryUnknownFeed(bytes32 feedId);
    error ForecastRegistryFeedIsPaused(bytes32 feedId);
    error ForecastRegistryInvalidParams();
    error ForecastRegistryImmutableParam();
    error ForecastRegistryEmptyBatch();
    error ForecastRegistryBatchTooLarge(uint256 count, uint256 max);
    error ForecastRegistryBatchSpansRounds(uint64 firstEpoch, uint64 lastEpoch);
    error ForecastRegistryCommitClosed(bytes32 feedId, uint64 epoch);
    error ForecastRegistryBeyondHorizon(bytes32 feedId, uint64 epoch);
    error ForecastRegistryAlreadyCommitted(bytes32 feedId, address operator, uint64 epoch);
    error ForecastRegistryInsufficientStake(address operator, uint256 stake, uint256 minStake);
    error ForecastRegistryEpochFull(bytes32 feedId, uint64 epoch);
    error ForecastRegistryExpiredSignature(uint256 deadline);
    error ForecastRegistryUnauthorizedSigner(address operator, address signer);
    error ForecastRegistryUnknownBatch(bytes32 feedId, address operator, uint64 firstEpoch);
    error ForecastRegistryAlreadyRevealed(bytes32 feedId, address operator, uint64 firstEpoch);
    error ForecastRegistryRevealNotOpen(bytes32 feedId, uint64 epoch);
    error ForecastRegistryRevealClosed(bytes32 feedId, uint64 epoch);
    error ForecastRegistryLengthMismatch();
    error ForecastRegistryInvalidInterval(uint64 epoch, int64 lower, int64 value, int64 upper);
    error ForecastRegistryValueOutOfRange(int64 value);
    error ForecastRegistryDataWriteFailed();
    error ForecastRegistryRevealMismatch(bytes32 feedId, address operator, uint64 firstEpoch);
    error ForecastRegistryConsensusNotOpen(bytes32 feedId, uint64 epoch);
    error ForecastRegistryConsensusFinalized(bytes32 feedId, uint64 epoch);
    error ForecastRegistryNoReveals(bytes32 feedId, uint64 epoch);
    error ForecastRegistryIncompleteForecastSet(uint256 given, uint256 revealed);
    error ForecastRegistryUnsortedOperators();
    error ForecastRegistryNotRevealed(address operator, uint64 epoch);
    error ForecastRegistryNoConsensus(bytes32 feedId);
    error ForecastRegistryStale(bytes32 feedId, uint64 epoch, uint64 finalizedAt);

    event FeedRegistered(
        bytes32 indexed feedId,
        string region,
        string metric,
        uint32 resolutionSeconds,
        FeedParams params
    );
    event FeedParamsUpdated(bytes32 indexed feedId, FeedParams params);
    /// @notice The parameters of the preceding FeedParamsUpdated apply from `fromEpoch` on.
    event FeedParamsScheduled(bytes32 indexed feedId, uint64 fromEpoch);
    event FeedPaused(bytes32 indexed feedId);
    event FeedUnpaused(bytes32 indexed feedId);
    event ForecastsCommitted(
        bytes32 indexed feedId,
        address indexed operator,
        uint64 firstEpoch,
        bytes32[] commitments,
        uint96 weight,
        address relayer,
        bytes32 root
    );
    event ForecastsRevealed(
        bytes32 indexed feedId,
        address indexed operator,
        uint64 firstEpoch,
        Opening opening,
        address revealer
    );
    event ConsensusFinalized(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        int64 value,
        int64 lower,
        int64 upper,
        uint32 forecasts,
        uint256 totalWeight
    );

    function feedParams(bytes32 feedId) external view returns (FeedParams memory);
    function feedParamsAt(bytes32 feedId, uint64 epoch) external view returns (FeedParams memory);
    function epochStart(bytes32 feedId, uint64 epoch) external view returns (uint64);
    function epochEnd(bytes32 feedId, uint64 epoch) external view returns (uint64);
    function revealCount(bytes32 feedId, uint64 epoch) external view returns (uint256);
    function revealedSet(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) external view returns (ForecastSet memory);
    function getForecast(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        uint64 epoch
    ) external view returns (Forecast memory);
}
