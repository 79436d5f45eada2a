"""Numbers as statement text: money from minor units, rates and attainments from millionths."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["measured", "money", "multiple", "pct", "ratio"]


def money(minor, unit: int) -> str:
    """Minor units as money text, ``1,234,567.89``: exact integer arithmetic (the statements
    print millions of these; a Decimal each was a third of writing them)."""
    minor = int(minor)
    whole, cents = divmod(abs(minor), 10**unit)
    sign = "-" if minor < 0 else ""
    return f"{sign}{whole:,}.{cents:0{unit}d}" if unit else f"{sign}{whole:,}"


def pct(micro) -> str:
    """Millionths as a percentage, every digit kept (80000 → ``8%``)."""
    return f"{Decimal(int(micro)).scaleb(-4).normalize():f}%"


def multiple(micro) -> str:
    """Millionths as a plain number (1500000 → ``1.5``)."""
    return f"{Decimal(int(micro)).scaleb(-6).normalize():f}"


def ratio(num, den) -> str:
    """``num / den`` as a percentage to 0.1%."""
    if den <= 0:
        return "n/a (no target)"
    return f"{Decimal(int(num)) * 100 / Decimal(int(den)):.1f}%"


def measured(info: dict, r: int, w: int, unit: int, gate: bool = True, ti: bool = False) -> str:
    """A line's inputs: credit, target and attainment of the window, its gate, and (``ti``)
    the target incentive of the window."""
    S, T = int(info["select"][r, w]), int(info["target"][r, w])
    text = f"credit {money(S, unit)}; target {money(T, unit)}; attainment {ratio(S, T)}"
    if gate and "gate_ok" in info:
        ok = bool(info["gate_ok"][r, w])
        text += (
            f"; gate {'met' if ok else 'NOT met'} "
            f"({ratio(info['gate_select'][r, w], info['gate_target'][r, w])})"
        )
    if ti:
        text += (
            f"; target incentive to date {money(round(Decimal(int(info['ti'][r, w])) / 12), unit)}"
        )
    return text
