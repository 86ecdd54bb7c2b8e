// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A plain OpenZeppelin ERC-20, the gas baseline for the regulated tokens.
contract PlainERC20 is ERC20 {
    constructor(uint256 initialSupply) ERC20("Plain", "PLN") {
        _mint(msg.sender, initialSupply);
    }
}
