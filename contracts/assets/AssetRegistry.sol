// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IAssetRegistry} from "./IAssetRegistry.sol";

/// @title AssetRegistry
/// @notice An ERC-721 registry of physical assets (solar, wind, storage, load) with their capacity
/// in watts, location, the feed (grid area) they belong to and their meters. Registration and
/// capacity changes go through REGISTRAR_ROLE (held by governance once it lands); the token itself
/// moves freely, and its owner is the one who trades and certifies the asset's energy.
/// @dev Ids start at 1; a meter belongs to at most one asset (`assetOfMeter`), which is how the
/// exchange and the certificates refuse a proof of another asset's meter.
contract AssetRegistry is IAssetRegistry, ERC721, AccessControl {
    bytes32 public constant REGISTRAR_ROLE = keccak256("REGISTRAR_ROLE");

    struct Packed {
        Kind kind;
        uint64 capacityW;
        bytes32 feedId;
    }

    mapping(uint256 assetId => Packed) private _assets;
    mapping(uint256 assetId => string) private _locations;
    mapping(uint256 assetId => bytes32[]) private _meters;
    mapping(bytes32 meterId => uint256 assetId) private _meterAsset;
    uint256 private _count;

    /// @notice Grants `admin` DEFAULT_ADMIN_ROLE and REGISTRAR_ROLE.
    constructor(address admin) ERC721("Gridcast Energy Asset", "GRIDASSET") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(REGISTRAR_ROLE, admin);
    }

    /// @notice Registers an asset and mints its token to `owner`.
    /// @dev Emits `AssetRegistered` (with every field the indexer stores) and ERC-721 `Transfer`.
    /// Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - a non-zero owner and capacity; at least one meter;
    /// - no meter registered to another asset (nor twice here);
    /// - `owner`, if a contract, accepts ERC-721 tokens.
    function register(
        address owner,
        Kind kind,
        uint64 capacityW,
        bytes32 feedId,
        string calldata location,
        bytes32[] calldata meterIds
    ) external onlyRole(REGISTRAR_ROLE) returns (uint256 assetId) {
        if (owner == address(0)) revert AssetRegistryZeroOwner();
        if (capacityW == 0) revert AssetRegistryZeroCapacity();
        if (meterIds.length == 0) revert AssetRegistryNoMeters();
        assetId = ++_count;
        for (uint256 i = 0; i < meterIds.length; ++i) {
            bytes32 m = meterIds[i];
            uint256 taken = _meterAsset[m];
            if (taken != 0) revert AssetRegistryMeterTaken(m, taken);
            _meterAsset[m] = assetId;
        }
        _assets[assetId] = Packed(kind, capacityW, feedId);
        _locations[assetId] = location;
        _meters[assetId] = meterIds;
        _safeMint(owner, assetId);
        emit AssetRegistered(assetId, owner, feedId, kind, capacityW, location, meterIds, msg.sender);
    }

    /// @notice Changes an asset's capacity (a repowering, a correction).
    /// @dev Emits `AssetCapacityChanged`. Sells already placed keep the volume checked at placement.
    /// Requirements:
    /// - the caller has REGISTRAR_ROLE;
    /// - the asset exists; a non-zero capacity.
    function setCapacity(uint256 assetId, uint64 capacityW) external onlyRole(REGISTRAR_ROLE) {
        _requireOwned(assetId);
        if (capacityW == 0) revert AssetRegistryZeroCapacity();
        _assets[assetId].capacityW = capacityW;
        emit AssetCapacityChanged(assetId, capacityW, msg.sender);
    }

    // ----------------------------------------------------------------------------------------- views

    /// @notice Every stored field of an asset.
    /// @dev Requirements:
    /// - the asset exists.
    function assetOf(uint256 assetId) external view returns (Asset memory) {
        _requireOwned(assetId);
        Packed storage p = _assets[assetId];
        return Asset(p.kind, p.capacityW, p.feedId, _locations[assetId], _meters[assetId]);
    }

    /// @inheritdoc IAssetRegistry
    function tradingInfo(
        uint256 assetId
    ) external view returns (address owner, Kind kind, uint64 capacityW, bytes32 feedId) {
        owner = _ownerOf(assetId);
        if (owner == address(0)) revert AssetRegistryUnknownAsset(assetId);
        Packed storage p = _assets[assetId];
        return (owner, p.kind, p.capacityW, p.feedId);
    }

    /// @notice The meters of an asset, in registration order (empty when none).
    /// @dev Requirements: none.
    function metersOf(uint256 assetId) external view returns (bytes32[] memory) {
        return _meters[assetId];
    }

    /// @inheritdoc IAssetRegistry
    function assetOfMeter(bytes32 meterId) external view returns (uint256) {
        return _meterAsset[meterId];
    }

    /// @notice The number of assets registered (ids are 1 .. assetCount).
    /// @dev Requirements: none.
    function assetCount() external view returns (uint256) {
        return _count;
    }

    /// @inheritdoc IAssetRegistry
    function isRenewable(Kind kind) public pure returns (bool) {
        return kind == Kind.Solar || kind == Kind.Wind;
    }

    /// @notice ERC-165: ERC-721 and AccessControl.
    /// @dev Requirements: none.
    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
