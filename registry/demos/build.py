"""Demo `build`: an outsider writes its own application, a small swap contract (`TokenSwap`: escrowed
offers that anyone may take), deploys it and uses it to trade the bond for cash.

The open chain accepts the deployment at once and the open-mode bond goes in and out of the contract
like any address. The permissioned chain refuses the deployment until the outsider is KYC'd (the chain
takes transactions from verified senders only); once it is deployed, the kyc-mode bond refuses the
contract as a holder (nobody verified it) until the KYC provider registers the contract too.
"""

from __future__ import annotations

from registry.demos.base import SWISS, USD, Demo, bond_terms, short

NAME = "build"
SUMMARY = (
    "an outsider deploys its own swap contract for the bond: at once on the open chain, after KYC on the "
    "permissioned one"
)
OFFERED = 5
PRICE = 1_000 * USD


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    demo.side_by_side(
        _on,
        [
            ("deploying the outsider's contract", "deploy"),
            ("the contract holding bonds", "hold"),
            ("KYC registrations needed", "steps"),
            ("traded through it", "traded"),
        ],
    )


def _on(demo: Demo, chain: str) -> dict[str, str]:
    """The scenario on ``chain``; returns the cells of its result column."""
    registry = demo.registry
    kyc = chain == "permissioned"
    issuer = demo.ready("issuer", chain)
    seller = demo.ready("seller", chain)
    buyer = demo.ready("buyer", chain)
    cash = demo.issue_cash(chain, issuer)
    bond = registry.bonds.issue(
        chain, "kyc" if kyc else "open", bond_terms(cash, demo.now(chain)), issuer=issuer
    ).asset.asset_id
    registry.tokens.mint(bond, seller, 10, sender=issuer)
    registry.cash.mint(cash, buyer, 10 * PRICE, sender=issuer)
    outsider = demo.party("outsider").address
    demo.fund_gas(chain, outsider)
    demo.step(
        chain,
        "setup",
        "done",
        f"a seller holds 10 bonds; the outsider {short(outsider)} has ether, nothing else",
    )
    cell = {"deploy": "accepted at once", "hold": "accepted at once", "steps": "0"}
    deployed = demo.attempt(
        chain,
        "the outsider deploys its swap",
        lambda: demo.deploy_swap(chain, outsider),
        lambda made: f"TokenSwap deployed at {short(made[0].address)} ({made[1].gas_used:,} gas)",
    )
    refusals = {"deploy": 0, "hold": 0}
    if deployed is None:
        refusals["deploy"] = 1
        registry.investors.register(chain, outsider, country=SWISS)
        demo.step(
            chain,
            "KYC for the outsider",
            "done",
            "the KYC provider registers the outsider as a Swiss investor",
        )
        deployed = demo.attempt(
            chain,
            "the outsider deploys again",
            lambda: demo.deploy_swap(chain, outsider),
            lambda made: f"TokenSwap deployed at {short(made[0].address)} ({made[1].gas_used:,} gas)",
        )
        cell["deploy"] = "refused until the outsider is KYC'd"
    assert deployed is not None, "the outsider's contract was refused after its KYC"
    swap = deployed[0]
    token = demo.token(bond)
    cash_address = registry.asset(cash).address
    demo.send(chain, seller, token, "approve", args=[swap.address, OFFERED], what="approve the swap")

    def offer(c: str = chain) -> object:
        return demo.send(
            c,
            seller,
            swap,
            "make",
            args=[token.address, OFFERED, cash_address, OFFERED * PRICE],
            what="offer bonds",
        )

    made = demo.attempt(
        chain,
        "the seller offers bonds on it",
        offer,
        lambda _: f"{OFFERED} bonds escrowed in the swap for {OFFERED * PRICE // USD:,} dUSD",
    )
    if made is None:
        refusals["hold"] = 1
        registry.investors.register(chain, swap.address, country=SWISS)
        demo.step(
            chain,
            "KYC for the contract",
            "done",
            "the KYC provider registers the swap contract as a holder",
        )
        made = demo.attempt(
            chain,
            "the seller offers again",
            offer,
            lambda _: f"{OFFERED} bonds escrowed in the swap for {OFFERED * PRICE // USD:,} dUSD",
        )
        cell["hold"] = "refused until the contract is registered"
    assert made is not None, "the registered contract was refused as a holder"
    registry.cash.approve(cash, swap.address, OFFERED * PRICE, sender=buyer)
    demo.send(chain, buyer, swap, "take", args=[0], what="take the offer")
    got = registry.tokens.balance_of(bond, buyer)
    demo.step(
        chain,
        "a buyer takes the offer",
        "done",
        f"the buyer pays {OFFERED * PRICE // USD:,} dUSD and holds {got} bonds",
    )
    cell["steps"] = str(sum(refusals.values()))
    cell["traded"] = f"{got} bonds"
    demo.report.numbers[chain] = {
        "deploy refused": refusals["deploy"],
        "holding refused": refusals["hold"],
        "registrations": sum(refusals.values()),
        "bonds traded": got,
    }
    return cell
