// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IOperatorStaking} from "./IOperatorStaking.sol";

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

    /// @notice One committed batch: the root over its per-epoch commitments, the operator's stake
    /// weight at commit time, the number of epochs, whether it has been revealed and when it was
    /// committed (which fixes the slash cap that applies to it, see OperatorStaking).
    struct Batch {
        bytes32 root;
        uint96 weight;
        uint32 count;
        bool revealed;
        uint64 committedAt;
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

    // ------------------------------------------------------------------------------------- feeds

    /// @notice Registers a feed with its parameters and returns its id (see `feedIdOf`).
    /// @dev Emits FeedRegistered. Requirements:
    /// - the caller has FEED_ADMIN_ROLE;
    /// - the feed is not registered yet;
    /// - parameters are consistent (non-zero epoch length, round, reveal window, tolerance and dispute
    ///   bond; 1..MAX_FORECASTS_PER_EPOCH forecasts per epoch; minStake >= MIN_STAKE_FLOOR; bps <= 10000;
    ///   genesis after the first gate).
    function registerFeed(
        string calldata region,
        string calldata metric,
        uint32 resolutionSeconds,
        FeedParams calldata params
    ) external returns (bytes32 feedId);

    /// @notice Updates a feed's economic and window parameters for the epochs that no commitment can
    /// reach yet: the first round beyond the commit horizon on. Epochs that may hold commitments keep
    /// the parameters they were committed under, through settlement and claims.
    /// @dev Genesis, epoch length and round size are immutable because past epochs depend on them.
    /// A second change before the first takes effect replaces it. Emits FeedParamsUpdated and
    /// FeedParamsScheduled(feedId, fromEpoch).
    /// Requirements:
    /// - the caller has FEED_ADMIN_ROLE; the feed exists; the timing base is unchanged;
    /// - parameters are consistent (as for `registerFeed`).
    function setFeedParams(bytes32 feedId, FeedParams calldata params) external;

    /// @notice Stops commits on one feed (reveals stay open).
    /// @dev Emits FeedPaused. Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the feed exists.
    function pauseFeed(bytes32 feedId) external;

    /// @notice Resumes a paused feed.
    /// @dev Emits FeedUnpaused. Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the feed exists.
    function unpauseFeed(bytes32 feedId) external;

    /// @notice Stops commits on every feed (reveals stay open).
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the registry is not paused.
    function pause() external;

    /// @notice Resumes every feed that is not paused on its own.
    /// @dev Requirements:
    /// - the caller has PAUSER_ROLE;
    /// - the registry is paused.
    function unpause() external;

    // ------------------------------------------------------------------------------------- commit

    /// @notice Commits the caller's forecasts for `commitments.length` consecutive epochs from `firstEpoch`.
    /// @dev Locks the caller's stake (its weight) until the last epoch's truth and dispute windows have
    /// passed. Emits ForecastsCommitted. Requirements:
    /// - the registry is not paused; the feed exists and is not paused;
    /// - 1..MAX_BATCH commitments, all epochs in one round, before that round's commit deadline and
    ///   within the commit horizon;
    /// - no earlier commitment of the caller covers any of these epochs or a later one;
    /// - the caller's stake is non-zero and at least the feed's minimum; no epoch is full.
    function commit(bytes32 feedId, uint64 firstEpoch, bytes32[] calldata commitments) external;

    /// @notice Commits on behalf of `operator`, authorised by an EIP-712 signature of the operator or
    /// its registered signer over (operator, feedId, firstEpoch, commitments, nonce, deadline).
    /// @dev Consumes the operator's nonce; the event names the caller as relayer. Requirements:
    /// - now is not after `deadline`;
    /// - the signature, over the operator's next nonce, recovers to the operator or its signer;
    /// - everything `commit` requires, for `operator`.
    function commitWithSignature(
        address operator,
        bytes32 feedId,
        uint64 firstEpoch,
        bytes32[] calldata commitments,
        uint256 deadline,
        bytes calldata signature
    ) external;

    // ------------------------------------------------------------------------------------- reveal

    /// @notice Opens a committed batch. Anyone holding the openings may reveal.
    /// @dev Never paused (globally or per feed): a pause must not turn honest commitments into
    /// missed reveals. Emits ForecastsRevealed. Requirements:
    /// - the feed exists; now is after the round's commit deadline and before its reveal deadline;
    /// - the batch exists and is not revealed;
    /// - arrays match the batch length; lower <= value <= upper; values fit int40;
    /// - every recomputed commitment matches the committed root.
    function reveal(bytes32 feedId, address operator, uint64 firstEpoch, Opening calldata opening) external;

    // ------------------------------------------------------------------------------------- consensus

    /// @notice Finalizes the stake-weighted median of an epoch's revealed forecasts (value and bounds).
    /// @dev The caller passes every revealed batch covering the epoch as (operator, firstEpoch) pairs,
    /// operators strictly increasing; the count must equal the epoch's reveal counter. Cost is
    /// O(n log n)-ish in the capped number of forecasts per epoch. Emits ConsensusFinalized.
    /// Requirements:
    /// - the feed exists; the epoch's reveal deadline has passed and consensus is not finalized yet;
    /// - at least one forecast was revealed, and the given set is exactly the revealed set
    ///   (as `revealedSet` requires).
    function finalizeConsensus(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) external returns (Consensus memory c);

    /// @notice Reads and checks a complete set of revealed forecasts for one epoch.
    /// @dev Requirements:
    /// - `operators` and `firstEpochs` have the same length, equal to the epoch's reveal count;
    /// - operators are strictly increasing;
    /// - every (operator, firstEpoch) batch covers `epoch` and is revealed.
    function revealedSet(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) external view returns (ForecastSet memory set);

    /// @notice The latest finalized consensus of a feed, refused when its epoch ended more than
    /// `maxAge` ago (age counts from the epoch, not from a late finalization).
    /// @dev Requirements:
    /// - a consensus of the feed exists;
    /// - its epoch ended at most `maxAge` seconds ago.
    function latest(bytes32 feedId, uint64 maxAge) external view returns (uint64 epoch, Consensus memory c);

    // ------------------------------------------------------------------------------------- views

    /// @notice The feed id of (region, metric, resolution): keccak256(abi.encode(region, metric, resolutionSeconds)).
    /// @dev Requirements: none (pure; the feed need not exist).
    function feedIdOf(
        string calldata region,
        string calldata metric,
        uint32 resolutionSeconds
    ) external pure returns (bytes32);

    /// @notice The staking contract whose stakes weight commitments and which the registry locks.
    /// @dev Requirements: none.
    function staking() external view returns (IOperatorStaking);

    /// @notice Every registered feed id, in registration order.
    /// @dev Requirements: none.
    function feedIds() external view returns (bytes32[] memory);

    /// @notice The feed's newest parameters (they may apply from a later epoch: `paramsFrom`).
    /// @dev Requirements: the feed exists.
    function feedParams(bytes32 feedId) external view returns (FeedParams memory);

    /// @notice The parameters epoch `epoch` is committed, revealed, settled and claimed under.
    /// @dev Requirements: the feed exists.
    function feedParamsAt(bytes32 feedId, uint64 epoch) external view returns (FeedParams memory);

    /// @notice The first epoch the newest parameters apply to.
    /// @dev Requirements: the feed exists.
    function paramsFrom(bytes32 feedId) external view returns (uint64);

    /// @notice The feed's region, metric, resolution and whether it is paused on its own.
    /// @dev Requirements: the feed exists.
    function feedInfo(
        bytes32 feedId
    ) external view returns (string memory region, string memory metric, uint32 resolutionSeconds, bool paused);

    /// @notice The epoch now falls in (0 before genesis).
    /// @dev Requirements: the feed exists.
    function currentEpoch(bytes32 feedId) external view returns (uint64);

    /// @notice The start time of `epoch`: genesis + epoch * epochLength.
    /// @dev Requirements: the feed exists.
    function epochStart(bytes32 feedId, uint64 epoch) external view returns (uint64);

    /// @notice The end time of `epoch` (the next epoch's start).
    /// @dev Requirements: the feed exists.
    function epochEnd(bytes32 feedId, uint64 epoch) external view returns (uint64);

    /// @notice The time from which commits for `epoch`'s round are refused (reveals open).
    /// @dev Under the parameters `epoch` is committed under. Requirements: the feed exists.
    function commitDeadline(bytes32 feedId, uint64 epoch) external view returns (uint64);

    /// @notice The time from which reveals for `epoch`'s round are refused (consensus opens).
    /// @dev Under the parameters `epoch` is committed under. Requirements: the feed exists.
    function revealDeadline(bytes32 feedId, uint64 epoch) external view returns (uint64);

    /// @notice The first epoch `operator` may still commit for on the feed (its commit watermark).
    /// @dev Requirements: none (0 for an operator that never committed).
    function nextCommittableEpoch(bytes32 feedId, address operator) external view returns (uint64);

    /// @notice The batch `operator` committed from `firstEpoch`.
    /// @dev Requirements: none (an empty Batch, count 0, when there is none).
    function batch(bytes32 feedId, address operator, uint64 firstEpoch) external view returns (Batch memory);

    /// @notice The number of forecasts committed for `epoch`.
    /// @dev Requirements: none.
    function commitCount(bytes32 feedId, uint64 epoch) external view returns (uint256);

    /// @notice The number of forecasts revealed for `epoch`.
    /// @dev Requirements: none.
    function revealCount(bytes32 feedId, uint64 epoch) external view returns (uint256);

    /// @notice The finalized consensus of `epoch`.
    /// @dev Requirements: none (all zero, finalizedAt 0, when not finalized).
    function consensusOf(bytes32 feedId, uint64 epoch) external view returns (Consensus memory);

    /// @notice `operator`'s forecast for `epoch` in its batch from `firstEpoch`.
    /// @dev Requirements: none (committed = false when the batch does not exist or does not cover
    /// `epoch`; revealed = false and no values before the reveal).
    function getForecast(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        uint64 epoch
    ) external view returns (Forecast memory fc);

    /// @notice The commitment of one point:
    /// keccak256(abi.encode(value, lower, upper, modelHash, salt, operator, feedId, epoch)).
    /// @dev Requirements: none (pure).
    function commitmentOf(
        int64 value,
        int64 lower,
        int64 upper,
        bytes32 modelHash,
        bytes32 salt,
        address operator,
        bytes32 feedId,
        uint64 epoch
    ) external pure returns (bytes32);

    /// @notice The EIP-712 digest an operator signs for `commitWithSignature`.
    /// @dev Requirements: none (`nonce` should be the operator's current nonce for the signature to verify).
    function commitDigest(
        address operator,
        bytes32 feedId,
        uint64 firstEpoch,
        bytes32[] calldata commitments,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32);

    /// @notice The EIP-712 domain separator of this registry on this chain.
    /// @dev Requirements: none.
    function domainSeparator() external view returns (bytes32);
}
