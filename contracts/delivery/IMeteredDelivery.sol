// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ISettlement} from "../interfaces/ISettlement.sol";
import {IForecastRegistry} from "../interfaces/IForecastRegistry.sol";

/// @title ITruthSource
/// @notice The one Settlement view the delivery roots depend on.
interface ITruthSource {
    /// @notice The truth of an epoch (Settlement).
    /// @dev Requirements: none.
    function truthOf(bytes32 feedId, uint64 epoch) external view returns (ISettlement.Truth memory);
}

/// @title IFeedSource
/// @notice The ForecastRegistry views the second-wave contracts read.
interface IFeedSource {
    /// @notice A feed's current parameters (ForecastRegistry).
    /// @dev Requirements: the feed exists.
    function feedParams(bytes32 feedId) external view returns (IForecastRegistry.FeedParams memory);
    /// @notice The parameters in force for an epoch (ForecastRegistry).
    /// @dev Requirements: the feed exists.
    function feedParamsAt(bytes32 feedId, uint64 epoch) external view returns (IForecastRegistry.FeedParams memory);
    /// @notice An epoch's consensus (ForecastRegistry); `finalizedAt` is 0 until final.
    /// @dev Requirements: none.
    function consensusOf(bytes32 feedId, uint64 epoch) external view returns (IForecastRegistry.Consensus memory);
}

/// @title IMeteredDelivery
/// @notice Per (feed, epoch) Merkle roots over metered energy, final with the feed's truth.
interface IMeteredDelivery {
    /// @notice None: no root; Pending: posted, its truth still disputable; Final: usable;
    /// Void: the truth was cancelled or overturned, or its window closed without a root.
    enum RootStatus {
        None,
        Pending,
        Final,
        Void
    }

    /// @dev `finalAfter` = truth submission + the epoch's dispute window, fixed when posted (a
    /// parameter change never reaches an epoch whose truth is already in).
    struct DeliveryRoot {
        bytes32 root;
        uint32 leafCount;
        int64 truthValue;
        uint64 truthSubmittedAt;
        uint64 finalAfter;
        uint256 totalWh;
    }

    error MeteredDeliveryNoTruth(bytes32 feedId, uint64 epoch);
    error MeteredDeliveryWindowClosed(bytes32 feedId, uint64 epoch);
    error MeteredDeliveryRootExists(bytes32 feedId, uint64 epoch);
    error MeteredDeliveryEmptyRoot();
    error MeteredDeliveryNotFinal(bytes32 feedId, uint64 epoch, RootStatus status);
    error MeteredDeliveryInvalidProof(bytes32 feedId, uint64 epoch, bytes32 meterId);
    error MeteredDeliveryLengthMismatch();

    event DeliveryRootPosted(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        bytes32 root,
        uint32 leafCount,
        uint256 totalWh,
        int64 truthValue,
        uint64 truthSubmittedAt,
        uint64 finalAfter,
        address reporter
    );

    /// @notice The root's status, derived from the truth's status each time (never stored).
    /// @dev Requirements: none.
    function statusOf(bytes32 feedId, uint64 epoch) external view returns (RootStatus);
    /// @notice Everything stored with an epoch's root (zeros when none).
    /// @dev Requirements: none.
    function rootOf(bytes32 feedId, uint64 epoch) external view returns (DeliveryRoot memory);
    /// @notice The root's status and the posted root (zero when none), in one call.
    /// @dev Requirements: none.
    function statusAndRoot(bytes32 feedId, uint64 epoch) external view returns (RootStatus status, bytes32 root);
    /// @notice The root of an epoch, for callers that verify proofs themselves (leaves as `leafOf`).
    /// @dev Requirements:
    /// - the root is final (`MeteredDeliveryNotFinal` otherwise).
    function finalRoot(bytes32 feedId, uint64 epoch) external view returns (bytes32);
    /// @notice The summed energy of the given meters, each proven against the final root.
    /// @dev Requirements:
    /// - the root is final;
    /// - equal lengths of `meterIds`, `energyWh` and `proofs`;
    /// - every proof valid.
    function verifiedEnergy(
        bytes32 feedId,
        uint64 epoch,
        bytes32[] calldata meterIds,
        uint256[] calldata energyWh,
        bytes32[][] calldata proofs
    ) external view returns (uint256 totalWh);
    /// @notice The StandardMerkleTree leaf of one reading:
    /// keccak256(bytes.concat(keccak256(abi.encode(meterId, epoch, energyWh)))).
    /// @dev Requirements: none.
    function leafOf(bytes32 meterId, uint64 epoch, uint256 energyWh) external pure returns (bytes32);
}
