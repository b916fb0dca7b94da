"""The baseline: a hand-written DuckDB query computing each member's points and tier (or level).

    python bench/baseline.py four_tier HISTORY.jsonl|HISTORY.parquet --as-of 2026-11-30 -o result.csv

Runs `baseline_<program>.sql` over the history file and writes `member,points,tier` as CSV, ordered
by member. The query reads a view `events` with one row a line and `line` its position in the file:
made here from JSON Lines (row_number over the scan, which keeps the file order) or from Parquet
(the file's own row numbers).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
PROGRAMS = ("four_tier", "legacy")
_COLUMNS = """{member: 'VARCHAR', type: 'VARCHAR', "at": 'VARCHAR', id: 'VARCHAR', "order": 'VARCHAR',
    amount: 'DOUBLE', category: 'VARCHAR', points: 'BIGINT'}"""


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def source_sql(history: Path) -> str:
    """The `events` view over a JSON Lines or Parquet history."""
    if history.suffix == ".parquet":
        return (
            'SELECT member, type, "at", id, "order", amount, category, points, file_row_number AS line '
            f"FROM read_parquet({_quoted(history)}, file_row_number = true)"
        )
    return (
        "SELECT *, row_number() OVER () AS line "
        f"FROM read_json({_quoted(history)}, format = 'newline_delimited', columns = {_COLUMNS})"
    )


def query_sql(program: str) -> str:
    return (HERE / f"baseline_{program}.sql").read_text()


def connect(history: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW events AS {source_sql(history)}")
    return con


def run_baseline(program: str, history: Path, as_of: str, out: Path) -> int:
    """Write the program's points and tiers as CSV; returns the number of members."""
    con = connect(history)
    con.execute(f"CREATE TEMP TABLE result AS {query_sql(program)}", {"as_of": as_of})
    con.execute(f"COPY result TO {_quoted(out)} (HEADER, DELIMITER ',')")
    row = con.execute("SELECT count(*) FROM result").fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("program", choices=PROGRAMS)
    parser.add_argument("history", type=Path, help="a .jsonl or .parquet history")
    parser.add_argument("--as-of", default="2026-11-30", help="evaluate at the end of this day (YYYY-MM-DD)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the CSV file to write")
    args = parser.parse_args()
    run_baseline(args.program, args.history, args.as_of, args.out)


if __name__ == "__main__":
    main()
