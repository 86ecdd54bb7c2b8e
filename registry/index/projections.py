"""Typed projections: what the decoded events of a token or an identity registry mean for the tables.

Every event is stored as it came (`registry.index.models.Event`, decoded by ABI); this module keeps
the tables that answer questions: holdings (the cap table), each asset's supply, scale and pause
flag, investors and wallets with their KYC state, coupon periods, dividends (funded, claimed, swept),
each bond's call and redemption, and splits. To follow a
new event, add a handler to `TOKEN_HANDLERS` or `REGISTRY_HANDLERS` (its name is the event's name).

**Raw units.** Balances and frozen amounts are kept in the token's raw storage units, as the
contracts keep them: a token unit is `AssetState.scale` raw units (1, except for `StockToken`, whose
scale starts at ``INITIAL_RAW_UNITS_PER_SHARE`` and is divided by ``numerator / denominator`` at
each split). A split therefore changes the scale, not a single holding, and ``balanceOf`` is
``balance_raw // scale`` at every block, as the contract computes it. Amounts in events are token
units; the raw amount of a transfer, mint, burn or freeze is ``amount * scale`` (the contract's own
conversion, exact).

Three patterns of the contracts need more than one event at a time, and are read from the order of
a transaction's logs (consecutive logs of one contract in one transaction):

- A forced transfer or burn that takes frozen tokens lowers the frozen amount first and says so with
  ``Frozen(from, rest)`` just before its ``Transfer``. The index applies the contract's rule instead
  (``frozen -= amount - unfrozen``), which is exact in raw units where the event, in token units,
  rounds down after a reverse split; that ``Frozen`` is not applied on its own.
- A wallet recovery moves the whole raw balance of the lost wallet (fractions of a share included,
  which its ``Transfer`` in token units rounds away) and its frozen amount. ``WalletRecovered`` does
  that move exactly; the ``Transfer`` and ``Frozen`` logs of the recovery before it are not applied
  on their own. The freeze flags move by their own ``AccountFrozen``/``AccountUnfrozen`` logs.
- Everything else is one event, one change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from registry.errors import ProjectionError
from registry.index.decoding import DecodedLog
from registry.index.models import (
    AssetState,
    CouponPeriod,
    Dividend,
    Holding,
    Investor,
    Redemption,
    Split,
    Wallet,
)
from registry.index.versioned import VersionedRows

ZERO_ADDRESS = "0x" + "00" * 20

RAW_AMOUNT_CAP = 2**80 - 1
"""The largest raw amount a regulated token stores (``TokenAccount.MAX_AMOUNT``): a recovery caps the
replacement's frozen amount there, as the contract does."""

_HOLDING_FLAGS = ("Frozen", "AccountFrozen", "AccountUnfrozen")


@dataclass(frozen=True)
class AssetInfo:
    """What the projections need to know about a catalogued asset."""

    asset_id: str
    initial_scale: int


