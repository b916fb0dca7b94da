"""Time `loyalty run` (full outcomes) against the DuckDB baseline, in the same run, alternating.

    python bench/run.py [--sizes 1000000,2000000,5000000] [--repeat 3] [--program four_tier|legacy|both]
                        [--formats jsonl,parquet] [--seed 1] [--commit REV] [--cache DIR] [--json results.json]

The histories are generated once per size (JSON Lines and Parquet) and kept in a cache folder (by
default in the temporary folder, named after the generator's source, so a changed generator makes
new files). For each program, size and format, the two commands run as subprocesses `--repeat`
times each, alternating (loyalty first on even rounds, the baseline first on odd ones); each writes
its result to a file. Wall time is taken around the subprocess, peak memory is the subprocess's own
maximum resident set (os.wait4). The table gives the median of the runs, events per second, the
ratio loyalty/baseline and the largest peak. The results of the two are compared on every member's
points and tier (not timed).

`loyalty` is the installed one (this working tree, with its changes) unless --commit names a commit:
its tree is then extracted into the cache (`git archive`) and run from there, so a run measures one
known version even while the working tree changes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import attrs
import orjson
from common import (
    PROGRAM_FILES,
    baseline_command,
    loyalty_command,
    loyalty_env,
    loyalty_version,
    read_baseline,
    read_loyalty,
    snapshot,
)
from generate import generate

HERE = Path(__file__).resolve().parent
FORMATS = ("jsonl", "parquet")


@attrs.frozen
class Measure:
    seconds: float
    peak_mib: float


@attrs.define
class Row:
    program: str
    events: int
    fmt: str
    loyalty: list[Measure] = attrs.field(factory=list)
    baseline: list[Measure] = attrs.field(factory=list)
    agree: bool | None = None

    def summary(self) -> dict[str, Any]:
        loyalty_s = statistics.median(m.seconds for m in self.loyalty)
        baseline_s = statistics.median(m.seconds for m in self.baseline)
        return {
            "program": self.program,
            "events": self.events,
            "format": self.fmt,
            "loyalty_s": round(loyalty_s, 2),
            "baseline_s": round(baseline_s, 2),
            "loyalty_events_per_s": round(self.events / loyalty_s),
            "baseline_events_per_s": round(self.events / baseline_s),
            "ratio": round(loyalty_s / baseline_s, 2),
            "loyalty_peak_mib": round(max(m.peak_mib for m in self.loyalty)),
            "baseline_peak_mib": round(max(m.peak_mib for m in self.baseline)),
            "agree": self.agree,
            "runs": len(self.loyalty),
        }


# --- inputs ---------------------------------------------------------------------------------


def default_cache() -> Path:
    digest = hashlib.sha256((HERE / "generate.py").read_bytes()).hexdigest()[:12]
    return Path(tempfile.gettempdir()) / f"loyalty-bench-{digest}"


def history(cache: Path, events: int, seed: int, fmt: str) -> Path:
    """The cached history of `events` lines, generated (both formats) if missing."""
    base = cache / f"h{events}_s{seed}"
    jsonl, parquet = base.with_suffix(".jsonl"), base.with_suffix(".parquet")
    if not (jsonl.exists() and parquet.exists()):
        cache.mkdir(parents=True, exist_ok=True)
        tmp_jsonl, tmp_parquet = base.with_suffix(".jsonl.tmp"), base.with_suffix(".parquet.tmp")
        log(f"generating {events} events (seed {seed})")
        generate(events, seed, tmp_jsonl, tmp_parquet)
        tmp_jsonl.replace(jsonl)
        tmp_parquet.replace(parquet)
    return jsonl if fmt == "jsonl" else parquet


# --- measuring ---------------------------------------------------------------------------------


def measure(command: list[str], env: dict[str, str] | None, cwd: Path) -> Measure:
    """Run a command; its wall time and its own peak resident memory."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    assert proc.stderr is not None
    errors = proc.stderr.read()  # drained while it runs; closed at its exit
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(command)}\n{errors.decode(errors='replace')}")
    return Measure(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def bench_one(program: str, events: int, fmt: str, path: Path, repeat: int, work: Path, source: Path | None) -> Row:
    row = Row(program, events, fmt)
    loyalty_out, baseline_out = work / "loyalty.jsonl", work / "baseline.csv"
    commands = {
        "loyalty": (loyalty_command(program, path, loyalty_out), loyalty_env(source)),
        "baseline": (baseline_command(program, path, baseline_out), None),
    }
    for round_ in range(repeat):
        order = ("loyalty", "baseline") if round_ % 2 == 0 else ("baseline", "loyalty")
        for name in order:
            m = measure(*commands[name], cwd=work)  # not the checkout: it would shadow --commit's tree
            getattr(row, name).append(m)
            log(f"  {program} {events} {fmt} {name}: {m.seconds:.2f} s, {m.peak_mib:.0f} MiB")
    row.agree = read_loyalty(loyalty_out) == read_baseline(baseline_out)
    return row


# --- output ---------------------------------------------------------------------------------

HEADERS = [
    ("program", "program"),
    ("events", "events"),
    ("format", "format"),
    ("loyalty_s", "loyalty s"),
    ("baseline_s", "baseline s"),
    ("loyalty_events_per_s", "loyalty ev/s"),
    ("baseline_events_per_s", "baseline ev/s"),
    ("ratio", "ratio"),
    ("loyalty_peak_mib", "loyalty MiB"),
    ("baseline_peak_mib", "baseline MiB"),
    ("agree", "agree"),
]


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of the summaries."""
    cells = [[_cell(r[key]) for key, _ in HEADERS] for r in rows]
    head = [title for _, title in HEADERS]
    widths = [max(len(c) for c in column) for column in zip(head, *cells, strict=True)]
    lines = [head, ["-" * w for w in widths], *cells]
    return "\n".join("| " + " | ".join(c.rjust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in lines)


def _cell(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int) and value >= 10_000:
        return f"{value:,}"
    return str(value)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000000,2000000,5000000", help="comma-separated numbers of events")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command per size and format")
    parser.add_argument("--program", choices=[*PROGRAM_FILES, "both"], default="four_tier")
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated: jsonl, parquet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--commit", help="measure loyalty as of this commit (default: the working tree)")
    parser.add_argument("--cache", type=Path, default=None, help="where the generated histories are kept")
    parser.add_argument("--json", type=Path, help="also write the summaries and every run as JSON here")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    programs = list(PROGRAM_FILES) if args.program == "both" else [args.program]
    cache = args.cache or default_cache()
    source = snapshot(args.commit, cache) if args.commit else None
    version = loyalty_version(source)
    log(f"loyalty {version}; histories in {cache}")
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="loyalty-bench-out-") as tmp:
        for events in sizes:
            for fmt in args.formats.split(","):
                path = history(cache, events, args.seed, fmt)
                rows.extend(bench_one(p, events, fmt, path, args.repeat, Path(tmp), source) for p in programs)
    summaries = [r.summary() for r in rows]
    print(f"loyalty {version}, {args.repeat} run(s) each, medians\n")
    print(table(summaries))
    if args.json:
        runs = [attrs.asdict(r) for r in rows]
        result = {"loyalty": version, "summaries": summaries, "runs": runs}
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
