"""Validator votes and interventions on the permissioned chain, for the services above.

A thin layer over the chain's own desks (`ChainHandle.interventions`, `ChainHandle.validator_votes`):
it names the chain, keeps proposal ids as 0x-hex text (what an API passes around), and lets the chain's
errors through unchanged, with their sentences: `ImmutableChainError` on the permissionless chain,
`NotSupportedByBackendError` on an external node, the proposal errors (unknown proposal, not a
validator, quorum not reached, closed) of `registry.chain.consensus.proposals`.

Who may do what is the chain's rule, checked by the desks: a proposal counts the signatures of current
validators only, an intervention needs ceil(2N/3) of them, a validator vote more than half. The desks
sign with the validator keys the node holds (`signers_available`); a validator whose key lives
elsewhere signs the proposal's typed data itself and passes the signature (`add_signature`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from eth_utils.address import to_checksum_address
from hexbytes import HexBytes

from registry.chain.consensus.interventions import RollbackReport
from registry.chain.consensus.proposals import ProposalRecord, ProposalStatus, ValidatorChange
from registry.context import ServiceContext
from registry.errors import InvalidInputError

ProposalId = str | bytes
"""A proposal id: 32 bytes, or their 0x-hex."""

InterventionListener = Callable[[str, ProposalRecord, Sequence[str]], None]
"""Told of an intervention proposed, signed or executed: the chain, the record, the validators whose
signatures count (the activity stream listens)."""


def _id(proposal_id: ProposalId) -> bytes:
    try:
        raw = bytes(HexBytes(proposal_id))
    except (ValueError, TypeError):
        raise InvalidInputError(
            "proposal_id", f"a proposal id is 32 bytes as 0x-hex; got {proposal_id!r}"
        ) from None
    if len(raw) != 32:
        raise InvalidInputError("proposal_id", f"a proposal id is 32 bytes as 0x-hex; got {len(raw)} bytes")
    return raw


class GovernanceService:
    """Interventions and validator votes (see the module docstring)."""

    def __init__(self, ctx: ServiceContext, *, on_intervention: InterventionListener | None = None) -> None:
        self._ctx = ctx
        self._on_intervention = on_intervention

    def _told(self, chain: str, record: ProposalRecord) -> ProposalRecord:
        """Tell the listener of ``record``'s new state; return it."""
        if self._on_intervention is not None:
            signers = self._desk(chain).signers(bytes(record.id))
            self._on_intervention(self._ctx.chain(chain).name, record, list(signers))
        return record

    def _desk(self, chain: str) -> Any:
        return self._ctx.chain(chain).handle.interventions()

    def _votes(self, chain: str) -> Any:
        return self._ctx.chain(chain).handle.validator_votes()

    # -- interventions ---------------------------------------------------------------------------

    def validators(self, chain: str = "permissioned") -> list[str]:
        """The current validators."""
        return list(self._desk(chain).validators())

    def signers_available(self, chain: str = "permissioned") -> list[str]:
        """The validators whose keys this node holds (it can sign for them)."""
        return list(self._desk(chain).signers_available())

    def threshold(self, chain: str = "permissioned") -> int:
        """Signatures an intervention needs now: ceil(2N/3) of the current validators."""
        return int(self._desk(chain).threshold())

    def frozen_accounts(self, chain: str = "permissioned") -> list[dict[str, Any]]:
        """Accounts frozen chain-wide now: ``account``, ``proposal_id``, ``since_block``, ``reason``."""
        return [
            {
                "account": to_checksum_address(bytes(frozen.account)),
                "proposal_id": "0x" + bytes(frozen.proposal_id).hex(),
                "since_block": frozen.since_block,
                "reason": frozen.reason,
            }
            for frozen in self._desk(chain).frozen()
        ]

    def propose_freeze(
        self, account: str, *, reason: str = "", chain: str = "permissioned"
    ) -> ProposalRecord:
        """Open a proposal to freeze ``account`` chain-wide (no transaction of it is accepted)."""
        return self._told(chain, self._desk(chain).propose_freeze(account, reason=_reason(reason)))

    def propose_unfreeze(
        self, account: str, *, reason: str = "", chain: str = "permissioned"
    ) -> ProposalRecord:
        """Open a proposal to lift the chain-wide freeze of ``account``."""
        return self._told(chain, self._desk(chain).propose_unfreeze(account, reason=_reason(reason)))

    def propose_rollback(
        self,
        to_block: int,
        *,
        exclude_transactions: Sequence[str] = (),
        exclude_senders: Sequence[str] = (),
        reason: str = "",
        chain: str = "permissioned",
    ) -> ProposalRecord:
        """Open a proposal to rewind to ``to_block`` and replay the later transactions except the excluded."""
        if not isinstance(to_block, int) or isinstance(to_block, bool) or to_block < 0:
            raise InvalidInputError("to_block", f"a block number is an integer >= 0; got {to_block!r}")
        record = self._desk(chain).propose_rollback(
            to_block,
            exclude_transactions=list(exclude_transactions),
            exclude_senders=list(exclude_senders),
            reason=_reason(reason),
        )
        return self._told(chain, record)

    def sign(self, proposal_id: ProposalId, validator: str, *, chain: str = "permissioned") -> ProposalRecord:
        """Sign an intervention with the key the node holds for ``validator``; it executes at quorum."""
        return self._told(chain, self._desk(chain).sign(_id(proposal_id), validator))

    def add_signature(
        self, proposal_id: ProposalId, validator: str, signature: str | bytes, *, chain: str = "permissioned"
    ) -> ProposalRecord:
        """Add a signature ``validator`` made elsewhere (over the proposal's EIP-712 typed data)."""
        try:
            raw = bytes(HexBytes(signature))
        except (ValueError, TypeError):
            raise InvalidInputError("signature", "a signature is 65 bytes as 0x-hex") from None
        return self._told(chain, self._desk(chain).add_signature(_id(proposal_id), validator, raw))

    def execute(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> ProposalRecord:
        """Carry out an intervention that has its quorum (again, if a crash cut it short)."""
        return self._told(chain, self._desk(chain).execute(_id(proposal_id)))

    def proposal(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> ProposalRecord:
        """An intervention proposal with its signatures, status and outcome."""
        return self._desk(chain).get(_id(proposal_id))  # type: ignore[no-any-return]

    def proposals(self, *, status: str | None = None, chain: str = "permissioned") -> list[ProposalRecord]:
        """Every intervention proposal, oldest first (only those with ``status`` when given)."""
        return list(self._desk(chain).proposals(_status(status)))

    def signers(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> list[str]:
        """The current validators whose signatures on the intervention count."""
        return list(self._desk(chain).signers(_id(proposal_id)))

    def rollback_report(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> RollbackReport:
        """What an executed rollback dropped, replayed, excluded and failed to replay."""
        return self._desk(chain).report(_id(proposal_id))  # type: ignore[no-any-return]

    # -- validator votes -------------------------------------------------------------------------

    def propose_validator_change(
        self, action: str, validator: str, *, reason: str = "", chain: str = "permissioned"
    ) -> ProposalRecord:
        """Open a vote to ``add`` or ``remove`` ``validator``; it takes effect at a block once a majority of
        the current validators signed."""
        if action not in ("add", "remove"):
            raise InvalidInputError("action", f"a validator vote adds or removes; got {action!r}")
        return self._votes(chain).propose(action, validator, reason=_reason(reason))  # type: ignore[no-any-return]

    def sign_vote(
        self, proposal_id: ProposalId, validator: str, *, chain: str = "permissioned"
    ) -> ProposalRecord:
        """Sign a validator vote with the key the node holds for ``validator``."""
        return self._votes(chain).sign(_id(proposal_id), validator)  # type: ignore[no-any-return]

    def add_vote_signature(
        self, proposal_id: ProposalId, validator: str, signature: str | bytes, *, chain: str = "permissioned"
    ) -> ProposalRecord:
        """Add a vote signature ``validator`` made elsewhere (over the vote's EIP-712 typed data)."""
        try:
            raw = bytes(HexBytes(signature))
        except (ValueError, TypeError):
            raise InvalidInputError("signature", "a signature is 65 bytes as 0x-hex") from None
        return self._votes(chain).add_signature(_id(proposal_id), validator, raw)  # type: ignore[no-any-return]

    def vote(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> ProposalRecord:
        """A validator vote with its signatures and status."""
        return self._votes(chain).get(_id(proposal_id))  # type: ignore[no-any-return]

    def vote_signers(self, proposal_id: ProposalId, *, chain: str = "permissioned") -> list[str]:
        """The current validators whose signatures on the vote count."""
        return list(self._votes(chain).signers(_id(proposal_id)))

    def vote_threshold(self, chain: str = "permissioned") -> int:
        """Signatures a validator vote needs now: a majority of the current validators."""
        return int(self._votes(chain).threshold())

    def votes(self, *, status: str | None = None, chain: str = "permissioned") -> list[ProposalRecord]:
        """Every validator vote, oldest first."""
        return list(self._votes(chain).proposals(_status(status)))

    def validator_history(self, *, chain: str = "permissioned") -> list[ValidatorChange]:
        """Validator changes in the order they took effect (block, validator, action, voters)."""
        return list(self._votes(chain).history())


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or len(reason) > 500 or "\n" in reason:
        raise InvalidInputError("reason", "a reason is one line of at most 500 characters")
    return reason


def _status(status: str | None) -> ProposalStatus | None:
    if status is None:
        return None
    try:
        return ProposalStatus(status)
    except ValueError:
        known = ", ".join(s.value for s in ProposalStatus)
        raise InvalidInputError("status", f"a proposal status is one of {known}; got {status!r}") from None
