"""KYC onboarding: investors, their wallets, country, attributes and KYC expiry, in a chain's identity
registry.

Which registry, and who signs by default, is `registry.investors.registries`: on the permissioned chain
the genesis registry and its operator, on the permissionless chain the registry's own (deployed on
first need). ``sender`` overrides the signer: any key holding the registry's ``kyc-provider`` role.

Every operation validates its arguments first (`InvalidInputError` naming the field), checks the
sender's role, then dry-runs the call: what the registry would refuse (a wallet already registered, a
revoked investor, too many wallets) is a `KycRegistrationError` in words, before anything is sent.
Each has a ``prepare_*`` form for the non-custodial flow. Batch registration is chunked, checked,
journaled and reported like the batch mints (`registry.bulk`); its report gives each item's investor id.

A revocation is final (the registry's rule): a revoked investor can be neither updated nor given
wallets; its holdings are settled by the tokens' enforcement agents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3.contract import Contract
from web3.logs import DISCARD

from registry.assets.terms import to_timestamp
from registry.bulk.report import BatchReport
from registry.bulk.runner import BulkProgress, Failed
from registry.calldata import encode_call
from registry.context import ChainAccess, ServiceContext, check_address
from registry.custody.batches import BatchEntry
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.dryrun import CallFailure, dry_run
from registry.errors import InvalidInputError, KycRegistrationError, UnknownInvestorError
from registry.investors.registries import IdentityRegistries
from registry.roles import require_role, role_id

ACCREDITED: Final = 0b01
PROFESSIONAL: Final = 0b10
MAX_EXPIRY: Final = 2**40 - 1
"""The latest KYC expiry the registry stores (a uint40 timestamp): "never"."""
_INVESTOR_REGISTERED: Final = keccak(text="InvestorRegistered(uint32,address,uint16,uint8,uint40)")
DEFAULT_VALIDITY: Final = 365 * 86_400
"""A KYC is valid for a year of chain time unless an expiry is given."""


@dataclass(frozen=True)
class InvestorSpec:
    """An investor to register in a batch: its (first) wallet, country (ISO 3166 numeric), attributes and
    KYC expiry (Unix time, a date or an aware datetime; None: a year from now)."""

    wallet: str
    country: int
    expiry: int | date | datetime | None = None
    accredited: bool = False
    professional: bool = False


@dataclass(frozen=True)
class InvestorRecord:
    """An investor as the identity registry holds it now."""

    chain: str
    registry: ChecksumAddress
    investor_id: int
    country: int
    accredited: bool
    professional: bool
    kyc_expiry: int
    revoked: bool
    wallets: tuple[ChecksumAddress, ...]
    verified: bool
    """Not revoked and not expired at the chain's latest block."""


@dataclass(frozen=True)
class Registration:
    """A registered investor: its id, its wallets, and the transactions (registration, then each wallet
    added)."""

    investor_id: int
    wallets: tuple[ChecksumAddress, ...]
    outcomes: tuple[TxOutcome, ...]


