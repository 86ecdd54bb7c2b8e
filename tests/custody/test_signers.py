"""Who custody signs for: keys in memory, the embedded chains' own accounts, the keystore."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_account import Account

from registry.custody import Signers
from registry.custody.keystore import Keystore
from registry.errors import InvalidInputError, NoSigningKeyError

from .conftest import Target


def test_an_embedded_permissioned_chain_lends_its_development_accounts_and_operator(
    embedded: Callable[..., Target],
) -> None:
    target = embedded("permissioned")
    assert target.handle.embedded is not None
    signers = target.sender.signers
    sources = {signer.address: signer.source for signer in signers.in_memory()}
    for index, account in enumerate(target.handle.embedded.dev_accounts):
        assert sources[account.account.address] == f"development account {index} of the permissioned chain"
    operator = target.handle.embedded.mode.keyring.operator  # type: ignore[attr-defined]
    assert sources[operator.address] == "operator of the permissioned chain"


def test_an_embedded_permissionless_chain_has_no_operator(embedded: Callable[..., Target]) -> None:
    target = embedded("permissionless")
    assert target.handle.embedded is not None
    assert len(target.sender.signers.in_memory()) == len(target.handle.embedded.dev_accounts)


def test_keys_in_memory_come_before_the_keystore_which_is_unlocked_on_demand(keystore: Keystore) -> None:
    info = keystore.create("alice")
    signers = Signers(Keystore(keystore.folder, None), chain="permissionless")
    assert signers.can_sign(info.address)  # known without decrypting
    held = Account.create()
    signers.add(held, "test key")
    assert signers.signer_for(held.address.lower()).source == "test key"
    unlocked = Signers(keystore).signer_for(info.address)
    assert unlocked.address == info.address and unlocked.source == "keystore"
    signed = unlocked.sign_transaction(
        {
            "type": 2,
            "chainId": 1,
            "nonce": 0,
            "gas": 21_000,
            "maxFeePerGas": 2,
            "maxPriorityFeePerGas": 1,
            "to": held.address,
            "value": 0,
            "data": b"",
        }
    )
    assert Account.recover_transaction(signed.raw_transaction) == info.address


def test_an_unknown_sender_is_a_clear_error(keystore: Keystore) -> None:
    signers = Signers(keystore, chain="permissioned")
    nobody = Account.create().address
    assert not signers.can_sign(nobody)
    with pytest.raises(NoSigningKeyError, match="on the permissioned chain") as caught:
        signers.signer_for(nobody)
    assert nobody in str(caught.value) and "submit_signed" in str(caught.value)
    with pytest.raises(InvalidInputError, match="sender"):
        signers.signer_for("alice")


def test_a_signer_s_repr_shows_its_address_not_its_key() -> None:
    account = Account.create()
    signer = Signers().add(account, "test key")
    assert repr(signer) == f"LocalSigner({account.address}, test key)"
    assert account.key.hex() not in repr(Signers())
