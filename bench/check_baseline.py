"""Check that the DuckDB baselines agree with `loyalty run` on every member's points and tier.

    python bench/check_baseline.py [--events 200000] [--seed 7] [--history H.jsonl|H.parquet]
                                   [--program four_tier|legacy|both] [--as-of 2026-11-30,2026-06-15]
                                   [--commit REV]

Without --history, a history of --events lines is generated, as JSON Lines and as Parquet, and both
are checked. Each as-of date is checked: the end of a month (the four-tier recalculation is the end
of the day itself) and mid-month (it is the start of the month, events after it are not counted).
Prints the members compared and every mismatch (the first 20, with loyalty's points by rule); exits 1
on any mismatch. `loyalty` is the installed one unless --commit names a commit (see bench/run.py).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from baseline import run_baseline
from common import (
    AS_OF,
    PROGRAM_FILES,
    Standing,
    loyalty_command,
    loyalty_env,
    read_baseline,
    read_loyalty,
    snapshot,
)
from generate import generate

SHOWN = 20


def by_rule(outcomes: Path, members: set[str]) -> dict[str, Any]:
    with outcomes.open("rb") as f:
        rows = (orjson.loads(line) for line in f)
        return {r["member"]: r.get("points_by_rule") for r in rows if r["member"] in members}


def compare(loyalty: dict[str, Standing], baseline: dict[str, Standing]) -> list[str]:
    """One line per member whose standing differs, or who is in one result only."""
    problems = []
    for member in sorted(loyalty.keys() | baseline.keys()):
        mine, theirs = loyalty.get(member), baseline.get(member)
        if mine != theirs:
            problems.append(f"{member}: loyalty {mine}, baseline {theirs}")
    return problems


def check(program: str, history: Path, as_of: str, work: Path, source: Path | None) -> bool:
    loyalty_out = work / f"loyalty_{program}_{history.suffix[1:]}_{as_of}.jsonl"
    baseline_out = work / f"baseline_{program}_{history.suffix[1:]}_{as_of}.csv"
    command = loyalty_command(program, history, loyalty_out, as_of)
    subprocess.run(command, check=True, stderr=subprocess.DEVNULL, env=loyalty_env(source), cwd=work)
    run_baseline(program, history, as_of, baseline_out)
    loyalty, baseline = read_loyalty(loyalty_out), read_baseline(baseline_out)
    problems = compare(loyalty, baseline)
    print(f"{program:9} {history.name:15} as of {as_of}: {len(loyalty)} members compared, {len(problems)} mismatch(es)")
    rules = by_rule(loyalty_out, {p.split(":")[0] for p in problems[:SHOWN]})
    for line in problems[:SHOWN]:
        print(f"    {line}; loyalty by rule: {rules.get(line.split(':')[0])}")
    return not problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--history", type=Path, help="check this file instead of a generated one")
    parser.add_argument("--program", choices=[*PROGRAM_FILES, "both"], default="both")
    parser.add_argument("--as-of", default=f"{AS_OF},2026-06-15", help="comma-separated days (YYYY-MM-DD)")
    parser.add_argument("--commit", help="check loyalty as of this commit (default: the working tree)")
    args = parser.parse_args()
    programs = list(PROGRAM_FILES) if args.program == "both" else [args.program]
    with tempfile.TemporaryDirectory(prefix="loyalty-check-") as tmp:
        work = Path(tmp)
        source = snapshot(args.commit, work) if args.commit else None
        histories = [args.history.resolve()] if args.history else [work / "history.jsonl", work / "history.parquet"]
        if not args.history:
            generate(args.events, args.seed, histories[0], histories[1])
            print(f"generated {args.events} events (seed {args.seed})")
        days = args.as_of.split(",")
        results = [check(p, h, d, work, source) for p in programs for h in histories for d in days]
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
