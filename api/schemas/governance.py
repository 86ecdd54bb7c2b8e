"""Validators, validator votes and interventions of the permissioned chain."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from eth_utils.address import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, model_validator

from api.schemas.common import Address, ChainName, Page, TxHash
from registry.chain.consensus.interventions import RollbackReport
from registry.chain.consensus.proposals import ProposalRecord, ValidatorChange

ProposalIdText = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{64}$",
        description="A proposal's id: the EIP-712 digest validators sign, 0x and 64 hex digits.",
        examples=["0x" + "5c" * 32],
    ),
]

Signature = Annotated[
    str,
    Field(
        pattern=r"^0x[0-9a-fA-F]{130}$",
        description="A validator's 65-byte signature over the proposal's `typed_data` "
        "(`eth_signTypedData_v4`), 0x-hex.",
        examples=["0x" + "ab" * 65],
    ),
]

Reason = Annotated[
    str,
    Field(
        min_length=1,
        max_length=500,
        pattern=r"^[^\n\r]*$",
        description="Why, in one line (at most 500 characters): it is signed with the proposal and kept.",
        examples=["bridge exploit in blocks 41-43"],
    ),
]

_ID = "0x" + "5c" * 32
_VALIDATOR = "0x1f4c6E5a0e4a5D8B1fE0b3C7D9e6A2b4C8d0E1f2"
_OTHER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _typed_data_field() -> Any:
    return Field(
        description="The EIP-712 document a validator signs (`eth_signTypedData_v4`) to approve it with a "
        "key this node does not hold; post the signature with the validator's address."
    )


# -- validators -------------------------------------------------------------------------------------


class ValidatorChangePublic(BaseModel):
    """One change of the validator set, at the block where it took effect."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "block_number": 12,
                    "block_hash": "0x" + "7a" * 32,
                    "action": "add",
                    "validator": _OTHER,
                    "voters": [_VALIDATOR],
                    "vote_id": _ID,
                    "validators_after": [_VALIDATOR, _OTHER],
                }
            ]
        }
    )

    block_number: int = Field(ge=0, description="The first block sealed by the new set.")
    block_hash: TxHash = Field(description="That block's hash.")
    action: Literal["add", "remove"] = Field(description="Whether the validator joined or left.")
    validator: Address = Field(description="The validator added or removed.")
    voters: list[Address] = Field(description="The validators whose signatures carried the vote.")
    vote_id: ProposalIdText = Field(description="The vote that decided it.")
    validators_after: list[Address] = Field(description="The validator set from that block on.")

    @classmethod
    def of(cls, change: ValidatorChange) -> ValidatorChangePublic:
        """The public form of a recorded change."""
        return cls(
            block_number=change.block_number,
            block_hash=_hex(change.block_hash),
            action="add" if change.action == "add" else "remove",
            validator=to_checksum_address(change.validator),
            voters=[to_checksum_address(v) for v in change.voters],
            vote_id=_hex(change.proposal_id),
            validators_after=[to_checksum_address(v) for v in change.validators_after],
        )


class ValidatorsPublic(BaseModel):
    """The permissioned chain's validators now, the quorums, and every change so far."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "chain": "permissioned",
                    "current": [_VALIDATOR, _OTHER],
                    "threshold": 2,
                    "vote_threshold": 2,
                    "signers_available": [_VALIDATOR, _OTHER],
                    "history": [],
                }
            ]
        }
    )

    chain: ChainName = Field(description="The chain (only the permissioned one has validators).")
    current: list[Address] = Field(description="The current validators, who seal blocks and sign.")
    threshold: int = Field(ge=1, description="Signatures an intervention needs now: ceil(2N/3).")
    vote_threshold: int = Field(ge=1, description="Signatures a validator vote needs now: a majority.")
    signers_available: list[Address] = Field(
        description="The validators whose keys this node holds: an admin may sign as any of them."
    )
    history: list[ValidatorChangePublic] = Field(description="Changes of the set, oldest first.")


class FrozenAccountPublic(BaseModel):
    """An account frozen chain-wide by an intervention."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"account": _OTHER, "intervention_id": _ID, "since_block": 17, "reason": "stolen key"}
            ]
        }
    )

    account: Address = Field(description="The account; the chain refuses its transactions.")
    intervention_id: ProposalIdText = Field(description="The freeze that froze it.")
    since_block: int = Field(ge=0, description="The first block at which the freeze applied.")
    reason: str = Field(description="The reason the validators signed.")


class FrozenAccountsPublic(Page[FrozenAccountPublic]):
    """Accounts frozen chain-wide now."""


# -- proposals ---------------------------------------------------------------------------------------


