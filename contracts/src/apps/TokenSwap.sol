// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";

/// @title TokenSwap
/// @notice The kind of small application anyone may build on tokens: an escrow of standing offers.
/// A maker escrows `giveAmount` of `give` and asks `wantAmount` of `want`; any taker pays the ask
/// straight to the maker and receives the escrowed tokens, in one transaction; the maker may cancel
/// an offer nobody took and gets the escrow back.
/// @dev The demos deploy it as an outsider's application. It trusts the two tokens it is given:
/// a token that refuses a transfer (a regulated token's compliance) makes the whole call revert.
contract TokenSwap is ReentrancyGuard {
    using SafeERC20 for IERC20;

    struct Offer {
        address maker;
        IERC20 give;
        uint256 giveAmount;
        IERC20 want;
        uint256 wantAmount;
        bool open;
    }

    Offer[] private _offers;

    /// @notice An offer was made and its tokens escrowed.
    event OfferMade(uint256 indexed offerId, address indexed maker, address give, uint256 giveAmount, address want, uint256 wantAmount);
    /// @notice An offer was taken: the ask went to the maker, the escrow to the taker.
    event OfferTaken(uint256 indexed offerId, address indexed taker);
    /// @notice An offer was cancelled and its escrow returned.
    event OfferCancelled(uint256 indexed offerId);

    /// @notice The offer does not exist or was taken or cancelled.
    error TokenSwapOfferClosed(uint256 offerId);
    /// @notice Only the maker may cancel its offer.
    error TokenSwapNotMaker(uint256 offerId, address caller);
    /// @notice Offers move a positive amount of two different tokens.
    error TokenSwapInvalidOffer();

    /// @notice Escrow `giveAmount` of `give` (approve it first) against `wantAmount` of `want`.
    function make(IERC20 give, uint256 giveAmount, IERC20 want, uint256 wantAmount)
        external
        nonReentrant
        returns (uint256 offerId)
    {
        if (giveAmount == 0 || wantAmount == 0 || address(give) == address(want)) {
            revert TokenSwapInvalidOffer();
        }
        offerId = _offers.length;
        _offers.push(Offer(msg.sender, give, giveAmount, want, wantAmount, true));
        give.safeTransferFrom(msg.sender, address(this), giveAmount);
        emit OfferMade(offerId, msg.sender, address(give), giveAmount, address(want), wantAmount);
    }

    /// @notice Pay the ask of offer `offerId` to its maker (approve it first) and receive the escrow.
    function take(uint256 offerId) external nonReentrant {
        Offer storage entry = _open(offerId);
        entry.open = false;
        entry.want.safeTransferFrom(msg.sender, entry.maker, entry.wantAmount);
        entry.give.safeTransfer(msg.sender, entry.giveAmount);
        emit OfferTaken(offerId, msg.sender);
    }

    /// @notice Close offer `offerId` and return its escrow to the maker.
    function cancel(uint256 offerId) external nonReentrant {
        Offer storage entry = _open(offerId);
        if (entry.maker != msg.sender) {
            revert TokenSwapNotMaker(offerId, msg.sender);
        }
        entry.open = false;
        entry.give.safeTransfer(entry.maker, entry.giveAmount);
        emit OfferCancelled(offerId);
    }

    /// @notice Offer `offerId` as stored (maker, give, giveAmount, want, wantAmount, open).
    function offer(uint256 offerId) external view returns (Offer memory) {
        if (offerId >= _offers.length) {
            revert TokenSwapOfferClosed(offerId);
        }
        return _offers[offerId];
    }

    /// @notice Number of offers ever made.
    function offerCount() external view returns (uint256) {
        return _offers.length;
    }

    function _open(uint256 offerId) private view returns (Offer storage entry) {
        if (offerId >= _offers.length || !_offers[offerId].open) {
            revert TokenSwapOfferClosed(offerId);
        }
        entry = _offers[offerId];
    }
}
