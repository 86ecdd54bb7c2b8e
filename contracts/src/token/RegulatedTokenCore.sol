// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IIdentityRegistry, IdentityRecord} from "../identity/IIdentityRegistry.sol";
import {IERC7943Fungible} from "./IERC7943Fungible.sol";
import {ComplianceRules} from "./ComplianceRules.sol";
import {TokenAccount, TokenCheckpoint, TokenConfig} from "./TokenPacking.sol";

/// @title RegulatedTokenCore
/// @notice The state and the logic of a regulated token; what it does is described in {RegulatedToken},
/// its public face. The rarely used administration (pause, freezes, recovery, compliance settings)
/// runs in {RegulatedTokenAdmin}, which each token creates and calls by delegatecall on its own
/// storage: both are built on this contract so that they share one storage layout, which is why state
/// and helpers here are internal rather than private.
/// @dev Gas comes from layout. Each account has one storage word (balance, the investor's total when
/// the account is its investor's key wallet, the holding investor, flags, record epoch and checkpoint
/// count), the whole configuration is one word, and the identity registry returns the records of both
/// parties in one call. A transfer between two investors' key wallets therefore writes two words, like
/// a plain ERC-20, plus one cold read of the configuration, one of the country list and one registry
/// call; a wallet that is not its investor's key wallet adds the read and write of that key word. The
/// ERC-20 core is written here rather than inherited because the balance has to share its word with
/// that per-account data.
///
/// Amounts are kept in raw units, at most `type(uint80).max` in total; {_toRaw} and {_fromRaw} convert
/// from and to token units (the identity here; see StockToken for splits).
///
/// Record dates: {_scheduleRecordDate} adds strictly increasing future timestamps. The record epoch
/// is the number of record dates that have passed; it advances lazily on the first balance change at
/// or after a record date. An account whose balance changes in a later epoch than its previous change
/// first stores its previous balance (and holding investor) as a checkpoint covering the record ids in
/// between, so that a record-date balance is exact while a transfer that crosses no record date only
/// pays one comparison. The balance at a record date is the balance just before the first block whose
/// timestamp is at or after that date.
abstract contract RegulatedTokenCore is ComplianceRules, IERC20Errors {
    using TokenAccount for uint256;
    using TokenCheckpoint for uint256;
    using TokenConfig for uint256;
    using IdentityRecord for uint256;

    /// @notice Role allowed to mint, burn and run the issuer's actions (coupons, dividends, splits...),
    /// and to pay entitlements on behalf of holders (the paying agent).
    bytes32 public constant SUPPLY_ROLE = keccak256("SUPPLY_ROLE");
    /// @notice Role allowed to pause, freeze, force transfers and recover wallets.
    bytes32 public constant ENFORCEMENT_ROLE = keccak256("ENFORCEMENT_ROLE");

    /// @dev Record ids, epochs and checkpoint counts fit the 16-bit fields of the packed words.
    uint256 private constant _MAX_RECORD_DATES = (1 << 15) - 1;

    // Which rule codes each kind of balance change enforces (bit `code` set).
    uint256 internal constant _TRANSFER_CHECKS = 0x7ffe; // codes 1..14
    uint256 internal constant _MINT_CHECKS = (1 << _TOKEN_PAUSED) | (1 << _RECEIVER_NOT_VERIFIED)
        | (1 << _RECEIVER_FROZEN) | (1 << _COUNTRY_NOT_ALLOWED) | (1 << _MAX_INVESTORS_EXCEEDED)
        | (1 << _MAX_BALANCE_EXCEEDED) | (1 << _RECEIVER_NOT_ACCREDITED) | (1 << _RECEIVER_WALLET_RELINKED);
    uint256 internal constant _FORCED_CHECKS = (1 << _RECEIVER_NOT_VERIFIED) | (1 << _RECEIVER_FROZEN)
        | (1 << _INSUFFICIENT_BALANCE) | (1 << _RECEIVER_WALLET_RELINKED);
    uint256 internal constant _BURN_CHECKS = 1 << _INSUFFICIENT_BALANCE;
    uint256 private constant _HOLDER_BURN_CHECKS = (1 << _TOKEN_PAUSED) | (1 << _SENDER_NOT_VERIFIED)
        | (1 << _SENDER_FROZEN) | (1 << _INSUFFICIENT_UNFROZEN_BALANCE) | (1 << _INSUFFICIENT_BALANCE)
        | (1 << _SENDER_WALLET_RELINKED);
    uint256 private constant _SENDER_CODES =
        (1 << _SENDER_NOT_VERIFIED) | (1 << _SENDER_FROZEN) | (1 << _SENDER_WALLET_RELINKED);
    uint256 private constant _RECEIVER_CODES =
        (1 << _RECEIVER_NOT_VERIFIED) | (1 << _RECEIVER_FROZEN) | (1 << _RECEIVER_WALLET_RELINKED);

    IIdentityRegistry internal immutable _registry;
    bool internal immutable _kyc;

    string internal _name;
    string internal _symbol;
    /// @dev bits 0-79 total supply (raw), 80-95 record epoch of the last supply change, 96-111 the
    /// number of supply checkpoints.
    uint256 internal _supply;
    mapping(address account => uint256) internal _accounts;
    mapping(address account => uint256) internal _frozenTokens;
    mapping(address account => mapping(address spender => uint256)) internal _allowances;
    mapping(uint256 recordId => uint256) internal _recordDates;
    uint256 internal _recordDateCount;
    mapping(address account => mapping(uint256 index => uint256)) internal _balanceCheckpoints;
    mapping(uint256 index => uint256) internal _supplyCheckpoints;
    mapping(address lost => mapping(uint32 investorId => address)) internal _recoveredTo;

    /// @dev A balance change being checked and applied. Amounts are raw. `fromInvestor` is the investor
    /// whose tokens leave (the holding investor of `from`), `toInvestor` the receiving wallet's investor
    /// in the registry; keys are where their totals live (all zero in open mode).
    struct Move {
        address from;
        address to;
        uint256 value;
        uint256 fromAccount;
        uint256 toAccount;
        uint256 fromFrozen;
        uint256 fromRecord;
        uint256 toRecord;
        uint32 fromInvestor;
        uint32 toInvestor;
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
    /// @notice The balance (`amount`), frozen amount and freeze flag of `lost` moved to `replacement`,
    /// a wallet of the same investor `investorId`, and what `lost` earned for that investor at past
    /// record dates is now paid to `replacement`.
    event WalletRecovered(address indexed lost, address indexed replacement, uint32 investorId, uint256 amount);
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
    /// must be a wallet of the investor whose tokens `lost` held (or, if it held none, of the investor
    /// it is registered to), and neither may already be recovered for that investor.
    error RegulatedTokenInvalidRecovery(address lost, address replacement);
    /// @notice Wallet recovery needs the identity registry: in open mode nothing proves that two
    /// wallets belong to one holder (use {forcedTransfer}, which moves no past entitlement).
    error RegulatedTokenRecoveryNeedsKyc();
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
    /// @notice A payment to `payee` is withheld while it could not send the token: `rule` is 2 (not a
    /// verified investor), 4 (account frozen), 6 (all its tokens frozen) or 13 (its registry link
    /// changed while it held tokens). The entitlement stays; it is paid once the cause is cleared.
    error RegulatedTokenPaymentWithheld(address payee, uint8 rule);
    /// @notice `caller` may not claim on behalf of `holder`: only the wallet to be paid or the paying
    /// agent (SUPPLY_ROLE) may.
    error RegulatedTokenClaimNotAllowed(address caller, address holder);

    /// @param registry_ The registry consulted in kyc mode (may be zero in open mode).
    /// @param kyc True for kyc mode, false for open mode.
    constructor(address registry_, bool kyc) {
        if (kyc && registry_.code.length == 0) revert RegulatedTokenInvalidRegistry(registry_);
        _registry = IIdentityRegistry(registry_);
        _kyc = kyc;
    }

    // ================================================================ internal: administration

    /// @dev Stop transfers, mints, holder burns and payments.
    function _pause() internal virtual {
        uint256 cfg = _getConfig();
        if (cfg.paused()) revert EnforcedPause();
        _setConfig(cfg.withPaused(true));
        emit Paused(_msgSender());
    }

    /// @dev Lift the pause.
    function _unpause() internal virtual {
        uint256 cfg = _getConfig();
        if (!cfg.paused()) revert ExpectedPause();
        _setConfig(cfg.withPaused(false));
        emit Unpaused(_msgSender());
    }

    /// @dev Kyc mode only. Move the whole balance, frozen amount and account-freeze flag of a lost
    /// wallet to a replacement wallet of the same investor, and pay to `replacement` what `lost` earned
    /// for that investor at past record dates (coupons, dividends). The investor is the one whose
    /// tokens `lost` holds or last held or, if it never held any, the one it is registered to;
    /// `replacement` must be a verified wallet of that investor. `lost` is frozen afterwards: nobody
    /// holds its key. If the registry later gives the address to another investor (the enforcement
    /// agent then lifts the freeze), what it earns from then on is paid to it, not to `replacement`.
    function _recoverWallet(address lost, address replacement) internal virtual {
        if (!_kyc) revert RegulatedTokenRecoveryNeedsKyc();
        if (lost == address(0) || replacement == address(0) || lost == replacement) {
            revert RegulatedTokenInvalidRecovery(lost, replacement);
        }
        (uint256 lostRecord, uint256 newRecord) = _records(lost, replacement);
        uint256 lostWord = _accounts[lost];
        // Whose tokens `lost` holds, or last held: what it earned at past record dates is theirs.
        uint32 owner = lostWord.holder() != 0 ? lostWord.holder() : lostRecord.investorId();
        if (
            owner == 0 || newRecord.investorId() != owner || _recoveredTo[lost][owner] != address(0)
                || _recoveredTo[replacement][owner] != address(0)
        ) revert RegulatedTokenInvalidRecovery(lost, replacement);
        uint256 newWord = _accounts[replacement];
        // Like a forced transfer, a recovery never leaves tokens on a wallet that may not hold them.
        if (!newRecord.isVerified(block.timestamp) || (newWord.balance() != 0 && newWord.holder() != owner)) {
            revert IERC7943Fungible.ERC7943CannotReceive(replacement);
        }
        _recoveredTo[lost][owner] = replacement;
        uint256 amount = _recover(lost, replacement, owner, lostWord, newWord);
        emit WalletRecovered(lost, replacement, owner, _fromRaw(amount));
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
        bool ok = !cfg.paused() && !fromWord.isFrozen() && !toWord.isFrozen() && raw <= fromWord.balance()
            && (!fromWord.hasFrozenTokens() || raw <= _unfrozen(fromWord.balance(), _frozenTokens[from]));
        if (ok && _kyc) {
            ok = _kycTransfer(cfg, from, to, raw, fromWord, toWord);
        } else if (ok) {
            uint256 epoch = cfg.epoch();
            if (from != to && fromWord.lastEpoch() == epoch && toWord.lastEpoch() == epoch) {
                // The checks above guarantee raw <= the sender's balance; a balance never exceeds the
                // supply, which fits the low bits.
                unchecked {
                    _accounts[from] = fromWord - raw;
                    _accounts[to] = toWord + raw;
                }
            } else {
                Move memory m;
                (m.from, m.to, m.value, m.fromAccount, m.toAccount) = (from, to, raw, fromWord, toWord);
                _apply(cfg, m);
            }
        }
        if (!ok) _revertTransfer(from, to, value);
        emit IERC20.Transfer(from, to, value);
    }

    /// @dev The kyc part of {_transfer}: decide (must agree with {_identityViolations}) and, if allowed,
    /// apply. Two wallets of one investor in the current record epoch: one subtraction and one addition.
    function _kycTransfer(uint256 cfg, address from, address to, uint256 raw, uint256 fromWord, uint256 toWord)
        private
        returns (bool)
    {
        (uint256 fromRecord, uint256 toRecord) = _records(from, to);
        if (!_identityAllows(cfg, fromRecord, toRecord)) return false;
        // A wallet whose registry link changed while it held tokens can neither send nor receive.
        if (
            (fromWord.balance() != 0 && fromWord.holder() != fromRecord.investorId())
                || (toWord.balance() != 0 && toWord.holder() != toRecord.investorId())
        ) return false;
        // Nothing to checkpoint, and the receiver already counts for its investor.
        bool current = from != to && fromWord.lastEpoch() == cfg.epoch() && toWord.lastEpoch() == cfg.epoch()
            && toWord.holder() == toRecord.investorId();
        if (fromRecord.investorId() != toRecord.investorId() && raw != 0) {
            (bool allowed, bool done) = _transferBetweenInvestors(
                cfg, from, to, raw, fromWord, toWord, fromRecord.key(), toRecord.key(), current
            );
            if (!allowed) return false;
            if (done) return true;
        } else if (current) {
            // The checks guarantee raw <= the sender's balance; balances fit the low bits.
            unchecked {
                _accounts[from] = fromWord - raw;
                _accounts[to] = toWord + raw;
            }
            return true;
        }
        _apply(cfg, _kycMove(from, to, raw, fromWord, toWord, fromRecord, toRecord));
        return true;
    }

    /// @dev {_kycTransfer} between two investors: check the investor rules and, when both investors keep
    /// holding tokens and no record date is crossed (`current`), make the move (`done`): the investors'
    /// totals live in their key wallets' words, so it is two to four additions on the words involved.
    function _transferBetweenInvestors(
        uint256 cfg,
        address from,
        address to,
        uint256 raw,
        uint256 fromWord,
        uint256 toWord,
        address fromKey,
        address toKey,
        bool current
    ) private returns (bool allowed, bool done) {
        uint256 fromKeyWord = fromKey == from ? fromWord : _accounts[fromKey];
        uint256 toKeyWord = toKey == to ? toWord : _accounts[toKey];
        (allowed, done) = _investorRules(cfg, raw, fromKeyWord.investorBalance(), toKeyWord.investorBalance());
        if (!allowed || !done || !current) return (allowed, false);
        uint256 shifted = raw << 80;
        // raw <= the sender's balance <= its investor's total; totals and balances fit their fields.
        // Different investors have different keys, and neither key is the other party's wallet.
        unchecked {
            if (fromKey == from) fromWord -= shifted;
            else _accounts[fromKey] = fromKeyWord - shifted;
            if (toKey == to) toWord += shifted;
            else _accounts[toKey] = toKeyWord + shifted;
            _accounts[from] = fromWord - raw;
            _accounts[to] = toWord + raw;
        }
    }

    /// @dev Whether a move of `raw` between two investors with these totals keeps the max-balance and
    /// max-investors rules (`allowed`), and whether both investors hold tokens before and after (`steady`:
    /// the investor count does not change).
    function _investorRules(uint256 cfg, uint256 raw, uint256 fromTotal, uint256 toTotal)
        private
        pure
        returns (bool allowed, bool steady)
    {
        uint256 limit = cfg.maxBalance();
        // Totals are exact sums of balances, so they fit: no overflow.
        if (limit != 0 && toTotal + raw > limit) return (false, false);
        limit = cfg.maxInvestors();
        // A new investor comes in; still fine if the sender's investor leaves at the same time.
        if (limit != 0 && toTotal == 0 && fromTotal != raw && cfg.investorCount() >= limit) return (false, false);
        return (true, fromTotal > raw && toTotal != 0);
    }

    /// @dev The {Move} of an allowed holder transfer (both wallets count for their registry investors).
    function _kycMove(
        address from,
        address to,
        uint256 raw,
        uint256 fromWord,
        uint256 toWord,
        uint256 fromRecord,
        uint256 toRecord
    ) private pure returns (Move memory m) {
        (m.from, m.to, m.value, m.fromAccount, m.toAccount) = (from, to, raw, fromWord, toWord);
        (m.fromInvestor, m.toInvestor) = (fromRecord.investorId(), toRecord.investorId());
        (m.fromKey, m.toKey) = (fromRecord.key(), toRecord.key());
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
        _apply(cfg, m);
        emit IERC20.Transfer(from, to, value);
    }

    /// @dev Revert a refused transfer with its most specific error.
    function _revertTransfer(address from, address to, uint256 value) private view {
        Move memory m = _loadMove(from, to, _toRaw(value));
        uint256 broken = _violations(_getConfig(), m) & _TRANSFER_CHECKS;
        if (broken != 0) _revertFor(broken, m, value);
        // Unreachable while {_kycTransfer} agrees with {_violations}; refuse rather than guess.
        revert IERC7943Fungible.ERC7943CannotTransfer(from, to, value);
    }

    function _loadMove(address from, address to, uint256 raw) private view returns (Move memory m) {
        m.from = from;
        m.to = to;
        m.value = raw;
        if (from != address(0)) m.fromAccount = _accounts[from];
        if (to != address(0)) m.toAccount = _accounts[to];
        if (m.fromAccount.hasFrozenTokens()) m.fromFrozen = _frozenTokens[from];
        if (!_kyc) return m;
        (m.fromRecord, m.toRecord) = _records(from, to);
        m.toInvestor = m.toRecord.investorId();
        m.toKey = m.toRecord.key();
        if (from != address(0)) {
            uint32 registered = m.fromRecord.investorId();
            // The tokens leaving are the holding investor's, whatever the registry says now.
            m.fromInvestor = m.fromAccount.balance() != 0 ? m.fromAccount.holder() : registered;
            m.fromKey = m.fromInvestor == registered ? m.fromRecord.key() : _investorKey(m.fromInvestor);
        }
        if (m.fromInvestor == m.toInvestor) return m; // one investor (or none): its total does not change
        if (m.fromKey != address(0)) {
            m.fromInvestorBalance = (m.fromKey == from ? m.fromAccount : _accounts[m.fromKey]).investorBalance();
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
        if (m.value > balance) mask |= 1 << _INSUFFICIENT_BALANCE;
        if (m.fromFrozen != 0 && m.value > _unfrozen(balance, m.fromFrozen)) {
            mask |= 1 << _INSUFFICIENT_UNFROZEN_BALANCE;
        }
        if (_kyc) mask |= _identityViolations(cfg, m);
    }

    function _identityViolations(uint256 cfg, Move memory m) private view returns (uint256 mask) {
        if (!m.fromRecord.isVerified(block.timestamp)) mask |= 1 << _SENDER_NOT_VERIFIED;
        if (!m.toRecord.isVerified(block.timestamp)) mask |= 1 << _RECEIVER_NOT_VERIFIED;
        if (block.timestamp < cfg.lockupUntil()) mask |= 1 << _LOCKUP_ACTIVE;
        if (m.fromAccount.balance() != 0 && m.fromAccount.holder() != m.fromRecord.investorId()) {
            mask |= 1 << _SENDER_WALLET_RELINKED;
        }
        if (m.toAccount.balance() != 0 && m.toAccount.holder() != m.toInvestor) {
            mask |= 1 << _RECEIVER_WALLET_RELINKED;
        }
        // The receiver rules need the receiver's identity; an unknown receiver is reported as such.
        if (m.toRecord == 0) return mask;
        if (cfg.accreditedOnly() && !m.toRecord.isAccredited()) mask |= 1 << _RECEIVER_NOT_ACCREDITED;
        uint8 mode = cfg.countryMode();
        if (mode != _COUNTRY_RULE_NONE) {
            bool listed = _isCountryListed(m.toRecord.country());
            if (listed == (mode == _COUNTRY_RULE_BLOCK_LIST)) mask |= 1 << _COUNTRY_NOT_ALLOWED;
        }
        if (m.toInvestor == m.fromInvestor || m.value == 0) return mask; // no investor total changes
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
        if (broken & _SENDER_CODES != 0) revert IERC7943Fungible.ERC7943CannotSend(m.from);
        if (broken & _RECEIVER_CODES != 0) revert IERC7943Fungible.ERC7943CannotReceive(m.to);
        uint256 balance = m.fromAccount.balance();
        if (broken & (1 << _INSUFFICIENT_BALANCE) != 0) {
            revert ERC20InsufficientBalance(m.from, _fromRaw(balance), value);
        }
        if (broken & (1 << _INSUFFICIENT_UNFROZEN_BALANCE) != 0) {
            revert IERC7943Fungible.ERC7943InsufficientUnfrozenBalance(m.from, value, _fromRaw(_unfrozen(balance, m.fromFrozen)));
        }
        uint8 rule = _COUNTRY_NOT_ALLOWED;
        while (broken & (1 << rule) == 0) ++rule;
        revert ComplianceRuleViolated(rule, m.from, m.to, value);
    }

    /// @dev Write a checked move given the words read for the check. The tokens leave the holding
    /// investor of `from` and join the registry investor of `to`; totals change only between different
    /// investors (all zero in open mode). A word is re-read when an earlier write may have changed it (a
    /// wallet sending to itself); a key word is a third (and fourth) word only for a wallet that is not
    /// its investor's key.
    function _apply(uint256 cfg, Move memory m) private {
        uint256 epoch = cfg.epoch();
        uint256 raw = m.value;
        bool tracked = m.fromInvestor != m.toInvestor && raw != 0;
        bool left;
        bool joined;
        if (m.from == address(0)) {
            _increaseSupply(raw, epoch);
        } else {
            uint256 word = _takeFrozen(m.from, _checkpointed(m.from, m.fromAccount, epoch), raw);
            // The checks guarantee raw <= balance, and the balance sits in the low bits.
            unchecked {
                word -= raw;
            }
            if (tracked && m.fromKey == m.from) (word, left) = _investorDebit(word, raw);
            _accounts[m.from] = word;
        }
        if (m.to == address(0)) {
            _decreaseSupply(raw, epoch);
        } else {
            uint256 word = _checkpointed(m.to, m.to == m.from ? _accounts[m.to] : m.toAccount, epoch);
            if (word.balance() == 0) word = word.withHolder(m.toInvestor);
            // A balance never exceeds the total supply, capped at TokenAccount.MAX_AMOUNT: no carry out
            // of the low bits.
            unchecked {
                word += raw;
            }
            if (tracked && m.toKey == m.to) (word, joined) = _investorCredit(word, raw);
            _accounts[m.to] = word;
        }
        if (tracked) {
            // Different investors have different keys, and neither key is the other party's wallet.
            uint256 keyWord;
            if (m.fromKey != address(0) && m.fromKey != m.from) {
                (keyWord, left) = _investorDebit(_accounts[m.fromKey], raw);
                _accounts[m.fromKey] = keyWord;
            }
            if (m.toKey != address(0) && m.toKey != m.to) {
                (keyWord, joined) = _investorCredit(_accounts[m.toKey], raw);
                _accounts[m.toKey] = keyWord;
            }
        }
        if (left != joined) {
            uint256 count = cfg.investorCount();
            // The count is the number of investors with a positive total: exact, so it cannot underflow.
            _setConfig(_getConfig().withInvestorCount(joined ? count + 1 : count - 1));
        }
    }

    /// @dev The moves of {recoverWallet} once checked; returns the raw amount moved.
    function _recover(address lost, address replacement, uint32 owner, uint256 lostWord, uint256 newWord)
        private
        returns (uint256 amount)
    {
        amount = lostWord.balance();
        uint256 frozen;
        if (lostWord.hasFrozenTokens()) {
            frozen = _frozenTokens[lost];
            delete _frozenTokens[lost];
            lostWord = lostWord.withFrozenTokensFlag(false);
            emit IERC7943Fungible.Frozen(lost, 0);
        }
        Move memory m;
        (m.from, m.to, m.value, m.fromAccount, m.toAccount) = (lost, replacement, amount, lostWord, newWord);
        // One investor on both sides: its total (kept in its key wallet's word) does not change.
        (m.fromInvestor, m.toInvestor) = (owner, owner);
        _apply(_syncRecordEpoch(), m);
        emit IERC20.Transfer(lost, replacement, _fromRaw(amount));
        if (frozen != 0) {
            frozen = _min(_frozenTokens[replacement] + frozen, TokenAccount.MAX_AMOUNT);
            _frozenTokens[replacement] = frozen;
            _accounts[replacement] = _accounts[replacement].withFrozenTokensFlag(true);
            emit IERC7943Fungible.Frozen(replacement, _fromRaw(frozen));
        }
        // The freeze follows the tokens; the lost wallet itself is frozen from now on.
        if (!lostWord.isFrozen()) _setAccountFrozen(lost, true);
        else if (!newWord.isFrozen()) _setAccountFrozen(replacement, true);
    }

    /// @dev `word` (of `account`) after lowering its frozen amount so that `raw` tokens can leave: only
    /// forced transfers and burns take frozen tokens, and they unfreeze them first.
    function _takeFrozen(address account, uint256 word, uint256 raw) private returns (uint256) {
        if (!word.hasFrozenTokens()) return word;
        uint256 frozen = _frozenTokens[account];
        uint256 unfrozen = _unfrozen(word.balance(), frozen);
        if (raw <= unfrozen) return word;
        frozen -= raw - unfrozen;
        _frozenTokens[account] = frozen;
        emit IERC7943Fungible.Frozen(account, _fromRaw(frozen));
        return word.withFrozenTokensFlag(frozen != 0);
    }

    /// @dev Take `raw` from the investor total in `word`; returns whether the investor no longer holds
    /// tokens. Totals are exact sums of balances, so a checked subtraction can only fail on a bug.
    function _investorDebit(uint256 word, uint256 raw) private pure returns (uint256, bool left) {
        uint256 rest = word.investorBalance() - raw;
        return (word.withInvestorBalance(rest), rest == 0);
    }

    function _investorCredit(uint256 word, uint256 raw) private pure returns (uint256, bool joined) {
        uint256 total = word.investorBalance();
        return (word.withInvestorBalance(total + raw), total == 0);
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
        uint256 raw = _toRawChecked(amount);
        _frozenTokens[account] = raw;
        _accounts[account] = _accounts[account].withFrozenTokensFlag(raw != 0);
        emit IERC7943Fungible.Frozen(account, amount);
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
        emit IERC20.Approval(owner, spender, value);
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

    // ================================================================ internal: payments

    /// @dev The wallet to pay what `holder` earned for `investor` (its holding investor at the record
    /// date), once checked that the payment may be made now, for the caller: not while paused; on
    /// behalf of a holder (`onBehalf`) only by that wallet itself or the paying agent (SUPPLY_ROLE); and
    /// withheld while that wallet could not send the token or, in kyc mode, is no longer registered to
    /// `investor`. The wallet is the end of `holder`'s recovery chain for `investor`, if it was
    /// recovered, else `holder`: a recovery made for one investor never redirects what the address
    /// earned for another.
    function _payee(address holder, uint32 investor, bool onBehalf) internal view virtual returns (address payee) {
        if (_getConfig().paused()) revert EnforcedPause();
        payee = holder;
        if (_kyc && investor != 0) {
            address next = _recoveredTo[payee][investor];
            while (next != address(0)) {
                payee = next;
                next = _recoveredTo[payee][investor];
            }
        }
        address caller = _msgSender();
        if (onBehalf && caller != payee && !hasRole(SUPPLY_ROLE, caller)) {
            revert RegulatedTokenClaimNotAllowed(caller, holder);
        }
        uint256 word = _accounts[payee];
        uint8 rule = _accountBlock(payee, investor);
        if (
            (rule == 0 || rule > _INSUFFICIENT_UNFROZEN_BALANCE) && word.hasFrozenTokens() && word.balance() != 0
                && _frozenTokens[payee] >= word.balance()
        ) rule = _INSUFFICIENT_UNFROZEN_BALANCE;
        if (rule != 0) revert RegulatedTokenPaymentWithheld(payee, rule);
    }

    /// @dev Why `account` may neither send nor receive (the lowest sender rule code), 0 if it may. In
    /// kyc mode, `expected` (unless 0) is the investor the account must be registered to.
    function _accountBlock(address account, uint32 expected) internal view returns (uint8) {
        uint256 word = _accounts[account];
        if (_kyc) {
            (uint256 record,) = _records(account, address(0));
            if (!record.isVerified(block.timestamp)) return _SENDER_NOT_VERIFIED;
            if (word.isFrozen()) return _SENDER_FROZEN;
            uint32 registered = record.investorId();
            if ((word.balance() != 0 && word.holder() != registered) || (expected != 0 && expected != registered)) {
                return _SENDER_WALLET_RELINKED;
            }
            return 0;
        }
        return word.isFrozen() ? _SENDER_FROZEN : 0;
    }

    // ================================================================ internal: record dates

    /// @dev Schedule a record date: strictly after `block.timestamp` and after every earlier record date.
    function _scheduleRecordDate(uint40 date) internal virtual returns (uint256 recordId) {
        recordId = _recordDateCount;
        if (date <= block.timestamp || (recordId != 0 && date <= _recordDates[recordId - 1])) {
            revert RegulatedTokenInvalidRecordDate(date);
        }
        if (recordId >= _MAX_RECORD_DATES) revert RegulatedTokenTooManyRecordDates();
        uint256 cfg = _syncRecordEpoch();
        _recordDates[recordId] = date;
        _recordDateCount = recordId + 1;
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

    /// @dev The current record epoch and next record date, given a possibly stale configuration. A
    /// record id with no date reads as zero: no more dates.
    function _epochAt(uint256 cfg) private view returns (uint256 epoch, uint256 next) {
        epoch = cfg.epoch();
        next = cfg.nextRecordDate();
        while (next <= block.timestamp) {
            ++epoch;
            next = _recordDates[epoch];
            if (next == 0) next = TokenConfig.NO_RECORD_DATE;
        }
    }

    /// @dev The current record epoch, without writing.
    function _currentEpoch() internal view virtual returns (uint256 epoch) {
        (epoch,) = _epochAt(_getConfig());
    }

    /// @dev Revert unless record `recordId` exists and its date has passed.
    function _requirePassedRecord(uint256 recordId) internal view virtual {
        uint40 date = _recordDate(recordId);
        if (date > block.timestamp) revert RegulatedTokenRecordDateNotReached(recordId, date);
    }

    /// @dev The timestamp of record date `recordId`, which must exist.
    function _recordDate(uint256 recordId) internal view virtual returns (uint40) {
        if (recordId >= _recordDateCount) revert RegulatedTokenUnknownRecord(recordId);
        return uint40(_recordDates[recordId]);
    }

    /// @dev `account`'s raw balance at record `recordId` and the investor whose tokens they were.
    function _rawBalanceAtRecord(address account, uint256 recordId) internal view virtual returns (uint256, uint32) {
        _requirePassedRecord(recordId);
        uint256 word = _accounts[account];
        // No balance change since before the record date.
        if (word.lastEpoch() <= recordId) return (word.balance(), word.holder());
        uint256 checkpoint = _lookup(_balanceCheckpoints[account], word.checkpoints(), recordId);
        return (checkpoint.amount(), checkpoint.investor());
    }

    function _rawSupplyAtRecord(uint256 recordId) internal view virtual returns (uint256) {
        _requirePassedRecord(recordId);
        uint256 word = _supply;
        if (uint16(word >> 80) <= recordId) return word & TokenAccount.MAX_AMOUNT;
        return _lookup(_supplyCheckpoints, uint16(word >> 96), recordId).amount();
    }

    /// @dev `word` with its epoch set to `epoch`, after saving the balance it held until now.
    function _checkpointed(address account, uint256 word, uint256 epoch) private returns (uint256) {
        uint256 last = word.lastEpoch();
        if (last == epoch) return word;
        uint256 count = word.checkpoints();
        uint256 balance = word.balance();
        // A zero balance needs no checkpoint: a record id with none reads as zero.
        if (balance != 0) {
            _balanceCheckpoints[account][count] = TokenCheckpoint.pack(last, epoch, word.holder(), balance);
            ++count;
        }
        return word.withEpoch(epoch, count);
    }

    function _checkpointedSupply(uint256 epoch) private returns (uint256 word) {
        word = _supply;
        uint256 last = uint16(word >> 80);
        if (last == epoch) return word;
        uint256 count = uint16(word >> 96);
        uint256 supply = word & TokenAccount.MAX_AMOUNT;
        if (supply != 0) {
            _supplyCheckpoints[count] = TokenCheckpoint.pack(last, epoch, 0, supply);
            ++count;
        }
        return supply | (epoch << 80) | (count << 96);
    }

    /// @dev The checkpoint covering `recordId` among the first `count`, zero when none does. Checkpoints
    /// are sorted and do not overlap; binary search for the first one ending after `recordId`.
    function _lookup(mapping(uint256 => uint256) storage checkpoints, uint256 count, uint256 recordId)
        private
        view
        returns (uint256)
    {
        uint256 low = 0;
        uint256 high = count;
        while (low < high) {
            uint256 mid = (low + high) / 2;
            if (checkpoints[mid].end() > recordId) high = mid;
            else low = mid + 1;
        }
        if (low == count) return 0;
        uint256 checkpoint = checkpoints[low];
        return checkpoint.first() <= recordId ? checkpoint : 0;
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

    /// @dev The registry records of two wallets (one call site, to keep the code small).
    function _records(address a, address b) internal view returns (uint256, uint256) {
        return _registry.walletRecords(a, b);
    }

    function _investorKey(uint32 investorId) internal view returns (address) {
        return _registry.investorKey(investorId);
    }

    function _unfrozen(uint256 balance, uint256 frozen) internal pure returns (uint256) {
        return balance > frozen ? balance - frozen : 0;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _popCount(uint256 mask) internal pure returns (uint256 n) {
        for (; mask != 0; mask &= mask - 1) ++n;
    }
}
