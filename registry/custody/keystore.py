"""The custodial keystore: one encrypted key file per key in ``<data dir>/keystore/``.

Each file is an Ethereum keystore v3 document (eth-account's ``Account.encrypt``: scrypt, then
AES-128-CTR, with a MAC), so geth, ethers, Foundry's ``cast wallet`` and MetaMask can read it;
the registry adds a top-level ``label`` field, which those tools ignore. The file is named after
the key's checksum address (``0xAbC….json``). Listing reads the ``address`` and ``label`` fields
and decrypts nothing.

- **Passphrase.** One passphrase, ``REGISTRY_KEYSTORE_PASSPHRASE``, encrypts every key. It is kept
  as a `pydantic.SecretStr` and is never logged, put in a repr, an error message or a returned
  value. Without it, keys can be listed and deleted, but not created, imported or unlocked
  (`PassphraseMissingError` names the variable). There is deliberately no development default: a
  passphrase printed in the documentation protects nothing, and the embedded chains already offer
  development accounts (``registry.chain.accounts``) for keys that need no protection.
- **Files.** The folder is created with mode 0700 (tightened, with a warning, if it is looser) and
  each file with mode 0600 from its first byte. A key is written to a hidden temporary file in the
  same folder, flushed to disk, then hard-linked to its final name, which fails if the name exists
  (no key is ever overwritten), and the folder entry is flushed too. A crash at any point leaves
  either no key file or a complete one; a leftover hidden temporary file is ignored by listing.
- **Unlocking** decrypts once per process and keeps the key in memory (a decryption costs about a
  second at the default work factor). A file whose ``address`` field does not match its decrypted
  key is refused: that field is not covered by the MAC, so a tampered file could otherwise make
  custody sign for another address than the one listed.

Labels are unique within the keystore (checked under a lock of this process; two processes
creating the same label at the same instant can both succeed).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from pydantic import SecretStr

from registry.errors import (
    InvalidInputError,
    KeyExistsError,
    KeyFileCorruptError,
    KeyNotFoundError,
    KeystoreError,
    PassphraseMissingError,
    WrongPassphraseError,
)
from registry.settings import DEFAULT_KDF_N, MAX_KDF_N

if TYPE_CHECKING:
    from registry.settings import Settings

logger = logging.getLogger(__name__)

PASSPHRASE_VARIABLE = "REGISTRY_KEYSTORE_PASSPHRASE"
"""The environment variable holding the keystore's passphrase."""

LABEL_MAX_LENGTH = 64
"""Longest label a key may have."""

WEAK_KDF_N = 2**14
"""Below this scrypt work factor new key files are announced as fit for tests only."""

_KEY_SUFFIX = ".json"
_SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


@dataclass(frozen=True)
class KeyInfo:
    """A key of the keystore as listed, without decrypting it."""

    address: ChecksumAddress
    """The key's checksum address."""
    label: str
    """The name people gave it (the file name for key files without a label)."""
    path: Path
    """Its file."""


def check_label(label: str) -> str:
    """``label`` stripped, if it is a usable key label.

    Raises:
        InvalidInputError: empty, longer than `LABEL_MAX_LENGTH`, or holding control characters.
    """
    if not isinstance(label, str):
        raise InvalidInputError("label", f"a label is a string, got {type(label).__name__}")
    stripped = label.strip()
    if not stripped:
        raise InvalidInputError("label", "a key needs a label, e.g. 'workshop issuer'")
    if len(stripped) > LABEL_MAX_LENGTH:
        raise InvalidInputError(
            "label", f"a label has at most {LABEL_MAX_LENGTH} characters, got {len(stripped)}"
        )
    if any(unicodedata.category(char).startswith("C") for char in stripped):
        raise InvalidInputError("label", "a label cannot hold control characters (newlines, tabs...)")
    return stripped


