"""The keystore: keystore v3 files, one per key; listing without decrypting; the passphrase; crashes."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eth_account import Account
from pydantic import SecretStr

from registry.custody import keystore as keystore_module
from registry.custody.keystore import Keystore
from registry.errors import (
    ConfigurationError,
    InvalidInputError,
    KeyExistsError,
    KeyFileCorruptError,
    KeyNotFoundError,
    PassphraseMissingError,
    WrongPassphraseError,
)
from tests.conftest import ROOT

from .conftest import PASSPHRASE, TEST_KDF_N

KEY_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"


def test_a_created_key_is_a_keystore_v3_file_of_its_own_readable_by_eth_account(keystore: Keystore) -> None:
    info = keystore.create("workshop issuer")
    assert info.path == keystore.folder / f"{info.address}.json"
    document = json.loads(info.path.read_text())
    assert document["version"] == 3
    assert document["crypto"]["kdf"] == "scrypt"
    assert document["crypto"]["kdfparams"]["n"] == TEST_KDF_N
    assert document["label"] == "workshop issuer"
    key = Account.decrypt(document, PASSPHRASE)
    assert Account.from_key(key).address == info.address
    assert keystore.unlock(info.address).address == info.address


def test_files_and_folder_are_for_the_owner_only(keystore: Keystore) -> None:
    info = keystore.create("alice")
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(keystore.folder.stat().st_mode) == 0o700


def test_a_loose_folder_is_tightened_and_said_so(
    keystore: Keystore, caplog: pytest.LogCaptureFixture
) -> None:
    keystore.folder.mkdir(parents=True)
    keystore.folder.chmod(0o755)
    with caplog.at_level(logging.WARNING):
        keystore.create("alice")
    assert stat.S_IMODE(keystore.folder.stat().st_mode) == 0o700
    assert "open to other users" in caplog.text


def test_a_key_file_readable_by_others_is_warned_about_when_unlocked(
    settings, caplog: pytest.LogCaptureFixture
) -> None:
    info = Keystore.from_settings(settings).create("alice")
    info.path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        Keystore.from_settings(settings).unlock(info.address)
    assert "chmod 600" in caplog.text


def test_listing_reads_address_and_label_without_decrypting(
    keystore: Keystore, settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = keystore.create("bob")
    alice = keystore.import_private_key(KEY_HEX, "alice")

    def no_decryption(*_args: object) -> bytes:
        raise AssertionError("listing must not decrypt")

    monkeypatch.setattr(Account, "decrypt", no_decryption)
    locked = Keystore(settings.keystore_dir(), None)
    assert [(info.label, info.address) for info in locked.list_keys()] == [
        ("alice", alice.address),
        ("bob", bob.address),
    ]
    assert locked.get(bob.address.lower()) == bob
    assert locked.find("ALICE") == alice
    assert alice.address in locked
    assert "0x" + "00" * 20 not in locked


def test_an_empty_or_absent_keystore_lists_nothing(tmp_path: Path) -> None:
    assert Keystore(tmp_path / "absent", None).list_keys() == []


def test_import_gives_the_key_s_address_and_refuses_duplicates(keystore: Keystore) -> None:
    info = keystore.import_private_key("0x" + KEY_HEX, "alice")
    assert info.address == Account.from_key(KEY_HEX).address
    with pytest.raises(KeyExistsError, match="already holds the key"):
        keystore.import_private_key(bytes.fromhex(KEY_HEX), "other label")
    with pytest.raises(KeyExistsError, match="label 'alice' is taken"):
        keystore.create("Alice")
    assert len(keystore.list_keys()) == 1


@pytest.mark.parametrize(
    ("private_key", "message"),
    [
        (KEY_HEX[:-2], "64 hex digits"),
        ("zz" + KEY_HEX[2:], "hex digits only"),
        (b"\x01" * 31, "32 bytes"),
        ("00" * 32, "not a valid secp256k1"),
        ("ff" * 32, "not a valid secp256k1"),
    ],
)
def test_a_bad_private_key_is_refused_without_echoing_it(
    keystore: Keystore, private_key: str | bytes, message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message) as caught:
        keystore.import_private_key(private_key, "bad")
    assert caught.value.field == "private_key"
    shown = private_key if isinstance(private_key, str) else private_key.hex()
    assert shown.removeprefix("0x") not in str(caught.value)
    # No chained exception whose text could show the key either.
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    assert keystore.list_keys() == []


@pytest.mark.parametrize("label", ["", "   ", "two\nlines", "x" * 65])
def test_a_bad_label_is_refused(keystore: Keystore, label: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        keystore.create(label)
    assert caught.value.field == "label"


def test_a_keyfile_from_another_tool_is_imported_and_re_encrypted(keystore: Keystore) -> None:
    foreign = Account.encrypt(bytes.fromhex(KEY_HEX), "their password", kdf="pbkdf2", iterations=2)
    with pytest.raises(WrongPassphraseError, match="check the password given"):
        keystore.import_keyfile(foreign, "not their password", "imported")
    info = keystore.import_keyfile(json.dumps(foreign), SecretStr("their password"), "imported")
    document = json.loads(info.path.read_text())
    assert document["crypto"]["kdf"] == "scrypt"
    assert Account.from_key(Account.decrypt(document, PASSPHRASE)).address == info.address


def test_a_keyfile_demanding_an_absurd_work_factor_is_refused(keystore: Keystore) -> None:
    document = Account.encrypt(bytes.fromhex(KEY_HEX), "pw", kdf="scrypt", iterations=2)
    document["crypto"]["kdfparams"]["n"] = 2**30
    with pytest.raises(KeyFileCorruptError, match="scrypt N"):
        keystore.import_keyfile(document, "pw", "greedy")


def test_the_wrong_passphrase_is_a_clear_error(settings) -> None:
    info = Keystore.from_settings(settings).create("alice")
    wrong = Keystore(settings.keystore_dir(), SecretStr("not the passphrase"), kdf_n=TEST_KDF_N)
    with pytest.raises(WrongPassphraseError, match="REGISTRY_KEYSTORE_PASSPHRASE") as caught:
        wrong.unlock(info.address)
    assert info.address in str(caught.value)
    with pytest.raises(WrongPassphraseError):
        wrong.unlock_all()


def test_without_a_passphrase_keys_are_listed_and_deleted_but_not_created_or_unlocked(settings) -> None:
    info = Keystore.from_settings(settings).create("alice")
    locked = Keystore(settings.keystore_dir(), None)
    for attempt in (
        lambda: locked.create("bob"),
        lambda: locked.import_private_key(KEY_HEX, "bob"),
        lambda: locked.unlock(info.address),
    ):
        with pytest.raises(PassphraseMissingError, match="set REGISTRY_KEYSTORE_PASSPHRASE") as caught:
            attempt()
        assert isinstance(caught.value, ConfigurationError)
    assert [key.address for key in locked.list_keys()] == [info.address]
    assert locked.delete(info.address) == info
    assert locked.list_keys() == []


def test_delete_removes_the_file_and_forgets_the_unlocked_key(keystore: Keystore) -> None:
    info = keystore.create("alice")
    keystore.unlock(info.address)
    keystore.delete(info.address)
    assert not info.path.exists()
    with pytest.raises(KeyNotFoundError, match="holds no key"):
        keystore.unlock(info.address)
    with pytest.raises(KeyNotFoundError):
        keystore.delete(info.address)


def test_unknown_addresses_and_labels_are_not_found(keystore: Keystore) -> None:
    keystore.create("alice")
    with pytest.raises(KeyNotFoundError, match="'alice'"):
        keystore.find("bob")
    with pytest.raises(InvalidInputError, match="not an Ethereum address"):
        keystore.get("alice")


def test_a_file_whose_address_field_was_altered_is_refused_at_unlocking(keystore: Keystore, settings) -> None:
    info = keystore.create("alice")
    other = Account.create().address
    document = json.loads(info.path.read_text())
    document["address"] = other[2:].lower()
    tampered = keystore.folder / f"{other}.json"
    tampered.write_text(json.dumps(document))
    info.path.unlink()
    fresh = Keystore.from_settings(settings)
    with pytest.raises(KeyFileCorruptError, match="was altered"):
        fresh.unlock(other)


def test_damaged_files_are_skipped_by_listing_and_refused_by_name(
    keystore: Keystore, caplog: pytest.LogCaptureFixture
) -> None:
    good = keystore.create("alice")
    damaged_address = Account.create().address
    damaged = keystore.folder / f"{damaged_address}.json"
    damaged.write_text(good.path.read_text()[:100])
    (keystore.folder / "notes.txt").write_text("not a key")
    with caplog.at_level(logging.WARNING):
        assert [info.address for info in keystore.list_keys()] == [good.address]
    assert "skipping" in caplog.text
    with pytest.raises(KeyFileCorruptError, match="not a readable keystore v3 file"):
        keystore.get(damaged_address)


def test_a_key_is_never_overwritten(keystore: Keystore) -> None:
    info = keystore.create("alice")
    before = info.path.read_bytes()
    with pytest.raises(KeyExistsError, match="never overwrites"):
        keystore_module._write_new(info.path, {"version": 3})
    assert info.path.read_bytes() == before
    assert [path.name for path in keystore.folder.iterdir()] == [info.path.name]


def test_a_crash_before_the_key_file_is_linked_leaves_no_key_file(
    keystore: Keystore, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(BaseException):
        """Stands for the process dying at this point."""

    def die(*_args: object) -> None:
        raise Killed

    monkeypatch.setattr(os, "link", die)
    with pytest.raises(Killed):
        keystore.create("alice")
    monkeypatch.undo()
    assert keystore.list_keys() == []
    # What a hard kill leaves at worst: a hidden, partly written temporary file. It is not a key.
    (keystore.folder / ".0xAbC.json.1234.tmp").write_text('{"version": 3, "crypto": {')
    assert keystore.list_keys() == []
    assert keystore.create("alice").label == "alice"


_WRITER = """
import sys
from pathlib import Path
from pydantic import SecretStr
from registry.custody.keystore import Keystore

