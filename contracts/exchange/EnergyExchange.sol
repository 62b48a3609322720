// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IERC1155} from "@openzeppelin/contracts/token/ERC1155/IERC1155.sol";
import {ERC1155Holder} from "@openzeppelin/contracts/token/ERC1155/utils/ERC1155Holder.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IForecastRegistry} from "../interfaces/IForecastRegistry.sol";
import {IAssetRegistry} from "../assets/IAssetRegistry.sol";
import {IFeedSource, IMeteredDelivery} from "../delivery/IMeteredDelivery.sol";
import {IEnergyCertificates} from "../certificates/IEnergyCertificates.sol";
import {IEnergyExchange} from "./IEnergyExchange.sol";

/// @title EnergyExchange
/// @notice Day-ahead auctions of metered energy, one book per (feed, delivery epoch).
/// Asset owners sell (volume <= capacity x epoch length, collateral = volume x penaltyPerWh);
/// buyers bid a limit price and escrow volume x limit. Orders and cancellations close at the gate
/// (gateLead seconds before the epoch starts; a book opens only once the feed's consensus forecast
/// for the epoch is final, i.e. after the round's reveal deadline, and limit prices must lie in the
/// band derived from it). After the gate anyone clears the book with the claimed equilibrium
/// interval [low, high] (gridcast/chain/clearing.py); the contract verifies it in one pass and
/// rejects a wrong one. The book clears at (low + high) / 2; in-the-money orders fill completely,
/// orders at the price pro rata on the long side (exact fractions).
/// When the epoch's metered-delivery root is final, each seller proves its asset's meters and is
/// paid price x min(delivered, sold); a shortfall costs it penaltyPerWh per Wh from its collateral.
/// Once every filled sell is settled, each buyer is charged its pro-rata share of what the sellers
/// were paid (it pays only for delivered energy), receives its share of the penalties, and gets the
/// rest of its escrow back. A void root (truth cancelled or overturned) refunds every order.
/// Each feed may also have a renewable market (id renewableMarketOf(feed), its own parameters and
/// books): only solar and wind assets sell there, so every buy in it requires renewable energy,
/// and the green attribute follows the energy: settling a sell certifies its proven delivery
/// through EnergyCertificates (the traded Wh to the exchange, the rest to the asset's owner, the
/// (asset, epoch) marked claimed), and each buyer receives its pro-rata share of the book's
/// certificates when its order settles. Until its sell settles the asset cannot claim that epoch
/// itself (`pendingRenewable`), so the same Wh is never certified twice.
/// @dev Clearing verification is O(n) with one storage read per order, capped at MAX_ORDERS per book.
/// settleBatch settles many orders of a book with each shared counter written once.
/// Accounting: token balance == escrowHeld + collateralHeld + penaltiesHeld + balances. Rounding
/// (buyers' charges rounded up, compensations down) leaves dust in escrowHeld/penaltiesHeld, never a
/// deficit. Withdrawals are pull-based and never paused.
contract EnergyExchange is IEnergyExchange, AccessControl, ERC1155Holder, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Orders per book: clearing verification costs about 2.5k gas per order.
    uint256 public constant MAX_ORDERS = 1000;
    /// @notice Renewable sells per book of a renewable market: each buy's settlement transfers
    /// one certificate id per delivered sell.
    uint256 public constant MAX_RENEWABLE_SELLS = 64;
    uint256 internal constant BPS = 10_000;

    /// @dev `feedId` is the forecast feed whose consensus, epochs and delivery roots the market
    /// uses (the market id itself for a plain market).
    struct Market {
        MarketParams params;
        uint64 genesis;
        uint32 epochLength;
        bool listed;
        bool renewableOnly;
        bytes32 feedId;
    }

    /// @dev Certificates held for the buyers of a renewable book: one per delivered sell.
    struct Lot {
        uint128 id;
        uint128 energyWh;
    }

    /// @dev Sums of one pass over a book at three prices: [low, high, price] x [S-, S=, D+, D=].
    struct Sums {
        uint256[4][3] v;
        uint256 sellTotal;
        uint256 buyTotal;
        uint32 sellsBelow;
        uint32 sellsAt;
    }

    IERC20 private immutable _token;
    IFeedSource private immutable _registry;
    IMeteredDelivery private immutable _delivery;
    IAssetRegistry private immutable _assets;

    mapping(bytes32 feedId => Market) private _markets;
    mapping(bytes32 feedId => mapping(uint64 epoch => Book)) private _books;
    mapping(bytes32 feedId => mapping(uint64 epoch => Order[])) private _orders;
    // One bit per (asset, epoch), 256 epochs a word: an asset's next offers reuse a warm slot.
    mapping(uint256 assetId => mapping(uint256 word => uint256)) private _offered;
    mapping(address account => uint256) private _balances;

    // Two slots: every settlement writes both, so they share words.
    uint128 private _escrowHeld;
    uint128 private _collateralHeld;
    uint128 private _penaltiesHeld;
    uint128 private _totalBalances;

    IEnergyCertificates private _certificates;
    mapping(uint256 assetId => mapping(uint256 word => uint256)) private _renewablePending;
    mapping(bytes32 marketId => mapping(uint64 epoch => uint256)) private _renewableSells;
    mapping(bytes32 marketId => mapping(uint64 epoch => Lot[])) private _lots;

    constructor(
        IERC20 token_,
        IFeedSource registry_,
        IMeteredDelivery delivery_,
        IAssetRegistry assets_,
        address admin
    ) {
        _token = token_;
        _registry = registry_;
        _delivery = delivery_;
        _assets = assets_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PARAMS_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    // ----------------------------------------------------------------------------------------- governance

    /// @notice Lists a feed or changes its market parameters (books already open keep theirs).
    /// @dev Requirements: the caller has PARAMS_ROLE; the feed exists in the registry; bandBps <= 10000;
    /// gateLead < the feed's leadTime (the gate falls after the reveal deadline).
    function setMarketParams(bytes32 feedId, MarketParams calldata params) external onlyRole(PARAMS_ROLE) {
        _list(feedId, feedId, false, params);
    }

    /// @notice Lists a feed's renewable market (id renewableMarketOf(feedId)) or changes its
    /// parameters: only solar and wind assets sell in it and the certificates of the delivered
    /// energy go to its buyers.
    /// @dev Requirements: as setMarketParams; the certificate contract is set.
    function setRenewableMarketParams(bytes32 feedId, MarketParams calldata params)
        external
        onlyRole(PARAMS_ROLE)
        returns (bytes32 marketId)
    {
        if (address(_certificates) == address(0)) revert ExchangeNoCertificates();
        marketId = renewableMarketOf(feedId);
        _list(marketId, feedId, true, params);
    }

    /// @notice Sets the certificate contract renewable markets certify through (it must let this
    /// exchange call certifyTraded).
    /// @dev Requirements: the caller has DEFAULT_ADMIN_ROLE.
    function setCertificates(IEnergyCertificates certificates_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _certificates = certificates_;
        emit CertificatesContractSet(address(certificates_));
    }

    function _list(bytes32 marketId, bytes32 feedId, bool renewableOnly, MarketParams calldata params) private {
        IForecastRegistry.FeedParams memory f = _registry.feedParams(feedId);
        // The gate must fall after the round's reveal deadline, so traders see the consensus.
        if (params.bandBps > BPS || params.gateLead >= f.leadTime) revert ExchangeInvalidParams();
        Market storage m = _markets[marketId];
        m.params = params;
        m.genesis = f.genesis;
        m.epochLength = f.epochLength;
        m.listed = true;
        m.renewableOnly = renewableOnly;
        m.feedId = feedId;
        emit MarketParamsSet(marketId, params, f.genesis, f.epochLength);
        emit MarketListed(marketId, feedId, renewableOnly);
    }

    /// @notice Pauses orders, cancellations, clearing and settlement (withdrawals stay open).
    /// @dev Requirements: the caller has PAUSER_ROLE.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes.
    /// @dev Requirements: the caller has PAUSER_ROLE.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ----------------------------------------------------------------------------------------- orders

    /// @notice Bids for `volumeWh` of the epoch's energy at no more than `limitPrice` per Wh,
    /// escrowing volume x limit.
    /// @dev Requirements: the feed is listed; its consensus for the epoch is final; before the gate;
    /// volume > 0; limit within the book's band; the book is not full; the escrow is approved.
    function placeBuy(bytes32 feedId, uint64 epoch, uint112 volumeWh, uint120 limitPrice)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 index)
    {
        Book storage b = _openBook(feedId, epoch);
        uint256 escrow = uint256(volumeWh) * limitPrice;
        index = _push(feedId, epoch, b, Order(msg.sender, 0, false, volumeWh, limitPrice, false, false));
        _escrowHeld += SafeCast.toUint128(escrow);
        _token.safeTransferFrom(msg.sender, address(this), escrow);
        emit OrderPlaced(feedId, epoch, msg.sender, index, false, 0, volumeWh, limitPrice, escrow);
    }

    /// @notice Offers `volumeWh` of an asset's generation in the epoch at no less than `limitPrice`
    /// per Wh, posting volume x penaltyPerWh as collateral.
    /// @dev Requirements: as placeBuy; the caller owns the asset, which is in the market's feed and
    /// is not a load (solar or wind in a renewable market, at most MAX_RENEWABLE_SELLS a book);
    /// volume <= capacityW x epochLength / 3600; one sell per (asset, epoch) across the feed's
    /// markets.
    function placeSell(bytes32 feedId, uint64 epoch, uint64 assetId, uint112 volumeWh, uint120 limitPrice)
        external
        whenNotPaused
        nonReentrant
        returns (uint256 index)
    {
        Book storage b = _openBook(feedId, epoch);
        (address owner, IAssetRegistry.Kind kind, uint64 capacityW, bytes32 assetFeed) = _assets.tradingInfo(assetId);
        Market storage m = _markets[feedId];
        if (owner != msg.sender) revert ExchangeNotAssetOwner(assetId, msg.sender);
        if (assetFeed != m.feedId) revert ExchangeAssetNotInFeed(assetId, feedId);
        if (kind == IAssetRegistry.Kind.Load) revert ExchangeAssetCannotSell(assetId);
        if (m.renewableOnly) _offerRenewable(feedId, epoch, assetId, kind);
        uint256 maxWh = (uint256(capacityW) * m.epochLength) / 3600;
        if (volumeWh > maxWh) revert ExchangeOverCapacity(assetId, volumeWh, maxWh);
        uint256 bits = _offered[assetId][epoch >> 8];
        uint256 bit = 1 << (epoch & 255);
        if (bits & bit != 0) revert ExchangeAssetAlreadyOffered(assetId, epoch);
        _offered[assetId][epoch >> 8] = bits | bit;
        uint256 collateral = uint256(volumeWh) * b.penaltyPerWh;
        index = _push(feedId, epoch, b, Order(msg.sender, assetId, false, volumeWh, limitPrice, true, false));
        _collateralHeld += SafeCast.toUint128(collateral);
        if (collateral != 0) _token.safeTransferFrom(msg.sender, address(this), collateral);
        emit OrderPlaced(feedId, epoch, msg.sender, index, true, assetId, volumeWh, limitPrice, collateral);
    }

    function _offerRenewable(bytes32 marketId, uint64 epoch, uint64 assetId, IAssetRegistry.Kind kind) private {
        if (kind != IAssetRegistry.Kind.Solar && kind != IAssetRegistry.Kind.Wind) {
            revert ExchangeAssetNotRenewable(assetId);
        }
        uint256 sells = _renewableSells[marketId][epoch];
        if (sells >= MAX_RENEWABLE_SELLS) revert ExchangeTooManyRenewableSells(marketId, epoch, MAX_RENEWABLE_SELLS);
        _renewableSells[marketId][epoch] = sells + 1;
        _renewablePending[assetId][epoch >> 8] |= 1 << (epoch & 255);
    }

    /// @notice Cancels an order before the gate; its escrow or collateral is credited back.
    /// @dev Requirements: the caller placed it; it is open; before the gate; not paused.
    function cancel(bytes32 feedId, uint64 epoch, uint256 index) external whenNotPaused nonReentrant {
        Book storage b = _books[feedId][epoch];
        Order storage o = _order(feedId, epoch, index);
        if (o.trader != msg.sender) revert ExchangeNotTrader(msg.sender, o.trader);
        if (o.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        if (block.timestamp >= b.gateAt) revert ExchangeGateClosed(feedId, epoch, b.gateAt);
        o.settled = true;
        o.cancelled = true;
        uint256 refund = _locked(b, o);
        if (o.isSell) {
            _offered[o.assetId][epoch >> 8] &= ~(1 << (epoch & 255));
            if (_markets[feedId].renewableOnly) {
                _renewablePending[o.assetId][epoch >> 8] &= ~(1 << (epoch & 255));
                --_renewableSells[feedId][epoch];
            }
            _collateralHeld -= uint128(refund);
        } else {
            _escrowHeld -= uint128(refund);
        }
        _credit(msg.sender, refund);
        emit OrderCancelled(feedId, epoch, msg.sender, index, refund);
    }

    // ----------------------------------------------------------------------------------------- clearing

    /// @notice Clears a book at the midpoint of the claimed equilibrium interval [low, high].
    /// @dev Anyone may call. O(n) in the book's orders (<= MAX_ORDERS). Requirements: after the gate;
    /// not cleared; not paused; [low, high] is exactly the interval of equilibrium prices, i.e.
    /// D+(low) <= S(low), S-(low) <= D(low), (low == 0 or D(low) > S-(low)), S-(high) <= D(high),
    /// D+(high) <= S(high) and S(high) > D+(high); (0, 0) when a side is empty.
    function clear(bytes32 feedId, uint64 epoch, uint256 low, uint256 high) external whenNotPaused nonReentrant {
        Book storage b = _books[feedId][epoch];
        if (!b.open) revert ExchangeGateOpen(feedId, epoch, _gateOf(feedId, epoch));
        if (block.timestamp < b.gateAt) revert ExchangeGateOpen(feedId, epoch, b.gateAt);
        if (b.cleared) revert ExchangeAlreadyCleared(feedId, epoch);
        if (low > high) revert ExchangeWrongClearing(low, high);
        uint256 price = (low + high) / 2;
        Order[] storage orders = _orders[feedId][epoch];
        Sums memory s = _sums(orders, [low, high, price]);
        _check(s, low, high);
        uint256[4] memory p = s.v[2]; // [S-, S=, D+, D=] at the price
        uint256 volume = Math.min(p[0] + p[1], p[2] + p[3]);
        b.cleared = true;
        if (volume != 0) {
            b.price = uint128(price);
            b.volume = uint128(volume);
            b.buyNum = uint128(volume - p[2]);
            b.buyDen = uint128(p[3]);
            b.sellNum = uint128(volume - p[0]);
            b.sellDen = uint128(p[1]);
            b.unsettledSells = s.sellsBelow + (volume > p[0] ? s.sellsAt : 0);
        }
        _emitCleared(feedId, epoch, b, low, high, uint32(orders.length));
    }

    function _sums(Order[] storage orders, uint256[3] memory at) private view returns (Sums memory s) {
        uint256 n = orders.length;
        for (uint256 i = 0; i < n; ++i) {
            Order storage o = orders[i];
            (uint256 vol, uint256 lim, bool isSell, bool cancelled) = (o.volumeWh, o.limitPrice, o.isSell, o.cancelled);
            if (cancelled) continue;
            for (uint256 k = 0; k < 3; ++k) {
                uint256 x = at[k];
                if (isSell) {
                    if (lim < x) s.v[k][0] += vol;
                    else if (lim == x) s.v[k][1] += vol;
                } else {
                    if (lim > x) s.v[k][2] += vol;
                    else if (lim == x) s.v[k][3] += vol;
                }
            }
            if (isSell) {
                s.sellTotal += vol;
                if (lim < at[2]) ++s.sellsBelow;
                else if (lim == at[2]) ++s.sellsAt;
            } else {
                s.buyTotal += vol;
            }
        }
    }

    function _check(Sums memory s, uint256 low, uint256 high) private pure {
        bool ok;
        if (s.sellTotal == 0 || s.buyTotal == 0) {
            ok = low == 0 && high == 0; // nothing can trade
        } else {
            uint256[4] memory l = s.v[0]; // [S-, S=, D+, D=] at low
            uint256[4] memory h = s.v[1]; // ... at high
            uint256 sLow = l[0] + l[1];
            uint256 dLow = l[2] + l[3];
            uint256 sHigh = h[0] + h[1];
            uint256 dHigh = h[2] + h[3];
            ok = l[2] <= sLow && l[0] <= dLow // low is an equilibrium price
                && (low == 0 || dLow > l[0]) // and low - 1 is not
                && h[0] <= dHigh && h[2] <= sHigh // high is an equilibrium price
                && sHigh > h[2]; // and high + 1 is not
        }
        if (!ok) revert ExchangeWrongClearing(low, high);
    }

    function _emitCleared(bytes32 feedId, uint64 epoch, Book storage b, uint256 low, uint256 high, uint32 n)
        private
    {
        emit BookCleared(
            feedId,
            epoch,
            b.price,
            b.volume,
            low,
            high,
            b.buyNum,
            b.buyDen,
            b.sellNum,
            b.sellDen,
            n,
            b.unsettledSells,
            msg.sender
        );
    }

    // ----------------------------------------------------------------------------------------- settlement

    /// @dev Totals of one settlement call, applied to storage once (a batch writes each shared
    /// counter once).
    struct Acc {
        uint256 collateral; // collateral released
        uint256 pay; // paid to sellers (out of escrow)
        uint256 penalty; // taken from sellers for buyers
        uint256 escrowBack; // escrow returned to buyers
        uint256 comp; // penalties passed to buyers
        uint256 credited; // credited to balances
        uint32 sells; // filled sells settled
    }

    /// @notice Settles a sell: proves the asset's metered delivery (sorted meter ids with their
    /// proofs against the epoch's root) and credits payment and remaining collateral.
    /// @dev Anyone may call with proofs. Without proofs (delivered = 0) only the seller may call,
    /// or anyone after settleAfter. An unfilled sell settles as soon as the book is cleared; a void
    /// root refunds it. Requirements: the order is an open sell; the book is cleared (unless void);
    /// the root is final (unless unfilled or void); every meter belongs to the order's asset.
    function settleSell(bytes32 feedId, uint64 epoch, uint256 index, Delivery calldata d)
        external
        whenNotPaused
        nonReentrant
    {
        Book storage b = _books[feedId][epoch];
        Acc memory a;
        (uint256 delivered, uint256 traded) = _sell(feedId, epoch, b, index, d, a);
        _applySells(b, a);
        _applyBuys(a);
        if (_markets[feedId].renewableOnly) _certify(feedId, epoch, index, delivered, traded);
    }

    /// @notice Settles a buy: charges its share of what the sellers were paid, credits its share of
    /// their penalties and the rest of the escrow. A void root refunds the whole escrow.
    /// @dev Anyone may call (the money goes to the buyer). Requirements: the order is an open buy; the
    /// book is cleared (unless void); a filled buy waits for every filled sell to be settled.
    function settleBuy(bytes32 feedId, uint64 epoch, uint256 index) external whenNotPaused nonReentrant {
        Book storage b = _books[feedId][epoch];
        Acc memory a;
        _buy(feedId, epoch, b, index, a);
        _applyBuys(a);
        if (_markets[feedId].renewableOnly) _deliverCertificates(feedId, epoch, b, index);
    }

    /// @notice Settles many orders of one book in one transaction: the sells first (with their
    /// deliveries, in the same order), then the buys. Each order as settleSell / settleBuy.
    /// @dev Requirements: as settleSell for each sell and settleBuy for each buy; equal lengths of
    /// `sells` and `deliveries`.
    function settleBatch(
        bytes32 feedId,
        uint64 epoch,
        uint256[] calldata sells,
        Delivery[] calldata deliveries,
        uint256[] calldata buys
    ) external whenNotPaused nonReentrant {
        if (sells.length != deliveries.length) revert ExchangeInvalidDelivery(epoch);
        Book storage b = _books[feedId][epoch];
        Acc memory a;
        bool renewable = _markets[feedId].renewableOnly;
        uint256[2][] memory certify = new uint256[2][](renewable ? sells.length : 0);
        for (uint256 i = 0; i < sells.length; ++i) {
            (uint256 delivered, uint256 traded) = _sell(feedId, epoch, b, sells[i], deliveries[i], a);
            if (renewable) certify[i] = [delivered, traded];
        }
        _applySells(b, a);
        if (renewable) {
            // every counter written before the certificate contract is called
            _applyBuys(a);
            delete a;
            for (uint256 i = 0; i < sells.length; ++i) {
                _certify(feedId, epoch, sells[i], certify[i][0], certify[i][1]);
            }
        }
        for (uint256 i = 0; i < buys.length; ++i) {
            _buy(feedId, epoch, b, buys[i], a);
        }
        _applyBuys(a);
        if (renewable) {
            for (uint256 i = 0; i < buys.length; ++i) {
                _deliverCertificates(feedId, epoch, b, buys[i]);
            }
        }
    }

    /// @dev A renewable sell settled: its epoch is no longer pending, and its proven delivery is
    /// certified (the traded Wh held here for the book's buyers).
    function _certify(bytes32 marketId, uint64 epoch, uint256 index, uint256 delivered, uint256 traded) private {
        uint256 asset = _orders[marketId][epoch][index].assetId;
        _renewablePending[asset][epoch >> 8] &= ~(1 << (epoch & 255));
        if (delivered == 0) return;
        (uint256 id, uint256 wh) = _certificates.certifyTraded(asset, epoch, delivered, traded);
        if (wh == 0) return;
        _lots[marketId][epoch].push(Lot(uint128(id), uint128(wh)));
        emit CertificatesEscrowed(marketId, epoch, index, asset, id, wh);
    }

    /// @dev A settled buy of a renewable book receives its weight's share of every lot (rounded
    /// down; the dust stays with the exchange, never certified twice).
    function _deliverCertificates(bytes32 marketId, uint64 epoch, Book storage b, uint256 index) private {
        Lot[] storage lots = _lots[marketId][epoch];
        uint256 n = lots.length;
        if (n == 0) return;
        Order storage o = _orders[marketId][epoch][index];
        (uint256 w, uint256 total, ) = _buyWeight(b, o);
        if (w == 0) return;
        uint256[] memory ids = new uint256[](n);
        uint256[] memory amounts = new uint256[](n);
        uint256 k;
        for (uint256 i = 0; i < n; ++i) {
            Lot storage lot = lots[i];
            uint256 amount = Math.mulDiv(lot.energyWh, w, total);
            if (amount != 0) {
                ids[k] = lot.id;
                amounts[k] = amount;
                ++k;
            }
        }
        if (k == 0) return;
        assembly ("memory-safe") {
            mstore(ids, k)
            mstore(amounts, k)
        }
        address trader = o.trader;
        emit CertificatesDelivered(marketId, epoch, trader, index, ids, amounts);
        IERC1155(address(_certificates)).safeBatchTransferFrom(address(this), trader, ids, amounts, "");
    }

    function _sell(bytes32 feedId, uint64 epoch, Book storage b, uint256 index, Delivery calldata d, Acc memory a)
        private
        returns (uint256 delivered, uint256 traded)
    {
        Order storage o = _order(feedId, epoch, index);
        if (!o.isSell) revert ExchangeNotASell(feedId, epoch, index);
        if (o.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        o.settled = true;
        uint256 collateral = _locked(b, o);
        a.collateral += collateral;
        (uint256 num, uint256 den) = _sellFill(b, o);
        bytes32 root = b.root;
        if (root == bytes32(0)) {
            // not known final yet: ask the delivery contract (final and void are both for good)
            bytes32 feed = _markets[feedId].feedId;
            IMeteredDelivery.RootStatus st = _delivery.statusOf(feed, epoch);
            if (st == IMeteredDelivery.RootStatus.Void) {
                if (num != 0) ++a.sells;
                b.voided = true;
                _settledSell(feedId, epoch, index, o, collateral, 0, 0, 0, 0, true, a);
                return (0, 0);
            }
            if (!b.cleared) revert ExchangeNotCleared(feedId, epoch);
            if (num != 0) {
                if (st != IMeteredDelivery.RootStatus.Final) revert ExchangeRootNotFinal(feedId, epoch, st);
                root = _delivery.rootOf(feed, epoch).root;
                b.root = root;
            }
        }
        if (num == 0) {
            _settledSell(feedId, epoch, index, o, collateral, 0, 0, 0, 0, false, a);
            return (0, 0);
        }
        delivered = _proveDelivery(feedId, epoch, root, b, o, d);
        // sold = num / den Wh; paid = price x min(delivered, sold); penalty on the shortfall
        uint256 got = Math.min(delivered * den, num);
        traded = got / den;
        uint256 pay = (uint256(b.price) * got) / den;
        uint256 penalty = (uint256(b.penaltyPerWh) * (num - got)) / den;
        ++a.sells;
        a.pay += pay;
        a.penalty += penalty;
        _settledSell(feedId, epoch, index, o, collateral, num / den, delivered, pay, penalty, false, a);
    }

    function _settledSell(
        bytes32 feedId,
        uint64 epoch,
        uint256 index,
        Order storage o,
        uint256 collateral,
        uint256 filled,
        uint256 delivered,
        uint256 pay,
        uint256 penalty,
        bool voided,
        Acc memory a
    ) private {
        uint256 credited = collateral - penalty + pay;
        address trader = o.trader;
        _credit(trader, credited, a);
        emit OrderSettled(feedId, epoch, trader, index, true, voided, filled, delivered, pay, penalty, credited);
    }

    function _applySells(Book storage b, Acc memory a) private {
        if (a.sells != 0) b.unsettledSells -= a.sells;
        if (a.pay != 0 || a.penalty != 0) {
            b.paid += SafeCast.toUint112(a.pay);
            b.penalties += SafeCast.toUint112(a.penalty);
        }
    }

    /// @dev Applies every counter of the call (sell totals included).
    function _applyBuys(Acc memory a) private {
        _collateralHeld -= uint128(a.collateral);
        _escrowHeld = uint128(_escrowHeld - a.pay - a.escrowBack);
        _penaltiesHeld = uint128(_penaltiesHeld + a.penalty - a.comp);
        _totalBalances += SafeCast.toUint128(a.credited);
    }

    function _proveDelivery(
        bytes32 feedId,
        uint64 epoch,
        bytes32 root,
        Book storage b,
        Order storage o,
        Delivery calldata d
    ) private view returns (uint256 delivered) {
        uint256 n = d.meterIds.length;
        if (n == 0) {
            if (msg.sender != o.trader && block.timestamp < b.settleAfter) {
                revert ExchangeSettleTooEarly(feedId, epoch, b.settleAfter);
            }
            return 0;
        }
        if (d.energyWh.length != n || d.proofs.length != n) revert ExchangeInvalidDelivery(epoch);
        uint256 asset = o.assetId;
        bytes32 prev;
        for (uint256 i = 0; i < n; ++i) {
            bytes32 m = d.meterIds[i];
            if (i != 0 && m <= prev) revert ExchangeMetersUnsorted();
            prev = m;
            if (_assets.assetOfMeter(m) != asset) revert ExchangeMeterNotOfAsset(m, asset);
            uint256 wh = d.energyWh[i];
            // MeteredDelivery.leafOf: the StandardMerkleTree leaf of (meterId, epoch, energyWh)
            bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(m, epoch, wh))));
            if (!MerkleProof.verifyCalldata(d.proofs[i], root, leaf)) revert ExchangeInvalidProof(m, wh);
            delivered += wh;
        }
    }

    function _buy(bytes32 feedId, uint64 epoch, Book storage b, uint256 index, Acc memory a) private {
        Order storage o = _order(feedId, epoch, index);
        if (o.isSell) revert ExchangeNotABuy(feedId, epoch, index);
        if (o.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        o.settled = true;
        uint256 escrow = _locked(b, o);
        // Every filled sell settles only once the root is final or void, so a book whose filled
        // sells are all settled needs no question to the delivery contract unless it was voided.
        bool voided = b.voided;
        if (!voided && (b.unsettledSells != 0 || !b.cleared)) {
            voided = _delivery.statusOf(_markets[feedId].feedId, epoch) == IMeteredDelivery.RootStatus.Void;
        }
        uint256 charge;
        uint256 comp;
        uint256 filled;
        if (!voided) {
            if (!b.cleared) revert ExchangeNotCleared(feedId, epoch);
            uint256 w;
            uint256 total;
            (w, total, filled) = _buyWeight(b, o);
            if (w != 0) {
                if (b.unsettledSells != 0) revert ExchangeSellsUnsettled(feedId, epoch, b.unsettledSells);
                charge = Math.mulDiv(b.paid, w, total, Math.Rounding.Ceil);
                comp = Math.mulDiv(b.penalties, w, total);
            }
        }
        a.escrowBack += escrow - charge;
        a.comp += comp;
        uint256 credited = escrow - charge + comp;
        address trader = o.trader;
        _credit(trader, credited, a);
        emit OrderSettled(feedId, epoch, trader, index, false, voided, filled, 0, charge, comp, credited);
    }

    /// @notice Withdraws the caller's credited refunds and proceeds.
    /// @dev Never paused. Requirements: a non-zero balance.
    function withdraw() external nonReentrant {
        uint256 amount = _balances[msg.sender];
        if (amount == 0) revert ExchangeNothingToWithdraw(msg.sender);
        _balances[msg.sender] = 0;
        _totalBalances -= uint128(amount);
        _token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------- views

    function marketOf(bytes32 feedId) external view returns (Market memory) {
        return _markets[feedId];
    }

    function bookOf(bytes32 feedId, uint64 epoch) external view returns (Book memory) {
        return _books[feedId][epoch];
    }

    function orderCount(bytes32 feedId, uint64 epoch) external view returns (uint256) {
        return _orders[feedId][epoch].length;
    }

    function orderOf(bytes32 feedId, uint64 epoch, uint256 index) external view returns (Order memory) {
        return _order(feedId, epoch, index);
    }

    /// @notice Every order of a book, for off-chain clearing.
    function ordersOf(bytes32 feedId, uint64 epoch) external view returns (Order[] memory) {
        return _orders[feedId][epoch];
    }

    /// @notice The gate of an epoch under the feed's current parameters (a book keeps its own).
    function gateOf(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        return _gateOf(feedId, epoch);
    }

    /// @notice The band a book opened now would get, from the epoch's final consensus.
    function bandOf(bytes32 feedId, uint64 epoch) public view returns (uint128 low, uint128 high, int64 consensus) {
        Market storage m = _markets[feedId];
        if (!m.listed) revert ExchangeUnknownFeed(feedId);
        IForecastRegistry.Consensus memory c = _registry.consensusOf(m.feedId, epoch);
        if (c.finalizedAt == 0) revert ExchangeNoConsensus(feedId, epoch);
        MarketParams storage p = m.params;
        int256 ref = int256(uint256(p.basePrice)) + int256(p.slope) * (int256(c.value) - int256(p.referenceValue));
        uint256 r = ref > 0 ? uint256(ref) : 0;
        low = uint128((r * (BPS - p.bandBps)) / BPS);
        high = uint128(Math.min((r * (BPS + p.bandBps)) / BPS, type(uint120).max));
        consensus = c.value;
    }

    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice The liabilities the token balance covers: escrow, collateral, penalties held for
    /// buyers, credited balances (their sum equals the exchange's token balance).
    function accounting()
        external
        view
        returns (uint256 escrow, uint256 collateral, uint256 penalties, uint256 balances)
    {
        return (_escrowHeld, _collateralHeld, _penaltiesHeld, _totalBalances);
    }

    function token() external view returns (IERC20) {
        return _token;
    }

    function certificates() external view returns (IEnergyCertificates) {
        return _certificates;
    }

    /// @notice The id of a feed's renewable market (its own parameters and books).
    function renewableMarketOf(bytes32 feedId) public pure returns (bytes32) {
        return keccak256(abi.encode(feedId, "gridcast.renewable"));
    }

    /// @inheritdoc IEnergyExchange
    function pendingRenewable(uint256 assetId, uint256 word) external view returns (uint256) {
        return _renewablePending[assetId][word];
    }

    /// @notice The certificates a renewable book holds for its buyers, one lot per delivered sell.
    function lotsOf(bytes32 marketId, uint64 epoch) external view returns (Lot[] memory) {
        return _lots[marketId][epoch];
    }

    function supportsInterface(bytes4 interfaceId)
        public
        view
        override(AccessControl, ERC1155Holder)
        returns (bool)
    {
        return super.supportsInterface(interfaceId);
    }

    // ----------------------------------------------------------------------------------------- internal

    function _openBook(bytes32 feedId, uint64 epoch) private returns (Book storage b) {
        b = _books[feedId][epoch];
        if (!b.open) {
            (uint128 low, uint128 high, int64 consensus) = bandOf(feedId, epoch);
            Market storage m = _markets[feedId];
            uint64 start = m.genesis + epoch * m.epochLength;
            b.bandLow = low;
            b.bandHigh = high;
            b.penaltyPerWh = m.params.penaltyPerWh;
            b.gateAt = start - m.params.gateLead;
            b.settleAfter = start + m.epochLength + m.params.settleWindow;
            b.open = true;
            emit BookOpened(feedId, epoch, consensus, low, high, b.penaltyPerWh, b.gateAt, b.settleAfter);
        }
        if (block.timestamp >= b.gateAt) revert ExchangeGateClosed(feedId, epoch, b.gateAt);
    }

    function _push(bytes32 feedId, uint64 epoch, Book storage b, Order memory o) private returns (uint256 index) {
        if (o.volumeWh == 0) revert ExchangeZeroVolume();
        if (o.limitPrice < b.bandLow || o.limitPrice > b.bandHigh) {
            revert ExchangePriceOutOfBand(o.limitPrice, b.bandLow, b.bandHigh);
        }
        Order[] storage orders = _orders[feedId][epoch];
        index = orders.length;
        if (index >= MAX_ORDERS) revert ExchangeBookFull(feedId, epoch, MAX_ORDERS);
        orders.push(o);
    }

    function _order(bytes32 feedId, uint64 epoch, uint256 index) private view returns (Order storage) {
        Order[] storage orders = _orders[feedId][epoch];
        if (index >= orders.length) revert ExchangeUnknownOrder(feedId, epoch, index);
        return orders[index];
    }

    function _locked(Book storage b, Order storage o) private view returns (uint256) {
        return uint256(o.volumeWh) * (o.isSell ? b.penaltyPerWh : o.limitPrice);
    }

    /// @dev The sell's fill as num / den Wh.
    function _sellFill(Book storage b, Order storage o) private view returns (uint256 num, uint256 den) {
        if (b.volume == 0 || o.cancelled) return (0, 1);
        if (o.limitPrice < b.price) return (o.volumeWh, 1);
        if (o.limitPrice == b.price && b.sellDen != 0) return (uint256(o.volumeWh) * b.sellNum, b.sellDen);
        return (0, 1);
    }

    /// @dev The buy's weight in the book's buy side (weights sum to `total`) and its fill rounded down.
    function _buyWeight(Book storage b, Order storage o)
        private
        view
        returns (uint256 w, uint256 total, uint256 filled)
    {
        if (b.volume == 0 || o.cancelled) return (0, 1, 0);
        uint256 scale = b.buyDen == 0 ? 1 : b.buyDen;
        total = uint256(b.volume) * scale;
        if (o.limitPrice > b.price) w = uint256(o.volumeWh) * scale;
        else if (o.limitPrice == b.price && b.buyDen != 0) w = uint256(o.volumeWh) * b.buyNum;
        filled = w / scale;
    }

    function _gateOf(bytes32 feedId, uint64 epoch) private view returns (uint64) {
        Market storage m = _markets[feedId];
        if (!m.listed) revert ExchangeUnknownFeed(feedId);
        return m.genesis + epoch * m.epochLength - m.params.gateLead;
    }

    function _credit(address account, uint256 amount) private {
        if (amount == 0) return;
        _balances[account] += amount;
        _totalBalances += SafeCast.toUint128(amount);
    }

    function _credit(address account, uint256 amount, Acc memory a) private {
        if (amount == 0) return;
        _balances[account] += amount;
        a.credited += amount;
    }
}
