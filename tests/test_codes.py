"""Every error code has one registered meaning, is raised somewhere, and has a broken case."""

from __future__ import annotations

import re
from pathlib import Path

from loyalty_dsl.language.codes import PROGRAM_CODES
from loyalty_dsl.language.lint import CODES as LINT_CODES

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "loyalty_dsl"
# Where the broken cases (tests/cases/broken/) are shown, by test_diagnostics.py.
SNAPSHOT = ROOT / "tests" / "__snapshots__" / "test_diagnostics.ambr"


def raised_codes() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if path.name != "codes.py":
            found |= set(re.findall(r'"(E\d{3})"', path.read_text()))
    return found


def test_every_raised_code_is_registered():
    assert sorted(raised_codes() - set(PROGRAM_CODES)) == []


def test_every_registered_code_is_raised():
    assert sorted(set(PROGRAM_CODES) - raised_codes()) == []


def test_meanings_are_distinct():
    meanings = list(PROGRAM_CODES.values())
    assert len(set(meanings)) == len(meanings)
    assert not set(PROGRAM_CODES) & set(LINT_CODES)


def test_every_code_has_a_broken_case():
    shown = set(re.findall(r"error\[(E\d{3})\]", SNAPSHOT.read_text()))
    # E900 is a bug's code: no program shows it; E249 only the language server shows (tests/test_lsp.py)
    missing = sorted(set(PROGRAM_CODES) - shown - {"E900", "E249"})
    assert missing == [], f"no case in tests/cases/broken/ shows {missing}"
