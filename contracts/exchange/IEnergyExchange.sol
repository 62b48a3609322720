// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IMeteredDelivery} from "../delivery/IMeteredDelivery.sol";

/// @title IEnergyExchange
/// @notice Day-ahead uniform-price auctions of metered energy per (feed, delivery epoch).
interface IEnergyExchange {
    /// @notice Governed per-feed market parameters. Prices are token base units per Wh.
    /// @dev Price band of a book: ref = basePrice + slope * (consensus - referenceValue), floored at 0;
    /// band = [ref * (1 - bandBps/1e4), ref * (1 + bandBps/1e4)]. Collateral and the imbalance
    /// penalty are penaltyPerWh per Wh offered / not delivered. The gate closes gateLead seconds
    /// before the epoch starts; unproven sells may be settled as undelivered settleWindow seconds
    /// after the epoch ends. A book takes the parameters in force when its first order arrives.
    struct MarketParams {
        uint128 basePrice;
        int128 slope;
        int64 referenceValue;
        uint16 bandBps;
        uint32 gateLead;
        uint32 settleWindow;
        uint128 penaltyPerWh;
    }

    /// @dev Slots: band; penalty + gate + settle time; flags + counts + price; volume + buyNum;
    /// buyDen + sellNum; sellDen; paid + penalties (written by every settlement, one slot);
    /// the delivery root, cached by the first proven sell.
    struct Book {
        uint128 bandLow;
        uint128 bandHigh;
        uint128 penaltyPerWh;
        uint64 gateAt;
        uint64 settleAfter;
        bool open;
        bool cleared;
        bool voided;
        uint128 price;
        uint128 volume;
        uint128 buyNum;
        uint128 buyDen;
        uint128 sellNum;
        uint128 sellDen;
        uint32 unsettledSells;
        uint112 paid;
        uint112 penalties;
        bytes32 root;
    }

    struct Order {
        address trader;
        uint64 assetId;
        bool settled;
        uint112 volumeWh;
        uint120 limitPrice;
        bool isSell;
        bool cancelled;
    }

    struct Delivery {
        bytes32[] meterIds;
        uint256[] energyWh;
        bytes32[][] proofs;
    }

    error ExchangeUnknownFeed(bytes32 feedId);
    error ExchangeInvalidParams();
    error ExchangeNoConsensus(bytes32 feedId, uint64 epoch);
    error ExchangeGateClosed(bytes32 feedId, uint64 epoch, uint64 gateAt);
    error ExchangeGateOpen(bytes32 feedId, uint64 epoch, uint64 gateAt);
    error ExchangeZeroVolume();
    error ExchangePriceOutOfBand(uint256 limitPrice, uint256 bandLow, uint256 bandHigh);
    error ExchangeBookFull(bytes32 feedId, uint64 epoch, uint256 max);
    error ExchangeNotAssetOwner(uint256 assetId, address caller);
    error ExchangeAssetNotInFeed(uint256 assetId, bytes32 feedId);
    error ExchangeAssetCannotSell(uint256 assetId);
    error ExchangeOverCapacity(uint256 assetId, uint256 volumeWh, uint256 maxWh);
    error ExchangeAssetAlreadyOffered(uint256 assetId, uint64 epoch);
    error ExchangeUnknownOrder(bytes32 feedId, uint64 epoch, uint256 index);
    error ExchangeNotTrader(address caller, address trader);
    error ExchangeOrderClosed(bytes32 feedId, uint64 epoch, uint256 index);
    error ExchangeAlreadyCleared(bytes32 feedId, uint64 epoch);
    error ExchangeNotCleared(bytes32 feedId, uint64 epoch);
    error ExchangeWrongClearing(uint256 low, uint256 high);
    error ExchangeRootNotFinal(bytes32 feedId, uint64 epoch, IMeteredDelivery.RootStatus status);
    error ExchangeNotASell(bytes32 feedId, uint64 epoch, uint256 index);
    error ExchangeNotABuy(bytes32 feedId, uint64 epoch, uint256 index);
    error ExchangeMeterNotOfAsset(bytes32 meterId, uint256 assetId);
    error ExchangeMetersUnsorted();
    error ExchangeInvalidDelivery(uint64 epoch);
    error ExchangeInvalidProof(bytes32 meterId, uint256 energyWh);
    error ExchangeSettleTooEarly(bytes32 feedId, uint64 epoch, uint64 settleAfter);
    error ExchangeSellsUnsettled(bytes32 feedId, uint64 epoch, uint32 remaining);
    error ExchangeNothingToWithdraw(address account);
    error ExchangeAssetNotRenewable(uint256 assetId);
    error ExchangeNoCertificates();
    error ExchangeTooManyRenewableSells(bytes32 marketId, uint64 epoch, uint256 max);

    event MarketParamsSet(bytes32 indexed feedId, MarketParams params, uint64 genesis, uint32 epochLength);
    /// @notice A market was listed or re-parameterised: `marketId` is `feedId` itself for the
    /// feed's plain market, or renewableMarketOf(feedId) for its renewable market (only solar and
    /// wind assets sell there, every buy requires renewable energy, and the certificates of the
    /// energy delivered go to the buyers). Every other event's `feedId` is the market id.
    event MarketListed(bytes32 indexed marketId, bytes32 indexed feedId, bool renewableOnly);
    /// @notice The exchange's certificate contract was set (renewable markets need it).
    event CertificatesContractSet(address certificates);
    /// @notice A renewable sell's delivered and traded energy was certified: `energyWh` units of
    /// certificate `certificateId` are held by the exchange for the book's buyers.
    event CertificatesEscrowed(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        uint256 index,
        uint256 assetId,
        uint256 certificateId,
        uint256 energyWh
    );
    /// @notice A buy of a renewable market received its pro-rata share of the book's certificates.
    event CertificatesDelivered(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed buyer,
        uint256 index,
        uint256[] certificateIds,
        uint256[] amounts
    );
    event BookOpened(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        int64 consensusValue,
        uint128 bandLow,
        uint128 bandHigh,
        uint128 penaltyPerWh,
        uint64 gateAt,
        uint64 settleAfter
    );
    event OrderPlaced(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed trader,
        uint256 index,
        bool isSell,
        uint64 assetId,
        uint112 volumeWh,
        uint120 limitPrice,
        uint256 locked
    );
    event OrderCancelled(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed trader,
        uint256 index,
        uint256 refund
    );
    event BookCleared(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        uint128 price,
        uint128 volume,
        uint256 low,
        uint256 high,
        uint128 buyNum,
        uint128 buyDen,
        uint128 sellNum,
        uint128 sellDen,
        uint32 orders,
        uint32 filledSells,
        address clearer
    );
    /// @notice `filledWh` is the traded volume rounded down (the exact fill is volume * num / den);
    /// for a sell `amount` is the payment and `adjustment` the penalty; for a buy `amount` is the
    /// charge and `adjustment` the compensation received from sellers' penalties.
    event OrderSettled(
        bytes32 indexed feedId,
        uint64 indexed epoch,
        address indexed trader,
        uint256 index,
        bool isSell,
        bool voided,
        uint256 filledWh,
        uint256 deliveredWh,
        uint256 amount,
        uint256 adjustment,
        uint256 credited
    );
    event Withdrawn(address indexed account, uint256 amount);

    /// @notice The bits of epochs [256 word, 256 word + 255] in which `assetId` has a renewable sell
    /// not yet settled: EnergyCertificates refuses claims for them (the certificates of that
    /// energy come through the exchange, so it is never counted twice).
    /// @dev Requirements: none.
    function pendingRenewable(uint256 assetId, uint256 word) external view returns (uint256);
}
