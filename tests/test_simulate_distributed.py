"""The same simulation on a Dask cluster: a real LocalCluster of two worker processes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from attain.errors import SolverUnavailableError
from attain.simulate import Cluster, simulate_models
from attain.simulate.distributed import connect
from attain.simulate.runner import Job, run
from attain.simulate.variants import BASE
from tests.test_simulate_determinism import _models, _population, _scenario

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def client():
    with connect(Cluster(workers=2)) as client:
        yield client


def _job(trials: int = 600) -> Job:  # three blocks of 256 trials (40 reps)
    scenario = _scenario()
    pop = _population()
    return Job(
        population=pop,
        model=scenario.performance,
        plans=_models(pop.n_reps),
        variants=(BASE, *scenario.variants),
        trials=trials,
        seed=scenario.seed,
    )


def _same(a, b) -> None:
    for name in ("payout", "revenue", "at_target", "detail_payout", "detail_attainment"):
        assert getattr(a, name).tobytes() == getattr(b, name).tobytes(), name
    for x, y in zip(a.components, b.components, strict=True):
        assert x.tobytes() == y.tobytes()


def test_the_cluster_gives_the_thread_pool_s_bytes_whatever_the_chunk(client):
    job = _job()
    reference = run(job, workers=1)
    assert len(client.scheduler_info()["workers"]) == 2
    assert job.block < job.trials  # several blocks, so several tasks
    for chunk in (1, None):
        seen: list[int] = []
        on_dask = run(job, chunk_trials=chunk, client=client, progress=_recorder(seen))
        _same(on_dask, reference)
        assert seen[-1] == job.trials


def _recorder(seen: list[int]):
    return lambda done, total: seen.append(done)


def test_a_running_scheduler_by_address_gives_the_same_summary(client):
    scenario = _scenario().model_copy(update={"variants": [], "trials": 100})
    pop = _population()
    threads = simulate_models(pop, _models(pop.n_reps), scenario, workers=2)
    address = client.scheduler.address
    on_dask = simulate_models(
        pop, _models(pop.n_reps), scenario, chunk_trials=5, cluster=Cluster(scheduler=address)
    )
    assert on_dask.to_json() == threads.to_json()
    assert on_dask.summary["sensitivity"]  # the tornado ran on the cluster too


def test_a_scheduler_that_does_not_answer_is_named_within_the_timeout():
    t0 = time.perf_counter()
    with (
        pytest.raises(SolverUnavailableError, match="tcp://127.0.0.1:9"),
        connect(Cluster(scheduler="tcp://127.0.0.1:9", timeout=1)),
    ):
        pass
    assert time.perf_counter() - t0 < 30


def test_a_cluster_needs_workers_or_a_scheduler():
    from attain.errors import RuleFileError

    with pytest.raises(RuleFileError):
        Cluster()
    with pytest.raises(RuleFileError):
        Cluster(workers=0)
    with pytest.raises(RuleFileError):
        Cluster(workers=2, scheduler="tcp://127.0.0.1:8786")


def test_the_cli_exits_4_naming_the_scheduler_and_writes_nothing(
    sample_scenario, tmp_path, monkeypatch, capsys
):
    from attain.cli.main import main
    from attain.simulate import distributed

    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", 1.0)
    scenario = sample_scenario(f"[{ROOT / 'rules' / 'plan_field_rep.yaml'}]")
    out = tmp_path / "out"
    code = main(["simulate", str(scenario), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 4
    assert "tcp://127.0.0.1:9" in capsys.readouterr().err
    assert not out.exists()


def test_the_cli_refuses_workers_and_scheduler_together(sample_scenario, tmp_path):
    from attain.cli.main import main

    scenario = sample_scenario(f"[{ROOT / 'rules' / 'plan_field_rep.yaml'}]")
    args = ["simulate", str(scenario), "--out", str(tmp_path / "o"), "--workers", "2"]
    assert main([*args, "--scheduler", "tcp://127.0.0.1:9"]) == 2
