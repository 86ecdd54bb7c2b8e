"""Demo `hack`: a stolen key drains a holder's bonds and moves them through three hops while honest
holders keep trading; at the last hop the thief sells part of the loot for cash to a market maker's
standing offer and sends the cash away.

Permissioned chain: the validators freeze every address of the attacker chain-wide, then vote a rollback
to the block before the hack that replays every other transaction: the loss is 0, every honest trade is
still there, and the intervention record shows who signed. Permissionless chain: no one can freeze or
roll back; the issuer's forcedTransfer takes back only what still sits at the attacker's addresses. The
bonds sold to the market maker were paid for in good faith (taking them back would move the loss onto
an honest buyer), and the cash the thief got is another token the issuer cannot touch: that part is
lost for good. The table ends with what the rollback power could also be used for (see `censor`).

Variant ``agent-key``: the stolen key is an issuer agent's, which holds the enforcement role; the thief
uses the agent's forcedTransfer to take the holder's bonds. On the open chain the issuer first revokes
that role.

Through the API (on the server's own chains) the rollback rewinds the permissioned chain for everyone
using the server: their transactions of those few blocks are replayed, as anyone's would be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_typing import ChecksumAddress, HexStr
from eth_utils.address import to_checksum_address
from web3.contract import Contract

from registry.chain.errors import ImmutableChainError
from registry.demos.base import USD, Demo, bond_terms, refusal, short

NAME = "hack"
SUMMARY = (
    "a stolen key drains bonds through three hops: validators roll it back (loss 0); the open chain "
    "recovers only what is still reachable"
)
VARIANTS = ("agent-key",)
STOLEN = 100
"""Bonds the victim holds, all of which the thief takes."""
SOLD = 30
"""Bonds the thief sells to the market maker's offer, at par."""
PAR = 1_000 * USD
TRADERS = 4


@dataclass
class _Side:
    """What happened on one chain."""

    bond: str = ""
    cash: str = ""
    victim: ChecksumAddress | None = None
    attacker: list[ChecksumAddress] = field(default_factory=list)
    honest: list[str] = field(default_factory=list)
    """Hashes of the honest trades made during the hack."""
    swap: Contract | None = None
    before: int = 0
    """The last block before the hack."""
    kept: int = 0
    """Honest trades on the chain at the end."""
    signers: list[str] = field(default_factory=list)
    recovered_by: str = ""
    wallet: ChecksumAddress | None = None
    """Where the victim's bonds are at the end (a new wallet if its key was frozen)."""


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    sides = {chain: _setup(demo, chain) for chain in ("permissioned", "permissionless")}
    for chain, side in sides.items():
        _attack(demo, chain, side)
    _permissioned_response(demo, sides["permissioned"])
    _permissionless_response(demo, sides["permissionless"])
    _table(demo, sides)


def _setup(demo: Demo, chain: str) -> _Side:
    registry = demo.registry
    kyc = chain == "permissioned"
    side = _Side()
    issuer = demo.ready("issuer", chain)
    side.cash = demo.issue_cash(chain, issuer)
    side.bond = registry.bonds.issue(
        chain, "kyc" if kyc else "open", bond_terms(side.cash, demo.now(chain)), issuer=issuer
    ).asset.asset_id
    crowd = [f"holder {i}" for i in range(max(demo.holders, TRADERS + 1))]
    holders = demo.onboard_crowd(chain, crowd)
    for label in crowd[: TRADERS + 1]:
        demo.fund_gas(chain, demo.party(label).address)
    side.victim = holders[0]
    allocations = [(side.victim, STOLEN), *((wallet, 20) for wallet in holders[1:])]
    registry.tokens.batch_mint(side.bond, allocations, sender=issuer)
    # The thief's own addresses: on the permissioned chain they passed KYC (mules with forged papers).
    side.attacker = [demo.ready(f"attacker hop {i}", chain) for i in (1, 2, 3)]
    if demo.variant == "agent-key":
        agent = demo.ready("issuer agent", chain)
        registry.tokens.grant_role(side.bond, "enforcement", agent, sender=issuer)
        side.attacker.insert(0, agent)
    else:
        side.attacker.insert(0, side.victim)  # the holder's stolen key sends the first hop
    maker = demo.ready("market maker", chain)
    registry.cash.transfer(side.cash, maker, SOLD * PAR, sender=issuer)
    swap, _ = demo.deploy_swap(chain, maker)
    registry.cash.approve(side.cash, swap.address, SOLD * PAR, sender=maker)
    offer = [_address(demo, side.cash), SOLD * PAR, _address(demo, side.bond), SOLD]
    demo.send(chain, maker, swap, "make", args=offer, what="offer cash for bonds")
    demo.step(
        chain,
        "setup",
        "done",
        f"{len(holders)} holders hold the bond ({'kyc' if kyc else 'open'} mode); the victim "
        f"{short(side.victim)} holds {STOLEN}; a market maker offers {SOLD * PAR // USD:,} dUSD for {SOLD} "
        "bonds on its own swap contract",
    )
    side.swap = swap
    side.before = demo.head(chain)
    return side


