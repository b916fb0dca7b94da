"""An example program's two evaluators side by side, on a large history made for it.

    python bench/examples.py coffee_stars [--events 1000000] [--per-member 20] [--seed 1] [--cache DIR]

Writes a history of the example's event types (random, seeded) once into the cache, then runs
`loyalty run examples/programs/NAME.loy H --evaluator columnar` and `--evaluator per-member`
(`measure.py` around each), prints both times, peaks and their ratio, and whether the outputs
are the same bytes (exit 1 if not). bench/run.py's generator writes the shipped programs'
events; an example program reads others, so each example here names its own.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
from measure import measure

ROOT = Path(__file__).resolve().parent.parent
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)  # two years: to the end of 2025


def _coffee(rng: random.Random, member: str, n: int) -> Iterator[dict]:
    """Purchases (most), stars redeemed and rewards asked for, over two years."""
    for i in range(n):
        at = (START + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ")
        kind = rng.choices(["purchase", "reward_redeemed", "reward_asked"], [8, 1, 1])[0]
        event: dict = {"member": member, "type": kind, "at": at, "id": f"{member}-{i}"}
        if kind == "purchase":
            event |= {"order": f"o{i}", "amount": rng.randrange(100, 4000) / 100}
            event["paid_by"] = rng.choice(["card", "app", "cash"])
        elif kind == "reward_redeemed":
            event["stars"] = rng.choice([25, 100, 150])
        else:
            event["reward"] = f"r{i}"
        yield event


def _fiscal(rng: random.Random, member: str, n: int) -> Iterator[dict]:
    """Purchases and visits over two years (the program's caps are per quarter and per year)."""
    for i in range(n):
        at = (START + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ")
        event: dict = {"member": member, "type": rng.choice(["purchase", "visit"]), "at": at, "id": f"{member}-{i}"}
        if event["type"] == "purchase":
            event |= {"basket": f"b{i}", "total": rng.randrange(500, 9000) / 100}
        yield event


def _currencies(rng: random.Random, member: str, n: int) -> Iterator[dict]:
    """Orders in the program's currency and the two it has rates for (a fifth without one: USD)."""
    for i in range(n):
        at = (START + dt.timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ")
        event = {"member": member, "type": "order_confirmed", "at": at, "id": f"{member}-{i}", "order": f"o{i}"}
        event["amount"] = rng.randrange(100, 20000) / 100
        if rng.random() < 0.8:
            event["currency"] = rng.choice(["USD", "EUR", "GBP"])
        yield event


HISTORIES: dict[str, Callable[[random.Random, str, int], Iterator[dict]]] = {
    "coffee_stars": _coffee,
    "currencies": _currencies,
    "fiscal_calendar": _fiscal,
}


def history(name: str, events: int, per_member: int, seed: int, cache: Path) -> Path:
    path = cache / f"{name}_{events}_s{seed}_m{per_member}.jsonl"
    if path.exists():
        return path
    rng = random.Random(seed)
    with tempfile.NamedTemporaryFile("wb", dir=cache, delete=False) as out:
        for m in range(max(1, events // per_member)):
            out.writelines(orjson.dumps(e) + b"\n" for e in HISTORIES[name](rng, f"m{m:07d}", per_member))
    Path(out.name).rename(path)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", choices=sorted(HISTORIES))
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-member", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "loyalty-bench")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    source = history(args.name, args.events, args.per_member, args.seed, args.cache)
    program = ROOT / "examples" / "programs" / f"{args.name}.loy"
    exe = Path(sys.executable).with_name("loyalty")
    figures = {}
    with tempfile.TemporaryDirectory() as tmp:
        for evaluator in ("columnar", "per-member"):
            out = Path(tmp) / f"{evaluator}.jsonl"
            command = [str(exe), "run", str(program), str(source), "-q", "--evaluator", evaluator, "-o", str(out)]
            figures[evaluator] = measure(command, None, Path(tmp))
        same = (Path(tmp) / "columnar.jsonl").read_bytes() == (Path(tmp) / "per-member.jsonl").read_bytes()
    fast, slow = figures["columnar"], figures["per-member"]
    print(f"{args.name}, {args.events:,} events, {args.per_member} a member ({source.name})")
    for evaluator, m in figures.items():
        print(f"  {evaluator:<10} {m.seconds:8.2f} s  {m.pss_mib:8.0f} MiB (PSS)")
    print(f"  per-member / columnar: {slow.seconds / fast.seconds:.2f}x; same bytes: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
