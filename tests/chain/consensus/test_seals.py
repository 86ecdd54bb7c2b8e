"""Quorum sealing: the extra_data codec, the 2/3 rule, and seal checks when a block is imported."""

from __future__ import annotations

import os
import stat

import pytest
import rlp
from eth_keys.datatypes import PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from registry.chain.consensus import seals
from registry.chain.consensus.seals import (
    EMPTY_VANITY,
    DuplicateSealError,
    ExtraData,
    InsufficientSealsError,
    InvalidSealSignatureError,
    MalformedExtraDataError,
    SealerMemory,
    SealMismatchError,
    UnknownSealerError,
    ValidatorSetChangeError,
    check_seals,
    majority_size,
    quorum_size,
    recover_sealer,
    seal_hash,
    seal_header,
    sealers_of,
    validators_of,
)
from registry.chain.consensus.validators import KEYS_FILE, ValidatorKeyring
from registry.chain.errors import InvalidBlockError
from tests.chain.permissioned_support import decode, faucet, open_permissioned, signed

addresses = st.lists(st.binary(min_size=20, max_size=20), min_size=1, max_size=12, unique=True)


# -- arithmetic and codec -------------------------------------------------------------------------


@given(st.integers(min_value=1, max_value=200))
def test_quorum_is_the_smallest_count_reaching_two_thirds(n):
    q = quorum_size(n)
    assert 3 * q >= 2 * n
    assert 3 * (q - 1) < 2 * n


@given(st.integers(min_value=1, max_value=200))
def test_majority_is_the_smallest_count_above_half(n):
    m = majority_size(n)
    assert 2 * m > n
    assert 2 * (m - 1) <= n


def test_quorum_of_four_validators_is_three():
    assert quorum_size(4) == 3
    assert majority_size(4) == 3


@given(
    addresses, st.lists(st.binary(min_size=65, max_size=65), max_size=12), st.binary(min_size=32, max_size=32)
)
def test_extra_data_round_trips(validators, seals, vanity):
    extra = ExtraData(vanity, tuple(sorted(validators)), tuple(seals))
    decoded = ExtraData.decode(extra.encode())
    assert decoded == extra
    assert decoded.without_seals().seals == ()
    assert rlp.decode(extra.encode()) == [vanity, sorted(validators), list(seals)]


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"\x01\x02", "not RLP|three items"),
        (rlp.encode([EMPTY_VANITY, [b"\x01" * 20]]), "three items"),
        (rlp.encode([b"\x00" * 31, [b"\x01" * 20], []]), "vanity"),
        (rlp.encode([EMPTY_VANITY, [], []]), "no validator"),
        (rlp.encode([EMPTY_VANITY, [b"\x02" * 20, b"\x01" * 20], []]), "sorted"),
        (rlp.encode([EMPTY_VANITY, [b"\x01" * 20, b"\x01" * 20], []]), "sorted"),
        (rlp.encode([EMPTY_VANITY, [b"\x01" * 19], []]), "20-byte"),
        (rlp.encode([EMPTY_VANITY, [b"\x01" * 20], [b"\x00" * 64]]), "65 bytes"),
    ],
)
def test_malformed_extra_data_is_refused(raw, match):
    with pytest.raises(MalformedExtraDataError, match=match):
        ExtraData.decode(raw)


# -- genesis and built blocks ------------------------------------------------------------------------


def test_genesis_lists_the_configured_validators_and_keys_are_kept(tmp_path):
    chain, mode = open_permissioned(tmp_path, validators=7)
    try:
        listed = validators_of(chain.get_header(0))
        assert listed == tuple(sorted(k.address for k in mode.keyring.keys))
        assert len(listed) == 7
    finally:
        chain.close()
    path = tmp_path / KEYS_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    reopened = ValidatorKeyring.load_or_create(tmp_path, count=2)
    assert {k.address for k in reopened.keys} == set(listed)
    assert reopened.operator.address == mode.keyring.operator.address


def test_default_is_four_validators():
    chain, _mode = open_permissioned()
    try:
        assert len(validators_of(chain.get_header(0))) == 4
    finally:
        chain.close()


@pytest.fixture
def chain_and_mode():
    chain, mode = open_permissioned(sealing="manual")
    yield chain, mode
    chain.close()


def _build(chain):
    """Build (and persist) one block with a transfer from the faucet; return it."""
    account = faucet(chain)
    tx = decode(chain, signed(chain, account, to="0x" + "22" * 20, value=1, gas=21_000))
    built = chain.build_block([tx])
    assert built.block is not None
    return built.block


