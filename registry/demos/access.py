"""Demo `access`: who may buy. An American investor (outside the bond's country allow list) and a wallet
nobody ever checked each try to buy one bond from a Swiss holder.

Permissionless chain, open-mode bond: both buy at once with nothing but a key and some ether for gas.
Permissioned chain, kyc-mode bond allowing Swiss and German investors only: both are refused at the
chain (their own payment is not even accepted) until a KYC provider onboards them; once onboarded, the
unchecked wallet (now a verified German investor) buys, and the American is still refused by the bond's
country rule, which the refusal names. The steps, gas and time each chain's onboarding took are shown.
"""

from __future__ import annotations

from functools import partial

from registry.demos.base import AMERICAN, GERMAN, SWISS, USD, Demo, bond_terms, short

NAME = "access"
SUMMARY = "an investor from a blocked country and a wallet with no KYC try to buy, on both chains"
PRICE = 1_000 * USD
"""What the buyers pay for one bond."""


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    demo.side_by_side(
        _on,
        [
            ("American investor (blocked country)", "american"),
            ("wallet nobody checked", "unchecked"),
            ("onboarding: steps", "onboarding steps"),
            ("onboarding: gas", "onboarding gas"),
        ],
    )


def _on(demo: Demo, chain: str) -> dict[str, str]:
    """The scenario on ``chain``; returns the cells of its result column."""
    registry = demo.registry
    kyc = chain == "permissioned"
    issuer = demo.ready("issuer", chain)
    seller = demo.ready("swiss holder", chain)
    cash = demo.issue_cash(chain, issuer)
    mode = "kyc" if kyc else "open"
    bond = registry.bonds.issue(chain, mode, bond_terms(cash, demo.now(chain)), issuer=issuer).asset.asset_id
    if kyc:
        registry.tokens.set_country_rule(bond, "allow", sender=issuer)
        registry.tokens.set_countries(bond, [SWISS, GERMAN], listed=True, sender=issuer)
        rules = "kyc mode: holders must be verified investors from Switzerland or Germany"
    else:
        rules = "open mode: no identity or country checks"
    registry.tokens.mint(bond, seller, 100, sender=issuer)
    demo.step(chain, "issue", "done", f"bond issued ({rules}); the Swiss holder {short(seller)} holds 100")

    buyers = {"american": demo.party("american investor"), "unchecked": demo.party("unchecked wallet")}
    for buyer in buyers.values():
        demo.fund_gas(chain, buyer.address)
        registry.cash.mint(cash, buyer.address, 10 * PRICE, sender=issuer)
    demo.step(
        chain,
        "buyers arrive",
        "info",
        "an American investor and a wallet nobody checked each get ether for gas and 10,000 dUSD",
    )
    outcome: dict[str, str] = {}
    if kyc:
        for who, buyer in buyers.items():
            paid = demo.attempt(
                chain,
                f"{who} pays before onboarding",
                partial(registry.cash.transfer, cash, seller, PRICE, sender=buyer.address),
                lambda _: "payment accepted",
            )
            assert paid is None, "the permissioned chain accepted a sender it never verified"
        with demo.timed(f"{chain}.onboarding"):
            american = registry.investors.register(chain, buyers["american"].address, country=AMERICAN)
            unchecked = registry.investors.register(chain, buyers["unchecked"].address, country=GERMAN)
        gas = american.outcomes[0].gas_used
        demo.step(
            chain,
            "onboarding",
            "done",
            f"the KYC provider registers the American (country {AMERICAN}) and the other wallet as a "
            f"German investor (country {GERMAN}): one transaction each, {gas:,} gas",
        )
        outcome["onboarding gas"] = f"{gas:,}"
        outcome["onboarding steps"] = "2: KYC registration by the provider, ether for gas"
        del unchecked
    else:
        outcome["onboarding gas"] = "21,000 (ether for gas only)"
        outcome["onboarding steps"] = "1: ether for gas"
    for who, buyer in buyers.items():
        delivered = demo.attempt(
            chain,
            f"{who} buys",
            partial(registry.tokens.transfer, bond, buyer.address, 1, sender=seller),
            lambda out: f"the seller delivers 1 bond ({out.gas_used:,} gas)",
        )
        if delivered is None:
            outcome[who] = "refused by the bond's country rule"
            continue
        registry.cash.transfer(cash, seller, PRICE, sender=buyer.address)
        demo.step(chain, f"{who} pays", "done", f"the buyer pays {PRICE // USD:,} dUSD")
        outcome[who] = "bought 1 bond"
    demo.report.numbers[chain] = {
        "bought": sum(1 for who in buyers if outcome[who] == "bought 1 bond"),
        "bond balance american": registry.tokens.balance_of(bond, buyers["american"].address),
        "bond balance unchecked": registry.tokens.balance_of(bond, buyers["unchecked"].address),
    }
    return outcome