@dataclass
class TokenContext:
    """The working state while one asset's logs are applied."""

    rows: VersionedRows
    session: Session
    asset: AssetInfo
    logs: Sequence[DecodedLog]
    position: int = 0

    @property
    def log(self) -> DecodedLog:
        """The log being applied."""
        return self.logs[self.position]

    @property
    def block(self) -> int:
        """Its block number."""
        return self.log.block_number

    # -- asset state ---------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The asset's scale, raw supply and pause flag now (its starting values before any event)."""
        current = self.rows.get(AssetState, (self.asset.asset_id,))
        if current is None:
            return {"scale": self.asset.initial_scale, "supply_raw": 0, "paused": False}
        return {"scale": current["scale"], "supply_raw": current["supply_raw"], "paused": current["paused"]}

    def set_state(self, **changes: Any) -> None:
        """Change some of the asset's scale, raw supply and pause flag from this block on."""
        values = self.state()
        values.update(changes)
        self.rows.put(AssetState, (self.asset.asset_id,), self.block, values)

    def raw(self, amount: int) -> int:
        """Token units -> raw units, at the current scale."""
        return int(amount) * int(self.state()["scale"])

    # -- holdings -------------------------------------------------------------------------------

    def holding(self, wallet: str) -> dict[str, Any]:
        """A wallet's raw balance, raw frozen amount and account freeze flag now."""
        current = self.rows.get(Holding, (self.asset.asset_id, wallet))
        if current is None:
            return {"balance_raw": 0, "frozen_raw": 0, "account_frozen": False}
        return {
            "balance_raw": current["balance_raw"],
            "frozen_raw": current["frozen_raw"],
            "account_frozen": current["account_frozen"],
        }

    def set_holding(self, wallet: str, **changes: Any) -> None:
        """Change a wallet's holding from this block on."""
        values = self.holding(wallet)
        values.update(changes)
        if values["balance_raw"] < 0:
            raise ProjectionError(
                f"{self.log.name} in block {self.block} (tx {self.log.tx_hash}) takes more of asset "
                f"{self.asset.asset_id} from {wallet} than the index knows it held: the index is missing "
                "earlier events. Was the asset catalogued with a deployed_block after its real "
                "deployment? Fix the catalogue and re-index"
            )
        self.rows.put(Holding, (self.asset.asset_id, wallet), self.block, values)

    def debit(self, wallet: str, raw: int) -> None:
        """Take ``raw`` units from ``wallet``; frozen units it takes are unfrozen first, as the contract
        does for forced transfers and burns."""
        current = self.holding(wallet)
        balance, frozen = int(current["balance_raw"]), int(current["frozen_raw"])
        unfrozen = balance - frozen if balance > frozen else 0
        if frozen and raw > unfrozen:
            frozen -= raw - unfrozen
        self.set_holding(wallet, balance_raw=balance - raw, frozen_raw=max(frozen, 0))

    def credit(self, wallet: str, raw: int) -> None:
        """Give ``raw`` units to ``wallet``."""
        self.set_holding(wallet, balance_raw=int(self.holding(wallet)["balance_raw"]) + raw)

    # -- what a log means in its transaction ------------------------------------------------------

    def next_in_transaction(self, offset: int = 1) -> DecodedLog | None:
        """The log ``offset`` places after this one, if it is of the same transaction."""
        index = self.position + offset
        if index < len(self.logs) and self.logs[index].tx_hash == self.log.tx_hash:
            return self.logs[index]
        return None

    def recovery_ahead(self, lost: str, replacement: str) -> bool:
        """Whether this log belongs to the recovery of ``lost`` to ``replacement`` that follows it."""
        offset = 1
        while (following := self.next_in_transaction(offset)) is not None:
            if following.name == "WalletRecovered":
                return bool(following.args["lost"] == lost and following.args["replacement"] == replacement)
            if following.name not in _HOLDING_FLAGS:
                return False
            offset += 1
        return False


# ---------------------------------------------------------------------------------------------- tokens


def _transfer(ctx: TokenContext) -> None:
    source, target = ctx.log.args["from"], ctx.log.args["to"]
    if ctx.recovery_ahead(source, target):
        return  # WalletRecovered moves the exact raw balance
    raw = ctx.raw(ctx.log.args["value"])
    if source == ZERO_ADDRESS:
        ctx.set_state(supply_raw=int(ctx.state()["supply_raw"]) + raw)
    else:
        ctx.debit(source, raw)
    if target == ZERO_ADDRESS:
        ctx.set_state(supply_raw=int(ctx.state()["supply_raw"]) - raw)
    else:
        ctx.credit(target, raw)


def _frozen(ctx: TokenContext) -> None:
    account = ctx.log.args["account"]
    following = ctx.next_in_transaction()
    if following is not None and following.name == "Transfer" and following.args["from"] == account:
        return  # the debit that follows lowers the frozen amount exactly (see the module docstring)
    offset = 1
    while (later := ctx.next_in_transaction(offset)) is not None and later.name in (
        *_HOLDING_FLAGS,
        "Transfer",
    ):
        offset += 1
    if later is not None and later.name == "WalletRecovered" and account == later.args["replacement"]:
        return  # the recovery moves the frozen amount exactly
    ctx.set_holding(account, frozen_raw=ctx.raw(ctx.log.args["amount"]))


def _account_frozen(ctx: TokenContext) -> None:
    ctx.set_holding(ctx.log.args["account"], account_frozen=True)


def _account_unfrozen(ctx: TokenContext) -> None:
    ctx.set_holding(ctx.log.args["account"], account_frozen=False)


def _wallet_recovered(ctx: TokenContext) -> None:
    lost, replacement = ctx.log.args["lost"], ctx.log.args["replacement"]
    moved = ctx.holding(lost)
    kept = ctx.holding(replacement)
    ctx.set_holding(lost, balance_raw=0, frozen_raw=0)
    ctx.set_holding(
        replacement,
        balance_raw=int(kept["balance_raw"]) + int(moved["balance_raw"]),
        frozen_raw=min(int(kept["frozen_raw"]) + int(moved["frozen_raw"]), RAW_AMOUNT_CAP),
    )


