"""Demo `censor`: the other edge of the power that stopped the hack. An honest investor sells 10 bonds
to another investor, a trade nothing forbids.

On both chains the issuer can freeze the investor's bonds at the token (its token-level freeze): that
stops this one token, leaves every other transaction of the investor alone, and undoes nothing, which
is the limit of what an issuer alone can do. On the permissioned chain a quorum of validators goes
further: it freezes the investor chain-wide (no transaction of it is accepted any more) and rolls back
the trade it dislikes. On the open chain no one can do either. The intervention log shows who signed.

Through the API (on the server's own chains) the rollback rewinds the permissioned chain for everyone
using the server: their transactions of those few blocks are replayed, as anyone's would be.
"""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from registry.chain.errors import ImmutableChainError
from registry.demos.base import USD, Demo, bond_terms, refusal, short

NAME = "censor"
SUMMARY = "validators freeze an honest investor and undo a trade they dislike; on the open chain no one can"
SOLD = 10


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    demo.side_by_side(
        _on,
        [
            ("the lawful trade", "trade"),
            ("the investor's transactions", "investor"),
            ("the issuer alone (token-level freeze)", "issuer"),
            ("who decided", "quorum"),
        ],
    )


def _on(demo: Demo, chain: str) -> dict[str, str]:
    """The scenario on ``chain``; returns the cells of its result column."""
    registry = demo.registry
    kyc = chain == "permissioned"
    issuer = demo.ready("issuer", chain)
    investor = demo.ready("honest investor", chain)
    buyer = demo.ready("buyer", chain)
    cash = demo.issue_cash(chain, issuer)
    bond = registry.bonds.issue(
        chain, "kyc" if kyc else "open", bond_terms(cash, demo.now(chain)), issuer=issuer
    ).asset.asset_id
    registry.tokens.mint(bond, investor, 50, sender=issuer)
    registry.cash.mint(cash, investor, 1_000 * USD, sender=issuer)
    before = demo.head(chain)
    trade = registry.tokens.transfer(bond, buyer, SOLD, sender=investor)
    demo.step(
        chain,
        "a lawful trade",
        "done",
        f"the investor {short(investor)} sells {SOLD} bonds to {short(buyer)} (block {trade.block_number})",
    )
    registry.tokens.freeze_account(bond, investor, sender=issuer)
    demo.attempt(
        chain,
        "issuer's token-level freeze",
        lambda: registry.tokens.transfer(bond, buyer, 1, sender=investor),
        lambda _: "the frozen investor still moved bonds",
    )
    other = demo.attempt(
        chain,
        "the investor's other business",
        lambda: registry.cash.transfer(cash, buyer, 10 * USD, sender=investor),
        lambda _: "the issuer froze only its own token: the investor still pays 10 dUSD in cash",
    )
    registry.tokens.unfreeze_account(bond, investor, sender=issuer)
    cell = {"issuer": "stops its own token only; the trade stands" if other else "?"}
    if kyc:
        governance = registry.governance
        signers = governance.signers_available()[: governance.threshold()]
        record = governance.propose_freeze(investor, reason="a quorum dislikes this investor")
        for validator in signers:
            record = governance.sign(record.id, validator)
        rollback = governance.propose_rollback(
            before, exclude_transactions=[trade.hash_hex], reason="a quorum dislikes this trade"
        )
        for validator in signers:
            rollback = governance.sign(rollback.id, validator)
        who = ", ".join(short(to_checksum_address(s)) for s in rollback.signatures)
        demo.step(
            chain,
            "validators freeze and roll back",
            "done",
            f"{len(signers)} of {len(governance.validators())} validators ({who}) freeze the investor "
            f"chain-wide and roll back to block {before}, leaving out the trade",
        )
        demo.attempt(
            chain,
            "the investor tries to transact",
            lambda: registry.cash.transfer(cash, buyer, 1 * USD, sender=investor),
            lambda _: "accepted",
        )
        for entry in (record, rollback):
            demo.step(
                chain,
                "intervention log",
                "info",
                f"{entry.proposal.kind} #{entry.sequence}: {entry.status}, reason "
                f"{entry.proposal.message.get('reason', '')!r}, signed by "
                + ", ".join(short(to_checksum_address(s)) for s in entry.signatures),
            )
        cell["quorum"] = f"{len(signers)} of {len(governance.validators())} validators: {who}"
    else:
        try:
            registry.governance.propose_freeze(
                investor, reason="a quorum dislikes this investor", chain=chain
            )
        except ImmutableChainError as exc:
            demo.step(chain, "freeze or roll back", "refused", refusal(exc))
        cell["quorum"] = "nobody can"
    held = registry.tokens.balance_of(bond, buyer)
    frozen = [f["account"] for f in registry.governance.frozen_accounts()] if kyc else []
    demo.report.numbers[chain] = {
        "buyer holds": held,
        "investor frozen chain-wide": int(investor in frozen),
    }
    cell["trade"] = "undone" if held == 0 else f"stands: the buyer holds {held}"
    cell["investor"] = "refused at the chain" if investor in frozen else "accepted"
    return cell
