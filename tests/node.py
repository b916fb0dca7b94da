"""Node.js and npm packages, for the tests that run the VS Code extension's parts as the editor does.

Packages are installed once into a folder under ~/.cache/loyalty-dsl/, one folder per set of
packages: npm removes from a folder what the install at hand does not name. Without node and npm
those tests skip, unless LOYALTY_NEEDS_NODE is set (`.ci/run` sets it, having installed them),
where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

CACHE = Path.home() / ".cache" / "loyalty-dsl"
NEEDED = bool(os.environ.get("LOYALTY_NEEDS_NODE"))


def node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if NEEDED:
            pytest.fail("node and npm are not on PATH; .ci/run installs them (apt-get install nodejs npm)")
        pytest.skip("node and npm are not installed (apt-get install nodejs npm); .ci/run installs them")
    return node, npm


def _installed(modules: Path, package: str) -> bool:
    name, _, version = package.rpartition("@")  # "@scope/name@1.2.3" too
    manifest = modules / name / "package.json"
    return manifest.is_file() and json.loads(manifest.read_text(encoding="utf-8")).get("version") == version


def npm_install(npm: str, folder: Path, packages: list[str]) -> Path:
    """The node_modules folder of `folder`, holding `packages` (each NAME@VERSION), installed once."""
    modules = folder / "node_modules"
    if not all(_installed(modules, p) for p in packages):
        folder.mkdir(parents=True, exist_ok=True)
        cmd = [npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", str(folder), *packages]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    return modules
