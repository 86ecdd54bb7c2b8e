// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title CashToken
/// @notice A test stablecoin with 6 decimals that settles coupons, dividends and redemptions.
/// @dev A plain OpenZeppelin ERC-20; only holders of MINTER_ROLE (the admin at deployment) create it.
contract CashToken is ERC20, AccessControl {
    /// @notice Role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER_ROLE");

    /// @param admin Receives DEFAULT_ADMIN_ROLE and MINTER_ROLE.
    constructor(string memory name_, string memory symbol_, address admin) ERC20(name_, symbol_) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Six decimals, like most fiat stablecoins.
    function decimals() public view virtual override returns (uint8) {
        return 6;
    }

    /// @notice Create `amount` units (6 decimals) for `to`.
    function mint(address to, uint256 amount) public virtual onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
