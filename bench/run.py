"""Time `loyalty run` (full outcomes) beside the DuckDB baseline and the floor, in the same run.

    python bench/run.py [--sizes 1000000,2000000,5000000] [--shapes 20,200] [--repeat 3]
                        [--program four_tier|legacy|four_tier_zoned|four_tier_zoned_full|
                                   four_tier_zoned_claims|both|all]
                        [--formats jsonl,parquet]
                        [--seed 1] [--commit REV] [--cache DIR] [--json results.json]
                        [--check-evaluators] [--check-sizes 1000000] [--engine local|dask]

The histories are generated once per size and shape (lines a member on average), as JSON Lines
and Parquet, and kept in a cache folder (by default in the temporary folder, named after the
generator's source, so a changed generator makes new files). For each history, the commands run
as subprocesses `--repeat` times each, taking turns (the order turns by one each round):
`loyalty run` of each program, the hand-written DuckDB query of each program that has one
(bench/baseline.py), and the floor, DuckDB merely loading the file (bench/floor.py). Wall time
is taken around the subprocess; peak memory is that of the process tree (bench/measure.py). The
table gives the medians, the ratios of loyalty's time to the baseline's and the floor's and of its
memory to the baseline's, and whether loyalty and the baseline agree on every member's points and
tier (not timed). `four_tier_zoned` (bench/programs/) is the four-tier program in Asia/Shanghai,
`four_tier_zoned_full` that plus `points expire after 12 months` and a campaign multiplier, and
`four_tier_zoned_claims` that plus a redemption (20 points a fast refund, only when granted):
no baseline of their own, so they stand beside the four-tier one's, and their times are also
given as ratios to the four-tier program's (issue 15's target for the full one: at most 1.25).

With --check-evaluators, loyalty also runs with `--evaluator columnar` and with `--evaluator
per-member` on the histories of --check-sizes (by default the sizes up to 1M, or the smallest),
and the column `evaluators` says whether the two outputs are the same bytes (`n/a`: the program
does not run on the columnar path).

`--engine dask` runs loyalty with `--engine dask -j 2` (a LocalCluster of 2 workers, 4 member
partitions) instead of the local engine.

`loyalty` is the installed one (this working tree, with its changes) unless --commit names a commit:
its tree is then extracted into the cache (`git archive`) and run from there, so a run measures one
known version even while the working tree changes.
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import attrs
import orjson
from common import (
    BENCH_PROGRAMS,
    PROGRAM_FILES,
    VARIANTS,
    baseline_command,
    check_variants,
    loyalty_command,
    loyalty_env,
    loyalty_version,
    read_baseline,
    read_loyalty,
    snapshot,
)
from generate import generate
from measure import Failed, Measure, measure

HERE = Path(__file__).resolve().parent
FORMATS = ("jsonl", "parquet")
SHAPES = (20, 200)  # lines a member on average: many light members, or fewer busy ones


@attrs.define
class Row:
    program: str
    events: int
    shape: int
    fmt: str
    loyalty: list[Measure] = attrs.field(factory=list)
    baseline: list[Measure] = attrs.field(factory=list)  # the program's own, or its shipped program's
    floor: list[Measure] = attrs.field(factory=list)
    agree: bool | None = None  # None: no baseline of its own
    evaluators: str = ""  # "same", "DIFFER", "n/a", or "" when not checked
    zoned_ratio: float | None = None  # a variant's time over its shipped program's

    def summary(self) -> dict[str, Any]:
        loyalty_s, baseline_s, floor_s = (_median(ms) for ms in (self.loyalty, self.baseline, self.floor))
        loyalty_mib, baseline_mib, floor_mib = (_peak(ms) for ms in (self.loyalty, self.baseline, self.floor))
        return {
            "program": self.program,
            "shape": self.shape,
            "events": self.events,
            "format": self.fmt,
            "loyalty_s": round(loyalty_s, 2),
            "baseline_s": round(baseline_s, 2),
            "floor_s": round(floor_s, 2),
            "vs_baseline": round(loyalty_s / baseline_s, 2),
            "vs_floor": round(loyalty_s / floor_s, 2),
            "loyalty_mib": round(loyalty_mib),
            "baseline_mib": round(baseline_mib),
            "floor_mib": round(floor_mib),
            "mem_vs_baseline": round(loyalty_mib / baseline_mib, 2),
            "loyalty_pss_mib": round(max(m.pss_mib for m in self.loyalty)),
            "agree": self.agree,
            "evaluators": self.evaluators,
            "vs_shipped": self.zoned_ratio if self.zoned_ratio is not None else "",
            "runs": len(self.loyalty),
        }


def _median(ms: list[Measure]) -> float:
    return statistics.median(m.seconds for m in ms)


def _peak(ms: list[Measure]) -> float:
    return max(m.peak_mib for m in ms)


# --- inputs ---------------------------------------------------------------------------------


def default_cache() -> Path:
    digest = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"loyalty-bench-{digest}"


def history(cache: Path, events: int, seed: int, shape: int, fmt: str) -> Path:
    """The cached history of `events` lines, `shape` a member, generated (both formats) if missing."""
    base = cache / f"h{events}_s{seed}_m{shape}"
    jsonl, parquet = base.with_suffix(".jsonl"), base.with_suffix(".parquet")
    if not (jsonl.exists() and parquet.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        tmp_jsonl, tmp_parquet = base.with_suffix(".jsonl.tmp"), base.with_suffix(".parquet.tmp")
        log(f"generating {events} events (seed {seed}, {shape} a member)")
        generate(events, seed, tmp_jsonl, tmp_parquet, shape)
        tmp_jsonl.replace(jsonl)
        tmp_parquet.replace(parquet)
    return jsonl if fmt == "jsonl" else parquet


# --- measuring ---------------------------------------------------------------------------------


def baseline_of(program: str) -> str:
    return VARIANTS.get(program, program)


def bench_history(
    programs: list[str],
    events: int,
    shape: int,
    fmt: str,
    path: Path,
    repeat: int,
    work: Path,
    source: Path | None,
    engine: tuple[str, ...] = (),
) -> list[Row]:
    """Every program's row on one history: the commands take turns, round after round."""
    env = loyalty_env(source)
    out = {p: work / f"{p}.jsonl" for p in programs}
    baselines = sorted({baseline_of(p) for p in programs})
    base_out = {b: work / f"baseline_{b}.csv" for b in baselines}
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        **{f"loyalty {p}": (loyalty_command(p, path, out[p], extra=engine), env) for p in programs},
        **{f"baseline {b}": (baseline_command(b, path, base_out[b]), None) for b in baselines},
        "floor": ([sys.executable, str(HERE / "floor.py"), str(path), "-o", str(work / "floor.txt")], None),
    }
    names = list(commands)
    measured: dict[str, list[Measure]] = {name: [] for name in names}
    for round_ in range(repeat):
        turn = round_ % len(names)
        for name in names[turn:] + names[:turn]:
            m = measure(*commands[name], cwd=work)  # not the checkout: it would shadow --commit's tree
            measured[name].append(m)
            log(f"  {events} {shape}/member {fmt} {name}: {m.seconds:.2f} s, {m.peak_mib:.0f} MiB")
    rows = []
    for p in programs:
        b = baseline_of(p)
        row = Row(p, events, shape, fmt, measured[f"loyalty {p}"], measured[f"baseline {b}"], measured["floor"])
        if b == p:
            row.agree = read_loyalty(out[p]) == read_baseline(base_out[b])
        rows.append(row)
    for row in rows:
        shipped = next((r for r in rows if r.program == VARIANTS.get(row.program)), None)
        if shipped is not None:
            row.zoned_ratio = round(_median(row.loyalty) / _median(shipped.loyalty), 2)
    return rows


