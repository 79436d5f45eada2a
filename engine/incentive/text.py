"""Numbers as statement text: money from minor units, rates and attainments from millionths."""

from __future__ import annotations

from decimal import Decimal

__all__ = ["money", "multiple", "pct", "ratio"]


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


def measured(info: dict, r: int, w: int, unit: int, gate: bool = True) -> str:
    """A line's inputs: credit, target and attainment of the window, and its gate."""
    S, T = int(info["select"][r, w]), int(info["target"][r, w])
    text = f"credit {money(S, unit)}; target {money(T, unit)}; attainment {ratio(S, T)}"
    if gate and "gate_ok" in info:
        ok = bool(info["gate_ok"][r, w])
        text += (
            f"; gate {'met' if ok else 'NOT met'} "
            f"({ratio(info['gate_select'][r, w], info['gate_target'][r, w])})"
        )
    return text


def adjusted(math: str, info: dict, r: int, w: int) -> str:
    """``math`` with the line's modifier factor and cap, when they apply."""
    import numpy as np

    if info["factor"][r] != 1_000_000:
        math += f"; x modifier {multiple(info['factor'][r])}"
    if bool(np.asarray(info["capped"])[r, w]):
        math += "; capped"
    return math
