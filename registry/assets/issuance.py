"""Issuing an asset: validated terms, one contract creation, one catalogue row.

`Issuer.prepare` checks everything that can be checked before sending (the terms, the mode, the cash
token, the identity registry, the chain's clock) and builds the contract creation; `Issuer.issue`
sends it custodially and catalogues the new contract under its stable registry id
(`registry.index.catalogue.asset_id_for`). In the non-custodial flow the client signs the creation
itself and `Issuer.complete` catalogues what landed, after checking it on the chain (the transaction
that created the contract must carry exactly the prepared creation code).

The issuer (the sender) becomes the token's admin and holds every role.

**Crash safety.** An issue is journaled: the creation's hash is written before it is sent. A process
that dies after sending finds the entry on its next start (`Issuer.recover`, run by
`registry.runtime.Registry.open`) and catalogues the contract if it was deployed, so no deployed asset
is left out of the catalogue, and a retry of the same issue is not needed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from registry.artifacts import load_artifact
from registry.bulk.journal import match_by_data
from registry.bulk.runner import fingerprint_of
from registry.chain.names import ChainName
from registry.context import ChainAccess, ServiceContext, check_address
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import (
    InvalidInputError,
    TransactionFailedError,
    TransactionNotLandedError,
    TransactionRevertedError,
    UnknownAssetError,
)
from registry.index import catalogue
from registry.index.catalogue import AssetKind, AssetMode, AssetRecord
from registry.investors.registries import IdentityRegistries

logger = logging.getLogger(__name__)

OPERATION = "issue"
"""The journal's name for an issue."""

_ARTIFACTS = {"bond": "BondToken", "stock": "StockToken", "cash": "CashToken"}
_DECIMALS = {"bond": 0, "stock": 0, "cash": 6}


