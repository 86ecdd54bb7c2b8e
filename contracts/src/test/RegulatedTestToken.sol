// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {RegulatedToken} from "../token/RegulatedToken.sol";

/// @notice A concrete {RegulatedToken} for tests: the base plus a way to schedule record dates.
contract RegulatedTestToken is RegulatedToken {
    constructor(string memory name_, string memory symbol_, address admin, address registry_, bool kyc)
        RegulatedToken(name_, symbol_, admin, registry_, kyc)
    {}

    /// @notice Schedule a record date (SUPPLY_ROLE); returns its record id.
    function scheduleRecordDate(uint40 date) public virtual onlyRole(SUPPLY_ROLE) returns (uint256) {
        return _scheduleRecordDate(date);
    }
}