class _ProposalPublic(BaseModel):
    id: ProposalIdText = Field(description="The proposal's id (its EIP-712 digest).")
    chain: ChainName = Field(description="The chain it governs.")
    sequence: int = Field(ge=0, description="Order of creation on the chain.")
    status: Literal["open", "approved", "executed", "failed"] = Field(
        description="`open`: collecting signatures; `approved`: has its quorum and is being carried out "
        "(a vote takes effect at the next block); `executed`: done; `failed`: had its quorum but could "
        "not be carried out (`error` says why), nothing changed."
    )
    reason: str = Field(description="The reason it was proposed for.")
    created_at_block: int = Field(ge=0, description="The head when it was proposed.")
    executed_at_block: int | None = Field(
        description="Where it took effect (a vote, a freeze) or the new head (a rollback); null until then."
    )
    signers: list[Address] = Field(description="Current validators whose signatures count.")
    threshold: int = Field(ge=1, description="Signatures it needs now.")
    error: str | None = Field(description="Why it failed, when it did.")
    typed_data: dict[str, Any] = _typed_data_field()


def _base(chain: str, record: ProposalRecord, signers: list[str], threshold: int) -> dict[str, Any]:
    outcome = record.outcome
    return {
        "id": _hex(record.id),
        "chain": chain,
        "sequence": record.sequence,
        "status": str(record.status),
        "reason": str(record.proposal.message.get("reason", "")),
        "created_at_block": record.created_at_block,
        "executed_at_block": record.executed_at_block,
        "signers": signers,
        "threshold": threshold,
        "error": outcome.get("error") if isinstance(outcome.get("error"), str) else None,
        "typed_data": record.proposal.typed_data(),
    }


class VotePublic(_ProposalPublic):
    """A vote to add or remove a validator; it takes effect at a block once a majority signed."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "chain": "permissioned",
                    "sequence": 3,
                    "status": "open",
                    "reason": "Bank D joins the consortium",
                    "created_at_block": 20,
                    "executed_at_block": None,
                    "signers": [_VALIDATOR],
                    "threshold": 3,
                    "error": None,
                    "typed_data": {"primaryType": "ValidatorVote", "message": {"action": "add"}},
                    "action": "add",
                    "validator": _OTHER,
                }
            ]
        }
    )

    action: Literal["add", "remove"] = Field(description="Add or remove the validator.")
    validator: Address = Field(description="The validator voted on.")

    @classmethod
    def of(cls, chain: str, record: ProposalRecord, signers: list[str], threshold: int) -> VotePublic:
        """The public form of a vote."""
        message = record.proposal.message
        return cls(
            **_base(chain, record, signers, threshold),
            action=message["action"],
            validator=message["validator"],
        )


class VotesPublic(Page[VotePublic]):
    """Validator votes, oldest first."""


class VoteCreate(BaseModel):
    """A vote to add or remove a validator."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"action": "add", "validator": _OTHER, "reason": "Bank D joins"}]},
    )

    action: Literal["add", "remove"] = Field(description="Add or remove `validator`.")
    validator: Address = Field(description="The validator to add or remove.")
    reason: Reason


class SignatureCreate(BaseModel):
    """A validator's approval of a proposal: custody signs with the validator's key this node holds, or
    the validator signed the proposal's `typed_data` elsewhere and sends the signature."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"validator": _VALIDATOR}, {"validator": _VALIDATOR, "signature": "0x" + "ab" * 65}]
        },
    )

    validator: Address | None = Field(
        default=None,
        description="The validator signing: a validator key signs only as its own address (which may be "
        "left out when it has one); an admin names any validator whose key this node holds.",
    )
    signature: Signature | None = Field(
        default=None,
        description="The validator's own signature over `typed_data`; leave out to have custody sign.",
    )


class DroppedTransactionPublic(BaseModel):
    """A transaction of a block a rollback removed, and what became of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "hash": "0x" + "3f" * 32,
                    "sender": _OTHER,
                    "original_block": 42,
                    "fate": "replayed",
                    "new_block": 41,
                    "status": True,
                    "error": None,
                }
            ]
        }
    )

    hash: TxHash = Field(description="The transaction's hash.")
    sender: Address = Field(description="Who signed it.")
    original_block: int = Field(ge=0, description="The block it was in before the rollback.")
    fate: Literal["replayed", "excluded-by-hash", "excluded-by-sender", "failed"] = Field(
        description="`replayed`: included again; `excluded-by-hash` / `excluded-by-sender`: left out on "
        "purpose; `failed`: could not be included again (`error`)."
    )
    new_block: int | None = Field(description="Where it was replayed (null otherwise).")
    status: bool | None = Field(description="Its status on replay (false: it reverted this time).")
    error: str | None = Field(description="Why it could not be replayed.")


