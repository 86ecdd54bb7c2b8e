// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {DayCount} from "./DayCount.sol";

/// @title BondCalendar
/// @notice Accrued interest of a fixed-rate bond from its terms and a date alone. Each BondToken creates
/// its own instance in its constructor and calls it for {BondToken-accruedInterest}; the calendar code
/// lives here, apart from the token, to keep the token under the contract size limit.
/// @dev Regular coupon dates fall every 12 / frequency months counted back from maturity, on the same
/// day of the month capped at the month's length, or on the last day of the month when maturity is.
contract BondCalendar {
    /// @notice Interest accrued per bond at `end` (issue date < `end` <= maturity) from the regular
    /// coupon date before it, or from the issue date in a short first period.
    /// @param annual Denomination times the annual rate in basis points.
    /// @param frequency Coupons per year, a divisor of 12.
    /// @param basis 0 30/360, 1 ACT/360, 2 ACT/365, 3 ACT/ACT (ICMA: the coupon times the actual days
    /// elapsed over the actual days of the regular period).
    function accruedInterest(
        uint256 end,
        uint256 issueDate,
        uint256 maturityDate,
        uint256 annual,
        uint256 frequency,
        uint8 basis
    ) external pure returns (uint256) {
        (uint256 start, uint256 next) = regularPeriod(end, maturityDate, frequency);
        uint256 from = start > issueDate ? start : issueDate;
        if (basis == DayCount.ACT_ACT) {
            return annual * DayCount.actualDays(from, end) / (10000 * frequency * DayCount.actualDays(start, next));
        }
        uint256 elapsed = basis == DayCount.THIRTY_360 ? DayCount.days360(from, end) : DayCount.actualDays(from, end);
        uint256 year = basis == DayCount.ACT_365 ? 365 : 360;
        return annual * elapsed / (10000 * year);
    }

    /// @notice The regular coupon period [start, next) containing `t` (`t` < `maturityDate`); at or after
    /// maturity, the last period [start, maturityDate].
    function regularPeriod(uint256 t, uint256 maturityDate, uint256 frequency)
        public
        pure
        returns (uint256 start, uint256 next)
    {
        uint256 step = 12 / frequency;
        bool endOfMonth = DayCount.isEndOfMonth(maturityDate);
        if (t >= maturityDate) return (DayCount.monthsBefore(maturityDate, step, endOfMonth), maturityDate);
        (uint256 ty, uint256 tm,) = DayCount.civilDate(t);
        (uint256 my, uint256 mm,) = DayCount.civilDate(maturityDate);
        // The coupon date k steps before maturity falls in t's month or later (t < maturity).
        uint256 k = (my * 12 + mm - ty * 12 - tm) / step;
        next = DayCount.monthsBefore(maturityDate, k * step, endOfMonth);
        if (next <= t) {
            // Then k >= 1: the date of step 0 is maturity itself, after t.
            start = next;
            next = DayCount.monthsBefore(maturityDate, (k - 1) * step, endOfMonth);
        } else {
            start = DayCount.monthsBefore(maturityDate, (k + 1) * step, endOfMonth);
        }
    }
}
