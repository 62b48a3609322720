// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IForecastRegistry} from "./interfaces/IForecastRegistry.sol";
import {IOperatorStaking} from "./interfaces/IOperatorStaking.sol";
import {EpochCounters} from "./libraries/EpochCounters.sol";
import {PointStore} from "./libraries/PointStore.sol";
import {WeightedMedian} from "./libraries/WeightedMedian.sol";

/// @title ForecastRegistry
/// @notice Notarizes forecasts: feeds and their epochs, batched commitments (a day-ahead curve in one
/// transaction, directly or relayed with an EIP-712 signature), reveals, and the stake-weighted median.
/// @dev A batch stores one root over its per-epoch commitments
/// keccak256(abi.encode(value, lower, upper, modelHash, salt, operator, feedId, epoch)); revealed values
/// are packed two epochs per storage slot (int40 each), which keeps commit+reveal near 20k gas per point.
/// The (feed, operator) commit watermark makes a second commitment for the same epoch impossible.
/// Consensus is computed from the caller-supplied set of revealed batches, checked for completeness
/// against the per-epoch reveal counter, so storage never holds per-epoch lists.
contract ForecastRegistry is IForecastRegistry, AccessControl, EIP712, Nonces, Pausable {
    bytes32 public constant FEED_ADMIN_ROLE = keccak256("FEED_ADMIN_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant COMMIT_TYPEHASH = keccak256(
        "Commit(address operator,bytes32 feedId,uint64 firstEpoch,bytes32[] commitments,uint256 nonce,uint256 deadline)"
    );
    uint256 public constant MAX_BATCH = 256;
    // PointStore.INIT_HEADER and POINT_BYTES for the hot loop's inline store (inline assembly reads
    // literal constants only); the registry tests read every stored point back through PointStore.
    uint256 private constant _INIT_HEADER = 11;
    uint256 private constant _POINT_BYTES = 15;
    /// @notice Upper bound of maxForecastsPerEpoch: keeps consensus and settle within a block.
    uint16 public constant MAX_FORECASTS_PER_EPOCH = 128;
    /// @notice Lower bound of minStake: an identity that fills a slot of the per-epoch cap must lock
    /// real stake (see README, Security).
    uint128 public constant MIN_STAKE_FLOOR = 1e18;
    /// @notice Commits reach round deadlines at most max(COMMIT_HORIZON_ROUNDS rounds,
    /// MIN_COMMIT_HORIZON) ahead of now: the next open round and the one after, or a day on
    /// feeds with short rounds. Parameter changes apply from the first round beyond it.
    uint64 public constant COMMIT_HORIZON_ROUNDS = 2;
    uint64 public constant MIN_COMMIT_HORIZON = 1 days;

    /// @dev `params` apply from epoch `paramsFrom` on; earlier epochs read `_history`.
    struct Feed {
        FeedParams params;
        string region;
        string metric;
        uint32 resolutionSeconds;
        bool paused;
        bool exists;
        uint64 paramsFrom;
    }

    struct ParamsVersion {
        uint64 fromEpoch;
        FeedParams params;
    }

    IOperatorStaking private immutable _staking;

    mapping(bytes32 feedId => Feed) private _feeds;
    bytes32[] private _feedIds;
    mapping(bytes32 feedId => mapping(address operator => uint64)) private _nextEpoch;
    mapping(bytes32 feedId => mapping(address operator => mapping(uint64 firstEpoch => Batch))) private _batches;
    // Two revealed points per slot: [value|lower|upper] as int40 each, 120 bits a point.
    mapping(bytes32 feedId => mapping(address operator => mapping(uint64 firstEpoch => mapping(uint256 => uint256))))
        private _points;
    // EpochCounters: sixteen epochs per slot, commit count (low 8 bits) and reveal count (high 8).
    mapping(bytes32 feedId => mapping(uint64 epochGroup => uint256)) private _counts;
    // Data contract holding the points of a revealed batch of SSTORE2_MIN points or more.
    mapping(bytes32 feedId => mapping(address operator => mapping(uint64 firstEpoch => address))) private _pointers;
    mapping(bytes32 feedId => mapping(uint64 epoch => Consensus)) private _consensus;
    mapping(bytes32 feedId => uint64) private _latestEpoch;
    mapping(bytes32 feedId => bool) private _hasConsensus;
    // Superseded parameter versions, oldest first.
    mapping(bytes32 feedId => ParamsVersion[]) private _history;

    constructor(IOperatorStaking staking_, address admin) EIP712("Gridcast ForecastRegistry", "1") {
        _staking = staking_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(FEED_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------- feeds

    /// @inheritdoc IForecastRegistry
    function feedIdOf(
        string calldata region,
        string calldata metric,
        uint32 resolutionSeconds
    ) public pure returns (bytes32) {
        return keccak256(abi.encode(region, metric, resolutionSeconds));
    }

    /// @inheritdoc IForecastRegistry
    function registerFeed(
        string calldata region,
        string calldata metric,
        uint32 resolutionSeconds,
        FeedParams calldata params
    ) external onlyRole(FEED_ADMIN_ROLE) returns (bytes32 feedId) {
        feedId = feedIdOf(region, metric, resolutionSeconds);
        if (_feeds[feedId].exists) revert ForecastRegistryFeedExists(feedId);
        _checkParams(params);
        Feed storage f = _feeds[feedId];
        _storeParams(f, params);
        f.region = region;
        f.metric = metric;
        f.resolutionSeconds = resolutionSeconds;
        f.exists = true;
        _feedIds.push(feedId);
        emit FeedRegistered(feedId, region, metric, resolutionSeconds, params);
    }

    /// @inheritdoc IForecastRegistry
    function setFeedParams(bytes32 feedId, FeedParams calldata params) external onlyRole(FEED_ADMIN_ROLE) {
        Feed storage f = _feed(feedId);
        FeedParams storage cur = f.params;
        if (
            params.genesis != cur.genesis ||
            params.epochLength != cur.epochLength ||
            params.epochsPerRound != cur.epochsPerRound
        ) revert ForecastRegistryImmutableParam();
        _checkParams(params);
        uint64 fromEpoch = _firstEpochBeyondHorizon(cur);
        if (fromEpoch > f.paramsFrom) {
            _history[feedId].push(ParamsVersion(f.paramsFrom, cur));
            f.paramsFrom = fromEpoch;
        }
        _storeParams(f, params);
        emit FeedParamsUpdated(feedId, params);
        emit FeedParamsScheduled(feedId, f.paramsFrom);
    }

    /// @inheritdoc IForecastRegistry
    function pauseFeed(bytes32 feedId) external onlyRole(PAUSER_ROLE) {
        _feed(feedId).paused = true;
        emit FeedPaused(feedId);
    }

    /// @inheritdoc IForecastRegistry
    function unpauseFeed(bytes32 feedId) external onlyRole(PAUSER_ROLE) {
        _feed(feedId).paused = false;
        emit FeedUnpaused(feedId);
    }

    /// @inheritdoc IForecastRegistry
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @inheritdoc IForecastRegistry
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------- commit

    /// @inheritdoc IForecastRegistry
    function commit(bytes32 feedId, uint64 firstEpoch, bytes32[] calldata commitments) external {
        _commit(feedId, msg.sender, firstEpoch, commitments);
    }

    /// @inheritdoc IForecastRegistry
    function commitWithSignature(
        address operator,
        bytes32 feedId,
        uint64 firstEpoch,
        bytes32[] calldata commitments,
        uint256 deadline,
        bytes calldata signature
    ) external {
        if (block.timestamp > deadline) revert ForecastRegistryExpiredSignature(deadline);
        bytes32 structHash = keccak256(
            abi.encode(
                COMMIT_TYPEHASH,
                operator,
                feedId,
                firstEpoch,
                keccak256(abi.encodePacked(commitments)),
                _useNonce(operator),
                deadline
            )
        );
        address signer = ECDSA.recover(_hashTypedDataV4(structHash), signature);
        if (!_staking.isAuthorizedSigner(operator, signer)) {
            revert ForecastRegistryUnauthorizedSigner(operator, signer);
        }
        _commit(feedId, operator, firstEpoch, commitments);
    }

    function _commit(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        bytes32[] calldata commitments
    ) private whenNotPaused {
        Feed storage f = _activeFeed(feedId);
        FeedParams storage p = _paramsOf(f, feedId, firstEpoch);
        uint256 n = commitments.length;
        if (n == 0) revert ForecastRegistryEmptyBatch();
        if (n > MAX_BATCH) revert ForecastRegistryBatchTooLarge(n, MAX_BATCH);
        uint64 lastEpoch = firstEpoch + uint64(n) - 1;
        if (firstEpoch / p.epochsPerRound != lastEpoch / p.epochsPerRound) {
            revert ForecastRegistryBatchSpansRounds(firstEpoch, lastEpoch);
        }
        uint64 deadline = _commitDeadline(p, firstEpoch);
        if (block.timestamp >= deadline) revert ForecastRegistryCommitClosed(feedId, firstEpoch);
        if (deadline > block.timestamp + _horizon(p)) {
            revert ForecastRegistryBeyondHorizon(feedId, firstEpoch);
        }
        if (firstEpoch < _nextEpoch[feedId][operator]) {
            revert ForecastRegistryAlreadyCommitted(feedId, operator, firstEpoch);
        }
        // The stake that sets the weight stays locked until the last epoch's truth and dispute
        // windows have passed.
        uint64 lockUntil = p.genesis + (lastEpoch + 1) * p.epochLength + p.truthTimeout + p.disputeWindow;
        uint256 stake_ = _staking.lockStake(operator, lockUntil);
        if (stake_ < p.minStake || stake_ == 0) revert ForecastRegistryInsufficientStake(operator, stake_, p.minStake);

        _nextEpoch[feedId][operator] = lastEpoch + 1;
        _bumpCounts(feedId, firstEpoch, n, EpochCounters.COMMITS, p.maxForecastsPerEpoch);
        bytes32 root = keccak256(abi.encodePacked(commitments));
        uint96 weight = SafeCast.toUint96(stake_);
        _batches[feedId][operator][firstEpoch] = Batch(root, weight, uint32(n), false, uint64(block.timestamp));
        emit ForecastsCommitted(feedId, operator, firstEpoch, commitments, weight, msg.sender, root);
    }

    // ----------------------------------------------------------------------------------------- reveal

    /// @inheritdoc IForecastRegistry
    function reveal(bytes32 feedId, address operator, uint64 firstEpoch, Opening calldata opening) external {
        Batch storage b = _batches[feedId][operator][firstEpoch];
        uint256 n = b.count;
        _checkRevealOpen(feedId, firstEpoch);
        if (n == 0) revert ForecastRegistryUnknownBatch(feedId, operator, firstEpoch);
        if (b.revealed) revert ForecastRegistryAlreadyRevealed(feedId, operator, firstEpoch);
        if (opening.values.length != n || opening.lowers.length != n || opening.uppers.length != n) {
            revert ForecastRegistryLengthMismatch();
        }
        if (_storePoints(feedId, operator, firstEpoch, opening) != b.root) {
            revert ForecastRegistryRevealMismatch(feedId, operator, firstEpoch);
        }
        b.revealed = true;
        _bumpCounts(feedId, firstEpoch, n, EpochCounters.REVEALS, 0);
        _emitRevealed(feedId, operator, firstEpoch, opening);
    }

    function _emitRevealed(bytes32 feedId, address operator, uint64 firstEpoch, Opening calldata opening) private {
        emit ForecastsRevealed(feedId, operator, firstEpoch, opening, msg.sender);
    }

    function _checkRevealOpen(bytes32 feedId, uint64 firstEpoch) private view {
        FeedParams storage p = _paramsAt(feedId, firstEpoch);
        if (block.timestamp < _commitDeadline(p, firstEpoch)) revert ForecastRegistryRevealNotOpen(feedId, firstEpoch);
        if (block.timestamp >= _revealDeadline(p, firstEpoch)) revert ForecastRegistryRevealClosed(feedId, firstEpoch);
    }

    /// @dev Checks and stores the opened points; returns the root of their commitments.
    /// Each leaf is hashed in one reused 256-byte scratch buffer (no allocation per point) and each
    /// calldata value is read once. Batches of SSTORE2_MIN points or more are written as the code of
    /// a data contract (SSTORE2: 200 gas a byte instead of 22.1k a slot), smaller ones to storage.
    function _storePoints(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        Opening calldata o
    ) private returns (bytes32 root) {
        uint256 n = o.values.length;
        bytes memory init = PointStore.newBuffer(n);
        root = _openAll(o, operator, feedId, firstEpoch, init);
        if (n >= PointStore.SSTORE2_MIN) {
            address data = PointStore.deploy(init, n);
            if (data == address(0)) revert ForecastRegistryDataWriteFailed();
            _pointers[feedId][operator][firstEpoch] = data;
        } else {
            mapping(uint256 => uint256) storage slots = _points[feedId][operator][firstEpoch];
            for (uint256 i = 0; i < n; i += 2) {
                uint256 word = PointStore.get(init, i);
                if (i + 1 < n) word |= PointStore.get(init, i + 1) << 120;
                slots[i >> 1] = word;
            }
        }
    }

    /// @dev Opens every point into `init` (after its header) and returns the root of the leaves.
    function _openAll(
        Opening calldata o,
        address operator,
        bytes32 feedId,
        uint64 firstEpoch,
        bytes memory init
    ) private pure returns (bytes32 root) {
        uint256 n = o.values.length;
        bytes32[] memory leaves = new bytes32[](n);
        uint256 scratch;
        {
            bytes32 modelHash = o.modelHash;
            bytes32 salt = o.salt;
            assembly ("memory-safe") {
                // The words shared by every leaf are written once.
                scratch := mload(0x40)
                mstore(0x40, add(scratch, 0x100))
                mstore(add(scratch, 0x60), modelHash)
                mstore(add(scratch, 0x80), salt)
                mstore(add(scratch, 0xa0), and(operator, 0xffffffffffffffffffffffffffffffffffffffff))
                mstore(add(scratch, 0xc0), feedId)
            }
        }
        for (uint256 i = 0; i < n; ++i) {
            uint256 point = _openPoint(o, i, firstEpoch + uint64(i), scratch, leaves);
            assembly ("memory-safe") {
                // PointStore.put inlined: points are written in order, so each 32-byte store's
                // spill is overwritten next.
                mstore(add(add(init, 0x20), add(_INIT_HEADER, mul(_POINT_BYTES, i))), shl(136, point))
            }
        }
        assembly ("memory-safe") {
            root := keccak256(add(leaves, 0x20), shl(5, n))
        }
    }

    /// @dev Reads point i once from calldata, checks it, hashes its leaf into `leaves[i]`.
    function _openPoint(
        Opening calldata o,
        uint256 i,
        uint64 epoch,
        uint256 scratch,
        bytes32[] memory leaves
    ) private pure returns (uint256 point) {
        int64 v = o.values[i];
        int64 lo = o.lowers[i];
        int64 hi = o.uppers[i];
        point = _packPoint(epoch, v, lo, hi);
        assembly ("memory-safe") {
            mstore(scratch, signextend(7, v))
            mstore(add(scratch, 0x20), signextend(7, lo))
            mstore(add(scratch, 0x40), signextend(7, hi))
            mstore(add(scratch, 0xe0), and(epoch, 0xffffffffffffffff))
            mstore(add(add(leaves, 0x20), shl(5, i)), keccak256(scratch, 0x100))
        }
    }

    function _loadPoint(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        uint256 count,
        uint256 i
    ) private view returns (uint256 point) {
        if (count >= PointStore.SSTORE2_MIN) {
            point = PointStore.load(_pointers[feedId][operator][firstEpoch], i);
        } else {
            point = _points[feedId][operator][firstEpoch][i >> 1] >> ((i & 1) * 120);
        }
    }

    function _packPoint(uint64 epoch, int64 v, int64 lo, int64 hi) private pure returns (uint256) {
        if (lo > v || v > hi) revert ForecastRegistryInvalidInterval(epoch, lo, v, hi);
        if (lo < PointStore.MIN_VALUE || hi > PointStore.MAX_VALUE) {
            revert ForecastRegistryValueOutOfRange(lo < PointStore.MIN_VALUE ? lo : hi);
        }
        return PointStore.pack(v, lo, hi);
    }

    // ----------------------------------------------------------------------------------------- consensus

    /// @inheritdoc IForecastRegistry
    function finalizeConsensus(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) external returns (Consensus memory c) {
        FeedParams storage p = _paramsAt(feedId, epoch);
        if (block.timestamp < _revealDeadline(p, epoch)) revert ForecastRegistryConsensusNotOpen(feedId, epoch);
        if (_consensus[feedId][epoch].finalizedAt != 0) revert ForecastRegistryConsensusFinalized(feedId, epoch);
        uint256 n = operators.length;
        if (n == 0) revert ForecastRegistryNoReveals(feedId, epoch);
        ForecastSet memory set = revealedSet(feedId, epoch, operators, firstEpochs);
        c = Consensus(
            WeightedMedian.compute(set.values, set.weights, set.totalWeight),
            WeightedMedian.compute(set.lowers, set.weights, set.totalWeight),
            WeightedMedian.compute(set.uppers, set.weights, set.totalWeight),
            uint64(block.timestamp)
        );
        _consensus[feedId][epoch] = c;
        if (!_hasConsensus[feedId] || epoch > _latestEpoch[feedId]) {
            _latestEpoch[feedId] = epoch;
            _hasConsensus[feedId] = true;
        }
        emit ConsensusFinalized(feedId, epoch, c.value, c.lower, c.upper, uint32(n), set.totalWeight);
    }

    /// @inheritdoc IForecastRegistry
    function revealedSet(
        bytes32 feedId,
        uint64 epoch,
        address[] calldata operators,
        uint64[] calldata firstEpochs
    ) public view returns (ForecastSet memory set) {
        uint256 n = operators.length;
        if (firstEpochs.length != n) revert ForecastRegistryLengthMismatch();
        uint256 revealed = revealCount(feedId, epoch);
        if (n != revealed) revert ForecastRegistryIncompleteForecastSet(n, revealed);
        set.values = new int64[](n);
        set.lowers = new int64[](n);
        set.uppers = new int64[](n);
        set.weights = new uint256[](n);
        address prev;
        for (uint256 i = 0; i < n; ++i) {
            address op = operators[i];
            if (op <= prev) revert ForecastRegistryUnsortedOperators();
            prev = op;
            Forecast memory fc = getForecast(feedId, op, firstEpochs[i], epoch);
            if (!fc.revealed) revert ForecastRegistryNotRevealed(op, epoch);
            set.values[i] = fc.value;
            set.lowers[i] = fc.lower;
            set.uppers[i] = fc.upper;
            set.weights[i] = fc.weight;
            set.totalWeight += fc.weight;
        }
    }

    /// @inheritdoc IForecastRegistry
    function latest(bytes32 feedId, uint64 maxAge) external view returns (uint64 epoch, Consensus memory c) {
        if (!_hasConsensus[feedId]) revert ForecastRegistryNoConsensus(feedId);
        epoch = _latestEpoch[feedId];
        c = _consensus[feedId][epoch];
        FeedParams storage p = _feeds[feedId].params;
        uint256 endsAt = uint256(p.genesis) + (uint256(epoch) + 1) * p.epochLength;
        if (block.timestamp > endsAt + maxAge) revert ForecastRegistryStale(feedId, epoch, c.finalizedAt);
    }

    // ----------------------------------------------------------------------------------------- views

    /// @inheritdoc IForecastRegistry
    function staking() external view returns (IOperatorStaking) {
        return _staking;
    }

    /// @inheritdoc IForecastRegistry
    function feedIds() external view returns (bytes32[] memory) {
        return _feedIds;
    }

    /// @inheritdoc IForecastRegistry
    function feedParams(bytes32 feedId) external view returns (FeedParams memory) {
        return _feed(feedId).params;
    }

    /// @inheritdoc IForecastRegistry
    function feedParamsAt(bytes32 feedId, uint64 epoch) external view returns (FeedParams memory) {
        return _paramsAt(feedId, epoch);
    }

    /// @inheritdoc IForecastRegistry
    function paramsFrom(bytes32 feedId) external view returns (uint64) {
        return _feed(feedId).paramsFrom;
    }

    /// @inheritdoc IForecastRegistry
    function feedInfo(
        bytes32 feedId
    ) external view returns (string memory region, string memory metric, uint32 resolutionSeconds, bool paused) {
        Feed storage f = _feed(feedId);
        return (f.region, f.metric, f.resolutionSeconds, f.paused);
    }

    /// @inheritdoc IForecastRegistry
    function currentEpoch(bytes32 feedId) external view returns (uint64) {
        FeedParams storage p = _feed(feedId).params;
        if (block.timestamp < p.genesis) return 0;
        return uint64((block.timestamp - p.genesis) / p.epochLength);
    }

    /// @inheritdoc IForecastRegistry
    function epochStart(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        FeedParams storage p = _feed(feedId).params;
        return p.genesis + epoch * p.epochLength;
    }

    /// @inheritdoc IForecastRegistry
    function epochEnd(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        FeedParams storage p = _feed(feedId).params;
        return p.genesis + (epoch + 1) * p.epochLength;
    }

    /// @inheritdoc IForecastRegistry
    function commitDeadline(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        return _commitDeadline(_paramsAt(feedId, epoch), epoch);
    }

    /// @inheritdoc IForecastRegistry
    function revealDeadline(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        return _revealDeadline(_paramsAt(feedId, epoch), epoch);
    }

    /// @inheritdoc IForecastRegistry
    function nextCommittableEpoch(bytes32 feedId, address operator) external view returns (uint64) {
        return _nextEpoch[feedId][operator];
    }

    /// @inheritdoc IForecastRegistry
    function batch(bytes32 feedId, address operator, uint64 firstEpoch) external view returns (Batch memory) {
        return _batches[feedId][operator][firstEpoch];
    }

    /// @inheritdoc IForecastRegistry
    function commitCount(bytes32 feedId, uint64 epoch) public view returns (uint256) {
        return EpochCounters.count(_counts[feedId], epoch, EpochCounters.COMMITS);
    }

    /// @inheritdoc IForecastRegistry
    function revealCount(bytes32 feedId, uint64 epoch) public view returns (uint256) {
        return EpochCounters.count(_counts[feedId], epoch, EpochCounters.REVEALS);
    }

    /// @inheritdoc IForecastRegistry
    function consensusOf(bytes32 feedId, uint64 epoch) external view returns (Consensus memory) {
        return _consensus[feedId][epoch];
    }

    /// @inheritdoc IForecastRegistry
    function getForecast(
        bytes32 feedId,
        address operator,
        uint64 firstEpoch,
        uint64 epoch
    ) public view returns (Forecast memory fc) {
        Batch memory b = _batches[feedId][operator][firstEpoch];
        if (b.count == 0 || epoch < firstEpoch || epoch >= firstEpoch + b.count) return fc;
        fc.committed = true;
        fc.weight = b.weight;
        if (!b.revealed) return fc;
        fc.revealed = true;
        uint256 point = _loadPoint(feedId, operator, firstEpoch, b.count, epoch - firstEpoch);
        (fc.value, fc.lower, fc.upper) = PointStore.unpack(point);
    }

    /// @inheritdoc IForecastRegistry
    function commitmentOf(
        int64 value,
        int64 lower,
        int64 upper,
        bytes32 modelHash,
        bytes32 salt,
        address operator,
        bytes32 feedId,
        uint64 epoch
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(value, lower, upper, modelHash, salt, operator, feedId, epoch));
    }

    /// @inheritdoc IForecastRegistry
    function commitDigest(
        address operator,
        bytes32 feedId,
        uint64 firstEpoch,
        bytes32[] calldata commitments,
        uint256 nonce,
        uint256 deadline
    ) external view returns (bytes32) {
        return
            _hashTypedDataV4(
                keccak256(
                    abi.encode(
                        COMMIT_TYPEHASH,
                        operator,
                        feedId,
                        firstEpoch,
                        keccak256(abi.encodePacked(commitments)),
                        nonce,
                        deadline
                    )
                )
            );
    }

    /// @inheritdoc IForecastRegistry
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ----------------------------------------------------------------------------------------- internal

    function _feed(bytes32 feedId) private view returns (Feed storage f) {
        f = _feeds[feedId];
        if (!f.exists) revert ForecastRegistryUnknownFeed(feedId);
    }

    function _paramsAt(bytes32 feedId, uint64 epoch) private view returns (FeedParams storage) {
        return _paramsOf(_feed(feedId), feedId, epoch);
    }

    /// @dev The version in force for `epoch`: the newest one (common case) or a superseded one.
    function _paramsOf(Feed storage f, bytes32 feedId, uint64 epoch) private view returns (FeedParams storage) {
        if (epoch >= f.paramsFrom) return f.params;
        ParamsVersion[] storage h = _history[feedId];
        uint256 i = h.length;
        while (i > 1 && h[i - 1].fromEpoch > epoch) --i;
        return h[i - 1].params;
    }

    /// @dev First epoch of the earliest round whose commit deadline lies beyond the commit horizon.
    function _firstEpochBeyondHorizon(FeedParams storage p) private view returns (uint64) {
        uint256 reach = block.timestamp + _horizon(p) + p.leadTime + p.revealWindow;
        if (reach < p.genesis) return 0;
        return uint64(((reach - p.genesis) / _roundSeconds(p) + 1) * p.epochsPerRound);
    }

    function _roundSeconds(FeedParams storage p) private view returns (uint64) {
        return uint64(p.epochsPerRound) * p.epochLength;
    }

    function _horizon(FeedParams storage p) private view returns (uint64) {
        uint64 rounds = COMMIT_HORIZON_ROUNDS * _roundSeconds(p);
        return rounds > MIN_COMMIT_HORIZON ? rounds : MIN_COMMIT_HORIZON;
    }

    function _activeFeed(bytes32 feedId) private view returns (Feed storage f) {
        f = _feed(feedId);
        if (f.paused) revert ForecastRegistryFeedIsPaused(feedId);
    }

    /// @dev One place (and one stack frame) for the 16-field calldata → storage copy.
    function _storeParams(Feed storage f, FeedParams calldata params) private {
        FeedParams memory m = params;
        f.params = m;
    }

    function _checkParams(FeedParams calldata p) private pure {
        if (
            p.epochLength == 0 ||
            p.epochsPerRound == 0 ||
            p.revealWindow == 0 ||
            p.maxForecastsPerEpoch == 0 ||
            p.maxForecastsPerEpoch > MAX_FORECASTS_PER_EPOCH ||
            p.minStake < MIN_STAKE_FLOOR ||
            p.disputeBond == 0 ||
            p.slashBps > 10_000 ||
            p.nonRevealSlashBps > 10_000 ||
            p.tolerance == 0 ||
            p.genesis < uint64(p.leadTime) + p.revealWindow
        ) revert ForecastRegistryInvalidParams();
    }

    function _roundStart(FeedParams storage p, uint64 epoch) private view returns (uint64) {
        return p.genesis + (epoch / p.epochsPerRound) * p.epochsPerRound * p.epochLength;
    }

    function _revealDeadline(FeedParams storage p, uint64 epoch) private view returns (uint64) {
        return _roundStart(p, epoch) - p.leadTime;
    }

    function _commitDeadline(FeedParams storage p, uint64 epoch) private view returns (uint64) {
        return _roundStart(p, epoch) - p.leadTime - p.revealWindow;
    }

    /// @dev Adds one to the commit or reveal counter of n consecutive epochs; reverts past the cap.
    function _bumpCounts(bytes32 feedId, uint64 firstEpoch, uint256 n, uint256 shift, uint256 cap) private {
        EpochCounters.bump(_counts[feedId], feedId, firstEpoch, n, shift, cap);
    }
}
