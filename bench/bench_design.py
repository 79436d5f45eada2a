"""Plan design: the shipped one-parameter design (rules/design_field_rep.yaml) on the
300-rep sample, and a three-parameter design of the same plan, end to end (scenario set-up,
the allocation the scenario names, search and out-of-sample check).

Goals: one parameter to a P95 budget in < 20 s; three parameters in < 2 min. The baseline
is a hand-written bisection over ``attain.simulate`` (one full simulation per step), which
took 41 s for one parameter.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import attain

ROOT = Path(__file__).resolve().parent.parent
ONE = ROOT / "rules" / "design_field_rep.yaml"
HAND_BISECTION_SECONDS = 41.0

THREE = """kind: design
name: three_rates
scenario: {scenario}
plan: field_rep_marginal
parameters:
  - {{path: 'commission.tiers[0].rate', min: 0.03, max: 0.09, step: 0.0025}}
  - {{path: 'commission.tiers[1].rate', min: 0.04, max: 0.12, step: 0.0025}}
  - {{path: 'commission.tiers[2].rate', min: 0.06, max: 0.20, step: 0.0025}}
constraints:
  - {{metric: cost_of_sales, percentile: 95, max: 0.07}}
objective: {{maximise: pay_slope}}
trials: 400
seed: 2027
search: {{max_evaluations: 600}}
"""


def _timed(path: Path) -> tuple[float, attain.DesignResult]:
    t0 = time.perf_counter()
    result = attain.design(path)
    return time.perf_counter() - t0, result


def main() -> None:
    seconds, one = _timed(ONE)
    print(
        f"one parameter (shipped design, {one.spec.trials} trials, {len(one.points)} "
        f"candidates): {seconds:.1f} s (goal < 20 s; hand bisection {HAND_BISECTION_SECONDS:.0f} s: "
        f"{HAND_BISECTION_SECONDS / seconds:.1f}x)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "three.yaml"
        path.write_text(THREE.format(scenario=ROOT / "scenarios" / "compare_plans.yaml"))
        seconds, three = _timed(path)
    print(
        f"three parameters (evolution, {three.spec.trials} trials, {len(three.points)} "
        f"candidates): {seconds:.1f} s (goal < 120 s); chosen "
        + ", ".join(f"{k} = {v:g}" for k, v in three.values.items())
    )


if __name__ == "__main__":
    main()
