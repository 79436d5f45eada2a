"""`attain.simulate(scenario)`: the whole Monte-Carlo run, from a scenario file to a result."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from attain.errors import Problem, RuleFileError
from attain.notices import notices_json
from attain.schema.scenario import MAX_TRIALS, Scenario
from attain.simulate.evaluator import PayoutModel, model_notices
from attain.simulate.population import Population
from attain.simulate.result import SimulationResult, SimulationSummary, summarise, trials_frame
from attain.simulate.runner import Job, run
from attain.simulate.sensitivity import tornado
from attain.simulate.setup import Setup, load_setup
from attain.simulate.variants import BASE

if TYPE_CHECKING:
    from attain.simulate.distributed import Cluster

__all__ = ["simulate", "simulate_models", "simulate_to"]

Progress = Callable[[int, int], None]


def simulate(
    scenario: Scenario | str | Path,
    *,
    base: str | Path | None = None,
    targets: str | Path | None = None,
    trials: int | None = None,
    seed: int | None = None,
    chunk_trials: int | None = None,
    workers: int | None = None,
    cluster: Cluster | None = None,
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate a scenario file (or a loaded :class:`Scenario` whose paths are relative to
    ``base``). ``targets`` (a targets file or allocation output folder), ``trials`` and
    ``seed`` override the file's. ``workers`` local threads run the chunks, or a Dask
    ``cluster`` (:class:`attain.simulate.distributed.Cluster`) does: same figures either
    way. ``progress(done, total)`` is called as trials finish
    (the main run, then each sensitivity run)."""
    t0 = time.perf_counter()
    setup = load_setup(scenario, Path(base) if base is not None else None, targets)
    scenario = setup.scenario
    trials = _check_trials(scenario.trials if trials is None else trials, setup.source)
    seed = scenario.seed if seed is None else seed
    loaded = time.perf_counter()
    result = simulate_models(
        setup.population,
        setup.models,
        scenario,
        trials=trials,
        seed=seed,
        chunk_trials=chunk_trials,
        workers=workers,
        cluster=cluster,
        progress=progress,
        setup=setup,
    )
    result.timings["load_seconds"] = loaded - t0
    return result


def simulate_models(
    population: Population,
    models: tuple[PayoutModel, ...],
    scenario: Scenario,
    *,
    trials: int | None = None,
    seed: int | None = None,
    chunk_trials: int | None = None,
    workers: int | None = None,
    cluster: Cluster | None = None,
    progress: Progress | None = None,
    setup: Setup | None = None,
) -> SimulationResult:
    """Simulate payout models on a population under the scenario's performance model,
    variants, budget and sensitivity settings (the scenario's plans and targets are not
    read: ``models`` and ``population`` stand for them)."""
    job = Job(
        population=population,
        model=scenario.performance,
        plans=tuple(models),
        variants=(BASE, *scenario.variants),
        trials=scenario.trials if trials is None else trials,
        seed=scenario.seed if seed is None else seed,
    )
    from attain.simulate.distributed import connect_optional

    with connect_optional(cluster) as client:
        t0 = time.perf_counter()
        raw = run(job, chunk_trials=chunk_trials, workers=workers, progress=progress, client=client)
        t1 = time.perf_counter()
        head = _head(scenario, setup)
        summary = summarise(job, raw, head, scenario.budget)
        rows = []
        if scenario.sensitivity is not None:
            sens = scenario.sensitivity
            plans = setup.plans if setup is not None else None
            model_for = setup.model_for if setup is not None else None
            rows = tornado(job, plans, model_for, sens.trials, sens.step, workers, client)
        t2 = time.perf_counter()
    notices = model_notices(job.plans)
    return SimulationResult(
        summary=SimulationSummary.from_dict(
            {**summary, "sensitivity": rows, "warnings": notices_json(notices)}
        ),
        trials=trials_frame(job, raw),
        sensitivity=pd.DataFrame(rows),
        timings={
            "simulate_seconds": t1 - t0,
            "sensitivity_seconds": t2 - t1,
            "rep_trials_per_second": job.trials * population.n_reps / max(t1 - t0, 1e-9),
        },
        notices=tuple(notices),
    )


def simulate_to(
    scenario: Scenario | str | Path,
    out: str | Path,
    *,
    targets: str | Path | None = None,
    trials: int | None = None,
    seed: int | None = None,
    cluster: Cluster | None = None,
    progress: Progress | None = None,
) -> tuple[SimulationResult, list[Path]]:
    """Simulate and write every output into ``out``, as one output set."""
    result = simulate(
        scenario, targets=targets, trials=trials, seed=seed, cluster=cluster, progress=progress
    )
    inputs = (targets,) if isinstance(scenario, Scenario) else (scenario, targets)
    return result, result.write(out, inputs=inputs)


def _check_trials(trials: int, source: str) -> int:
    if not 1 <= trials <= MAX_TRIALS:
        raise RuleFileError(
            [Problem(source, f"trials must be between 1 and {MAX_TRIALS:,}", path="trials")]
        )
    return trials


def _head(scenario: Scenario, setup: Setup | None) -> dict:
    head = {
        "scenario": scenario.name,
        "description": scenario.description,
        "performance": scenario.performance.model_dump(mode="json"),
    }
    if setup is not None:
        rules = setup.company.rules
        head.update(company=rules.name, currency=rules.currency, fiscal_year=rules.fiscal_year)
    return head
