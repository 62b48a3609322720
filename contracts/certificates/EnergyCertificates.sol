// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC1155} from "@openzeppelin/contracts/token/ERC1155/ERC1155.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IForecastRegistry} from "../interfaces/IForecastRegistry.sol";
import {IAssetRegistry} from "../assets/IAssetRegistry.sol";
import {IFeedSource, IMeteredDelivery} from "../delivery/IMeteredDelivery.sol";
import {IEnergyExchange} from "../exchange/IEnergyExchange.sol";
import {IEnergyCertificates} from "./IEnergyCertificates.sol";

/// @title EnergyCertificates
/// @notice Renewable energy certificates, 1 unit = 1 Wh, one ERC-1155 id per (asset, UTC day):
/// id = assetId << 64 | day, day = epoch start / 86400. Minted to the asset's owner only by proving
/// the asset's meters against the epoch's final metered-delivery root, at most once per
/// (asset, epoch) (an on-chain bitmap) and never above capacity x epoch length; only solar and
/// wind assets. A claim covers many epochs in one transaction. `retire` burns certificates and
/// records a retirement with its beneficiary, purpose, energy, period and avoided CO2e
/// (energy x the feed's grid emission factor in g/kWh, a governed parameter read at retirement).
/// Energy sold on the exchange's renewable market is certified by the exchange at settlement
/// (`certifyTraded`): the traded part goes to the buyers, the rest to the owner, and the epoch is
/// claimed; until that settlement a claim of the epoch is refused, so no Wh is certified twice.
/// @dev supply(id) == minted(id) - retired(id) == the sum of balances of id.
contract EnergyCertificates is IEnergyCertificates, ERC1155, AccessControl {
    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    uint256 public constant MAX_GRAMS_PER_KWH = 2_000;

    IMeteredDelivery private immutable _delivery;
    IAssetRegistry private immutable _assets;
    IFeedSource private immutable _registry;

    mapping(uint256 assetId => mapping(uint256 word => uint256)) private _claimedBits;
    mapping(uint256 id => uint256) private _minted;
    mapping(uint256 id => uint256) private _retired;
    mapping(bytes32 feedId => uint32) private _gramsPerKwh;
    struct Wallet {
        uint128 retiredWh;
        uint128 co2eGrams;
    }

    mapping(address account => Wallet) private _wallets;
    Retirement[] private _retirements;
    IEnergyExchange private _exchange;

    /// @notice Mints from `delivery_`'s roots for `assets_`'s assets, reading epochs from `registry_`;
    /// `admin` gets DEFAULT_ADMIN_ROLE and PARAMS_ROLE; `uri_` is the ERC-1155 metadata URI.
    constructor(
        IMeteredDelivery delivery_,
        IAssetRegistry assets_,
        IFeedSource registry_,
        address admin,
        string memory uri_
    ) ERC1155(uri_) {
        _delivery = delivery_;
        _assets = assets_;
        _registry = registry_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARAMS_ROLE, admin);
    }

    /// @notice Sets a feed's grid emission factor (g CO2e per kWh) used for retirements from now on.
    /// @dev Emits `EmissionFactorSet`.
    /// Requirements:
    /// - the caller has PARAMS_ROLE;
    /// - `gramsPerKwh` <= MAX_GRAMS_PER_KWH.
    function setEmissionFactor(bytes32 feedId, uint32 gramsPerKwh) external onlyRole(PARAMS_ROLE) {
        if (gramsPerKwh > MAX_GRAMS_PER_KWH) revert CertificatesFactorTooLarge(gramsPerKwh);
        _gramsPerKwh[feedId] = gramsPerKwh;
        emit EmissionFactorSet(feedId, gramsPerKwh);
    }

    /// @notice Sets the exchange whose renewable market certifies traded energy (`certifyTraded`)
    /// and whose pending renewable sells block claims.
    /// @dev Emits `ExchangeSet`.
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE.
    function setExchange(IEnergyExchange exchange_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _exchange = exchange_;
        emit ExchangeSet(address(exchange_));
    }

    /// @inheritdoc IEnergyCertificates
    function certifyTraded(
        uint256 assetId,
        uint64 epoch,
        uint256 deliveredWh,
        uint256 tradedWh
    ) external returns (uint256 id, uint256 traded) {
        if (msg.sender != address(_exchange)) revert CertificatesNotExchange(msg.sender);
        Ctx memory x = _context(assetId);
        id = (assetId << 64) | ((x.genesis + uint256(epoch) * x.epochLength) / 1 days);
        uint256 word = epoch >> 8;
        uint256 bit = 1 << (epoch & 255);
        uint256 bits = _claimedBits[assetId][word];
        if (bits & bit != 0) return (id, 0);
        _claimedBits[assetId][word] = bits | bit;
        uint256 certified = deliveredWh < x.maxWh ? deliveredWh : x.maxWh;
        traded = tradedWh < certified ? tradedWh : certified;
        uint256 rest = certified - traded;
        _minted[id] += certified;
        uint64[] memory epochs = new uint64[](1);
        uint256[] memory energies = new uint256[](1);
        epochs[0] = epoch;
        energies[0] = certified;
        emit DeliveryCertified(assetId, x.owner, x.feedId, epochs, energies);
        emit TradeCertified(assetId, epoch, id, msg.sender, traded, x.owner, rest);
        if (traded != 0) _mint(msg.sender, id, traded, "");
        if (rest != 0) _mint(x.owner, id, rest, "");
    }

    /// @notice Mints the certificates of an asset's proven delivery over one or more epochs to its
    /// owner. Anyone may call. `meterIds` (ascending, all the asset's) apply to every epoch of the claim.
    /// @dev Emits one `DeliveryCertified` (every epoch with its energy) and ERC-1155 `TransferBatch`.
    /// Requirements:
    /// - at least one epoch and one meter;
    /// - the asset exists and is solar or wind;
    /// - the meters are the asset's, in ascending order;
    /// - for each epoch: the root is final, the proofs are valid, the epoch was not claimed before
    ///   (nor twice here), the asset has no unsettled sell of it on the exchange's renewable market,
    ///   and the energy <= capacityW x epochLength / 3600;
    /// - the owner, if a contract, accepts ERC-1155 tokens.
    function claim(uint256 assetId, bytes32[] calldata meterIds, EpochClaim[] calldata claims) external {
        uint256 n = claims.length;
        if (n == 0 || meterIds.length == 0) revert CertificatesEmptyClaim();
        Ctx memory x = _context(assetId);
        _checkMeters(assetId, meterIds);
        uint256[] memory ids = new uint256[](n);
        uint256[] memory amounts = new uint256[](n);
        uint64[] memory epochs = new uint64[](n);
        uint256[] memory energies = new uint256[](n);
        uint256 k; // distinct days so far
        for (uint256 i = 0; i < n; ++i) {
            (uint256 id, uint256 energy) = _certify(x, meterIds, claims[i]);
            epochs[i] = claims[i].epoch;
            energies[i] = energy;
            if (k == 0 || ids[k - 1] != id) {
                ids[k] = id;
                ++k;
            }
            amounts[k - 1] += energy;
        }
        _claimedBits[assetId][x.word] = x.bits;
        assembly ("memory-safe") {
            mstore(ids, k)
            mstore(amounts, k)
        }
        for (uint256 j = 0; j < k; ++j) {
            _minted[ids[j]] += amounts[j];
        }
        emit DeliveryCertified(assetId, x.owner, x.feedId, epochs, energies);
        _mintBatch(x.owner, ids, amounts, "");
    }

    /// @dev What every epoch of a claim needs, read once; `word`/`bits` cache one bitmap word.
    struct Ctx {
        uint256 assetId;
        address owner;
        bytes32 feedId;
        uint256 maxWh;
        uint256 genesis;
        uint256 epochLength;
        uint256 word;
        uint256 bits;
        uint256 pending;
    }

    function _context(uint256 assetId) private view returns (Ctx memory x) {
        (address owner, IAssetRegistry.Kind kind, uint64 capacityW, bytes32 feedId) = _assets.tradingInfo(assetId);
        if (kind != IAssetRegistry.Kind.Solar && kind != IAssetRegistry.Kind.Wind) {
            revert CertificatesNotRenewable(assetId);
        }
        IForecastRegistry.FeedParams memory f = _registry.feedParams(feedId);
        x = Ctx(
            assetId,
            owner,
            feedId,
            (uint256(capacityW) * f.epochLength) / 3600,
            f.genesis,
            f.epochLength,
            type(uint256).max,
            0,
            0
        );
    }

    function _certify(
        Ctx memory x,
        bytes32[] calldata meterIds,
        EpochClaim calldata c
    ) private returns (uint256 id, uint256 energy) {
        uint256 w = c.epoch >> 8;
        if (w != x.word) {
            if (x.word != type(uint256).max) _claimedBits[x.assetId][x.word] = x.bits;
            x.word = w;
            x.bits = _claimedBits[x.assetId][w];
            IEnergyExchange ex = _exchange;
            x.pending = address(ex) == address(0) ? 0 : ex.pendingRenewable(x.assetId, w);
        }
        uint256 bit = 1 << (c.epoch & 255);
        if (x.bits & bit != 0) revert CertificatesAlreadyClaimed(x.assetId, c.epoch);
        if (x.pending & bit != 0) revert CertificatesPendingOnExchange(x.assetId, c.epoch);
        x.bits |= bit;
        energy = _proven(x.feedId, meterIds, c);
        if (energy > x.maxWh) revert CertificatesOverCapacity(x.assetId, c.epoch, energy, x.maxWh);
        id = (x.assetId << 64) | ((x.genesis + uint256(c.epoch) * x.epochLength) / 1 days);
    }

    /// @dev Sum of the meters' energy, each proven against the epoch's final root (leaves as
    /// MeteredDelivery.leafOf; the proofs are checked here, so they are not copied into a call).
    function _proven(
        bytes32 feedId,
        bytes32[] calldata meterIds,
        EpochClaim calldata c
    ) private view returns (uint256 energy) {
        uint256 m = meterIds.length;
        if (c.energyWh.length != m || c.proofs.length != m) revert CertificatesLengthMismatch(c.epoch);
        bytes32 root = _delivery.finalRoot(feedId, c.epoch);
        for (uint256 j = 0; j < m; ++j) {
            uint256 wh = c.energyWh[j];
            bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(meterIds[j], c.epoch, wh))));
            if (!MerkleProof.verifyCalldata(c.proofs[j], root, leaf)) {
                revert CertificatesInvalidProof(c.epoch, meterIds[j]);
            }
            energy += wh;
        }
    }

    /// @dev The meters are ascending (no duplicates) and all the asset's.
    function _checkMeters(uint256 assetId, bytes32[] calldata meterIds) private view {
        bytes32 prev;
        for (uint256 j = 0; j < meterIds.length; ++j) {
            bytes32 id = meterIds[j];
            if (j != 0 && id <= prev) revert CertificatesMetersUnsorted();
            prev = id;
            if (_assets.assetOfMeter(id) != assetId) revert CertificatesMeterNotOfAsset(id, assetId);
        }
    }

    /// @notice Burns `amount` Wh of certificate `id` held by the caller and records the retirement
    /// for `beneficiary` and `purpose`, with the avoided CO2e at the feed's current emission factor.
    /// @dev Emits `CertificatesRetired` (its id, account, certificate, asset, day, energy, CO2e, factor,
    /// beneficiary, purpose) and ERC-1155 `TransferSingle` to address 0.
    /// Requirements:
    /// - 0 < `amount` < 2^96 and `amount` <= the caller's balance of `id`.
    function retire(
        uint256 id,
        uint256 amount,
        string calldata beneficiary,
        string calldata purpose
    ) external returns (uint256 retirementId) {
        if (amount == 0) revert CertificatesZeroAmount();
        if (amount > type(uint96).max) revert CertificatesAmountTooLarge(amount);
        uint256 held = balanceOf(msg.sender, id);
        if (amount > held) revert CertificatesRetireExceedsBalance(msg.sender, id, held, amount);
        _burn(msg.sender, id, amount);
        uint64 assetId = uint64(id >> 64);
        uint64 day = uint64(id);
        (, , , bytes32 feedId) = _assets.tradingInfo(assetId);
        uint32 factor = _gramsPerKwh[feedId];
        uint256 co2e = (amount * factor) / 1000;
        _retired[id] += amount;
        Wallet storage w = _wallets[msg.sender];
        w.retiredWh += uint128(amount);
        w.co2eGrams += uint128(co2e);
        retirementId = _retirements.length;
        _retirements.push(Retirement(msg.sender, day, factor, uint96(amount), uint96(co2e), assetId));
        emit CertificatesRetired(
            retirementId,
            msg.sender,
            id,
            assetId,
            day,
            amount,
            co2e,
            factor,
            beneficiary,
            purpose
        );
    }

    // ----------------------------------------------------------------------------------------- views

    /// @notice The certificate id of an asset's UTC day: assetId << 64 | day.
    /// @dev Requirements: none.
    function idOf(uint256 assetId, uint64 day) external pure returns (uint256) {
        return (assetId << 64) | day;
    }

    /// @notice Whether an (asset, epoch) was certified (by a claim or at the exchange's settlement).
    /// @dev Requirements: none.
    function claimed(uint256 assetId, uint64 epoch) external view returns (bool) {
        return _claimedBits[assetId][epoch >> 8] & (1 << (epoch & 255)) != 0;
    }

    /// @notice Wh ever minted of a certificate id.
    /// @dev Requirements: none.
    function minted(uint256 id) external view returns (uint256) {
        return _minted[id];
    }

    /// @notice Wh retired of a certificate id.
    /// @dev Requirements: none.
    function retired(uint256 id) external view returns (uint256) {
        return _retired[id];
    }

    /// @notice Wh in circulation of a certificate id: minted - retired.
    /// @dev Requirements: none.
    function totalSupply(uint256 id) external view returns (uint256) {
        return _minted[id] - _retired[id];
    }

    /// @notice The exchange allowed to certify traded energy (address 0 when none).
    /// @dev Requirements: none.
    function exchange() external view returns (IEnergyExchange) {
        return _exchange;
    }

    /// @notice A feed's grid emission factor, g CO2e per kWh.
    /// @dev Requirements: none.
    function emissionFactor(bytes32 feedId) external view returns (uint32) {
        return _gramsPerKwh[feedId];
    }

    /// @notice The carbon wallet of an account: Wh retired and grams of CO2e avoided.
    /// @dev Requirements: none.
    function walletOf(address account) external view returns (uint256 retiredWh, uint256 co2eGrams) {
        Wallet storage w = _wallets[account];
        return (w.retiredWh, w.co2eGrams);
    }

    /// @notice The number of retirements recorded (ids 0 .. count - 1).
    /// @dev Requirements: none.
    function retirementCount() external view returns (uint256) {
        return _retirements.length;
    }

    /// @notice One recorded retirement (its beneficiary and purpose are in its event).
    /// @dev Requirements:
    /// - `retirementId` < retirementCount() (a panic otherwise).
    function retirementOf(uint256 retirementId) external view returns (Retirement memory) {
        return _retirements[retirementId];
    }

    /// @notice ERC-165: ERC-1155 and AccessControl.
    /// @dev Requirements: none.
    function supportsInterface(bytes4 interfaceId) public view override(ERC1155, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }
}
