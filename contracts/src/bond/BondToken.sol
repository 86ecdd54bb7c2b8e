// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {RegulatedToken} from "../token/RegulatedToken.sol";
import {BondCalendar} from "./BondCalendar.sol";
import {DayCount} from "./DayCount.sol";
import {IERC7092, IERC7092ESG} from "./IERC7092.sol";

/// @title BondToken
/// @notice A tokenized bond implementing ERC-7092 (with its optional parameters interface): one token
/// is one bond of `denomination` units of the `currency` cash token. Coupons are paid per coupon
/// period: the issuer schedules a period with a record date, funds it after the record date with
/// exactly what the supply at the record date is owed, and holders claim what their balance at the
/// record date earns (a later transfer does not move that entitlement). Funding costs the same for 10
/// or 10,000 holders. At maturity, or after an issuer call, the issuer funds the redemption and holders
/// redeem: their tokens are burnt and the principal (or the call price) is paid.
///
/// Payments (coupons and principal alike) follow one policy, that of {RegulatedToken}: nothing is
/// paid while the token is paused; a payment to a wallet that could not send the token (frozen, all
/// its tokens frozen, KYC expired or revoked, unknown, or re-linked) is withheld and made once the
/// wallet is cleared; if only the wallet is the problem, the enforcement agent recovers it to a
/// verified wallet of the same investor, which then receives both the bonds and the coupons earned.
///
/// Claim period: a term fixed at deployment (0 = none, else at least a year, like a prescription
/// period). A coupon can be claimed until its funding time plus the claim period, the principal until
/// the redemption's funding time plus the claim period; withheld payments too. After that the issuer
/// may sweep what is left back to the account that paid it in. Before that, only cash that nobody can
/// ever claim may be swept: the redemption money of bonds burnt after the redemption was funded.
/// @dev Issuer actions need SUPPLY_ROLE. Coupon per bond and period =
/// denomination * couponRate / 10000 / couponFrequency (rate in basis points), rounded down.
contract BondToken is RegulatedToken, IERC7092, IERC7092ESG {
    using SafeERC20 for IERC20;

    /// @notice The ERC-7092 terms, fixed at deployment.
    /// @param issueVolume Total debt in currency units, at most 2^128 - 1; a multiple of `denomination`
    /// (max bonds = issueVolume / denomination).
    /// @param couponRate Annual rate in basis points, at most 10,000; 0 for a zero-coupon bond.
    /// @param couponType 0 zero coupon, 1 fixed rate.
    /// @param couponFrequency Coupons per year: 1, 2, 3, 4, 6 or 12 (0 for a zero-coupon bond). The
    /// regular coupon dates fall every 12 / couponFrequency months, counted back from the maturity date.
    /// @param dayCountBasis 0 30/360, 1 ACT/360, 2 ACT/365, 3 ACT/ACT (ICMA, per regular coupon period).
    /// @param callPrice Cash per bond paid if the issuer calls the bond, at most 2^128 - 1; 0 = not callable.
    /// @param callableFrom First timestamp at which the issuer may call.
    /// @param claimPeriod Seconds a funded coupon or redemption stays claimable; 0 = forever, else at
    /// least 365 days.
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
        uint256 claimPeriod;
    }

    /// @dev One storage slot; `fundedAt` 0 = not funded.
    struct CouponPeriod {
        uint40 recordDate;
        uint16 recordId;
        uint40 fundedAt;
        address funder;
    }

    uint8 public constant ZERO_COUPON = 0;
    uint8 public constant FIXED_RATE = 1;
    uint256 private constant _MIN_CLAIM_PERIOD = 365 days;

    IERC20 private immutable _currency;
    BondCalendar private immutable _calendar;
    uint256 private immutable _denomination;
    uint256 private immutable _issueVolume;
    uint256 private immutable _couponRate;
    uint256 private immutable _couponFrequency;
    uint256 private immutable _callPrice;
    uint40 private immutable _issueDate;
    uint40 private immutable _maturityDate;
    uint40 private immutable _callableFrom;
    uint40 private immutable _claimPeriod;
    uint8 private immutable _couponType;
    uint8 private immutable _dayCountBasis;

    string private _isin;
    CouponPeriod[] private _periods;
    /// @dev Cash of each funded period not yet claimed or swept.
    mapping(uint256 periodId => uint256) private _couponOwed;
    mapping(uint256 periodId => mapping(address holder => bool)) private _claimed;
    uint40 private _calledAt;
    uint40 private _redemptionFundedAt;
    address private _redemptionFunder;
    /// @dev Redemption cash not yet paid or swept.
    uint256 private _redemptionOwed;

    /// @notice Coupon period `periodId` was scheduled with record date `recordDate` (record id `recordId`).
    event CouponPeriodScheduled(uint256 indexed periodId, uint256 recordId, uint40 recordDate, uint256 couponPerBond);
    /// @notice The issuer paid `amount` cash into the contract for coupon period `periodId`.
    event CouponFunded(uint256 indexed periodId, uint256 amount);
    /// @notice `holder`'s coupon for `periodId` (`amount` cash) was paid to `payee`.
    event CouponClaimed(uint256 indexed periodId, address indexed holder, address payee, uint256 amount);
    /// @notice What was left of coupon period `periodId` after its claim period (`amount`) went back to `funder`.
    event CouponSwept(uint256 indexed periodId, address indexed funder, uint256 amount);
    /// @notice The issuer called the bond at `callPrice` per bond.
    event BondCalled(uint40 calledAt, uint256 callPrice);
    /// @notice The issuer paid `amount` cash for the redemption of every outstanding bond at `price` each.
    event RedemptionFunded(uint256 price, uint256 amount);
    /// @notice `holder` redeemed `amount` bonds for `payout` cash.
    event Redeemed(address indexed holder, uint256 amount, uint256 payout);
    /// @notice Redemption cash that nobody can claim any more (`amount`) went back to `funder`.
    event RedemptionSwept(address indexed funder, uint256 amount);

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
    /// @notice The claim period of coupon period `periodId` ended at `deadline`.
    error BondTokenCouponExpired(uint256 periodId, uint256 deadline);
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
    /// @notice The claim period of the redemption ended at `deadline`.
    error BondTokenRedemptionExpired(uint256 deadline);
    /// @notice A redemption of zero bonds.
    error BondTokenNothingToRedeem(address holder);
    /// @notice Nothing can be swept: all the cash left is still claimable.
    error BondTokenNothingToSweep();
    /// @notice Lowering `spender`'s allowance of `currentAllowance` by `requestedDecrease` would go below zero.
    error BondTokenAllowanceBelowZero(address spender, uint256 currentAllowance, uint256 requestedDecrease);

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
                || terms.couponFrequency == 0 || terms.couponFrequency > 12 || 12 % terms.couponFrequency != 0
        ) {
            revert BondTokenInvalidTerms("coupon");
        }
        if (terms.dayCountBasis > DayCount.ACT_ACT) revert BondTokenInvalidTerms("dayCountBasis");
        if (terms.callPrice > type(uint128).max) revert BondTokenInvalidTerms("callPrice");
        if (terms.callPrice != 0 && terms.callableFrom >= terms.maturityDate) revert BondTokenInvalidTerms("callableFrom");
        if (terms.claimPeriod != 0 && (terms.claimPeriod < _MIN_CLAIM_PERIOD || terms.claimPeriod > type(uint40).max)) {
            revert BondTokenInvalidTerms("claimPeriod");
        }
        _currency = IERC20(terms.currency);
        _calendar = new BondCalendar();
        _denomination = terms.denomination;
        _issueVolume = terms.issueVolume;
        _couponRate = terms.couponRate;
        _couponFrequency = terms.couponFrequency;
        _callPrice = terms.callPrice;
        _issueDate = uint40(terms.issueDate); // below maturityDate, checked to fit
        _maturityDate = uint40(terms.maturityDate);
        _callableFrom = terms.callPrice != 0 ? uint40(terms.callableFrom) : 0; // callable: below maturityDate
        _claimPeriod = uint40(terms.claimPeriod);
        _couponType = terms.couponType;
        _dayCountBasis = terms.dayCountBasis;
        _isin = terms.isin;
    }

    // ================================================================ ERC-7092 terms

    /// @inheritdoc IERC7092
    function isin() public view virtual returns (string memory) {
        return _isin;
    }

    /// @inheritdoc IERC7092
    function name() public view virtual override(RegulatedToken, IERC7092) returns (string memory) {
        return super.name();
    }

    /// @inheritdoc IERC7092
    function symbol() public view virtual override(RegulatedToken, IERC7092) returns (string memory) {
        return super.symbol();
    }

    /// @inheritdoc IERC7092ESG
    function decimals() public view virtual override(RegulatedToken, IERC7092ESG) returns (uint8) {
        return super.decimals();
    }

    /// @inheritdoc IERC7092
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

    /// @notice Seconds a funded coupon or redemption stays claimable (0 = no deadline).
    function claimPeriod() public view virtual returns (uint256) {
        return _claimPeriod;
    }

    // ================================================================ ERC-7092 transfers and allowances

    /// @inheritdoc IERC7092
    function allowance(address owner, address spender)
        public
        view
        virtual
        override(RegulatedToken, IERC7092)
        returns (uint256)
    {
        return super.allowance(owner, spender);
    }

    /// @inheritdoc IERC7092
    function approve(address spender, uint256 amount) public virtual override(RegulatedToken, IERC7092) returns (bool) {
        return super.approve(spender, amount);
    }

    /// @notice Lower the caller's allowance to `spender` by `amount` (an infinite allowance too); emits
    /// {Approval} with the new allowance, as ERC-20 readers expect.
    function decreaseAllowance(address spender, uint256 amount) public virtual returns (bool) {
        _decreaseAllowance(_msgSender(), spender, amount);
        return true;
    }

    /// @notice {transfer} with data from the holder; the data is not interpreted (it stays in the
    /// transaction's input, for the parties' records). Every rule of a transfer applies.
    function transfer(address to, uint256 amount, bytes calldata) public virtual returns (bool) {
        _transfer(_msgSender(), to, amount);
        return true;
    }

    /// @notice {transferFrom} with data from the holder (not interpreted).
    function transferFrom(address from, address to, uint256 amount, bytes calldata) public virtual returns (bool) {
        return transferFrom(from, to, amount);
    }

    /// @notice Approve `spender[i]` for `amount[i]`: one {Approval} each, then {ApprovalBatch}.
    function batchApprove(address[] calldata spender, uint256[] calldata amount) public virtual returns (bool) {
        return _batchAllowance(spender, amount, false);
    }

    /// @notice {decreaseAllowance} for each `spender[i]`, all or nothing; {ApprovalBatch} carries the
    /// new allowances.
    function batchDecreaseAllowance(address[] calldata spender, uint256[] calldata amount) public virtual returns (bool) {
        return _batchAllowance(spender, amount, true);
    }

    /// @notice Transfer `amount[i]` to `to[i]` from the caller, all or nothing: one {Transfer} each,
    /// then {TransferBatch}. `data` is not interpreted.
    function batchTransfer(address[] calldata to, uint256[] calldata amount, bytes[] calldata data)
        public
        virtual
        returns (bool)
    {
        address[] memory from = new address[](to.length);
        for (uint256 i = 0; i < from.length; ++i) {
            from[i] = _msgSender();
        }
        return _batchTransfer(from, to, amount, data.length, false);
    }

    /// @notice Transfer `amount[i]` from `from[i]` to `to[i]` within the caller's allowances, all or
    /// nothing: one {Transfer} each, then {TransferBatch}. `data` is not interpreted.
    function batchTransferFrom(
        address[] calldata from,
        address[] calldata to,
        uint256[] calldata amount,
        bytes[] calldata data
    ) public virtual returns (bool) {
        return _batchTransfer(from, to, amount, data.length, true);
    }

    /// @notice ERC-165: ERC-7092 and its optional parameters interface, ERC-7943, AccessControl, ERC-165.
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IERC7092).interfaceId || interfaceId == type(IERC7092ESG).interfaceId
            || super.supportsInterface(interfaceId);
    }

    // ================================================================ coupons

    /// @notice How many coupon periods were scheduled (ids run from 0).
    function couponPeriodCount() public view virtual returns (uint256) {
        return _periods.length;
    }

    /// @notice Coupon period `periodId`: its record date and record id, whether it is funded, when (0 if
    /// not), and the cash of it neither claimed nor swept yet.
    function couponPeriod(uint256 periodId)
        public
        view
        virtual
        returns (uint40 recordDate_, uint256 recordId, bool funded, uint256 fundedAt, uint256 outstanding)
    {
        CouponPeriod memory period = _period(periodId);
        return (period.recordDate, period.recordId, period.fundedAt != 0, period.fundedAt, _couponOwed[periodId]);
    }

    /// @notice The cash owed to `account` for coupon `periodId`: 0 if the period is not funded, its claim
    /// period ended, or `account` already claimed. A payment withheld (see {claimCoupon}) is still owed.
    function claimableCoupon(uint256 periodId, address account) public view virtual returns (uint256) {
        CouponPeriod memory period = _period(periodId);
        if (period.fundedAt == 0 || block.timestamp >= _deadline(period.fundedAt) || _claimed[periodId][account]) {
            return 0;
        }
        return balanceAtRecord(account, period.recordId) * couponPerBond();
    }

    /// @notice The cash of coupon period `periodId` that the issuer may sweep now: what is left after
    /// its claim period, 0 before (coupon funding is exact, so nothing is unclaimable before).
    function sweepableCoupon(uint256 periodId) public view virtual returns (uint256) {
        CouponPeriod memory period = _period(periodId);
        if (period.fundedAt == 0 || block.timestamp < _deadline(period.fundedAt)) return 0;
        return _couponOwed[periodId];
    }

    /// @notice Interest accrued per bond at `timestamp` under the bond's day-count basis, from the
    /// regular coupon date before it (or the issue date, in a short first period) to `timestamp`.
    /// Depends only on the terms and the date: regular coupon dates fall every 12 / couponFrequency
    /// months counted back from maturity (on the last day of the month when maturity is), whatever
    /// record dates the issuer schedules. Accrual stops at maturity or at the call. ACT/ACT (ICMA) divides
    /// the coupon by the actual days of the regular period; the other bases apply the annual rate to the
    /// days elapsed over a 360- or 365-day year.
    function accruedInterest(uint256 timestamp) public view virtual returns (uint256) {
        if (_couponType == ZERO_COUPON) return 0;
        uint256 end = _calledAt != 0 ? _calledAt : _maturityDate;
        if (timestamp < end) end = timestamp;
        if (end <= _issueDate) return 0;
        return _calendar.accruedInterest(end, _issueDate, _maturityDate, _denomination * _couponRate, _couponFrequency, _dayCountBasis);
    }

    /// @notice Schedule a coupon period whose entitlement is fixed at `recordDate` (SUPPLY_ROLE).
    function scheduleCouponPeriod(uint40 recordDate_) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 periodId) {
        if (_couponType == ZERO_COUPON) revert BondTokenZeroCoupon();
        if (_calledAt != 0) revert BondTokenAlreadyCalled();
        if (recordDate_ <= _issueDate || recordDate_ > _maturityDate) revert BondTokenInvalidCouponDate(recordDate_);
        uint256 recordId = _scheduleRecordDate(recordDate_);
        periodId = _periods.length;
        // _scheduleRecordDate caps record ids below 2**15.
        _periods.push(CouponPeriod({recordDate: recordDate_, recordId: uint16(recordId), fundedAt: 0, funder: address(0)}));
        emit CouponPeriodScheduled(periodId, recordId, recordDate_, couponPerBond());
    }

    /// @notice Pay into the contract the coupons of period `periodId`: supply at the record date times
    /// the coupon per bond, taken from the caller in the cash token (approve it first). SUPPLY_ROLE. The
    /// caller is where a sweep of this period returns cash.
    function fundCoupon(uint256 periodId) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        CouponPeriod storage period = _periodStorage(periodId);
        if (period.fundedAt != 0) revert BondTokenCouponAlreadyFunded(periodId);
        uint40 date = period.recordDate;
        if (date > block.timestamp) revert BondTokenRecordDateNotReached(periodId, date);
        if (_calledAt != 0 && date > _calledAt) revert BondTokenCouponCancelled(periodId);
        period.fundedAt = uint40(block.timestamp);
        period.funder = _msgSender();
        amount = totalSupplyAtRecord(period.recordId) * couponPerBond();
        _couponOwed[periodId] = amount;
        emit CouponFunded(periodId, amount);
        _collect(amount);
    }

    /// @notice Claim the caller's coupon for `periodId`. Paid to the caller, or to the wallet the caller
    /// was recovered to. Not while paused; withheld ({RegulatedTokenPaymentWithheld}) while that wallet
    /// could not send the token.
    function claimCoupon(uint256 periodId) public virtual returns (uint256) {
        return _claimCoupon(periodId, _msgSender(), false);
    }

    /// @notice Claim `holder`'s coupon for `periodId` on its behalf; the cash goes to `holder` (or to the
    /// wallet it was recovered to), never to the caller. Only that wallet or the paying agent
    /// (SUPPLY_ROLE) may call it.
    function claimCouponFor(uint256 periodId, address holder) public virtual returns (uint256) {
        return _claimCoupon(periodId, holder, true);
    }

    /// @notice Return to its funder what is left of coupon period `periodId` after its claim period
    /// (SUPPLY_ROLE; not while paused). Returns the amount.
    function sweepCoupon(uint256 periodId) public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        _requireNotPaused();
        amount = sweepableCoupon(periodId);
        if (amount == 0) revert BondTokenNothingToSweep();
        _couponOwed[periodId] = 0;
        address funder = _periods[periodId].funder;
        emit CouponSwept(periodId, funder, amount);
        _pay(funder, amount);
    }

    // ================================================================ call and redemption

    /// @notice Call the bond before maturity at the call price (SUPPLY_ROLE). Holders then redeem at
    /// the call price once the issuer funds the redemption.
    function callBond() public virtual onlyRole(SUPPLY_ROLE) {
        if (_callPrice == 0) revert BondTokenNotCallable();
        if (_calledAt != 0) revert BondTokenAlreadyCalled();
        if (block.timestamp < _callableFrom) revert BondTokenCallNotAllowedYet(_callableFrom);
        if (block.timestamp >= _maturityDate) revert BondTokenMatured(_maturityDate);
        // Before maturity, which fits 40 bits.
        _calledAt = uint40(block.timestamp);
        emit BondCalled(uint40(block.timestamp), _callPrice);
    }

    /// @notice Cash paid per bond on redemption: the call price once called, else the denomination.
    function redemptionPrice() public view virtual returns (uint256) {
        return _calledAt != 0 ? _callPrice : _denomination;
    }

    /// @notice Whether the issuer funded the redemption.
    function redemptionFunded() public view virtual returns (bool) {
        return _redemptionFundedAt != 0;
    }

    /// @notice The redemption: when it was funded (0 if not), by whom, and the cash not yet paid or swept.
    function redemption() public view virtual returns (uint256 fundedAt, address funder, uint256 outstanding) {
        return (_redemptionFundedAt, _redemptionFunder, _redemptionOwed);
    }

    /// @notice Pay into the contract the redemption of every outstanding bond (SUPPLY_ROLE), after
    /// maturity or a call, taken from the caller in the cash token (approve it first). The caller is where
    /// a sweep returns cash.
    function fundRedemption() public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        if (_calledAt == 0 && block.timestamp < _maturityDate) revert BondTokenNotMatured(_maturityDate);
        if (_redemptionFundedAt != 0) revert BondTokenRedemptionAlreadyFunded();
        _redemptionFundedAt = uint40(block.timestamp);
        _redemptionFunder = _msgSender();
        uint256 price = redemptionPrice();
        amount = totalSupply() * price;
        _redemptionOwed = amount;
        emit RedemptionFunded(price, amount);
        _collect(amount);
    }

    /// @notice Redeem `amount` of the caller's bonds: they are burnt and the redemption price paid to
    /// the caller. Like a coupon payment: not while paused, and only while the caller could send the
    /// bonds (verified, not frozen, within its unfrozen balance); until the claim period ends.
    function redeem(uint256 amount) public virtual returns (uint256 payout) {
        if (_redemptionFundedAt == 0) revert BondTokenRedemptionNotFunded();
        uint256 deadline = _deadline(_redemptionFundedAt);
        if (block.timestamp >= deadline) revert BondTokenRedemptionExpired(deadline);
        address holder = _msgSender();
        if (amount == 0) revert BondTokenNothingToRedeem(holder);
        _holderBurn(holder, amount);
        payout = amount * redemptionPrice();
        _redemptionOwed -= payout;
        emit Redeemed(holder, amount, payout);
        _pay(holder, payout);
    }

    /// @notice The redemption cash that the issuer may sweep now: after the claim period, all that is
    /// left; before, the part that no outstanding bond can claim (bonds burnt after funding).
    function sweepableRedemption() public view virtual returns (uint256) {
        if (_redemptionFundedAt == 0) return 0;
        uint256 owed = _redemptionOwed;
        if (block.timestamp >= _deadline(_redemptionFundedAt)) return owed;
        uint256 claimable = totalSupply() * redemptionPrice();
        return owed > claimable ? owed - claimable : 0;
    }

    /// @notice Return {sweepableRedemption} to the account that funded the redemption (SUPPLY_ROLE; not
    /// while paused). Returns the amount.
    function sweepRedemption() public virtual onlyRole(SUPPLY_ROLE) returns (uint256 amount) {
        _requireNotPaused();
        amount = sweepableRedemption();
        if (amount == 0) revert BondTokenNothingToSweep();
        _redemptionOwed -= amount;
        emit RedemptionSwept(_redemptionFunder, amount);
        _pay(_redemptionFunder, amount);
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

    function _claimCoupon(uint256 periodId, address holder, bool onBehalf) internal virtual returns (uint256 amount) {
        CouponPeriod memory period = _period(periodId);
        if (period.fundedAt == 0) revert BondTokenCouponNotFunded(periodId);
        uint256 deadline = _deadline(period.fundedAt);
        if (block.timestamp >= deadline) revert BondTokenCouponExpired(periodId, deadline);
        if (_claimed[periodId][holder]) revert BondTokenCouponAlreadyClaimed(periodId, holder);
        (uint256 bonds, uint32 investor) = _rawBalanceAtRecord(holder, period.recordId);
        amount = bonds * couponPerBond();
        if (amount == 0) revert BondTokenNothingToClaim(periodId, holder);
        address payee = _payee(holder, investor, onBehalf);
        _claimed[periodId][holder] = true;
        _couponOwed[periodId] -= amount;
        emit CouponClaimed(periodId, holder, payee, amount);
        _pay(payee, amount);
    }

    /// @dev Pay `amount` cash out of the contract to `to`.
    function _pay(address to, uint256 amount) private {
        _currency.safeTransfer(to, amount);
    }

    /// @dev Take `amount` cash from the caller into the contract.
    function _collect(uint256 amount) private {
        _currency.safeTransferFrom(_msgSender(), address(this), amount);
    }

    /// @dev When a payment funded at `fundedAt` stops being claimable.
    function _deadline(uint256 fundedAt) private view returns (uint256) {
        return _claimPeriod == 0 ? type(uint256).max : fundedAt + _claimPeriod;
    }

    function _requireNotPaused() private view {
        if (paused()) revert EnforcedPause();
    }

    /// @dev Set (or, with `decrease`, lower) the caller's allowance to each `spender[i]` by `amount[i]`.
    function _batchAllowance(address[] calldata spender, uint256[] calldata amount, bool decrease)
        private
        returns (bool)
    {
        if (spender.length != amount.length) revert RegulatedTokenLengthMismatch();
        address owner = _msgSender();
        uint256[] memory allowances = new uint256[](spender.length);
        for (uint256 i = 0; i < spender.length; ++i) {
            if (decrease) {
                allowances[i] = _decreaseAllowance(owner, spender[i], amount[i]);
            } else {
                _approve(owner, spender[i], allowances[i] = amount[i]);
            }
        }
        emit ApprovalBatch(owner, spender, allowances);
        return true;
    }

    function _batchTransfer(
        address[] memory from,
        address[] calldata to,
        uint256[] calldata amount,
        uint256 dataLength,
        bool spend
    ) private returns (bool) {
        uint256 n = from.length;
        if (to.length != n || amount.length != n || dataLength != n) revert RegulatedTokenLengthMismatch();
        for (uint256 i = 0; i < n; ++i) {
            if (spend) _spendAllowance(from[i], _msgSender(), amount[i]);
            _transfer(from[i], to[i], amount[i]);
        }
        emit TransferBatch(from, to, amount);
        return true;
    }

    function _decreaseAllowance(address owner, address spender, uint256 amount) private returns (uint256 rest) {
        uint256 current = allowance(owner, spender);
        if (amount > current) revert BondTokenAllowanceBelowZero(spender, current, amount);
        // Checked just above.
        unchecked {
            rest = current - amount;
        }
        _approve(owner, spender, rest);
    }

    function _period(uint256 periodId) private view returns (CouponPeriod memory) {
        return _periodStorage(periodId);
    }

    function _periodStorage(uint256 periodId) private view returns (CouponPeriod storage) {
        if (periodId >= _periods.length) revert BondTokenUnknownCouponPeriod(periodId);
        return _periods[periodId];
    }
}