keystore = Keystore(Path(sys.argv[1]), SecretStr(sys.argv[2]), kdf_n=2)
index = 0
while True:
    keystore.create(f"key {index}")
    index += 1
"""


def test_every_key_file_left_by_a_killed_writer_is_whole(tmp_path: Path) -> None:
    folder = tmp_path / "keystore"
    process = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(folder), PASSPHRASE],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        # Kill it once it has written a few keys, wherever it then is in its next write.
        deadline = time.monotonic() + 60
        while len([p for p in folder.glob("*.json") if not p.name.startswith(".")]) < 5:
            assert process.poll() is None, "the writer stopped by itself"
            assert time.monotonic() < deadline, "the writer wrote nothing in a minute"
            time.sleep(0.01)
    finally:
        process.kill()
        process.wait()
    keystore = Keystore(folder, SecretStr(PASSPHRASE), kdf_n=TEST_KDF_N)
    files = [path for path in folder.iterdir() if not path.name.startswith(".")]
    infos = keystore.unlock_all()
    assert len(infos) == len(files) >= 5
    assert {info.path for info in infos} == set(files)


def test_a_weak_work_factor_is_announced_once(keystore: Keystore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        keystore.create("alice")
        keystore.create("bob")
    assert caplog.text.count("fit for tests") == 1


@pytest.mark.parametrize("kdf_n", [0, 3, 2**21])
def test_a_bad_work_factor_is_refused(tmp_path: Path, kdf_n: int) -> None:
    with pytest.raises(InvalidInputError, match="power of two"):
        Keystore(tmp_path, None, kdf_n=kdf_n)


def test_the_repr_never_shows_the_passphrase(keystore: Keystore) -> None:
    assert PASSPHRASE not in repr(keystore)
    assert "passphrase set" in repr(keystore)
