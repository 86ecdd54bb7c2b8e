// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title TokenAccount
/// @notice Layout of a regulated token's per-account storage word.
/// @dev bits 0-79 balance, 80-159 investor balance (the sum over the investor's wallets; meaningful
/// only in the word of the investor's key wallet), 160-191 holding investor (kyc mode: the investor
/// whose tokens the balance is, fixed when the balance last rose from zero), bit 192 account frozen,
/// bit 193 "has frozen tokens" (the amount itself is kept apart, so that the common transfer does not
/// read it), 194-209 the record epoch of the last balance change, 210-225 the number of balance
/// checkpoints. Amounts are in raw units and never exceed {MAX_AMOUNT}; callers check before packing.
library TokenAccount {
    uint256 internal constant MAX_AMOUNT = type(uint80).max;

    uint256 private constant _INVESTOR_SHIFT = 80;
    uint256 private constant _HOLDER_SHIFT = 160;
    uint256 private constant _FROZEN_FLAG = 1 << 192;
    uint256 private constant _FROZEN_TOKENS_FLAG = 1 << 193;
    uint256 private constant _EPOCH_SHIFT = 194;
    uint256 private constant _CHECKPOINTS_SHIFT = 210;

    function balance(uint256 word) internal pure returns (uint256) {
        return word & MAX_AMOUNT;
    }

    function investorBalance(uint256 word) internal pure returns (uint256) {
        return (word >> _INVESTOR_SHIFT) & MAX_AMOUNT;
    }

    function holder(uint256 word) internal pure returns (uint32) {
        return uint32(word >> _HOLDER_SHIFT);
    }

    function isFrozen(uint256 word) internal pure returns (bool) {
        return word & _FROZEN_FLAG != 0;
    }

    function hasFrozenTokens(uint256 word) internal pure returns (bool) {
        return word & _FROZEN_TOKENS_FLAG != 0;
    }

    function lastEpoch(uint256 word) internal pure returns (uint256) {
        return uint16(word >> _EPOCH_SHIFT);
    }

    function checkpoints(uint256 word) internal pure returns (uint256) {
        return uint16(word >> _CHECKPOINTS_SHIFT);
    }

    function withBalance(uint256 word, uint256 value) internal pure returns (uint256) {
        return (word & ~MAX_AMOUNT) | value;
    }

    function withInvestorBalance(uint256 word, uint256 value) internal pure returns (uint256) {
        return (word & ~(MAX_AMOUNT << _INVESTOR_SHIFT)) | (value << _INVESTOR_SHIFT);
    }

    function withHolder(uint256 word, uint32 investorId) internal pure returns (uint256) {
        return (word & ~(uint256(type(uint32).max) << _HOLDER_SHIFT)) | (uint256(investorId) << _HOLDER_SHIFT);
    }

    function withFrozenFlag(uint256 word, bool flag) internal pure returns (uint256) {
        return flag ? word | _FROZEN_FLAG : word & ~_FROZEN_FLAG;
    }

    function withFrozenTokensFlag(uint256 word, bool flag) internal pure returns (uint256) {
        return flag ? word | _FROZEN_TOKENS_FLAG : word & ~_FROZEN_TOKENS_FLAG;
    }

    /// @dev `word` with its record epoch set to `epoch` and its checkpoint count to `count`.
    function withEpoch(uint256 word, uint256 epoch, uint256 count) internal pure returns (uint256) {
        return (word & ((uint256(1) << _EPOCH_SHIFT) - 1)) | (epoch << _EPOCH_SHIFT) | (count << _CHECKPOINTS_SHIFT);
    }
}

/// @title TokenCheckpoint
/// @notice Layout of a balance (or supply) checkpoint: what an account held over a run of record ids.
/// @dev bits 0-15 first record id covered, 16-31 first record id not covered, 32-63 the holding
/// investor over that run (0 for the supply, and in open mode), 64-143 the raw amount.
library TokenCheckpoint {
    function pack(uint256 firstId, uint256 endId, uint32 investorId, uint256 raw) internal pure returns (uint256) {
        return firstId | (endId << 16) | (uint256(investorId) << 32) | (raw << 64);
    }

    function first(uint256 checkpoint) internal pure returns (uint256) {
        return uint16(checkpoint);
    }

    function end(uint256 checkpoint) internal pure returns (uint256) {
        return uint16(checkpoint >> 16);
    }

    function investor(uint256 checkpoint) internal pure returns (uint32) {
        return uint32(checkpoint >> 32);
    }

    function amount(uint256 checkpoint) internal pure returns (uint256) {
        return checkpoint >> 64;
    }
}

