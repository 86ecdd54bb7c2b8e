"""Typed dependencies of the routes: ``registry: RegistryDep``, ``caller: PrincipalDep``,
``page: PageDep``, ``idem: IdempotencyDep``, ``now: ClockDep``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from api.idempotency import Idempotent, idempotency
from api.security import Principal, authenticate
from api.state import ApiState, api_state
from registry.runtime import Registry

MAX_PAGE = 500
"""Largest page a list returns."""


def get_registry(state: Annotated[ApiState, Depends(api_state)]) -> Registry:
    """The open registry."""
    return state.registry


def get_clock(state: Annotated[ApiState, Depends(api_state)]) -> int:
    """Unix seconds now, by the app's clock."""
    return state.clock()


@dataclass(frozen=True)
class PageParams:
    """``?limit=&cursor=`` of a list."""

    limit: int
    cursor: str | None


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Items per page (1 to 500).")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=512, description="The `next_cursor` of the previous page; none for the first page."),
    ] = None,
) -> PageParams:
    """The page asked for."""
    return PageParams(limit=limit, cursor=cursor)


StateDep = Annotated[ApiState, Depends(api_state)]
RegistryDep = Annotated[Registry, Depends(get_registry)]
PrincipalDep = Annotated[Principal, Depends(authenticate)]
PageDep = Annotated[PageParams, Depends(page_params)]
IdempotencyDep = Annotated[Idempotent, Depends(idempotency)]
ClockDep = Annotated[int, Depends(get_clock)]
