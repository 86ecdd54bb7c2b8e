"""The registry as one object: both chains, the index, custody and every service, opened and closed together.

    with Registry.open(settings) as registry:
        cash = registry.cash.issue("permissioned", {"name": "Test USD", "symbol": "tUSD"}, issuer=issuer)
        bond = registry.bonds.issue("permissioned", "kyc", terms, issuer=issuer)
        registry.investors.register("permissioned", wallet, country=756)
        outcome = registry.tokens.mint(bond.asset.asset_id, wallet, 100, sender=issuer)
        registry.wait_for_index("permissioned", outcome.block_number)   # a read after a write sees it
        with registry.db.read() as session:
            page = queries.cap_table(session, bond.asset.asset_id)

`Registry.open` opens, in this order: the index database (migrated to the newest schema), the keystore
(``REGISTRY_KEYSTORE_PASSPHRASE``), each chain through `registry.chain.connect` (the embedded chain, or
the node of ``REGISTRY_<NAME>_RPC_URL``) with custody's sender, the services, then finishes any issue a
crash interrupted (`registry.assets.issuance.Issuer.recover`), and starts one index follower per chain
in a thread: on an embedded chain it wakes at every new block or rollback the chain announces, on an
external node at every change the backend's poller sees (and at least every ``follow_interval``
seconds). `Registry.close` stops the followers, then the senders and chains, then the database.

The HTTP API, the CLI and the demos use this object; nothing else opens chains or keys for them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from typing import Any

from registry.activity import ActivityHub, ActivitySources, next_run_first_id
from registry.assets.bonds import BondService
from registry.assets.cash import CashService
from registry.assets.issuance import Issuer, PreparedIssue
from registry.assets.payments import Payments
from registry.assets.stocks import StockService
from registry.assets.tokens import TokenService
from registry.bulk.journal import Journal
from registry.bulk.runner import BulkRunner
from registry.chain.backend import ChainHandle, connect
from registry.chain.names import CHAIN_NAMES, ChainName
from registry.chain.node.chain import Sealing
from registry.context import ChainAccess, ServiceContext
from registry.custody.keystore import Keystore
from registry.custody.sender import TransactionSender
from registry.custody.signers import Signers
from registry.custody.transactions import PreparedTransaction, TxOutcome, UnsignedTransaction
from registry.errors import IndexBehindError, InvalidInputError
from registry.governance.desks import GovernanceService
from registry.index import catalogue
from registry.index.catalogue import AssetRecord
from registry.index.db import Database
from registry.index.indexer import Indexer, IndexFollower
from registry.investors.onboarding import InvestorService
from registry.investors.registries import IdentityRegistries
from registry.keys import KeyService
from registry.settings import Settings

logger = logging.getLogger(__name__)

DEFAULT_FOLLOW_INTERVAL = 5.0
"""Seconds between two index syncs when the chain announces nothing (a safety net)."""


class Registry:
    """Both chains, the index, custody and the services (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        ctx: ServiceContext,
        indexers: dict[ChainName, Indexer],
        stack: ExitStack,
        *,
        activity: ActivityHub | None = None,
    ) -> None:
        self.settings = settings
        """The settings it was opened with."""
        self.db = db
        """The index database (catalogue and index)."""
        self.context = ctx
        """What the services share."""
        self.indexers = indexers
        """One indexer per chain."""
        self.followers: dict[ChainName, IndexFollower] = {}
        """The running index followers (none when opened with ``follow=False``)."""
        self._stack = stack
        self._closed = False
        self.activity = activity if activity is not None else ActivityHub()
        """The activity stream: blocks, token events, refusals, interventions, rollbacks
        (`registry.activity`)."""
        sources = ActivitySources(self.activity)
        for name, access in ctx.chains.items():
            for stop in sources.attach_chain(access.handle):
                stack.callback(stop)
            if name in indexers:
                indexers[name].on_events = sources.token_events
        # Closing runs in reverse: open streams end before the chains close.
        stack.callback(self.activity.close)
        self.keys = KeyService(ctx)
        """Custodial keys made ready to send."""
        self.registries = IdentityRegistries(ctx, self.keys)
        """Which identity registry each chain uses."""
        self.investors = InvestorService(ctx, self.registries)
        """KYC onboarding."""
        self.issuer = Issuer(ctx, self.registries)
        """Deployment and cataloguing of assets (used by the kind services)."""
        payments = Payments(ctx)
        self.tokens = TokenService(ctx)
        """Operations of every regulated token."""
        self.bonds = BondService(ctx, self.issuer, payments)
        """Bonds."""
        self.stocks = StockService(ctx, self.issuer, payments)
        """Stocks."""
        self.cash = CashService(ctx, self.issuer)
        """Cash tokens."""
        self.governance = GovernanceService(ctx, on_intervention=sources.intervention)
        """Interventions and validator votes (permissioned chain)."""

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        chains: Iterable[str] = CHAIN_NAMES,
        in_memory: bool = False,
        sealing: Sealing = "background",
        follow: bool = True,
        follow_interval: float = DEFAULT_FOLLOW_INTERVAL,
        validator_seed: bytes | None = None,
        wall_clock: Callable[[], float] | None = None,
    ) -> Registry:
        """Open the registry (see the module docstring). ``in_memory`` and ``sealing`` apply to embedded
        chains (tests and demos), ``validator_seed`` to an in-memory permissioned chain (its keys derived
        from the seed, so that a demo repeats), ``wall_clock`` to every embedded chain (the clock its time
        follows: a fixed one makes a run repeat block for block); ``follow`` False starts no index follower
        (`wait_for_index` then syncs).

        Raises:
            ConfigurationError, ChainConnectionError, ChainDataError, DatabaseUnavailableError,
            SchemaVersionError: something cannot be opened; whatever was opened is closed again.
        """
        chosen = settings if settings is not None else Settings()
        stack = ExitStack()
        try:
            db = Database.open(chosen)
            stack.callback(db.close)
            keystore = Keystore.from_settings(chosen)
            journal = Journal(chosen.data_dir / "journal")
            accesses: dict[ChainName, ChainAccess] = {}
            indexers: dict[ChainName, Indexer] = {}
            for name in chains:
                handle = connect(
                    name,
                    chosen,
                    in_memory=in_memory,
                    sealing=sealing,
                    validator_seed=validator_seed,
                    wall_clock=wall_clock,
                )
                stack.callback(handle.close)
                sender = TransactionSender.for_chain(
                    handle,
                    Signers.for_chain(handle, keystore),
                    timeout=chosen.transaction_timeout_seconds,
                    on_signed=journal.on_signed,
                )
                stack.callback(sender.close)
                accesses[handle.name] = ChainAccess(
                    name=handle.name, handle=handle, sender=sender, bulk=BulkRunner(sender, journal)
                )
                indexers[handle.name] = Indexer.for_handle(db, handle)
            ctx = ServiceContext(db, accesses, journal, keystore)
            activity = ActivityHub(first_id=next_run_first_id(chosen.data_dir))
            registry = cls(chosen, db, ctx, indexers, stack, activity=activity)
            for asset in registry.issuer.recover():
                logger.warning("catalogued %s, whose issue an earlier run did not finish", asset.asset_id)
            if follow:
                for name, indexer in indexers.items():
                    follower = IndexFollower(indexer, accesses[name].handle, interval=follow_interval).start()
                    registry.followers[name] = follower
                    # Closing runs in reverse: the followers stop before the chains close.
                    stack.callback(follower.stop)
        except BaseException:
            stack.close()
            raise
        return registry

    def close(self) -> None:
        """Stop the followers, then the senders and the chains, then the database."""
        if not self._closed:
            self._closed = True
            self._stack.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- chains ----------------------------------------------------------------------------------

    def chain(self, name: str) -> ChainHandle:
        """The handle of the open chain ``name`` (its ``w3`` is the seam)."""
        return self.context.chain(name).handle

    def sender(self, name: str) -> TransactionSender:
        """Custody's sender of the open chain ``name``."""
        return self.context.chain(name).sender

    # -- catalogue -------------------------------------------------------------------------------

    def asset(self, asset_id: str) -> AssetRecord:
        """The catalogued asset ``asset_id`` (UnknownAssetError if none)."""
        with self.db.read() as session:
            return catalogue.get_asset(session, asset_id)

    def assets(self, *, chain: str | None = None, kind: str | None = None) -> list[AssetRecord]:
        """Every catalogued asset (of ``chain`` and ``kind`` when given)."""
        with self.db.read() as session:
            return catalogue.list_assets(session, chain=chain, kind=kind)

    # -- the non-custodial flow ------------------------------------------------------------------

    def prepare_unsigned(self, tx: PreparedTransaction, *, nonce: int | None = None) -> UnsignedTransaction:
        """``tx`` (from a service's ``prepare_*``) with nonce, gas, fees and chain id, for its sender "
        "to sign."""
        return self.sender(tx.chain).prepare_unsigned(tx, nonce=nonce)

    def submit_signed(self, raw: bytes | str, *, expected: UnsignedTransaction) -> TxOutcome:
        """Send a client's signed ``raw`` transaction and wait for it. ``expected`` (what
        `prepare_unsigned` gave) is required: the registry relays only transactions it prepared, so a
        client cannot slip another target, call data, value or sender into what it signs.

        Raises:
            SignedTransactionMismatchError: the signed transaction is not the prepared one.
            InvalidInputError, SubmissionRejectedError, TransactionRevertedError, TransactionNotLandedError.
        """
        if not isinstance(expected, UnsignedTransaction):
            raise InvalidInputError(
                "expected", "give the UnsignedTransaction the transaction was prepared as"
            )
        return self.sender(expected.chain).submit_signed(raw, expected=expected)

    def complete_issue(self, prepared: PreparedIssue, outcome: TxOutcome) -> AssetRecord:
        """Catalogue an asset whose creation a client signed and `submit_signed` sent."""
        return self.issuer.complete(prepared, outcome)

    # -- the index -------------------------------------------------------------------------------

    def wait_for_index(self, chain: str, block: int, *, timeout: float = 30.0) -> None:
        """Return once the index of ``chain`` holds ``block`` (e.g. a write's block, so that the next read
        sees the write). Without followers, syncs the index here.

        Raises:
            IndexBehindError: not within ``timeout`` seconds (the message has the follower's last error).
        """
        access = self.context.chain(chain)
        follower = self.followers.get(access.name)
        if follower is None:
            report = self.indexers[access.name].sync(to_block=block)
            if report.head_number >= block:
                return
            raise IndexBehindError(
                f"the {access.name} chain's index stopped at {report.head_number}, before {block}"
            )
        if follower.wait_for(block, timeout):
            return
        cause: Any = follower.last_error
        detail = f"; its last error: {cause}" if cause is not None else ""
        raise IndexBehindError(
            f"the index of the {access.name} chain did not reach block {block} within {timeout:g} s{detail}"
        )
