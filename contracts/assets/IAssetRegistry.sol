// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IAssetRegistry
/// @notice Physical energy assets as ERC-721 tokens: kind, capacity, location, feed and meters.
interface IAssetRegistry {
    enum Kind {
        Solar,
        Wind,
        Storage,
        Load
    }

    struct Asset {
        Kind kind;
        uint64 capacityW;
        bytes32 feedId;
        string location;
        bytes32[] meterIds;
    }

    error AssetRegistryUnknownAsset(uint256 assetId);
    error AssetRegistryZeroCapacity();
    error AssetRegistryNoMeters();
    error AssetRegistryMeterTaken(bytes32 meterId, uint256 assetId);
    error AssetRegistryZeroOwner();

    event AssetRegistered(
        uint256 indexed assetId,
        address indexed owner,
        bytes32 indexed feedId,
        Kind kind,
        uint64 capacityW,
        string location,
        bytes32[] meterIds,
        address registrar
    );
    event AssetCapacityChanged(uint256 indexed assetId, uint64 capacityW, address registrar);

    /// @notice The fields the exchange and the certificates check, in one call.
    /// @dev Requirements:
    /// - the asset exists (`AssetRegistryUnknownAsset` otherwise).
    function tradingInfo(
        uint256 assetId
    ) external view returns (address owner, Kind kind, uint64 capacityW, bytes32 feedId);
    /// @notice The asset a meter belongs to, 0 when none (a meter never changes asset).
    /// @dev Requirements: none.
    function assetOfMeter(bytes32 meterId) external view returns (uint256);
    /// @notice Solar and wind are renewable; storage only shifts energy and a load consumes it.
    /// @dev Requirements: none.
    function isRenewable(Kind kind) external pure returns (bool);
}
