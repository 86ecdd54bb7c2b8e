// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC7943Fungible} from "./IERC7943Fungible.sol";
import {RegulatedTokenAdmin} from "./RegulatedTokenAdmin.sol";
import {RegulatedTokenCore} from "./RegulatedTokenCore.sol";
import {TokenAccount, TokenConfig} from "./TokenPacking.sol";

/// @title RegulatedToken
/// @notice An ERC-20 token for regulated assets implementing ERC-7943 (fungible): per-account partial
/// freezes, whole-account freezes, pause, forced transfers, wallet recovery (kyc mode), mint, burn and
/// batch variants, compliance rules (see {ComplianceRules}) and record-date balance snapshots.
///
/// A token runs in one of two modes, fixed at deployment:
/// - `kyc`: every transfer and mint checks the identity registry (both parties verified) and the
///   compliance rules;
/// - `open`: no identity or rule checks; pause, freezes and forced transfers still apply. There is no
///   wallet recovery in open mode: nothing proves that two wallets belong to one holder.
///
/// Investors and their wallets (kyc mode). The registry says which investor a wallet belongs to now;
/// the token records, for each wallet holding tokens, the investor whose tokens they are (the
/// "holding investor", fixed when the wallet's balance rises from zero). An investor's total and the
/// investor count follow the holding investors, so they stay exact whatever the registry does: a
/// wallet that the registry unlinks, or links to another investor, while it holds tokens keeps
/// counting for its previous investor and can neither send nor receive (codes 13 and 14) until the
/// enforcement agent moves its tokens out; once empty it follows the registry again.
///
/// Payments of entitlements (coupons, dividends, principal): never while paused; withheld, with
/// {RegulatedTokenPaymentWithheld}, while the wallet to be paid could not send the token (frozen
/// account, all its tokens frozen, not verified in kyc mode, or no longer registered to the investor
/// that earned the payment), and made once it is cleared. On behalf of a holder only the wallet to be
/// paid or the paying agent (SUPPLY_ROLE) may claim, so nobody can push cash into a wallet whose owner
/// can no longer use it. Entitlements move with a wallet recovery (same investor), never with a
/// forced transfer.
///
/// Administration (pause, freezes, recovery, compliance settings) is delegated: see
/// {RegulatedTokenAdmin}. The layout and the gas it buys are described in {RegulatedTokenCore}.
abstract contract RegulatedToken is RegulatedTokenCore, IERC20, IERC20Metadata, IERC7943Fungible {
    using TokenAccount for uint256;
    using TokenConfig for uint256;

    address private immutable _administration;

    /// @param admin Receives DEFAULT_ADMIN_ROLE, SUPPLY_ROLE, ENFORCEMENT_ROLE and COMPLIANCE_ROLE.
    /// @param registry_ The registry consulted in kyc mode (may be zero in open mode).
    /// @param kyc True for kyc mode, false for open mode.
    constructor(string memory name_, string memory symbol_, address admin, address registry_, bool kyc)
        RegulatedTokenCore(registry_, kyc)
    {
        _name = name_;
        _symbol = symbol_;
        _administration = address(new RegulatedTokenAdmin(registry_, kyc));
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(SUPPLY_ROLE, admin);
        _grantRole(ENFORCEMENT_ROLE, admin);
        _grantRole(COMPLIANCE_ROLE, admin);
    }

    // ================================================================ ERC-20

    /// @inheritdoc IERC20Metadata
    function name() public view virtual returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC20Metadata
    function symbol() public view virtual returns (string memory) {
        return _symbol;
    }

    /// @inheritdoc IERC20Metadata
    function decimals() public view virtual returns (uint8) {
        return 0;
    }

    /// @inheritdoc IERC20
    function totalSupply() public view virtual returns (uint256) {
        return _fromRaw(_supply & TokenAccount.MAX_AMOUNT);
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) public view virtual returns (uint256) {
        return _fromRaw(_accounts[account].balance());
    }

    /// @inheritdoc IERC20
    function allowance(address owner, address spender) public view virtual returns (uint256) {
        return _allowances[owner][spender];
    }

    /// @inheritdoc IERC20
    function approve(address spender, uint256 value) public virtual returns (bool) {
        _approve(_msgSender(), spender, value);
        return true;
    }

    /// @inheritdoc IERC20
    function transfer(address to, uint256 value) public virtual returns (bool) {
        _transfer(_msgSender(), to, value);
        return true;
    }

    /// @inheritdoc IERC20
    function transferFrom(address from, address to, uint256 value) public virtual returns (bool) {
        _spendAllowance(from, _msgSender(), value);
        _transfer(from, to, value);
        return true;
    }

    /// @notice Transfer `values[i]` to `recipients[i]` from the caller, all or nothing.
    function batchTransfer(address[] calldata recipients, uint256[] calldata values) public virtual returns (bool) {
        if (recipients.length != values.length) revert RegulatedTokenLengthMismatch();
        address from = _msgSender();
        for (uint256 i = 0; i < recipients.length; ++i) {
            _transfer(from, recipients[i], values[i]);
        }
        return true;
    }

    // ================================================================ ERC-7943 and compliance views

    /// @inheritdoc IERC7943Fungible
    /// @dev False for a frozen account and, in kyc mode, for a wallet the registry does not verify or
    /// whose registry link changed while it held tokens.
    function canSend(address account) public view virtual returns (bool) {
        return _accountBlock(account, 0) == 0;
    }

    /// @inheritdoc IERC7943Fungible
    function canReceive(address account) public view virtual returns (bool) {
        return _accountBlock(account, 0) == 0;
    }

    /// @inheritdoc IERC7943Fungible
    /// @dev Checks pause, both parties, the unfrozen amount and, in kyc mode, every compliance rule;
    /// not the plain balance.
    function canTransfer(address from, address to, uint256 amount) public view virtual returns (bool) {
        return _transferViolations(from, to, amount) & ~uint256(1 << _INSUFFICIENT_BALANCE) == 0;
    }

    /// @notice Every rule a transfer of `amount` from `from` to `to` would break now, as ascending codes:
    /// 1 token paused, 2 sender not verified, 3 receiver not verified, 4 sender frozen, 5 receiver
    /// frozen, 6 insufficient unfrozen balance, 7 country not allowed, 8 max investors exceeded,
    /// 9 max balance exceeded, 10 lock-up active, 11 receiver not accredited, 12 insufficient balance,
    /// 13 the sender's registry link changed while it held tokens, 14 the same for the receiver.
    /// Empty when the transfer would succeed.
    function transferViolations(address from, address to, uint256 amount) public view virtual returns (uint8[] memory codes) {
        uint256 mask = _transferViolations(from, to, amount);
        codes = new uint8[](_popCount(mask));
        uint256 n = 0;
        for (uint8 code = _TOKEN_PAUSED; code <= _RECEIVER_WALLET_RELINKED; ++code) {
            if (mask & (1 << code) != 0) codes[n++] = code;
        }
    }

    /// @inheritdoc IERC7943Fungible
    function getFrozenTokens(address account) public view virtual returns (uint256) {
        return _fromRaw(_frozenTokens[account]);
    }

    /// @notice Whether the whole account is frozen (it can neither send nor receive).
    function isAccountFrozen(address account) public view virtual returns (bool) {
        return _accounts[account].isFrozen();
    }

    /// @notice The total balance of investor `investorId` over all the wallets holding its tokens (kyc
    /// mode; 0 otherwise).
    function investorBalance(uint32 investorId) public view virtual returns (uint256) {
        if (!_kyc) return 0;
        address key = _investorKey(investorId);
        return key == address(0) ? 0 : _fromRaw(_accounts[key].investorBalance());
    }

    /// @notice The investor whose tokens `wallet` holds: 0 when it holds none, and in open mode. It is
    /// the wallet's investor in the registry unless the registry changed the wallet's link while it
    /// held tokens.
    function holdingInvestorOf(address wallet) public view virtual returns (uint32) {
        uint256 word = _accounts[wallet];
        return word.balance() == 0 ? 0 : word.holder();
    }

    /// @notice Whether transfers, mints, holder burns and payments are paused.
    function paused() public view virtual returns (bool) {
        return _getConfig().paused();
    }

    /// @notice True in kyc mode, false in open mode.
    function kycMode() public view virtual returns (bool) {
        return _kyc;
    }

    /// @notice The identity registry consulted in kyc mode.
    function identityRegistry() public view virtual returns (address) {
        return address(_registry);
    }

    /// @notice The wallet that `lost` was recovered to for investor `investorId` (zero if it was not).
    function recoveredWallet(address lost, uint32 investorId) public view virtual returns (address) {
        return _recoveredTo[lost][investorId];
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC7943Fungible).interfaceId || super.supportsInterface(interfaceId);
    }

    // ================================================================ record dates

    /// @notice How many record dates were scheduled (ids run from 0).
    function recordDateCount() public view virtual returns (uint256) {
        return _recordDateCount;
    }

    /// @notice The timestamp of record date `recordId`.
    function recordDate(uint256 recordId) public view virtual returns (uint40) {
        return _recordDate(recordId);
    }

    /// @notice The balance of `account` at record date `recordId`, which must have passed.
    function balanceAtRecord(address account, uint256 recordId) public view virtual returns (uint256) {
        (uint256 raw,) = _rawBalanceAtRecord(account, recordId);
        return _fromRawAtRecord(raw, recordId);
    }

    /// @notice The total supply at record date `recordId`, which must have passed.
    function totalSupplyAtRecord(uint256 recordId) public view virtual returns (uint256) {
        return _fromRawAtRecord(_rawSupplyAtRecord(recordId), recordId);
    }

    // ================================================================ supply

    /// @notice Create `amount` tokens for `to`. In kyc mode `to` must be verified and the country, max
    /// investors, max balance and accredited rules apply (the lock-up does not).
    function mint(address to, uint256 amount) public virtual onlyRole(SUPPLY_ROLE) {
        _mint(to, amount);
    }

    /// @notice {mint} to many accounts, all or nothing.
    function batchMint(address[] calldata accounts, uint256[] calldata amounts) public virtual onlyRole(SUPPLY_ROLE) {
        if (accounts.length != amounts.length) revert RegulatedTokenLengthMismatch();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _mint(accounts[i], amounts[i]);
        }
    }

    /// @notice Destroy `amount` tokens of `account`, frozen ones included (the frozen amount is lowered
    /// and {Frozen} emitted first). Works on frozen accounts and while paused.
    function burn(address account, uint256 amount) public virtual onlyRole(SUPPLY_ROLE) {
        if (account == address(0)) revert ERC20InvalidSender(address(0));
        _move(account, address(0), amount, _BURN_CHECKS);
    }

    // ================================================================ administration (delegated)
    // Each runs in this token's administration module on this token's storage; see RegulatedTokenAdmin.

    /// @notice Stop transfers, mints, holder burns and payments to holders (enforcement actions keep
    /// working). ENFORCEMENT_ROLE.
    function pause() public virtual {
        _administer();
    }

    /// @notice Lift the pause. ENFORCEMENT_ROLE.
    function unpause() public virtual {
        _administer();
    }

    /// @inheritdoc IERC7943Fungible
    /// @dev ENFORCEMENT_ROLE.
    function setFrozenTokens(address, uint256) public virtual returns (bool) {
        _administer();
    }

    /// @notice {setFrozenTokens} for many accounts, all or nothing. ENFORCEMENT_ROLE.
    function batchSetFrozenTokens(address[] calldata, uint256[] calldata) public virtual returns (bool) {
        _administer();
    }

    /// @notice Freeze the whole account: it can neither send nor receive (enforcement actions aside),
    /// and payments to it are withheld. ENFORCEMENT_ROLE.
    function freezeAccount(address) public virtual {
        _administer();
    }

    /// @notice Lift a whole-account freeze. ENFORCEMENT_ROLE.
    function unfreezeAccount(address) public virtual {
        _administer();
    }

    /// @notice Kyc mode only. Move the whole balance, frozen amount and account-freeze flag of a lost
    /// wallet to a replacement wallet of the same investor, and pay to `replacement` what `lost` earned
    /// for that investor at past record dates (coupons, dividends). The investor is the one whose
    /// tokens `lost` holds or last held or, if it never held any, the one it is registered to;
    /// `replacement` must be a verified wallet of that investor. `lost` is frozen afterwards: nobody
    /// holds its key. If the registry later gives the address to another investor (the enforcement
    /// agent then lifts the freeze), what it earns from then on is paid to it, not to `replacement`.
    /// ENFORCEMENT_ROLE.
    function recoverWallet(address, address) public virtual {
        _administer();
    }

    /// @notice Set how the country list is read: 0 no country rule, 1 allow list, 2 block list.
    /// COMPLIANCE_ROLE.
    function setCountryRule(uint8) public virtual {
        _administer();
    }

    /// @notice Put `countries` on the country list (`listed`) or take them off. COMPLIANCE_ROLE.
    function setCountries(uint16[] calldata, bool) public virtual {
        _administer();
    }

    /// @notice At most `maxInvestors` distinct investors may hold the token; 0 removes the limit.
    /// Lowering it below the current count only stops new investors from coming in. COMPLIANCE_ROLE.
    function setMaxInvestors(uint32) public virtual {
        _administer();
    }

    /// @notice Each investor may hold at most `maxBalance` tokens over all its wallets; 0 removes the
    /// limit. COMPLIANCE_ROLE.
    function setMaxBalancePerInvestor(uint256) public virtual {
        _administer();
    }

    /// @notice Forbid transfers (not mints) until `lockupUntil`; 0 removes the lock-up. COMPLIANCE_ROLE.
    function setLockup(uint40) public virtual {
        _administer();
    }

    /// @notice Only investors flagged accredited in the identity registry may receive the token.
    /// COMPLIANCE_ROLE.
    function setAccreditedOnly(bool) public virtual {
        _administer();
    }

    /// @notice The administration module this token delegates to (created with the token).
    function administration() public view virtual returns (address) {
        return _administration;
    }

    /// @notice Raw storage units per token unit, 1 unless a subclass scales balances (see StockToken).
    function rawUnitsPerToken() public view virtual returns (uint256) {
        return _toRaw(1);
    }

    /// @dev Run the current call in the administration module, on this token's storage, and return or
    /// revert with its result. The module's address is fixed at deployment.
    function _administer() private {
        address module = _administration;
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            if iszero(ok) { revert(0, returndatasize()) }
            return(0, returndatasize())
        }
    }

    // ================================================================ enforcement

    /// @inheritdoc IERC7943Fungible
    /// @dev Bypasses pause, the sender's eligibility, partial freezes and the compliance rules, but not
    /// `canReceive(to)`. Frozen tokens it takes are unfrozen first ({Frozen} before {Transfer}). The
    /// tokens leave the investor whose tokens `from` holds (which is how the agent empties a wallet
    /// whose registry link changed). Entitlements earned at past record dates stay with `from`.
    function forcedTransfer(address from, address to, uint256 amount)
        public
        virtual
        onlyRole(ENFORCEMENT_ROLE)
        returns (bool)
    {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _move(from, to, amount, _FORCED_CHECKS);
        emit ForcedTransfer(from, to, amount);
        return true;
    }
}