def check_address(address: str, field: str = "address") -> ChecksumAddress:
    """``address`` as a checksum address.

    Raises:
        InvalidInputError: it is not a 20-byte hex address (``field`` names the argument).
    """
    if not isinstance(address, str) or not is_address(address):
        raise InvalidInputError(field, f"{address!r} is not an Ethereum address (0x and 40 hex digits)")
    return to_checksum_address(address)


def _private_key_bytes(private_key: SecretStr | str | bytes) -> bytes:
    """The 32 bytes of ``private_key``; errors never echo the key."""
    value = private_key.get_secret_value() if isinstance(private_key, SecretStr) else private_key
    if isinstance(value, str):
        text = value.strip().removeprefix("0x")
        if len(text) != 64:
            raise InvalidInputError(
                "private_key", f"a private key is 64 hex digits (32 bytes), got {len(text)} characters"
            )
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise InvalidInputError("private_key", "a private key is hex digits only") from None
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value)
    else:
        raise InvalidInputError("private_key", f"expected hex text or bytes, got {type(value).__name__}")
    if len(raw) != 32:
        raise InvalidInputError("private_key", f"a private key is 32 bytes, got {len(raw)}")
    if not 0 < int.from_bytes(raw, "big") < _SECP256K1_ORDER:
        raise InvalidInputError("private_key", "not a valid secp256k1 private key (zero or too large)")
    return raw


