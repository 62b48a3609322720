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
    error CertificatesNotExchange(address caller);
    error CertificatesPendingOnExchange(uint256 assetId, uint64 epoch);

    /// @notice One per claim: the epochs certified, in order, with their energy; epoch i went to
    /// certificate id assetId << 64 | (epoch start / 86400).
    event DeliveryCertified(
        uint256 indexed assetId,
        address indexed owner,
        bytes32 indexed feedId,
        uint64[] epochs,
        uint256[] energyWh
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
    event ExchangeSet(address exchange);
    /// @notice An (asset, epoch) sold on the exchange's renewable market was certified at its
    /// settlement (with a DeliveryCertified of the same epoch): `tradedWh` went to the exchange
    /// for the buyers, `ownerWh` (delivered beyond the sale) to the asset's owner.
    event TradeCertified(
        uint256 indexed assetId,
        uint64 indexed epoch,
        uint256 indexed id,
        address exchange,
        uint256 tradedWh,
        address owner,
        uint256 ownerWh
    );

    /// @notice Certifies the proven delivery of an asset's renewable sell at the exchange's
    /// settlement: min(delivered, capacity x epoch) units of the (asset, day) id, the traded part
    /// minted to the exchange and the rest to the asset's owner; marks the epoch claimed.
    /// @dev Emits `DeliveryCertified` (one epoch), `TradeCertified` and the ERC-1155 mints. An epoch
    /// already claimed mints nothing and returns 0 traded (it cannot be claimed while the sell is
    /// pending, so this only follows a change of exchange).
    /// Requirements:
    /// - the caller is the exchange set by `setExchange`;
    /// - the asset exists and is solar or wind;
    /// - the owner, if a contract, accepts ERC-1155 tokens.
    function certifyTraded(
        uint256 assetId,
        uint64 epoch,
        uint256 deliveredWh,
        uint256 tradedWh
    ) external returns (uint256 id, uint256 traded);
}
