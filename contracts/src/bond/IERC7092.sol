// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IERC7092
/// @notice ERC-7092 (Financial Bonds), the token interface of the final text, which every compliant
/// contract implements together with ERC-165. ERC-165 id: XOR of the selectors below (computed in the
/// tests).
/// @dev The standard's `Transfer(address indexed, address indexed, uint256)` and
/// `Approval(address indexed, address indexed, uint256)` events are ERC-20's, declared by `IERC20`; they
/// are not repeated here. The batch functions and their events are part of the interface (and of its
/// id) though the text calls them optional for callers.
interface IERC7092 {
    /// @notice Bonds moved from `from[i]` to `to[i]` (`amount[i]`), in `batchTransfer` and `batchTransferFrom`.
    event TransferBatch(address[] from, address[] to, uint256[] amount);

    /// @notice `owner`'s allowances to `spender[i]` are now `amount[i]`, after `batchApprove` or
    /// `batchDecreaseAllowance`.
    event ApprovalBatch(address indexed owner, address[] spender, uint256[] amount);

    function isin() external view returns (string memory);

    function name() external view returns (string memory);

    function symbol() external view returns (string memory);

    /// @notice The token in which the principal is paid and returned.
    function currency() external view returns (address);

    /// @notice The amount of `currency` one bond is issued for.
    function denomination() external view returns (uint256);

    /// @notice Total debt that may be issued, in `currency` units.
    function issueVolume() external view returns (uint256);

    /// @notice Annual coupon rate in basis points.
    function couponRate() external view returns (uint256);

    function issueDate() external view returns (uint256);

    function maturityDate() external view returns (uint256);

    /// @notice The principal held by `account`, in `currency` units.
    function principalOf(address account) external view returns (uint256);

    function allowance(address owner, address spender) external view returns (uint256);

    function approve(address spender, uint256 amount) external returns (bool);

    /// @notice Lower the caller's allowance to `spender` by `amount`.
    function decreaseAllowance(address spender, uint256 amount) external returns (bool);

    /// @notice Move `amount` bonds to `to`, with `data` from the holder.
    function transfer(address to, uint256 amount, bytes calldata data) external returns (bool);

    /// @notice Move `amount` bonds from `from` to `to` within the caller's allowance, with `data`.
    function transferFrom(address from, address to, uint256 amount, bytes calldata data) external returns (bool);

    function batchApprove(address[] calldata spender, uint256[] calldata amount) external returns (bool);

    function batchDecreaseAllowance(address[] calldata spender, uint256[] calldata amount) external returns (bool);

    function batchTransfer(address[] calldata to, uint256[] calldata amount, bytes[] calldata data)
        external
        returns (bool);

    function batchTransferFrom(
        address[] calldata from,
        address[] calldata to,
        uint256[] calldata amount,
        bytes[] calldata data
    ) external returns (bool);
}

/// @title IERC7092ESG
/// @notice ERC-7092's optional interface of additional bond parameters.
interface IERC7092ESG {
    function decimals() external view returns (uint8);

    /// @notice The token in which coupons are paid.
    function currencyOfCoupon() external view returns (address);

    /// @notice The kind of coupon (here 0 zero coupon, 1 fixed rate).
    function couponType() external view returns (uint8);

    /// @notice How many coupons are paid per year.
    function couponFrequency() external view returns (uint256);

    /// @notice The day-count convention of accrued interest.
    function dayCountBasis() external view returns (uint8);
}
