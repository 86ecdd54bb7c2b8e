"""Demo runs on an open registry (the API server's own): started in a background thread, one at a time,
followed step by step.

Runs are kept **in memory**, in this process only: a restart forgets them (and a run that was going
when the process stopped is simply gone; whatever it had sent stays on the chains). Each run takes a
seed of its own (its run id), so that its parties never collide with an earlier run's on the same
chains.

Every step a run records is also where the activity stream hears of it: `DemoRuns._progress` is the one
place to publish it.
"""

from __future__ import annotations

import logging
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from registry.demos import DEFAULT_HOLDERS, run_scenario, scenario
from registry.demos.report import DemoReport, DemoStep
from registry.errors import ConfigurationError, RegistryError
from registry.runtime import Registry

logger = logging.getLogger(__name__)

RunStatus = Literal["running", "done", "failed"]


class DemoRunningError(RegistryError):
    """Raised when a demo is started while another one runs on the same registry."""

    def __init__(self, message: str, *, run_id: str, name: str) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.name = name


@dataclass
class DemoRun:
    """One run: its steps so far and, once ended, its report or its error."""

    run_id: str
    name: str
    variant: str | None
    status: RunStatus = "running"
    steps: list[DemoStep] = field(default_factory=list)
    report: DemoReport | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """``{run_id, name, variant, status, steps[], result{columns, rows, numbers, timings}?, error?}``."""
        result = None
        if self.report is not None:
            result = {
                "columns": self.report.columns,
                "rows": self.report.rows,
                "numbers": self.report.numbers,
                "timings": self.report.timings,
            }
        return {
            "run_id": self.run_id,
            "name": self.name,
            "variant": self.variant,
            "status": self.status,
            "steps": [
                {"chain": s.chain, "step": s.step, "status": s.status, "detail": s.detail}
                for s in list(self.steps)
            ],
            "result": result,
            "error": self.error,
        }


class DemoRuns:
    """The demo runs of one open registry (`DemoRuns.of`), at most one running at a time."""

    _instances: ClassVar[weakref.WeakKeyDictionary[Registry, DemoRuns]] = weakref.WeakKeyDictionary()
    _instances_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._runs: dict[str, DemoRun] = {}
        self._running: DemoRun | None = None
        self._threads: list[threading.Thread] = []

    @classmethod
    def of(cls, registry: Registry) -> DemoRuns:
        """The runs of ``registry`` (made on first use)."""
        with cls._instances_lock:
            runs = cls._instances.get(registry)
            if runs is None:
                runs = cls._instances[registry] = cls(registry)
            return runs

    def start(self, name: str, *, variant: str | None = None, holders: int = DEFAULT_HOLDERS) -> DemoRun:
        """Start scenario ``name`` in a background thread; returns the run (status ``running``).

        Raises:
            ConfigurationError: no such scenario or variant.
            DemoRunningError: another run is still going.
        """
        chosen = scenario(name)
        if variant is not None and variant not in chosen.variants:
            known = ", ".join(chosen.variants) or "none"
            raise ConfigurationError(f"the demo {name!r} has no variant {variant!r}; its variants: {known}")
        with self._lock:
            if self._running is not None:
                running = self._running
                raise DemoRunningError(
                    f"the demo {running.name!r} is running (run {running.run_id}); one demo runs at a time "
                    f"on a server: follow it at GET /demos/runs/{running.run_id} and start yours once it has "
                    "ended",
                    run_id=running.run_id,
                    name=running.name,
                )
            run = DemoRun(run_id=uuid.uuid4().hex, name=chosen.name, variant=variant)
            self._runs[run.run_id] = run
            self._running = run
            thread = threading.Thread(
                target=self._run, args=(run, holders), name=f"demo {run.name} {run.run_id[:8]}", daemon=True
            )
            self._threads.append(thread)
        thread.start()
        return run

    def get(self, run_id: str) -> DemoRun | None:
        """The run ``run_id``, or None."""
        with self._lock:
            return self._runs.get(run_id)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the threads of every run started so far (tests, shutdown)."""
        for thread in list(self._threads):
            thread.join(timeout)

    def _run(self, run: DemoRun, holders: int) -> None:
        try:
            report = run_scenario(
                self.registry,
                run.name,
                progress=lambda *step: self._progress(run, *step),
                seed=f"demo run {run.run_id}",
                holders=holders,
                variant=run.variant,
            )
        except RegistryError as exc:
            self._end(run, "failed", error=str(exc))
        except Exception:
            # Never echo an unexpected error: its text may say anything. The log has the traceback.
            logger.exception("demo run %s (%s) failed", run.run_id, run.name)
            self._end(
                run,
                "failed",
                error=f"the demo stopped on an unexpected error; the server log has it (run {run.run_id})",
            )
        else:
            self._end(run, "done", report=report)

    def _progress(self, run: DemoRun, chain: str, step: str, status: str, detail: str) -> None:
        """The one place where a run's step is recorded, and published to the activity stream."""
        run.steps.append(DemoStep(chain, step, status, detail))  # type: ignore[arg-type]
        self.registry.activity.publish(
            "demo",
            {
                "run_id": run.run_id,
                "name": run.name,
                "chain": chain,
                "step": step,
                "status": status,
                "detail": detail,
            },
        )

    def _end(
        self, run: DemoRun, status: RunStatus, *, report: DemoReport | None = None, error: str | None = None
    ) -> None:
        with self._lock:
            run.report = report
            run.error = error
            run.status = status
            self._running = None
