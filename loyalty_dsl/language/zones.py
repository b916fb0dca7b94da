"""The time zones a program may declare: the IANA names of the bundled tz database.

Only the `tzdata` package's names are accepted, never what the host happens to
resolve (`localtime`, `posixrules`, files under its own zoneinfo folder): the
same program must mean the same days on every machine.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def iana_names() -> tuple[str, ...]:
    """Every zone name tzdata ships (its `zones` list, links such as `US/Eastern` included), sorted."""
    listed = resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8")
    return tuple(sorted(set(listed.split())))


@cache
def _known() -> frozenset[str]:
    return frozenset(iana_names())


def is_iana(name: str) -> bool:
    return name in _known()