@dataclass(frozen=True)
class PreparedIssue:
    """An asset ready to be deployed: what will be catalogued, and the contract creation to send."""

    kind: AssetKind
    chain: ChainName
    mode: AssetMode
    name: str
    symbol: str
    decimals: int
    terms: dict[str, Any]
    """The validated terms as JSON (the cash token resolved to its address)."""
    identity_registry: ChecksumAddress | None
    issuer: ChecksumAddress
    transaction: PreparedTransaction

    def to_json(self) -> dict[str, Any]:
        """JSON form (kept in the journal until the asset is catalogued)."""
        return {
            "kind": self.kind,
            "chain": self.chain,
            "mode": self.mode,
            "name": self.name,
            "symbol": self.symbol,
            "decimals": self.decimals,
            "terms": self.terms,
            "identity_registry": self.identity_registry,
            "issuer": self.issuer,
            "data": "0x" + self.transaction.data.hex(),
            "description": self.transaction.description,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PreparedIssue:
        """From `to_json`'s form."""
        return cls(
            kind=data["kind"],
            chain=data["chain"],
            mode=data["mode"],
            name=data["name"],
            symbol=data["symbol"],
            decimals=int(data["decimals"]),
            terms=dict(data["terms"]),
            identity_registry=data["identity_registry"],
            issuer=data["issuer"],
            transaction=PreparedTransaction(
                chain=data["chain"],
                sender=data["issuer"],
                to=None,
                data=data["data"],
                description=data["description"],
            ),
        )


@dataclass(frozen=True)
class Issuance:
    """An issued asset: its catalogue record and the deployment transaction."""

    asset: AssetRecord
    outcome: TxOutcome


ConstructorArgs = Callable[[ChecksumAddress, ChecksumAddress | None], list[Any]]
"""``args(issuer, identity_registry)``: the contract's constructor arguments."""


class Issuer:
    """Deploys and catalogues assets of every kind (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, registries: IdentityRegistries) -> None:
        self._ctx = ctx
        self._registries = registries

    def check_mode(self, kind: AssetKind, mode: str) -> AssetMode:
        """``mode`` if the asset kind offers it.

        Raises:
            InvalidInputError: not ``kyc`` or ``open``, or ``kyc`` for a cash token.
        """
        if mode not in ("kyc", "open"):
            raise InvalidInputError("mode", f"an asset runs in 'kyc' or 'open' mode; got {mode!r}")
        if kind == "cash" and mode != "open":
            raise InvalidInputError("mode", "a cash token is a plain ERC-20: it has no kyc mode; use 'open'")
        return mode  # type: ignore[return-value]

    def resolve_currency(self, access: ChainAccess, value: str) -> ChecksumAddress:
        """The cash token named by ``value`` (a ``cash-…`` id or an address) on ``access``'s chain.

        Raises:
            InvalidInputError: unknown, on another chain, or no contract at the address.
        """
        if isinstance(value, str) and value.startswith("cash-"):
            try:
                asset = self._ctx.asset(value, kinds=("cash",))
            except UnknownAssetError as exc:
                raise InvalidInputError("currency", str(exc)) from exc
            if asset.chain != access.name:
                raise InvalidInputError(
                    "currency",
                    f"{value} lives on the {asset.chain} chain; the asset is issued on {access.name}",
                )
            return to_checksum_address(asset.address)
        address = check_address(value, "currency")
        if not access.has_code(address):
            raise InvalidInputError(
                "currency", f"no contract at {address} on the {access.name} chain: name a cash token"
            )
        return address

    def prepare(
        self,
        kind: AssetKind,
        chain: str,
        mode: str,
        terms: dict[str, Any],
        *,
        issuer: str,
        args: ConstructorArgs,
    ) -> PreparedIssue:
        """The creation of a ``kind`` asset with validated ``terms`` (JSON), by ``issuer``.

        A kyc-mode asset on the permissionless chain deploys that chain's identity registry first when
        it has none (a transaction of the registry's own KYC-provider key).

        Raises:
            InvalidInputError: a bad mode, chain or issuer.
            ConfigurationError: a kyc-mode asset on a permissioned chain without its registry.
        """
        access = self._ctx.chain(chain)
        checked_mode = self.check_mode(kind, mode)
        sender = check_address(issuer, "issuer")
        registry = self._registries.ensure(access.name) if checked_mode == "kyc" else None
        artifact = load_artifact(_ARTIFACTS[kind])
        factory = access.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        data = factory.constructor(*args(sender, registry)).data_in_transaction
        name, symbol = str(terms["name"]), str(terms["symbol"])
        return PreparedIssue(
            kind=kind,
            chain=access.name,
            mode=checked_mode,
            name=name,
            symbol=symbol,
            decimals=_DECIMALS[kind],
            terms=terms,
            identity_registry=registry,
            issuer=sender,
            transaction=PreparedTransaction(
                chain=access.name,
                sender=sender,
                to=None,
                data=data,
                description=f"issue the {kind} {symbol} ({checked_mode} mode) on the {access.name} chain",
            ),
        )

    def issue(self, prepared: PreparedIssue) -> Issuance:
        """Deploy ``prepared`` custodially, journaled, and catalogue it.

        Raises:
            NoSigningKeyError: custody holds no key for the issuer (use the non-custodial flow).
            TransactionFailedError subclasses: the creation failed (nothing catalogued).
        """
        journal = self._ctx.journal
        entry = journal.create(
            OPERATION,
            prepared.chain,
            fingerprint_of(prepared.to_json()),
            [range(0, 1)],
            data=prepared.to_json(),
        )
        try:
            with journal.recording(entry, match_by_data(entry, [prepared.transaction.data])):
                outcome = self._ctx.send(prepared.transaction)
        except TransactionNotLandedError:
            journal.save(entry)  # it may still land: recover() catalogues it then
            raise
        except TransactionFailedError:
            entry.chunks[0].state = "failed"
            journal.finish(entry)
            raise
        except Exception:
            if entry.chunks[0].tx_hash is None:
                journal.finish(entry)
            raise
        asset = self.complete(prepared, outcome)
        entry.chunks[0].state = "landed"
        entry.chunks[0].block_number = outcome.block_number
        journal.finish(entry)
        return Issuance(asset=asset, outcome=outcome)

    def complete(self, prepared: PreparedIssue, outcome: TxOutcome) -> AssetRecord:
        """Catalogue the contract ``outcome`` created for ``prepared`` (the non-custodial flow's last step;
        cataloguing again returns the same record).

        Raises:
            InvalidInputError: ``outcome`` is not the creation of ``prepared`` on its chain.
        """
        access = self._ctx.chain(prepared.chain)
        if outcome.chain != prepared.chain or outcome.contract_address is None:
            raise InvalidInputError(
                "outcome", f"transaction {outcome.hash_hex} created no contract on the {prepared.chain} chain"
            )
        created = access.w3.eth.get_transaction(HexBytes(outcome.tx_hash))
        if bytes(created["input"]) != prepared.transaction.data or to_checksum_address(
            created["from"]
        ) != to_checksum_address(prepared.issuer):
            raise InvalidInputError(
                "outcome",
                f"transaction {outcome.hash_hex} is not the prepared issue of {prepared.symbol}: "
                "another sender "
                "or other creation code",
            )
        with self._ctx.db.write() as session:
            record = catalogue.add_asset(
                session,
                chain=prepared.chain,
                chain_id=access.handle.chain_id,
                address=outcome.contract_address,
                kind=prepared.kind,
                mode=prepared.mode,
                name=prepared.name,
                symbol=prepared.symbol,
                decimals=prepared.decimals,
                terms=prepared.terms,
                deployed_block=outcome.block_number,
                identity_registry=prepared.identity_registry,
            )
        logger.info(
            "issued %s %s at %s on the %s chain", record.asset_id, record.symbol, record.address, record.chain
        )
        return record

    def recover(self) -> list[AssetRecord]:
        """Catalogue the assets whose issue a crash interrupted after sending (see the module docstring);
        entries whose creation never landed are closed. Entries still pending are left for next time."""
        recovered: list[AssetRecord] = []
        journal = self._ctx.journal
        for entry in journal.entries(operation=OPERATION, state="open"):
            if entry.chain not in self._ctx.chains:
                continue
            chunk = entry.chunks[0]
            prepared = PreparedIssue.from_json(entry.data)
            if chunk.tx_hash is None:
                journal.finish(entry)
                continue
            sender = self._ctx.chain(entry.chain).sender
            try:
                outcome = sender.outcome_of(chunk.tx_hash, timeout=0)
            except TransactionRevertedError:
                chunk.state = "failed"
                journal.finish(entry)
                continue
            except TransactionNotLandedError:
                if sender.transaction_state(bytes(HexBytes(chunk.tx_hash))) == "unknown":
                    chunk.state = "failed"
                    journal.finish(entry)
                continue
            recovered.append(self.complete(prepared, outcome))
            chunk.state = "landed"
            chunk.block_number = outcome.block_number
            journal.finish(entry)
        return recovered
