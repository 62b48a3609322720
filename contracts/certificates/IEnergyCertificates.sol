// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IEnergyCertificates
/// @notice Renewable energy certificates (ERC-1155, 1 unit = 1 Wh) minted from metered delivery.
interface IEnergyCertificates {
    /// @notice One epoch of an asset's delivery: the energy of each of the claim's meters (in the
    /// claim's meter order) and their proofs against the epoch's root.
    struct EpochClaim {
        uint64 epoch;
        uint256[] energyWh;
        bytes32[][] proofs;
    }

    /// @dev Two slots; the beneficiary and purpose are in the CertificatesRetired event.
    struct Retirement {
        address account;
        uint64 day;
        uint32 gramsPerKwh;
        uint96 energyWh;
        uint96 co2eGrams;
        uint64 assetId;
    }

    error CertificatesNotRenewable(uint256 assetId);
    error CertificatesEmptyClaim();
    error CertificatesAlreadyClaimed(uint256 assetId, uint64 epoch);
    error CertificatesOverCapacity(uint256 assetId, uint64 epoch, uint256 energyWh, uint256 maxWh);
    error CertificatesMeterNotOfAsset(bytes32 meterId, uint256 assetId);
    error CertificatesMetersUnsorted();
    error CertificatesLengthMismatch(uint64 epoch);
    error CertificatesInvalidProof(uint64 epoch, bytes32 meterId);
    error CertificatesZeroAmount();
    error CertificatesRetireExceedsBalance(address account, uint256 id, uint256 balance, uint256 amount);
    error CertificatesFactorTooLarge(uint256 gramsPerKwh);
    error CertificatesAmountTooLarge(uint256 amount);

    /// @notice One per claim: the epochs certified, in order, with their energy; epoch i went to
    /// certificate id assetId << 64 | (epoch start / 86400).
    event DeliveryCertified(
        uint256 indexed assetId, address indexed owner, bytes32 indexed feedId, uint64[] epochs, uint256[] energyWh
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
