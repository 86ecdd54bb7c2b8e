"""Choosing a chain backend: `connect` returns a `ChainHandle` whose ``w3`` is the seam.

The backend of chain ``name`` is chosen in this order, and the choice is announced
(logged, and kept in `ChainHandle.announcement`), never silent:

1. an explicit argument: ``rpc_url=...`` (an external node) or ``embedded=True``;
2. the environment: ``REGISTRY_<NAME>_RPC_URL`` (via the settings);
3. the default: the embedded chain in ``<data dir>/chains/<name>``.

A configured node that cannot be reached is an error (`ChainConnectionError`), not a
reason to fall back to the embedded chain: the caller asked for that node.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from web3 import Web3

from registry.chain.accounts import ETHER, DevAccount
from registry.chain.events import ChainListener
from registry.chain.external import ExternalBackend
from registry.chain.names import CHAIN_NAMES, ChainName
from registry.chain.node.chain import EmbeddedChain, Sealing
from registry.chain.node.modes import ChainMode, PermissionlessMode
from registry.chain.rpc.provider import EmbeddedProvider, adapt_to_long_extra_data
from registry.errors import ConfigurationError

logger = logging.getLogger(__name__)

Origin = Literal["argument", "environment", "default"]
"""Where the choice of backend came from."""


class ChainSettings(Protocol):
    """What `connect` reads from the settings (``registry.settings.Settings`` provides it)."""

    data_dir: Path
    block_gas_limit: int
    dev_accounts: int
    dev_account_balance_eth: int
    validators: int
    batch_window_ms: float
    receipt_wait_seconds: float

    def chain_dir(self, name: ChainName) -> Path:
        """Folder of the embedded chain ``name``."""
        ...

    def rpc_url(self, name: ChainName) -> str | None:
        """External node configured for chain ``name``."""
        ...

    def chain_id(self, name: ChainName) -> int:
        """Chain id of the embedded chain ``name``."""
        ...


class EmbeddedBackend:
    """An `EmbeddedChain` as a backend: the chain, a `Web3` over it, and its mode's features."""

    kind = "embedded"

    def __init__(self, chain: EmbeddedChain) -> None:
        self.chain = chain
        """The embedded chain."""
        self.name: ChainName = chain.name
        """``permissioned`` or ``permissionless``."""
        self.chain_id = chain.chain_id
        """The chain id."""
        self.provider = EmbeddedProvider(chain)
        """The in-process provider (its ``dispatcher`` also serves HTTP)."""
        self.w3 = adapt_to_long_extra_data(Web3(self.provider))
        """The seam everything above the chain layer uses."""

    @property
    def dev_accounts(self) -> list[DevAccount]:
        """The chain's funded development accounts."""
        return self.chain.dev_accounts

    def describe(self) -> str:
        """One line for people: what this backend is."""
        where = self.chain.database.path or "memory"
        return f"{self.name} chain: embedded (chain id {self.chain_id}, data in {where})"

    def interventions(self) -> Any:
        """The mode's intervention API (the permissionless mode raises ImmutableChainError)."""
        return self.chain.mode.interventions()

    def validator_votes(self) -> Any:
        """The mode's validator-voting API (the permissionless mode raises ImmutableChainError)."""
        return self.chain.mode.validator_votes()

    def subscribe(self, listener: ChainListener) -> Callable[[], None]:
        """Follow new blocks and rollbacks."""
        return self.chain.subscribe(listener)

    def close(self) -> None:
        """Close the chain."""
        self.chain.close()


Backend = EmbeddedBackend | ExternalBackend
"""Any chain backend."""


@dataclass
class ChainHandle:
    """A connected chain: ``w3`` is the seam; ``backend`` has what differs between backends.

    On chains whose blocks carry more than 32 bytes of ``extraData`` (the permissioned
    chain's validators and seals, a QBFT node), ``w3`` has web3.py's proof-of-authority
    middleware: blocks show that field as ``proofOfAuthorityData``.
    """

    name: ChainName
    w3: Web3
    backend: Backend
    origin: Origin
    announcement: str
    """Which backend was chosen and why, in one sentence."""

    @property
    def chain_id(self) -> int:
        """The chain id."""
        return self.backend.chain_id

    @property
    def embedded(self) -> EmbeddedChain | None:
        """The embedded chain, or None for an external node."""
        return self.backend.chain if isinstance(self.backend, EmbeddedBackend) else None

    def interventions(self) -> Any:
        """The intervention API, or raise ImmutableChainError / NotSupportedByBackendError."""
        return self.backend.interventions()

    def validator_votes(self) -> Any:
        """The validator-voting API, or raise ImmutableChainError / NotSupportedByBackendError."""
        return self.backend.validator_votes()

    def subscribe(self, listener: ChainListener) -> Callable[[], None]:
        """Follow new blocks (and rollbacks or reorganisations); returns the unsubscribe function."""
        return self.backend.subscribe(listener)

    def close(self) -> None:
        """Release the backend (stops the builder or the poller)."""
        self.backend.close()

    def __enter__(self) -> ChainHandle:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_chain_name(name: str) -> ChainName:
    """Return ``name`` if it names one of the chains.

    Raises:
        ConfigurationError: it does not.
    """
    for known in CHAIN_NAMES:
        if name == known:
            return known
    raise ConfigurationError(f"unknown chain {name!r}; the chains are {', '.join(CHAIN_NAMES)}")