class InvestorService:
    """KYC onboarding on a chain's identity registry (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, registries: IdentityRegistries) -> None:
        self._ctx = ctx
        self.registries = registries
        """Which registry each chain uses."""

    # -- helpers ---------------------------------------------------------------------------------

    def _registry(self, chain: str, *, deploy: bool = False) -> tuple[ChainAccess, Contract]:
        access = self._ctx.chain(chain)
        address = self.registries.ensure(access.name) if deploy else self.registries.require(access.name)
        return access, access.contract("IdentityRegistry", address)

    def _sender(self, access: ChainAccess, registry: Contract, sender: str | None) -> ChecksumAddress:
        if sender is None:
            default = self.registries.provider(access.name)
            if default is None:
                raise InvalidInputError(
                    "sender",
                    f"the {access.name} chain ({access.handle.announcement}) has no KYC provider key in "
                    "custody: "
                    "give the address of a key holding the registry's kyc-provider role",
                )
            sender = default
        account = check_address(sender, "sender")
        require_role(registry, "kyc-provider", account, what=f"the {access.name} chain's identity registry")
        return account

    def _tx(
        self,
        access: ChainAccess,
        registry: Contract,
        sender: ChecksumAddress,
        call: tuple[str, list[Any]],
        what: str,
    ) -> PreparedTransaction:
        tx = PreparedTransaction(
            chain=access.name,
            sender=sender,
            to=registry.address,
            data=registry.encode_abi(call[0], call[1]),
            description=f"{what} (identity registry of the {access.name} chain)",
        )
        failure = dry_run(access.w3, tx)
        if failure is not None:
            raise KycRegistrationError(
                f"{tx.description}: {explain_registry_refusal(failure)}. Nothing was sent"
            )
        return tx

    def _expiry(
        self,
        access: ChainAccess,
        value: int | date | datetime | None,
        field_name: str,
        *,
        now: int | None = None,
    ) -> int:
        """``value`` as a KYC expiry after the chain's time ``now`` (read from the chain when None)."""
        current = access.now() if now is None else now
        if value is None:
            return current + DEFAULT_VALIDITY
        try:
            stamp = to_timestamp(value)
        except ValueError as exc:
            raise InvalidInputError(field_name, str(exc)) from None
        if not isinstance(stamp, int) or isinstance(stamp, bool):
            raise InvalidInputError(
                field_name, f"a KYC expiry is a Unix time, a date or a datetime; got {value!r}"
            )
        if stamp <= current:
            raise InvalidInputError(
                field_name, f"a KYC expiry must be after the chain's time ({current}); got {stamp}"
            )
        return min(stamp, MAX_EXPIRY)

    def _send(self, tx: PreparedTransaction) -> TxOutcome:
        return self._ctx.send(tx)

    # -- reads -----------------------------------------------------------------------------------

    def investor_of(self, chain: str, wallet: str) -> int:
        """The investor ``wallet`` belongs to on ``chain`` (0: none)."""
        _access, registry = self._registry(chain)
        return int(registry.functions.investorOf(check_address(wallet, "wallet")).call())

    def investor_count(self, chain: str) -> int:
        """How many investors ``chain``'s identity registry has registered (ids 1 to that number); 0 when
        the chain has no registry yet."""
        access = self._ctx.chain(chain)
        address = self.registries.address(access.name)
        if address is None:
            return 0
        return int(access.contract("IdentityRegistry", address).functions.investorCount().call())

    def investor(self, chain: str, investor_id: int) -> InvestorRecord:
        """Investor ``investor_id`` of ``chain``'s registry.

        Raises:
            UnknownInvestorError: no such investor (an `InvalidInputError` naming ``investor_id``).
            InvalidInputError: not an investor id.
        """
        access, registry = self._registry(chain)
        ident = _investor_id(investor_id)
        if ident > int(registry.functions.investorCount().call()):
            raise UnknownInvestorError(
                "investor_id", f"the {access.name} chain's registry has no investor {ident}"
            )
        country, attributes, expiry, revoked, wallets = registry.functions.investor(ident).call()
        return InvestorRecord(
            chain=access.name,
            registry=registry.address,
            investor_id=ident,
            country=int(country),
            accredited=bool(int(attributes) & ACCREDITED),
            professional=bool(int(attributes) & PROFESSIONAL),
            kyc_expiry=int(expiry),
            revoked=bool(revoked),
            wallets=tuple(check_address(w, "wallet") for w in wallets),
            verified=not revoked and access.now() < int(expiry),
        )

    # -- registration ----------------------------------------------------------------------------

    def prepare_register(
        self,
        chain: str,
        wallet: str,
        *,
        country: int,
        expiry: int | date | datetime | None = None,
        accredited: bool = False,
        professional: bool = False,
        sender: str | None = None,
    ) -> PreparedTransaction:
        """Register a new investor with its first wallet (which becomes its permanent key wallet)."""
        access, registry = self._registry(chain, deploy=True)
        account = self._sender(access, registry, sender)
        address = check_address(wallet, "wallet")
        args = [
            address,
            _country(country),
            _attributes(accredited, professional),
            self._expiry(access, expiry, "expiry"),
        ]
        return self._tx(access, registry, account, ("registerInvestor", args), f"register {address}")

    def register(
        self,
        chain: str,
        wallets: str | Sequence[str],
        *,
        country: int,
        expiry: int | date | datetime | None = None,
        accredited: bool = False,
        professional: bool = False,
        sender: str | None = None,
    ) -> Registration:
        """Register a new investor with ``wallets`` (the first is its key wallet; the others are added),
        custodially. Every wallet is checked before the first transaction is sent."""
        listed = [wallets] if isinstance(wallets, str) else list(wallets)
        if not listed:
            raise InvalidInputError("wallets", "an investor needs at least one wallet")
        addresses = [check_address(w, f"wallets[{i}]") for i, w in enumerate(listed)]
        if len(set(addresses)) != len(addresses):
            raise InvalidInputError("wallets", "a wallet is listed twice")
        access, registry = self._registry(chain, deploy=True)
        for index, address in enumerate(addresses[1:], start=1):
            owner = int(registry.functions.investorOf(address).call())
            if owner:
                raise KycRegistrationError(f"wallets[{index}]: {address} already belongs to investor {owner}")
        if len(addresses) > int(registry.functions.MAX_WALLETS().call()):
            raise InvalidInputError(
                "wallets", f"an investor has at most {registry.functions.MAX_WALLETS().call()} wallets"
            )
        tx = self.prepare_register(
            chain,
            addresses[0],
            country=country,
            expiry=expiry,
            accredited=accredited,
            professional=professional,
            sender=sender,
        )
        outcomes = [self._send(tx)]
        events = registry.events.InvestorRegistered().process_receipt(outcomes[0].receipt, errors=DISCARD)
        investor_id = int(events[0]["args"]["investorId"])
        for address in addresses[1:]:
            outcomes.append(self.add_wallet(access.name, investor_id, address, sender=tx.sender))
        return Registration(investor_id=investor_id, wallets=tuple(addresses), outcomes=tuple(outcomes))

    def batch_register(
        self,
        chain: str,
        investors: Sequence[InvestorSpec],
        *,
        sender: str | None = None,
        batch_id: str | None = None,
        progress: BulkProgress | None = None,
        max_items: int | None = None,
    ) -> BatchReport:
        """Register many investors (one wallet each) in as few transactions as fit the blocks
        (``batchRegisterInvestors``); each item's ``value`` in the report is its investor id. A wallet
        already registered is named before anything is sent; see `registry.bulk` for stops and resuming.

        Raises:
            InvalidInputError: a bad item (``field`` ``investors[i]...``), or a wallet twice.
            KycRegistrationError: the registry would refuse items (each named); nothing was sent.
            BatchStoppedError: stopped half way; its ``report`` says which items landed.
        """
        batch = self._batch(chain, investors, sender)
        return batch.access.bulk.run(
            "batch_register",
            batch.items,
            batch.build,
            fingerprint={"registry": batch.registry.address, "sender": batch.sender, "items": batch.items},
            diagnose=batch.diagnose,
            batch_id=batch_id,
            progress=progress,
            max_items=max_items,
            values=batch.investor_ids,
        )

    def prepare_batch_register(
        self,
        chain: str,
        investors: Sequence[InvestorSpec],
        *,
        sender: str | None = None,
        max_items: int | None = None,
    ) -> list[BatchEntry]:
        """The checked ``batchRegisterInvestors`` transactions of `batch_register`, for a client to sign."""
        batch = self._batch(chain, investors, sender)
        return batch.access.bulk.plan(batch.items, batch.build, diagnose=batch.diagnose, max_items=max_items)

    def _batch(self, chain: str, investors: Sequence[InvestorSpec], sender: str | None) -> _RegistrationBatch:
        access, registry = self._registry(chain, deploy=True)
        account = self._sender(access, registry, sender)
        items: list[tuple[ChecksumAddress, int, int, int]] = []
        seen: dict[ChecksumAddress, int] = {}
        now = access.now()
        for index, spec in enumerate(investors):
            if not isinstance(spec, InvestorSpec):
                raise InvalidInputError(f"investors[{index}]", f"expected an InvestorSpec; got {spec!r}")
            wallet = check_address(spec.wallet, f"investors[{index}].wallet")
            if wallet in seen:
                raise InvalidInputError(
                    f"investors[{index}].wallet", f"{wallet} is already investor item {seen[wallet]}"
                )
            seen[wallet] = index
            items.append(
                (
                    wallet,
                    _country(spec.country, f"investors[{index}].country"),
                    _attributes(spec.accredited, spec.professional),
                    self._expiry(access, spec.expiry, f"investors[{index}].expiry", now=now),
                )
            )
        if not items:
            raise InvalidInputError("investors", "a batch needs at least one investor")
        return _RegistrationBatch(access, registry, account, items)

    # -- changes ---------------------------------------------------------------------------------

    def prepare_update(
        self,
        chain: str,
        investor_id: int,
        *,
        country: int,
        expiry: int | date | datetime | None = None,
        accredited: bool = False,
        professional: bool = False,
        sender: str | None = None,
    ) -> PreparedTransaction:
        """Change an investor's country, attributes and KYC expiry (a renewal), on all its wallets."""
        access, registry = self._registry(chain)
        account = self._sender(access, registry, sender)
        ident = _investor_id(investor_id)
        args = [
            ident,
            _country(country),
            _attributes(accredited, professional),
            self._expiry(access, expiry, "expiry"),
        ]
        return self._tx(access, registry, account, ("updateInvestor", args), f"update investor {ident}")

    def update(
        self,
        chain: str,
        investor_id: int,
        *,
        country: int,
        expiry: int | date | datetime | None = None,
        accredited: bool = False,
        professional: bool = False,
        sender: str | None = None,
    ) -> TxOutcome:
        """`prepare_update`, sent."""
        return self._send(
            self.prepare_update(
                chain,
                investor_id,
                country=country,
                expiry=expiry,
                accredited=accredited,
                professional=professional,
                sender=sender,
            )
        )

    def prepare_revoke(
        self, chain: str, investor_id: int, *, sender: str | None = None
    ) -> PreparedTransaction:
        """Revoke an investor for good: none of its wallets is verified any more."""
        access, registry = self._registry(chain)
        account = self._sender(access, registry, sender)
        ident = _investor_id(investor_id)
        return self._tx(access, registry, account, ("revokeInvestor", [ident]), f"revoke investor {ident}")

    def revoke(self, chain: str, investor_id: int, *, sender: str | None = None) -> TxOutcome:
        """`prepare_revoke`, sent."""
        return self._send(self.prepare_revoke(chain, investor_id, sender=sender))

    def prepare_add_wallet(
        self, chain: str, investor_id: int, wallet: str, *, sender: str | None = None
    ) -> PreparedTransaction:
        """Link another wallet to an investor that is not revoked."""
        access, registry = self._registry(chain)
        account = self._sender(access, registry, sender)
        ident = _investor_id(investor_id)
        address = check_address(wallet, "wallet")
        return self._tx(
            access, registry, account, ("addWallet", [ident, address]), f"add {address} to investor {ident}"
        )

    def add_wallet(
        self, chain: str, investor_id: int, wallet: str, *, sender: str | None = None
    ) -> TxOutcome:
        """`prepare_add_wallet`, sent."""
        return self._send(self.prepare_add_wallet(chain, investor_id, wallet, sender=sender))

    def prepare_remove_wallet(
        self, chain: str, wallet: str, *, sender: str | None = None
    ) -> PreparedTransaction:
        """Unlink a wallet from its investor (the investor keeps its key wallet and the others). A wallet
        unlinked while it holds tokens keeps counting for its investor and is stuck until an enforcement
        agent empties it (the tokens' rule 13)."""
        access, registry = self._registry(chain)
        account = self._sender(access, registry, sender)
        address = check_address(wallet, "wallet")
        return self._tx(access, registry, account, ("removeWallet", [address]), f"remove {address}")

    def remove_wallet(self, chain: str, wallet: str, *, sender: str | None = None) -> TxOutcome:
        """`prepare_remove_wallet`, sent."""
        return self._send(self.prepare_remove_wallet(chain, wallet, sender=sender))

    # -- roles -----------------------------------------------------------------------------------

    def prepare_grant_kyc_provider(
        self, chain: str, account: str, *, sender: str | None = None
    ) -> PreparedTransaction:
        """Let ``account`` register investors on ``chain``'s registry (the sender must be its admin)."""
        return self._role_change(chain, "grantRole", account, sender, "grant kyc-provider to")

    def grant_kyc_provider(self, chain: str, account: str, *, sender: str | None = None) -> TxOutcome:
        """`prepare_grant_kyc_provider`, sent."""
        return self._send(self.prepare_grant_kyc_provider(chain, account, sender=sender))

    def prepare_revoke_kyc_provider(
        self, chain: str, account: str, *, sender: str | None = None
    ) -> PreparedTransaction:
        """Take the kyc-provider role from ``account`` (the sender must be the registry's admin)."""
        return self._role_change(chain, "revokeRole", account, sender, "revoke kyc-provider from")

    def revoke_kyc_provider(self, chain: str, account: str, *, sender: str | None = None) -> TxOutcome:
        """`prepare_revoke_kyc_provider`, sent."""
        return self._send(self.prepare_revoke_kyc_provider(chain, account, sender=sender))

    def _role_change(
        self, chain: str, call: str, account: str, sender: str | None, what: str
    ) -> PreparedTransaction:
        access, registry = self._registry(chain)
        admin = (
            check_address(sender, "sender") if sender is not None else self.registries.provider(access.name)
        )
        if admin is None:
            raise InvalidInputError("sender", f"give the address of the {access.name} registry's admin")
        require_role(registry, "admin", admin, what=f"the {access.name} chain's identity registry")
        target = check_address(account, "account")
        return self._tx(
            access, registry, admin, (call, [role_id("kyc-provider"), target]), f"{what} {target}"
        )


