// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IEnergyCertificates
/// @notice Renewable energy certificates (ERC-1155, 1 unit = 1 Wh) minted from metered delivery.
interface IEnergyCertificates {
    /// @notice One epoch of an asset's delivery: its meters (ascending ids), their energy, proofs.
    struct EpochClaim {
        uint64 epoch;
        bytes32[] meterIds;
        uint256[] energyWh;
        bytes32[][] proofs;
    }

    struct Retirement {
        address account;
        uint64 assetId;
        uint64 day;
        uint256 energyWh;
        uint256 co2eGrams;
        bytes32 detailsHash;
    }

    error CertificatesNotRenewable(uint256 assetId);
    error CertificatesEmptyClaim();
    error CertificatesAlreadyClaimed(uint256 assetId, uint64 epoch);
    error CertificatesOverCapacity(uint256 assetId, uint64 epoch, uint256 energyWh, uint256 maxWh);
    error CertificatesMeterNotOfAsset(bytes32 meterId, uint256 assetId);
    error CertificatesMetersUnsorted();
    error CertificatesZeroAmount();
    error CertificatesRetireExceedsBalance(address account, uint256 id, uint256 balance, uint256 amount);
    error CertificatesFactorTooLarge(uint256 gramsPerKwh);

    /// @notice One per certified epoch; `id` is the (asset, day) certificate the energy was added to.
    event EpochCertified(
        uint256 indexed assetId, uint64 indexed epoch, uint256 indexed id, address owner, uint256 energyWh
    );
    event CertificatesRetired(
        uint256 indexed retirementId,
        address indexed account,
        uint256 indexed id,
        uint64 assetId,
        uint64 day,
        uint256 energyWh,
        uint256 co2eGrams,
        uint32 gramsPerKwh,
        string beneficiary,
        string purpose
    );
    event EmissionFactorSet(bytes32 indexed feedId, uint32 gramsPerKwh);
}
