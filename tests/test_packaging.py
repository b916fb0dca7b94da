"""The installed command works from any directory, with the grammar inside the package."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_WHERE = (
    "import importlib.resources, loyalty_dsl;"
    "print(loyalty_dsl.__file__);"
    "print(importlib.resources.files('loyalty_dsl').joinpath('grammar/loyalty.lark').is_file())"
)


def test_installed_package_carries_its_grammar(tmp_path):
    out = subprocess.run([sys.executable, "-c", _WHERE], cwd=tmp_path, capture_output=True, text=True, check=True)
    location, packaged = out.stdout.split()
    if Path(location).resolve().is_relative_to(ROOT):
        pytest.skip("loyalty_dsl is imported from the source tree (editable install)")
    assert packaged == "True"


def test_console_script_runs_outside_the_checkout(tmp_path):
    exe = shutil.which("loyalty") or str(Path(sys.executable).parent / "loyalty")
    if not Path(exe).exists():
        pytest.skip("the loyalty script is not installed")
    result = subprocess.run(
        [
            exe,
            "run",
            str(ROOT / "programs" / "four_tier.loy"),
            str(ROOT / "examples" / "history.jsonl"),
            "--as-of",
            "2026-11-30",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('{"member":')
    assert "events:" in result.stderr
