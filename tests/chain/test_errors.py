"""The chain's exception tree: one root under RegistryError, dual bases where callers expect them."""

from __future__ import annotations

import inspect

import pytest

from registry.chain import errors
from registry.errors import RegistryError


def all_chain_errors():
    return [
        obj for _, obj in inspect.getmembers(errors, inspect.isclass) if issubclass(obj, errors.ChainError)
    ]


def test_every_chain_error_is_a_registry_error_with_a_docstring_and_a_code():
    for cls in all_chain_errors():
        assert issubclass(cls, RegistryError)
        assert cls.__doc__
        assert isinstance(cls.rpc_code, int)
        assert cls.__name__ in errors.__doc__


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (errors.TransactionRejectedError, ValueError),
        (errors.SenderNotPermittedError, PermissionError),
        (errors.ImmutableChainError, PermissionError),
        (errors.NotSupportedByBackendError, NotImplementedError),
        (errors.BlockNotFoundError, LookupError),
        (errors.ChainConnectionError, ConnectionError),
    ],
)
def test_dual_bases_let_callers_catch_builtin_kinds(cls, builtin):
    assert issubclass(cls, builtin)


def test_revert_error_keeps_its_payload():
    error = errors.RevertError("execution reverted", data=b"\x01\x02")
    assert error.data == b"\x01\x02"
    assert error.rpc_code == 3


def test_permissionless_chain_refuses_interventions_clearly():
    from registry.chain.node.modes import PermissionlessMode

    with pytest.raises(errors.ImmutableChainError, match="immutable"):
        PermissionlessMode().interventions()
    with pytest.raises(errors.ImmutableChainError, match="immutable"):
        PermissionlessMode().validator_votes()


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("UNREGISTERED", errors.UnregisteredSenderError),
        ("EXPIRED", errors.KycExpiredError),
        ("REVOKED", errors.KycRevokedError),
        ("REFUSED", errors.SenderNotPermittedError),
    ],
)
def test_a_kyc_refusal_is_recognised_from_its_words(status, expected):
    # Clients (custody, the HTTP API) meet these refusals as JSON-RPC text: the words must stay readable.
    from registry.chain.consensus.kyc import KycStatus, KycVerdict, kyc_refusal

    refusal = kyc_refusal(b"\x11" * 20, KycVerdict(KycStatus[status], 1_000, record=(7 << 40) | 5))
    assert type(refusal) is expected
    assert errors.sender_refusal_of(f"{refusal} (refused before it runs)") is expected


def test_a_chain_wide_freeze_is_recognised_from_its_words_and_other_text_is_not_a_refusal():
    message = (
        "sender 0x1111…1111 is frozen chain-wide since block 4 by intervention 0xab (hack); its transactions "
        "are refused until a validator quorum unfreezes it"
    )
    assert errors.sender_refusal_of(message) is errors.SenderFrozenError
    assert errors.sender_refusal_of("insufficient funds for gas * price + value") is None
