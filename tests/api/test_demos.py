"""The demos through the API: listed, started in the background (202), one at a time (409), followed
step by step to their result; a scenario that fails ends `failed` with its error, never a 500."""

from __future__ import annotations

from pathlib import Path

from registry.demos.runs import DemoRuns
from registry.runtime import Registry
from tests.registry_fixtures import service_settings

from .conftest import Api, problem


def test_the_list_names_every_scenario_with_its_variants(sqlite_api: Api) -> None:
    answer = sqlite_api.call("GET", "/demos", "auditor")
    assert answer.status_code == 200
    items = answer.json()["items"]
    assert [d["name"] for d in items] == ["hack", "censor", "access", "build", "bond", "stock", "cost"]
    assert next(d for d in items if d["name"] == "hack")["variants"] == ["agent-key"]
    assert "everyone" in next(d for d in items if d["name"] == "bond")["description"]


def test_a_run_in_the_background_one_at_a_time_followed_to_its_result(sqlite_api: Api) -> None:
    runs = DemoRuns.of(sqlite_api.registry)
    embedded = sqlite_api.registry.chain("permissioned").embedded
    assert embedded is not None
    # Holding the chain's lock keeps the run at its first step: the second start meets it running.
    with embedded.lock:
        assert problem(sqlite_api.call("POST", "/demos/censor", "issuer", json={}), 403, "role-forbidden")
        started = sqlite_api.call("POST", "/demos/censor", "admin", json={})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        busy = problem(sqlite_api.call("POST", "/demos/access", "admin"), 409, "demo-running")
        assert busy["run_id"] == run_id and f"/demos/runs/{run_id}" in busy["detail"]
        running = sqlite_api.call("GET", f"/demos/runs/{run_id}", "investor").json()
        assert running["status"] == "running" and running["result"] is None
    runs.join()
    run = sqlite_api.call("GET", f"/demos/runs/{run_id}", "auditor").json()
    assert run["status"] == "done", run
    assert run["error"] is None
    assert {s["chain"] for s in run["steps"]} >= {"permissioned", "permissionless"}
    assert run["result"]["columns"] == ["", "permissioned", "permissionless"]
    assert run["result"]["numbers"]["permissioned"]["buyer holds"] == 0
    assert run["result"]["numbers"]["permissionless"]["buyer holds"] == 10
    # Once it has ended, the next run may start.
    again = sqlite_api.call("POST", "/demos/censor", "admin")
    assert again.status_code == 202
    runs.join()
    assert sqlite_api.call("GET", f"/demos/runs/{again.json()['run_id']}", "admin").json()["status"] == "done"


def test_bad_requests_name_what_is_wrong(sqlite_api: Api) -> None:
    missing = problem(sqlite_api.call("POST", "/demos/bond-lifecycle", "admin"), 404, "not-found")
    assert "the demos are: hack" in missing["detail"]
    variant = problem(
        sqlite_api.call("POST", "/demos/hack", "admin", json={"variant": "x"}), 422, "invalid-input"
    )
    assert variant["field"] == "variant" and "agent-key" in variant["detail"]
    problem(sqlite_api.call("POST", "/demos/hack", "admin", json={"holders": 1}), 422, "validation-error")
    problem(sqlite_api.call("GET", "/demos/runs/nope", "admin"), 404, "not-found")


def test_a_failing_scenario_ends_failed_with_its_error(tmp_path: Path) -> None:
    registry = Registry.open(
        service_settings(tmp_path), chains=["permissioned"], in_memory=True, follow=False
    )
    try:
        runs = DemoRuns.of(registry)
        run = runs.start("access")
        runs.join()
        assert run.status == "failed"
        assert run.error is not None and "has not opened permissionless" in run.error
        assert run.to_json()["result"] is None
        # The failed run freed the server: the next one may start (and fails the same way).
        runs.start("censor")
        runs.join()
    finally:
        registry.close()