@dataclass
class _RegistrationBatch:
    access: ChainAccess
    registry: Contract
    sender: ChecksumAddress
    items: list[tuple[ChecksumAddress, int, int, int]]

    def build(self, chunk: Sequence[tuple[ChecksumAddress, int, int, int]]) -> PreparedTransaction:
        columns = [list(column) for column in zip(*chunk, strict=True)]
        return PreparedTransaction(
            chain=self.access.name,
            sender=self.sender,
            to=self.registry.address,
            data=encode_call(self.registry, "batchRegisterInvestors", columns),
            description=f"register {len(chunk)} investors (the {self.access.name} chain's identity registry)",
        )

    def diagnose(self, failed: Sequence[Failed]) -> Exception | None:
        refused = []
        for first, chunk, _failure in failed:
            for offset, item in enumerate(chunk):
                alone = dry_run(self.access.w3, self.build([item]))
                if alone is not None:
                    refused.append(
                        f"investors[{first + offset}] ({item[0]}): {explain_registry_refusal(alone)}"
                    )
        if not refused:
            return None
        return KycRegistrationError(
            f"the identity registry of the {self.access.name} chain would refuse {len(refused)} item"
            f"{'s' if len(refused) > 1 else ''} of the batch: {'; '.join(refused)}. Nothing was sent"
        )

    def investor_ids(self, outcome: TxOutcome, items: range) -> Mapping[int, int]:
        # Both arguments are indexed: read the topics straight (web3.py's event decoding costs about
        # a millisecond per log, seconds for a batch of thousands).
        by_wallet: dict[str, int] = {}
        address = self.registry.address.lower()
        for log in outcome.receipt["logs"]:
            topics = log["topics"]
            if (
                len(topics) == 3
                and bytes(topics[0]) == _INVESTOR_REGISTERED
                and str(log["address"]).lower() == address
            ):
                by_wallet[to_checksum_address(bytes(topics[2])[-20:])] = int.from_bytes(
                    bytes(topics[1]), "big"
                )
        return {
            index: by_wallet[self.items[index][0]] for index in items if self.items[index][0] in by_wallet
        }


