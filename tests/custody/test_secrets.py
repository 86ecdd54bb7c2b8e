"""No passphrase or private key ever reaches a log line, an error text (with its chain) or a repr."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from registry.custody.keystore import Keystore
from registry.errors import (
    InvalidInputError,
    KeyExistsError,
    PassphraseMissingError,
    RegistryError,
    SubmissionRejectedError,
    WrongPassphraseError,
)
from registry.settings import Settings

from .conftest import ETHER, PASSPHRASE, Target

KEY_HEX = "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
WRONG_PASSPHRASE = "a wrong passphrase 9d2c"


def test_no_secret_reaches_logs_errors_or_reprs(
    settings: Settings, embedded: Callable[..., Target], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    target = embedded("permissionless")
    keystore = Keystore.from_settings(settings)
    signers = target.sender.signers
    signers.keystore = keystore
    funder = target.accounts[0]

    imported = keystore.import_private_key("0x" + KEY_HEX, "imported")
    created = keystore.create("created")
    secrets = [
        PASSPHRASE,
        WRONG_PASSPHRASE,
        KEY_HEX,
        keystore.unlock(created.address).key.hex().removeprefix("0x"),
    ]

    target.sender.send(target.transfer(funder, imported.address, ETHER))
    target.sender.send(target.transfer(imported.address, funder.address, 1))

    errors: list[RegistryError] = []
    attempts: list[Callable[[], object]] = [
        lambda: Keystore(keystore.folder, SecretStr(WRONG_PASSPHRASE)).unlock(created.address),
        lambda: Keystore(keystore.folder, None).unlock(imported.address),
        lambda: keystore.import_private_key(KEY_HEX[:-1], "truncated"),
        lambda: keystore.import_private_key(KEY_HEX, "again"),
        lambda: keystore.import_keyfile(created.path.read_text(), WRONG_PASSPHRASE, "foreign"),
        lambda: target.sender.send(target.transfer(imported.address, funder.address, 10 * ETHER, gas=21_000)),
    ]
    for attempt in attempts:
        with pytest.raises(RegistryError) as caught:
            attempt()
        errors.append(caught.value)
    assert [type(error) for error in errors] == [
        WrongPassphraseError,
        PassphraseMissingError,
        InvalidInputError,
        KeyExistsError,
        WrongPassphraseError,
        SubmissionRejectedError,
    ]

    shown = [caplog.text]
    shown += ["".join(traceback.format_exception(error)) for error in errors]
    shown += [
        repr(value) for value in (keystore, signers, target.sender, settings, imported, *signers.in_memory())
    ]
    shown += [repr(signers.signer_for(imported.address)), str(settings), settings.model_dump_json()]
    everything = "\n".join(shown).lower()
    for secret in secrets:
        assert secret.lower() not in everything
    # A truncated key must not show either (all but its last digit).
    assert KEY_HEX[:-1] not in everything
