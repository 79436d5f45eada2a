"""Shared fixtures: the bundled sample company and small helpers."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "scenarios" / "sample"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLE


@pytest.fixture(scope="session")
def sample_company():
    import attain

    return attain.load_company(SAMPLE)


@pytest.fixture
def sample_scenario(tmp_path, sample_company):
    """``sample_scenario(plans, extra="", trials=20)``: a scenario file on the sample company
    (targets = last year's sales + 5%, written beside it); ``plans`` is the YAML of the list."""

    def write(plans: str, extra: str = "", trials: int = 20) -> Path:
        history = sample_company.history
        last = history[history["month"].isin(sorted(history["month"].unique())[-12:])].copy()
        last["period"] = last["month"].str.replace("2026", "2027")
        last["target"] = (last["sales"] * 1.05).round(2)
        last[["rep_id", "period", "product", "target"]].to_csv(tmp_path / "t.csv", index=False)
        path = tmp_path / "s.yaml"
        path.write_text(
            f"kind: scenario\nname: s\ncompany: {sample_company.root}\nplans: {plans}\n"
            f"targets: {{file: t.csv}}\ntrials: {trials}\n{extra}"
        )
        return path

    return write
