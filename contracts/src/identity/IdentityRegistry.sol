// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IIdentityRegistry, IdentityRecord} from "./IIdentityRegistry.sol";

/// @title IdentityRegistry
/// @notice Investors with several wallets each, a country (ISO 3166 numeric), attributes
/// (accredited, professional) and a KYC expiry, maintained by KYC providers.
/// @dev Every wallet holds a full copy of its investor's packed record, so that a token learns all it
/// needs about a transfer party from one storage slot. Investor-level changes are therefore written to
/// every wallet of the investor, which is why an investor has at most {MAX_WALLETS} wallets.
///
/// An investor is verified while it is not revoked and `block.timestamp < kycExpiry`. Revocation is
/// final: a revoked investor can no longer be updated nor receive wallets (its wallets may be removed).
contract IdentityRegistry is AccessControl, IIdentityRegistry {
    using IdentityRecord for uint256;

    /// @notice Role allowed to register, update and revoke investors and manage their wallets.
    bytes32 public constant KYC_PROVIDER_ROLE = keccak256("KYC_PROVIDER_ROLE");

    /// @notice Maximum number of wallets per investor (investor changes are written to each one).
    uint256 public constant MAX_WALLETS = 16;

    /// @dev Highest valid ISO 3166 numeric code.
    uint16 private constant _MAX_COUNTRY = 999;

    uint32 private _investorCount;
    mapping(address wallet => uint256) private _records;
    mapping(uint32 investorId => uint256) private _investors;
    mapping(uint32 investorId => address[]) private _wallets;
    /// @dev The investor whose key a wallet is. Tokens keep an investor's totals in its key wallet's
    /// storage, so a key wallet can never be linked to another investor, even after removal.
    mapping(address wallet => uint32 investorId) private _keyOf;

    /// @param admin Receives DEFAULT_ADMIN_ROLE and KYC_PROVIDER_ROLE.
    constructor(address admin) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(KYC_PROVIDER_ROLE, admin);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IIdentityRegistry
    function isVerified(address wallet) public view virtual returns (bool) {
        return _records[wallet].isVerified(block.timestamp);
    }

    /// @inheritdoc IIdentityRegistry
    function investorOf(address wallet) public view virtual returns (uint32) {
        return _records[wallet].investorId();
    }

    /// @inheritdoc IIdentityRegistry
    function walletRecord(address wallet) public view virtual returns (uint256) {
        return _records[wallet];
    }

    /// @inheritdoc IIdentityRegistry
    function walletRecords(address a, address b) public view virtual returns (uint256 recordA, uint256 recordB) {
        return (_records[a], _records[b]);
    }

    /// @inheritdoc IIdentityRegistry
    function investor(uint32 investorId)
        public
        view
        virtual
        returns (uint16 country, uint8 attributes, uint40 kycExpiry, bool revoked, address[] memory wallets)
    {
        uint256 record = _requireInvestor(investorId);
        uint8 flags = record.flags();
        return (
            record.country(),
            flags & ~IdentityRecord.REVOKED,
            record.kycExpiry(),
            flags & IdentityRecord.REVOKED != 0,
            _wallets[investorId]
        );
    }

    /// @inheritdoc IIdentityRegistry
    function investorCount() public view virtual returns (uint32) {
        return _investorCount;
    }

    /// @inheritdoc IIdentityRegistry
    function investorKey(uint32 investorId) public view virtual returns (address) {
        return _investors[investorId].key();
    }

    /// @notice The investor key of `wallet` (its investor's first wallet), the zero address when unknown.
    function investorKeyOf(address wallet) public view virtual returns (address) {
        return _records[wallet].key();
    }

    /// @inheritdoc AccessControl
    function supportsInterface(bytes4 interfaceId) public view virtual override returns (bool) {
        return interfaceId == type(IIdentityRegistry).interfaceId || super.supportsInterface(interfaceId);
    }

    // ---------------------------------------------------------------- KYC provider actions

    /// @notice Register a new investor with its first wallet, which becomes its permanent key.
    /// @param attributes Bit 0 accredited, bit 1 professional; bit 7 is reserved.
    /// @param kycExpiry The KYC is valid while `block.timestamp < kycExpiry`.
    function registerInvestor(address wallet, uint16 country, uint8 attributes, uint40 kycExpiry)
        public
        virtual
        onlyRole(KYC_PROVIDER_ROLE)
        returns (uint32 investorId)
    {
        return _registerInvestor(wallet, country, attributes, kycExpiry);
    }

    /// @notice {registerInvestor} for many investors; reverts as a whole if one entry is invalid.
    function batchRegisterInvestors(
        address[] calldata wallets,
        uint16[] calldata countries,
        uint8[] calldata attributes,
        uint40[] calldata kycExpiries
    ) public virtual onlyRole(KYC_PROVIDER_ROLE) returns (uint32[] memory investorIds) {
        uint256 n = wallets.length;
        if (countries.length != n || attributes.length != n || kycExpiries.length != n) {
            revert IdentityRegistryLengthMismatch();
        }
        investorIds = new uint32[](n);
        for (uint256 i = 0; i < n; ++i) {
            investorIds[i] = _registerInvestor(wallets[i], countries[i], attributes[i], kycExpiries[i]);
        }
    }

    /// @notice Change an investor's country, attributes and KYC expiry, on all of its wallets.
    function updateInvestor(uint32 investorId, uint16 country, uint8 attributes, uint40 kycExpiry)
        public
        virtual
        onlyRole(KYC_PROVIDER_ROLE)
    {
        uint256 record = _requireActiveInvestor(investorId);
        _validate(country, attributes, kycExpiry);
        _writeInvestor(investorId, IdentityRecord.pack(record.key(), country, kycExpiry, attributes, investorId));
        emit InvestorUpdated(investorId, country, attributes, kycExpiry);
    }

    /// @notice Revoke an investor for good: none of its wallets is verified any more.
    function revokeInvestor(uint32 investorId) public virtual onlyRole(KYC_PROVIDER_ROLE) {
        uint256 record = _requireActiveInvestor(investorId);
        _writeInvestor(investorId, record.revoked());
        emit InvestorRevoked(investorId);
    }

    /// @notice Link another wallet to an existing, not revoked investor.
    function addWallet(uint32 investorId, address wallet) public virtual onlyRole(KYC_PROVIDER_ROLE) {
        uint256 record = _requireActiveInvestor(investorId);
        _requireFreeWallet(wallet, investorId);
        address[] storage wallets = _wallets[investorId];
        if (wallets.length >= MAX_WALLETS) revert IdentityRegistryTooManyWallets(investorId, MAX_WALLETS);
        wallets.push(wallet);
        _records[wallet] = record;
        emit WalletAdded(investorId, wallet);
    }

    /// @notice Unlink a wallet from its investor. The investor keeps its key and its other wallets.
    function removeWallet(address wallet) public virtual onlyRole(KYC_PROVIDER_ROLE) {
        uint32 investorId = _records[wallet].investorId();
        if (investorId == 0) revert IdentityRegistryUnknownWallet(wallet);
        address[] storage wallets = _wallets[investorId];
        uint256 last = wallets.length - 1;
        for (uint256 i = 0; i <= last; ++i) {
            if (wallets[i] == wallet) {
                wallets[i] = wallets[last];
                wallets.pop();
                break;
            }
        }
        delete _records[wallet];
        emit WalletRemoved(investorId, wallet);
    }

    // ---------------------------------------------------------------- internals

    function _registerInvestor(address wallet, uint16 country, uint8 attributes, uint40 kycExpiry)
        internal
        virtual
        returns (uint32 investorId)
    {
        _requireFreeWallet(wallet, 0);
        _validate(country, attributes, kycExpiry);
        investorId = ++_investorCount;
        _keyOf[wallet] = investorId;
        uint256 record = IdentityRecord.pack(wallet, country, kycExpiry, attributes, investorId);
        _investors[investorId] = record;
        _records[wallet] = record;
        _wallets[investorId].push(wallet);
        emit InvestorRegistered(investorId, wallet, country, attributes, kycExpiry);
    }

    /// @dev Store `record` as the investor's record and copy it to each of its wallets.
    function _writeInvestor(uint32 investorId, uint256 record) internal virtual {
        _investors[investorId] = record;
        address[] storage wallets = _wallets[investorId];
        uint256 n = wallets.length;
        for (uint256 i = 0; i < n; ++i) {
            _records[wallets[i]] = record;
        }
    }

    function _validate(uint16 country, uint8 attributes, uint40 kycExpiry) internal view virtual {
        if (country == 0 || country > _MAX_COUNTRY) revert IdentityRegistryInvalidCountry(country);
        if (attributes & IdentityRecord.REVOKED != 0) revert IdentityRegistryInvalidAttributes(attributes);
        if (kycExpiry <= block.timestamp) revert IdentityRegistryInvalidExpiry(kycExpiry);
    }

    /// @dev `wallet` is non-zero, linked to no investor and not the key of an investor other than `investorId`.
    function _requireFreeWallet(address wallet, uint32 investorId) internal view virtual {
        if (wallet == address(0)) revert IdentityRegistryInvalidWallet(wallet);
        uint32 owner = _records[wallet].investorId();
        if (owner == 0) {
            uint32 keyOwner = _keyOf[wallet];
            if (keyOwner != 0 && keyOwner != investorId) owner = keyOwner;
        }
        if (owner != 0) revert IdentityRegistryWalletAlreadyRegistered(wallet, owner);
    }

    function _requireInvestor(uint32 investorId) internal view virtual returns (uint256 record) {
        record = _investors[investorId];
        if (record == 0) revert IdentityRegistryUnknownInvestor(investorId);
    }

    function _requireActiveInvestor(uint32 investorId) internal view virtual returns (uint256 record) {
        record = _requireInvestor(investorId);
        if (record.flags() & IdentityRecord.REVOKED != 0) revert IdentityRegistryInvestorRevoked(investorId);
    }
}
