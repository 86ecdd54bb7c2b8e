// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title DayCount
/// @notice Day-count conventions for accrued interest, on Unix timestamps (UTC days).
library DayCount {
    uint8 internal constant THIRTY_360 = 0;
    uint8 internal constant ACT_360 = 1;
    uint8 internal constant ACT_365 = 2;
    uint8 internal constant ACT_ACT = 3;

    /// @notice Whole days from `start` to `end` under the 30/360 bond basis (the day of the month is
    /// capped at 30, and the end day too when the start day was capped).
    function days360(uint256 start, uint256 end) internal pure returns (uint256) {
        (uint256 y1, uint256 m1, uint256 d1) = civilDate(start);
        (uint256 y2, uint256 m2, uint256 d2) = civilDate(end);
        if (d1 == 31) d1 = 30;
        if (d2 == 31 && d1 == 30) d2 = 30;
        int256 count = int256(360 * (y2 - y1)) + 30 * (int256(m2) - int256(m1)) + (int256(d2) - int256(d1));
        return count > 0 ? uint256(count) : 0;
    }

    /// @notice Whole actual days from `start` to `end`.
    function actualDays(uint256 start, uint256 end) internal pure returns (uint256) {
        return end > start ? end / 1 days - start / 1 days : 0;
    }

    /// @notice `timestamp` moved back by `months` calendar months, at the same time of day. The day of
    /// the month is kept, capped at the length of the target month; with `endOfMonth` it is always the
    /// target month's last day. 0 if that would fall before 1970.
    function monthsBefore(uint256 timestamp, uint256 months, bool endOfMonth) internal pure returns (uint256) {
        (uint256 year, uint256 month, uint256 day) = civilDate(timestamp);
        uint256 index = year * 12 + month - 1;
        if (months > index || index - months < 1970 * 12) return 0;
        index -= months;
        year = index / 12;
        month = index % 12 + 1;
        uint256 last = daysInMonth(year, month);
        if (endOfMonth || day > last) day = last;
        return daysFromCivil(year, month, day) * 1 days + timestamp % 1 days;
    }

    /// @notice Whether `timestamp` falls on the last day of its month.
    function isEndOfMonth(uint256 timestamp) internal pure returns (bool) {
        (uint256 year, uint256 month, uint256 day) = civilDate(timestamp);
        return day == daysInMonth(year, month);
    }

    /// @notice The number of days of `month` (1-12) in `year`.
    function daysInMonth(uint256 year, uint256 month) internal pure returns (uint256) {
        if (month == 2) return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28;
        return month == 4 || month == 6 || month == 9 || month == 11 ? 30 : 31;
    }

    /// @notice Days from 1970-01-01 to a proleptic Gregorian date from 1970 on.
    /// @dev The days-from-civil algorithm of the same public-domain collection as {civilDate}.
    function daysFromCivil(uint256 year, uint256 month, uint256 day) internal pure returns (uint256) {
        if (month <= 2) year -= 1;
        uint256 era = year / 400;
        uint256 yoe = year - era * 400;
        uint256 doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
        uint256 doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
    }

    /// @notice The proleptic Gregorian date (year, month 1-12, day 1-31) of a Unix timestamp.
    /// @dev The days-from-civil inverse of H. Hinnant's public-domain date algorithms, for days >= 0.
    function civilDate(uint256 timestamp) internal pure returns (uint256 year, uint256 month, uint256 day) {
        uint256 z = timestamp / 1 days + 719468;
        uint256 era = z / 146097;
        uint256 doe = z - era * 146097;
        uint256 yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        uint256 doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        uint256 mp = (5 * doy + 2) / 153;
        day = doy - (153 * mp + 2) / 5 + 1;
        month = mp < 10 ? mp + 3 : mp - 9;
        year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    }
}
