// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {RegulatedToken} from "../token/RegulatedToken.sol";
import {DayCount} from "./DayCount.sol";

/// @title BondToken
/// @notice A tokenized bond with the ERC-7092 terms and getters: one token is one bond of
/// `denomination` units of the `currency` cash token. Coupons are paid per coupon period: the issuer
/// schedules a period with a record date, funds it after the record date with exactly what the
/// supply at the record date is owed, and holders claim what their balance at the record date earns
/// (a later transfer does not move that entitlement). Funding costs the same for 10 or 10,000
/// holders. At maturity, or after an issuer call, the issuer funds the redemption and holders redeem:
/// their tokens are burnt and the principal (or the call price) is paid.
/// @dev Issuer actions need SUPPLY_ROLE. Coupon per bond and period =
/// denomination * couponRate / 10000 / couponFrequency (rate in basis points), rounded down.
contract BondToken is RegulatedToken {
    using SafeERC20 for IERC20;

    /// @notice The ERC-7092 terms, fixed at deployment.
    /// @param issueVolume Total debt in currency units, at most 2^128 - 1; a multiple of `denomination`
    /// (max bonds = issueVolume / denomination).
    /// @param couponRate Annual rate in basis points, at most 10,000; 0 for a zero-coupon bond.
    /// @param couponType 0 zero coupon, 1 fixed rate.
    /// @param couponFrequency Coupons per year (0 for a zero-coupon bond).
    /// @param dayCountBasis 0 30/360, 1 ACT/360, 2 ACT/365, 3 ACT/ACT (ICMA, per coupon period).
    /// @param callPrice Cash per bond paid if the issuer calls the bond, at most 2^128 - 1; 0 = not callable.
    /// @param callableFrom First timestamp at which the issuer may call.
    struct BondTerms {
        string name;
        string symbol;
        string isin;
        address currency;
        uint256 denomination;
        uint256 issueVolume;
        uint256 couponRate;
        uint8 couponType;
        uint256 couponFrequency;
        uint256 issueDate;
        uint256 maturityDate;
        uint8 dayCountBasis;
        uint256 callPrice;
        uint256 callableFrom;
    }

    struct CouponPeriod {
        uint40 recordDate;
        uint32 recordId;
        bool funded;
    }

    uint8 public constant ZERO_COUPON = 0;
    uint8 public constant FIXED_RATE = 1;

    IERC20 private immutable _currency;
    uint256 private immutable _denomination;
    uint256 private immutable _issueVolume;
    uint256 private immutable _couponRate;
    uint256 private immutable _couponFrequency;
    uint256 private immutable _callPrice;
    uint40 private immutable _issueDate;
    uint40 private immutable _maturityDate;
    uint40 private immutable _callableFrom;
    uint8 private immutable _couponType;
    uint8 private immutable _dayCountBasis;

    string private _isin;
    CouponPeriod[] private _periods;
    mapping(uint256 periodId => mapping(address holder => bool)) private _claimed;
    uint40 private _calledAt;
    bool private _redemptionFunded;

    /// @notice Coupon period `periodId` was scheduled with record date `recordDate` (record id `recordId`).
    event CouponPeriodScheduled(uint256 indexed periodId, uint256 recordId, uint40 recordDate, uint256 couponPerBond);
    /// @notice The issuer paid `amount` cash into the contract for coupon period `periodId`.
    event CouponFunded(uint256 indexed periodId, uint256 amount);
    /// @notice `holder`'s coupon for `periodId` (`amount` cash) was paid to `payee`.
    event CouponClaimed(uint256 indexed periodId, address indexed holder, address payee, uint256 amount);
    /// @notice The issuer called the bond at `callPrice` per bond.
    event BondCalled(uint40 calledAt, uint256 callPrice);
    /// @notice The issuer paid `amount` cash for the redemption of every outstanding bond at `price` each.
    event RedemptionFunded(uint256 price, uint256 amount);
    /// @notice `holder` redeemed `amount` bonds for `payout` cash.
    event Redeemed(address indexed holder, uint256 amount, uint256 payout);

    /// @notice A bond term is invalid; `term` names it.
    error BondTokenInvalidTerms(string term);
    /// @notice Minting `requested` bonds exceeds the `available` rest of the issue volume (maxBonds - totalSupply).
    error BondTokenIssueVolumeExceeded(uint256 requested, uint256 available);
    /// @notice The bond matured at `maturityDate`: no more minting, coupon periods or call.
    error BondTokenMatured(uint256 maturityDate);
    /// @notice The bond has not matured (matures at `maturityDate`) and was not called.
    error BondTokenNotMatured(uint256 maturityDate);
    /// @notice A zero-coupon bond has no coupon periods.
    error BondTokenZeroCoupon();
    /// @notice A coupon record date must be after the issue date and no later than maturity.
    error BondTokenInvalidCouponDate(uint40 recordDate);
    /// @notice No coupon period has id `periodId`.
    error BondTokenUnknownCouponPeriod(uint256 periodId);
    /// @notice The record date `recordDate` of coupon period `periodId` has not passed.
    error BondTokenRecordDateNotReached(uint256 periodId, uint40 recordDate);
    /// @notice Coupon period `periodId` is already funded.
    error BondTokenCouponAlreadyFunded(uint256 periodId);
    /// @notice Coupon period `periodId` is not funded yet.
    error BondTokenCouponNotFunded(uint256 periodId);
    /// @notice Coupon period `periodId`'s record date is after the call: it will not be paid.
    error BondTokenCouponCancelled(uint256 periodId);
    /// @notice `holder` already claimed its coupon for `periodId`.
    error BondTokenCouponAlreadyClaimed(uint256 periodId, address holder);
    /// @notice `holder` held no bonds at the record date of `periodId`.
    error BondTokenNothingToClaim(uint256 periodId, address holder);
    /// @notice The bond has no call option.
    error BondTokenNotCallable();
    /// @notice The bond may not be called before `callableFrom`.
    error BondTokenCallNotAllowedYet(uint256 callableFrom);
    /// @notice The bond was already called.
    error BondTokenAlreadyCalled();
    /// @notice The redemption is already funded.
    error BondTokenRedemptionAlreadyFunded();
    /// @notice The issuer has not funded the redemption yet.
    error BondTokenRedemptionNotFunded();
    /// @notice A redemption of zero bonds.
    error BondTokenNothingToRedeem(address holder);

    /// @param admin Receives every role (see {RegulatedToken}).
    /// @param identityRegistry_ The identity registry (kyc mode).
    /// @param kyc True for kyc mode, false for open mode.
    constructor(BondTerms memory terms, address admin, address identityRegistry_, bool kyc)
        RegulatedToken(terms.name, terms.symbol, admin, identityRegistry_, kyc)
    {
        if (terms.currency.code.length == 0) revert BondTokenInvalidTerms("currency");
        if (terms.denomination == 0) revert BondTokenInvalidTerms("denomination");
        // Bounded so that no coupon, redemption or accrued-interest product can overflow.
        if (terms.issueVolume == 0 || terms.issueVolume > type(uint128).max || terms.issueVolume % terms.denomination != 0) {
            revert BondTokenInvalidTerms("issueVolume");
        }
        if (terms.maturityDate <= terms.issueDate || terms.maturityDate > type(uint40).max) {
            revert BondTokenInvalidTerms("maturityDate");
        }
        if (terms.couponType == ZERO_COUPON) {
            if (terms.couponRate != 0 || terms.couponFrequency != 0) revert BondTokenInvalidTerms("coupon");
        } else if (
            terms.couponType != FIXED_RATE || terms.couponRate == 0 || terms.couponRate > 10_000
                || terms.couponFrequency == 0
        ) {
            revert BondTokenInvalidTerms("coupon");
        }
        if (terms.dayCountBasis > DayCount.ACT_ACT) revert BondTokenInvalidTerms("dayCountBasis");
        if (terms.callPrice > type(uint128).max) revert BondTokenInvalidTerms("callPrice");
        if (terms.callPrice != 0 && terms.callableFrom >= terms.maturityDate) revert BondTokenInvalidTerms("callableFrom");
        _currency = IERC20(terms.currency);
        _denomination = terms.denomination;
        _issueVolume = terms.issueVolume;
        _couponRate = terms.couponRate;
        _couponFrequency = terms.couponFrequency;
        _callPrice = terms.callPrice;
        _issueDate = uint40(terms.issueDate); // below maturityDate, checked to fit
        _maturityDate = uint40(terms.maturityDate);
        _callableFrom = terms.callPrice != 0 ? uint40(terms.callableFrom) : 0; // callable: below maturityDate
        _couponType = terms.couponType;
        _dayCountBasis = terms.dayCountBasis;
        _isin = terms.isin;
    }

    // ================================================================ ERC-7092 terms

    /// @notice The bond's ISIN.
    function isin() public view virtual returns (string memory) {
        return _isin;
    }

    /// @notice The cash token in which the principal is paid and returned.
    function currency() public view virtual returns (address) {
        return address(_currency);
    }

    /// @notice The cash token in which coupons are paid (the same as {currency}).
    function currencyOfCoupon() public view virtual returns (address) {
        return address(_currency);
    }

    /// @notice Cash units per bond.
    function denomination() public view virtual returns (uint256) {
        return _denomination;
    }

    /// @notice Total debt that may be issued, in cash units.
    function issueVolume() public view virtual returns (uint256) {
        return _issueVolume;
    }

    /// @notice Annual coupon rate in basis points.
    function couponRate() public view virtual returns (uint256) {
        return _couponRate;
    }

    /// @notice 0 zero coupon, 1 fixed rate.
    function couponType() public view virtual returns (uint8) {
        return _couponType;
    }

    /// @notice Coupons per year.
    function couponFrequency() public view virtual returns (uint256) {
        return _couponFrequency;
    }

    /// @notice Issue date (Unix timestamp).
    function issueDate() public view virtual returns (uint256) {
        return _issueDate;
    }

    /// @notice Maturity date (Unix timestamp).
    function maturityDate() public view virtual returns (uint256) {
        return _maturityDate;
    }

    /// @notice 0 30/360, 1 ACT/360, 2 ACT/365, 3 ACT/ACT.
    function dayCountBasis() public view virtual returns (uint8) {
        return _dayCountBasis;
    }

    /// @notice The principal held by `account`, in cash units.
    function principalOf(address account) public view virtual returns (uint256) {
        return balanceOf(account) * _denomination;
    }

    /// @notice The largest supply: issue volume / denomination.
    function maxBonds() public view virtual returns (uint256) {
        return _issueVolume / _denomination;
    }

    /// @notice Cash paid per bond for each coupon period.
    function couponPerBond() public view virtual returns (uint256) {
        if (_couponType == ZERO_COUPON) return 0;
        return _denomination * _couponRate / 10000 / _couponFrequency;
    }

    /// @notice Cash per bond if the issuer calls (0 = not callable).
    function callPrice() public view virtual returns (uint256) {
        return _callPrice;
    }

    /// @notice First timestamp at which the issuer may call.
    function callableFrom() public view virtual returns (uint256) {
        return _callableFrom;
    }

    /// @notice When the issuer called the bond; 0 if it did not.
    function calledAt() public view virtual returns (uint256) {
        return _calledAt;
    }

    // ================================================================ coupons

    /// @notice How many coupon periods were scheduled (ids run from 0).
    function couponPeriodCount() public view virtual returns (uint256) {
        return _periods.length;
    }

    /// @notice Coupon period `periodId`: its record date, record id and whether it is funded.
    function couponPeriod(uint256 periodId)
        public
        view
        virtual
        returns (uint40 recordDate_, uint256 recordId, bool funded)
    {
        CouponPeriod memory period = _period(periodId);
        return (period.recordDate, period.recordId, period.funded);
    }

    /// @notice The cash `account` would receive by claiming coupon `periodId` now (0 if the period is not
    /// funded or `account` already claimed).
    function claimableCoupon(uint256 periodId, address account) public view virtual returns (uint256) {
        CouponPeriod memory period = _period(periodId);
        if (!period.funded || _claimed[periodId][account]) return 0;
        return balanceAtRecord(account, period.recordId) * couponPerBond();
    }

    /// @notice Interest accrued per bond at `timestamp` since the last coupon record date (or the issue
    /// date) under the bond's day-count basis; accrual stops at maturity or at the call.
    function accruedInterest(uint256 timestamp) public view virtual returns (uint256) {
        if (_couponType == ZERO_COUPON) return 0;
        uint256 end = _calledAt != 0 ? _calledAt : _maturityDate;
        if (timestamp < end) end = timestamp;
        uint256 start = _issueDate;
        if (end <= start) return 0;
        uint256 next = _maturityDate;
        for (uint256 i = _periods.length; i > 0; --i) {
            uint256 date = _periods[i - 1].recordDate;
            if (date <= end) {
                start = date;
                break;
            }
            next = date;
        }
        uint8 basis = _dayCountBasis;
        if (basis == DayCount.ACT_ACT) {
            uint256 periodDays = DayCount.actualDays(start, next);
            return periodDays == 0 ? 0 : couponPerBond() * DayCount.actualDays(start, end) / periodDays;
        }
        uint256 elapsed = basis == DayCount.THIRTY_360 ? DayCount.days360(start, end) : DayCount.actualDays(start, end);
        uint256 year = basis == DayCount.ACT_365 ? 365 : 360;
        return _denomination * _couponRate * elapsed / (10000 * year);
    }

    /// @notice Schedule a coupon period whose entitlement is fixed at `recordDate` (SUPPLY_ROLE).
    function scheduleCouponPeriod(uint40 recordDate_) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 periodId) {
        if (_couponType == ZERO_COUPON) revert BondTokenZeroCoupon();
        if (_calledAt != 0) revert BondTokenAlreadyCalled();
        if (recordDate_ <= _issueDate || recordDate_ > _maturityDate) revert BondTokenInvalidCouponDate(recordDate_);
        uint256 recordId = _scheduleRecordDate(recordDate_);
        periodId = _periods.length;
        // _scheduleRecordDate caps record ids well below 2**32.
        _periods.push(CouponPeriod({recordDate: recordDate_, recordId: uint32(recordId), funded: false}));
        emit CouponPeriodScheduled(periodId, recordId, recordDate_, couponPerBond());
    }

    /// @notice Pay into the contract the coupons of period `periodId`: supply at the record date times
    /// the coupon per bond, taken from the caller in the cash token (approve it first). SUPPLY_ROLE.
    function fundCoupon(uint256 periodId) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        CouponPeriod storage period = _periodStorage(periodId);
        if (period.funded) revert BondTokenCouponAlreadyFunded(periodId);
        uint40 date = period.recordDate;
        if (date > block.timestamp) revert BondTokenRecordDateNotReached(periodId, date);
        if (_calledAt != 0 && date > _calledAt) revert BondTokenCouponCancelled(periodId);
        period.funded = true;
        amount = totalSupplyAtRecord(period.recordId) * couponPerBond();
        emit CouponFunded(periodId, amount);
        _currency.safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @notice Claim the caller's coupon for `periodId`.
    function claimCoupon(uint256 periodId) public virtual returns (uint256) {
        return _claimCoupon(periodId, _msgSender());
    }

    /// @notice Claim `holder`'s coupon for `periodId` on its behalf; the cash goes to `holder` (or to the
    /// wallet it was recovered to), never to the caller.
    function claimCouponFor(uint256 periodId, address holder) public virtual returns (uint256) {
        return _claimCoupon(periodId, holder);
    }

    // ================================================================ call and redemption

    /// @notice Call the bond before maturity at the call price (SUPPLY_ROLE). Holders then redeem at
    /// the call price once the issuer funds the redemption.
    function callBond() public virtual onlyRole(SUPPLY_ROLE) {
        if (_callPrice == 0) revert BondTokenNotCallable();
        if (_calledAt != 0) revert BondTokenAlreadyCalled();
        if (block.timestamp < _callableFrom) revert BondTokenCallNotAllowedYet(_callableFrom);
        if (block.timestamp >= _maturityDate) revert BondTokenMatured(_maturityDate);
        _calledAt = SafeCast.toUint40(block.timestamp);
        emit BondCalled(_calledAt, _callPrice);
    }

    /// @notice Cash paid per bond on redemption: the call price once called, else the denomination.
    function redemptionPrice() public view virtual returns (uint256) {
        return _calledAt != 0 ? _callPrice : _denomination;
    }

    /// @notice Whether the issuer funded the redemption.
    function redemptionFunded() public view virtual returns (bool) {
        return _redemptionFunded;
    }

    /// @notice Pay into the contract the redemption of every outstanding bond (SUPPLY_ROLE), after
    /// maturity or a call, taken from the caller in the cash token (approve it first).
    function fundRedemption() public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        _requireRedeemable();
        if (_redemptionFunded) revert BondTokenRedemptionAlreadyFunded();
        _redemptionFunded = true;
        uint256 price = redemptionPrice();
        amount = totalSupply() * price;
        emit RedemptionFunded(price, amount);
        _currency.safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @notice Redeem `amount` of the caller's bonds: they are burnt and the redemption price paid.
    /// Respects pause, the caller's eligibility and its frozen amount.
    function redeem(uint256 amount) public virtual returns (uint256 payout) {
        if (!_redemptionFunded) revert BondTokenRedemptionNotFunded();
        address holder = _msgSender();
        if (amount == 0) revert BondTokenNothingToRedeem(holder);
        _holderBurn(holder, amount);
        payout = amount * redemptionPrice();
        emit Redeemed(holder, amount, payout);
        _currency.safeTransfer(holder, payout);
    }

    // ================================================================ internals

    /// @dev No issuance after maturity or a call, and never above the issue volume.
    function _mint(address to, uint256 value) internal virtual override {
        if (block.timestamp >= _maturityDate) revert BondTokenMatured(_maturityDate);
        if (_calledAt != 0) revert BondTokenAlreadyCalled();
        // The supply never exceeds maxBonds.
        uint256 available = maxBonds() - totalSupply();
        if (value > available) revert BondTokenIssueVolumeExceeded(value, available);
        super._mint(to, value);
    }

    function _claimCoupon(uint256 periodId, address holder) internal virtual returns (uint256 amount) {
        CouponPeriod memory period = _period(periodId);
        if (!period.funded) revert BondTokenCouponNotFunded(periodId);
        if (_claimed[periodId][holder]) revert BondTokenCouponAlreadyClaimed(periodId, holder);
        amount = balanceAtRecord(holder, period.recordId) * couponPerBond();
        if (amount == 0) revert BondTokenNothingToClaim(periodId, holder);
        _claimed[periodId][holder] = true;
        address payee = _payee(holder);
        emit CouponClaimed(periodId, holder, payee, amount);
        _currency.safeTransfer(payee, amount);
    }

    function _requireRedeemable() internal view virtual {
        if (_calledAt == 0 && block.timestamp < _maturityDate) revert BondTokenNotMatured(_maturityDate);
    }

    function _period(uint256 periodId) private view returns (CouponPeriod memory) {
        return _periodStorage(periodId);
    }

    function _periodStorage(uint256 periodId) private view returns (CouponPeriod storage) {
        if (periodId >= _periods.length) revert BondTokenUnknownCouponPeriod(periodId);
        return _periods[periodId];
    }
}
