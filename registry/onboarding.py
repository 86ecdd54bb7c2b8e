"""KYC for a participant's own wallet on the permissioned chain, in one call (``registry kyc register``).

Only a KYC provider of the chain's identity registry may register wallets. At genesis that
is the chain operator, whose key the node keeps in ``<data dir>/chains/permissioned/
validator-keys.json`` (the registry's admin may grant the role to other accounts).
`register_wallet` signs with that key:

- ``registerInvestor(wallet, country, attributes, expiry)`` for a wallet the registry does
  not know;
- ``updateInvestor(id, country, attributes, expiry)`` for one it knows (a renewal of an
  expired KYC, or new details); a revoked investor stays revoked, and the call says so.

Which chain it reaches: the embedded permissioned chain of the data directory. One process
at a time may open that chain (`registry.chain.holder`); when ``registry node`` already
serves it, the signed transaction goes to that node over JSON-RPC, so the command works
while the workshop's node runs. When another process has the chain open without serving it
(a demo, a script), the command refuses and says which process to stop: opening the
database a second time would fork the chain.
"""

from __future__ import annotations

import calendar
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from registry.chain.errors import ChainInUseError
from registry.errors import ConfigurationError, KycRegistrationError

if TYPE_CHECKING:
    from web3 import Web3

    from registry.settings import Settings

DEFAULT_COUNTRY = 756
"""ISO 3166 numeric country recorded unless told otherwise (756, Switzerland, as for the development
accounts)."""

DEFAULT_VALIDITY = 365 * 24 * 3600
"""A KYC is valid for a year after the chain's current time unless an expiry is given."""

NEVER = 2**40 - 1
"""The largest expiry the registry stores (a uint40 timestamp), for ``--expiry never``."""

ACCREDITED = 0b01
PROFESSIONAL = 0b10

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class KycRegistration:
    """What `register_wallet` did."""

    wallet: str
    investor_id: int
    country: int
    attributes: int
    kyc_expiry: int
    action: Literal["registered", "updated"]
    transaction: str
    via: str
    """Which chain was reached: the embedded chain's folder or the node's URL."""


def parse_expiry(text: str, now: int) -> int:
    """An expiry given as ``YYYY-MM-DD`` (midnight UTC), a Unix timestamp, or ``never``.

    Raises:
        ConfigurationError: none of those, or not after ``now`` (the chain's time).
    """
    if text == "never":
        return NEVER
    if _DATE.match(text):
        try:
            value = calendar.timegm(time.strptime(text, "%Y-%m-%d"))
        except ValueError:
            raise ConfigurationError(f"--expiry {text}: not a calendar date") from None
    elif text.isdigit():
        value = int(text)
    else:
        raise ConfigurationError(
            f"--expiry {text}: give a date (YYYY-MM-DD, midnight UTC), a Unix timestamp, or never"
        )
    if value <= now:
        raise ConfigurationError(
            f"--expiry {text} is not after the chain's current time ({now}); a KYC must be valid"
        )
    if value > NEVER:
        raise ConfigurationError(f"--expiry {text} is beyond what the registry stores; use never")
    return value


def register_wallet(
    settings: Settings,
    wallet: str,
    *,
    country: int = DEFAULT_COUNTRY,
    expiry: str | None = None,
    accredited: bool = False,
    professional: bool = False,
) -> KycRegistration:
    """Have the chain operator register (or update) ``wallet`` in the permissioned chain's identity registry.

    Raises:
        ConfigurationError: a malformed wallet, country or expiry.
        ChainInUseError: another process has the chain open and serves no JSON-RPC.
        KycRegistrationError: the registry refused (the message decodes its error).
        RegistryError: any other chain error (unreachable node, damaged data directory).
    """
    from web3 import Web3

    from registry.chain import connect, holder, operator_account

    if not Web3.is_address(wallet):
        raise ConfigurationError(f"{wallet!r} is not an Ethereum address (0x followed by 40 hex digits)")
    if not 0 < country < 1000:
        raise ConfigurationError(f"--country {country}: give an ISO 3166 numeric code, from 1 to 999")
    folder = settings.chain_dir("permissioned")
    running = holder(folder)
    if running is not None and running.url is None:
        raise ChainInUseError(
            f"the permissioned chain in {folder} is open in another process (pid {running.pid or 'unknown'}) "
            "that serves no JSON-RPC; stop it and run this command again, or serve the chain with "
            "`registry node --chain permissioned`, which this command then sends to"
        )
    handle = (
        connect("permissioned", settings, rpc_url=running.url)
        if running is not None
        else connect("permissioned", settings, embedded=True)
    )
    try:
        operator = operator_account(folder)
        via = f"the node at {running.url}" if running is not None else f"the embedded chain in {folder}"
        attributes = (ACCREDITED if accredited else 0) | (PROFESSIONAL if professional else 0)
        return _register(
            handle.w3,
            operator,
            wallet=Web3.to_checksum_address(wallet),
            country=country,
            expiry_text=expiry,
            attributes=attributes,
            via=via,
        )
    finally:
        handle.close()