def test_built_blocks_carry_a_quorum_of_seals_by_listed_validators(chain_and_mode):
    chain, _mode = chain_and_mode
    block = _build(chain)
    sealers = check_seals(block.header)
    listed = validators_of(block.header)
    assert len(sealers) == 3
    assert set(sealers) <= set(listed)


def _no_recovery(digest, seal):
    raise AssertionError("a seal was recovered")


def test_sealers_of_blocks_sealed_here_and_imported_are_known_without_recovering_a_seal(
    chain_and_mode, monkeypatch
):
    chain, mode = chain_and_mode
    sealed_here = _build(chain)
    listed = validators_of(chain.head())
    resealed, _original = _rewind_and_reseal(chain, mode, _keys_for(mode, listed[1:]))
    imported = chain.import_block(resealed)
    monkeypatch.setattr(seals, "recover_sealer", _no_recovery)
    known_here, known_imported = sealers_of(sealed_here.header), sealers_of(imported.header)
    monkeypatch.undo()
    # What recovering every seal gives (check_seals recovers always), in seal order.
    assert known_here == check_seals(sealed_here.header)
    assert len(known_here) == quorum_size(len(listed))
    assert known_imported == check_seals(imported.header) == tuple(listed[1:])


def test_sealers_of_a_block_this_process_never_saw_are_recovered_from_its_seals(chain_and_mode, monkeypatch):
    chain, _mode = chain_and_mode
    block = _build(chain)
    expected = check_seals(block.header)
    # A restart: nothing remembered.
    monkeypatch.setattr(seals, "KNOWN_SEALERS", SealerMemory())
    assert seals.KNOWN_SEALERS.get(block.hash) is None
    assert sealers_of(block.header) == expected
    assert seals.KNOWN_SEALERS.get(block.hash) == expected


def test_a_refused_seal_is_not_remembered(chain_and_mode, monkeypatch):
    chain, mode = chain_and_mode
    monkeypatch.setattr(seals, "KNOWN_SEALERS", SealerMemory())
    listed = validators_of(chain.head())
    short_of_quorum, _original = _rewind_and_reseal(chain, mode, _keys_for(mode, listed[:1]))
    with pytest.raises(InsufficientSealsError):
        check_seals(short_of_quorum.header)
    assert seals.KNOWN_SEALERS.get(short_of_quorum.hash) is None
    with pytest.raises(InsufficientSealsError):
        sealers_of(short_of_quorum.header)


def test_the_sealer_memory_keeps_the_newest_headers():
    memory = SealerMemory(capacity=2)
    for n in range(3):
        memory.remember(bytes([n]) * 32, [bytes([n]) * 20])
    assert memory.get(b"\x00" * 32) is None
    assert memory.get(b"\x02" * 32) == (b"\x02" * 20,)
    assert len(memory) == 2


# -- import --------------------------------------------------------------------------------------------


def _keys_for(mode, addresses):
    return [mode.held_key(a) for a in addresses]


def _rewind_and_reseal(chain, mode, signers, validators=None, vanity=EMPTY_VANITY):
    """Build a block, take it back off the chain, and return it resealed by ``signers`` plus the original."""
    block = _build(chain)
    chain.rewind(block.number - 1)
    listed = validators if validators is not None else validators_of(block.header)
    header = seal_header(block.header, listed, signers, vanity)
    return block.copy(header=header), block


