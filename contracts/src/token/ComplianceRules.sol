// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {TokenConfig} from "./TokenPacking.sol";

/// @title ComplianceRules
/// @notice The per-token compliance rules and the single configuration word that holds them.
/// @dev Rules (enforced by the token in `kyc` mode only; in `open` mode they are stored but ignored):
/// a country allow list or block list applied to the receiver's country, a maximum number of
/// investors (counted per investor, not per wallet), a maximum balance per investor, a lock-up until
/// a timestamp, and accredited-only. The same word also holds the pause flag and the record-date
/// state, so that a transfer reads all of it with one cold storage read.
abstract contract ComplianceRules is AccessControl {
    using TokenConfig for uint256;

    /// @notice Role allowed to change the compliance rules.
    bytes32 public constant COMPLIANCE_ROLE = keccak256("COMPLIANCE_ROLE");

    /// @dev Country rule modes.
    uint8 internal constant _COUNTRY_RULE_NONE = 0;
    uint8 internal constant _COUNTRY_RULE_ALLOW_LIST = 1;
    uint8 internal constant _COUNTRY_RULE_BLOCK_LIST = 2;

    /// @dev Rule codes reported by `transferViolations` (bit `code` of a violation mask).
    uint8 internal constant _TOKEN_PAUSED = 1;
    uint8 internal constant _SENDER_NOT_VERIFIED = 2;
    uint8 internal constant _RECEIVER_NOT_VERIFIED = 3;
    uint8 internal constant _SENDER_FROZEN = 4;
    uint8 internal constant _RECEIVER_FROZEN = 5;
    uint8 internal constant _INSUFFICIENT_UNFROZEN_BALANCE = 6;
    uint8 internal constant _COUNTRY_NOT_ALLOWED = 7;
    uint8 internal constant _MAX_INVESTORS_EXCEEDED = 8;
    uint8 internal constant _MAX_BALANCE_EXCEEDED = 9;
    uint8 internal constant _LOCKUP_ACTIVE = 10;
    uint8 internal constant _RECEIVER_NOT_ACCREDITED = 11;
    uint8 internal constant _INSUFFICIENT_BALANCE = 12;
    uint8 internal constant _SENDER_WALLET_RELINKED = 13;
    uint8 internal constant _RECEIVER_WALLET_RELINKED = 14;

    uint16 private constant _MAX_COUNTRY = 999;

    uint256 private _config;
    mapping(uint256 word => uint256) private _countryBitmap;

    /// @notice The country rule is now `mode` (0 none, 1 allow list, 2 block list).
    event CountryRuleChanged(uint8 mode);
    /// @notice `country` is now on (`listed`) or off the token's country list.
    event CountryListChanged(uint16 indexed country, bool listed);
    /// @notice At most `maxInvestors` investors may hold the token (0 = no limit).
    event MaxInvestorsChanged(uint32 maxInvestors);
    /// @notice An investor may hold at most `maxBalance` tokens over all its wallets (0 = no limit).
    event MaxBalancePerInvestorChanged(uint256 maxBalance);
    /// @notice Transfers are locked until `lockupUntil` (a timestamp; 0 or past = no lock-up).
    event LockupChanged(uint40 lockupUntil);
    /// @notice Only accredited investors may receive the token (`accreditedOnly`).
    event AccreditedOnlyChanged(bool accreditedOnly);

    /// @notice The operation broke compliance rule `rule` (a code of `transferViolations`).
    error ComplianceRuleViolated(uint8 rule, address from, address to, uint256 amount);
    /// @notice `mode` is not 0 (none), 1 (allow list) or 2 (block list).
    error ComplianceInvalidCountryRule(uint8 mode);
    /// @notice `country` is not an ISO 3166 numeric code in 1..999.
    error ComplianceInvalidCountry(uint16 country);

    constructor() {
        _config = uint256(0).withNextRecordDate(TokenConfig.NO_RECORD_DATE);
    }

    // ---------------------------------------------------------------- views

    /// @notice All rule settings and the current number of investors holding the token.
    function complianceRules()
        public
        view
        virtual
        returns (
            uint8 countryRule,
            uint32 maxInvestors,
            uint32 investorCount,
            uint256 maxBalancePerInvestor,
            uint40 lockupUntil,
            bool accreditedOnly
        )
    {
        uint256 cfg = _config;
        return (
            cfg.countryMode(),
            cfg.maxInvestors(),
            cfg.investorCount(),
            _fromRaw(cfg.maxBalance()),
            cfg.lockupUntil(),
            cfg.accreditedOnly()
        );
    }

    /// @notice Whether `country` is on the token's country list (read as allow or block list per the rule).
    function isCountryListed(uint16 country) public view virtual returns (bool) {
        return _isCountryListed(country);
    }

    // ---------------------------------------------------------------- compliance officer actions
    // Exposed, behind COMPLIANCE_ROLE, by the token's administration module (see RegulatedTokenAdmin).

    /// @dev Set how the country list is read: 0 no country rule, 1 allow list, 2 block list.
    function _setCountryRule(uint8 mode) internal virtual {
        if (mode > _COUNTRY_RULE_BLOCK_LIST) revert ComplianceInvalidCountryRule(mode);
        _setConfig(_getConfig().withCountryMode(mode));
        emit CountryRuleChanged(mode);
    }

    /// @dev Put `countries` on the country list (`listed`) or take them off.
    function _setCountries(uint16[] calldata countries, bool listed) internal virtual {
        for (uint256 i = 0; i < countries.length; ++i) {
            uint16 country = countries[i];
            if (country == 0 || country > _MAX_COUNTRY) revert ComplianceInvalidCountry(country);
            uint256 bit = uint256(1) << (country & 0xff);
            uint256 word = _countryBitmap[country >> 8];
            _countryBitmap[country >> 8] = listed ? word | bit : word & ~bit;
            emit CountryListChanged(country, listed);
        }
    }

    /// @dev At most `maxInvestors` distinct investors may hold the token; 0 removes the limit. Lowering
    /// it below the current count only stops new investors from coming in.
    function _setMaxInvestors(uint32 maxInvestors) internal virtual {
        _setConfig(_getConfig().withMaxInvestors(maxInvestors));
        emit MaxInvestorsChanged(maxInvestors);
    }

    /// @dev Each investor may hold at most `maxBalance` tokens over all its wallets; 0 removes the limit.
    function _setMaxBalancePerInvestor(uint256 maxBalance) internal virtual {
        _setConfig(_getConfig().withMaxBalance(_toRawChecked(maxBalance)));
        emit MaxBalancePerInvestorChanged(maxBalance);
    }

    /// @dev Forbid transfers (not mints) until `lockupUntil`; 0 removes the lock-up.
    function _setLockup(uint40 lockupUntil) internal virtual {
        _setConfig(_getConfig().withLockupUntil(lockupUntil));
        emit LockupChanged(lockupUntil);
    }

    /// @dev Only investors flagged accredited in the identity registry may receive the token.
    function _setAccreditedOnly(bool accreditedOnly) internal virtual {
        _setConfig(_getConfig().withAccreditedOnly(accreditedOnly));
        emit AccreditedOnlyChanged(accreditedOnly);
    }

    // ---------------------------------------------------------------- internals

    function _getConfig() internal view virtual returns (uint256) {
        return _config;
    }

    function _setConfig(uint256 cfg) internal virtual {
        _config = cfg;
    }

    function _isCountryListed(uint16 country) internal view virtual returns (bool) {
        return (_countryBitmap[country >> 8] >> (country & 0xff)) & 1 != 0;
    }

    /// @dev Token units to raw storage units (see the token's split support); reverts if too large.
    function _toRawChecked(uint256 amount) internal view virtual returns (uint256);

    /// @dev Raw storage units to token units.
    function _fromRaw(uint256 raw) internal view virtual returns (uint256);
}