def _paused(ctx: TokenContext) -> None:
    ctx.set_state(paused=True)


def _unpaused(ctx: TokenContext) -> None:
    ctx.set_state(paused=False)


def _stock_split(ctx: TokenContext) -> None:
    numerator, denominator = int(ctx.log.args["numerator"]), int(ctx.log.args["denominator"])
    before = int(ctx.state()["scale"])
    if numerator == 0 or (before * denominator) % numerator:
        raise ProjectionError(
            f"StockSplit {numerator} for {denominator} in block {ctx.block} does not divide the scale "
            f"{before} of asset {ctx.asset.asset_id} exactly, which the contract refuses: the index's "
            "scale is wrong (missing events?)"
        )
    after = before * denominator // numerator
    ctx.set_state(scale=after)
    ctx.session.execute(
        insert(Split).values(
            asset_id=ctx.asset.asset_id,
            block_number=ctx.block,
            log_index=ctx.log.log_index,
            tx_hash=ctx.log.tx_hash,
            numerator=numerator,
            denominator=denominator,
            scale_before=before,
            scale_after=after,
            total_supply_after=int(ctx.log.args["newTotalSupply"]),
        )
    )


def _coupon_scheduled(ctx: TokenContext) -> None:
    ctx.rows.put(
        CouponPeriod,
        (ctx.asset.asset_id, int(ctx.log.args["periodId"])),
        ctx.block,
        {
            "record_id": int(ctx.log.args["recordId"]),
            "record_date": int(ctx.log.args["recordDate"]),
            "coupon_per_bond": int(ctx.log.args["couponPerBond"]),
            "funded": False,
            "funded_amount": 0,
            "claimed_amount": 0,
            "claims": 0,
            "swept_amount": 0,
        },
    )


def _coupon_funded(ctx: TokenContext) -> None:
    _change_distribution(
        ctx, CouponPeriod, "periodId", funded=True, funded_amount=int(ctx.log.args["amount"])
    )


def _coupon_claimed(ctx: TokenContext) -> None:
    _claim(ctx, CouponPeriod, "periodId")


def _dividend_declared(ctx: TokenContext) -> None:
    ctx.rows.put(
        Dividend,
        (ctx.asset.asset_id, int(ctx.log.args["dividendId"])),
        ctx.block,
        {
            "record_id": int(ctx.log.args["recordId"]),
            "record_date": int(ctx.log.args["recordDate"]),
            "amount": int(ctx.log.args["amount"]),
            "claimed_amount": 0,
            "claims": 0,
            "swept_amount": 0,
        },
    )


def _dividend_claimed(ctx: TokenContext) -> None:
    _claim(ctx, Dividend, "dividendId")


def _coupon_swept(ctx: TokenContext) -> None:
    _sweep(ctx, CouponPeriod, "periodId")


def _dividend_swept(ctx: TokenContext) -> None:
    _sweep(ctx, Dividend, "dividendId")


def _sweep(ctx: TokenContext, model: type[CouponPeriod] | type[Dividend], id_arg: str) -> None:
    current = _distribution(ctx, model, id_arg)
    _change_distribution(
        ctx, model, id_arg, swept_amount=int(current["swept_amount"]) + int(ctx.log.args["amount"])
    )


def _redemption(ctx: TokenContext) -> dict[str, Any]:
    """The bond's call and redemption now (nothing called, funded or paid before its first event)."""
    current = ctx.rows.get(Redemption, (ctx.asset.asset_id,))
    if current is None:
        return {
            "called_at": 0,
            "call_price": 0,
            "funded": False,
            "price": 0,
            "funded_amount": 0,
            "redeemed_bonds": 0,
            "paid_amount": 0,
            "redemptions": 0,
            "swept_amount": 0,
        }
    skipped = ("id", "block_from", "block_to", "asset_id")
    return {name: current[name] for name in current if name not in skipped}


def _set_redemption(ctx: TokenContext, **changes: Any) -> None:
    values = _redemption(ctx)
    values.update(changes)
    ctx.rows.put(Redemption, (ctx.asset.asset_id,), ctx.block, values)


def _bond_called(ctx: TokenContext) -> None:
    _set_redemption(ctx, called_at=int(ctx.log.args["calledAt"]), call_price=int(ctx.log.args["callPrice"]))