def _address(demo: Demo, asset_id: str) -> str:
    return demo.registry.asset(asset_id).address


def _attack(demo: Demo, chain: str, side: _Side) -> None:
    registry = demo.registry
    assert side.victim is not None
    key, hop1, hop2, hop3 = side.attacker
    traders = [demo.party(f"holder {i}").address for i in range(1, TRADERS + 1)]

    def honest(i: int) -> None:
        seller, buyer = traders[i % TRADERS], traders[(i + 1) % TRADERS]
        trade = registry.tokens.transfer(side.bond, buyer, 2 + i, sender=seller)
        side.honest.append(trade.hash_hex)
        demo.step(
            chain, f"honest trade {i + 1}", "done", f"{short(seller)} sells {2 + i} bonds to {short(buyer)}"
        )

    if demo.variant == "agent-key":
        registry.tokens.forced_transfer(side.bond, side.victim, hop1, STOLEN, sender=key)
        how = f"with the issuer agent's stolen key, the thief force-transfers the victim's {STOLEN} bonds"
    else:
        registry.tokens.transfer(side.bond, hop1, STOLEN, sender=key)
        how = f"with the victim's stolen key, the thief sends its {STOLEN} bonds"
    demo.step(chain, "hack: hop 1", "done", f"{how} to {short(hop1)}")
    honest(0)
    registry.tokens.transfer(side.bond, hop2, STOLEN, sender=hop1)
    demo.step(chain, "hack: hop 2", "done", f"{short(hop1)} passes them to {short(hop2)}")
    honest(1)
    registry.tokens.transfer(side.bond, hop3, STOLEN, sender=hop2)
    demo.step(chain, "hack: hop 3", "done", f"{short(hop2)} passes them to {short(hop3)}")
    honest(2)
    swap = side.swap
    assert swap is not None
    bond = demo.token(side.bond)
    demo.send(chain, hop3, bond, "approve", args=[swap.address, SOLD], what="approve the swap")
    demo.send(chain, hop3, swap, "take", args=[0], what="take the market maker's offer")
    exit_wallet = demo.party("attacker exit").address
    registry.cash.transfer(side.cash, exit_wallet, SOLD * PAR, sender=hop3)
    demo.step(
        chain,
        "hack: cash out",
        "done",
        f"{short(hop3)} sells {SOLD} bonds to the market maker's offer for {SOLD * PAR // USD:,} dUSD and "
        f"sends the cash to {short(exit_wallet)}",
    )
    honest(3)


def _permissioned_response(demo: Demo, side: _Side) -> None:
    chain = "permissioned"
    governance = demo.registry.governance
    need = governance.threshold()
    signers = governance.signers_available()[:need]
    since = len(governance.proposals())
    for account in side.attacker:
        record = governance.propose_freeze(account, reason="keys used in the bond theft")
        for validator in signers:
            record = governance.sign(record.id, validator)
    demo.step(
        chain,
        "validators freeze the attacker",
        "done",
        f"{need} of {len(governance.validators())} validators sign a chain-wide freeze of "
        f"{len(side.attacker)} addresses: their transactions are refused from the next block on",
    )
    before = side.before
    record = governance.propose_rollback(
        before, exclude_senders=side.attacker, reason="bond theft: undo the thief's transactions"
    )
    for validator in signers:
        record = governance.sign(record.id, validator)
    report = governance.rollback_report(record.id)
    side.signers = [short(to_checksum_address(s)) for s in record.signatures]
    replayed = {"0x" + bytes(t.hash).hex() for t in report.replayed}
    demo.step(
        chain,
        "validators roll back",
        "done",
        f"rollback to block {before} (signed by {', '.join(side.signers)}): "
        f"{len(report.transactions)} transactions dropped, {len(report.excluded)} of the thief's excluded, "
        f"{len(report.replayed)} replayed, {len(report.failed)} failed on replay",
    )
    w3 = demo.registry.chain(chain).w3
    kept = sum(
        1 for h in side.honest if h in replayed and w3.eth.get_transaction_receipt(HexStr(h))["status"] == 1
    )
    demo.step(
        chain, "honest trades", "info", f"{kept} of {len(side.honest)} honest trades are on the chain again"
    )
    side.kept = kept
    side.recovered_by = "the validators' rollback"
    _intervention_log(demo, since)
    side.wallet = side.victim
    if demo.variant != "agent-key" and side.victim is not None:
        # The victim's own key is frozen with the thief's: the issuer moves its bonds to a new wallet.
        registry = demo.registry
        new = demo.party("holder 0 new wallet").address
        investor = registry.investors.investor_of(chain, side.victim)
        registry.investors.add_wallet(chain, investor, new)
        registry.tokens.recover_wallet(side.bond, side.victim, new, sender=demo.party("issuer").address)
        side.wallet = new
        demo.step(
            chain,
            "new wallet for the victim",
            "done",
            f"the victim's stolen key stays frozen; the KYC provider adds a new wallet {short(new)} to the "
            "same investor and the issuer recovers the bonds to it",
        )