class Keystore:
    """The keys in ``folder``, encrypted with ``passphrase`` (scrypt work factor ``kdf_n`` for new files)."""

    def __init__(self, folder: Path, passphrase: SecretStr | None, *, kdf_n: int = DEFAULT_KDF_N) -> None:
        if kdf_n < 2 or kdf_n > MAX_KDF_N or kdf_n & (kdf_n - 1):
            raise InvalidInputError(
                "kdf_n", f"scrypt's N is a power of two from 2 to {MAX_KDF_N}, got {kdf_n}"
            )
        self.folder = Path(folder)
        """The keystore folder."""
        self.kdf_n = kdf_n
        """scrypt work factor of the key files this keystore writes."""
        self._passphrase = passphrase
        self._lock = threading.RLock()
        self._unlocked: dict[ChecksumAddress, LocalAccount] = {}
        self._weak_announced = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Keystore:
        """The keystore of the data directory, with the passphrase and work factor of ``settings``."""
        return cls(settings.keystore_dir(), settings.keystore_passphrase, kdf_n=settings.keystore_kdf_n)

    def __repr__(self) -> str:
        state = "set" if self._passphrase is not None else "unset"
        return f"Keystore({str(self.folder)!r}, passphrase {state})"

    @property
    def has_passphrase(self) -> bool:
        """True when a passphrase is configured (whether it is the right one shows at unlocking)."""
        return self._passphrase is not None

    # -- listing ---------------------------------------------------------------------------------

    def list_keys(self) -> list[KeyInfo]:
        """Every key, sorted by label; decrypts nothing.

        A file that is not a keystore v3 key is skipped with a warning (see `get` to have the error).
        """
        found: dict[ChecksumAddress, KeyInfo] = {}
        for path in self._files():
            try:
                info = _read_info(path)
            except KeyFileCorruptError as exc:
                logger.warning("skipping %s in the keystore: %s", path.name, exc)
                continue
            # A key dropped in by hand under another name may duplicate ours: keep the canonical file.
            if info.address not in found or path.name == _file_name(info.address):
                found[info.address] = info
        return sorted(found.values(), key=lambda info: (info.label.casefold(), info.address))

    def _files(self) -> Iterator[Path]:
        if not self.folder.is_dir():
            return
        for path in sorted(self.folder.iterdir()):
            # Hidden names are temporary files being written (or left by a crash).
            if not path.name.startswith(".") and path.is_file():
                yield path

    def get(self, address: str) -> KeyInfo:
        """The key of ``address``.

        Raises:
            InvalidInputError: ``address`` is not an address.
            KeyNotFoundError: no key file holds that address.
            KeyFileCorruptError: the key's file is damaged.
        """
        checksum = check_address(address)
        canonical = self.folder / _file_name(checksum)
        if canonical.is_file():
            return _read_info(canonical)
        for info in self.list_keys():
            if info.address == checksum:
                return info
        raise KeyNotFoundError(
            f"the keystore {self.folder} holds no key for {checksum}; list the keys with "
            "Keystore.list_keys(), or create or import one"
        )

    def find(self, label: str) -> KeyInfo:
        """The key labelled ``label`` (compared without case).

        Raises:
            KeyNotFoundError: no key has that label.
        """
        wanted = check_label(label).casefold()
        for info in self.list_keys():
            if info.label.casefold() == wanted:
                return info
        labels = ", ".join(repr(info.label) for info in self.list_keys()) or "none"
        raise KeyNotFoundError(f"no key labelled {label!r} in {self.folder}; the labels are: {labels}")

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str) or not is_address(address):
            return False
        try:
            self.get(address)
        except (KeyNotFoundError, KeyFileCorruptError):
            return False
        return True

    # -- creating, importing, deleting ------------------------------------------------------------

    def create(self, label: str) -> KeyInfo:
        """Create a new random key labelled ``label`` and store it encrypted.

        Raises:
            PassphraseMissingError: REGISTRY_KEYSTORE_PASSPHRASE is unset.
            InvalidInputError: bad label.
            KeyExistsError: the label is taken.
        """
        return self._store(secrets.token_bytes(32), label)

    def import_private_key(self, private_key: SecretStr | str | bytes, label: str) -> KeyInfo:
        """Store an existing private key (hex text, bytes or a SecretStr) labelled ``label``.

        Raises:
            PassphraseMissingError: REGISTRY_KEYSTORE_PASSPHRASE is unset.
            InvalidInputError: not a private key (the message never shows the key), or bad label.
            KeyExistsError: the keystore holds that key or that label already.
        """
        return self._store(_private_key_bytes(private_key), label)

    def import_keyfile(
        self, keyfile: Mapping[str, Any] | str, password: SecretStr | str, label: str
    ) -> KeyInfo:
        """Import a keystore v3 document (a dict or its JSON text) encrypted with ``password``;
        the key is stored re-encrypted with the keystore's own passphrase.

        Raises:
            PassphraseMissingError: REGISTRY_KEYSTORE_PASSPHRASE is unset.
            KeyFileCorruptError: not a keystore v3 document, or its work factor is absurdly high.
            WrongPassphraseError: ``password`` does not decrypt it.
            KeyExistsError: the keystore holds that key or that label already.
        """
        self._secret()  # refuse before the (slow) decryption
        try:
            document = json.loads(keyfile) if isinstance(keyfile, str) else dict(keyfile)
        except json.JSONDecodeError as exc:
            raise KeyFileCorruptError(f"the key file to import is not JSON: {exc}") from None
        _check_document(document, "the key file to import")
        secret = password.get_secret_value() if isinstance(password, SecretStr) else password
        key = _decrypt(document, secret, what="the key file to import", wrong_hint="check the password given")
        return self._store(key, label)

    def _store(self, key: bytes, label: str) -> KeyInfo:
        passphrase = self._secret()
        clean_label = check_label(label)
        account: LocalAccount = Account.from_key(key)
        address = to_checksum_address(account.address)
        with self._lock:
            for info in self.list_keys():
                if info.address == address:
                    raise KeyExistsError(
                        f"the keystore already holds the key of {address} (labelled {info.label!r})"
                    )
                if info.label.casefold() == clean_label.casefold():
                    raise KeyExistsError(
                        f"the label {info.label!r} is taken by {info.address}; choose another label"
                    )
            self._announce_weak_kdf()
            document = Account.encrypt(key, passphrase, kdf="scrypt", iterations=self.kdf_n)
            document["label"] = clean_label
            path = self.folder / _file_name(address)
            self._ensure_folder()
            _write_new(path, document)
            self._unlocked[address] = account
        logger.info("stored key %s (%r) in %s", address, clean_label, self.folder)
        return KeyInfo(address=address, label=clean_label, path=path)

    def delete(self, address: str) -> KeyInfo:
        """Delete the key of ``address`` for good, and forget it if it was unlocked.

        Whatever the address holds can no longer be moved by custody afterwards (unless the key
        exists elsewhere). Returns what was deleted.

        Raises:
            KeyNotFoundError: no key for ``address``.
        """
        with self._lock:
            info = self.get(address)
            info.path.unlink()
            _sync_folder(self.folder)
            self._unlocked.pop(info.address, None)
        logger.info("deleted key %s (%r) from %s", info.address, info.label, self.folder)
        return info

    # -- unlocking -------------------------------------------------------------------------------

    def unlock(self, address: str) -> LocalAccount:
        """The decrypted key of ``address`` (decrypted once per process, then kept in memory).

        Raises:
            KeyNotFoundError: no key for ``address``.
            PassphraseMissingError: REGISTRY_KEYSTORE_PASSPHRASE is unset.
            WrongPassphraseError: the passphrase does not decrypt this key.
            KeyFileCorruptError: the file is damaged or its address does not match its key.
        """
        checksum = check_address(address)
        with self._lock:
            cached = self._unlocked.get(checksum)
            if cached is not None:
                return cached
            info = self.get(checksum)
            passphrase = self._secret()
            document = _load_document(info.path)
            mode = info.path.stat().st_mode
            if mode & 0o077:
                logger.warning(
                    "key file %s can be read by other users of this machine (mode %o); run chmod 600 on it",
                    info.path,
                    mode & 0o777,
                )
            key = _decrypt(
                document,
                passphrase,
                what=f"the key {checksum} ({info.path})",
                wrong_hint=(
                    f"it was encrypted with another passphrase: set {PASSPHRASE_VARIABLE} to the "
                    "passphrase in use when the key was created or imported"
                ),
            )
            account: LocalAccount = Account.from_key(key)
            if account.address != checksum:
                raise KeyFileCorruptError(
                    f"{info.path} says it holds {checksum} but its key belongs to {account.address}: the "
                    "file was altered; do not use it"
                )
            self._unlocked[checksum] = account
            return account

    def unlock_all(self) -> list[KeyInfo]:
        """Unlock every key now (e.g. at start-up, so that a wrong passphrase shows at once).

        Raises:
            PassphraseMissingError, WrongPassphraseError, KeyFileCorruptError: as `unlock`.
        """
        infos = self.list_keys()
        for info in infos:
            self.unlock(info.address)
        return infos

    # -- internals -------------------------------------------------------------------------------

    def _secret(self) -> str:
        if self._passphrase is None:
            raise PassphraseMissingError(
                f"no keystore passphrase: set {PASSPHRASE_VARIABLE} to the passphrase that encrypts the "
                f"keys in {self.folder} (for a new keystore, choose one now and keep it: a lost "
                "passphrase cannot be recovered, and the keys with it)"
            )
        return self._passphrase.get_secret_value()

    def _announce_weak_kdf(self) -> None:
        if self.kdf_n < WEAK_KDF_N and not self._weak_announced:
            self._weak_announced = True
            logger.warning(
                "new key files in %s use scrypt N=%d, far below the default %d: fit for tests, weak for "
                "keys of any value (REGISTRY_KEYSTORE_KDF_N)",
                self.folder,
                self.kdf_n,
                DEFAULT_KDF_N,
            )

    def _ensure_folder(self) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        mode = self.folder.stat().st_mode & 0o777
        if mode & 0o077:
            logger.warning(
                "the keystore folder %s was open to other users (mode %o); restricting it to its owner",
                self.folder,
                mode,
            )
            self.folder.chmod(0o700)