def explain_registry_refusal(failure: CallFailure) -> str:
    """The identity registry's refusal in words (its custom error, decoded)."""
    error = failure.error
    if error is None:
        return str(failure)
    args = error.args
    texts = {
        "IdentityRegistryWalletAlreadyRegistered": lambda: (
            f"{args.get('wallet')} already belongs to investor {args.get('investorId')} (or is its key "
            "wallet, "
            "which stays its own): register another wallet"
        ),
        "IdentityRegistryInvestorRevoked": lambda: (
            f"investor {args.get('investorId')} was revoked, and a revocation is final: register a new "
            "investor"
        ),
        "IdentityRegistryUnknownInvestor": lambda: f"the registry has no investor {args.get('investorId')}",
        "IdentityRegistryUnknownWallet": lambda: f"{args.get('wallet')} belongs to no investor",
        "IdentityRegistryTooManyWallets": lambda: (
            f"investor {args.get('investorId')} already has the most wallets an investor may have "
            f"({args.get('maxWallets')}): remove one first"
        ),
    }
    text = texts.get(error.name)
    return text() if text is not None else str(error)


def _investor_id(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 2**32:
        raise InvalidInputError("investor_id", f"an investor id is a positive integer; got {value!r}")
    return value


def _country(value: object, field_name: str = "country") -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 999:
        raise InvalidInputError(
            field_name, f"a country is an ISO 3166 numeric code, 1 to 999 (756 is Switzerland); got {value!r}"
        )
    return value


def _attributes(accredited: object, professional: object) -> int:
    for name, value in (("accredited", accredited), ("professional", professional)):
        if not isinstance(value, bool):
            raise InvalidInputError(name, f"expected true or false; got {value!r}")
    return (ACCREDITED if accredited else 0) | (PROFESSIONAL if professional else 0)
