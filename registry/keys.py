"""Custodial keys made ready to send on a chain: created in the keystore, funded, KYC'd at the chain.

A new key can send nothing yet: it has no ether for gas and, on the permissioned chain, the chain
refuses any sender its identity registry does not verify. On an **embedded** chain `KeyService`
does both: the chain's faucet (development account 0) sends it `GAS_FUNDING`, and on the permissioned
chain the chain operator registers it in the genesis identity registry (country `SERVICE_KEY_COUNTRY`,
no attributes, no expiry). A key so registered is a verified "investor" of that registry like the
development accounts are: it may also hold kyc-mode tokens, which is what the chain-level KYC means.

On an **external node** neither is possible from here; `Provisioning.notes` says what the key needs
instead: ether sent from a funded account of that network and, on a permissioned network, a
registration by the network's KYC provider (for a ``registry node``, ``registry kyc register``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.chain.accounts import ETHER
from registry.chain.names import CHAIN_NAMES, ChainName
from registry.context import GENESIS_REGISTRY, ChainAccess, ServiceContext, check_address
from registry.custody.keystore import KeyInfo
from registry.custody.transactions import PreparedTransaction
from registry.errors import ConfigurationError

logger = logging.getLogger(__name__)

GAS_FUNDING = 100 * ETHER
"""Ether the faucet of an embedded chain sends a new key (gas for thousands of transactions)."""

LOW_BALANCE = GAS_FUNDING // 10
"""Below this a key is funded again."""

SERVICE_KEY_COUNTRY = 756
"""Country recorded for a key registered at the permissioned chain's level (as for the development
accounts)."""

NEVER_EXPIRES = 2**40 - 1
"""KYC expiry of a key registered at the chain's level."""


@dataclass(frozen=True)
class Provisioning:
    """What a key needs to send on one chain, and what was done about it."""

    chain: ChainName
    address: ChecksumAddress
    balance: int
    """Its balance after provisioning, in wei."""
    funded: int = 0
    """Wei the faucet sent it now."""
    chain_kyc: bool | None = None
    """Verified by the chain's identity registry (None: the chain has none, e.g. permissionless)."""
    registered: bool = False
    """True if it was registered at the chain's level now."""
    notes: tuple[str, ...] = ()
    """What it still needs, in sentences (on an external node)."""

    @property
    def ready(self) -> bool:
        """True when the key can pay for gas and the chain lets it send."""
        return self.balance > 0 and self.chain_kyc is not False


@dataclass(frozen=True)
class ProvisionedKey:
    """A key of the keystore and its state on each chain."""

    address: ChecksumAddress
    label: str
    chains: dict[ChainName, Provisioning] = field(default_factory=dict)


