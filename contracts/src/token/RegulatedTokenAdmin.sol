// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {TokenAccount} from "./TokenPacking.sol";
import {RegulatedTokenCore} from "./RegulatedTokenCore.sol";

/// @notice How a token scales its balances (see {RegulatedToken-rawUnitsPerToken}).
interface IRawUnits {
    function rawUnitsPerToken() external view returns (uint256);
}

/// @title RegulatedTokenAdmin
/// @notice The administration of a regulated token: pause, freezes, wallet recovery and compliance
/// settings. Each {RegulatedToken} creates one in its constructor and runs these functions in it by
/// delegatecall, on the token's own storage and with the token's roles, so that the token itself stays
/// under the contract size limit. Called directly, the module acts on its own empty storage, where
/// nobody holds a role: every function reverts.
/// @dev Built on the same {RegulatedTokenCore} as the token, so that both see one storage layout (the
/// compile script checks it). Unit conversions ask the token (the contract whose storage is in use).
contract RegulatedTokenAdmin is RegulatedTokenCore {
    constructor(address registry_, bool kyc) RegulatedTokenCore(registry_, kyc) {}

    function pause() external onlyRole(ENFORCEMENT_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(ENFORCEMENT_ROLE) {
        _unpause();
    }

    function setFrozenTokens(address account, uint256 amount) external onlyRole(ENFORCEMENT_ROLE) returns (bool) {
        _setFrozenTokens(account, amount);
        return true;
    }

    function batchSetFrozenTokens(address[] calldata accounts, uint256[] calldata amounts)
        external
        onlyRole(ENFORCEMENT_ROLE)
        returns (bool)
    {
        if (accounts.length != amounts.length) revert RegulatedTokenLengthMismatch();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setFrozenTokens(accounts[i], amounts[i]);
        }
        return true;
    }

    function freezeAccount(address account) external onlyRole(ENFORCEMENT_ROLE) {
        _setAccountFrozen(account, true);
    }

    function unfreezeAccount(address account) external onlyRole(ENFORCEMENT_ROLE) {
        _setAccountFrozen(account, false);
    }

    function recoverWallet(address lost, address replacement) external onlyRole(ENFORCEMENT_ROLE) {
        _recoverWallet(lost, replacement);
    }

    function setCountryRule(uint8 mode) external onlyRole(COMPLIANCE_ROLE) {
        _setCountryRule(mode);
    }

    function setCountries(uint16[] calldata countries, bool listed) external onlyRole(COMPLIANCE_ROLE) {
        _setCountries(countries, listed);
    }

    function setMaxInvestors(uint32 maxInvestors) external onlyRole(COMPLIANCE_ROLE) {
        _setMaxInvestors(maxInvestors);
    }

    function setMaxBalancePerInvestor(uint256 maxBalance) external onlyRole(COMPLIANCE_ROLE) {
        _setMaxBalancePerInvestor(maxBalance);
    }

    function setLockup(uint40 lockupUntil) external onlyRole(COMPLIANCE_ROLE) {
        _setLockup(lockupUntil);
    }

    function setAccreditedOnly(bool accreditedOnly) external onlyRole(COMPLIANCE_ROLE) {
        _setAccreditedOnly(accreditedOnly);
    }

    /// @dev The token's scale: saturate as the token's own conversion does, so that an amount that
    /// cannot fit gets the token's error.
    function _toRaw(uint256 amount) internal view override returns (uint256) {
        uint256 scale = IRawUnits(address(this)).rawUnitsPerToken();
        return amount > TokenAccount.MAX_AMOUNT ? type(uint256).max : amount * scale;
    }

    function _fromRaw(uint256 raw) internal view override returns (uint256) {
        return raw / IRawUnits(address(this)).rawUnitsPerToken();
    }
}
