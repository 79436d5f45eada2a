"""The modelling core: blocks → one problem, lexicographic holds, every independent
conflict, labelled binding frames, and MPS/LP export that loads back in HiGHS."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from attain.allocate.toy import toy_company
from attain.allocate.toy import toy_rules as rules
from attain.model import (
    Block,
    Level,
    Model,
    binding,
    binding_frame,
    deletion_filter,
    export_model,
    feasibility,
    find_conflicts,
    lexicographic,
    optimal_face,
    relax,
    with_holds,
)
from attain.solvers import LinearProblem, SolveOptions, SolverResult, SparseMatrix, Status, solve


def two_columns() -> Model:
    """x, y ≥ 0; `sum`: x + y = 10 (a rule); `cap_x`: x ≤ 3 (soft, priority 1)."""
    m = Model(2)
    m.add(Block("sum", "total", "company", [0], [0, 0], [0, 1], [1, 1], [10], [10]))
    m.add(Block("cap_x", "cap", "rep", [0], [0], [0], [1], [-np.inf], [3], soft=True))
    return m


def test_soft_rows_get_slacks_and_their_level():
    m = two_columns()
    a = m.assemble()
    assert a.problem.n_cols == 3  # one slack: cap_x has only an upper bound
    [(name, vec)] = m.soft_levels(a)
    assert name == "soft:1" and vec.tolist() == [0, 0, 1]
    # The second level wants x as large as possible; the first level's hold keeps cap_x
    # unbent (to the hold's absolute tolerance, 1e-7 in the solver's units).
    c = np.array([-1.0, 0.0, 0.0])
    outcomes, failed = lexicographic(
        [Level("soft", vec), Level("x", c)],
        lambda cn, off, holds: solve(with_holds(a.problem, cn, holds, off)),
    )
    assert failed is None
    x = outcomes[-1].result.x
    assert x[0] == pytest.approx(3) and x[1] == pytest.approx(7)
    assert a.bent(x)[1] == pytest.approx(0, abs=1.01e-7)


def test_lexicographic_holds_each_level_in_the_solver_scale():
    """min x then min y over x + y ≥ 1e6·... : numbers far from 1 are held exactly."""
    m = Model(2)
    m.add(Block("floor", "floor", "company", [0], [0, 0], [0, 1], [1, 1], [2e6], [np.inf]))
    m.add(Block("xcap", "cap", "company", [0], [0], [0], [1], [-np.inf], [1.5e6]))
    a = m.assemble()
    outcomes, _ = lexicographic(
        [Level("y", np.array([0.0, 1e6])), Level("x", np.array([1.0, 0.0]))],
        lambda cn, off, holds: solve(with_holds(a.problem, cn, holds, off)),
    )
    x = outcomes[-1].result.x
    assert x.tolist() == pytest.approx([1.5e6, 0.5e6])
    assert outcomes[0].value == pytest.approx(0.5e6 * 1e6)


def _x_plus_y() -> LinearProblem:
    """x + y = 2 (row 0), x + 2y <= 10 (row 1, slack at the optimum), 0 <= x, 0 <= y <= 1.5."""
    A = SparseMatrix.from_coo(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]),
                              np.array([1.0, 1.0, 1.0, 2.0]), (2, 2))  # fmt: skip
    return LinearProblem(
        c=np.zeros(2), A=A, row_lower=np.array([2.0, -np.inf]), row_upper=np.array([2.0, 10.0]),
        col_lower=np.zeros(2), col_upper=np.array([np.inf, 1.5]),
    )  # fmt: skip


def test_optimal_face_fixes_what_the_duals_price():
    p = _x_plus_y()
    r = solve(with_holds(p, np.array([1.0, 0.0]), ()))  # min x: y at its bound 1.5
    face = optimal_face(p, r)
    assert face.cols.tolist() == [1] and face.col_value.tolist() == [1.5]
    assert face.rows.tolist() == []  # the equality row is fixed already; row 1 is slack
    # Without duals (a MIP, a backend without them) there is no face.
    assert optimal_face(p, SolverResult(Status.OPTIMAL, "x", r.x)) is None
    # Only a bound the point sits on counts (whatever the sign convention of the duals): an
    # interior point with the same prices puts nothing on the face.
    inside = SolverResult(Status.OPTIMAL, "x", np.array([0.6, 1.4]), None, r.row_duals,
                          r.col_duals)  # fmt: skip
    assert optimal_face(p, inside).size == 0
    flipped = SolverResult(Status.OPTIMAL, "x", r.x, None, -r.row_duals, -r.col_duals)
    assert optimal_face(p, flipped).cols.tolist() == [1]


def test_a_face_holds_a_level_exactly_and_a_retry_drops_it():
    """min x, then max x: the row hold alone lets x rise by its tolerance; the face (y fixed
    at 1.5) keeps x at the first level's optimum exactly."""
    p = _x_plus_y()
    levels = [Level("x", np.array([1.0, 0.0])), Level("most_x", np.array([-1.0, 0.0]))]

    def run(cn, off, holds):
        return solve(with_holds(p, cn, holds, off))

    plain, _ = lexicographic(levels, run)
    faced, _ = lexicographic(levels, run, faces=p)
    assert plain[-1].result.x[0] > 0.5 + 1e-8  # the hold's 1e-7 of room, used
    assert faced[-1].result.x[0] == pytest.approx(0.5, abs=1e-12)
    assert faced[0].hold.face.size == 1
    assert faced[0].hold.loosened(100).face is None
    held = with_holds(p, levels[1].c, (faced[0].hold,))
    assert held.col_lower[1] == held.col_upper[1] == 1.5
    assert p.col_lower[1] == 0.0  # the problem itself is left as it was


