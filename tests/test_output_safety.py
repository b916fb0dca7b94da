"""What `loyalty run` writes: never over its inputs, with the files' modes and links kept,
CSV with every field and no formula, a table no member id can forge rows in."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from loyalty_dsl.cli import main
from loyalty_dsl.io.outputs_safe import OutputRefused, refuse_clashes

ROOT = Path(__file__).resolve().parent.parent
FOUR = ROOT / "programs" / "four_tier.loy"
SPENDABLE = ROOT / "examples" / "programs" / "spendable_points.loy"
EXAMPLES = ROOT / "examples" / "programs"
LINES = [
    {"member": "b", "type": "bonus", "at": "2026-01-10", "points": 900, "id": "1"},
    {"member": "a", "type": "visit", "at": "2026-02-01", "id": "2"},
]


def jsonl(lines: list[dict]) -> bytes:
    return b"".join(orjson.dumps(x) + b"\n" for x in lines)


def invoke(*args: object, input: bytes | None = None, columns: int = 80):
    return CliRunner().invoke(
        main, [str(a) for a in args], input=input, env={"COLUMNS": str(columns)}, catch_exceptions=False
    )


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """A program and a history, copied so that a run that destroyed them would show it."""
    program = tmp_path / "p.loy"
    program.write_bytes(FOUR.read_bytes())
    history = tmp_path / "h.jsonl"
    history.write_bytes(jsonl(LINES))
    return {"program": program, "history": history}


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- issue 17 item 1: an output naming an input --------------------------------------------


@pytest.mark.parametrize(
    ("option", "target", "role"),
    [
        ("--output", "history", "the history file"),
        ("--output", "./history", "the history file"),
        ("--output", "link to history", "the history file"),
        ("--output", "hard link to history", "the history file"),
        ("--summary", "program", "the program"),
        ("--summary", "../dir/program", "the program"),
        ("--ledger", "link to history", "the history file"),
    ],
)
def test_an_output_naming_an_input_is_refused_before_anything_is_read(
    files, tmp_path, monkeypatch, option, target, role
):
    work = tmp_path / "dir"
    work.mkdir()
    for name, path in files.items():  # inputs inside the working folder, named relatively
        path.rename(work / path.name)
        files[name] = work / path.name
    monkeypatch.chdir(work)
    (work / "link.jsonl").symlink_to("h.jsonl")
    os.link(work / "h.jsonl", work / "hard.jsonl")
    spelt = {
        "history": "h.jsonl",
        "./history": "./h.jsonl",
        "link to history": "link.jsonl",
        "hard link to history": "hard.jsonl",
        "program": "p.loy",
        "../dir/program": "../dir/p.loy",
    }[target]
    before = {name: path.read_bytes() for name, path in files.items()}
    result = invoke("run", "p.loy", "h.jsonl", option, spelt)
    assert result.exit_code == 2
    assert f"{option} {spelt} is {role}" in result.stderr  # both roles named
    assert "events:" not in result.stderr  # refused before reading: no counts
    assert {name: path.read_bytes() for name, path in files.items()} == before
    assert (work / "link.jsonl").is_symlink()


def test_an_output_inside_a_history_folder_is_refused(files, tmp_path):
    folder = tmp_path / "history"
    folder.mkdir()
    files["history"].rename(folder / "part.jsonl")
    result = invoke("run", files["program"], folder, "-o", folder / "part.jsonl")
    assert result.exit_code == 2 and "is the history file" in result.stderr
    assert (folder / "part.jsonl").read_bytes() == jsonl(LINES)


def test_a_refused_output_is_refused_even_when_the_program_is_broken(files, tmp_path):
    """Nothing is read first: the program's problems are not even looked at."""
    files["program"].write_text("tier T from 0 points: prek\n")
    result = invoke("run", files["program"], files["history"], "--summary", files["program"])
    assert result.exit_code == 2
    assert "is the program" in result.stderr and "E103" not in result.stderr
    assert files["program"].read_text() == "tier T from 0 points: prek\n"


def test_diff_output_naming_a_program_is_refused(files):
    result = invoke("diff", files["program"], FOUR, files["history"], "-o", files["program"])
    assert result.exit_code == 2 and "is program A" in result.stderr
    assert files["program"].read_bytes() == FOUR.read_bytes()


def test_the_rates_file_is_an_input_too(tmp_path):
    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nEUR,1.1\n")
    with pytest.raises(OutputRefused, match=r"--summary \S*rates.csv is the rates file"):
        refuse_clashes({"the rates file": [str(rates)]}, {"--summary": str(rates)})


