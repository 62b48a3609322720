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
/// @notice Day-ahead auctions of metered energy, one book per (market, delivery epoch).
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
/// @dev Gas layout: an order is one storage slot (the trader as an account number, its address and
/// exchange balance sharing the account's slot); a book's fields are grouped by the call that reads
/// them (placement, sell settlement, buy settlement); the liabilities are two counters in one slot,
/// which also holds the pause flag (every order and settlement writes that slot, so the pause check
/// costs no extra cold read). Internal widths: volumes uint40 Wh (1.1 TWh an order), prices and
/// penalties uint64 per Wh, asset ids uint40, balances uint96, credited total uint120 (SafeCast
/// reverts beyond). Clearing verification is O(n) with one storage read per order, capped at
/// MAX_ORDERS per book; settleBatch settles many orders of a book with each shared counter written
/// once. Accounting: token balance == locked (escrow + collateral + penalties held for buyers) +
/// credited balances. Rounding (buyers' charges rounded up, compensations down) leaves dust locked,
/// never a deficit. Withdrawals are pull-based and never paused.
contract EnergyExchange is IEnergyExchange, AccessControl, ERC1155Holder, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant PARAMS_ROLE = keccak256("PARAMS_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Orders per book: clearing verification costs about 3.2k gas per order.
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

    /// @dev An order in one slot; `account` numbers the trader (see `_accounts`).
    struct Slot {
        uint32 account;
        uint40 assetId;
        uint40 volumeWh;
        uint64 limitPrice;
        bool isSell;
        bool settled;
        bool cancelled;
    }

    /// @dev A book in five slots, by reader: 0 placement and cancellation; 1 + 3 + 4 a sell's
    /// settlement; 1 + 2 + 3 a buy's. Slot 0 keeps the band as its reference price and width (the
    /// bounds are recomputed per order) so that it also holds the penalty and the renewable flag a
    /// sell's placement needs: those two are copied in slot 1 for settlement, and a placement reads
    /// one book slot. A book is open once its epochLength is set (never 0 for a listed market).
    /// Clearing sums fit 56 bits (<= MAX_ORDERS uint40 volumes); times fit 40 bits (34,000 years).
    struct Stored {
        uint80 refPrice; // capped at 2^80 - 1: the bounds are then clamped to uint64 exactly as uncapped
        uint16 bandBps;
        uint40 gateAt;
        uint16 orderCount;
        uint32 epochLength;
        uint64 placePenalty; // = penaltyPerWh
        bool placeRenewable; // = renewable
        // 1: what a sell's settlement reads: price, penalty, the sell side's fill, state
        uint64 price;
        uint64 penaltyPerWh;
        uint56 sellNum;
        uint56 sellDen;
        bool cleared;
        bool renewable;
        // 2: the buy side's fill
        uint56 volume;
        uint56 buyNum;
        uint56 buyDen;
        bool voided;
        uint40 settleAfter;
        // 3: written by every sell's settlement
        uint112 paid;
        uint112 penalties;
        uint32 unsettledSells;
        // 4: the delivery root, cached by the first proven sell
        bytes32 root;
    }

    /// @dev A trader's address and exchange balance, one slot.
    struct Account {
        address trader;
        uint96 balance;
    }

    /// @dev Sums of one pass over a book at three prices: [low, high, price] x [S-, S=, D+, D=].
    struct Sums {
        uint256[4][3] v;
        uint256 sellTotal;
        uint256 buyTotal;
        uint32 sellsBelow;
        uint32 sellsAt;
    }

    /// @dev Totals of one settlement call, applied to storage once.
    struct Acc {
        uint256 pay; // paid to sellers (out of escrow)
        uint256 penalty; // taken from sellers for buyers
        uint256 credited; // moved from locked to balances
        uint32 sells; // filled sells settled
    }

    IERC20 private immutable _token;
    IFeedSource private immutable _registry;
    IMeteredDelivery private immutable _delivery;
    IAssetRegistry private immutable _assets;

    mapping(bytes32 marketId => Market) private _markets;
    mapping(bytes32 marketId => mapping(uint64 epoch => Stored)) private _books;
    mapping(bytes32 marketId => mapping(uint64 epoch => mapping(uint256 index => Slot))) private _orders;
    // One bit per (asset, epoch), 256 epochs a word: an asset's next offers reuse a warm slot.
    mapping(uint256 assetId => mapping(uint256 word => uint256)) private _offered;
    mapping(address trader => uint32) private _accountOf;
    mapping(uint256 account => Account) private _accounts;

    // One slot, written by every order, cancellation, settlement and withdrawal; the pause flag
    // shares it so that whenNotPaused reads a slot the call writes anyway (Pausable's own slot is
    // left unused: `paused`, `_pause` and `_unpause` are overridden).
    uint128 private _locked;
    uint120 private _credited;
    bool private _halted;

    uint32 private _accountCount;

    IEnergyCertificates private _certificates;
    mapping(uint256 assetId => mapping(uint256 word => uint256)) private _renewablePending;
    mapping(bytes32 marketId => mapping(uint64 epoch => uint256)) private _renewableSells;
    mapping(bytes32 marketId => mapping(uint64 epoch => Lot[])) private _lots;

    /// @notice Trades for `token_`, prices from `registry_`'s consensus, settles against `delivery_`'s
    /// roots, checks `assets_`'s owners and meters; `admin` gets DEFAULT_ADMIN_ROLE, PARAMS_ROLE and
    /// PAUSER_ROLE.
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

    /// @notice Lists a feed's plain market (id = the feed id) or changes its parameters (books
    /// already open keep theirs).
    /// @dev Emits `MarketParamsSet` and `MarketListed`.
    /// Requirements:
    /// - the caller has PARAMS_ROLE;
    /// - the feed exists in the registry;
    /// - bandBps <= 10000; penaltyPerWh < 2^64;
    /// - gateLead < the feed's leadTime (the gate falls after the reveal deadline).
    function setMarketParams(bytes32 feedId, MarketParams calldata params) external onlyRole(PARAMS_ROLE) {
        _list(feedId, feedId, false, params);
    }

    /// @notice Lists a feed's renewable market (id renewableMarketOf(feedId)) or changes its
    /// parameters: only solar and wind assets sell in it and the certificates of the delivered
    /// energy go to its buyers.
    /// @dev Emits `MarketParamsSet` (with the market id) and `MarketListed`.
    /// Requirements:
    /// - as setMarketParams;
    /// - the certificate contract is set (`setCertificates`).
    function setRenewableMarketParams(
        bytes32 feedId,
        MarketParams calldata params
    ) external onlyRole(PARAMS_ROLE) returns (bytes32 marketId) {
        if (address(_certificates) == address(0)) revert ExchangeNoCertificates();
        marketId = renewableMarketOf(feedId);
        _list(marketId, feedId, true, params);
    }

    /// @notice Sets the certificate contract renewable markets certify through (it must let this
    /// exchange call certifyTraded).
    /// @dev Emits `CertificatesContractSet`.
    /// Requirements:
    /// - the caller has DEFAULT_ADMIN_ROLE.
    function setCertificates(IEnergyCertificates certificates_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _certificates = certificates_;
        emit CertificatesContractSet(address(certificates_));
    }

    function _list(bytes32 marketId, bytes32 feedId, bool renewableOnly, MarketParams calldata params) private {
        IForecastRegistry.FeedParams memory f = _registry.feedParams(feedId);
        // The gate must fall after the round's reveal deadline, so traders see the consensus.
        if (params.bandBps > BPS || params.gateLead >= f.leadTime || params.penaltyPerWh > type(uint64).max) {
            revert ExchangeInvalidParams();
        }
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
    /// @dev Emits `Paused`.
    /// Requirements:
    /// - the caller has PAUSER_ROLE; not paused.
    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    /// @notice Resumes.
    /// @dev Emits `Unpaused`.
    /// Requirements:
    /// - the caller has PAUSER_ROLE; paused.
    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    /// @notice Whether orders, cancellations, clearing and settlement are paused.
    /// @dev Read from the liabilities' slot (see `_halted`). Requirements: none.
    function paused() public view override returns (bool) {
        return _halted;
    }

    function _pause() internal override whenNotPaused {
        _halted = true;
        emit Paused(_msgSender());
    }

    function _unpause() internal override whenPaused {
        _halted = false;
        emit Unpaused(_msgSender());
    }

    // ----------------------------------------------------------------------------------------- orders

    /// @notice Opens an epoch's book ahead of its first order: stores its band (from the epoch's
    /// final consensus), penalty, gate and settle time. Anyone may call (a keeper, a market maker)
    /// and pays for the book's creation, so that every order in it costs an order's gas; an order in
    /// a book nobody opened opens it itself. Nothing happens for a book already open.
    /// @dev Emits `BookOpened` (unless already open).
    /// Requirements:
    /// - not paused; the market is listed; its consensus for the epoch is final; before the gate.
    function openBook(bytes32 feedId, uint64 epoch) external whenNotPaused nonReentrant {
        _openBook(feedId, epoch);
    }

    /// @notice Bids for `volumeWh` of the epoch's energy at no more than `limitPrice` per Wh,
    /// escrowing volume x limit. In a renewable market the bid requires renewable energy.
    /// @dev The first order of a book opens it (`BookOpened`). Emits `OrderPlaced`.
    /// Requirements:
    /// - not paused; the market is listed; its consensus for the epoch is final; before the gate;
    /// - 0 < volume < 2^40; the limit within the book's band (< 2^64);
    /// - the book has fewer than MAX_ORDERS orders;
    /// - the escrow is approved.
    function placeBuy(
        bytes32 feedId,
        uint64 epoch,
        uint112 volumeWh,
        uint120 limitPrice
    ) external whenNotPaused nonReentrant returns (uint256 index) {
        Stored storage b = _openBook(feedId, epoch);
        uint256 escrow = uint256(volumeWh) * limitPrice;
        index = _push(feedId, epoch, b, 0, volumeWh, limitPrice, false);
        _locked += SafeCast.toUint128(escrow);
        _token.safeTransferFrom(msg.sender, address(this), escrow);
        emit OrderPlaced(feedId, epoch, msg.sender, index, false, 0, volumeWh, limitPrice, escrow);
    }

    /// @notice Offers `volumeWh` of an asset's generation in the epoch at no less than `limitPrice`
    /// per Wh, posting volume x penaltyPerWh as collateral.
    /// @dev Emits `OrderPlaced` (after `BookOpened` for a book's first order).
    /// Requirements:
    /// - as placeBuy;
    /// - the caller owns the asset, which is in the market's feed and is not a load (solar or wind in
    ///   a renewable market, at most MAX_RENEWABLE_SELLS of them a book);
    /// - volume <= capacityW x epochLength / 3600;
    /// - one sell per (asset, epoch) across the feed's markets;
    /// - the collateral is approved.
    function placeSell(
        bytes32 feedId,
        uint64 epoch,
        uint64 assetId,
        uint112 volumeWh,
        uint120 limitPrice
    ) external whenNotPaused nonReentrant returns (uint256 index) {
        Stored storage b = _openBook(feedId, epoch);
        (address owner, IAssetRegistry.Kind kind, uint64 capacityW, bytes32 assetFeed) = _assets.tradingInfo(assetId);
        if (owner != msg.sender) revert ExchangeNotAssetOwner(assetId, msg.sender);
        (uint256 penaltyPerWh, uint256 epochLength, bool renewable) = (b.placePenalty, b.epochLength, b.placeRenewable);
        if (assetFeed != (renewable ? _markets[feedId].feedId : feedId)) {
            revert ExchangeAssetNotInFeed(assetId, feedId);
        }
        if (kind == IAssetRegistry.Kind.Load) revert ExchangeAssetCannotSell(assetId);
        if (renewable) _offerRenewable(feedId, epoch, assetId, kind);
        uint256 maxWh = (uint256(capacityW) * epochLength) / 3600;
        if (volumeWh > maxWh) revert ExchangeOverCapacity(assetId, volumeWh, maxWh);
        uint256 bits = _offered[assetId][epoch >> 8];
        uint256 bit = 1 << (epoch & 255);
        if (bits & bit != 0) revert ExchangeAssetAlreadyOffered(assetId, epoch);
        _offered[assetId][epoch >> 8] = bits | bit;
        uint256 collateral = uint256(volumeWh) * penaltyPerWh;
        index = _push(feedId, epoch, b, assetId, volumeWh, limitPrice, true);
        _locked += SafeCast.toUint128(collateral);
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
    /// @dev Emits `OrderCancelled`.
    /// Requirements:
    /// - not paused; the order exists and the caller placed it;
    /// - it is open; before the gate.
    function cancel(bytes32 feedId, uint64 epoch, uint256 index) external whenNotPaused nonReentrant {
        Stored storage b = _books[feedId][epoch];
        (Slot storage o, Slot memory s) = _load(feedId, epoch, index);
        Account storage acc = _accounts[s.account];
        if (acc.trader != msg.sender) revert ExchangeNotTrader(msg.sender, acc.trader);
        if (s.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        if (block.timestamp >= b.gateAt) revert ExchangeGateClosed(feedId, epoch, b.gateAt);
        o.settled = true;
        o.cancelled = true;
        uint256 refund = uint256(s.volumeWh) * (s.isSell ? b.placePenalty : s.limitPrice);
        if (s.isSell) {
            uint256 word = epoch >> 8;
            uint256 mask = ~(1 << (epoch & 255));
            _offered[s.assetId][word] &= mask;
            if (b.placeRenewable) {
                _renewablePending[s.assetId][word] &= mask;
                --_renewableSells[feedId][epoch];
            }
        }
        _locked -= uint128(refund);
        _credited += SafeCast.toUint120(refund);
        acc.balance += SafeCast.toUint96(refund);
        emit OrderCancelled(feedId, epoch, msg.sender, index, refund);
    }

    // ----------------------------------------------------------------------------------------- clearing

    /// @notice Clears a book at the midpoint of the claimed equilibrium interval [low, high].
    /// @dev Anyone may call. O(n) in the book's orders (<= MAX_ORDERS). Emits `BookCleared`.
    /// Requirements:
    /// - not paused; the book exists and its gate has passed; not cleared yet;
    /// - [low, high] is exactly the interval of equilibrium prices: D+(low) <= S(low),
    ///   S-(low) <= D(low), (low == 0 or D(low) > S-(low)), S-(high) <= D(high), D+(high) <= S(high)
    ///   and S(high) > D+(high); (0, 0) when a side is empty.
    function clear(bytes32 feedId, uint64 epoch, uint256 low, uint256 high) external whenNotPaused nonReentrant {
        Stored storage b = _books[feedId][epoch];
        if (b.epochLength == 0) revert ExchangeGateOpen(feedId, epoch, _gateOf(feedId, epoch));
        if (block.timestamp < b.gateAt) revert ExchangeGateOpen(feedId, epoch, b.gateAt);
        if (b.cleared) revert ExchangeAlreadyCleared(feedId, epoch);
        if (low > high) revert ExchangeWrongClearing(low, high);
        uint256 price = (low + high) / 2;
        uint256 n = b.orderCount;
        Sums memory s = _sums(_orders[feedId][epoch], n, [low, high, price]);
        _check(s, low, high);
        uint256[4] memory p = s.v[2]; // [S-, S=, D+, D=] at the price
        uint256 volume = Math.min(p[0] + p[1], p[2] + p[3]);
        b.cleared = true;
        uint32 filledSells;
        if (volume != 0) {
            filledSells = s.sellsBelow + (volume > p[0] ? s.sellsAt : 0);
            // every sum is at most MAX_ORDERS x 2^40 < 2^56
            b.price = SafeCast.toUint64(price);
            b.sellNum = uint56(volume - p[0]);
            b.sellDen = uint56(p[1]);
            b.volume = uint56(volume);
            b.buyNum = uint56(volume - p[2]);
            b.buyDen = uint56(p[3]);
            b.unsettledSells = filledSells;
        } else {
            price = 0;
        }
        emit BookCleared(
            feedId,
            epoch,
            uint128(price),
            uint128(volume),
            low,
            high,
            uint128(volume == 0 ? 0 : volume - p[2]),
            uint128(volume == 0 ? 0 : p[3]),
            uint128(volume == 0 ? 0 : volume - p[0]),
            uint128(volume == 0 ? 0 : p[1]),
            uint32(n),
            filledSells,
            msg.sender
        );
    }

    function _sums(
        mapping(uint256 => Slot) storage orders,
        uint256 n,
        uint256[3] memory at
    ) private view returns (Sums memory s) {
        for (uint256 i = 0; i < n; ++i) {
            Slot storage o = orders[i];
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
            ok =
                l[2] <= sLow &&
                l[0] <= dLow && // low is an equilibrium price
                (low == 0 || dLow > l[0]) && // and low - 1 is not
                h[0] <= dHigh &&
                h[2] <= sHigh && // high is an equilibrium price
                sHigh > h[2]; // and high + 1 is not
        }
        if (!ok) revert ExchangeWrongClearing(low, high);
    }

    // ----------------------------------------------------------------------------------------- settlement

    /// @notice Settles a sell: proves the asset's metered delivery (sorted meter ids with their
    /// proofs against the epoch's root) and credits payment and remaining collateral. In a renewable
    /// market its delivered energy is certified (the traded part held for the buyers).
    /// @dev Anyone may call with proofs. Without proofs (delivered = 0) only the seller may call, or
    /// anyone after settleAfter. An unfilled sell settles as soon as the book is cleared; a void root
    /// refunds it. Emits `OrderSettled` (and `CertificatesEscrowed` in a renewable market).
    /// Requirements:
    /// - not paused; the order exists and is an open sell;
    /// - the book is cleared (unless the root is void);
    /// - the root is final (unless the sell is unfilled or the root void);
    /// - every meter belongs to the order's asset, ascending, with valid proofs.
    function settleSell(
        bytes32 feedId,
        uint64 epoch,
        uint256 index,
        Delivery calldata d
    ) external whenNotPaused nonReentrant {
        Stored storage b = _books[feedId][epoch];
        Acc memory a;
        (uint256 delivered, uint256 traded) = _sell(feedId, epoch, b, index, d, a);
        _applySells(b, a);
        _apply(a);
        if (b.renewable) _certify(feedId, epoch, index, delivered, traded);
    }

    /// @notice Settles a buy: charges its share of what the sellers were paid, credits its share of
    /// their penalties and the rest of the escrow. A void root refunds the whole escrow. In a
    /// renewable market the buyer also receives its share of the book's certificates.
    /// @dev Anyone may call (the money goes to the buyer). Emits `OrderSettled` (and
    /// `CertificatesDelivered` when a renewable buy receives certificates).
    /// Requirements:
    /// - not paused; the order exists and is an open buy;
    /// - the book is cleared (unless the root is void);
    /// - a filled buy waits for every filled sell to be settled;
    /// - a renewable buyer that is a contract accepts ERC-1155 tokens.
    function settleBuy(bytes32 feedId, uint64 epoch, uint256 index) external whenNotPaused nonReentrant {
        Stored storage b = _books[feedId][epoch];
        Acc memory a;
        _buy(feedId, epoch, b, index, a);
        _apply(a);
        if (b.renewable) _deliverCertificates(feedId, epoch, b, index);
    }

    /// @notice Settles many orders of one book in one transaction: the sells first (with their
    /// deliveries, in the same order), then the buys. Each order as settleSell / settleBuy.
    /// @dev Shared counters are written once. Emits as settleSell and settleBuy for each order.
    /// Requirements:
    /// - as settleSell for each sell and settleBuy for each buy;
    /// - equal lengths of `sells` and `deliveries`.
    function settleBatch(
        bytes32 feedId,
        uint64 epoch,
        uint256[] calldata sells,
        Delivery[] calldata deliveries,
        uint256[] calldata buys
    ) external whenNotPaused nonReentrant {
        if (sells.length != deliveries.length) revert ExchangeInvalidDelivery(epoch);
        Stored storage b = _books[feedId][epoch];
        Acc memory a;
        bool renewable = b.renewable;
        uint256[2][] memory certify = new uint256[2][](renewable ? sells.length : 0);
        for (uint256 i = 0; i < sells.length; ++i) {
            (uint256 delivered, uint256 traded) = _sell(feedId, epoch, b, sells[i], deliveries[i], a);
            if (renewable) certify[i] = [delivered, traded];
        }
        _applySells(b, a);
        if (renewable) {
            // every counter written before the certificate contract is called
            _apply(a);
            delete a;
            for (uint256 i = 0; i < sells.length; ++i) {
                _certify(feedId, epoch, sells[i], certify[i][0], certify[i][1]);
            }
        }
        for (uint256 i = 0; i < buys.length; ++i) {
            _buy(feedId, epoch, b, buys[i], a);
        }
        _apply(a);
        if (renewable) {
            for (uint256 i = 0; i < buys.length; ++i) {
                _deliverCertificates(feedId, epoch, b, buys[i]);
            }
        }
    }

    function _sell(
        bytes32 feedId,
        uint64 epoch,
        Stored storage b,
        uint256 index,
        Delivery calldata d,
        Acc memory a
    ) private returns (uint256 delivered, uint256 traded) {
        (Slot storage o, Slot memory s) = _load(feedId, epoch, index);
        if (!s.isSell) revert ExchangeNotASell(feedId, epoch, index);
        if (s.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        o.settled = true;
        uint256 collateral = uint256(s.volumeWh) * b.penaltyPerWh;
        (uint256 num, uint256 den) = _sellFill(b, s);
        bytes32 root = b.root;
        if (root == bytes32(0)) {
            // not known final yet: ask the delivery contract (final and void are both for good)
            IMeteredDelivery.RootStatus st;
            (st, root) = _delivery.statusAndRoot(_markets[feedId].feedId, epoch);
            if (st == IMeteredDelivery.RootStatus.Void) {
                if (num != 0) ++a.sells;
                b.voided = true;
                _settledSell(feedId, epoch, index, s.account, collateral, 0, 0, 0, 0, true, a);
                return (0, 0);
            }
            if (!b.cleared) revert ExchangeNotCleared(feedId, epoch);
            if (num != 0) {
                if (st != IMeteredDelivery.RootStatus.Final) revert ExchangeRootNotFinal(feedId, epoch, st);
                b.root = root;
            }
        }
        if (num == 0) {
            _settledSell(feedId, epoch, index, s.account, collateral, 0, 0, 0, 0, false, a);
            return (0, 0);
        }
        delivered = _proveDelivery(feedId, epoch, root, b, s, d);
        // sold = num / den Wh; paid = price x min(delivered, sold); penalty on the shortfall
        uint256 got = Math.min(delivered * den, num);
        traded = got / den;
        uint256 pay = (uint256(b.price) * got) / den;
        uint256 penalty = (uint256(b.penaltyPerWh) * (num - got)) / den;
        ++a.sells;
        a.pay += pay;
        a.penalty += penalty;
        _settledSell(feedId, epoch, index, s.account, collateral, num / den, delivered, pay, penalty, false, a);
    }

    function _settledSell(
        bytes32 feedId,
        uint64 epoch,
        uint256 index,
        uint32 account,
        uint256 collateral,
        uint256 filled,
        uint256 delivered,
        uint256 pay,
        uint256 penalty,
        bool voided,
        Acc memory a
    ) private {
        uint256 credited = collateral - penalty + pay;
        address trader = _credit(account, credited, a);
        emit OrderSettled(feedId, epoch, trader, index, true, voided, filled, delivered, pay, penalty, credited);
    }

    function _applySells(Stored storage b, Acc memory a) private {
        if (a.sells != 0 || a.pay != 0 || a.penalty != 0) {
            b.unsettledSells -= a.sells;
            b.paid += SafeCast.toUint112(a.pay);
            b.penalties += SafeCast.toUint112(a.penalty);
        }
    }

    /// @dev Moves what the call credited from locked to balances (one slot).
    function _apply(Acc memory a) private {
        uint256 c = a.credited;
        if (c != 0) {
            _locked -= uint128(c);
            _credited += SafeCast.toUint120(c);
        }
    }

    function _proveDelivery(
        bytes32 feedId,
        uint64 epoch,
        bytes32 root,
        Stored storage b,
        Slot memory o,
        Delivery calldata d
    ) private view returns (uint256 delivered) {
        uint256 n = d.meterIds.length;
        if (n == 0) {
            if (msg.sender != _accounts[o.account].trader && block.timestamp < b.settleAfter) {
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

    function _buy(bytes32 feedId, uint64 epoch, Stored storage b, uint256 index, Acc memory a) private {
        (Slot storage o, Slot memory s) = _load(feedId, epoch, index);
        if (s.isSell) revert ExchangeNotABuy(feedId, epoch, index);
        if (s.settled) revert ExchangeOrderClosed(feedId, epoch, index);
        o.settled = true;
        uint256 escrow = uint256(s.volumeWh) * s.limitPrice;
        // Every filled sell settles only once the root is final or void, so a book whose filled
        // sells are all settled needs no question to the delivery contract unless it was voided.
        (bool voided, bool cleared, uint32 unsettled) = (b.voided, b.cleared, b.unsettledSells);
        if (!voided && (unsettled != 0 || !cleared)) {
            voided = _delivery.statusOf(_markets[feedId].feedId, epoch) == IMeteredDelivery.RootStatus.Void;
        }
        uint256 charge;
        uint256 comp;
        uint256 filled;
        if (!voided) {
            if (!cleared) revert ExchangeNotCleared(feedId, epoch);
            uint256 w;
            uint256 total;
            (w, total, filled) = _buyWeight(b, s);
            if (w != 0) {
                if (unsettled != 0) revert ExchangeSellsUnsettled(feedId, epoch, unsettled);
                (uint256 paid, uint256 penalties) = (b.paid, b.penalties);
                charge = Math.mulDiv(paid, w, total, Math.Rounding.Ceil);
                comp = Math.mulDiv(penalties, w, total);
            }
        }
        uint256 credited = escrow - charge + comp;
        address trader = _credit(s.account, credited, a);
        emit OrderSettled(feedId, epoch, trader, index, false, voided, filled, 0, charge, comp, credited);
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
    function _deliverCertificates(bytes32 marketId, uint64 epoch, Stored storage b, uint256 index) private {
        Lot[] storage lots = _lots[marketId][epoch];
        uint256 n = lots.length;
        if (n == 0) return;
        Slot memory o = _orders[marketId][epoch][index];
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
        address trader = _accounts[o.account].trader;
        emit CertificatesDelivered(marketId, epoch, trader, index, ids, amounts);
        IERC1155(address(_certificates)).safeBatchTransferFrom(address(this), trader, ids, amounts, "");
    }

    /// @notice Withdraws the caller's credited refunds and proceeds.
    /// @dev Never paused. Emits `Withdrawn`.
    /// Requirements:
    /// - a non-zero balance.
    function withdraw() external nonReentrant {
        Account storage acc = _accounts[_accountOf[msg.sender]];
        uint256 amount = acc.balance;
        if (amount == 0) revert ExchangeNothingToWithdraw(msg.sender);
        acc.balance = 0;
        _credited -= uint120(amount); // <= an account's uint96 balance
        _token.safeTransfer(msg.sender, amount);
        emit Withdrawn(msg.sender, amount);
    }

    // ----------------------------------------------------------------------------------------- views

    /// @notice A market's parameters, the feed it trades and whether it is renewable-only.
    /// @dev Requirements: none (zeros when not listed).
    function marketOf(bytes32 feedId) external view returns (Market memory) {
        return _markets[feedId];
    }

    /// @notice A book: band, penalty, gate, settle time, state, clearing and settlement totals.
    /// @dev Requirements: none (zeros when not open).
    function bookOf(bytes32 feedId, uint64 epoch) external view returns (Book memory) {
        Stored storage s = _books[feedId][epoch];
        (uint256 low, uint256 high) = _band(s.refPrice, s.bandBps);
        return
            Book({
                bandLow: uint128(low),
                bandHigh: uint128(high),
                penaltyPerWh: s.penaltyPerWh,
                gateAt: s.gateAt,
                settleAfter: s.settleAfter,
                open: s.epochLength != 0,
                cleared: s.cleared,
                voided: s.voided,
                price: s.price,
                volume: s.volume,
                buyNum: s.buyNum,
                buyDen: s.buyDen,
                sellNum: s.sellNum,
                sellDen: s.sellDen,
                unsettledSells: s.unsettledSells,
                paid: s.paid,
                penalties: s.penalties,
                root: s.root
            });
    }

    /// @notice The number of orders placed in a book (cancelled ones included).
    /// @dev Requirements: none.
    function orderCount(bytes32 feedId, uint64 epoch) external view returns (uint256) {
        return _books[feedId][epoch].orderCount;
    }

    /// @notice One order of a book.
    /// @dev Requirements:
    /// - the order exists.
    function orderOf(bytes32 feedId, uint64 epoch, uint256 index) external view returns (Order memory) {
        (, Slot memory s) = _load(feedId, epoch, index);
        return _external(s);
    }

    /// @notice Every order of a book, for off-chain clearing.
    /// @dev Requirements: none.
    function ordersOf(bytes32 feedId, uint64 epoch) external view returns (Order[] memory out) {
        mapping(uint256 => Slot) storage orders = _orders[feedId][epoch];
        out = new Order[](_books[feedId][epoch].orderCount);
        for (uint256 i = 0; i < out.length; ++i) {
            out[i] = _external(orders[i]);
        }
    }

    /// @notice The gate of an epoch under the market's current parameters (a book keeps its own).
    /// @dev Requirements:
    /// - the market is listed.
    function gateOf(bytes32 feedId, uint64 epoch) external view returns (uint64) {
        return _gateOf(feedId, epoch);
    }

    /// @notice The band a book opened now would get, from the epoch's final consensus.
    /// @dev Requirements:
    /// - the market is listed; the epoch's consensus is final.
    function bandOf(bytes32 feedId, uint64 epoch) external view returns (uint128 low, uint128 high, int64 consensus) {
        (uint256 r, uint256 bps, int64 value) = _reference(feedId, epoch);
        (uint256 l, uint256 h) = _band(r, bps);
        return (uint128(l), uint128(h), value);
    }

    /// @notice An account's credited, withdrawable balance.
    /// @dev Requirements: none.
    function balanceOf(address account) external view returns (uint256) {
        return _accounts[_accountOf[account]].balance;
    }

    /// @notice The liabilities the token balance covers (their sum equals the exchange's token
    /// balance): `locked` = escrow + collateral + penalties held for buyers (+ rounding dust),
    /// `balances` = credited, not yet withdrawn.
    /// @dev Requirements: none.
    function accounting() external view returns (uint256 locked, uint256 balances) {
        return (_locked, _credited);
    }

    /// @notice The token orders are escrowed and paid in.
    /// @dev Requirements: none.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The certificate contract renewable markets certify through.
    /// @dev Requirements: none.
    function certificates() external view returns (IEnergyCertificates) {
        return _certificates;
    }

    /// @notice The id of a feed's renewable market (its own parameters and books):
    /// keccak256(abi.encode(feedId, "gridcast.renewable")).
    /// @dev Requirements: none.
    function renewableMarketOf(bytes32 feedId) public pure returns (bytes32) {
        return keccak256(abi.encode(feedId, "gridcast.renewable"));
    }

    /// @inheritdoc IEnergyExchange
    function pendingRenewable(uint256 assetId, uint256 word) external view returns (uint256) {
        return _renewablePending[assetId][word];
    }

    /// @notice The certificates a renewable book holds for its buyers, one lot per delivered sell.
    /// @dev Requirements: none.
    function lotsOf(bytes32 marketId, uint64 epoch) external view returns (Lot[] memory) {
        return _lots[marketId][epoch];
    }

    /// @notice ERC-165: AccessControl and ERC-1155 receiver.
    /// @dev Requirements: none.
    function supportsInterface(bytes4 interfaceId) public view override(AccessControl, ERC1155Holder) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // ----------------------------------------------------------------------------------------- internal

    function _openBook(bytes32 feedId, uint64 epoch) private returns (Stored storage b) {
        b = _books[feedId][epoch];
        if (b.epochLength == 0) {
            (uint256 r, uint256 bps, int64 consensus) = _reference(feedId, epoch);
            Market storage m = _markets[feedId];
            uint64 start = m.genesis + epoch * m.epochLength;
            uint64 gateAt = start - m.params.gateLead;
            uint64 settleAfter = start + m.epochLength + m.params.settleWindow;
            uint64 penalty = uint64(m.params.penaltyPerWh); // < 2^64 by _list
            // the cap changes no bound: above 2^80 both clamp to 2^64 - 1 (or low is 0 at bandBps 10000)
            b.refPrice = uint80(Math.min(r, type(uint80).max));
            b.bandBps = uint16(bps); // <= BPS by _list
            b.gateAt = SafeCast.toUint40(gateAt);
            b.epochLength = m.epochLength;
            b.placePenalty = penalty;
            b.placeRenewable = m.renewableOnly;
            b.penaltyPerWh = penalty;
            b.renewable = m.renewableOnly;
            b.settleAfter = SafeCast.toUint40(settleAfter);
            (uint256 low, uint256 high) = _band(r, bps);
            emit BookOpened(feedId, epoch, consensus, uint128(low), uint128(high), penalty, gateAt, settleAfter);
        }
        if (block.timestamp >= b.gateAt) revert ExchangeGateClosed(feedId, epoch, b.gateAt);
    }

    function _push(
        bytes32 feedId,
        uint64 epoch,
        Stored storage b,
        uint256 assetId,
        uint256 volumeWh,
        uint256 limitPrice,
        bool isSell
    ) private returns (uint256 index) {
        if (volumeWh == 0) revert ExchangeZeroVolume();
        (uint256 low, uint256 high) = _band(b.refPrice, b.bandBps);
        if (limitPrice < low || limitPrice > high) revert ExchangePriceOutOfBand(limitPrice, low, high);
        index = b.orderCount;
        if (index >= MAX_ORDERS) revert ExchangeBookFull(feedId, epoch, MAX_ORDERS);
        b.orderCount = uint16(index + 1);
        // limitPrice <= bandHigh < 2^64
        _orders[feedId][epoch][index] = Slot(
            _account(msg.sender),
            SafeCast.toUint40(assetId),
            SafeCast.toUint40(volumeWh),
            uint64(limitPrice),
            isSell,
            false,
            false
        );
    }

    /// @dev The trader's account number, numbering it on its first order.
    function _account(address trader) private returns (uint32 id) {
        id = _accountOf[trader];
        if (id == 0) {
            id = ++_accountCount;
            _accountOf[trader] = id;
            _accounts[id].trader = trader;
        }
    }

    /// @dev An order and its fields; every placed order has an account number (they start at 1).
    function _load(bytes32 feedId, uint64 epoch, uint256 index) private view returns (Slot storage o, Slot memory s) {
        o = _orders[feedId][epoch][index];
        s = o;
        if (s.account == 0) revert ExchangeUnknownOrder(feedId, epoch, index);
    }

    function _external(Slot memory s) private view returns (Order memory) {
        return
            Order(_accounts[s.account].trader, s.assetId, s.settled, s.volumeWh, s.limitPrice, s.isSell, s.cancelled);
    }

    /// @dev The sell's fill as num / den Wh (an uncleared or empty book has price 0 and sellDen 0).
    function _sellFill(Stored storage b, Slot memory o) private view returns (uint256 num, uint256 den) {
        if (o.cancelled) return (0, 1);
        (uint256 price, uint256 sellNum, uint256 sellDen) = (b.price, b.sellNum, b.sellDen);
        if (o.limitPrice < price) return (o.volumeWh, 1);
        if (o.limitPrice == price && sellDen != 0) return (uint256(o.volumeWh) * sellNum, sellDen);
        return (0, 1);
    }

    /// @dev The buy's weight in the book's buy side (weights sum to `total`) and its fill rounded down.
    function _buyWeight(
        Stored storage b,
        Slot memory o
    ) private view returns (uint256 w, uint256 total, uint256 filled) {
        (uint256 volume, uint256 buyNum, uint256 buyDen) = (b.volume, b.buyNum, b.buyDen);
        if (volume == 0 || o.cancelled) return (0, 1, 0);
        uint256 price = b.price;
        uint256 scale = buyDen == 0 ? 1 : buyDen;
        total = volume * scale;
        if (o.limitPrice > price) w = uint256(o.volumeWh) * scale;
        else if (o.limitPrice == price && buyDen != 0) w = uint256(o.volumeWh) * buyNum;
        filled = w / scale;
    }

    /// @dev The reference price of an epoch's book (floored at 0), the band width and the consensus.
    function _reference(bytes32 feedId, uint64 epoch) private view returns (uint256 r, uint256 bps, int64 value) {
        Market storage m = _markets[feedId];
        if (!m.listed) revert ExchangeUnknownFeed(feedId);
        IForecastRegistry.Consensus memory c = _registry.consensusOf(m.feedId, epoch);
        if (c.finalizedAt == 0) revert ExchangeNoConsensus(feedId, epoch);
        MarketParams storage p = m.params;
        int256 ref = int256(uint256(p.basePrice)) + int256(p.slope) * (int256(c.value) - int256(p.referenceValue));
        r = ref > 0 ? uint256(ref) : 0;
        bps = p.bandBps;
        value = c.value;
    }

    /// @dev The band [r (1 - bps), r (1 + bps)], each bound clamped to uint64 (the width of prices).
    function _band(uint256 r, uint256 bps) private pure returns (uint256 low, uint256 high) {
        // r < 2^192 (uint128 + int128 x int65) and bps <= BPS (_list): no overflow, no underflow
        unchecked {
            low = Math.min((r * (BPS - bps)) / BPS, type(uint64).max);
            high = Math.min((r * (BPS + bps)) / BPS, type(uint64).max);
        }
    }

    function _gateOf(bytes32 feedId, uint64 epoch) private view returns (uint64) {
        Market storage m = _markets[feedId];
        if (!m.listed) revert ExchangeUnknownFeed(feedId);
        return m.genesis + epoch * m.epochLength - m.params.gateLead;
    }

    /// @dev Credits an account's balance (its slot also gives the trader's address).
    function _credit(uint32 account, uint256 amount, Acc memory a) private returns (address trader) {
        Account storage acc = _accounts[account];
        trader = acc.trader;
        if (amount == 0) return trader;
        acc.balance += SafeCast.toUint96(amount);
        a.credited += amount;
    }
}
