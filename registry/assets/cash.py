"""Cash tokens: the test stablecoin that settles coupons, dividends and redemptions.

A plain ERC-20 with 6 decimals: its issuer holds the minter role and creates cash for whoever needs it
(an issuer funding a coupon, a workshop participant). No kyc mode, no freezes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eth_typing import ChecksumAddress
from web3.contract import Contract

from registry.assets.issuance import Issuance, Issuer, PreparedIssue
from registry.assets.terms import CashTerms, parse_terms
from registry.assets.tokens import Call
from registry.context import ServiceContext, check_address, check_amount
from registry.custody.transactions import PreparedTransaction, TxOutcome
from registry.errors import OperationRefusedError
from registry.index.catalogue import AssetRecord
from registry.roles import require_role


class CashService:
    """Cash tokens (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, issuer: Issuer) -> None:
        self._ctx = ctx
        self._issuer = issuer

    def prepare_issue(
        self, chain: str, terms: CashTerms | Mapping[str, Any], *, issuer: str
    ) -> PreparedIssue:
        """Validate ``terms`` and build the cash token's creation; ``issuer`` becomes its admin and minter."""
        checked = parse_terms(CashTerms, terms)

        def args(admin: ChecksumAddress, _registry: ChecksumAddress | None) -> list[Any]:
            return [checked.name, checked.symbol, admin]

        return self._issuer.prepare(
            "cash", chain, "open", checked.model_dump(mode="json"), issuer=issuer, args=args
        )

    def issue(self, chain: str, terms: CashTerms | Mapping[str, Any], *, issuer: str) -> Issuance:
        """Issue a cash token on ``chain``, custodially, and catalogue it."""
        return self._issuer.issue(self.prepare_issue(chain, terms, issuer=issuer))

    def _cash(self, asset_id: str) -> tuple[AssetRecord, Contract]:
        asset = self._ctx.asset(asset_id, kinds=("cash",))
        return asset, self._ctx.token(asset)

    def prepare_mint(self, asset_id: str, to: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Create ``amount`` units (6 decimals) for ``to`` (minter role)."""
        asset, token = self._cash(asset_id)
        receiver = check_address(to, "to")
        value = check_amount(amount, "amount")
        account = check_address(sender, "sender")
        require_role(token, "minter", account, what=f"{asset.asset_id} ({asset.symbol})")
        return Call("mint", [receiver, value], f"mint {value} to {receiver}").prepared(asset, token, account)

    def mint(self, asset_id: str, to: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_mint`, sent."""
        return self._ctx.send(self.prepare_mint(asset_id, to, amount, sender=sender), asset_id=asset_id)

    def prepare_transfer(self, asset_id: str, to: str, amount: int, *, sender: str) -> PreparedTransaction:
        """Transfer ``amount`` units from ``sender`` to ``to``."""
        asset, token = self._cash(asset_id)
        receiver = check_address(to, "to")
        value = check_amount(amount, "amount")
        account = check_address(sender, "sender")
        held = int(token.functions.balanceOf(account).call())
        if value > held:
            raise OperationRefusedError(
                f"{account} holds {held} units of {asset.asset_id} ({asset.symbol}), fewer than "
                f"{value}; nothing "
                "was sent"
            )
        return Call("transfer", [receiver, value], f"transfer {value} to {receiver}").prepared(
            asset, token, account
        )

    def transfer(self, asset_id: str, to: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_transfer`, sent."""
        return self._ctx.send(self.prepare_transfer(asset_id, to, amount, sender=sender), asset_id=asset_id)

    def prepare_approve(
        self, asset_id: str, spender: str, amount: int, *, sender: str
    ) -> PreparedTransaction:
        """Let ``spender`` (a bond or stock paying itself in) take up to ``amount`` of ``sender``'s units."""
        asset, token = self._cash(asset_id)
        allowed = check_address(spender, "spender")
        value = check_amount(amount, "amount", allow_zero=True)
        account = check_address(sender, "sender")
        return Call("approve", [allowed, value], f"approve {allowed} for {value}").prepared(
            asset, token, account
        )

    def approve(self, asset_id: str, spender: str, amount: int, *, sender: str) -> TxOutcome:
        """`prepare_approve`, sent."""
        return self._ctx.send(
            self.prepare_approve(asset_id, spender, amount, sender=sender), asset_id=asset_id
        )

    def balance_of(self, asset_id: str, wallet: str) -> int:
        """``balanceOf(wallet)`` now, in units (6 decimals)."""
        _asset, token = self._cash(asset_id)
        return int(token.functions.balanceOf(check_address(wallet, "wallet")).call())
