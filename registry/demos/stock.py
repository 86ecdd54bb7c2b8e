"""Demo `stock`: corporate actions on a share token, with the cap table (from the index) before and after.
Three shareholders (Swiss, German, Swiss) and an American investor who wants in.

A dividend of 10,000 dUSD is declared with a record date and claimed pro rata; a 2-for-1 split doubles
every holding; a 30-day lock-up stops holders' transfers until it ends; a country rule blocks American
investors. The permissioned chain's kyc-mode share token enforces the lock-up and the country rule; the
open chain's open-mode share token checks no rules at all, so neither exists there and the American buys.
The dividend and the split work the same on both. It moves both chains' clocks about 31 days forward
(the record date, the end of the lock-up): on a shared server that moves those chains' clocks forward
for everyone using them.
"""

from __future__ import annotations

from registry.chain.clock import advance_to
from registry.demos.base import AMERICAN, DAY, GERMAN, SWISS, USD, Demo, usd
from registry.errors import RegistryError
from registry.index import queries

NAME = "stock"
SUMMARY = (
    "a dividend, a 2-for-1 split, a lock-up and a country rule, cap table before and after (moves the "
    "chains' clocks a month forward)"
)
SHAREHOLDERS = (("alice", SWISS, 100), ("bruno", GERMAN, 60), ("chloe", SWISS, 40))
DIVIDEND = 10_000 * USD


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    demo.side_by_side(
        _on,
        [
            ("cap table before", "before"),
            ("dividend to alice (half the shares)", "dividend"),
            ("cap table after the 2-for-1 split", "after"),
            ("a sale during the 30-day lock-up", "lockup"),
            ("an American investor buys", "country"),
            ("cap table at the end", "final"),
        ],
    )


def _investor(demo: Demo, chain: str, name: str, country: int) -> str:
    """A shareholder's wallet: gas, and on the permissioned chain a verified investor of ``country``."""
    wallet = demo.party(name).address
    if chain == "permissioned":
        demo.registry.investors.register(chain, wallet, country=country, expiry=demo.now(chain) + 3650 * DAY)
    demo.fund_gas(chain, wallet)
    return wallet


def _rule(demo: Demo, chain: str, what: str, action: object) -> bool:
    try:
        action()  # type: ignore[operator]
    except RegistryError as exc:
        demo.step(chain, what, "refused", f"not available: {exc}")
        return False
    demo.step(chain, what, "done", f"the issuer sets the {what}")
    return True


def _cap_table(demo: Demo, chain: str, stock: str, wallets: dict[str, str]) -> dict[str, int]:
    """Shares per named holder, read from the index (which has caught up with the chain's head)."""
    registry = demo.registry
    registry.wait_for_index(chain, demo.head(chain))
    with registry.db.read() as session:
        page = queries.cap_table(session, stock, limit=100)
    names = {wallet: name for name, wallet in wallets.items()}
    return {names[e.wallet]: e.balance for e in page.entries if e.wallet in names}


def _describe(table: dict[str, int]) -> str:
    return ", ".join(f"{name} {shares}" for name, shares in table.items()) + f" (total {sum(table.values())})"


def _on(demo: Demo, chain: str) -> dict[str, str]:
    """The scenario on ``chain``; returns the cells of its result column."""
    registry = demo.registry
    kyc = chain == "permissioned"
    issuer = demo.ready("issuer", chain)
    cash = demo.issue_cash(chain, issuer)
    terms = {"name": "Demo AG shares", "symbol": "DEMOS", "currency": cash, "claim_period_days": 365}
    stock = registry.stocks.issue(chain, "kyc" if kyc else "open", terms, issuer=issuer).asset.asset_id
    wallets: dict[str, str] = {}
    for name, country, shares in SHAREHOLDERS:
        wallets[name] = _investor(demo, chain, name, country)
        registry.tokens.mint(stock, wallets[name], shares, sender=issuer)
    american = _investor(demo, chain, "american", AMERICAN)
    before = _cap_table(demo, chain, stock, wallets)
    demo.step(chain, "cap table before", "info", _describe(before))
    record = demo.now(chain) + DAY
    declared = registry.stocks.declare_dividend(stock, record, DIVIDEND, sender=issuer)
    advance_to(registry.chain(chain).w3, record)
    for wallet in wallets.values():
        registry.stocks.claim_dividend(stock, declared.dividend_id, sender=wallet)
    alice_got = registry.cash.balance_of(cash, wallets["alice"])
    demo.step(
        chain,
        "dividend",
        "done",
        f"{usd(DIVIDEND)} declared for the holders at the record date and claimed: alice (100 of 200 "
        f"shares) receives {usd(alice_got)}",
    )
    registry.stocks.split(stock, 2, 1, sender=issuer)
    after = _cap_table(demo, chain, stock, wallets)
    demo.step(chain, "2-for-1 split", "done", _describe(after))
    lockup = _rule(
        demo,
        chain,
        "lock-up",
        lambda: registry.tokens.set_lockup(stock, demo.now(chain) + 30 * DAY, sender=issuer),
    )
    locked = demo.attempt(
        chain,
        "alice sells during the lock-up",
        lambda: registry.tokens.transfer(stock, wallets["chloe"], 10, sender=wallets["alice"]),
        lambda _: "alice sells 10 shares to chloe",
    )
    if lockup:
        advance_to(registry.chain(chain).w3, demo.now(chain) + 30 * DAY + 1)
        demo.attempt(
            chain,
            "alice sells after the lock-up",
            lambda: registry.tokens.transfer(stock, wallets["chloe"], 10, sender=wallets["alice"]),
            lambda _: "30 days later the lock-up is over: alice sells 10 shares to chloe",
        )
    blocked = _rule(
        demo,
        chain,
        "country rule",
        lambda: (
            registry.tokens.set_country_rule(stock, "block", sender=issuer),
            registry.tokens.set_countries(stock, [AMERICAN], listed=True, sender=issuer),
        ),
    )
    bought = demo.attempt(
        chain,
        "the American buys",
        lambda: registry.tokens.transfer(stock, american, 5, sender=wallets["bruno"]),
        lambda _: "bruno sells 5 shares to the American investor",
    )
    wallets["american"] = american
    final = _cap_table(demo, chain, stock, wallets)
    demo.step(chain, "cap table after", "info", _describe(final))
    demo.report.numbers[chain] = {
        "supply before": sum(before.values()),
        "supply after split": sum(after.values()),
        **{f"{name} before": before[name] for name in before},
        **{f"{name} after split": after[name] for name in after},
        "dividend to alice": alice_got,
        "american holds": final.get("american", 0),
    }
    return {
        "before": _describe(before),
        "after": _describe(after),
        "dividend": usd(alice_got),
        "lockup": "sale refused until it ends" if locked is None else "no lock-up: open mode checks no rules",
        "country": "refused by the country rule"
        if bought is None
        else ("bought 5 shares" if not blocked else "bought 5 shares despite the rule"),
        "final": _describe(final),
    }
