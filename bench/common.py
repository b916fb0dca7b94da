"""What the benchmark scripts share: where things are, and how `loyalty run` is called."""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import orjson

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PROGRAM_FILES = {
    "four_tier": REPO / "programs" / "four_tier.loy",
    "legacy": REPO / "programs" / "legacy_a0_a4.loy",
}
# Programs measured beside the shipped ones, and the shipped program each varies (issue 15).
VARIANTS = {"four_tier_zoned": "four_tier", "four_tier_zoned_full": "four_tier", "four_tier_zoned_claims": "four_tier"}
BENCH_PROGRAMS = {**PROGRAM_FILES, **{name: HERE / "programs" / f"{name}.loy" for name in VARIANTS}}
# What a variant adds at its end, beyond its zone.
ADDITIONS = {
    "four_tier_zoned_full": "\n# Bench variant: points expire, and shopping earns double on 11 November.\n"
    "points expire after 12 months\nmultiply shopping by 2 during 11 November\n",
    "four_tier_zoned_claims": "\n# Bench variant: points expire, shopping earns double on 11 November, and a fast\n"
    "# refund costs 20 points.\npoints expire after 12 months\nmultiply shopping by 2 during 11 November\n"
    "redeem 20 points by refund_requested, only when fast_refund is granted\n",
}
AS_OF = "2026-11-30"

Standing = tuple[int, str | None]  # points, tier (or level)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def snapshot(rev: str, cache: Path) -> Path:
    """The source tree of a commit, extracted once into `cache` (`git archive`: the repository is only read)."""
    sha = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    target = cache / f"src-{sha[:12]}"
    if not target.exists():
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], check=True, capture_output=True).stdout
        partial = target.with_name(target.name + ".tmp")
        shutil.rmtree(partial, ignore_errors=True)
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(partial, filter="data")
        partial.rename(target)
    return target


def loyalty_env(source: Path | None) -> dict[str, str] | None:
    """The environment that makes `loyalty` run from `source` (None: the installed package)."""
    return None if source is None else {**os.environ, "PYTHONPATH": str(source)}


def loyalty_version(source: Path | None) -> str:
    """What is measured: a commit, or the working tree (`-dirty` when it has changes)."""
    if source is not None:
        return source.name.removeprefix("src-")
    return git("describe", "--always", "--dirty")


def check_variants() -> None:
    """Each variant is its shipped program with only the time zone changed (and its ADDITIONS at
    the end): a changed shipped program must be copied again (the benchmark would compare two
    different programs)."""
    for variant, shipped in VARIANTS.items():
        zone = re.compile(r'^timezone "[^"]*"\n', re.MULTILINE)
        mine = "".join(BENCH_PROGRAMS[variant].read_text().splitlines(keepends=True)[3:])  # after its note
        added = ADDITIONS.get(variant, "")
        if not mine.endswith(added) or zone.sub("", mine.removesuffix(added)) != zone.sub(
            "", PROGRAM_FILES[shipped].read_text()
        ):
            raise SystemExit(f"{BENCH_PROGRAMS[variant]} is no longer {PROGRAM_FILES[shipped]} but its zone")


def loyalty_command(
    program: str, history: Path, out: Path, as_of: str = AS_OF, extra: tuple[str, ...] = ()
) -> list[str]:
    """`loyalty run` with full outcomes as JSON Lines, written to `out`."""
    exe = Path(sys.executable).with_name("loyalty")
    head = [str(exe)] if exe.exists() else [shutil.which("loyalty") or "loyalty"]
    program_file = str(BENCH_PROGRAMS[program])
    return [*head, "run", program_file, str(history), "--as-of", as_of, "--format", "jsonl", "-o", str(out), *extra]


def baseline_command(program: str, history: Path, out: Path, as_of: str = AS_OF) -> list[str]:
    return [sys.executable, str(HERE / "baseline.py"), program, str(history), "--as-of", as_of, "-o", str(out)]


def read_loyalty(path: Path) -> dict[str, Standing]:
    with path.open("rb") as f:
        rows = (orjson.loads(line) for line in f)
        return {r["member"]: (r["points"], r["tier"]) for r in rows}


def read_baseline(path: Path) -> dict[str, Standing]:
    with path.open(newline="") as f:
        rows = csv.reader(f)
        next(rows)  # header: member,points,tier
        return {member: (int(points), tier or None) for member, points, tier in rows}