def _redemption_funded(ctx: TokenContext) -> None:
    _set_redemption(
        ctx, funded=True, price=int(ctx.log.args["price"]), funded_amount=int(ctx.log.args["amount"])
    )


def _redeemed(ctx: TokenContext) -> None:
    current = _redemption(ctx)
    _set_redemption(
        ctx,
        redeemed_bonds=int(current["redeemed_bonds"]) + int(ctx.log.args["amount"]),
        paid_amount=int(current["paid_amount"]) + int(ctx.log.args["payout"]),
        redemptions=int(current["redemptions"]) + 1,
    )


def _redemption_swept(ctx: TokenContext) -> None:
    _set_redemption(ctx, swept_amount=int(_redemption(ctx)["swept_amount"]) + int(ctx.log.args["amount"]))


def _claim(ctx: TokenContext, model: type[CouponPeriod] | type[Dividend], id_arg: str) -> None:
    current = _distribution(ctx, model, id_arg)
    _change_distribution(
        ctx,
        model,
        id_arg,
        claimed_amount=int(current["claimed_amount"]) + int(ctx.log.args["amount"]),
        claims=int(current["claims"]) + 1,
    )


def _distribution(
    ctx: TokenContext, model: type[CouponPeriod] | type[Dividend], id_arg: str
) -> dict[str, Any]:
    key = (ctx.asset.asset_id, int(ctx.log.args[id_arg]))
    current = ctx.rows.get(model, key)
    if current is None:
        raise ProjectionError(
            f"{ctx.log.name} in block {ctx.block} names {id_arg} {key[1]} of asset {ctx.asset.asset_id}, "
            "which the index never saw created: events are missing"
        )
    return {name: current[name] for name in current if name not in ("id", "block_from", "block_to")}


def _change_distribution(
    ctx: TokenContext, model: type[CouponPeriod] | type[Dividend], id_arg: str, **changes: Any
) -> None:
    values = _distribution(ctx, model, id_arg)
    key = tuple(values.pop(name) for name in model.key_columns)
    values.update(changes)
    ctx.rows.put(model, key, ctx.block, values)


TokenHandler = Callable[[TokenContext], None]

TOKEN_HANDLERS: dict[str, TokenHandler] = {
    "Transfer": _transfer,
    "Frozen": _frozen,
    "AccountFrozen": _account_frozen,
    "AccountUnfrozen": _account_unfrozen,
    "WalletRecovered": _wallet_recovered,
    "Paused": _paused,
    "Unpaused": _unpaused,
    "StockSplit": _stock_split,
    "CouponPeriodScheduled": _coupon_scheduled,
    "CouponFunded": _coupon_funded,
    "CouponClaimed": _coupon_claimed,
    "DividendDeclared": _dividend_declared,
    "DividendClaimed": _dividend_claimed,
    "CouponSwept": _coupon_swept,
    "DividendSwept": _dividend_swept,
    "BondCalled": _bond_called,
    "RedemptionFunded": _redemption_funded,
    "Redeemed": _redeemed,
    "RedemptionSwept": _redemption_swept,
}
"""What each token event does to the projections (events not listed are only stored)."""


def apply_token_logs(
    rows: VersionedRows, session: Session, asset: AssetInfo, logs: Sequence[DecodedLog]
) -> None:
    """Apply one asset's logs, in chain order, to the projections."""
    wallets = {value for log in logs for value in _addresses(log.args.values())}
    rows.prefetch(Holding, [(asset.asset_id, wallet) for wallet in wallets])
    rows.prefetch(AssetState, [(asset.asset_id,)])
    ctx = TokenContext(rows, session, asset, logs)
    for position, log in enumerate(logs):
        handler = TOKEN_HANDLERS.get(log.name or "")
        if handler is not None:
            ctx.position = position
            handler(ctx)


def _addresses(values: Iterable[Any]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str) and len(value) == 42 and value.startswith("0x"):
            yield value


# ---------------------------------------------------------------------------------------------- identity


