"""Arithmetic on decimals done exactly: amounts times rates, sums of amounts, multipliers.

A number read from a history or a program is held as the double nearest the decimal
written, and such doubles compare as their decimals do. Products and sums of doubles do
not (45 x 1.4 is 62.99999999999999 in binary), so they are computed on the decimals
themselves, and a result is rounded (down, for points) only once, at the end.
"""

from __future__ import annotations

import decimal
import math
from decimal import Decimal
from fractions import Fraction

# Enough digits that a product of an amount and a rate is never rounded; beyond a double's
# range it is infinite, as the double product was.
_CONTEXT = decimal.Context(prec=60, traps=[])


def decimal_of(value: int | float | Decimal) -> Decimal:
    """The decimal a number stands for: a double's shortest text, which is the text it was read from."""
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def times(amount: int | float, rate: Decimal) -> float:
    """An amount times a rate, exactly, then held as the nearest double like any amount read."""
    return float(_CONTEXT.multiply(decimal_of(amount), rate))


def factor_of(text: str) -> Fraction:
    """A multiplier as written ("1.4"), exactly: 7/5."""
    return Fraction(text)


def multiplied(points: int, factor: Fraction) -> int:
    """Points times a factor, rounded down once."""
    return points if factor == 1 else math.floor(points * factor)


def rate_of(text: str) -> Decimal | None:
    """A rate as written, or None for text that is no finite number above 0."""
    try:
        rate = Decimal(text.strip())
    except decimal.InvalidOperation:
        return None
    return rate if rate.is_finite() and rate > 0 and math.isfinite(float(rate)) else None
