"""Demo `cost`: what each chain costs, measured in the same run on this machine: transfers per second,
gas per transfer of a kyc-mode and of an open-mode bond, time to a sealed block, time to finality, and
what onboarding one investor takes (steps and gas).

Finality. Permissioned: a block is final once sealed, since it carries the seals of 2/3 of the validators
and there is no fork choice (only a quorum's intervention can undo it, see `hack` and `censor`).
Permissionless: a client waits for a confirmation depth; this demo uses 64 blocks, the two epochs after
which Ethereum's proof of stake finalises a block (about 12.8 minutes at 12-second slots). The embedded
open chain seals a block whenever there is work, so the demo times 64 blocks sealed back to back: the
least that depth can take here, not what a public network takes.
"""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from web3.types import RPCEndpoint

from registry.demos.base import SWISS, Demo, bond_terms, short
from registry.demos.report import measured

NAME = "cost"
SUMMARY = (
    "transfers per second, gas per transfer (kyc vs open), time to a sealed block and to finality, onboarding"
)
SENDERS = 4
CONFIRMATIONS = 64
"""The open chain's confirmation depth (see the module docstring)."""
LATENCY_SAMPLES = 5


def run(demo: Demo) -> None:
    """Run the scenario (see the module docstring)."""
    demo.side_by_side(
        _on,
        [
            ("transfers per second (this machine)", "tps"),
            ("gas per transfer, kyc mode", "kyc"),
            ("gas per transfer, open mode", "open"),
            ("time to a sealed block", "sealed"),
            ("time to finality", "final"),
            ("onboarding an investor", "onboarding"),
        ],
    )


def _on(demo: Demo, chain: str) -> dict[str, str]:
    """The scenario on ``chain``; returns the cells of its result column."""
    registry = demo.registry
    transfers = max(2 * demo.holders, 2 * SENDERS)
    issuer = demo.ready("issuer", chain)
    cash = demo.issue_cash(chain, issuer)
    now = demo.now(chain)
    bonds = {
        mode: registry.bonds.issue(chain, mode, bond_terms(cash, now), issuer=issuer).asset.asset_id
        for mode in ("kyc", "open")
    }
    senders = [demo.ready(f"sender {i}", chain) for i in range(SENDERS)]
    receiver = demo.ready("receiver", chain)
    if chain == "permissionless":
        # Its kyc-mode bond checks the registry the registry deployed there: register the parties.
        for wallet in [*senders, receiver]:
            registry.investors.register(chain, wallet, country=SWISS, expiry=now + 3650 * 86_400)
    for bond in bonds.values():
        registry.tokens.batch_mint(
            bond, [(s, 10 * transfers) for s in senders] + [(receiver, 1)], sender=issuer
        )
    demo.step(chain, "setup", "done", f"a kyc-mode and an open-mode bond; {SENDERS} senders hold both")

    gas: dict[str, int] = {}
    for mode, bond in bonds.items():
        gas[mode] = registry.tokens.transfer(bond, receiver, 1, sender=senders[0]).gas_used
    demo.step(
        chain,
        "gas per transfer",
        "info",
        f"kyc mode {gas['kyc']:,} gas, open mode {gas['open']:,} gas (the kyc token asks the identity "
        "registry and checks its rules)",
    )

    # Each chain's own kind of asset: a kyc-mode bond on the permissioned chain, an open one on the other.
    natural_mode = "kyc" if chain == "permissioned" else "open"
    natural = bonds[natural_mode]
    per_sender = transfers // SENDERS

    def burst(sender: str, bond: str = natural) -> None:
        for _ in range(per_sender):
            registry.tokens.transfer(bond, receiver, 1, sender=sender)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=SENDERS) as pool:
        for future in [pool.submit(burst, s) for s in senders]:
            future.result()
    elapsed = time.perf_counter() - start
    tps = per_sender * SENDERS / elapsed
    demo.report.timings[f"{chain}.transfers_per_second"] = round(tps, 2)
    demo.step(
        chain,
        "throughput",
        "info",
        f"{per_sender * SENDERS} transfers of the {natural_mode}-mode bond "
        f"from {SENDERS} senders at once: {measured(f'{chain}.transfers_per_second')} per second",
    )

    latencies = []
    for _ in range(LATENCY_SAMPLES):
        start = time.perf_counter()
        registry.tokens.transfer(natural, receiver, 1, sender=senders[0])
        latencies.append(time.perf_counter() - start)
    sealed = statistics.median(latencies)
    demo.report.timings[f"{chain}.sealed_block_seconds"] = round(sealed, 4)
    demo.step(
        chain,
        "time to a sealed block",
        "info",
        f"median of {LATENCY_SAMPLES}: {measured(f'{chain}.sealed_block_seconds', 'ms')}",
    )

    if chain == "permissioned":
        final = sealed
        finality = (
            f"{measured(f'{chain}.finality_seconds', 'ms')}: one sealed block (its seals make it final)"
        )
    else:
        w3 = registry.chain(chain).w3
        start = time.perf_counter()
        for _ in range(CONFIRMATIONS):
            w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        final = sealed + time.perf_counter() - start
        finality = (
            f"{measured(f'{chain}.finality_seconds', '.2f')} s here for {CONFIRMATIONS} confirmations "
            "(~12.8 min on Ethereum)"
        )
    demo.report.timings[f"{chain}.finality_seconds"] = round(final, 4)
    demo.step(chain, "time to finality", "info", finality)

    newcomer = demo.party("newcomer").address
    funding = demo.fund_gas(chain, newcomer)
    registration = registry.investors.register(chain, newcomer, country=SWISS)
    kyc_gas = registration.outcomes[0].gas_used
    if chain == "permissioned":
        onboarding = f"2 steps: KYC registration ({kyc_gas:,} gas), ether for gas ({funding.gas_used:,} gas)"
    else:
        onboarding = (
            f"1 step: ether for gas ({funding.gas_used:,} gas); a kyc-mode token also needs a "
            f"registration ({kyc_gas:,} gas)"
        )
    demo.step(chain, "onboarding", "done", f"investor {short(newcomer)}: {onboarding}")
    demo.report.numbers[chain] = {
        "gas per transfer kyc": gas["kyc"],
        "gas per transfer open": gas["open"],
        "onboarding gas": kyc_gas + funding.gas_used if chain == "permissioned" else funding.gas_used,
        "transfers measured": per_sender * SENDERS,
    }
    return {
        "tps": f"{measured(f'{chain}.transfers_per_second')} ({per_sender * SENDERS} {natural_mode}-mode "
        f"transfers, {SENDERS} senders)",
        "kyc": f"{gas['kyc']:,}",
        "open": f"{gas['open']:,}",
        "sealed": measured(f"{chain}.sealed_block_seconds", "ms"),
        "final": finality,
        "onboarding": onboarding,
    }
