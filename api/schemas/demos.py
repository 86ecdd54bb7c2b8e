"""Schemas of the demos: the scenarios, a run's start, a run with its steps and result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DemoPublic(BaseModel):
    """A scenario."""

    name: str = Field(description="The scenario's name (POST /demos/{name}).", examples=["hack"])
    summary: str = Field(description="One line: what it shows.")
    description: str = Field(description="What it shows, for a workshop audience.")
    variants: list[str] = Field(description="Variants POST /demos/{name} accepts.", examples=[["agent-key"]])


class DemosPublic(BaseModel):
    """The scenarios, in workshop order (one page)."""

    items: list[DemoPublic] = Field(description="The scenarios.")
    next_cursor: str | None = Field(default=None, description="Always null: every scenario fits one page.")


class DemoStart(BaseModel):
    """What to run (every field optional)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"variant": "agent-key"}]})

    variant: str | None = Field(
        default=None, description="A variant of the scenario.", examples=["agent-key"]
    )
    holders: int = Field(
        default=50, ge=2, le=500, description="Holders of the crowd scenarios (bond, hack, cost)."
    )


DEMO_START_EXAMPLES: dict[str, Any] = {
    "default": {"summary": "the scenario as it is", "value": {}},
    "variant": {"summary": "hack with a stolen issuer agent's key", "value": {"variant": "agent-key"}},
    "small": {"summary": "a smaller crowd", "value": {"holders": 10}},
}


class DemoStarted(BaseModel):
    """A run started in the background: follow it at GET /demos/runs/{run_id}."""

    run_id: str = Field(description="The run's id.", examples=["3f9c0e8a1b2d4c6e8f0a1b2c3d4e5f60"])


class DemoStepPublic(BaseModel):
    """One step on one chain, in one sentence."""

    chain: str = Field(description="permissioned or permissionless.", examples=["permissioned"])
    step: str = Field(description="The step's name.", examples=["validators roll back"])
    status: Literal["done", "refused", "info"] = Field(
        description="done: it went through; refused: a chain, token or rule said no; info: an observation."
    )
    detail: str = Field(description="What happened, in one sentence.")


class DemoResultPublic(BaseModel):
    """The result table, one column per chain, its key figures, and the measured durations (seconds)."""

    columns: list[str] = Field(description="The header: what is compared, then one column per chain.")
    rows: list[list[str]] = Field(description="The rows, one cell per column.")
    numbers: dict[str, dict[str, int]] = Field(description="Per chain, the table's key figures as integers.")
    timings: dict[str, float] = Field(description="Measured durations in seconds (they differ run to run).")


class DemoRunPublic(BaseModel):
    """A run: its steps so far and, once done, its result; once failed, its error."""

    run_id: str = Field(description="The run's id.")
    name: str = Field(description="The scenario.", examples=["hack"])
    variant: str | None = Field(description="The variant it runs, if any.")
    status: Literal["running", "done", "failed"] = Field(description="Where the run is.")
    steps: list[DemoStepPublic] = Field(description="The steps so far, in order.")
    result: DemoResultPublic | None = Field(description="The result table once done.")
    error: str | None = Field(description="Why it failed, once failed.")