def _register(
    w3: Web3, operator: Any, *, wallet: str, country: int, expiry_text: str | None, attributes: int, via: str
) -> KycRegistration:
    from web3.exceptions import ContractCustomError, ContractLogicError, TimeExhausted, Web3RPCError
    from web3.types import TxParams, Wei

    from registry.artifacts import load_artifact
    from registry.chain import IDENTITY_REGISTRY_ADDRESS
    from registry.reverts import decode_revert

    abi = load_artifact("IdentityRegistry").abi
    registry = w3.eth.contract(address=w3.to_checksum_address(bytes(IDENTITY_REGISTRY_ADDRESS)), abi=abi)
    now = int(w3.eth.get_block("latest")["timestamp"])
    expiry = parse_expiry(expiry_text, now) if expiry_text is not None else now + DEFAULT_VALIDITY
    investor_id = int(registry.functions.investorOf(wallet).call())
    if investor_id:
        call = registry.functions.updateInvestor(investor_id, country, attributes, expiry)
        action: Literal["registered", "updated"] = "updated"
    else:
        call = registry.functions.registerInvestor(wallet, country, attributes, expiry)
        action = "registered"
    try:
        gas = call.estimate_gas({"from": operator.address})
    except (ContractCustomError, ContractLogicError) as exc:
        decoded = decode_revert(abi, exc.data if isinstance(exc.data, str) else None)
        hint = ""
        if decoded is not None and decoded.name == "IdentityRegistryInvestorRevoked":
            hint = "; a revoked investor stays revoked: register another wallet"
        verb = "update" if investor_id else "register"
        raise KycRegistrationError(
            f"the identity registry refuses to {verb} {wallet}: {decoded or exc}{hint}"
        ) from exc
    tip = 10**9
    params: TxParams = {
        "from": operator.address,
        "nonce": w3.eth.get_transaction_count(operator.address, "pending"),
        "gas": gas,
        "maxPriorityFeePerGas": Wei(tip),
        "maxFeePerGas": Wei(2 * int(w3.eth.get_block("latest")["baseFeePerGas"]) + tip),
    }
    tx = call.build_transaction(params)
    try:
        tx_hash = w3.eth.send_raw_transaction(operator.sign_transaction(tx).raw_transaction)
    except Web3RPCError as exc:
        # E.g. another registration took the operator's nonce at the same moment: nothing was done.
        raise KycRegistrationError(
            f"the chain refused the registration of {wallet}: {exc}; run the command again"
        ) from exc
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    except TimeExhausted as exc:
        raise KycRegistrationError(
            f"the registration of {wallet} ({tx_hash.to_0x_hex()}) was not sealed within 120 s; it may "
            "still be: run the command again, which updates a wallet already registered"
        ) from exc
    if receipt["status"] != 1:
        raise KycRegistrationError(
            f"the registration of {wallet} failed in transaction {tx_hash.to_0x_hex()}"
        )
    return KycRegistration(
        wallet=wallet,
        investor_id=int(registry.functions.investorOf(wallet).call()),
        country=country,
        attributes=attributes,
        kyc_expiry=expiry,
        action=action,
        transaction=tx_hash.to_0x_hex(),
        via=via,
    )
