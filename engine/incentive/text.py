"""Numbers as statement text: money from minor units, rates and attainments from millionths."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

__all__ = ["digits_for", "measured", "money", "multiple", "pct", "ratio"]


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


def digits_for(thresholds) -> int:
    """Decimals of a percentage that show attainment at the precision thresholds select at:
    with every threshold (millionths) exact at this many decimals, a truncated attainment
    reads at or above a threshold exactly when it reaches it (at least 1)."""
    digits = 1
    for v in thresholds:
        v, d = abs(int(v)), 4
        while d > 1 and v % 10 == 0:
            v, d = v // 10, d - 1
        digits = max(digits, d)
    return digits


def ratio(num, den, digits: int = 1) -> str:
    """``num / den`` as a percentage to ``digits`` decimals, truncated toward zero, so that
    99.95% never reads as 100.0%."""
    if den <= 0:
        return "n/a (no target)"
    q = Decimal(int(num)) * 100 / Decimal(int(den))
    return f"{q.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_DOWN):f}%"


def measured(
    info: dict, r: int, w: int, unit: int, gate: bool = True, ti: bool = False, thresholds=()
) -> str:
    """A line's inputs: credit, target and attainment of the window, its gate, and (``ti``)
    the target incentive of the window. Attainment shows as many decimals as the
    ``thresholds`` it is compared with need (:func:`digits_for`)."""
    S, T = int(info["select"][r, w]), int(info["target"][r, w])
    digits = digits_for(thresholds)
    text = f"credit {money(S, unit)}; target {money(T, unit)}; attainment {ratio(S, T, digits)}"
    if gate and "gate_ok" in info:
        ok = bool(info["gate_ok"][r, w])
        text += (
            f"; gate {'met' if ok else 'NOT met'} "
            f"({ratio(info['gate_select'][r, w], info['gate_target'][r, w], info['gate_digits'])})"
        )
    if ti:
        text += f"; target incentive to date {money(round(Decimal(int(info['ti'][r, w])) / info.get('ti_den', 12)), unit)}"
    return text