@pytest.mark.parametrize("spelling", ["same", "./", "dangling symlink"])
def test_two_outputs_naming_one_file_are_refused(files, tmp_path, monkeypatch, spelling):
    monkeypatch.chdir(tmp_path)
    second = {"same": "out.jsonl", "./": "./out.jsonl", "dangling symlink": "link.jsonl"}[spelling]
    (tmp_path / "link.jsonl").symlink_to("out.jsonl")  # out.jsonl does not exist yet
    result = invoke("run", files["program"], files["history"], "-o", "out.jsonl", "--summary", second)
    assert result.exit_code == 2
    assert f"--output out.jsonl and --summary {second} are the same file" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_discarding_two_outputs_in_dev_null_is_fine(files):
    """Guard: a device is not a file a run replaces, so naming it twice is allowed."""
    result = invoke("run", files["program"], files["history"], "-o", os.devnull, "--summary", os.devnull)
    assert result.exit_code == 0, result.stderr


# --- issue 17 item 13: modes and symlinks of outputs ---------------------------------------


def test_new_outputs_get_the_umask_s_mode(files, tmp_path):
    out, summary, ledger = tmp_path / "out.jsonl", tmp_path / "summary.json", tmp_path / "ledger.jsonl"
    with umask(0o022):  # 0666 & ~022 = 0644, as `touch` would make them
        args = ("-o", out, "--summary", summary, "--ledger", ledger)
        assert invoke("run", files["program"], files["history"], *args).exit_code == 0
    assert [mode(p) for p in (out, summary, ledger)] == [0o644, 0o644, 0o644]
    with umask(0o027):  # 0666 & ~027 = 0640
        assert invoke("run", files["program"], files["history"], "-o", tmp_path / "new.jsonl").exit_code == 0
    assert mode(tmp_path / "new.jsonl") == 0o640