def _subject(message: dict[str, Any]) -> str:
    if "account" in message:
        return short(str(message["account"]))
    if "toBlock" in message:
        return f"to block {message['toBlock']}"
    return ", ".join(f"{k} {v}" for k, v in message.items() if k not in ("reason", "nonce"))


def _intervention_log(demo: Demo, since: int) -> None:
    """The intervention records of this run (from sequence ``since`` on), each with its signers."""
    for record in demo.registry.governance.proposals():
        if record.sequence < since:
            continue
        signed = ", ".join(short(to_checksum_address(s)) for s in record.signatures)
        demo.step(
            "permissioned",
            "intervention log",
            "info",
            f"{record.proposal.kind} #{record.sequence} ({_subject(record.proposal.message)}): "
            f"{record.status}, signed by {signed}",
        )


def _permissionless_response(demo: Demo, side: _Side) -> None:
    chain = "permissionless"
    registry = demo.registry
    assert side.victim is not None
    try:
        demo.registry.governance.propose_freeze(
            side.attacker[1], reason="keys used in the bond theft", chain=chain
        )
    except ImmutableChainError as exc:
        demo.step(chain, "freeze or roll back", "refused", refusal(exc))
    issuer = demo.party("issuer").address
    if demo.variant == "agent-key":
        registry.tokens.revoke_role(side.bond, "enforcement", side.attacker[0], sender=issuer)
        demo.step(
            chain, "revoke the agent", "done", "the issuer revokes the stolen agent key's enforcement role"
        )
    recovered = 0
    for account in side.attacker[1:]:
        held = registry.tokens.balance_of(side.bond, account)
        if held:
            registry.tokens.forced_transfer(side.bond, account, side.victim, held, sender=issuer)
            recovered += held
    demo.step(
        chain,
        "issuer's forcedTransfer",
        "done",
        f"the issuer takes back the {recovered} bonds still at the thief's addresses; the {SOLD} sold to "
        "the market maker were paid for in good faith, and the cash went where no one can reach it",
    )
    side.kept = len(side.honest)
    side.signers = []
    side.recovered_by = "the issuer's forcedTransfer from the thief's addresses"
    side.wallet = side.victim


def _table(demo: Demo, sides: dict[str, _Side]) -> None:
    registry = demo.registry
    report = demo.report
    cells: dict[str, dict[str, str]] = {}
    for chain, side in sides.items():
        assert side.wallet is not None
        held = registry.tokens.balance_of(side.bond, side.wallet)
        loss = STOLEN - held
        report.numbers[chain] = {
            "stolen": STOLEN,
            "recovered": held,
            "loss": loss,
            "honest trades": len(side.honest),
            "honest trades kept": side.kept,
        }
        cells[chain] = {
            "recovered": f"{held}, by {side.recovered_by}",
            "loss": f"{loss} bonds ({loss * PAR // USD:,} dUSD at par)",
            "honest": f"{side.kept} of {len(side.honest)}",
        }
    p, o = cells["permissioned"], cells["permissionless"]
    report.columns = ["", "permissioned", "permissionless"]
    report.row("bonds stolen", STOLEN, STOLEN)
    report.row("bonds back with the victim", p["recovered"], o["recovered"])
    report.row("lost for good", p["loss"], o["loss"])
    report.row("honest trades still there", p["honest"], o["honest"])
    signers = sides["permissioned"].signers
    report.row(
        "who decided",
        f"{len(signers)} of {len(registry.governance.validators())} validators: {', '.join(signers)}",
        "nobody can: the chain has no intervention",
    )
    report.row(
        "what that power could also do",
        "freeze any account and undo any trade a quorum dislikes (demo `censor`)",
        "nothing: no one can reverse anything, for good or for ill",
    )