def check_evaluators(program: str, path: Path, work: Path, source: Path | None) -> str:
    """Whether `--evaluator columnar` and `--evaluator per-member` write the same bytes."""
    outputs = {}
    for evaluator in ("columnar", "per-member"):
        out = work / f"check_{evaluator}.jsonl"
        command = loyalty_command(program, path, out, extra=("--evaluator", evaluator))
        done = subprocess.run(command, capture_output=True, env=loyalty_env(source), cwd=work)
        if done.returncode == 2 and evaluator == "columnar" and b"--evaluator columnar" in done.stderr:
            return "n/a"  # the program is off the columnar path
        if done.returncode != 0:
            raise Failed(f"failed ({done.returncode}): {' '.join(command)}\n{done.stderr.decode(errors='replace')}")
        outputs[evaluator] = out.read_bytes()
    return "same" if outputs["columnar"] == outputs["per-member"] else "DIFFER"


# --- output ---------------------------------------------------------------------------------

HEADERS = [
    ("program", "program"),
    ("shape", "lines/member"),
    ("events", "events"),
    ("format", "format"),
    ("loyalty_s", "loyalty s"),
    ("baseline_s", "baseline s"),
    ("floor_s", "floor s"),
    ("vs_baseline", "x baseline"),
    ("vs_floor", "x floor"),
    ("loyalty_mib", "loyalty MiB"),
    ("baseline_mib", "baseline MiB"),
    ("floor_mib", "floor MiB"),
    ("mem_vs_baseline", "mem x baseline"),
    ("agree", "agree"),
    ("evaluators", "evaluators"),
    ("vs_shipped", "x four_tier"),
]


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the summaries (columns nobody filled are left out)."""
    headers = [(key, title) for key, title in HEADERS if any(r[key] not in (None, "") for r in rows)]
    cells = [[_cell(r[key]) for key, _ in headers] for r in rows]
    head = [title for _, title in headers]
    widths = [max(len(c) for c in column) for column in zip(head, *cells, strict=True)]
    lines = [head, ["-" * w for w in widths], *cells]
    return "\n".join("| " + " | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines)


def _cell(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _programs(choice: str) -> list[str]:
    if choice == "all":
        return list(BENCH_PROGRAMS)
    return list(PROGRAM_FILES) if choice == "both" else [choice]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,2000000,5000000", help="comma-separated numbers of events")
    parser.add_argument("--shapes", default=",".join(map(str, SHAPES)), help="comma-separated lines a member")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command per history")
    parser.add_argument("--program", choices=[*BENCH_PROGRAMS, "both", "all"], default="all")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: jsonl, parquet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commit", help="measure loyalty as of this commit (default: the working tree)")
    parser.add_argument("--cache", type=Path, default=None, help="where the generated histories are kept")
    parser.add_argument("--json", type=Path, help="also write the summaries and every run as JSON here")
    parser.add_argument("--check-evaluators", action="store_true", help="compare the two evaluators' outputs")
    parser.add_argument("--check-sizes", help="sizes whose outputs --check-evaluators compares")
    parser.add_argument("--engine", choices=["local", "dask"], default="local", help="loyalty's engine")
    args = parser.parse_args()
    check_variants()
    sizes = [int(s) for s in args.sizes.split(",")]
    shapes = [int(s) for s in args.shapes.split(",")]
    checked = {int(s) for s in args.check_sizes.split(",")} if args.check_sizes else _small(sizes)
    programs = _programs(args.program)
    engine = ("--engine", "dask", "-j", "2") if args.engine == "dask" else ()
    cache = args.cache or default_cache()
    source = snapshot(args.commit, cache) if args.commit else None
    version = loyalty_version(source)
    log(f"loyalty {version}; histories in {cache}")
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="loyalty-bench-out-") as tmp:
            work = Path(tmp)
            for events in sizes:
                for shape in shapes:
                    for fmt in args.formats.split(","):
                        path = history(cache, events, args.seed, shape, fmt)
                        found = bench_history(programs, events, shape, fmt, path, args.repeat, work, source, engine)
                        if args.check_evaluators and events in checked:
                            for row in found:
                                row.evaluators = check_evaluators(row.program, path, work, source)
                                log(f"  {events} {shape}/member {fmt} {row.program}: evaluators {row.evaluators}")
                        rows.extend(found)
    except Failed as err:
        raise SystemExit(str(err)) from None
    summaries = [r.summary() for r in rows]
    on = " on a Dask LocalCluster of 2 workers" if args.engine == "dask" else ""
    print(f"loyalty {version}{on}, {args.repeat} run(s) each, medians; peak memory of the process tree (RSS)\n")
    print(table(summaries))
    if args.json:
        runs = [attrs.asdict(r) for r in rows]
        result = {"loyalty": version, "summaries": summaries, "runs": runs}
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


def _small(sizes: list[int]) -> set[int]:
    """The sizes --check-evaluators compares by default: up to 1M, or else the smallest."""
    return {s for s in sizes if s <= 1_000_000} or {min(sizes)}


if __name__ == "__main__":
    main()