def test_an_existing_output_keeps_its_mode(files, tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("previous\n")
    out.chmod(0o664)  # neither 0600 nor what the umask below would give
    with umask(0o077):
        assert invoke("run", files["program"], files["history"], "-o", out).exit_code == 0
    assert mode(out) == 0o664
    assert out.read_text().count("\n") == 2  # replaced by the two members' outcomes
    files["program"].write_text(FOUR.read_text() + "\n\n\n")  # `fmt` rewrites a program in place
    files["program"].chmod(0o644)
    with umask(0o077):
        assert invoke("fmt", files["program"]).exit_code == 0
    assert mode(files["program"]) == 0o644


def test_an_output_that_is_a_symlink_is_written_through(files, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "real.jsonl"
    target.write_text("previous\n")
    target.chmod(0o640)
    link = tmp_path / "out.jsonl"
    link.symlink_to(target)
    assert invoke("run", files["program"], files["history"], "-o", link).exit_code == 0
    assert link.is_symlink() and link.resolve() == target
    assert [orjson.loads(x)["member"] for x in target.read_text().splitlines()] == ["a", "b"]
    assert mode(target) == 0o640
    assert sorted(p.name for p in elsewhere.iterdir()) == ["real.jsonl"]  # no temporary file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["elsewhere", "h.jsonl", "out.jsonl", "p.loy"]


def test_a_dangling_symlink_output_creates_its_target(files, tmp_path):
    link = tmp_path / "out.jsonl"
    link.symlink_to(tmp_path / "made.jsonl")
    assert invoke("run", files["program"], files["history"], "-o", link).exit_code == 0
    assert link.is_symlink() and (tmp_path / "made.jsonl").read_text().count("\n") == 2


# --- issue 11 item 10: CSV carries every field; the table says where the rest is -----------


def from_csv(text: str) -> list[dict]:
    """Outcomes read back from CSV by its documented layout: `points_by_rule.NAME` columns,
    JSON text for objects and lists, empty cells for null, numbers as numbers."""
    rows = []
    for row in csv.DictReader(io.StringIO(text)):
        outcome: dict = {}
        for name, value in row.items():
            field, _, key = name.partition(".")
            if key:
                outcome.setdefault(field, {})[key] = int(value)
            elif value == "":
                outcome[field] = None
            elif value[0] in "[{" or value.lstrip("-").isdigit():
                outcome[field] = orjson.loads(value)
            else:
                outcome[field] = value
        rows.append(outcome)
    return rows


def test_csv_carries_balance_expiring_redemptions_and_points_by_rule(tmp_path):
    # spendable_points: 10 points an order, lots expire 12 months after they are earned,
    # a redemption spends the oldest lot first. Two orders: 20 points; 5 redeemed on
    # 3 January come out of the 1 January lot: 5 left of it (expiring 2027-01-01) and
    # 10 of the 2 January lot (2027-01-02), balance 15.
    history = tmp_path / "h.jsonl"
    history.write_bytes(
        jsonl(
            [
                {"member": "s", "type": "order_confirmed", "at": "2026-01-01", "order": "o1", "amount": 5},
                {"member": "s", "type": "order_confirmed", "at": "2026-01-02", "order": "o2", "amount": 5},
                {"member": "s", "type": "redeemed", "at": "2026-01-03", "points": 5},
            ]
        )
    )
    result = invoke("run", SPENDABLE, history, "--as-of", "2026-01-31", "--format", "csv")
    assert result.exit_code == 0
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert (row["points"], row["points_by_rule.orders"], row["balance"]) == ("20", "20", "15")
    assert orjson.loads(row["expiring"]) == [{"points": 5, "on": "2027-01-01"}, {"points": 10, "on": "2027-01-02"}]
    assert [(r["points"], r["spent"]) for r in orjson.loads(row["redemptions"])] == [(5, 5)]


EXAMPLE_HISTORIES = {
    "fiscal_calendar": "fiscal_history.jsonl",
    "monthly_challenge": "challenge_history.jsonl",
    "spendable_points": "spendable_history.jsonl",  # balance, expiring, redemptions
    "campaigns": "campaign_history.jsonl",
    "currencies": "currency_history.jsonl",
    "tier_retention": "retention_history.jsonl",  # tier_by_points
    "pending_points": "pending_history.jsonl",  # pending_points
    "multipliers": "multiplier_history.jsonl",
}


@pytest.mark.parametrize("name", sorted(EXAMPLE_HISTORIES))
def test_csv_carries_every_field_of_json_lines(name, monkeypatch):
    """Each example program: the CSV read back by its layout is the JSON Lines outcome."""
    monkeypatch.chdir(ROOT)
    args = ("run", EXAMPLES / f"{name}.loy", f"examples/{EXAMPLE_HISTORIES[name]}")
    as_json = [orjson.loads(x) for x in invoke(*args).stdout.splitlines()]
    assert as_json
    assert from_csv(invoke(*args, "--format", "csv").stdout) == as_json


def test_the_table_says_where_the_other_fields_are(files):
    result = invoke("run", files["program"], files["history"], "--format", "table")
    assert result.exit_code == 0
    assert "every field with --format jsonl or csv" in result.stderr
    assert "--format" not in result.stdout  # the table itself stays a table


# --- issue 17 item 12: no member id forges a row in the table --------------------------------


def table_of(*members: str, columns: int = 80) -> list[str]:
    lines = [{"member": m, "type": "visit", "at": "2026-02-01", "id": str(i)} for i, m in enumerate(members)]
    result = invoke("run", FOUR, "-", "--format", "table", input=jsonl(lines), columns=columns)
    assert result.exit_code == 0
    return result.stdout.splitlines()


def members_shown(table: list[str]) -> list[str]:
    """The member column read back: a row starts a member, a line starting with the
    continuation mark goes on with it. The column ends two spaces before the right-aligned
    `points` header (points here are 0 or 1, narrower than the header)."""
    width = table[0].index("points") - 2
    shown: list[str] = []
    for line in table[1:]:
        if line.startswith("\u21b3"):
            shown[-1] += line[1:width].rstrip()
        else:
            assert line[width:].split()[0].isdigit(), f"a line without points reads as a row: {line!r}"
            shown.append(line[:width].rstrip())
    return shown


def test_a_member_id_with_spaces_is_quoted_and_never_wraps_into_a_row():
    spaced = "alice smith junior the third of her name from the north"
    forged = "eve   900 Platinum"  # would pass for a member, points and a tier
    table = table_of(spaced, forged, "bob")
    # Sorted by id: "alice...", "bob", "eve..."; the spaced ones quoted whole.
    assert members_shown(table) == [f'"{spaced}"', "bob", f'"{forged}"']
    assert sum(not line.startswith("\u21b3") for line in table) == 1 + 3  # a header, a row a member


def test_a_long_member_id_is_folded_whole_not_cut():
    real = "mallory-" + "x" * 80 + "1"
    forged = "mallory-" + "x" * 80 + "2"  # the same first 88 characters
    table = table_of(real, forged)
    assert "\u2026" not in "".join(table)  # no ellipsis: nothing cut
    assert members_shown(table) == [real, forged]
    assert all(len(line) <= 80 for line in table)


def test_a_very_long_member_id_says_it_goes_on_and_differs_from_its_lookalike():
    # Past 200 characters a table shows the start, the length and a digest of the whole id.
    real, forged = "m" * 250 + "1", "m" * 250 + "2"
    shown = members_shown(table_of(real, forged))
    assert [s[:200] for s in shown] == ["m" * 200] * 2
    assert all(s[200:].startswith("\u2026[251 characters, #") for s in shown)
    assert shown[0] != shown[1]


def test_ids_that_could_pass_for_something_else_are_quoted():
    tricky = ['"quoted"', "tab\there", "\u21b3fold", "nbsp\u00a0x"]
    shown = members_shown(table_of(*tricky))
    # A no-break space does not print: shown as its escape.
    assert sorted(shown) == sorted(['"\\"quoted\\""', '"tab\\there"', '"\u21b3fold"', '"nbsp\\xa0x"'])


def test_a_narrow_terminal_never_folds_the_numbers():
    table = table_of("a-rather-long-member-id", columns=30)
    assert table[0].split() == ["member", "points", "tier", "benefits", "grants", "decisions", "granted"]
    assert members_shown(table) == ["a-rather-long-member-id"]


# --- issue 17 item 19: no CSV cell a spreadsheet runs as a formula --------------------------


FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3", "\tx", "\rx", "'already"]


def csv_members(*args: str, members: list[str]) -> list[str]:
    lines = [{"member": m, "type": "visit", "at": "2026-02-01", "id": str(i)} for i, m in enumerate(members)]
    result = invoke("run", FOUR, "-", "--format", "csv", *args, input=jsonl(lines))
    assert result.exit_code == 0
    return [row["member"] for row in csv.DictReader(io.StringIO(result.stdout, newline=""))]


def test_csv_cells_that_start_a_formula_get_a_quote_in_front():
    # OWASP: = + - @ tab and carriage return; ' too, so that one leading ' always strips back.
    assert sorted(csv_members(members=FORMULAS)) == sorted("'" + m for m in FORMULAS)
    assert csv_members(members=["plain", "a=b"]) == ["a=b", "plain"]


def test_csv_raw_writes_text_as_given():
    assert sorted(csv_members("--csv-raw", members=FORMULAS)) == sorted(FORMULAS)


def test_negative_numbers_stay_numbers(tmp_path):
    program = tmp_path / "adjust.loy"
    program.write_text(
        'program "adjust"\nevent adjust with points: integer\nwindow lifetime, continuous\n'
        "rule adjust:\n    on adjust\n    earn points\ntier Member from 0 points:\n"
    )
    history = tmp_path / "h.jsonl"
    history.write_bytes(jsonl([{"member": "m", "type": "adjust", "at": "2026-01-02", "points": -5}]))
    result = invoke("run", program, history, "--format", "csv")
    (row,) = csv.DictReader(io.StringIO(result.stdout))
    assert (row["points"], row["points_by_rule.adjust"]) == ("-5", "-5")  # earned -5: a number, not a formula


# --- issue 17 item 20: closed standard output, --strict, --summary - -------------------------


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("run {p} {h}", "standard output is closed; give --output a file"),
        ("explain {p} {h} --member a", "standard output is closed; nowhere to write the explanation"),
        ("diff {p} {p} {h}", "standard output is closed; nowhere to write the comparison"),
    ],
)
def test_a_closed_standard_output_is_one_line_and_exit_2(files, command, message):
    args = command.format(p=files["program"], h=files["history"]).split()
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m loyalty_dsl.cli "$@" >&-', sys.executable, *args],
        stderr=subprocess.PIPE,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.decode().splitlines() == [f"loyalty: {message}"]


