// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title IERC7943Fungible
/// @notice ERC-7943 (uRWA) interface for ERC-20 based real-world-asset tokens. ERC-165 id: 0x3edbb4c4.
interface IERC7943Fungible is IERC165 {
    /// @notice `amount` tokens were taken from `from` and given to `to` by an authorised party.
    event ForcedTransfer(address indexed from, address indexed to, uint256 amount);

    /// @notice The frozen amount of `account` is now `amount`.
    event Frozen(address indexed account, uint256 amount);

    /// @notice `account` may not send tokens.
    error ERC7943CannotSend(address account);

    /// @notice `account` may not receive tokens.
    error ERC7943CannotReceive(address account);

    /// @notice The token rules forbid this transfer.
    error ERC7943CannotTransfer(address from, address to, uint256 amount);

    /// @notice `amount` does not exceed the balance of `account` but exceeds its `unfrozen` part.
    error ERC7943InsufficientUnfrozenBalance(address account, uint256 amount, uint256 unfrozen);

    /// @notice Move `amount` from `from` to `to` regardless of the transfer rules. Restricted.
    function forcedTransfer(address from, address to, uint256 amount) external returns (bool result);

    /// @notice Set the frozen amount of `account` (may exceed its balance). Restricted.
    function setFrozenTokens(address account, uint256 amount) external returns (bool result);

    /// @notice Whether `account` may send tokens (account-level eligibility; never reverts).
    function canSend(address account) external view returns (bool allowed);

    /// @notice Whether `account` may receive tokens (account-level eligibility; never reverts).
    function canReceive(address account) external view returns (bool allowed);

    /// @notice The frozen amount of `account`, possibly above its balance.
    function getFrozenTokens(address account) external view returns (uint256 amount);

    /// @notice Whether the token rules allow this transfer now (balance aside; never reverts).
    function canTransfer(address from, address to, uint256 amount) external view returns (bool allowed);
}
