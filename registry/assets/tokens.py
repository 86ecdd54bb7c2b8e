"""Operations every regulated token (bond or stock) offers, one service call each.

Each operation has two forms:

- ``prepare_<op>(...) -> PreparedTransaction``: validates the arguments (`InvalidInputError` naming the
  field), checks the sender's role and the token's rules, and returns the transaction for a client to
  sign (the non-custodial flow: ``Registry.prepare_unsigned`` then ``Registry.submit_signed``);
- ``<op>(...) -> TxOutcome``: the same, sent with custody's key for ``sender`` and mined.

``sender`` is always explicit: it is the key acting (the issuer, an agent holding the role, a holder).
Before a mint or a transfer is sent its gas is estimated; when the estimate shows it would fail, the
token is asked which rules it would break (``transferViolations``, `precheck.gas_or_refuse`): a refusal
names every one (`ComplianceRefusedError`) and nothing is sent.
A sender without the role gets `RoleMissingError` before anything is sent.

Batch mints and batch transfers are chunked to fit the block gas limit, checked chunk by chunk before
anything is sent, journaled and reported item by item (`registry.bulk`); a batch that stops half way
raises `BatchStoppedError`, and calling it again with its ``batch_id`` sends only what did not land.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_typing import ChecksumAddress
from web3.contract import Contract

from registry.assets import precheck
from registry.bulk.report import BatchReport
from registry.bulk.runner import BulkProgress, Diagnose, Failed
from registry.calldata import encode_call
from registry.compliance import Violation, explain_one
from registry.context import ZERO_ADDRESS, ServiceContext, check_address, check_amount
from registry.custody.batches import BatchEntry
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import InvalidInputError, OperationRefusedError
from registry.index.catalogue import AssetRecord
from registry.roles import TOKEN_ROLES, require_role, role_id

REGULATED: Final = ("bond", "stock")
"""The asset kinds these operations apply to (cash tokens have only `registry.assets.cash`)."""

COUNTRY_RULES: Final[dict[str, int]] = {"none": 0, "allow": 1, "block": 2}
"""How a token reads its country list: no country rule, an allow list, a block list."""

MAX_UINT32: Final = 2**32 - 1
MAX_UINT40: Final = 2**40 - 1

Allocation = tuple[str, int]
"""An item of a batch mint or transfer: the wallet and the amount."""


@dataclass(frozen=True)
class Call:
    """A contract function, its arguments, and what it does in words (the transaction's description)."""

    function: str
    args: list[Any]
    what: str

    def prepared(self, asset: AssetRecord, contract: Contract, sender: str) -> PreparedTransaction:
        """The transaction calling it on ``contract`` (``asset``'s) from ``sender``."""
        return PreparedTransaction(
            chain=asset.chain,  # type: ignore[arg-type]
            sender=sender,  # type: ignore[arg-type]
            to=contract.address,
            data=encode_call(contract, self.function, self.args),
            description=f"{self.what} ({asset.symbol}, {asset.asset_id})",
        )


class TokenService:
    """The common operations of regulated tokens (see the module docstring)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    # -- helpers ---------------------------------------------------------------------------------

    def _token(self, asset_id: str) -> tuple[AssetRecord, Contract]:
        asset = self._ctx.asset(asset_id, kinds=REGULATED)
        return asset, self._ctx.token(asset)

    def _tx(self, asset: AssetRecord, token: Contract, sender: str, call: Call) -> PreparedTransaction:
        return call.prepared(asset, token, sender)

    def _prepare(self, asset_id: str, sender: str, role: str | None, call: Call) -> PreparedTransaction:
        asset, token = self._token(asset_id)
        return self._prepare_on(asset, token, sender, role, call)

    def _prepare_on(
        self, asset: AssetRecord, token: Contract, sender: str, role: str | None, call: Call
    ) -> PreparedTransaction:
        account = check_address(sender, "sender")
        if role is not None:
            require_role(token, role, account, what=f"{asset.asset_id} ({asset.symbol})")
        return call.prepared(asset, token, account)

    def _require_kyc(self, asset: AssetRecord, what: str) -> None:
        if asset.mode != "kyc":
            raise OperationRefusedError(
                f"{asset.asset_id} ({asset.symbol}) runs in open mode, where {what}; nothing was sent"
            )

    # -- reads -----------------------------------------------------------------------------------

    def violations(self, asset_id: str, sender: str, to: str, amount: int) -> tuple[Violation, ...]:
        """Every rule a transfer of ``amount`` from ``sender`` to ``to`` would break now (explained);
        ``sender`` the zero address asks about a mint."""
        _asset, token = self._token(asset_id)
        source = check_address(sender, "sender", allow_zero=True)
        rules = precheck.MINT_RULES if source == ZERO_ADDRESS else None
        return precheck.violations(
            token, source, check_address(to, "to"), check_amount(amount, "amount", allow_zero=True), rules
        )

    def balance_of(self, asset_id: str, wallet: str) -> int:
        """``balanceOf(wallet)`` now, in token units."""
        _asset, token = self._token(asset_id)
        return int(token.functions.balanceOf(check_address(wallet, "wallet")).call())

    def has_role(self, asset_id: str, role: str, account: str) -> bool:
        """Whether ``account`` holds ``role`` (admin, supply, enforcement, compliance) on the token."""
        _asset, token = self._token(asset_id)
        return bool(
            token.functions.hasRole(
                role_id(role, allowed=TOKEN_ROLES), check_address(account, "account")
            ).call()
        )

    # -- supply ----------------------------------------------------------------------------------

    def prepare_mint(self, asset_id: str, to: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Mint ``amount`` to ``to`` (supply role); refused, naming every rule, if it would break one."""
        receiver = check_address(to, "to")
        value = check_amount(amount, "amount")
        asset, token = self._token(asset_id)
        tx = self._prepare_on(
            asset, token, sender, "supply", Call("mint", [receiver, value], f"mint {value} to {receiver}")
        )
        return precheck.gas_or_refuse(
            self._ctx.chain(asset.chain).sender,
            token,
            asset,
            tx,
            source=ZERO_ADDRESS,
            to=receiver,
            amount=value,
            rules=precheck.MINT_RULES,
        )

    def mint(self, asset_id: str, to: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_mint`, sent."""
        return self._ctx.send(self.prepare_mint(asset_id, to, amount, sender=sender), asset_id=asset_id)

    def prepare_burn(self, asset_id: str, account: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Burn ``amount`` of ``account``'s tokens, frozen ones included (supply role)."""
        holder = check_address(account, "account")
        value = check_amount(amount, "amount")
        asset, token = self._token(asset_id)
        held = int(token.functions.balanceOf(holder).call())
        if value > held:
            raise OperationRefusedError(
                f"{holder} holds {held} {asset.symbol}, fewer than the {value} to burn; nothing was sent"
            )
        return self._prepare_on(
            asset, token, sender, "supply", Call("burn", [holder, value], f"burn {value} of {holder}")
        )

    def burn(self, asset_id: str, account: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_burn`, sent."""
        return self._ctx.send(self.prepare_burn(asset_id, account, amount, sender=sender), asset_id=asset_id)

    def prepare_transfer(self, asset_id: str, to: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Transfer ``amount`` from ``sender`` (a holder) to ``to``; refused, naming every rule, if it
        would break one."""
        receiver = check_address(to, "to")
        value = check_amount(amount, "amount")
        asset, token = self._token(asset_id)
        tx = self._prepare_on(
            asset,
            token,
            sender,
            None,
            Call("transfer(address,uint256)", [receiver, value], f"transfer {value} to {receiver}"),
        )
        return precheck.gas_or_refuse(
            self._ctx.chain(asset.chain).sender,
            token,
            asset,
            tx,
            source=tx.sender,
            to=receiver,
            amount=value,
            rules=None,
        )

    def transfer(self, asset_id: str, to: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_transfer`, sent."""
        return self._ctx.send(self.prepare_transfer(asset_id, to, amount, sender=sender), asset_id=asset_id)

    # -- batches ---------------------------------------------------------------------------------

    def batch_mint(
        self,
        asset_id: str,
        allocations: Sequence[Allocation],
        *,
        sender: str,
        batch_id: str | None = None,
        progress: BulkProgress | None = None,
        max_items: int | None = None,
    ) -> BatchReport:
        """Mint to many wallets in as few transactions as fit the blocks (``batchMint``), each checked
        before anything is sent; see the module docstring for stops and resuming.

        Raises:
            InvalidInputError: a bad wallet or amount, or a wallet twice (``field`` ``items[i]``).
            RoleMissingError, ComplianceRefusedError (every refused item named): nothing was sent.
            BatchStoppedError: stopped half way; ``report`` says which items landed.
        """
        return self._batch_mint(asset_id, allocations, sender).run(batch_id, progress, max_items)

    def prepare_batch_mint(
        self, asset_id: str, allocations: Sequence[Allocation], *, sender: str, max_items: int | None = None
    ) -> list[BatchEntry]:
        """The checked ``batchMint`` transactions of `batch_mint`, with the items each carries and its gas,
        for a client to sign (not journaled: the client keeps its own record)."""
        return self._batch_mint(asset_id, allocations, sender).plan(max_items)

    def _batch_mint(self, asset_id: str, allocations: Sequence[Allocation], sender: str) -> _Batch:
        asset, token = self._token(asset_id)
        account = check_address(sender, "sender")
        require_role(token, "supply", account, what=f"{asset.asset_id} ({asset.symbol})")
        items = _allocations(allocations)

        def build(chunk: Sequence[Allocation]) -> PreparedTransaction:
            wallets, amounts = [w for w, _ in chunk], [a for _, a in chunk]
            return self._tx(
                asset, token, account, Call("batchMint", [wallets, amounts], f"mint to {len(chunk)} wallets")
            )

        def diagnose(failed: Sequence[Failed]) -> Exception | None:
            return precheck.refuse_items(
                asset, token, ZERO_ADDRESS, failed, rules=precheck.MINT_RULES, what="batch mint"
            )

        return _Batch(self._ctx, asset, "batch_mint", account, items, build, diagnose)

    def batch_transfer(
        self,
        asset_id: str,
        allocations: Sequence[Allocation],
        *,
        sender: str,
        batch_id: str | None = None,
        progress: BulkProgress | None = None,
        max_items: int | None = None,
    ) -> BatchReport:
        """Transfer from ``sender`` to many wallets (``batchTransfer``), chunked, checked and journaled
        like `batch_mint`; the items together must fit the sender's unfrozen balance."""
        return self._batch_transfer(asset_id, allocations, sender).run(batch_id, progress, max_items)

    def prepare_batch_transfer(
        self, asset_id: str, allocations: Sequence[Allocation], *, sender: str, max_items: int | None = None
    ) -> list[BatchEntry]:
        """The checked ``batchTransfer`` transactions of `batch_transfer` for ``sender`` to sign."""
        return self._batch_transfer(asset_id, allocations, sender).plan(max_items)

    def _batch_transfer(self, asset_id: str, allocations: Sequence[Allocation], sender: str) -> _Batch:
        asset, token = self._token(asset_id)
        account = check_address(sender, "sender")
        items = _allocations(allocations)
        total = sum(amount for _, amount in items)
        frozen = int(token.functions.getFrozenTokens(account).call())
        available = int(token.functions.balanceOf(account).call()) - frozen
        if total > available:
            precheck.refuse(
                asset,
                f"batch transfer of {total} in {len(items)} items from {account} (it can send "
                f"{max(available, 0)})",
                (explain_one(6 if frozen else 12),),
            )

        def build(chunk: Sequence[Allocation]) -> PreparedTransaction:
            wallets, amounts = [w for w, _ in chunk], [a for _, a in chunk]
            return self._tx(
                asset,
                token,
                account,
                Call(
                    "batchTransfer(address[],uint256[])",
                    [wallets, amounts],
                    f"transfer to {len(chunk)} wallets",
                ),
            )

        def diagnose(failed: Sequence[Failed]) -> Exception | None:
            return precheck.refuse_items(asset, token, account, failed, rules=None, what="batch transfer")

        return _Batch(self._ctx, asset, "batch_transfer", account, items, build, diagnose)

    # -- enforcement -----------------------------------------------------------------------------

    def prepare_pause(self, asset_id: str, *, sender: str) -> PreparedTransaction:
        """Pause the token: no transfer, mint, holder burn or payment (enforcement role)."""
        asset, token = self._token(asset_id)
        if bool(token.functions.paused().call()):
            raise OperationRefusedError(
                f"{asset.asset_id} ({asset.symbol}) is already paused; nothing was sent"
            )
        return self._prepare_on(asset, token, sender, "enforcement", Call("pause", [], "pause"))

    def pause(self, asset_id: str, *, sender: str) -> TxOutcome:
        """`prepare_pause`, sent."""
        return self._ctx.send(self.prepare_pause(asset_id, sender=sender), asset_id=asset_id)

    def prepare_unpause(self, asset_id: str, *, sender: str) -> PreparedTransaction:
        """Lift the pause (enforcement role)."""
        asset, token = self._token(asset_id)
        if not bool(token.functions.paused().call()):
            raise OperationRefusedError(f"{asset.asset_id} ({asset.symbol}) is not paused; nothing was sent")
        return self._prepare_on(asset, token, sender, "enforcement", Call("unpause", [], "unpause"))

    def unpause(self, asset_id: str, *, sender: str) -> TxOutcome:
        """`prepare_unpause`, sent."""
        return self._ctx.send(self.prepare_unpause(asset_id, sender=sender), asset_id=asset_id)

    def prepare_freeze_account(self, asset_id: str, account: str, *, sender: str) -> PreparedTransaction:
        """Freeze ``account`` whole: it can neither send nor receive, payments to it are withheld
        (enforcement role)."""
        target = check_address(account, "account")
        return self._prepare(
            asset_id, sender, "enforcement", Call("freezeAccount", [target], f"freeze {target}")
        )

    def freeze_account(self, asset_id: str, account: str, *, sender: str) -> TxOutcome:
        """`prepare_freeze_account`, sent."""
        return self._ctx.send(
            self.prepare_freeze_account(asset_id, account, sender=sender), asset_id=asset_id
        )

    def prepare_unfreeze_account(self, asset_id: str, account: str, *, sender: str) -> PreparedTransaction:
        """Lift ``account``'s whole-account freeze (enforcement role)."""
        target = check_address(account, "account")
        return self._prepare(
            asset_id, sender, "enforcement", Call("unfreezeAccount", [target], f"unfreeze {target}")
        )

    def unfreeze_account(self, asset_id: str, account: str, *, sender: str) -> TxOutcome:
        """`prepare_unfreeze_account`, sent."""
        return self._ctx.send(
            self.prepare_unfreeze_account(asset_id, account, sender=sender), asset_id=asset_id
        )

    def prepare_set_frozen_tokens(
        self, asset_id: str, account: str, amount: int, *, sender: str
    ) -> PreparedTransaction:
        """Freeze exactly ``amount`` of ``account``'s tokens (a partial freeze; 0 lifts it) (enforcement)."""
        target = check_address(account, "account")
        value = check_amount(amount, "amount", allow_zero=True)
        return self._prepare(
            asset_id,
            sender,
            "enforcement",
            Call("setFrozenTokens", [target, value], f"freeze {value} tokens of {target}"),
        )

    def set_frozen_tokens(self, asset_id: str, account: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_set_frozen_tokens`, sent."""
        return self._ctx.send(
            self.prepare_set_frozen_tokens(asset_id, account, amount, sender=sender), asset_id=asset_id
        )

    def prepare_forced_transfer(
        self, asset_id: str, source: str, to: str, amount: int, *, sender: str
    ) -> PreparedTransaction:
        """Move ``amount`` from ``source`` to ``to`` by force (enforcement role): pause, the source's
        freezes and the rules do not apply, the receiver's eligibility and the balance do."""
        origin = check_address(source, "source")
        receiver = check_address(to, "to")
        value = check_amount(amount, "amount")
        if origin == receiver:
            raise InvalidInputError("to", "a forced transfer moves tokens to another wallet")
        asset, token = self._token(asset_id)
        tx = self._prepare_on(
            asset,
            token,
            sender,
            "enforcement",
            Call("forcedTransfer", [origin, receiver, value], f"force {value} from {origin} to {receiver}"),
        )
        precheck.refuse(
            asset, tx.description, precheck.violations(token, origin, receiver, value, precheck.FORCED_RULES)
        )
        return tx

    def forced_transfer(self, asset_id: str, source: str, to: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_forced_transfer`, sent."""
        return self._ctx.send(
            self.prepare_forced_transfer(asset_id, source, to, amount, sender=sender), asset_id=asset_id
        )

    def prepare_recover_wallet(
        self, asset_id: str, lost: str, replacement: str, *, sender: str
    ) -> PreparedTransaction:
        """Recover a lost wallet to a verified wallet of the same investor (enforcement role, kyc mode
        only): its balance, freezes and the entitlements it earned move; the lost wallet is frozen."""
        old = check_address(lost, "lost")
        new = check_address(replacement, "replacement")
        if old == new:
            raise InvalidInputError("replacement", "the replacement must be another wallet than the lost one")
        asset, token = self._token(asset_id)
        self._require_kyc(
            asset,
            "nothing proves that two wallets have one owner, so there is no wallet recovery: use a forced "
            "transfer (it moves no past entitlement)",
        )
        assert asset.identity_registry is not None  # kyc mode
        registry = self._ctx.chain(asset.chain).contract("IdentityRegistry", asset.identity_registry)
        owner = int(token.functions.holdingInvestorOf(old).call()) or int(
            registry.functions.investorOf(old).call()
        )
        if owner == 0:
            raise OperationRefusedError(
                f"{old} holds no {asset.symbol} and belongs to no investor: there is nothing to recover"
            )
        if int(registry.functions.investorOf(new).call()) != owner:
            raise OperationRefusedError(
                f"{new} is not a wallet of investor {owner}, whose tokens {old} holds: have the KYC "
                "provider add "
                "it to that investor first (InvestorService.add_wallet); nothing was sent"
            )
        if not bool(registry.functions.isVerified(new).call()):
            raise OperationRefusedError(
                f"{new} is not verified (KYC expired or revoked): a recovery never moves tokens to a "
                "wallet that "
                "may not hold them; nothing was sent"
            )
        return self._prepare_on(
            asset, token, sender, "enforcement", Call("recoverWallet", [old, new], f"recover {old} to {new}")
        )

    def recover_wallet(self, asset_id: str, lost: str, replacement: str, *, sender: str) -> TxOutcome:
        """`prepare_recover_wallet`, sent."""
        return self._ctx.send(
            self.prepare_recover_wallet(asset_id, lost, replacement, sender=sender), asset_id=asset_id
        )

    # -- compliance rules ------------------------------------------------------------------------

    def _prepare_rule(self, asset_id: str, sender: str, call: Call) -> PreparedTransaction:
        asset, token = self._token(asset_id)
        self._require_kyc(asset, "the compliance rules are not checked")
        return self._prepare_on(asset, token, sender, "compliance", call)

    def prepare_set_country_rule(self, asset_id: str, rule: str, *, sender: str) -> PreparedTransaction:
        """How the country list is read: ``none``, ``allow`` (only listed countries) or ``block``."""
        if rule not in COUNTRY_RULES:
            raise InvalidInputError(
                "rule", f"the country rule is one of {', '.join(COUNTRY_RULES)}; got {rule!r}"
            )
        return self._prepare_rule(
            asset_id, sender, Call("setCountryRule", [COUNTRY_RULES[rule]], f"country rule: {rule}")
        )

    def set_country_rule(self, asset_id: str, rule: str, *, sender: str) -> TxOutcome:
        """`prepare_set_country_rule`, sent."""
        return self._ctx.send(self.prepare_set_country_rule(asset_id, rule, sender=sender), asset_id=asset_id)

    def prepare_set_countries(
        self, asset_id: str, countries: Iterable[int], *, listed: bool, sender: str
    ) -> PreparedTransaction:
        """Put ``countries`` (ISO 3166 numeric codes) on the country list, or take them off."""
        codes = sorted(set(countries))
        if not codes:
            raise InvalidInputError("countries", "give at least one country")
        for code in codes:
            if not isinstance(code, int) or isinstance(code, bool) or not 1 <= code <= 999:
                raise InvalidInputError(
                    "countries", f"a country is an ISO 3166 numeric code, 1 to 999; got {code!r}"
                )
        what = f"{'list' if listed else 'unlist'} countries {', '.join(map(str, codes))}"
        return self._prepare_rule(asset_id, sender, Call("setCountries", [codes, bool(listed)], what))

    def set_countries(
        self, asset_id: str, countries: Iterable[int], *, listed: bool, sender: str
    ) -> TxOutcome:
        """`prepare_set_countries`, sent."""
        return self._ctx.send(
            self.prepare_set_countries(asset_id, countries, listed=listed, sender=sender), asset_id=asset_id
        )

    def prepare_set_max_investors(self, asset_id: str, maximum: int, *, sender: str) -> PreparedTransaction:
        """At most ``maximum`` investors may hold the token (0: no limit)."""
        value = check_amount(maximum, "maximum", allow_zero=True, limit=MAX_UINT32)
        return self._prepare_rule(
            asset_id, sender, Call("setMaxInvestors", [value], f"at most {value} investors")
        )

    def set_max_investors(self, asset_id: str, maximum: int, *, sender: str) -> TxOutcome:
        """`prepare_set_max_investors`, sent."""
        return self._ctx.send(
            self.prepare_set_max_investors(asset_id, maximum, sender=sender), asset_id=asset_id
        )

    def prepare_set_max_balance(self, asset_id: str, maximum: int, *, sender: str) -> PreparedTransaction:
        """Each investor may hold at most ``maximum`` tokens over all its wallets (0: no limit)."""
        value = check_amount(maximum, "maximum", allow_zero=True)
        return self._prepare_rule(
            asset_id, sender, Call("setMaxBalancePerInvestor", [value], f"at most {value} per investor")
        )

    def set_max_balance(self, asset_id: str, maximum: int, *, sender: str) -> TxOutcome:
        """`prepare_set_max_balance`, sent."""
        return self._ctx.send(
            self.prepare_set_max_balance(asset_id, maximum, sender=sender), asset_id=asset_id
        )

    def prepare_set_lockup(self, asset_id: str, until: int, *, sender: str) -> PreparedTransaction:
        """Forbid holders' transfers until ``until`` (Unix time; 0 lifts the lock-up)."""
        value = check_amount(until, "until", allow_zero=True, limit=MAX_UINT40)
        return self._prepare_rule(asset_id, sender, Call("setLockup", [value], f"lock-up until {value}"))

    def set_lockup(self, asset_id: str, until: int, *, sender: str) -> TxOutcome:
        """`prepare_set_lockup`, sent."""
        return self._ctx.send(self.prepare_set_lockup(asset_id, until, sender=sender), asset_id=asset_id)

    def prepare_set_accredited_only(
        self, asset_id: str, accredited_only: bool, *, sender: str
    ) -> PreparedTransaction:
        """Only accredited investors may receive the token (or anyone verified)."""
        if not isinstance(accredited_only, bool):
            raise InvalidInputError("accredited_only", f"expected true or false; got {accredited_only!r}")
        what = "accredited investors only" if accredited_only else "any verified investor"
        return self._prepare_rule(asset_id, sender, Call("setAccreditedOnly", [accredited_only], what))

    def set_accredited_only(self, asset_id: str, accredited_only: bool, *, sender: str) -> TxOutcome:
        """`prepare_set_accredited_only`, sent."""
        return self._ctx.send(
            self.prepare_set_accredited_only(asset_id, accredited_only, sender=sender), asset_id=asset_id
        )

    # -- roles -----------------------------------------------------------------------------------

    def prepare_grant_role(
        self, asset_id: str, role: str, account: str, *, sender: str
    ) -> PreparedTransaction:
        """Give ``account`` ``role`` (admin, supply, enforcement, compliance) on the token (admin role)."""
        ident = role_id(role, allowed=TOKEN_ROLES)
        target = check_address(account, "account")
        return self._prepare(
            asset_id, sender, "admin", Call("grantRole", [ident, target], f"grant {role} to {target}")
        )

    def grant_role(self, asset_id: str, role: str, account: str, *, sender: str) -> TxOutcome:
        """`prepare_grant_role`, sent."""
        return self._ctx.send(
            self.prepare_grant_role(asset_id, role, account, sender=sender), asset_id=asset_id
        )

    def prepare_revoke_role(
        self, asset_id: str, role: str, account: str, *, sender: str
    ) -> PreparedTransaction:
        """Take ``role`` from ``account`` (admin role). An admin cannot revoke its own admin role here:
        it could leave the token without any administrator."""
        ident = role_id(role, allowed=TOKEN_ROLES)
        target = check_address(account, "account")
        if role == "admin" and target == check_address(sender, "sender"):
            raise InvalidInputError(
                "account",
                "revoking your own admin role could leave the token without an administrator: grant admin to "
                "another key first and let that key revoke yours",
            )
        return self._prepare(
            asset_id, sender, "admin", Call("revokeRole", [ident, target], f"revoke {role} from {target}")
        )

    def revoke_role(self, asset_id: str, role: str, account: str, *, sender: str) -> TxOutcome:
        """`prepare_revoke_role`, sent."""
        return self._ctx.send(
            self.prepare_revoke_role(asset_id, role, account, sender=sender), asset_id=asset_id
        )


@dataclass(frozen=True)
class _Batch:
    """A batch operation on one asset, ready to be planned (non-custodial) or run (custodial)."""

    ctx: ServiceContext
    asset: AssetRecord
    operation: str
    sender: ChecksumAddress
    items: list[Allocation]
    build: Callable[[Sequence[Allocation]], PreparedTransaction]
    diagnose: Diagnose

    def plan(self, max_items: int | None) -> list[BatchEntry]:
        bulk = self.ctx.chain(self.asset.chain).bulk
        return bulk.plan(self.items, self.build, diagnose=self.diagnose, max_items=max_items)

    def run(self, batch_id: str | None, progress: BulkProgress | None, max_items: int | None) -> BatchReport:
        return self.ctx.chain(self.asset.chain).bulk.run(
            self.operation,
            self.items,
            self.build,
            fingerprint={"asset": self.asset.asset_id, "sender": self.sender, "items": self.items},
            diagnose=self.diagnose,
            batch_id=batch_id,
            progress=progress,
            max_items=max_items,
        )


def _allocations(allocations: Sequence[Allocation]) -> list[Allocation]:
    """Checked ``(wallet, amount)`` items; a wallet twice is refused (most likely a mistake)."""
    items: list[Allocation] = []
    seen: dict[ChecksumAddress, int] = {}
    for index, item in enumerate(allocations):
        try:
            wallet, amount = item
        except (TypeError, ValueError):
            raise InvalidInputError(f"items[{index}]", f"an item is (wallet, amount); got {item!r}") from None
        address = check_address(wallet, f"items[{index}].wallet")
        value = check_amount(amount, f"items[{index}].amount")
        if address in seen:
            raise InvalidInputError(
                f"items[{index}].wallet", f"{address} is already item {seen[address]}: merge the two amounts"
            )
        seen[address] = index
        items.append((address, value))
    if not items:
        raise InvalidInputError("items", "a batch needs at least one item")
    return items
