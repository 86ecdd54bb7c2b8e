// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {RegulatedToken} from "../token/RegulatedToken.sol";
import {TokenAccount, TokenConfig} from "../token/TokenPacking.sol";

/// @title StockToken
/// @notice Tokenized shares (one token = one share) with cash dividends, splits and reverse splits,
/// and balance snapshots at record dates.
///
/// Dividends: the issuer declares a dividend with a record date and pays the whole amount in the cash
/// token at declaration; after the record date each holder claims its pro-rata part of what it held at
/// the record date (a later transfer does not move that entitlement). Payments follow the policy of
/// {RegulatedToken}: none while paused, withheld while the wallet to be paid could not send the token,
/// paid once it is cleared; on behalf of a holder, claims are made by the wallet to be paid or by the
/// paying agent (SUPPLY_ROLE).
///
/// Claim period: fixed at deployment (0 = none, else at least a year). A dividend can be claimed
/// from its record date until the record date plus the claim period; then the issuer may sweep what is
/// left back to the account that declared it. Before that, only a dividend that nobody can ever claim
/// may be swept: one whose record date passed with no shares outstanding. Rounding dust (each holder's
/// part is rounded down) stays claimable-in-principle until the deadline and is swept with the rest.
///
/// Splits never touch holders' storage: balances are kept in raw units and a share is
/// {rawUnitsPerShare} raw units. A split of `numerator` for `denominator` divides that scale by
/// numerator / denominator, so every balance, frozen amount, investor limit and the supply scale at
/// once, in constant gas. A split is only accepted when the new scale is a whole number, and then it
/// is exact: a forward split n-for-1 multiplies every balance by exactly n. The initial scale,
/// {INITIAL_RAW_UNITS_PER_SHARE} = 2^12 * 3^6 * 5^4 * 7^2 * 11 * 13, allows for example twelve
/// successive 2-for-1 splits, or four 10-for-1 splits, or a 3-for-2 split. A reverse split (or any
/// split whose ratio is below one) always succeeds; holders whose raw balance is not a whole number of
/// new shares keep the fraction as raw units: it shows in no balance (balances round down, so
/// `totalSupply() - sum of balanceOf` stays below the number of holders), it cannot be transferred,
/// but it still earns dividends (which are paid per raw unit) and becomes whole shares again after a
/// matching forward split. Allowances are in shares and are not rescaled by a split.
/// @dev Issuer actions (dividends, splits) need SUPPLY_ROLE.
contract StockToken is RegulatedToken {
    using SafeERC20 for IERC20;
    using TokenConfig for uint256;

    /// @notice Raw units per share at deployment (highly composite, so that common splits are exact).
    uint256 public constant INITIAL_RAW_UNITS_PER_SHARE = 13_076_743_680_000;

    /// @dev Two storage slots; `owed` is the cash neither claimed nor swept yet.
    struct Dividend {
        uint40 recordDate;
        uint16 recordId;
        address declarer;
        uint128 amount;
        uint128 owed;
    }

    uint256 private constant _MIN_CLAIM_PERIOD = 365 days;

    IERC20 private immutable _currency;
    uint40 private immutable _claimPeriod;
    uint256 private _scale;
    /// @dev Split history: bits 0-15 the record epoch when the split happened, above that the new scale.
    uint256[] private _splits;
    Dividend[] private _dividends;
    mapping(uint256 dividendId => mapping(address holder => bool)) private _claimed;

    /// @notice Shares were split `numerator` for `denominator`; the total supply is now `newTotalSupply` shares.
    event StockSplit(uint256 numerator, uint256 denominator, uint256 newTotalSupply);
    /// @notice Dividend `dividendId` of `amount` cash, paid in, goes to holders at `recordDate` (record id `recordId`).
    event DividendDeclared(uint256 indexed dividendId, uint256 recordId, uint40 recordDate, uint256 amount);
    /// @notice `holder`'s part of dividend `dividendId` (`amount` cash) was paid to `payee`.
    event DividendClaimed(uint256 indexed dividendId, address indexed holder, address payee, uint256 amount);
    /// @notice What nobody can claim any more of dividend `dividendId` (`amount`) went back to `declarer`.
    event DividendSwept(uint256 indexed dividendId, address indexed declarer, uint256 amount);

    /// @notice The dividend currency must be a contract.
    error StockTokenInvalidCurrency(address currency);
    /// @notice A split needs two non-zero different numbers of at most 32 bits, and a resulting scale of at most 80 bits.
    error StockTokenInvalidSplit(uint256 numerator, uint256 denominator);
    /// @notice `numerator` for `denominator` does not divide the current `rawUnitsPerShare` exactly.
    error StockTokenInexactSplit(uint256 numerator, uint256 denominator, uint256 rawUnitsPerShare);
    /// @notice A dividend of zero.
    error StockTokenZeroDividend();
    /// @notice A dividend above 2^128 - 1 cash units.
    error StockTokenDividendTooLarge(uint256 amount);
    /// @notice The claim period must be 0 (none) or at least a year (and fit 40 bits).
    error StockTokenInvalidClaimPeriod(uint256 claimPeriod);
    /// @notice The claim period of dividend `dividendId` ended at `deadline`.
    error StockTokenDividendExpired(uint256 dividendId, uint256 deadline);
    /// @notice Nothing of dividend `dividendId` can be swept: what is left is still claimable.
    error StockTokenNothingToSweep(uint256 dividendId);
    /// @notice No dividend has id `dividendId`.
    error StockTokenUnknownDividend(uint256 dividendId);
    /// @notice The record date `recordDate` of dividend `dividendId` has not passed.
    error StockTokenRecordDateNotReached(uint256 dividendId, uint40 recordDate);
    /// @notice `holder` already claimed dividend `dividendId`.
    error StockTokenDividendAlreadyClaimed(uint256 dividendId, address holder);
    /// @notice `holder` is owed nothing from dividend `dividendId`.
    error StockTokenNothingToClaim(uint256 dividendId, address holder);

    /// @param currency_ The cash token dividends are paid in.
    /// @param admin Receives every role (see {RegulatedToken}).
    /// @param claimPeriod_ Seconds a dividend stays claimable after its record date; 0 = forever, else at
    /// least 365 days.
    constructor(
        string memory name_,
        string memory symbol_,
        address currency_,
        address admin,
        address identityRegistry_,
        bool kyc,
        uint256 claimPeriod_
    ) RegulatedToken(name_, symbol_, admin, identityRegistry_, kyc) {
        if (currency_.code.length == 0) revert StockTokenInvalidCurrency(currency_);
        if (claimPeriod_ != 0 && (claimPeriod_ < _MIN_CLAIM_PERIOD || claimPeriod_ > type(uint40).max)) {
            revert StockTokenInvalidClaimPeriod(claimPeriod_);
        }
        _currency = IERC20(currency_);
        _claimPeriod = uint40(claimPeriod_);
        _scale = INITIAL_RAW_UNITS_PER_SHARE;
    }

    // ================================================================ views

    /// @notice The cash token dividends are paid in.
    function currency() public view virtual returns (address) {
        return address(_currency);
    }

    /// @notice Raw storage units per share now (changes with each split).
    function rawUnitsPerShare() public view virtual returns (uint256) {
        return _scale;
    }

    /// @notice `account`'s balance in raw units, fractions of a share included.
    function rawBalanceOf(address account) public view virtual returns (uint256) {
        return _rawBalance(account);
    }

    /// @notice The total supply in raw units.
    function rawTotalSupply() public view virtual returns (uint256) {
        return _rawTotalSupply();
    }

    /// @notice How many dividends were declared (ids run from 0).
    function dividendCount() public view virtual returns (uint256) {
        return _dividends.length;
    }

    /// @notice Seconds a dividend stays claimable after its record date (0 = no deadline).
    function claimPeriod() public view virtual returns (uint256) {
        return _claimPeriod;
    }

    /// @notice Dividend `dividendId`: record date, record id, total cash amount, and the cash neither
    /// claimed nor swept yet.
    function dividend(uint256 dividendId)
        public
        view
        virtual
        returns (uint40 recordDate_, uint256 recordId, uint256 amount, uint256 outstanding)
    {
        Dividend memory d = _dividend(dividendId);
        return (d.recordDate, d.recordId, d.amount, d.owed);
    }

    /// @notice The cash owed to `account` for dividend `dividendId` (0 before the record date, after the
    /// claim period, or once claimed). A payment withheld (see {claimDividend}) is still owed.
    function claimableDividend(uint256 dividendId, address account) public view virtual returns (uint256) {
        Dividend memory d = _dividend(dividendId);
        if (d.recordDate > block.timestamp || block.timestamp >= _deadline(d) || _claimed[dividendId][account]) {
            return 0;
        }
        (uint256 raw,) = _rawBalanceAtRecord(account, d.recordId);
        return _share(d, raw);
    }

    /// @notice The cash of dividend `dividendId` that the issuer may sweep now: all that is left once
    /// the claim period ended, or once the record date passed with no shares outstanding; else 0.
    function sweepableDividend(uint256 dividendId) public view virtual returns (uint256) {
        Dividend memory d = _dividend(dividendId);
        if (d.recordDate > block.timestamp) return 0;
        if (block.timestamp < _deadline(d) && _rawSupplyAtRecord(d.recordId) != 0) return 0;
        return d.owed;
    }

    // ================================================================ issuer actions

    /// @notice Split the shares `numerator` for `denominator` (2, 1 doubles every balance; 1, 10 is a
    /// 1-for-10 reverse split). SUPPLY_ROLE. See the contract documentation for rounding.
    function split(uint256 numerator, uint256 denominator) public virtual onlyRole(SUPPLY_ROLE) {
        if (
            numerator == 0 || denominator == 0 || numerator == denominator || numerator > type(uint32).max
                || denominator > type(uint32).max
        ) revert StockTokenInvalidSplit(numerator, denominator);
        uint256 scaled = _scale * denominator;
        if (scaled % numerator != 0) revert StockTokenInexactSplit(numerator, denominator, _scale);
        uint256 newScale = scaled / numerator;
        if (newScale > TokenAccount.MAX_AMOUNT) revert StockTokenInvalidSplit(numerator, denominator);
        // Record dates that have not passed yet will see the new scale.
        uint256 epoch = _syncRecordEpoch().epoch();
        _splits.push(epoch | (newScale << 16));
        _scale = newScale;
        emit StockSplit(numerator, denominator, totalSupply());
    }

    /// @notice Declare a dividend of `amount` cash for holders at `recordDate`, paid in now by the caller
    /// (approve the cash token first). SUPPLY_ROLE.
    function declareDividend(uint40 recordDate_, uint256 amount)
        public
        virtual
        onlyRole(SUPPLY_ROLE)
        returns (uint256 dividendId)
    {
        if (amount == 0) revert StockTokenZeroDividend();
        if (amount > type(uint128).max) revert StockTokenDividendTooLarge(amount);
        uint256 recordId = _scheduleRecordDate(recordDate_);
        dividendId = _dividends.length;
        // _scheduleRecordDate caps record ids below 2**15; the amount was checked to fit.
        _dividends.push(
            Dividend({
                recordDate: recordDate_,
                recordId: uint16(recordId),
                declarer: _msgSender(),
                amount: uint128(amount),
                owed: uint128(amount)
            })
        );
        emit DividendDeclared(dividendId, recordId, recordDate_, amount);
        _currency.safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @notice Claim the caller's part of dividend `dividendId`, paid to the caller or to the wallet the
    /// caller was recovered to. Not while paused; withheld ({RegulatedTokenPaymentWithheld}) while that
    /// wallet could not send the token.
    function claimDividend(uint256 dividendId) public virtual returns (uint256) {
        return _claimDividend(dividendId, _msgSender(), false);
    }

    /// @notice Claim `holder`'s part of dividend `dividendId` on its behalf; the cash goes to `holder` (or
    /// to the wallet it was recovered to), never to the caller. Only that wallet or the paying agent
    /// (SUPPLY_ROLE) may call it.
    function claimDividendFor(uint256 dividendId, address holder) public virtual returns (uint256) {
        return _claimDividend(dividendId, holder, true);
    }

    /// @notice Return {sweepableDividend} to the account that declared the dividend (SUPPLY_ROLE; not
    /// while paused). Returns the amount.
    function sweepDividend(uint256 dividendId) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        if (paused()) revert EnforcedPause();
        amount = sweepableDividend(dividendId);
        if (amount == 0) revert StockTokenNothingToSweep(dividendId);
        Dividend storage d = _dividends[dividendId];
        d.owed = 0;
        address declarer = d.declarer;
        emit DividendSwept(dividendId, declarer, amount);
        _currency.safeTransfer(declarer, amount);
    }

    // ================================================================ internals

    function _claimDividend(uint256 dividendId, address holder, bool onBehalf) internal virtual returns (uint256 amount) {
        Dividend memory d = _dividend(dividendId);
        if (d.recordDate > block.timestamp) revert StockTokenRecordDateNotReached(dividendId, d.recordDate);
        uint256 deadline = _deadline(d);
        if (block.timestamp >= deadline) revert StockTokenDividendExpired(dividendId, deadline);
        if (_claimed[dividendId][holder]) revert StockTokenDividendAlreadyClaimed(dividendId, holder);
        (uint256 raw, uint32 investor) = _rawBalanceAtRecord(holder, d.recordId);
        amount = _share(d, raw);
        if (amount == 0) revert StockTokenNothingToClaim(dividendId, holder);
        address payee = _payee(holder, investor, onBehalf);
        _claimed[dividendId][holder] = true;
        // The shares of all holders add up to at most the amount: no underflow.
        _dividends[dividendId].owed = d.owed - uint128(amount);
        emit DividendClaimed(dividendId, holder, payee, amount);
        _currency.safeTransfer(payee, amount);
    }

    /// @dev The part of dividend `d` earned by `raw` units held at the record date: pro rata of raw
    /// units, so that fractions of shares count too (rounded down).
    function _share(Dividend memory d, uint256 raw) private view returns (uint256) {
        uint256 supply = _rawSupplyAtRecord(d.recordId);
        return supply == 0 ? 0 : Math.mulDiv(raw, d.amount, supply);
    }

    /// @dev When dividend `d` stops being claimable.
    function _deadline(Dividend memory d) private view returns (uint256) {
        return _claimPeriod == 0 ? type(uint256).max : uint256(d.recordDate) + _claimPeriod;
    }

    function _dividend(uint256 dividendId) private view returns (Dividend memory) {
        if (dividendId >= _dividends.length) revert StockTokenUnknownDividend(dividendId);
        return _dividends[dividendId];
    }

    /// @dev Saturates instead of overflowing (views must not revert); anything above the storage cap
    /// fails the balance or supply checks anyway.
    function _toRaw(uint256 amount) internal view virtual override returns (uint256) {
        return amount > TokenAccount.MAX_AMOUNT ? type(uint256).max : amount * _scale;
    }

    function _fromRaw(uint256 raw) internal view virtual override returns (uint256) {
        return raw / _scale;
    }

    /// @dev The scale in force at the record date: that of the last split made before the date passed.
    function _fromRawAtRecord(uint256 raw, uint256 recordId) internal view virtual override returns (uint256) {
        uint256 scale = INITIAL_RAW_UNITS_PER_SHARE;
        for (uint256 i = _splits.length; i > 0; --i) {
            uint256 entry = _splits[i - 1];
            if (entry & 0xffff <= recordId) {
                scale = entry >> 16;
                break;
            }
        }
        return raw / scale;
    }
}