/// @title TokenConfig
/// @notice Layout of a regulated token's configuration word (everything a transfer needs, in one slot).
/// @dev bit 0 paused, bit 1 accredited only, bits 2-3 country rule mode, 8-47 lock-up end (uint40),
/// 48-79 max investors (0 = none), 80-111 investor count, 112-191 max balance per investor in raw
/// units (0 = none), 192-207 record epoch, 208-247 next record date (type(uint40).max = none).
library TokenConfig {
    uint256 internal constant NO_RECORD_DATE = type(uint40).max;

    uint256 private constant _PAUSED = 1;
    uint256 private constant _ACCREDITED_ONLY = 1 << 1;
    uint256 private constant _COUNTRY_SHIFT = 2;
    uint256 private constant _LOCKUP_SHIFT = 8;
    uint256 private constant _MAX_INVESTORS_SHIFT = 48;
    uint256 private constant _INVESTOR_COUNT_SHIFT = 80;
    uint256 private constant _MAX_BALANCE_SHIFT = 112;
    uint256 private constant _EPOCH_SHIFT = 192;
    uint256 private constant _NEXT_RECORD_SHIFT = 208;

    function paused(uint256 cfg) internal pure returns (bool) {
        return cfg & _PAUSED != 0;
    }

    function accreditedOnly(uint256 cfg) internal pure returns (bool) {
        return cfg & _ACCREDITED_ONLY != 0;
    }

    function countryMode(uint256 cfg) internal pure returns (uint8) {
        return uint8((cfg >> _COUNTRY_SHIFT) & 3);
    }

    function lockupUntil(uint256 cfg) internal pure returns (uint40) {
        return uint40(cfg >> _LOCKUP_SHIFT);
    }

    function maxInvestors(uint256 cfg) internal pure returns (uint32) {
        return uint32(cfg >> _MAX_INVESTORS_SHIFT);
    }

    function investorCount(uint256 cfg) internal pure returns (uint32) {
        return uint32(cfg >> _INVESTOR_COUNT_SHIFT);
    }

    function maxBalance(uint256 cfg) internal pure returns (uint256) {
        return uint80(cfg >> _MAX_BALANCE_SHIFT);
    }

    function epoch(uint256 cfg) internal pure returns (uint256) {
        return uint16(cfg >> _EPOCH_SHIFT);
    }

    function nextRecordDate(uint256 cfg) internal pure returns (uint256) {
        return uint40(cfg >> _NEXT_RECORD_SHIFT);
    }

    function withPaused(uint256 cfg, bool value) internal pure returns (uint256) {
        return value ? cfg | _PAUSED : cfg & ~_PAUSED;
    }

    function withAccreditedOnly(uint256 cfg, bool value) internal pure returns (uint256) {
        return value ? cfg | _ACCREDITED_ONLY : cfg & ~_ACCREDITED_ONLY;
    }

    function withCountryMode(uint256 cfg, uint8 mode) internal pure returns (uint256) {
        return _set(cfg, _COUNTRY_SHIFT, 3, mode);
    }

    function withLockupUntil(uint256 cfg, uint40 value) internal pure returns (uint256) {
        return _set(cfg, _LOCKUP_SHIFT, type(uint40).max, value);
    }

    function withMaxInvestors(uint256 cfg, uint32 value) internal pure returns (uint256) {
        return _set(cfg, _MAX_INVESTORS_SHIFT, type(uint32).max, value);
    }

    function withInvestorCount(uint256 cfg, uint256 value) internal pure returns (uint256) {
        return _set(cfg, _INVESTOR_COUNT_SHIFT, type(uint32).max, value);
    }

    function withMaxBalance(uint256 cfg, uint256 value) internal pure returns (uint256) {
        return _set(cfg, _MAX_BALANCE_SHIFT, type(uint80).max, value);
    }

    function withEpoch(uint256 cfg, uint256 value) internal pure returns (uint256) {
        return _set(cfg, _EPOCH_SHIFT, type(uint16).max, value);
    }

    function withNextRecordDate(uint256 cfg, uint256 value) internal pure returns (uint256) {
        return _set(cfg, _NEXT_RECORD_SHIFT, type(uint40).max, value);
    }

    /// @dev Callers pass values that fit `mask`; the mask only keeps a bad value from spilling over.
    function _set(uint256 cfg, uint256 shift, uint256 mask, uint256 value) private pure returns (uint256) {
        return (cfg & ~(mask << shift)) | ((value & mask) << shift);
    }
}
