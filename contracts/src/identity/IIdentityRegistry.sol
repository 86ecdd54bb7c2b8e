// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// @title IIdentityRegistry
/// @notice A registry of KYC'd investors, each with one or more wallets.
/// @dev Every wallet has one packed record (see {IdentityRecord}); tokens read the records of both
/// transfer parties with a single {walletRecords} call.
interface IIdentityRegistry {
    /// @dev An investor was registered with its first wallet, which is also its permanent key.
    event InvestorRegistered(
        uint32 indexed investorId,
        address indexed wallet,
        uint16 country,
        uint8 attributes,
        uint40 kycExpiry
    );
    /// @dev An investor's country, attributes or KYC expiry changed (on every one of its wallets).
    event InvestorUpdated(uint32 indexed investorId, uint16 country, uint8 attributes, uint40 kycExpiry);
    /// @dev An investor was revoked: none of its wallets is verified any more, permanently.
    event InvestorRevoked(uint32 indexed investorId);
    /// @dev A wallet was linked to an existing investor.
    event WalletAdded(uint32 indexed investorId, address indexed wallet);
    /// @dev A wallet was unlinked from its investor.
    event WalletRemoved(uint32 indexed investorId, address indexed wallet);

    /// @dev No investor has this id.
    error IdentityRegistryUnknownInvestor(uint32 investorId);
    /// @dev The wallet already belongs to an investor (possibly a revoked one).
    error IdentityRegistryWalletAlreadyRegistered(address wallet, uint32 investorId);
    /// @dev The wallet belongs to no investor.
    error IdentityRegistryUnknownWallet(address wallet);
    /// @dev The country is not an ISO 3166 numeric code in 1..999.
    error IdentityRegistryInvalidCountry(uint16 country);
    /// @dev The KYC expiry is not in the future.
    error IdentityRegistryInvalidExpiry(uint40 kycExpiry);
    /// @dev The attributes use the reserved bit 7.
    error IdentityRegistryInvalidAttributes(uint8 attributes);
    /// @dev The wallet is the zero address.
    error IdentityRegistryInvalidWallet(address wallet);
    /// @dev Batch arrays have different lengths.
    error IdentityRegistryLengthMismatch();
    /// @dev The investor already has the maximum number of wallets.
    error IdentityRegistryTooManyWallets(uint32 investorId, uint256 maxWallets);
    /// @dev The investor was revoked and can no longer be changed.
    error IdentityRegistryInvestorRevoked(uint32 investorId);

    /// @notice Whether `wallet` belongs to a known, not revoked investor whose KYC has not expired.
    function isVerified(address wallet) external view returns (bool);

    /// @notice The investor id of `wallet`, 0 when unknown.
    function investorOf(address wallet) external view returns (uint32);

    /// @notice The packed record of `wallet` (0 when unknown); layout in {IdentityRecord}.
    function walletRecord(address wallet) external view returns (uint256);

    /// @notice The packed records of two wallets in one call (both parties of a transfer).
    function walletRecords(address a, address b) external view returns (uint256 recordA, uint256 recordB);

    /// @notice An investor's data and wallets. Reverts with {IdentityRegistryUnknownInvestor}.
    function investor(uint32 investorId)
        external
        view
        returns (uint16 country, uint8 attributes, uint40 kycExpiry, bool revoked, address[] memory wallets);

    /// @notice How many investors were ever registered (ids run from 1 to this number).
    function investorCount() external view returns (uint32);

    /// @notice The key of investor `investorId` (its first wallet, kept even after that wallet is
    /// removed), the zero address when no investor has that id.
    function investorKey(uint32 investorId) external view returns (address);
}

/// @title IdentityRecord
/// @notice Layout of the packed per-wallet record returned by {IIdentityRegistry-walletRecord}.
/// @dev bits 0-159 investor key (the investor's first wallet; a key only, kept even if that wallet is
/// removed), 160-175 country, 176-215 KYC expiry, 216-223 flags (bit 0 accredited, bit 1
/// professional, bit 7 revoked), 224-255 investor id. A zero record means "unknown wallet".
library IdentityRecord {
    uint8 internal constant ACCREDITED = 1 << 0;
    uint8 internal constant PROFESSIONAL = 1 << 1;
    uint8 internal constant REVOKED = 1 << 7;

    uint256 private constant _COUNTRY_SHIFT = 160;
    uint256 private constant _EXPIRY_SHIFT = 176;
    uint256 private constant _FLAGS_SHIFT = 216;
    uint256 private constant _ID_SHIFT = 224;

    function pack(address investorKey, uint16 countryCode, uint40 expiry, uint8 flagBits, uint32 id)
        internal
        pure
        returns (uint256)
    {
        return uint256(uint160(investorKey)) | (uint256(countryCode) << _COUNTRY_SHIFT)
            | (uint256(expiry) << _EXPIRY_SHIFT) | (uint256(flagBits) << _FLAGS_SHIFT) | (uint256(id) << _ID_SHIFT);
    }

    /// @dev `record` with the revoked flag set.
    function revoked(uint256 record) internal pure returns (uint256) {
        return record | (uint256(REVOKED) << _FLAGS_SHIFT);
    }

    function key(uint256 record) internal pure returns (address) {
        return address(uint160(record));
    }

    function country(uint256 record) internal pure returns (uint16) {
        return uint16(record >> _COUNTRY_SHIFT);
    }

    function kycExpiry(uint256 record) internal pure returns (uint40) {
        return uint40(record >> _EXPIRY_SHIFT);
    }

    function flags(uint256 record) internal pure returns (uint8) {
        return uint8(record >> _FLAGS_SHIFT);
    }

    function investorId(uint256 record) internal pure returns (uint32) {
        return uint32(record >> _ID_SHIFT);
    }

    /// @dev Known, not revoked, and the KYC is still valid (it expires at `kycExpiry` exactly).
    function isVerified(uint256 record, uint256 timestamp) internal pure returns (bool) {
        return record != 0 && flags(record) & REVOKED == 0 && timestamp < kycExpiry(record);
    }

    function isAccredited(uint256 record) internal pure returns (bool) {
        return flags(record) & ACCREDITED != 0;
    }
}
