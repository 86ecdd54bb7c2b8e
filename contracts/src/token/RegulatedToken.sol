// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IIdentityRegistry, IdentityRecord} from "../identity/IIdentityRegistry.sol";
import {IERC7943Fungible} from "./IERC7943Fungible.sol";
import {ComplianceRules} from "./ComplianceRules.sol";
import {TokenAccount, TokenConfig} from "./TokenPacking.sol";

/// @title RegulatedToken
/// @notice An ERC-20 token for regulated assets implementing ERC-7943 (fungible): per-account partial
/// freezes, whole-account freezes, pause, forced transfers, wallet recovery, mint, burn and batch
/// variants, compliance rules (see {ComplianceRules}) and record-date balance snapshots.
///
/// A token runs in one of two modes, fixed at deployment:
/// - `kyc`: every transfer and mint checks the identity registry (both parties verified) and the
///   compliance rules;
/// - `open`: no identity or rule checks; pause, freezes and forced transfers still apply.
///
/// @dev Gas comes from layout. Each account has one storage word (balance, frozen amount, the
/// investor's total balance when the account is its investor's key wallet, the account-frozen flag
/// and a record epoch), the whole configuration is one word, and the identity registry returns the
/// records of both parties in one call. A transfer between two investors' key wallets therefore
/// writes two words, like a plain ERC-20, plus one cold read of the configuration, one of the country
/// list and one registry call. The ERC-20 core is written here rather than inherited because the
/// balance has to share its word with that per-account data.
///
/// Amounts are kept in raw units, at most `type(uint80).max` in total; {_toRaw} and {_fromRaw} convert
/// from and to token units (the identity here; see StockToken for splits).
///
/// Record dates: {_scheduleRecordDate} adds strictly increasing future timestamps. The record epoch
/// is the number of record dates that have passed; it advances lazily on the first balance change at
/// or after a record date. An account whose balance changes in a later epoch than its previous change
/// first stores its previous balance as a checkpoint covering the record ids in between, so that
/// {balanceAtRecord} is exact while a transfer that crosses no record date only pays one comparison.
/// The balance at a record date is the balance just before the first block whose timestamp is at or
/// after that date.
abstract contract RegulatedToken is ComplianceRules, IERC20, IERC20Metadata, IERC20Errors, IERC7943Fungible {
    using TokenAccount for uint256;
    using TokenConfig for uint256;
    using IdentityRecord for uint256;

    /// @notice Role allowed to mint, burn and run the issuer's actions (coupons, dividends, splits...).
    bytes32 public constant SUPPLY_ROLE = keccak256("SUPPLY_ROLE");
    /// @notice Role allowed to pause, freeze, force transfers and recover wallets.
    bytes32 public constant ENFORCEMENT_ROLE = keccak256("ENFORCEMENT_ROLE");

    /// @dev The account word keeps the epoch in 15 bits.
    uint256 private constant _MAX_RECORD_DATES = (1 << 15) - 1;

    // Which rule codes each kind of balance change enforces (bit `code` set).
    uint256 private constant _TRANSFER_CHECKS = 0x1ffe; // codes 1..12
    uint256 private constant _MINT_CHECKS = (1 << _TOKEN_PAUSED) | (1 << _RECEIVER_NOT_VERIFIED)
        | (1 << _RECEIVER_FROZEN) | (1 << _COUNTRY_NOT_ALLOWED) | (1 << _MAX_INVESTORS_EXCEEDED)
        | (1 << _MAX_BALANCE_EXCEEDED) | (1 << _RECEIVER_NOT_ACCREDITED);
    uint256 private constant _FORCED_CHECKS =
        (1 << _RECEIVER_NOT_VERIFIED) | (1 << _RECEIVER_FROZEN) | (1 << _INSUFFICIENT_BALANCE);
    uint256 private constant _BURN_CHECKS = 1 << _INSUFFICIENT_BALANCE;
    uint256 private constant _HOLDER_BURN_CHECKS = (1 << _TOKEN_PAUSED) | (1 << _SENDER_NOT_VERIFIED)
        | (1 << _SENDER_FROZEN) | (1 << _INSUFFICIENT_UNFROZEN_BALANCE) | (1 << _INSUFFICIENT_BALANCE);
    uint256 private constant _SENDER_CODES = (1 << _SENDER_NOT_VERIFIED) | (1 << _SENDER_FROZEN);
    uint256 private constant _RECEIVER_CODES = (1 << _RECEIVER_NOT_VERIFIED) | (1 << _RECEIVER_FROZEN);

    IIdentityRegistry private immutable _registry;
    bool private immutable _kyc;

    string private _name;
    string private _symbol;
    /// @dev bits 0-79 total supply (raw), 80-95 record epoch of the last supply change.
    uint256 private _supply;
    mapping(address account => uint256) private _accounts;
    mapping(address account => mapping(address spender => uint256)) private _allowances;
    uint40[] private _recordDates;
    /// @dev Checkpoints: bits 0-15 first record id covered, 16-31 first id not covered, 32-111 raw amount.
    mapping(address account => uint256[]) private _balanceCheckpoints;
    uint256[] private _supplyCheckpoints;
    mapping(address lost => address) private _recoveredTo;

    /// @dev A balance change being checked and applied. Keys are investor keys (0 = not tracked).
    struct Move {
        address from;
        address to;
        uint256 value;
        uint256 fromAccount;
        uint256 toAccount;
        uint256 fromRecord;
        uint256 toRecord;
        address fromKey;
        address toKey;
        uint256 fromInvestorBalance;
        uint256 toInvestorBalance;
    }

    /// @notice The token was paused by `account`.
    event Paused(address account);
    /// @notice The token was unpaused by `account`.
    event Unpaused(address account);
    /// @notice `account` may no longer send nor receive tokens.
    event AccountFrozen(address indexed account);
    /// @notice `account` may send and receive tokens again.
    event AccountUnfrozen(address indexed account);
    /// @notice The balance (`amount`), frozen amount and freeze flag of `lost` moved to `replacement`.
    event WalletRecovered(address indexed lost, address indexed replacement, uint256 amount);
    /// @notice Record date `recordId` was set at `recordDate`.
    event RecordDateScheduled(uint256 indexed recordId, uint40 recordDate);

    /// @notice The operation is not possible while the token is paused.
    error EnforcedPause();
    /// @notice The operation needs the token to be paused.
    error ExpectedPause();
    /// @notice Minting would take the total supply to `newSupply`, above `cap`.
    error RegulatedTokenSupplyCapExceeded(uint256 newSupply, uint256 cap);
    /// @notice `amount` does not fit the token's storage (at most `max`).
    error RegulatedTokenAmountTooLarge(uint256 amount, uint256 max);
    /// @notice Batch arrays have different lengths.
    error RegulatedTokenLengthMismatch();
    /// @notice `account` cannot be used here (the zero address).
    error RegulatedTokenInvalidAccount(address account);
    /// @notice `lost` cannot be recovered to `replacement`: they must differ, be non-zero, `replacement`
    /// must not itself be a recovered wallet and, in kyc mode, both must belong to the same investor.
    error RegulatedTokenInvalidRecovery(address lost, address replacement);
    /// @notice A kyc-mode token needs an identity registry contract.
    error RegulatedTokenInvalidRegistry(address registry);
    /// @notice A record date must be in the future and after every earlier record date.
    error RegulatedTokenInvalidRecordDate(uint40 recordDate);
    /// @notice No more record dates can be scheduled.
    error RegulatedTokenTooManyRecordDates();
    /// @notice No record date has id `recordId`.
    error RegulatedTokenUnknownRecord(uint256 recordId);
    /// @notice Record date `recordId` (`recordDate`) has not passed yet.
    error RegulatedTokenRecordDateNotReached(uint256 recordId, uint40 recordDate);

    /// @param admin Receives DEFAULT_ADMIN_ROLE, SUPPLY_ROLE, ENFORCEMENT_ROLE and COMPLIANCE_ROLE.
    /// @param registry_ The registry consulted in kyc mode (may be zero in open mode).
    /// @param kyc True for kyc mode, false for open mode.
    constructor(string memory name_, string memory symbol_, address admin, address registry_, bool kyc) {
        if (kyc && registry_.code.length == 0) revert RegulatedTokenInvalidRegistry(registry_);
        _name = name_;
        _symbol = symbol_;
        _registry = IIdentityRegistry(registry_);
        _kyc = kyc;
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
    function canSend(address account) public view virtual returns (bool) {
        if (_accounts[account].isFrozen()) return false;
        return !_kyc || _registry.walletRecord(account).isVerified(block.timestamp);
    }

    /// @inheritdoc IERC7943Fungible
    function canReceive(address account) public view virtual returns (bool) {
        return canSend(account);
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
    /// 9 max balance exceeded, 10 lock-up active, 11 receiver not accredited, 12 insufficient balance.
    /// Empty when the transfer would succeed.
    function transferViolations(address from, address to, uint256 amount) public view virtual returns (uint8[] memory codes) {
        uint256 mask = _transferViolations(from, to, amount);
        codes = new uint8[](_popCount(mask));
        uint256 n = 0;
        for (uint8 code = _TOKEN_PAUSED; code <= _INSUFFICIENT_BALANCE; ++code) {
            if (mask & (1 << code) != 0) codes[n++] = code;
        }
    }

    /// @inheritdoc IERC7943Fungible
    function getFrozenTokens(address account) public view virtual returns (uint256) {
        return _fromRaw(_accounts[account].frozen());
    }

    /// @notice Whether the whole account is frozen (it can neither send nor receive).
    function isAccountFrozen(address account) public view virtual returns (bool) {
        return _accounts[account].isFrozen();
    }

    /// @notice The total balance of the investor owning `wallet` over all its wallets (kyc mode; 0 otherwise).
    function investorBalanceOf(address wallet) public view virtual returns (uint256) {
        if (!_kyc) return 0;
        address key = _registry.walletRecord(wallet).key();
        return key == address(0) ? 0 : _fromRaw(_accounts[key].investorBalance());
    }

    /// @notice Whether transfers, mints and holder burns are paused.
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

    /// @notice The wallet that `lost` was recovered to (zero if it was not recovered).
    function recoveredWallet(address lost) public view virtual returns (address) {
        return _recoveredTo[lost];
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override(AccessControl, IERC165) returns (bool) {
        return interfaceId == type(IERC7943Fungible).interfaceId || super.supportsInterface(interfaceId);
    }

    // ================================================================ record dates

    /// @notice How many record dates were scheduled (ids run from 0).
    function recordDateCount() public view virtual returns (uint256) {
        return _recordDates.length;
    }

    /// @notice The timestamp of record date `recordId`.
    function recordDate(uint256 recordId) public view virtual returns (uint40) {
        if (recordId >= _recordDates.length) revert RegulatedTokenUnknownRecord(recordId);
        return _recordDates[recordId];
    }

    /// @notice The balance of `account` at record date `recordId`, which must have passed.
    function balanceAtRecord(address account, uint256 recordId) public view virtual returns (uint256) {
        return _fromRawAtRecord(_rawBalanceAtRecord(account, recordId), recordId);
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

    // ================================================================ enforcement

    /// @notice Stop transfers, mints and holder burns (enforcement actions keep working).
    function pause() public virtual onlyRole(ENFORCEMENT_ROLE) {
        uint256 cfg = _getConfig();
        if (cfg.paused()) revert EnforcedPause();
        _setConfig(cfg.withPaused(true));
        emit Paused(_msgSender());
    }

    /// @notice Lift the pause.
    function unpause() public virtual onlyRole(ENFORCEMENT_ROLE) {
        uint256 cfg = _getConfig();
        if (!cfg.paused()) revert ExpectedPause();
        _setConfig(cfg.withPaused(false));
        emit Unpaused(_msgSender());
    }

    /// @inheritdoc IERC7943Fungible
    function setFrozenTokens(address account, uint256 amount) public virtual onlyRole(ENFORCEMENT_ROLE) returns (bool) {
        _setFrozenTokens(account, amount);
        return true;
    }

    /// @notice {setFrozenTokens} for many accounts, all or nothing.
    function batchSetFrozenTokens(address[] calldata accounts, uint256[] calldata amounts)
        public
        virtual
        onlyRole(ENFORCEMENT_ROLE)
        returns (bool)
    {
        if (accounts.length != amounts.length) revert RegulatedTokenLengthMismatch();
        for (uint256 i = 0; i < accounts.length; ++i) {
            _setFrozenTokens(accounts[i], amounts[i]);
        }
        return true;
    }

    /// @notice Freeze the whole account: it can neither send nor receive (enforcement actions aside).
    function freezeAccount(address account) public virtual onlyRole(ENFORCEMENT_ROLE) {
        _setAccountFrozen(account, true);
    }

    /// @notice Lift a whole-account freeze.
    function unfreezeAccount(address account) public virtual onlyRole(ENFORCEMENT_ROLE) {
        _setAccountFrozen(account, false);
    }

    /// @inheritdoc IERC7943Fungible
    /// @dev Bypasses pause, the sender's eligibility, partial freezes and the compliance rules, but not
    /// `canReceive(to)`. Frozen tokens it takes are unfrozen first ({Frozen} before {Transfer}).
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

    /// @notice Move the whole balance, frozen amount and account-freeze flag of a lost wallet to a
    /// replacement wallet of the same investor. Later coupon and dividend claims of `lost` pay `replacement`.
    /// In kyc mode the replacement must be verified ({ERC7943CannotReceive} otherwise).
    function recoverWallet(address lost, address replacement) public virtual onlyRole(ENFORCEMENT_ROLE) {
        if (
            lost == address(0) || replacement == address(0) || lost == replacement
                || _recoveredTo[replacement] != address(0)
        ) revert RegulatedTokenInvalidRecovery(lost, replacement);
        if (_kyc) {
            (uint256 lostRecord, uint256 newRecord) = _registry.walletRecords(lost, replacement);
            if (lostRecord == 0 || lostRecord.investorId() != newRecord.investorId()) {
                revert RegulatedTokenInvalidRecovery(lost, replacement);
            }
            // Like a forced transfer, a recovery never leaves tokens on a wallet that may not hold
            // them (a revoked or expired investor's wallets are not verified).
            if (!newRecord.isVerified(block.timestamp)) revert ERC7943CannotReceive(replacement);
        }
        uint256 epoch = _syncRecordEpoch().epoch();
        uint256 lostWord = _checkpointed(lost, _accounts[lost], epoch);
        uint256 amount = lostWord.balance();
        uint256 frozen = lostWord.frozen();
        bool flag = lostWord.isFrozen();
        // The investor balance stays: both wallets belong to the same investor.
        _accounts[lost] = lostWord.withBalance(0).withFrozen(0).withFrozenFlag(false);
        uint256 newWord = _checkpointed(replacement, _accounts[replacement], epoch);
        // Both balances are part of the total supply, which fits; frozen amounts are capped.
        uint256 newFrozen = _min(newWord.frozen() + frozen, TokenAccount.MAX_AMOUNT);
        newWord = newWord.withBalance(newWord.balance() + amount).withFrozen(newFrozen);
        _accounts[replacement] = flag ? newWord.withFrozenFlag(true) : newWord;
        _recoveredTo[lost] = replacement;

        uint256 units = _fromRaw(amount);
        if (frozen != 0) emit Frozen(lost, 0);
        emit Transfer(lost, replacement, units);
        if (frozen != 0) emit Frozen(replacement, _fromRaw(newFrozen));
        if (flag) {
            emit AccountUnfrozen(lost);
            emit AccountFrozen(replacement);
        }
        emit WalletRecovered(lost, replacement, units);
    }

    // ================================================================ internal: balance changes

    /// @dev A holder-initiated transfer: every rule applies. This is the path users pay for most, so it
    /// decides "allowed or not" with the fewest operations and leaves finding the reason to
    /// {_revertTransfer}, which evaluates the same rules as {transferViolations}.
    function _transfer(address from, address to, uint256 value) internal virtual {
        if (from == address(0)) revert ERC20InvalidSender(address(0));
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        uint256 raw = _toRaw(value);
        uint256 cfg = _syncRecordEpoch();
        uint256 fromWord = _accounts[from];
        uint256 toWord = _accounts[to];
        bool ok = !cfg.paused() && !fromWord.isFrozen() && !toWord.isFrozen()
            && raw <= _unfrozen(fromWord.balance(), fromWord.frozen());
        address fromKey;
        address toKey;
        if (ok && _kyc) (ok, fromKey, toKey) = _kycTransferAllowed(cfg, from, to, raw, fromWord, toWord);
        if (!ok) _revertTransfer(from, to, value);
        uint256 delta = _fastDelta(cfg.epoch(), from, to, raw, fromWord, toWord, fromKey, toKey);
        if (delta != 0) {
            // _fastDelta only allows amounts that the checked balances and investor totals can take.
            unchecked {
                _accounts[from] = fromWord - delta;
                _accounts[to] = toWord + delta;
            }
        } else {
            _apply(cfg, from, to, raw, fromWord, toWord, fromKey, toKey);
        }
        emit Transfer(from, to, value);
    }

    /// @dev The common transfer as one subtraction and one addition on the two words, or 0 when the
    /// general {_apply} is needed: a wallet sending to itself, a record date crossed, an investor total
    /// kept in a third word, an investor joining or leaving, or a zero amount.
    function _fastDelta(
        uint256 epoch,
        address from,
        address to,
        uint256 raw,
        uint256 fromWord,
        uint256 toWord,
        address fromKey,
        address toKey
    ) private pure returns (uint256) {
        if (from == to || fromWord.lastEpoch() != epoch || toWord.lastEpoch() != epoch) return 0;
        if (fromKey == toKey) return raw; // open mode or one investor: no investor total changes
        if (fromKey != from || toKey != to) return 0;
        uint256 toTotal = toWord.investorBalance();
        if (fromWord.investorBalance() <= raw || toTotal == 0 || toTotal + raw > TokenAccount.MAX_AMOUNT) return 0;
        return raw | (raw << 160);
    }

    /// @dev An issuer mint: see {mint}.
    function _mint(address to, uint256 value) internal virtual {
        if (to == address(0)) revert ERC20InvalidReceiver(address(0));
        _toRawChecked(value); // an amount that could never fit gets its own error, not an overflow
        _move(address(0), to, value, _MINT_CHECKS);
    }

    /// @dev A burn asked for by the holder (e.g. a redemption): pause, the holder's eligibility and its
    /// unfrozen balance apply.
    function _holderBurn(address account, uint256 value) internal virtual {
        _move(account, address(0), value, _HOLDER_BURN_CHECKS);
    }

    /// @dev Check the rules selected by `checks` (a mask of rule codes), revert with the most specific
    /// error, else move `value` token units and emit {Transfer}.
    function _move(address from, address to, uint256 value, uint256 checks) internal virtual {
        uint256 cfg = _syncRecordEpoch();
        Move memory m = _loadMove(from, to, _toRaw(value));
        uint256 broken = _violations(cfg, m) & checks;
        if (broken != 0) _revertFor(broken, m, value);
        _apply(cfg, from, to, m.value, m.fromAccount, m.toAccount, m.fromKey, m.toKey);
        emit Transfer(from, to, value);
    }

    /// @dev The kyc part of {_transfer}'s decision; must agree with {_identityViolations}. Also returns
    /// the investor keys of both parties.
    function _kycTransferAllowed(
        uint256 cfg,
        address from,
        address to,
        uint256 raw,
        uint256 fromWord,
        uint256 toWord
    ) private view returns (bool, address fromKey, address toKey) {
        {
            (uint256 fromRecord, uint256 toRecord) = _registry.walletRecords(from, to);
            if (!_identityAllows(cfg, fromRecord, toRecord)) return (false, fromKey, toKey);
            fromKey = fromRecord.key();
            toKey = toRecord.key();
        }
        if (fromKey == toKey || raw == 0) return (true, fromKey, toKey);
        uint256 maxBalance = cfg.maxBalance();
        uint256 maxInvestors = cfg.maxInvestors();
        if (maxBalance == 0 && maxInvestors == 0) return (true, fromKey, toKey);
        uint256 toTotal = (toKey == to ? toWord : _accounts[toKey]).investorBalance();
        if (maxBalance != 0 && toTotal + raw > maxBalance) return (false, fromKey, toKey);
        if (maxInvestors != 0 && toTotal == 0 && cfg.investorCount() >= maxInvestors) {
            // Still fine if the sender's investor leaves at the same time.
            if ((fromKey == from ? fromWord : _accounts[fromKey]).investorBalance() != raw) {
                return (false, fromKey, toKey);
            }
        }
        return (true, fromKey, toKey);
    }

    /// @dev Both parties verified, no lock-up, and the receiver passes the accredited and country rules.
    function _identityAllows(uint256 cfg, uint256 fromRecord, uint256 toRecord) private view returns (bool) {
        if (
            !fromRecord.isVerified(block.timestamp) || !toRecord.isVerified(block.timestamp)
                || block.timestamp < cfg.lockupUntil() || (cfg.accreditedOnly() && !toRecord.isAccredited())
        ) return false;
        uint8 mode = cfg.countryMode();
        return mode == _COUNTRY_RULE_NONE || _isCountryListed(toRecord.country()) != (mode == _COUNTRY_RULE_BLOCK_LIST);
    }

    /// @dev Revert a refused transfer with its most specific error.
    function _revertTransfer(address from, address to, uint256 value) private view {
        Move memory m = _loadMove(from, to, _toRaw(value));
        uint256 broken = _violations(_getConfig(), m) & _TRANSFER_CHECKS;
        if (broken != 0) _revertFor(broken, m, value);
        // Unreachable while {_kycTransferAllowed} agrees with {_violations}; refuse rather than guess.
        revert ERC7943CannotTransfer(from, to, value);
    }

    function _loadMove(address from, address to, uint256 raw) private view returns (Move memory m) {
        m.from = from;
        m.to = to;
        m.value = raw;
        if (from != address(0)) m.fromAccount = _accounts[from];
        if (to != address(0)) m.toAccount = _accounts[to];
        if (!_kyc) return m;
        (m.fromRecord, m.toRecord) = _registry.walletRecords(from, to);
        m.fromKey = m.fromRecord.key();
        m.toKey = m.toRecord.key();
        if (m.fromKey == m.toKey) return m; // same investor (or both unknown): its total does not change
        if (m.fromKey != address(0)) {
            m.fromInvestorBalance =
                (m.fromKey == from ? m.fromAccount : _accounts[m.fromKey]).investorBalance();
        }
        if (m.toKey != address(0)) {
            m.toInvestorBalance = (m.toKey == to ? m.toAccount : _accounts[m.toKey]).investorBalance();
        }
    }

    /// @dev Every rule `m` breaks, as a mask of rule codes.
    function _violations(uint256 cfg, Move memory m) private view returns (uint256 mask) {
        if (cfg.paused()) mask |= 1 << _TOKEN_PAUSED;
        if (m.fromAccount.isFrozen()) mask |= 1 << _SENDER_FROZEN;
        if (m.toAccount.isFrozen()) mask |= 1 << _RECEIVER_FROZEN;
        uint256 balance = m.fromAccount.balance();
        uint256 frozen = m.fromAccount.frozen();
        if (m.value > balance) mask |= 1 << _INSUFFICIENT_BALANCE;
        if (frozen != 0 && m.value > _unfrozen(balance, frozen)) mask |= 1 << _INSUFFICIENT_UNFROZEN_BALANCE;
        if (_kyc) mask |= _identityViolations(cfg, m);
    }

    function _identityViolations(uint256 cfg, Move memory m) private view returns (uint256 mask) {
        if (!m.fromRecord.isVerified(block.timestamp)) mask |= 1 << _SENDER_NOT_VERIFIED;
        if (!m.toRecord.isVerified(block.timestamp)) mask |= 1 << _RECEIVER_NOT_VERIFIED;
        if (block.timestamp < cfg.lockupUntil()) mask |= 1 << _LOCKUP_ACTIVE;
        // The receiver rules need the receiver's identity; an unknown receiver is reported as such.
        if (m.toRecord == 0) return mask;
        if (cfg.accreditedOnly() && !m.toRecord.isAccredited()) mask |= 1 << _RECEIVER_NOT_ACCREDITED;
        uint8 mode = cfg.countryMode();
        if (mode != _COUNTRY_RULE_NONE) {
            bool listed = _isCountryListed(m.toRecord.country());
            if (listed == (mode == _COUNTRY_RULE_BLOCK_LIST)) mask |= 1 << _COUNTRY_NOT_ALLOWED;
        }
        if (m.toKey == m.fromKey || m.value == 0) return mask; // no investor total changes
        uint256 maxBalance = cfg.maxBalance();
        // Written so that no amount overflows: views must not revert.
        if (maxBalance != 0 && (m.toInvestorBalance > maxBalance || m.value > maxBalance - m.toInvestorBalance)) {
            mask |= 1 << _MAX_BALANCE_EXCEEDED;
        }
        uint256 maxInvestors = cfg.maxInvestors();
        if (maxInvestors != 0 && m.toInvestorBalance == 0 && cfg.investorCount() >= maxInvestors) {
            // A new investor comes in; the count only grows if the sender's investor does not leave.
            bool senderLeaves = m.fromKey != address(0) && m.fromInvestorBalance == m.value;
            if (!senderLeaves) mask |= 1 << _MAX_INVESTORS_EXCEEDED;
        }
    }

    function _revertFor(uint256 broken, Move memory m, uint256 value) private view {
        if (broken & (1 << _TOKEN_PAUSED) != 0) revert EnforcedPause();
        if (broken & _SENDER_CODES != 0) revert ERC7943CannotSend(m.from);
        if (broken & _RECEIVER_CODES != 0) revert ERC7943CannotReceive(m.to);
        uint256 balance = m.fromAccount.balance();
        if (broken & (1 << _INSUFFICIENT_BALANCE) != 0) {
            revert ERC20InsufficientBalance(m.from, _fromRaw(balance), value);
        }
        if (broken & (1 << _INSUFFICIENT_UNFROZEN_BALANCE) != 0) {
            revert ERC7943InsufficientUnfrozenBalance(
                m.from, value, _fromRaw(_unfrozen(balance, m.fromAccount.frozen()))
            );
        }
        uint8 rule = _COUNTRY_NOT_ALLOWED;
        while (broken & (1 << rule) == 0) ++rule;
        revert ComplianceRuleViolated(rule, m.from, m.to, value);
    }

    /// @dev Write a checked move of `raw` units given the words read for the check. Investor totals
    /// change only between different investors (keys are zero in open mode). A word is re-read when
    /// an earlier write may have changed it (a wallet sending to itself or to its investor's key).
    function _apply(
        uint256 cfg,
        address from,
        address to,
        uint256 raw,
        uint256 fromWord,
        uint256 toWord,
        address fromKey,
        address toKey
    ) private {
        uint256 epoch = cfg.epoch();
        if (fromKey == toKey) fromKey = toKey = address(0);
        bool left;
        bool joined;
        if (from == address(0)) _increaseSupply(raw, epoch);
        else left = _debit(from, raw, fromWord, fromKey, epoch);
        if (to == address(0)) {
            _decreaseSupply(raw, epoch);
        } else {
            if (to == from || to == fromKey) toWord = _accounts[to];
            joined = _credit(to, raw, toWord, toKey, epoch);
        }
        if (left != joined) {
            uint256 count = _getConfig().investorCount();
            // The count is at most the number of investors holding tokens; 0 only if totals were
            // corrupted by re-linking a funded wallet, so it saturates instead of reverting.
            count = joined ? count + 1 : (count == 0 ? 0 : count - 1);
            _setConfig(_getConfig().withInvestorCount(count));
        }
    }

    /// @dev Take `raw` from `account` (word `word`); `key` is its investor key, or zero when its
    /// investor's total does not change. Returns whether that investor no longer holds tokens.
    function _debit(address account, uint256 raw, uint256 word, address key, uint256 epoch)
        private
        returns (bool left)
    {
        word = _checkpointed(account, word, epoch);
        uint256 balance = word.balance();
        uint256 frozen = word.frozen();
        if (frozen != 0 && raw > _unfrozen(balance, frozen)) {
            // Only forced transfers and burns get here; the frozen tokens they take are unfrozen first.
            frozen -= raw - _unfrozen(balance, frozen);
            word = word.withFrozen(frozen);
            emit Frozen(account, _fromRaw(frozen));
        }
        // The checks guarantee raw <= balance, and the balance sits in the low bits.
        unchecked {
            word -= raw;
        }
        if (key == account) {
            (word, left) = _investorDebit(word, raw);
            _accounts[account] = word;
        } else {
            _accounts[account] = word;
            if (key != address(0)) {
                uint256 keyWord;
                (keyWord, left) = _investorDebit(_accounts[key], raw);
                _accounts[key] = keyWord;
            }
        }
    }

    /// @dev Give `raw` to `account`, as {_debit}. Returns whether its investor just started holding tokens.
    function _credit(address account, uint256 raw, uint256 word, address key, uint256 epoch)
        private
        returns (bool joined)
    {
        // A balance never exceeds the total supply, capped at TokenAccount.MAX_AMOUNT: no carry out of
        // the low bits.
        unchecked {
            word = _checkpointed(account, word, epoch) + raw;
        }
        if (key == account) {
            (word, joined) = _investorCredit(word, raw);
            _accounts[account] = word;
        } else {
            _accounts[account] = word;
            if (key != address(0)) {
                uint256 keyWord;
                (keyWord, joined) = _investorCredit(_accounts[key], raw);
                _accounts[key] = keyWord;
            }
        }
    }

    /// @dev Investor totals saturate: they can only drift if a funded wallet is re-linked in the registry.
    function _investorDebit(uint256 word, uint256 raw) private pure returns (uint256, bool left) {
        uint256 total = word.investorBalance();
        uint256 rest = _saturatingSub(total, raw);
        return (word.withInvestorBalance(rest), total != 0 && rest == 0);
    }

    function _investorCredit(uint256 word, uint256 raw) private pure returns (uint256, bool joined) {
        uint256 total = word.investorBalance();
        return (word.withInvestorBalance(_min(total + raw, TokenAccount.MAX_AMOUNT)), total == 0 && raw != 0);
    }

    function _increaseSupply(uint256 raw, uint256 epoch) private {
        uint256 word = _checkpointedSupply(epoch);
        uint256 supply = (word & TokenAccount.MAX_AMOUNT) + raw;
        if (supply > TokenAccount.MAX_AMOUNT) {
            revert RegulatedTokenSupplyCapExceeded(_fromRaw(supply), _fromRaw(TokenAccount.MAX_AMOUNT));
        }
        _supply = (word & ~TokenAccount.MAX_AMOUNT) | supply;
    }

    function _decreaseSupply(uint256 raw, uint256 epoch) private {
        uint256 word = _checkpointedSupply(epoch);
        // The burnt amount came out of a balance, which is part of the supply.
        unchecked {
            _supply = word - raw;
        }
    }

    function _setFrozenTokens(address account, uint256 amount) internal virtual {
        if (account == address(0)) revert RegulatedTokenInvalidAccount(address(0));
        _accounts[account] = _accounts[account].withFrozen(_toRawChecked(amount));
        emit Frozen(account, amount);
    }

    function _setAccountFrozen(address account, bool frozen) internal virtual {
        if (account == address(0)) revert RegulatedTokenInvalidAccount(address(0));
        _accounts[account] = _accounts[account].withFrozenFlag(frozen);
        if (frozen) emit AccountFrozen(account);
        else emit AccountUnfrozen(account);
    }

    function _approve(address owner, address spender, uint256 value) internal virtual {
        if (owner == address(0)) revert ERC20InvalidApprover(address(0));
        if (spender == address(0)) revert ERC20InvalidSpender(address(0));
        _allowances[owner][spender] = value;
        emit Approval(owner, spender, value);
    }

    function _spendAllowance(address owner, address spender, uint256 value) internal virtual {
        uint256 current = _allowances[owner][spender];
        if (current == type(uint256).max) return;
        if (current < value) revert ERC20InsufficientAllowance(spender, current, value);
        // Checked just above.
        unchecked {
            _allowances[owner][spender] = current - value;
        }
    }

    /// @dev The wallet that receives payments due to `holder`: its recovery replacement, if any.
    function _payee(address holder) internal view virtual returns (address) {
        address next = _recoveredTo[holder];
        while (next != address(0)) {
            holder = next;
            next = _recoveredTo[holder];
        }
        return holder;
    }

    // ================================================================ internal: record dates

    /// @dev Schedule a record date: strictly after `block.timestamp` and after every earlier record date.
    function _scheduleRecordDate(uint40 date) internal virtual returns (uint256 recordId) {
        recordId = _recordDates.length;
        if (date <= block.timestamp || (recordId != 0 && date <= _recordDates[recordId - 1])) {
            revert RegulatedTokenInvalidRecordDate(date);
        }
        if (recordId >= _MAX_RECORD_DATES) revert RegulatedTokenTooManyRecordDates();
        uint256 cfg = _syncRecordEpoch();
        _recordDates.push(date);
        // After the sync the epoch counts every date already passed; if all scheduled dates have
        // passed, this one is the next.
        if (cfg.epoch() == recordId) _setConfig(cfg.withNextRecordDate(date));
        emit RecordDateScheduled(recordId, date);
    }

    /// @dev The configuration word with the record epoch brought up to date (written if it moved).
    function _syncRecordEpoch() internal virtual returns (uint256 cfg) {
        cfg = _getConfig();
        if (block.timestamp < cfg.nextRecordDate()) return cfg;
        (uint256 epoch, uint256 next) = _epochAt(cfg);
        cfg = cfg.withEpoch(epoch).withNextRecordDate(next);
        _setConfig(cfg);
    }

    /// @dev The current record epoch and next record date, given a possibly stale configuration.
    function _epochAt(uint256 cfg) private view returns (uint256 epoch, uint256 next) {
        epoch = cfg.epoch();
        next = cfg.nextRecordDate();
        uint256 count = _recordDates.length;
        while (next <= block.timestamp) {
            ++epoch;
            next = epoch < count ? _recordDates[epoch] : TokenConfig.NO_RECORD_DATE;
        }
    }

    /// @dev The current record epoch, without writing.
    function _currentEpoch() internal view virtual returns (uint256 epoch) {
        (epoch,) = _epochAt(_getConfig());
    }

    /// @dev Revert unless record `recordId` exists and its date has passed.
    function _requirePassedRecord(uint256 recordId) internal view virtual {
        uint40 date = recordDate(recordId);
        if (date > block.timestamp) revert RegulatedTokenRecordDateNotReached(recordId, date);
    }

    function _rawBalanceAtRecord(address account, uint256 recordId) internal view virtual returns (uint256) {
        _requirePassedRecord(recordId);
        uint256 word = _accounts[account];
        // No balance change since before the record date.
        if (word.lastEpoch() <= recordId) return word.balance();
        return _lookup(_balanceCheckpoints[account], recordId);
    }

    function _rawSupplyAtRecord(uint256 recordId) internal view virtual returns (uint256) {
        _requirePassedRecord(recordId);
        uint256 word = _supply;
        if (word >> 80 <= recordId) return word & TokenAccount.MAX_AMOUNT;
        return _lookup(_supplyCheckpoints, recordId);
    }

    /// @dev `word` with its epoch set to `epoch`, after saving the balance it held until now.
    function _checkpointed(address account, uint256 word, uint256 epoch) private returns (uint256) {
        uint256 last = word.lastEpoch();
        if (last == epoch) return word;
        uint256 balance = word.balance();
        // A zero balance needs no checkpoint: a record id with none reads as zero.
        if (balance != 0) _balanceCheckpoints[account].push(_packCheckpoint(last, epoch, balance));
        return word.withLastEpoch(epoch);
    }

    function _checkpointedSupply(uint256 epoch) private returns (uint256 word) {
        word = _supply;
        uint256 last = word >> 80;
        if (last == epoch) return word;
        uint256 supply = word & TokenAccount.MAX_AMOUNT;
        if (supply != 0) _supplyCheckpoints.push(_packCheckpoint(last, epoch, supply));
        return supply | (epoch << 80);
    }

    function _packCheckpoint(uint256 first, uint256 end, uint256 raw) private pure returns (uint256) {
        return first | (end << 16) | (raw << 32);
    }

    /// @dev The amount of the checkpoint covering `recordId`, zero when none does. Checkpoints are
    /// sorted and do not overlap; binary search for the first one ending after `recordId`.
    function _lookup(uint256[] storage checkpoints, uint256 recordId) private view returns (uint256) {
        uint256 low = 0;
        uint256 high = checkpoints.length;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if ((checkpoints[mid] >> 16) & 0xffff > recordId) high = mid;
            else low = mid + 1;
        }
        if (low == checkpoints.length) return 0;
        uint256 checkpoint = checkpoints[low];
        return checkpoint & 0xffff <= recordId ? checkpoint >> 32 : 0;
    }

    // ================================================================ internal: units

    /// @dev `account`'s balance in raw units.
    function _rawBalance(address account) internal view virtual returns (uint256) {
        return _accounts[account].balance();
    }

    /// @dev The total supply in raw units.
    function _rawTotalSupply() internal view virtual returns (uint256) {
        return _supply & TokenAccount.MAX_AMOUNT;
    }

    /// @dev Token units to raw units. Must not revert (views use it); saturate instead.
    function _toRaw(uint256 amount) internal view virtual returns (uint256) {
        return amount;
    }

    /// @inheritdoc ComplianceRules
    function _fromRaw(uint256 raw) internal view virtual override returns (uint256) {
        return raw;
    }

    /// @dev Raw units at record `recordId` to token units (differs from {_fromRaw} after a split).
    function _fromRawAtRecord(uint256 raw, uint256 recordId) internal view virtual returns (uint256) {
        recordId; // the default unit never changes
        return _fromRaw(raw);
    }

    /// @inheritdoc ComplianceRules
    function _toRawChecked(uint256 amount) internal view virtual override returns (uint256 raw) {
        raw = _toRaw(amount);
        if (raw > TokenAccount.MAX_AMOUNT) {
            revert RegulatedTokenAmountTooLarge(amount, _fromRaw(TokenAccount.MAX_AMOUNT));
        }
    }

    // ================================================================ internal: helpers

    function _transferViolations(address from, address to, uint256 amount) internal view virtual returns (uint256) {
        return _violations(_getConfig(), _loadMove(from, to, _toRaw(amount)));
    }

    function _unfrozen(uint256 balance, uint256 frozen) private pure returns (uint256) {
        return balance > frozen ? balance - frozen : 0;
    }

    function _saturatingSub(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a - b : 0;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _popCount(uint256 mask) private pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }
}