@pytest.mark.parametrize("cap", [1.5, 0.5])
def test_a_level_with_a_floor_is_solved_with_the_next_where_it_reaches_it(cap):
    """Slack s ≥ 0 on x ≥ 1 (``x + s ≥ 1``, x ≤ cap), then min y over x + y = 2: with
    cap 1.5 the slack can be zero, and one joint solve gives both levels' optima; with
    cap 0.5 it cannot (s = 0.5), and the levels are solved one by one. Either way the
    levels' values are those of solving them one by one."""
    A = SparseMatrix.from_coo(np.array([0, 0, 1, 1]), np.array([0, 2, 0, 1]),
                              np.array([1.0, 1.0, 1.0, 1.0]), (2, 3))  # fmt: skip
    p = LinearProblem(
        c=np.zeros(3), A=A, row_lower=np.array([1.0, 2.0]), row_upper=np.array([np.inf, 2.0]),
        col_lower=np.zeros(3), col_upper=np.array([cap, np.inf, np.inf]),
    )  # fmt: skip
    calls: list[int] = []

    def run(cn, off, holds):
        calls.append(len(holds))
        return solve(with_holds(p, cn, holds, off))

    slack, least_y = Level("soft:1", np.array([0.0, 0.0, 1.0])), Level("y", np.array([0, 1.0, 0]))
    alone, _ = lexicographic([slack, least_y], run)
    calls.clear()
    joint, _ = lexicographic([Level("soft:1", slack.c, floor=0.0), least_y], run)
    assert [o.value for o in joint] == pytest.approx([o.value for o in alone], abs=1e-9)
    assert [o.value for o in alone] == pytest.approx([0.0, 0.5] if cap > 1 else [0.5, 1.5])
    # One solve where the floor is reached; where it is not, the joint try and both levels.
    assert calls == ([0] if cap > 1 else [0, 0, 1])
    assert [o.name for o in joint] == ["soft:1", "y"] and len(joint[1].hold.c) == 3


def brute_conflicts(rules_: list[str], conflicts: list[set[str]]):
    """is_feasible for a world whose minimal conflicts are ``conflicts``."""

    def is_feasible(kept: frozenset[str]) -> bool:
        return not any(c <= kept for c in conflicts)

    return is_feasible


def test_every_independent_conflict_is_found():
    names = ["target", "a", "b", "c", "d", "e"]
    truth = [{"target", "a"}, {"target", "c", "d"}, {"e", "b"}]
    found = find_conflicts(names, brute_conflicts(names, truth), shared={"target"})
    assert sorted(map(set, found), key=sorted) == sorted(truth, key=sorted)
    # Without the shared rule, its first conflict takes it out of the search.
    assert len(find_conflicts(names, brute_conflicts(names, truth))) == 2


def test_deletion_filter_is_irreducible():
    names = list("abcdef")
    truth = [{"b", "d", "f"}]
    core = deletion_filter(names, brute_conflicts(names, truth))
    assert set(core) == {"b", "d", "f"}