@dataclass
class RegistryContext:
    """The working state while one identity registry's logs are applied."""

    rows: VersionedRows
    chain: str
    registry: str
    log: DecodedLog | None = None

    @property
    def block(self) -> int:
        """The block of the log being applied."""
        assert self.log is not None
        return self.log.block_number

    def investor_key(self, investor_id: int) -> tuple[str, str, int]:
        """The key of an investor of this registry."""
        return (self.chain, self.registry, int(investor_id))

    def wallet_key(self, wallet: str) -> tuple[str, str, str]:
        """The key of a wallet of this registry."""
        return (self.chain, self.registry, wallet)

    def investor(self, investor_id: int) -> dict[str, Any]:
        """An investor's open version, without its key and range columns."""
        current = self.rows.get(Investor, self.investor_key(investor_id))
        if current is None:
            where = f" (block {self.block})" if self.log is not None else ""
            raise ProjectionError(
                f"identity registry {self.registry} on {self.chain} names investor {investor_id}{where}, "
                "which "
                "the index never saw registered: events are missing (was the registry catalogued with a "
                "from_block after its deployment?)"
            )
        return {
            name: current[name] for name in ("key_wallet", "country", "attributes", "kyc_expiry", "revoked")
        }


def seed_investor(
    ctx: RegistryContext,
    block: int,
    investor_id: int,
    *,
    country: int,
    attributes: int,
    kyc_expiry: int,
    revoked: bool,
    wallets: Sequence[str],
) -> None:
    """Record an investor read from the registry's state (registered in genesis, so without events)."""
    ctx.rows.put(
        Investor,
        ctx.investor_key(investor_id),
        block,
        {
            "key_wallet": wallets[0] if wallets else ZERO_ADDRESS,
            "country": country,
            "attributes": attributes,
            "kyc_expiry": kyc_expiry,
            "revoked": revoked,
        },
    )
    for wallet in wallets:
        ctx.rows.put(Wallet, ctx.wallet_key(wallet), block, {"investor_id": investor_id})


def _investor_registered(ctx: RegistryContext) -> None:
    assert ctx.log is not None
    args = ctx.log.args
    ctx.rows.put(
        Investor,
        ctx.investor_key(args["investorId"]),
        ctx.block,
        {
            "key_wallet": args["wallet"],
            "country": int(args["country"]),
            "attributes": int(args["attributes"]),
            "kyc_expiry": int(args["kycExpiry"]),
            "revoked": False,
        },
    )
    ctx.rows.put(Wallet, ctx.wallet_key(args["wallet"]), ctx.block, {"investor_id": int(args["investorId"])})


def _investor_updated(ctx: RegistryContext) -> None:
    assert ctx.log is not None
    args = ctx.log.args
    values = ctx.investor(args["investorId"])
    values.update(
        country=int(args["country"]), attributes=int(args["attributes"]), kyc_expiry=int(args["kycExpiry"])
    )
    ctx.rows.put(Investor, ctx.investor_key(args["investorId"]), ctx.block, values)


def _investor_revoked(ctx: RegistryContext) -> None:
    assert ctx.log is not None
    values = ctx.investor(ctx.log.args["investorId"])
    values["revoked"] = True
    ctx.rows.put(Investor, ctx.investor_key(ctx.log.args["investorId"]), ctx.block, values)


def _wallet_added(ctx: RegistryContext) -> None:
    assert ctx.log is not None
    ctx.rows.put(
        Wallet,
        ctx.wallet_key(ctx.log.args["wallet"]),
        ctx.block,
        {"investor_id": int(ctx.log.args["investorId"])},
    )


def _wallet_removed(ctx: RegistryContext) -> None:
    assert ctx.log is not None
    ctx.rows.close(Wallet, ctx.wallet_key(ctx.log.args["wallet"]), ctx.block)


RegistryHandler = Callable[[RegistryContext], None]

REGISTRY_HANDLERS: dict[str, RegistryHandler] = {
    "InvestorRegistered": _investor_registered,
    "InvestorUpdated": _investor_updated,
    "InvestorRevoked": _investor_revoked,
    "WalletAdded": _wallet_added,
    "WalletRemoved": _wallet_removed,
}
"""What each identity-registry event does to the investor and wallet tables."""


def apply_registry_logs(rows: VersionedRows, chain: str, registry: str, logs: Sequence[DecodedLog]) -> None:
    """Apply one identity registry's logs, in chain order, to the investors and wallets."""
    ctx = RegistryContext(rows, chain, registry)
    rows.prefetch(
        Investor, [ctx.investor_key(log.args["investorId"]) for log in logs if "investorId" in log.args]
    )
    rows.prefetch(Wallet, [ctx.wallet_key(w) for log in logs for w in _addresses(log.args.values())])
    for log in logs:
        handler = REGISTRY_HANDLERS.get(log.name or "")
        if handler is not None:
            ctx.log = log
            handler(ctx)