def test_a_closed_standard_output_is_fine_when_nothing_goes_there(files, tmp_path):
    """Guard: with --output a file, a closed standard output is not needed."""
    out = tmp_path / "out.jsonl"
    done = subprocess.run(
        ["sh", "-c", 'exec "$0" -m loyalty_dsl.cli run "$1" "$2" -o "$3" >&-', sys.executable, *files.values(), out],
        capture_output=False,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and out.read_text().count("\n") == 2


def test_strict_with_rejections_writes_no_summary(files, tmp_path):
    files["history"].write_bytes(jsonl(LINES) + b"not json\n")
    summary, kept = tmp_path / "summary.json", tmp_path / "kept.json"
    kept.write_text("previous\n")
    for path in (summary, kept):
        result = invoke("run", files["program"], files["history"], "--strict", "--summary", path, "-o", tmp_path / "o")
        assert result.exit_code == 1
    assert not summary.exists() and kept.read_text() == "previous\n"
    assert not (tmp_path / "o").exists()


def test_summary_dash_is_standard_output(files, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("run", files["program"], files["history"], "--summary", "-", "-o", "out.jsonl")
    assert result.exit_code == 0
    # Two lines read, both applied (a bonus and a visit the program uses).
    assert orjson.loads(result.stdout)["events"]["applied"] == 2
    assert not (tmp_path / "-").exists()
    both = invoke("run", files["program"], files["history"], "--summary", "-")
    assert both.exit_code == 2 and "would both write to standard output" in both.stderr
    assert not (tmp_path / "-").exists()
