"""What every service works with: each open chain (its `Web3`, custody's sender, the batch runner), the
index database, the journal; and the steps operations share: bind a contract, check an address or an
amount, send a prepared transaction with its revert explained.

Services never hold a chain or a key themselves: `registry.runtime.Registry` builds one
`ServiceContext` and hands it to each of them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import is_address, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from registry.artifacts import load_artifact
from registry.bulk.journal import Journal
from registry.bulk.runner import BulkRunner
from registry.chain.backend import ChainHandle
from registry.chain.clock import latest_timestamp
from registry.chain.consensus.kyc import IDENTITY_REGISTRY_ADDRESS
from registry.chain.names import CHAIN_NAMES, ChainName
from registry.compliance import Violation, explain_one, explain_withheld
from registry.custody.keystore import Keystore
from registry.custody.sender import TransactionSender
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import (
    ComplianceRefusedError,
    InvalidInputError,
    PaymentWithheldError,
    RoleMissingError,
    TransactionRevertedError,
)
from registry.index.catalogue import AssetRecord, get_asset
from registry.index.db import Database
from registry.roles import ROLE_POWERS, role_name

ZERO_ADDRESS: ChecksumAddress = to_checksum_address("0x" + "00" * 20)
"""The zero address (no identity registry; the "from" of a mint)."""

GENESIS_REGISTRY: ChecksumAddress = to_checksum_address(bytes(IDENTITY_REGISTRY_ADDRESS))
"""The permissioned chain's identity registry, deployed at genesis."""

MAX_UINT256 = 2**256 - 1


@dataclass
class ChainAccess:
    """One open chain as the services use it."""

    name: ChainName
    handle: ChainHandle
    sender: TransactionSender
    bulk: BulkRunner
    _contracts: dict[tuple[str, str], Contract] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def w3(self) -> Web3:
        """The chain seam."""
        return self.handle.w3

    @property
    def embedded(self) -> bool:
        """True for an embedded chain (its development accounts and operator are at hand)."""
        return self.handle.embedded is not None

    def contract(self, artifact: str, address: str) -> Contract:
        """The contract ``artifact`` at ``address``, bound to this chain."""
        key = (artifact, address)
        with self._lock:
            bound = self._contracts.get(key)
            if bound is None:
                bound = self.w3.eth.contract(
                    address=to_checksum_address(address), abi=load_artifact(artifact).abi
                )
                self._contracts[key] = bound
            return bound

    def now(self) -> int:
        """The timestamp of the chain's latest block."""
        return latest_timestamp(self.w3)

    def has_code(self, address: str) -> bool:
        """True if a contract lives at ``address``."""
        return len(self.w3.eth.get_code(to_checksum_address(address))) > 0


class ServiceContext:
    """The chains, database, journal and keystore the services share."""

    def __init__(
        self,
        db: Database,
        chains: Mapping[ChainName, ChainAccess],
        journal: Journal,
        keystore: Keystore | None = None,
    ) -> None:
        self.db = db
        """The index database (the catalogue lives there)."""
        self.chains = dict(chains)
        """The open chains by name."""
        self.journal = journal
        """Where batches and issues are journaled."""
        self.keystore = keystore
        """The custodial keystore (None: only in-memory keys)."""

    def chain(self, name: str) -> ChainAccess:
        """The open chain ``name``.

        Raises:
            InvalidInputError: not a chain name, or that chain is not open.
        """
        if name not in CHAIN_NAMES:
            raise InvalidInputError("chain", f"the chains are {', '.join(CHAIN_NAMES)}; got {name!r}")
        access = self.chains.get(name)
        if access is None:
            raise InvalidInputError("chain", f"the {name} chain is not open in this registry")
        return access

    def asset(self, asset_id: str, *, kinds: tuple[str, ...] | None = None) -> AssetRecord:
        """The catalogued asset ``asset_id`` (of one of ``kinds`` when given).

        Raises:
            UnknownAssetError: no asset has that id.
            InvalidInputError: it is another kind of asset, or its chain is not open.
        """
        if not isinstance(asset_id, str):
            raise InvalidInputError("asset_id", f"an asset id is text, e.g. 'bond-…'; got {asset_id!r}")
        with self.db.read() as session:
            asset = get_asset(session, asset_id)
        if kinds is not None and asset.kind not in kinds:
            raise InvalidInputError(
                "asset_id", f"{asset_id} is a {asset.kind}; this operation is for a {' or '.join(kinds)}"
            )
        self.chain(asset.chain)
        return asset

    def token(self, asset: AssetRecord) -> Contract:
        """The contract of ``asset``, bound to its chain."""
        artifact = {"bond": "BondToken", "stock": "StockToken", "cash": "CashToken"}[asset.kind]
        return self.chain(asset.chain).contract(artifact, asset.address)

    def send(self, tx: PreparedTransaction, *, asset_id: str | None = None) -> TxOutcome:
        """Send ``tx`` custodially and wait for it; a refusal the contract explains is raised as the
        registry's own error (see `explain_revert`).

        Raises:
            ComplianceRefusedError, PaymentWithheldError, RoleMissingError: the estimate reverted for that
                reason (nothing was sent).
            NoSigningKeyError, TransactionFailedError subclasses: see custody.
        """
        try:
            return self.chain(tx.chain).sender.send(tx)
        except TransactionRevertedError as exc:
            explained = explain_revert(exc, asset_id=asset_id)
            if explained is None:
                raise
            raise explained from exc


