"""Redemption rules: what one claim asks, and whether the balance pays it.

A plain `redeem points by X with Y` spends what there is, up to the claim. Any
rule that fixes what a claim may be (a fixed number, sizes, bounds, multiples,
or `all or nothing` said outright) makes the claim all or nothing: paying part
of it would break the rule. A `where` only refuses; when it holds, the other
rules decide.
"""

from __future__ import annotations

from typing import Any

import attrs

from loyalty_dsl.evaluation.conditions import Explained, Facts, compile_explained
from loyalty_dsl.language import ast
from loyalty_dsl.language.vocabulary import REDEEM_WHERE_NAMES


@attrs.frozen
class CompiledRedemption:
    event: str
    line: int
    field: str | None  # the event's field of points (None with a fixed amount)
    amount: int | None = None  # `redeem 9 points by ...`
    all_or_nothing: bool = False
    sizes: tuple[int, ...] = ()
    at_least: int | None = None
    at_most: int | None = None
    multiple: int | None = None
    where: Explained | None = attrs.field(default=None, eq=False)
    ruled: bool = False  # any rule beyond the plain form: outcomes then say `granted`
    decided: str | None = None  # `only when B is granted`: the benefit whose decision on the event must grant
    reads_measures: bool = False  # the `where` names a measure: it is read at the claim's instant

    def asked(self, fields: dict[str, Any]) -> int:
        if self.amount is not None:
            return self.amount
        assert self.field is not None
        return int(fields.get(self.field) or 0)

    def judge(
        self,
        fields: dict[str, Any],
        balance: int,
        facts: Facts,
        at: int,
        decision: tuple[bool, str] | None = None,
        measures: dict[str, Any] | None = None,
    ) -> tuple[int, str | None]:
        """(points to spend, None) for a granted claim, or (0, the reason in the rule's terms).

        A `where` reads facts as a decision does: those established before the claim's instant `at`.
        `decision` is the event's decision on the benefit named by `only when ... is granted`.
        """
        asked = self.asked(fields)
        if decision is not None and not decision[0]:
            return 0, f"asked {asked}: {self.decided} refused ({decision[1]})"
        if self.where is not None:
            seen = {**(measures or {}), **fields, "points": asked, "balance": balance}
            ok, words = self.where(seen, {}, facts, at)
            if not ok:
                return 0, f"asked {asked}: {words}"
        if self.sizes and asked not in self.sizes:
            return 0, f"asked {asked}: sizes are {', '.join(map(str, self.sizes))}"
        if self.at_least is not None and asked < self.at_least:
            return 0, f"asked {asked}: at least {self.at_least}"
        if self.at_most is not None and asked > self.at_most:
            return 0, f"asked {asked}: at most {self.at_most}"
        if self.multiple is not None and asked % self.multiple:
            return 0, f"asked {asked}: in multiples of {self.multiple}"
        whole = self.all_or_nothing or self.amount is not None or bool(self.sizes)
        whole = whole or self.at_least is not None or self.at_most is not None or self.multiple is not None
        if asked > balance and whole:
            return 0, f"asked {asked}, balance {balance}: all or nothing"
        if asked > 0 and balance == 0:
            return 0, f"asked {asked}, balance 0: nothing to spend"
        return min(asked, balance), None


def compile_redemption(
    r: ast.Redemption, fields: dict[str, str], measures: dict[str, str] | None = None, reads_measures: bool = False
) -> CompiledRedemption:
    def whole(lit: ast.Literal | None) -> int | None:
        return int(lit.value) if lit is not None else None

    where = None
    if r.where is not None:
        names = {**(measures or {}), **fields, **REDEEM_WHERE_NAMES}
        where = compile_explained(r.where, names, {}, name_fields=True)
    return CompiledRedemption(
        event=r.event.text,
        line=r.span.line,
        field=r.field.text if r.field is not None else None,
        amount=whole(r.amount),
        all_or_nothing=r.all_or_nothing,
        sizes=tuple(int(s.value) for s in r.sizes),
        at_least=whole(r.at_least),
        at_most=whole(r.at_most),
        multiple=whole(r.multiple),
        where=where,
        ruled=r.ruled,
        decided=r.decided.text if r.decided is not None else None,
        reads_measures=reads_measures,
    )