def make_mode(
    name: ChainName, settings: ChainSettings, folder: Path | None, *, validator_seed: bytes | None = None
) -> ChainMode:
    """The mode of the embedded chain ``name``, configured from ``settings``; ``validator_seed`` (an
    in-memory chain only) derives the permissioned chain's validator and operator keys from a seed."""
    if name == "permissionless":
        return PermissionlessMode()
    # Imported here: the permissioned mode pulls in its consensus and governance modules.
    from registry.chain.consensus.mode import PermissionedMode
    from registry.chain.consensus.validators import ValidatorKeyring

    if validator_seed is not None and folder is not None:
        raise ConfigurationError(
            "seeded validator keys are for in-memory chains only: a chain kept on disk has keys of its own"
        )
    return PermissionedMode(
        folder,
        validators=settings.validators,
        chain_id=settings.chain_id(name),
        dev_account_count=settings.dev_accounts,
        keyring=None
        if validator_seed is None
        else ValidatorKeyring.seeded(validator_seed, settings.validators),
    )


def open_embedded(
    name: ChainName,
    settings: ChainSettings,
    *,
    in_memory: bool = False,
    sealing: Sealing = "background",
    validator_seed: bytes | None = None,
    wall_clock: Callable[[], float] | None = None,
) -> EmbeddedChain:
    """Open (or create) the embedded chain ``name`` as the settings describe it (``validator_seed``: see
    `make_mode`)."""
    folder = None if in_memory else settings.chain_dir(name)
    mode = make_mode(name, settings, folder, validator_seed=validator_seed)
    return EmbeddedChain.open(
        mode,
        data_dir=folder,
        chain_id=settings.chain_id(name),
        sealing=sealing,
        batch_window=settings.batch_window_ms / 1000,
        gas_limit=settings.block_gas_limit,
        dev_account_count=settings.dev_accounts,
        dev_account_balance=settings.dev_account_balance_eth * ETHER,
        receipt_wait=settings.receipt_wait_seconds,
        wall_clock=wall_clock,
    )


def connect(
    name: str,
    settings: ChainSettings,
    *,
    rpc_url: str | None = None,
    embedded: bool | None = None,
    in_memory: bool = False,
    sealing: Sealing = "background",
    validator_seed: bytes | None = None,
    wall_clock: Callable[[], float] | None = None,
) -> ChainHandle:
    """Connect to chain ``name``; see the module docstring for how the backend is chosen
    (``validator_seed``: an in-memory embedded chain's keys from a seed, see `make_mode`; ``wall_clock``:
    the clock an embedded chain's time follows, see `EmbeddedChain.open`).

    Raises:
        ConfigurationError: unknown chain name, or contradictory arguments.
        ChainConnectionError: the chosen external node does not answer.
        ChainDataError: the data directory holds another chain.
    """
    chain_name = check_chain_name(name)
    if rpc_url is not None and embedded:
        raise ConfigurationError(f"connect({chain_name!r}) got both rpc_url and embedded=True; choose one")
    origin: Origin
    if rpc_url is not None:
        url: str | None = rpc_url
        origin = "argument"
    elif embedded:
        url = None
        origin = "argument"
    elif settings.rpc_url(chain_name):
        url = settings.rpc_url(chain_name)
        origin = "environment"
    else:
        url = None
        origin = "default"

    backend: Backend
    if url is not None:
        backend = ExternalBackend(chain_name, url)
        source = "the rpc_url argument" if origin == "argument" else f"REGISTRY_{chain_name.upper()}_RPC_URL"
        announcement = f"{backend.describe()}, chosen by {source}"
    else:
        backend = EmbeddedBackend(
            open_embedded(
                chain_name,
                settings,
                in_memory=in_memory,
                sealing=sealing,
                validator_seed=validator_seed,
                wall_clock=wall_clock,
            )
        )
        reason = (
            "as asked"
            if origin == "argument"
            else f"the default, since REGISTRY_{chain_name.upper()}_RPC_URL is not set"
        )
        announcement = f"{backend.describe()}; {reason}"
    logger.info("%s", announcement)
    return ChainHandle(
        name=chain_name, w3=backend.w3, backend=backend, origin=origin, announcement=announcement
    )