def explain_revert(exc: TransactionRevertedError, *, asset_id: str | None) -> Exception | None:
    """The registry's error for a revert found before sending (``exc.sent`` False) whose reason a service
    can word: a compliance rule, a withheld payment, a missing role. None for anything else."""
    error = exc.error
    if exc.sent or error is None:
        return None
    args: dict[str, Any] = error.args
    subject = asset_id or "the token"
    if error.name == "ComplianceRuleViolated":
        violation = explain_one(int(args["rule"]))
        return ComplianceRefusedError(
            f"{exc.description}: refused by {subject}: {violation} Nothing was sent.",
            asset_id=subject,
            violations=(violation,),
        )
    if error.name == "RegulatedTokenPaymentWithheld":
        withheld = explain_withheld(int(args["rule"]))
        return PaymentWithheldError(
            f"{exc.description}: {withheld} Nothing was sent.",
            asset_id=subject,
            payee=str(args["payee"]),
            violation=withheld,
        )
    if error.name == "AccessControlUnauthorizedAccount":
        role = role_name(bytes(args["neededRole"]))
        powers = ROLE_POWERS.get(role, "do this")
        return RoleMissingError(
            f"{exc.description}: {args['account']} does not hold the {role} role, which it needs to "
            f"{powers}. "
            "Nothing was sent",
            role=role,
            account=str(args["account"]),
            contract=subject,
        )
    return None


def describe_violations(violations: tuple[Violation, ...]) -> str:
    """``"COUNTRY_NOT_ALLOWED: The receiver's country … Send to …; LOCKUP_ACTIVE: …"``."""
    return "; ".join(f"{v.name} ({v.code}): {v}" for v in violations)


def check_address(value: object, field_name: str, *, allow_zero: bool = False) -> ChecksumAddress:
    """``value`` as a checksum address.

    Raises:
        InvalidInputError: not an address, or the zero address when not allowed.
    """
    if not isinstance(value, str) or not is_address(value):
        raise InvalidInputError(field_name, f"expected an address (0x and 40 hex digits); got {value!r}")
    address = to_checksum_address(value)
    if address == ZERO_ADDRESS and not allow_zero:
        raise InvalidInputError(field_name, "the zero address cannot be used here")
    return address


def check_amount(
    value: object, field_name: str, *, allow_zero: bool = False, limit: int = MAX_UINT256
) -> int:
    """``value`` as an amount in the token's smallest units.

    Raises:
        InvalidInputError: not an integer, negative, zero when not allowed, or above ``limit``.
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidInputError(
            field_name, f"an amount is a whole number of the token's smallest units; got {value!r}"
        )
    if value < 0 or (value == 0 and not allow_zero):
        raise InvalidInputError(
            field_name, f"an amount must be {'>= 0' if allow_zero else '> 0'}; got {value}"
        )
    if value > limit:
        raise InvalidInputError(field_name, f"an amount is at most {limit}; got {value}")
    return value
