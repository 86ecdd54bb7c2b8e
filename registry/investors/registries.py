"""Which identity registry each chain's kyc-mode assets check, and who runs it.

- **Permissioned chain**: the registry deployed at genesis (``0x1D00…0001``), which the chain itself
  also consults for every sender. Its KYC provider is the chain operator (on an embedded chain custody
  holds the operator's key); on an external node the caller names the KYC provider's key.
- **Permissionless chain**: none at first. The first kyc-mode asset (or the first onboarding) deploys
  one, administered by the registry's own KYC-provider key, ``kyc-provider-permissionless`` in the
  keystore (created then, and funded by the faucet on an embedded chain), and catalogues it with the
  label `REGISTRY_LABEL`; every later kyc-mode asset of that chain uses the same one.

Why a key of its own rather than the issuer's: whoever administers the shared registry decides who is
verified for every kyc-mode asset of the chain, so it must not be one issuer.
"""

from __future__ import annotations

import logging
import threading

from eth_typing import ChecksumAddress
from eth_utils.address import to_checksum_address

from registry.artifacts import load_artifact
from registry.context import GENESIS_REGISTRY, ChainAccess, ServiceContext
from registry.custody.transactions import PreparedTransaction
from registry.errors import ConfigurationError, InvalidInputError, KeyNotFoundError
from registry.index import catalogue
from registry.keys import KeyService

logger = logging.getLogger(__name__)

REGISTRY_LABEL = "registry identity registry"
"""The catalogue label of the identity registry the registry deployed on a chain."""

PROVIDER_LABEL = "kyc-provider-{chain}"
"""Keystore label of the registry's KYC-provider key on a chain without a genesis registry."""


class IdentityRegistries:
    """The identity registry of each chain (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, keys: KeyService) -> None:
        self._ctx = ctx
        self._keys = keys
        self._lock = threading.Lock()

    def address(self, chain: str) -> ChecksumAddress | None:
        """The identity registry ``chain``'s kyc-mode assets use, None if it has none yet."""
        access = self._ctx.chain(chain)
        if access.name == "permissioned":
            return GENESIS_REGISTRY if access.has_code(GENESIS_REGISTRY) else None
        with self._ctx.db.read() as session:
            for known in catalogue.list_identity_registries(session, chain=access.name):
                if known.label == REGISTRY_LABEL:
                    return to_checksum_address(known.address)
        return None

    def require(self, chain: str) -> ChecksumAddress:
        """`address`, or a clear error when the chain has no registry yet.

        Raises:
            InvalidInputError: there is none (onboard through `ensure`, or issue a kyc-mode asset first).
        """
        found = self.address(chain)
        if found is None:
            raise InvalidInputError(
                "chain",
                f"the {chain} chain has no identity registry yet; the first kyc-mode asset (or "
                "InvestorService.ensure_registry) deploys one",
            )
        return found

    def ensure(self, chain: str) -> ChecksumAddress:
        """The identity registry of ``chain``, deploying it on the permissionless chain when there is none.

        Raises:
            ConfigurationError: the permissioned chain has no registry at the genesis address.
            PassphraseMissingError: the KYC-provider key must be created and there is no passphrase.
            TransactionFailedError subclasses: the deployment failed (e.g. the key has no gas on an
                external node: fund it).
        """
        access = self._ctx.chain(chain)
        with self._lock:
            found = self.address(chain)
            if found is not None:
                return found
            if access.name == "permissioned":
                raise ConfigurationError(
                    f"the permissioned chain ({access.handle.announcement}) has no identity registry at "
                    f"{GENESIS_REGISTRY}: kyc-mode assets need the chain's own registry there"
                )
            return self._deploy(access)

    def provider(self, chain: str, *, create: bool = False) -> ChecksumAddress | None:
        """The key that registers investors on ``chain`` by default: the operator of the embedded
        permissioned chain, or the registry's KYC-provider key of a permissionless chain (created and
        provisioned when ``create``). None when there is none (an external permissioned node)."""
        access = self._ctx.chain(chain)
        if access.name == "permissioned":
            return self._keys.operator(access)
        keystore = self._ctx.keystore
        label = PROVIDER_LABEL.format(chain=access.name)
        if keystore is not None:
            try:
                return keystore.find(label).address
            except KeyNotFoundError:
                pass
        if not create:
            return None
        made = self._keys.create(label, chains=[access.name])
        for note in made.chains[access.name].notes:
            logger.warning("%s", note)
        return made.address

    def _deploy(self, access: ChainAccess) -> ChecksumAddress:
        admin = self.provider(access.name, create=True)
        assert admin is not None  # created above
        artifact = load_artifact("IdentityRegistry")
        factory = access.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        outcome = self._ctx.send(
            PreparedTransaction(
                chain=access.name,
                sender=admin,
                to=None,
                data=factory.constructor(admin).data_in_transaction,
                description=f"deploy the identity registry of the {access.name} chain",
            )
        )
        assert outcome.contract_address is not None  # a successful creation
        with self._ctx.db.write() as session:
            catalogue.add_identity_registry(
                session,
                chain=access.name,
                chain_id=access.handle.chain_id,
                address=outcome.contract_address,
                from_block=outcome.block_number,
                label=REGISTRY_LABEL,
            )
        logger.info(
            "deployed the identity registry of the %s chain at %s (KYC provider %s)",
            access.name,
            outcome.contract_address,
            admin,
        )
        return outcome.contract_address