def test_properly_sealed_block_is_imported(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    good, original = _rewind_and_reseal(chain, mode, _keys_for(mode, listed[1:]))
    imported = chain.import_block(good)
    assert chain.head().hash == imported.hash == good.hash
    assert original.hash != good.hash  # other sealers, other extra_data


def _refused(chain, block, cause):
    head = chain.head()
    with pytest.raises(InvalidBlockError) as info:
        chain.import_block(block)
    # The specific error is raised as is, or as the cause of a more general refusal.
    specific = info.value if isinstance(info.value, cause) else info.value.__cause__
    assert isinstance(specific, cause), info.value
    assert chain.head() == head
    return specific


def test_block_with_too_few_seals_is_refused(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    bad, original = _rewind_and_reseal(chain, mode, _keys_for(mode, listed[:2]))
    error = _refused(chain, bad, InsufficientSealsError)
    assert "needs 3 of 4" in str(error)
    chain.import_block(original)


def test_block_sealed_by_a_non_validator_is_refused(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    outsider = PrivateKey(os.urandom(32))
    bad, _ = _rewind_and_reseal(chain, mode, [*_keys_for(mode, listed[:2]), outsider])
    error = _refused(chain, bad, UnknownSealerError)
    assert error.sealer == outsider.public_key.to_canonical_address()


def test_block_with_a_duplicated_seal_is_refused(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    first, second = _keys_for(mode, listed[:2])
    bad, _ = _rewind_and_reseal(chain, mode, [first, second, first])
    error = _refused(chain, bad, DuplicateSealError)
    assert error.sealer == listed[0]


def test_block_with_a_garbage_seal_is_refused(chain_and_mode):
    chain, _mode = chain_and_mode
    block = _build(chain)
    chain.rewind(block.number - 1)
    extra = ExtraData.decode(block.header.extra_data)
    garbage = ExtraData(extra.vanity, extra.validators, (*extra.seals[:2], b"\x00" * 65))
    _refused(
        chain, block.copy(header=block.header.copy(extra_data=garbage.encode())), InvalidSealSignatureError
    )


def test_seals_over_another_header_are_reported_as_such_not_as_an_unknown_sealer(chain_and_mode):
    chain, _mode = chain_and_mode
    block = _build(chain)
    chain.rewind(block.number - 1)
    # Same seals, but the header changed after sealing (here: its timestamp): they recover to strangers.
    tampered = block.header.copy(timestamp=block.header.timestamp + 1)
    assert seal_hash(tampered) != seal_hash(block.header)
    error = _refused(chain, block.copy(header=tampered), SealMismatchError)
    assert not isinstance(error, UnknownSealerError)
    assert error.seals == 3
    assert "changed after it was sealed" in str(error)
    # The addresses the seals recover to over the changed header mean nothing, and none is named.
    digest = seal_hash(tampered)
    for seal in ExtraData.decode(tampered.extra_data).seals:
        assert recover_sealer(digest, seal).hex() not in str(error).lower()
    chain.import_block(block)


def test_a_seal_copied_from_another_block_among_valid_ones_is_named_with_what_it_may_mean(chain_and_mode):
    chain, _mode = chain_and_mode
    listed = validators_of(chain.head())
    tx = decode(chain, signed(chain, faucet(chain), to="0x" + "33" * 20, value=2, gas=21_000))
    other = chain.build_block([tx]).block  # another block at the same height: its seals sign another header
    chain.rewind(other.number - 1)
    block = _build(chain)
    assert block.hash != other.hash
    chain.rewind(block.number - 1)
    good = ExtraData.decode(block.header.extra_data).seals[:2]
    copied = ExtraData.decode(other.header.extra_data).seals[2]
    extra = ExtraData(EMPTY_VANITY, listed, (*good, copied))
    error = _refused(
        chain, block.copy(header=block.header.copy(extra_data=extra.encode())), UnknownSealerError
    )
    assert "2 seal(s) of its validators" in str(error)
    assert "over another header" in str(error)
    assert "the address means nothing" in str(error)


def test_validator_list_changed_without_a_vote_is_refused(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    shrunk = listed[:3]  # drop one validator without any vote; 3 seals of the 3 remaining would be a quorum
    bad, _ = _rewind_and_reseal(chain, mode, _keys_for(mode, shrunk), validators=shrunk)
    _refused(chain, bad, ValidatorSetChangeError)


def test_validator_list_change_naming_an_unknown_vote_is_refused(chain_and_mode):
    chain, mode = chain_and_mode
    listed = validators_of(chain.head())
    shrunk = listed[1:]
    bad, _ = _rewind_and_reseal(chain, mode, _keys_for(mode, shrunk), validators=shrunk, vanity=b"\x07" * 32)
    error = _refused(chain, bad, ValidatorSetChangeError)
    assert "validator vote" in str(error)


def test_a_seeded_keyring_repeats_its_keys_and_is_never_written(tmp_path) -> None:
    first = ValidatorKeyring.seeded(b"workshop", count=3)
    again = ValidatorKeyring.seeded(b"workshop", count=3)
    other = ValidatorKeyring.seeded(b"another", count=3)
    assert [k.address for k in first.keys] == [k.address for k in again.keys]
    assert first.operator.address == again.operator.address
    assert len({k.address for k in first.keys}) == 3
    assert not {k.address for k in first.keys} & {k.address for k in other.keys}
    assert first.folder is None
    first.save()
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="non-empty seed"):
        ValidatorKeyring.seeded(b"")


def test_seeded_validator_keys_are_refused_for_a_chain_kept_on_disk(tmp_path) -> None:
    from registry.chain.backend import make_mode
    from registry.errors import ConfigurationError
    from registry.settings import Settings

    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigurationError, match="in-memory chains only"):
        make_mode("permissioned", settings, tmp_path / "permissioned", validator_seed=b"workshop")
    assert not (tmp_path / "permissioned").exists()