def conflicting() -> Model:
    """x ≥ 0 with two independent pairs of rules: x ≥ 5 vs x ≤ 2, and y ≥ 4 vs y ≤ 1."""
    m = Model(2)
    for name, col, lo, hi in (("x_floor", 0, 5, np.inf), ("x_cap", 0, -np.inf, 2),
                              ("y_floor", 1, 4, np.inf), ("y_cap", 1, -np.inf, 1)):  # fmt: skip
        m.add(Block(name, "bound", "rep", [col], [0], [col], [1], [lo], [hi]))
    return m


def test_conflicts_on_a_model_and_the_closest_compromise():
    m = conflicting()
    is_feasible = feasibility(m, "highs", SolveOptions())
    found = find_conflicts(m.rule_names(hard_only=True), is_feasible)
    assert sorted(map(sorted, found)) == [["x_cap", "x_floor"], ["y_cap", "y_floor"]]
    relaxed = relax(m, ["x_floor", "x_cap"], "highs", SolveOptions())
    assert relaxed.bent.sum() == pytest.approx(3)  # 5 − 2: the numbers in conflict


def test_binding_frame_is_labelled_by_rule_and_unit():
    m = two_columns()
    m.blocks[1].soft = False  # hard: x ≤ 3 binds when x is pushed up
    a = m.assemble(c=np.array([-1.0, 0.0]))
    r = solve(a.problem)
    b = binding(m, a, r.x)
    frame = binding_frame(m, a, b, lambda level, units: np.array([f"{level}{u}" for u in units]))
    assert frame[["rule", "unit", "side"]].to_dict("records") == [
        {"rule": "sum", "unit": "company0", "side": "equal"},
        {"rule": "cap_x", "unit": "rep0", "side": "upper"},
    ]


@pytest.mark.parametrize("suffix", [".mps", ".lp"])
def test_exported_allocation_loads_back_in_highs(tmp_path, suffix):
    import highspy

    from attain.allocate import allocate

    company = toy_company([100, 100, 200], capacity=[1e9, 1e9, 150])
    result = allocate(rules(400, {"type": "capacity", "level": "rep"}), company)
    path = result.export_model(tmp_path / f"model{suffix}")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getModelStatus().name == "kOptimal"
    expected = result.problem.objective(solve(result.problem).x)
    assert h.getInfo().objective_function_value == pytest.approx(expected, abs=1e-7)
    assert h.getNumRow() == result.problem.n_rows


def test_exported_integer_model_keeps_its_integers(tmp_path):
    """max x + y, 2x + 2y ≤ 3, integers: 1 (the LP says 1.5)."""
    import highspy

    m = Model()
    m.add_cols(2, 0.0, 5.0, integer=True)
    m.add(Block("row", "r", "company", [0], [0, 0], [0, 1], [2, 2], [-np.inf], [3]))
    a = m.assemble(c=np.array([-1.0, -1.0]))
    path = export_model(a.problem, tmp_path / "m.mps")
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.readModel(str(path))
    h.run()
    assert h.getInfo().objective_function_value == pytest.approx(-1)


QUIET = """
import numpy as np, pandas as pd
from attain.allocate import allocate
from attain.allocate.toy import toy_company, toy_rules
from attain.solvers import solve
from attain.model import Model, Block
allocate(toy_rules(300), toy_company([1, 1, 1]), {verbose})
m = Model(1); m.add(Block("b", "b", "rep", [0], [0], [0], [1], [1], [2]))
p = m.assemble(c=np.ones(1)).problem
for name in ("cbc", "glop"):
    solve(p, name)
"""


@pytest.mark.parametrize("verbose", [False, True])
def test_solver_output_reaches_stdout_only_when_verbose(capfd, verbose):
    """A fresh process (HiGHS prints its banner once per process, when the first solver
    object is made): nothing on file descriptor 1 unless ``verbose``."""
    code = QUIET.format(verbose=f"verbose={verbose}")
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    out = capfd.readouterr().out
    assert proc.returncode == 0
    if verbose:
        assert "HiGHS" in out
    else:
        assert out == ""


def test_library_calls_print_nothing_in_process(capfd):
    from attain.allocate import allocate

    allocate(rules(300), toy_company([1, 1, 1]))
    m = conflicting()
    find_conflicts(m.rule_names(), feasibility(m, "cbc", SolveOptions()))
    assert capfd.readouterr().out == ""
