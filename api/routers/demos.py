"""Demos: the permissioned-vs-open scenarios, run on the server's own chains in the background.

One run at a time per server; runs are kept in memory (a restart forgets them). Scenarios that move a
chain's clock (bond, stock) move it for everyone using this server.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from api.deps import RegistryDep
from api.errors import not_found
from api.schemas.demos import (
    DEMO_START_EXAMPLES,
    DemoPublic,
    DemoRunPublic,
    DemosPublic,
    DemoStart,
    DemoStarted,
)
from api.security import EVERY_ROLE, allow
from registry.demos import SCENARIOS
from registry.demos.runs import DemoRuns
from registry.errors import InvalidInputError

TAG = {
    "name": "demos",
    "description": "The permissioned-vs-open scenarios (hack, censor, access, build, bond, stock, cost), run "
    "on this server's own chains in a background thread, one at a time; follow a run step by step. Runs "
    "are kept in memory only. bond and stock move the chains' clocks forward for everyone on this server.",
}

router = APIRouter(prefix="/demos", tags=["demos"])

Name = Annotated[str, Path(max_length=64, description="The scenario (GET /demos lists them).")]
RunId = Annotated[str, Path(max_length=64, description="The run's id.")]


@router.get(
    "",
    dependencies=[allow(*EVERY_ROLE)],
    summary="List the demos",
    description="Each scenario with one line saying what it shows, its explanation and its variants.",
)
def list_demos() -> DemosPublic:
    """List the demos."""
    return DemosPublic(
        items=[
            DemoPublic(name=s.name, summary=s.summary, description=s.description, variants=list(s.variants))
            for s in SCENARIOS.values()
        ]
    )


@router.post(
    "/{name}",
    status_code=202,
    dependencies=[allow("admin")],
    summary="Start a demo",
    description="Starts the scenario on this server's chains in the background and answers its run id at "
    "once; 409 (demo-running) while another run is going. Follow it at GET /demos/runs/{run_id}. Admin "
    "only: `hack` and `censor` make the validators roll the permissioned chain back for everyone, and "
    "`bond` and `stock` move both chains' clocks forward.",
)
def start_demo(
    name: Name,
    registry: RegistryDep,
    body: Annotated[DemoStart | None, Body(openapi_examples=DEMO_START_EXAMPLES)] = None,
) -> DemoStarted:
    """Start a demo."""
    if name not in SCENARIOS:
        raise not_found("demo", f"there is no demo {name!r}; the demos are: {', '.join(SCENARIOS)}")
    options = body if body is not None else DemoStart()
    variants = SCENARIOS[name].variants
    if options.variant is not None and options.variant not in variants:
        known = ", ".join(variants) or "none"
        raise InvalidInputError(
            "variant", f"the demo {name!r} has no variant {options.variant!r}; its variants: {known}"
        )
    run = DemoRuns.of(registry).start(name, variant=options.variant, holders=options.holders)
    return DemoStarted(run_id=run.run_id)


@router.get(
    "/runs/{run_id}",
    dependencies=[allow(*EVERY_ROLE)],
    summary="A demo run",
    description="The run's status (running, done, failed), its steps so far, and its result table once done "
    "or its error once failed.",
)
def get_run(run_id: RunId, registry: RegistryDep) -> DemoRunPublic:
    """A demo run."""
    run = DemoRuns.of(registry).get(run_id)
    if run is None:
        raise not_found("demo-run", f"no demo run {run_id!r} on this server (runs are kept in memory only)")
    return DemoRunPublic.model_validate(run.to_json())
