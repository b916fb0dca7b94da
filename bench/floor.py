"""The floor: DuckDB merely loading a history, the least any tool reading it with DuckDB does.

    python bench/floor.py HISTORY.jsonl|HISTORY.parquet -o count.txt

Loads the columns the baseline reads (the same `events` view as baseline.py) into a table in
memory, and writes its number of rows. No query, no ordering: what is left of the baseline's
time once the work of the program is taken out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from baseline import connect


def load(history: Path) -> int:
    con = connect(history)
    con.execute("CREATE TEMP TABLE loaded AS SELECT * FROM events")
    row = con.execute("SELECT count(*) FROM loaded").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("history", type=Path, help="a .jsonl or .parquet history")
    parser.add_argument("-o", "--out", type=Path, required=True, help="where to write the number of rows")
    args = parser.parse_args()
    args.out.write_text(f"{load(args.history)}\n")


if __name__ == "__main__":
    main()
