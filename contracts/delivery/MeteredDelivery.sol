// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ISettlement} from "../interfaces/ISettlement.sol";
import {IMeteredDelivery, ITruthSource, IFeedSource} from "./IMeteredDelivery.sol";

/// @title MeteredDelivery
/// @notice Metered energy on-chain: for each closed (feed, epoch) the truth reporter posts a Merkle
/// root over the leaves (meterId, epoch, energyWh) with their count and total, while the feed's
/// truth for that epoch is still disputable. The root lives and dies with that truth: it is final
/// when the truth is (dispute window passed, dispute rejected, or settled) and void when the truth
/// was cancelled or overturned (a dispute upheld with another value), or when the truth became
/// final without a root.
/// @dev Leaves follow OpenZeppelin's StandardMerkleTree:
/// keccak256(bytes.concat(keccak256(abi.encode(bytes32 meterId, uint64 epoch, uint256 energyWh)))).
/// A disputer who finds the root wrong disputes the truth: one dispute window covers both. The
/// dependency on Settlement is one view (truthOf); the window is the disputeWindow in force for the
/// epoch (feedParamsAt), read as Settlement reads it, so a root is final exactly when Settlement may
/// settle the epoch.
contract MeteredDelivery is IMeteredDelivery, AccessControl {
    bytes32 public constant TRUTH_REPORTER_ROLE = keccak256("TRUTH_REPORTER_ROLE");

    ITruthSource private immutable _settlement;
    IFeedSource private immutable _registry;

    mapping(bytes32 feedId => mapping(uint64 epoch => DeliveryRoot)) private _roots;

    /// @notice Reads truths from `settlement_` and dispute windows from `registry_`; `admin` gets
    /// DEFAULT_ADMIN_ROLE (it grants TRUTH_REPORTER_ROLE).
    constructor(ITruthSource settlement_, IFeedSource registry_, address admin) {
        _settlement = settlement_;
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Posts the delivery root of a closed epoch whose truth was submitted.
    /// @dev Emits `DeliveryRootPosted` (root, count, total, the truth it rides on and when it is final).
    /// Requirements:
    /// - the caller has TRUTH_REPORTER_ROLE;
    /// - the epoch's truth is submitted, undisputed, and its dispute window is open;
    /// - no root yet; a non-zero root and leaf count.
    function postRoot(
        bytes32 feedId,
        uint64 epoch,
        bytes32 root,
        uint32 leafCount,
        uint256 totalWh
    ) external onlyRole(TRUTH_REPORTER_ROLE) {
        if (root == bytes32(0) || leafCount == 0) revert MeteredDeliveryEmptyRoot();
        DeliveryRoot storage r = _roots[feedId][epoch];
        if (r.leafCount != 0) revert MeteredDeliveryRootExists(feedId, epoch);
        ISettlement.Truth memory t = _settlement.truthOf(feedId, epoch);
        if (t.status != ISettlement.TruthStatus.Submitted || t.disputeResolved) {
            if (t.status == ISettlement.TruthStatus.None || t.status == ISettlement.TruthStatus.Cancelled) {
                revert MeteredDeliveryNoTruth(feedId, epoch);
            }
            revert MeteredDeliveryWindowClosed(feedId, epoch);
        }
        uint64 closesAt = t.submittedAt + _registry.feedParamsAt(feedId, epoch).disputeWindow;
        if (block.timestamp >= closesAt) revert MeteredDeliveryWindowClosed(feedId, epoch);
        _roots[feedId][epoch] = DeliveryRoot(root, leafCount, t.value, t.submittedAt, closesAt, totalWh);
        emit DeliveryRootPosted(feedId, epoch, root, leafCount, totalWh, t.value, t.submittedAt, closesAt, msg.sender);
    }

    // ----------------------------------------------------------------------------------------- views

    /// @inheritdoc IMeteredDelivery
    function statusOf(bytes32 feedId, uint64 epoch) public view returns (RootStatus) {
        DeliveryRoot storage r = _roots[feedId][epoch];
        ISettlement.Truth memory t = _settlement.truthOf(feedId, epoch);
        ISettlement.TruthStatus s = t.status;
        if (s == ISettlement.TruthStatus.None) return RootStatus.None;
        if (s == ISettlement.TruthStatus.Cancelled) return RootStatus.Void;
        bool posted = r.leafCount != 0;
        if (posted && (t.value != r.truthValue || t.submittedAt != r.truthSubmittedAt)) return RootStatus.Void;
        if (s == ISettlement.TruthStatus.Disputed) return posted ? RootStatus.Pending : RootStatus.Void;
        bool done = s == ISettlement.TruthStatus.Settled || t.disputeResolved;
        if (posted) return done || block.timestamp >= r.finalAfter ? RootStatus.Final : RootStatus.Pending;
        // No root: void once the truth is final (a root can no longer be posted).
        done = done || block.timestamp >= uint256(t.submittedAt) + _registry.feedParamsAt(feedId, epoch).disputeWindow;
        return done ? RootStatus.Void : RootStatus.None;
    }

    /// @inheritdoc IMeteredDelivery
    function statusAndRoot(bytes32 feedId, uint64 epoch) external view returns (RootStatus status, bytes32 root) {
        return (statusOf(feedId, epoch), _roots[feedId][epoch].root);
    }

    /// @inheritdoc IMeteredDelivery
    function rootOf(bytes32 feedId, uint64 epoch) external view returns (DeliveryRoot memory) {
        return _roots[feedId][epoch];
    }

    /// @inheritdoc IMeteredDelivery
    function finalRoot(bytes32 feedId, uint64 epoch) external view returns (bytes32) {
        RootStatus st = statusOf(feedId, epoch);
        if (st != RootStatus.Final) revert MeteredDeliveryNotFinal(feedId, epoch, st);
        return _roots[feedId][epoch].root;
    }

    /// @notice Whether (meterId, epoch, energyWh) is a leaf of the posted root (final or not).
    /// @dev Requirements: none (false without a root).
    function verify(
        bytes32 feedId,
        uint64 epoch,
        bytes32 meterId,
        uint256 energyWh,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 root = _roots[feedId][epoch].root;
        return root != bytes32(0) && MerkleProof.verifyCalldata(proof, root, leafOf(meterId, epoch, energyWh));
    }

    /// @inheritdoc IMeteredDelivery
    function verifiedEnergy(
        bytes32 feedId,
        uint64 epoch,
        bytes32[] calldata meterIds,
        uint256[] calldata energyWh,
        bytes32[][] calldata proofs
    ) external view returns (uint256 totalWh) {
        RootStatus st = statusOf(feedId, epoch);
        if (st != RootStatus.Final) revert MeteredDeliveryNotFinal(feedId, epoch, st);
        uint256 n = meterIds.length;
        if (energyWh.length != n || proofs.length != n) revert MeteredDeliveryLengthMismatch();
        bytes32 root = _roots[feedId][epoch].root;
        for (uint256 i = 0; i < n; ++i) {
            if (!MerkleProof.verifyCalldata(proofs[i], root, leafOf(meterIds[i], epoch, energyWh[i]))) {
                revert MeteredDeliveryInvalidProof(feedId, epoch, meterIds[i]);
            }
            totalWh += energyWh[i];
        }
    }

    /// @inheritdoc IMeteredDelivery
    function leafOf(bytes32 meterId, uint64 epoch, uint256 energyWh) public pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(meterId, epoch, energyWh))));
    }

    /// @notice The Settlement whose truths the roots follow.
    /// @dev Requirements: none.
    function settlement() external view returns (ITruthSource) {
        return _settlement;
    }

    /// @notice The ForecastRegistry whose dispute windows the roots use.
    /// @dev Requirements: none.
    function registry() external view returns (IFeedSource) {
        return _registry;
    }
}
