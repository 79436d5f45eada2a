"""Team pool: funded per team (per member, fixed, or a share of the team's sales) when the
team reaches its threshold, split among the eligible members to the minor unit.

With a dated org a person is in the team of the row in force on each window's last day
(a transfer in July: the old team's pools to June, the new team's after), in both
evaluators."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attain.errors import DataError, Problem
from attain.incentive.floats import M, Window, attain_ok
from attain.incentive.kinds.base import (
    CompiledComponent,
    DealContext,
    ExactInputs,
    KindBase,
    Part,
    common,
    register,
)
from attain.incentive.pool import own_credit, split_exact
from attain.incentive.rational import MICRO, micro, round_div, to_minor
from attain.incentive.text import measured, pct
from attain.schema.plan import TeamPool

__all__ = ["CompiledPool", "PoolKind"]


@dataclass(frozen=True, kw_only=True)
class CompiledPool(CompiledComponent):
    type = "team_pool"
    level: str  # org column of the team
    threshold: int  # team attainment that funds the pool, millionths
    per_member: int | None  # minor units per participant and period
    fixed: int | None  # minor units per period
    share_of_sales: int | None  # millionths of the team's credit
    split: str  # equal, pro_rata, shares
    shares: tuple[tuple[str, int], ...]  # role → share, millionths (split `shares`)
    min_attainment: int  # a member's own attainment to share, millionths

    @property
    def shares_map(self) -> dict[str, int]:
        return dict(self.shares)


class PoolKind(KindBase):
    type = "team_pool"
    schema = TeamPool

    def compile(self, c: TeamPool, products: tuple[str, ...], unit: int) -> CompiledPool:
        return CompiledPool(
            **common(c, products, unit),
            level=c.level,
            threshold=micro(c.team_threshold),
            per_member=None if c.per_member is None else to_minor(c.per_member, unit),
            fixed=None if c.fixed is None else to_minor(c.fixed, unit),
            share_of_sales=None if c.share_of_sales is None else micro(c.share_of_sales),
            split=c.split,
            shares=tuple(sorted((k, micro(v)) for k, v in (c.shares or {}).items())),
            min_attainment=micro(c.min_attainment),
        )

    def levels(self, c: CompiledPool) -> tuple[str, ...]:
        return (c.level,)

    def deal_level(self, c: CompiledPool, ctx: DealContext):
        w = ctx.windows
        people = w.people
        if c.level not in people.columns:
            raise DataError(
                [Problem("<org>", f"team pool `{c.name}`: level `{c.level}` is not an org column")]
            )
        unit = pd.factorize(people[c.level].astype(str))[0]
        roles = people["role"].astype(str).to_numpy()
        is_member = ~np.isin(roles, ctx.compiled.credit.manager_roles)
        S, T = w.net[..., c.mask].sum(axis=-1), w.targets[..., c.mask].sum(axis=-1)
        own = S
        if not ctx.credit.own.all():  # a manager's rolled-up team credit is not their own sales
            credit = ctx.credit
            rows = np.flatnonzero(credit.own & c.mask[credit.product])
            own = ctx.to_windows(ctx.monthly(rows, credit.net[rows]))
        unit_ends = role_ends = None
        if ctx.book.dated is not None:  # a dated org: team and role on each window's last day
            from attain.incentive.proration import unit_by_slot

            k = ctx.book.calendar.months_per_period
            moved = unit_by_slot(ctx.book.dated, people, ctx.book.calendar, c.level)
            if moved is not None:
                unit_ends = moved[0][:, k - 1 :: k]
            moved = unit_by_slot(ctx.book.dated, people, ctx.book.calendar, "role")
            if moved is not None:
                role_ends = moved[1][moved[0][:, k - 1 :: k]]
        if unit_ends is None and role_ends is None:
            out, size = _team_pool(
                c, S, T, unit, is_member, w.participant, roles, w.periods, ctx.mode, own
            )
        else:
            managers = ctx.compiled.credit.manager_roles
            pieces = []
            for j in range(S.shape[1]):
                roles_j = roles if role_ends is None else role_ends[:, j]
                pieces.append(
                    _team_pool(
                        c,
                        S[:, [j]],
                        T[:, [j]],
                        unit if unit_ends is None else unit_ends[:, j],
                        ~np.isin(roles_j, managers),
                        w.participant,
                        roles_j,
                        w.periods[[j]],
                        ctx.mode,
                        own[:, [j]],
                    )
                )
            out = np.concatenate([p[0] for p in pieces], axis=1)
            size = np.concatenate([p[1] for p in pieces], axis=1)
        w.records[c.name] = {"pool": size, "members": is_member}
        return out, 1

    def notices(self, c: CompiledPool, windows) -> list:
        from attain.notices import Notice

        # the team's target is its members' (a rolled-up manager's is the team's again)
        members = windows.records.get(c.name, {}).get("members")
        target = windows.targets[..., c.mask].sum(axis=(1, 2))
        if members is not None:
            target = target[members]
        if (target > 0).any():
            return []
        return [
            Notice(
                "pool-without-team-target",
                "no team has a positive target for the pool's products; the pool is never funded",
                c.name,
            )
        ]

    def exact(self, c: CompiledPool, x: ExactInputs):
        return x.deal_level

    def parts(self, c: CompiledPool, x: ExactInputs) -> list[Part]:
        num, _ = x.deal_level
        size = x.info["pool"]
        some = np.asarray(size) != 0
        return [
            Part(
                "share of the team's pool",
                x.deal_level,
                (size, 1),
                (np.where(some, num, 0), np.where(some, size, 1)),
                "team pool",
            )
        ]

    def vectorised(self, c: CompiledPool, w: Window, accel_fail) -> np.ndarray:
        S, T = w.measure(c.mask)
        pop = w.pop
        moved, role_slots, roll_slots = pop.unit_slots.get(c.level), pop.role_slots, pop.roll_slots
        given = [a for a in (moved, role_slots, roll_slots) if a is not None]
        if not given:
            return _pool(c, S, T, pop, w.periods, w.scale)
        # a dated org: team, role and roll-up unit on each window's last day
        n_p = S.shape[-1]
        ends = (np.arange(1, n_p + 1) * given[0].shape[1]) // n_p - 1
        periods = np.broadcast_to(w.periods, (n_p,))
        pieces = []
        for p in range(n_p):
            at = ends[p]
            unit = None if moved is None else moved[:, at]
            roles = None if role_slots is None else role_slots[:, at]
            roll = None if roll_slots is None else roll_slots[:, at]
            pieces.append(
                _pool(c, S[..., [p]], T[..., [p]], pop, periods[[p]], w.scale, unit, roles, roll)
            )
        return np.concatenate(pieces, axis=-1)

    def rule(self, c: CompiledPool, unit: int) -> str:
        return f"{c.label}: team pool ({c.split} split) when the team reaches {pct(c.threshold)}"

    def inputs(self, c, info: dict, r: int, w: int, unit: int, earned) -> str:
        return measured(info, r, w, unit, gate=False, thresholds=[c.min_attainment])


def _team_pool(c, S, T, unit, is_member, is_participant, roles, n_periods, mode, own):
    """Pool amounts per person × window (int64 minor units).

    ``S``/``T``: int64[R, W] credit and target of each person for the pool's products;
    ``unit``: int[R] team of each person; ``is_member``: counts toward the team's credit
    and target (not a rolled-up manager); ``n_periods``: int[W] pay periods in each window;
    ``own``: int64[R, W] each person's own credit (without rolled-up team credit), which a
    pro-rata split weighs. Returns the amounts and each person's team pool.
    """
    cfg = c
    n_units = int(unit.max()) + 1 if len(unit) else 0
    n_windows = S.shape[1]
    team_s = np.zeros((n_units, n_windows), dtype=object)
    team_t = np.zeros((n_units, n_windows), dtype=object)
    np.add.at(team_s, unit[is_member], S[is_member].astype(object))
    np.add.at(team_t, unit[is_member], T[is_member].astype(object))
    funded = (team_t > 0) & (team_s * MICRO >= cfg.threshold * team_t)
    n_part = np.bincount(unit[is_participant], minlength=n_units).astype(object)[:, None]
    periods = np.asarray(n_periods, dtype=object)[None, :]
    if cfg.per_member is not None:
        pool = n_part * cfg.per_member * periods
    elif cfg.fixed is not None:
        pool = np.broadcast_to(cfg.fixed * periods, (n_units, n_windows))
    else:
        pool = round_div(np.maximum(team_s, 0) * cfg.share_of_sales, MICRO, mode)
    pool = np.where(funded, pool, 0)
    X = S.astype(object) * MICRO
    eligible = is_participant[:, None] & (cfg.min_attainment * T.astype(object) <= X)
    if cfg.min_attainment > 0:
        eligible &= T > 0
    out = np.zeros(S.shape, dtype=np.int64)
    for w in range(n_windows):  # a dozen windows; each is vectorised over people
        out[:, w] = _split_window(cfg, pool[:, w], unit, eligible[:, w], own[:, w], roles)
    return out, pool[unit]


def _split_window(cfg, pool, unit, eligible, S, roles) -> np.ndarray:
    out = np.zeros(len(unit), dtype=np.int64)
    who = np.flatnonzero(eligible)
    if not len(who):
        return out
    if cfg.split == "shares":
        return _split_shares(cfg, pool, unit, who, roles, out)
    weight = np.ones(len(who), dtype=np.int64)
    if cfg.split == "pro_rata":
        weight = np.maximum(S[who], 0)
        # a team whose eligible members all have no credit shares equally
        tot = np.bincount(unit[who], weights=weight.astype(float), minlength=len(pool))
        weight = np.where(tot[unit[who]] > 0, weight, 1)
    out[who] = split_exact(pool, unit[who], weight)
    return out


def _split_shares(cfg, pool, unit, who, roles, out) -> np.ndarray:
    """First across the roles present among the eligible (by share), then equally within."""
    names = sorted(cfg.shares_map)
    code = pd.Index(names).get_indexer(roles[who])
    ok = code >= 0
    who, code = who[ok], code[ok]
    n_roles = len(names)
    pair = unit[who] * n_roles + code
    pairs, inverse = np.unique(pair, return_inverse=True)
    share = np.array([cfg.shares_map[r] for r in names], dtype=np.int64)
    role_total = split_exact(pool, pairs // n_roles, share[pairs % n_roles])
    out[who] = split_exact(role_total, inverse, np.ones(len(who), dtype=np.int64))
    return out


def _pool(c: CompiledPool, S, T, pop, periods, scale, unit=None, roles=None, roll=None):
    """``unit``, ``roles`` and ``roll`` (the ``credit.roll_up`` units) in place of the
    population's: a dated org's, each person's on the window's last day."""
    cfg = c
    unit = pop.unit[cfg.level] if unit is None else unit
    n_units = int(unit.max()) + 1
    roles = pop.roles if roles is None else roles
    member = ~np.isin(roles, pop.manager_roles) if roles is not pop.roles else pop.is_member
    team_s = np.zeros((n_units, *S.shape[1:]))
    team_t = np.zeros((n_units, 1, S.shape[2]))
    np.add.at(team_s, unit[member], S[member])
    np.add.at(team_t, unit[member], np.broadcast_to(T, (len(unit), 1, S.shape[2]))[member])
    funded = attain_ok(team_s, team_t, cfg.threshold)
    n_part = np.bincount(unit[pop.participant], minlength=n_units)[:, None, None]
    if cfg.per_member is not None:
        pool = n_part * (cfg.per_member / scale) * periods
    elif cfg.fixed is not None:
        pool = np.broadcast_to((cfg.fixed / scale) * periods, team_s.shape)
    else:
        pool = np.maximum(team_s, 0) * (cfg.share_of_sales / M)
    pool = np.where(funded, pool, 0.0)
    eligible = pop.participant[:, None, None] & (cfg.min_attainment * T <= S * M)
    if cfg.min_attainment > 0:
        eligible &= T > 0
    roll = pop.roll_unit if roll is None else roll
    weight = _pool_weight(cfg, S, unit, eligible, pop, n_units, roles, member, roll)
    wsum = np.zeros_like(team_s)
    np.add.at(wsum, unit, weight)
    share = weight / np.where(wsum[unit] > 0, wsum[unit], 1.0)
    return pool[unit] * share


def _pool_weight(cfg: CompiledPool, S, unit, eligible, pop, n_units, roles, member, roll):
    if cfg.split == "equal":
        return eligible.astype(float)
    if cfg.split == "pro_rata":  # own sales: not a manager's rolled-up team credit
        own = own_credit(S, roll, member)
        w = np.where(eligible, np.maximum(own, 0.0), 0.0)
        tot = np.zeros((n_units, *S.shape[1:]))
        np.add.at(tot, unit, w)
        return np.where(tot[unit] > 0, w, eligible.astype(float))
    shares = cfg.shares_map
    names = sorted(shares)
    code = pd.Index(names).get_indexer(roles)
    elig = eligible & (code >= 0)[:, None, None]
    pair = unit * len(names) + np.maximum(code, 0)
    n_pairs = n_units * len(names)
    count = np.zeros((n_pairs, *S.shape[1:]))
    np.add.at(count, pair, elig.astype(float))
    share = np.array([shares[r] for r in names], float)[np.maximum(code, 0)]
    present = np.zeros((n_pairs, *S.shape[1:]))
    np.add.at(present, pair, elig.astype(float))
    role_present = (present > 0).astype(float) * np.tile(
        np.array([shares[r] for r in names], float), n_units
    )[:, None, None]
    role_total = np.zeros((n_units, *S.shape[1:]))
    np.add.at(role_total, np.arange(n_pairs) // len(names), role_present)
    norm = np.where(role_total[unit] > 0, role_total[unit], 1.0)
    return np.where(elig, share[:, None, None] / norm / np.maximum(count[pair], 1.0), 0.0)


register(PoolKind())