class KeyService:
    """Creates custodial keys and makes them ready to send (see the module docstring)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self._ctx = ctx

    def create(self, label: str, *, chains: Sequence[str] | None = None) -> ProvisionedKey:
        """Create a key labelled ``label`` in the keystore and provision it on ``chains`` (default: every
        open chain).

        Raises:
            ConfigurationError: the registry has no keystore.
            PassphraseMissingError, KeyExistsError, InvalidInputError: see the keystore.
        """
        info = self._keystore_create(label)
        return self._provisioned(info, chains)

    def provision_key(self, address: str, *, chains: Sequence[str] | None = None) -> ProvisionedKey:
        """Provision an existing keystore key on ``chains`` (default: every open chain)."""
        keystore = self._ctx.keystore
        if keystore is None:
            raise ConfigurationError("this registry has no keystore; set REGISTRY_DATA_DIR")
        return self._provisioned(keystore.get(check_address(address, "address")), chains)

    def _keystore_create(self, label: str) -> KeyInfo:
        keystore = self._ctx.keystore
        if keystore is None:
            raise ConfigurationError("this registry has no keystore; set REGISTRY_DATA_DIR")
        return keystore.create(label)

    def _provisioned(self, info: KeyInfo, chains: Sequence[str] | None) -> ProvisionedKey:
        names = list(chains) if chains is not None else [n for n in CHAIN_NAMES if n in self._ctx.chains]
        done = {self._ctx.chain(name).name: self.provision(info.address, name) for name in names}
        return ProvisionedKey(address=info.address, label=info.label, chains=done)

    def provision(self, address: str, chain: str) -> Provisioning:
        """Make ``address`` able to send on ``chain``: KYC at the chain's level (permissioned) and gas.

        On an embedded chain both are done (the faucet's and the operator's transactions); on an external
        node nothing is sent and ``notes`` says what is missing.
        """
        account = check_address(address, "address")
        access = self._ctx.chain(chain)
        notes: list[str] = []
        verified: bool | None = None
        registered = False
        if access.name == "permissioned":
            verified, registered = self._chain_kyc(access, account, notes)
        balance = int(access.w3.eth.get_balance(account))
        funded = 0
        faucet = self.faucet(access)
        if balance < LOW_BALANCE:
            if faucet is not None:
                self._ctx.send(
                    PreparedTransaction(
                        chain=access.name,
                        sender=faucet,
                        to=account,
                        data=b"",
                        value=GAS_FUNDING,
                        description=f"fund {account} with gas from the faucet",
                    )
                )
                funded = GAS_FUNDING
                balance = int(access.w3.eth.get_balance(account))
            elif balance == 0:
                notes.append(
                    f"{account} has no ether on the {access.name} chain ({access.handle.announcement}): "
                    "send it "
                    "some for gas from a funded account of that network"
                )
        return Provisioning(
            chain=access.name,
            address=account,
            balance=balance,
            funded=funded,
            chain_kyc=verified,
            registered=registered,
            notes=tuple(notes),
        )

    def _chain_kyc(
        self, access: ChainAccess, account: ChecksumAddress, notes: list[str]
    ) -> tuple[bool, bool]:
        """Register ``account`` in the permissioned chain's registry if it is not verified (embedded)."""
        if not access.has_code(GENESIS_REGISTRY):
            notes.append(
                f"the permissioned chain ({access.handle.announcement}) has no identity registry at "
                f"{GENESIS_REGISTRY}: its own permissioning decides who may send"
            )
            return True, False
        registry = access.contract("IdentityRegistry", GENESIS_REGISTRY)
        if bool(registry.functions.isVerified(account).call()):
            return True, False
        operator = self.operator(access)
        if operator is None:
            notes.append(
                f"{account} is not verified by the permissioned chain's identity registry, so the chain will "
                "refuse its transactions: have the network's KYC provider register it (for a `registry "
                "node`, "
                f"`registry kyc register --chain permissioned {account}`)"
            )
            return False, False
        investor = int(registry.functions.investorOf(account).call())
        if investor:
            call = registry.encode_abi("updateInvestor", [investor, SERVICE_KEY_COUNTRY, 0, NEVER_EXPIRES])
            what = f"renew the chain-level KYC of {account}"
        else:
            call = registry.encode_abi("registerInvestor", [account, SERVICE_KEY_COUNTRY, 0, NEVER_EXPIRES])
            what = f"register {account} at the permissioned chain's level"
        self._ctx.send(
            PreparedTransaction(
                chain=access.name, sender=operator, to=registry.address, data=call, description=what
            )
        )
        logger.info("%s", what)
        return True, True

    @staticmethod
    def faucet(access: ChainAccess) -> ChecksumAddress | None:
        """The faucet of an embedded chain (development account 0); None on an external node."""
        embedded = access.handle.embedded
        if embedded is None or not embedded.dev_accounts:
            return None
        return to_checksum_address(embedded.dev_accounts[0].address)

    @staticmethod
    def operator(access: ChainAccess) -> ChecksumAddress | None:
        """The operator of the embedded permissioned chain (admin and KYC provider of its registry)."""
        embedded = access.handle.embedded
        keyring = getattr(embedded.mode, "keyring", None) if embedded is not None else None
        if keyring is None:
            return None
        return to_checksum_address(keyring.operator.address)