class InterventionPublic(_ProposalPublic):
    """A freeze, unfreeze or rollback: open until ceil(2N/3) validators signed, then carried out once."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": _ID,
                    "chain": "permissioned",
                    "sequence": 4,
                    "status": "executed",
                    "reason": "bridge exploit",
                    "created_at_block": 44,
                    "executed_at_block": 43,
                    "signers": [_VALIDATOR, _OTHER],
                    "threshold": 2,
                    "error": None,
                    "typed_data": {"primaryType": "Rollback", "message": {"toBlock": 40}},
                    "kind": "rollback",
                    "accounts": [_OTHER],
                    "to_block": 40,
                    "exclude": [],
                    "old_head": 44,
                    "new_head": 43,
                    "dropped": [],
                    "replayed": [],
                    "excluded": [],
                    "failed": [],
                }
            ]
        }
    )

    kind: Literal["freeze", "unfreeze", "rollback"] = Field(description="What it does.")
    accounts: list[Address] = Field(
        description="A freeze or unfreeze: the account; a rollback: the senders whose dropped "
        "transactions are left out."
    )
    to_block: int | None = Field(description="A rollback: the block the chain goes back to.")
    exclude: list[TxHash] = Field(description="A rollback: transactions left out by hash.")
    old_head: int | None = Field(description="An executed rollback: the head before it.")
    new_head: int | None = Field(description="An executed rollback: the head after the replay.")
    dropped: list[DroppedTransactionPublic] = Field(
        description="An executed rollback: every transaction of the removed blocks, in their order."
    )
    replayed: list[DroppedTransactionPublic] = Field(description="Those included again.")
    excluded: list[DroppedTransactionPublic] = Field(description="Those left out on purpose.")
    failed: list[DroppedTransactionPublic] = Field(description="Those that could not be included again.")

    @classmethod
    def of(
        cls,
        chain: str,
        record: ProposalRecord,
        signers: list[str],
        threshold: int,
        report: RollbackReport | None = None,
    ) -> InterventionPublic:
        """The public form of an intervention (with its rollback's ``report`` when executed)."""
        message = record.proposal.message
        fields = _base(chain, record, signers, threshold)
        if "toBlock" in message:
            fields |= {
                "kind": "rollback",
                "accounts": list(message["excludedSenders"]),
                "to_block": int(message["toBlock"]),
                "exclude": [str(h).lower() for h in message["excludedTransactions"]],
            }
        else:
            fields |= {
                "kind": "freeze" if message["frozen"] else "unfreeze",
                "accounts": [message["account"]],
                "to_block": None,
                "exclude": [],
            }
        dropped = [_dropped(t.to_json()) for t in report.transactions] if report is not None else []
        return cls(
            **fields,
            old_head=report.old_head_number if report is not None else None,
            new_head=report.new_head_number if report is not None else None,
            dropped=dropped,
            replayed=[t for t in dropped if t.fate == "replayed"],
            excluded=[t for t in dropped if t.fate.startswith("excluded")],
            failed=[t for t in dropped if t.fate == "failed"],
        )


def _dropped(entry: dict[str, Any]) -> DroppedTransactionPublic:
    return DroppedTransactionPublic(
        hash=entry["hash"],
        sender=entry["sender"],
        original_block=entry["originalBlock"],
        fate=entry["fate"],
        new_block=entry["newBlock"],
        status=entry["status"],
        error=entry["error"],
    )


class InterventionsPublic(Page[InterventionPublic]):
    """Interventions, oldest first."""


class InterventionCreate(BaseModel):
    """An intervention to propose: a chain-wide freeze or unfreeze of one account, or a rollback."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "freeze", "accounts": [_OTHER], "reason": "stolen key"},
                {
                    "kind": "rollback",
                    "to_block": 40,
                    "accounts": [_OTHER],
                    "exclude": [],
                    "reason": "exploit",
                },
            ]
        },
    )

    kind: Literal["freeze", "unfreeze", "rollback"] = Field(
        description="`freeze` / `unfreeze`: one account chain-wide; `rollback`: rewind to `to_block` and "
        "replay the later transactions except the excluded."
    )
    accounts: list[Address] = Field(
        default_factory=list,
        max_length=64,
        description="A freeze or unfreeze: exactly one account (one proposal each). A rollback: senders "
        "whose dropped transactions are left out.",
    )
    to_block: int | None = Field(
        default=None, ge=0, description="A rollback: the block to go back to (below the head)."
    )
    exclude: list[TxHash] = Field(
        default_factory=list,
        max_length=1000,
        description="A rollback: transactions (of blocks after `to_block`) to leave out, by hash.",
    )
    reason: Reason

    @model_validator(mode="after")
    def _fits_kind(self) -> InterventionCreate:
        if self.kind == "rollback":
            if self.to_block is None:
                raise ValueError("a rollback names to_block, the block to go back to")
        else:
            if len(self.accounts) != 1:
                raise ValueError(f"a {self.kind} names exactly one account in accounts (one proposal each)")
            if self.to_block is not None or self.exclude:
                raise ValueError(f"a {self.kind} takes no to_block or exclude: those are a rollback's")
        return self