def _file_name(address: ChecksumAddress) -> str:
    return f"{address}{_KEY_SUFFIX}"


def _load_document(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyFileCorruptError(f"{path} is not a readable keystore v3 file ({exc})") from None
    if not isinstance(document, dict):
        raise KeyFileCorruptError(f"{path} is not a keystore v3 file (not a JSON object)")
    _check_document(document, str(path))
    return document


def _check_document(document: Mapping[str, Any], what: str) -> None:
    crypto = document.get("crypto") or document.get("Crypto")
    if document.get("version") != 3 or not isinstance(crypto, dict):
        raise KeyFileCorruptError(f"{what} is not a keystore v3 document (version 3 with a crypto section)")
    address = document.get("address")
    if not isinstance(address, str) or not is_address(
        address if address.startswith("0x") else "0x" + address
    ):
        raise KeyFileCorruptError(f"{what} has no valid address field")
    params = crypto.get("kdfparams")
    n = params.get("n") if isinstance(params, dict) else None
    # The work factor comes from the file: a huge one would make decryption eat all memory.
    if isinstance(n, int) and n > MAX_KDF_N:
        raise KeyFileCorruptError(f"{what} asks for scrypt N={n}, above the accepted {MAX_KDF_N}")


def _read_info(path: Path) -> KeyInfo:
    document = _load_document(path)
    raw_address = str(document["address"])
    address = to_checksum_address(raw_address if raw_address.startswith("0x") else "0x" + raw_address)
    label = document.get("label")
    return KeyInfo(address=address, label=label if isinstance(label, str) and label else path.name, path=path)


def _decrypt(document: Mapping[str, Any], passphrase: str, *, what: str, wrong_hint: str) -> bytes:
    try:
        return bytes(Account.decrypt(dict(document), passphrase))
    except ValueError as exc:
        if "MAC mismatch" in str(exc):
            raise WrongPassphraseError(f"the passphrase does not decrypt {what}: {wrong_hint}") from None
        raise KeyFileCorruptError(f"{what} cannot be decrypted: {exc}") from None
    except (KeyError, TypeError, NotImplementedError) as exc:
        raise KeyFileCorruptError(f"{what} is damaged ({type(exc).__name__}: {exc})") from None


def _write_new(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to the new file ``path`` atomically, owner-only, never replacing a file."""
    data = json.dumps(document, indent=2).encode()
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() refuses an existing name, where rename() would replace it: no key is ever lost.
            os.link(temporary, path)
        except FileExistsError:
            raise KeyExistsError(f"{path} exists already; the keystore never overwrites a key file") from None
    finally:
        temporary.unlink(missing_ok=True)
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries, so that a new or removed file survives a power cut."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PASSPHRASE_FILE = "keystore-passphrase"
"""The file in the data directory that holds a generated keystore passphrase (see `generated_passphrase`)."""


def generated_passphrase(data_dir: Path) -> tuple[SecretStr, Path, bool]:
    """The keystore passphrase kept in ``<data_dir>/keystore-passphrase``, made (256 random bits,
    owner-only, written atomically) if the file does not exist; returns it, the file, and whether it was
    made now. For ``registry serve`` without REGISTRY_KEYSTORE_PASSPHRASE: the keys are then as safe as
    the data directory's permissions, which is what a workshop machine needs and no more.

    Raises:
        KeystoreError: the file is readable by others than its owner, or empty.
    """
    path = data_dir / PASSPHRASE_FILE
    made = False
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        document = secrets.token_urlsafe(32).encode()
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                os.write(fd, document)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(temporary, path)
                made = True
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            temporary.unlink(missing_ok=True)
        _sync_folder(path.parent)
    if path.stat().st_mode & 0o077:
        raise KeystoreError(
            f"{path} is readable by other users: it holds the keystore passphrase. Make it owner-only "
            f"(chmod 600 {path}), or set REGISTRY_KEYSTORE_PASSPHRASE instead"
        )
    text = path.read_text().strip()
    if not text:
        raise KeystoreError(f"{path} is empty: delete it only if the keystore holds no key made with it")
    return SecretStr(text), path, made
