"""What needs no key: the server's health and the catalogue of problem types."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from api.deps import StateDep
from api.errors import PROBLEM_TYPES, not_found
from api.security import PUBLIC

TAG = {
    "name": "meta",
    "description": "The server's health and the problem types its errors use (RFC 9457). No key needed.",
}

router = APIRouter(tags=["meta"])


class HealthPublic(BaseModel):
    """The server is up and its registry open."""

    status: str = Field(description="`ok`.", examples=["ok"])
    chains: list[str] = Field(description="The open chains.", examples=[["permissioned", "permissionless"]])


class ProblemTypePublic(BaseModel):
    """A problem type: what the `type` of an error response means."""

    type: str = Field(
        description="The `type` member of such problems.", examples=["/problems/compliance-refused"]
    )
    title: str = Field(description="Its title.", examples=["Refused by the token's compliance rules"])
    status: int = Field(description="The HTTP status it comes with.", examples=[422])
    description: str = Field(description="What it means and which fields it carries.")


class ProblemTypesPublic(BaseModel):
    """Every problem type."""

    items: list[ProblemTypePublic] = Field(description="The problem types, by slug.")
    next_cursor: None = Field(default=None, description="Always null: one page.")


@router.get(
    "/health",
    openapi_extra=PUBLIC,
    summary="Health",
    description="200 while the registry is open (chains, index, custody).",
)
def health(state: StateDep) -> HealthPublic:
    """Health."""
    return HealthPublic(status="ok", chains=sorted(state.registry.context.chains))


@router.get(
    "/problems",
    openapi_extra=PUBLIC,
    summary="List the problem types",
    description="Every `type` an error response can carry, with its status and fields.",
)
def list_problems() -> ProblemTypesPublic:
    """List the problem types."""
    return ProblemTypesPublic(
        items=[
            ProblemTypePublic(
                type=kind.uri, title=kind.title, status=kind.status, description=kind.description
            )
            for kind in sorted(PROBLEM_TYPES.values(), key=lambda kind: kind.slug)
        ]
    )


@router.get(
    "/problems/{slug}",
    openapi_extra=PUBLIC,
    summary="One problem type",
    description="What an error response's `type` means.",
)
def get_problem(
    slug: Annotated[
        str, Path(max_length=64, description="The part after /problems/.", examples=["not-found"])
    ],
) -> ProblemTypePublic:
    """One problem type."""
    kind = PROBLEM_TYPES.get(slug)
    if kind is None:
        raise not_found("problem-type", f"no problem type {slug!r}: GET /problems lists them")
    return ProblemTypePublic(
        type=kind.uri, title=kind.title, status=kind.status, description=kind.description
    )
