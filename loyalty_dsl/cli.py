"""The `loyalty` command: run programs over histories, check programs."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn

import attrs
import click
import orjson

from loyalty_dsl import __version__
from loyalty_dsl.columnar.choice import choose_plan
from loyalty_dsl.columnar.plan import NotColumnar, Plan
from loyalty_dsl.columnar.run import run_columnar
from loyalty_dsl.engines import parallel
from loyalty_dsl.engines.bulk_members import run_bulk
from loyalty_dsl.evaluation.compile import CompiledProgram, diagnose, load
from loyalty_dsl.evaluation.evaluate import PointsOutOfRange
from loyalty_dsl.evaluation.exact import rate_of
from loyalty_dsl.evaluation.run import WITHHELD, Result, default_as_of, default_jobs, far_as_of_note, results
from loyalty_dsl.io.history import Accounting, History, HistoryError, expand_paths, format_of, read_history
from loyalty_dsl.io.input_files import MAX_RATES_BYTES, read_bounded, read_program
from loyalty_dsl.io.ledger_out import LedgerWriter, ledger_format
from loyalty_dsl.io.output import FORMATS, TABLE_NOTE, atomic_file, json_bytes, write_outcomes
from loyalty_dsl.io.outputs_safe import OutputRefused, history_files, refuse_clashes
from loyalty_dsl.io.progress import progress
from loyalty_dsl.io.spool import spooling, write_summary
from loyalty_dsl.language import ast
from loyalty_dsl.language.diagnostics import ProgramError, did_you_mean
from loyalty_dsl.language.fmt import format_diff, format_source
from loyalty_dsl.language.lint import lint as lint_program
from loyalty_dsl.language.parse import parse, parse_file
from loyalty_dsl.tools.diff import DiffReport, pair_outcomes
from loyalty_dsl.tools.explain import explain_member
from loyalty_dsl.tools.html_report import diff_page, run_page
from loyalty_dsl.tools.report import console_text, coverage_table, diff_tables, explanation_tables
from loyalty_dsl.tools.report_data import DiffData, run_report, tier_names
from loyalty_dsl.tools.testing import TEST_SUFFIX, DiscoveryError, check_examples, coverage, find_pairs, run_examples

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
EXIT_WITHHELD = 3  # run: some members' points leave the exact range; the others' outcomes are written
_SHOWN_REJECTIONS = 10

EXIT_STATUSES = """\b
Exit status:
  0    success
  1    --strict and some history lines were rejected
  2    a bad program, a bad command line, or a history that cannot be read
  3    run: some members' points exceed 2^53 - 1; their outcomes are withheld
  130  interrupted (Ctrl-C); 143: terminated (SIGTERM)"""
# check, explain and diff have no --strict and never exit 1.
EXIT_STATUSES_WITHOUT_1 = EXIT_STATUSES.replace("  1    --strict and some history lines were rejected\n", "")


def as_of_option(help: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`--as-of YYYY-MM-DD`, the same for every command that evaluates."""
    return click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help=help)


def _fail(message: str, status: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"loyalty: {message}", err=True)
    sys.exit(status)


def _load(path: str) -> CompiledProgram:
    try:
        return load(path)
    except ProgramError as err:
        click.echo(err.render(), err=True)
        _fail(f"{path}: {len(err.diagnostics)} problem(s); nothing was run")
    except (OSError, UnicodeDecodeError) as err:
        _fail(f"{path}: cannot read the program ({err})")


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that files being written are removed (like Ctrl-C's, not an Exception)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """No traceback for an interrupt or a closed pipe: one line and a documented status."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # SIGTERM (kill, a scheduler stopping the job) cleans up as Ctrl-C does.
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _on_sigterm)
        try:
            return fn(*args, **kwargs)
        except KeyboardInterrupt:
            click.echo("loyalty: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except _Terminated:
            click.echo("loyalty: interrupted", err=True)
            sys.exit(EXIT_TERMINATED)
        except BrokenPipeError:
            sys.stderr.close()  # the reader left: say nothing more
            sys.exit(EXIT_OK)
        except PointsOutOfRange as err:  # explain, diff, test: one member, no outcome to give
            _fail(str(err))
        except OSError as err:  # an output or summary that cannot be written
            where = f": {err.filename}" if err.filename else ""
            _fail(f"cannot write{where}: {err.strerror or err}")

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@click.group(
    epilog=EXIT_STATUSES.replace(
        "1    --strict and some history lines were rejected",
        "1    run --strict with rejected lines; test: an example failed; fmt --check: files\n"
        "       would change; lint: findings",
    ),
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(__version__, prog_name="loyalty")
def main() -> None:
    """Run loyalty programs (.loy files) over members' activity histories."""


@main.command(epilog=EXIT_STATUSES)
@click.argument("program", type=click.Path(exists=True, dir_okay=False))
@click.argument("history", nargs=-1, required=True, type=click.Path(allow_dash=True))
@as_of_option("Evaluate at the end of this day. Default: the day of the latest accepted event.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="jsonl",
    show_default=True,
    help="jsonl: one JSON object per member; csv: one row per member; table: for people.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, allow_dash=True),
    default="-",
    help="Write outcomes here (written whole or not at all). Default: standard output.",
)
@click.option(
    "--summary",
    type=click.Path(dir_okay=False, allow_dash=True),
    help="Write the run's accounting (counts, rejected lines, repeats) as JSON here (- for standard output).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Treat any rejected line as an error: exit 1 and write nothing (no outcomes, ledger or summary).",
)
@click.option(
    "--ledger",
    "ledger",
    type=click.Path(dir_okay=False),
    help="Also write every member's ledger (each point and the event that earned it) "
    "as JSON Lines (.jsonl) or Parquet (.parquet).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes (and, on the columnar path, threads) reading and evaluating at once. Default: every core.",
)
@click.option(
    "--rates",
    type=click.Path(exists=True, dir_okay=False),
    metavar="CSV",
    help="Exchange rates (columns currency,rate) to add to or replace the program's `rate` lines.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: this machine's cores; dask: a Dask cluster (pip install 'loyalty-dsl[dask]').",
)
@click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="With --engine dask: the scheduler to use (tcp://host:8786). Default: a local cluster.",
)
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="With --engine dask: member partitions. Default: one a worker on the columnar path (each "
    "partition reads every file), two a worker per member.",
)
@click.option(
    "--evaluator",
    type=click.Choice(["auto", "columnar", "per-member"]),
    default="auto",
    show_default=True,
    help="columnar: every member at once, in DuckDB, where the program allows it; per-member: the reference "
    "evaluator, one member at a time (--ledger needs it); auto: columnar when the program allows it and "
    "--ledger is not asked (with --engine dask, on each partition).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress display (it shows only at a terminal anyway).")
@click.option(
    "--csv-raw",
    is_flag=True,
    help="With --format csv: write text cells as they are, even those starting with = + - @ or ' "
    "(by default a ' is put in front, so that a spreadsheet does not run them as formulas).",
)
@_guarded
def run(
    program: str,
    history: tuple[str, ...],
    as_of: dt.datetime | None,
    fmt: str,
    output: str,
    summary: str | None,
    strict: bool,
    ledger: str | None,
    jobs: int | None,
    quiet: bool,
    engine: str,
    scheduler: str | None,
    partitions: int | None,
    rates: str | None,
    evaluator: str,
    csv_raw: bool,
) -> None:
    """Evaluate PROGRAM over HISTORY files (JSON Lines, CSV or Parquet; - for standard input).

    Several files are one history; a folder stands for the history files in it
    (a partitioned dataset). Outcomes are ordered by member id. Bad lines are
    rejected with file, line and reason and the rest is evaluated; a count of
    what became of every line is printed on standard error.
    """
    _refuse_clashes(
        {"the program": [program], "the history file": history_files(history), "the rates file": [rates]},
        {"--output": output, "--summary": summary, "--ledger": ledger},
    )
    compiled = _load(program)
    if rates:
        compiled = attrs.evolve(compiled, rates={**compiled.rates, **_rates(rates, compiled)})
    try:
        ledger_fmt = ledger_format(ledger) if ledger else None
    except ValueError as err:
        _fail(str(err))
    day = as_of.date() if as_of else None
    fast = _columnar_plan(compiled, evaluator, ledger is not None)
    with contextlib.ExitStack() as context:
        if summary:  # every rejection goes to a spool file as it is read, not into memory
            context.enter_context(spooling(summary))
        shown = context.enter_context(progress(quiet or engine == "dask"))
        ran = None
        unsure = False  # the bulk reader was not sure of the files: they are read line by line
        if fast is not None and engine == "local":
            files = _files(history)
            one_process = (jobs or default_jobs()) == 1 or "-" in files or not parallel.available()
            try:
                ran = run_columnar(
                    fast, files, day, evaluator == "columnar" or one_process, jobs or default_jobs(), shown
                )
                unsure = ran is None
            except HistoryError as err:
                _fail(str(err))
            except NotColumnar as why:  # found only once running: the reference evaluator takes over
                shown.phase(None)
                click.echo(f"loyalty: the columnar evaluator gave way to the per-member one: {why}", err=True)
        if ran is None and engine == "local" and not ledger and not unsure:  # per member, from a bulk read
            try:
                ran = run_bulk(compiled, _files(history), day, jobs or default_jobs(), shown)
            except HistoryError as err:
                _fail(str(err))
        if ran is not None:
            acc, evaluated = ran
        elif engine == "dask":
            acc, evaluated = _on_dask(
                context, program, history, day, jobs, scheduler, partitions, ledger is not None, compiled.rates, fast
            )
        elif (jobs or default_jobs()) > 1 and "-" not in history and parallel.available():
            files = _files(history)
            try:
                for path in files:
                    format_of(path)
                acc, evaluated = parallel.run_partitioned(
                    compiled, files, day, jobs or default_jobs(), bool(ledger), shown
                )
            except HistoryError as err:
                _fail(str(err))
        else:
            hist = _read(history, compiled, shown.read)
            acc = hist.accounting
            shown.members(len(hist.members))
            evaluated = results(compiled, hist, day, ledger is not None, shown.evaluated)
        _report(acc.rejections, acc.rejected)
        if note := far_as_of_note(acc, day, compiled.calendar):
            click.echo(f"loyalty: {note}", err=True)
        if strict and acc.rejected:
            click.echo(f"loyalty: {acc.line()}", err=True)
            _fail(f"--strict: {acc.rejected} line(s) rejected; nothing written", EXIT_REJECTED)
        if summary:
            write_summary(summary, acc)
        writer = None
        if ledger and ledger_fmt:
            writer = LedgerWriter(context.enter_context(atomic_file(ledger)), ledger_fmt, bool(compiled.measures))
        withheld: list[str] = []
        _write(_outcomes_and_ledgers(evaluated, writer, withheld), fmt, output, csv_raw)
        if writer is not None:
            writer.finish()
        for reason in withheld:
            click.echo(f"loyalty: {reason}: its outcome is withheld", err=True)
    click.echo(f"loyalty: {acc.line()}", err=True)  # the counts close every run (DOMAIN.md §6)
    if withheld:
        sys.exit(EXIT_WITHHELD)


def _rates(path: str, compiled: CompiledProgram) -> dict[str, Decimal]:
    """`currency,rate` rows: how much of the program's currency one unit of each is worth."""
    if compiled.currency is None:
        _fail(f"{path}: the program declares no currency, so it takes no rates")
    found: dict[str, Decimal] = {}
    try:
        with io.StringIO(read_bounded(path, MAX_RATES_BYTES).decode("utf-8-sig"), newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                try:
                    rate = rate_of(row["rate"])  # the decimal written, exactly
                    if rate is None:
                        raise ValueError
                    found[row["currency"].strip()] = rate
                except (KeyError, ValueError, TypeError, AttributeError):
                    _fail(f"{path}:{number}: expected columns currency,rate with a rate above 0")
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        _fail(f"{path}: cannot read the rates ({err})")
    return found


def _on_dask(
    context: contextlib.ExitStack,
    program: str,
    history: tuple[str, ...],
    day: dt.date | None,
    jobs: int | None,
    scheduler: str | None,
    partitions: int | None,
    ledger: bool,
    rates: dict[str, Decimal],
    fast: Plan | None,
) -> tuple[Accounting, Iterator[Result]]:
    """Read and evaluate on a Dask cluster (a local one unless --scheduler names one); each
    partition on the columnar path if `fast`, as the local engine would run."""
    if "-" in history:
        _fail("--engine dask reads files the workers can see, not standard input")
    history = _files(history)
    try:
        from loyalty_dsl.engines.distributed import SchedulerError, client_for, run_on_cluster
    except ImportError:
        _fail('--engine dask needs Dask: pip install "loyalty-dsl[dask]"')
    workers = jobs or default_jobs()
    try:
        client = context.enter_context(client_for(scheduler, workers))
    except SchedulerError as err:
        _fail(str(err))
    paths = [str(Path(p).resolve()) for p in history]  # workers may run elsewhere: no relative paths
    if partitions is None:
        # Every partition reads every file: on the columnar path, where reading is much of a
        # partition's work, one partition a worker; per member, two, for uneven members to even out.
        found = len(client.scheduler_info().get("workers", {})) or workers
        partitions = found if fast is not None else 2 * found
    run = functools.partial(
        run_on_cluster, client, _source(program), program, paths, day, partitions, ledger, rates, history
    )
    try:  # files named as given (as the local engine names them), opened by absolute path
        try:
            return run(columnar=fast is not None)
        except NotColumnar as why:  # found only once running, as locally: the reference evaluator takes over
            click.echo(f"loyalty: the columnar evaluator gave way to the per-member one: {why}", err=True)
            return run(columnar=False)
    except HistoryError as err:
        _fail(str(err))


def _columnar_plan(compiled: CompiledProgram, evaluator: str, ledger: bool) -> Plan | None:
    """The columnar plan to run, if the options and the program allow one."""
    barred = "writes no --ledger" if ledger else None
    try:
        return choose_plan(compiled, evaluator, barred)
    except NotColumnar as why:
        _fail(f"--evaluator columnar {why}" if barred else f"--evaluator columnar: {why}")


def _outcomes_and_ledgers(
    evaluated: Iterable[Result], writer: LedgerWriter | None, withheld: list[str]
) -> Iterator[dict[str, Any]]:
    for outcome, entries in evaluated:
        if WITHHELD in outcome:
            withheld.append(outcome[WITHHELD])
            continue
        if writer is not None and entries is not None:
            writer.add(outcome["member"], entries)
        yield outcome


def _files(paths: tuple[str, ...]) -> tuple[str, ...]:
    try:
        files = tuple(expand_paths(paths))
    except HistoryError as err:
        _fail(str(err))
    for path in files:
        if path != "-" and not Path(path).is_file():
            _fail(f"{path}: no such history file")
    return files


def _read(paths: tuple[str, ...], compiled: CompiledProgram, shown: Callable[[int], None] | None = None) -> History:
    paths = _files(paths)
    try:
        return read_history(paths, compiled, progress=shown)
    except HistoryError as err:
        _fail(str(err))


def _write(results: Iterable[dict[str, Any]], fmt: str, output: str, csv_raw: bool = False) -> None:
    if output == "-":
        write_outcomes(results, fmt, sys.stdout.buffer, csv_raw)
        sys.stdout.flush()
    else:
        with atomic_file(output) as handle:
            write_outcomes(results, fmt, handle, csv_raw)
    if fmt == "table":
        click.echo(f"loyalty: {TABLE_NOTE}", err=True)


def _refuse_clashes(inputs: dict[str, Any], outputs: dict[str, str | None]) -> None:
    """Before anything is read: no output may be an input, another output or a closed standard output."""
    try:
        refuse_clashes(inputs, outputs)
    except OutputRefused as err:
        _fail(str(err))


def _report(rejections: list[dict[str, Any]], rejected: int) -> None:
    for r in rejections[:_SHOWN_REJECTIONS]:
        click.echo(f"{r['file']}:{r['line']}: rejected[{r['code']}]: {r['reason']}", err=True)
    if rejected > _SHOWN_REJECTIONS:
        click.echo(
            f"... and {rejected - _SHOWN_REJECTIONS} more rejected line(s) (all of them with --summary)",
            err=True,
        )


@main.command(epilog=EXIT_STATUSES_WITHOUT_1)
@click.argument("programs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--assumptions", is_flag=True, help="Also list every `# assumption:` mark, with its place.")
@_guarded
def check(programs: tuple[str, ...], assumptions: bool) -> None:
    """Check PROGRAMS without running them; report every problem as file:line:col."""
    failed = 0
    for path in programs:
        try:
            partial: ast.Program | None
            if path.endswith(TEST_SUFFIX):
                partial = parse_file(path)
                source, problems = partial.source, _examples_problems(path, partial)
            else:  # every syntax error, and what check finds in the statements that parsed
                source = read_program(path)
                partial, problems = diagnose(source, path)
            if problems or partial is None:
                raise ProgramError(problems, source)
            parsed = partial
        except ProgramError as err:
            click.echo(err.render(), err=True)
            failed += 1
            continue
        except (OSError, UnicodeDecodeError) as err:
            click.echo(f"loyalty: {path}: cannot read the program ({err})", err=True)
            failed += 1
            continue
        if path.endswith(TEST_SUFFIX):
            click.echo(f"{path}: ok ({len(parsed.tests)} examples)")
            continue
        marks = parsed.assumptions
        click.echo(
            f"{path}: ok ({len(parsed.events)} events, {len(parsed.rules)} rules, "
            f"{len(parsed.tiers)} tiers, {len(marks)} assumptions)"
        )
        if assumptions:
            for a in marks:
                click.echo(f"{a.span.file}:{a.span.line}: assumption ({a.about}): {a.text}")
    if failed:
        _fail(f"{failed} of {len(programs)} program(s) have problems")


def _examples_problems(path: str, parsed: Any) -> list[Any]:
    """An examples file is checked against the program beside it."""
    try:
        ((program_path, _),) = find_pairs([path])
    except DiscoveryError as err:
        _fail(str(err))
    return check_examples(parsed, _load(str(program_path)))


def _check_examples_or_fail(path: str, parsed: Any) -> None:
    problems = _examples_problems(path, parsed)
    if problems:
        click.echo(ProgramError(problems, parsed.source).render(), err=True)
        _fail(f"{path}: {len(problems)} problem(s) in the examples")


@main.command(epilog=EXIT_STATUSES_WITHOUT_1)
@click.argument("program", type=click.Path(exists=True, dir_okay=False))
@click.argument("history", nargs=-1, required=True, type=click.Path(allow_dash=True))
@click.option("--member", "member", required=True, help="The member to explain.")
@as_of_option("Explain the status at the end of this day. Default: the day of the latest accepted event.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="table: for people; json: one object for tools.",
)
@_guarded
def explain(program: str, history: tuple[str, ...], member: str, as_of: dt.datetime | None, fmt: str) -> None:
    """Why a MEMBER has these points and this tier: every point, what earned nothing and why.

    Shows the ledger (each contribution with its rule, the event that earned it
    and any cap that cut it; it adds up to the points), the events the program
    looked at and did not reward with the reason, the tier over time, the
    points needed for the next tier or to keep this one, and every grant and
    decision with its reason.
    """
    _refuse_clashes({}, {"the explanation": "-"})
    compiled = _load(program)
    hist = _read(history, compiled)
    if member not in hist.members:
        hint = did_you_mean(member, hist.members)
        _fail(f"no member {member!r} in the history" + (f"; {hint}" if hint else ""))
    day = (as_of.date() if as_of else None) or default_as_of(hist, compiled.calendar)
    assert day is not None
    data = explain_member(compiled, member, hist.members[member], day).to_json()
    if fmt == "json":
        sys.stdout.buffer.write(json_bytes(data, orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(console_text(explanation_tables(data)))
    sys.stdout.flush()


@main.command(epilog=EXIT_STATUSES_WITHOUT_1)
@click.argument("program_a", type=click.Path(exists=True, dir_okay=False))
@click.argument("program_b", type=click.Path(exists=True, dir_okay=False))
@click.argument("history", nargs=-1, required=True, type=click.Path(allow_dash=True))
@as_of_option("Compare at the end of this day. Default: the day of the latest accepted event.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), help="Write every member whose outcome changes, as JSON Lines."
)
@click.option("--report", "html", type=click.Path(dir_okay=False), help="Also write the comparison as one HTML page.")
@_guarded
def diff(
    program_a: str,
    program_b: str,
    history: tuple[str, ...],
    as_of: dt.datetime | None,
    fmt: str,
    output: str | None,
    html: str | None = None,
) -> None:
    """What if PROGRAM_B replaced PROGRAM_A? Both over the same HISTORY, member by member.

    Prints the tier transition matrix, the points distribution under each
    program, and how many members, decisions and grants change. A program
    compared with itself changes nothing.
    """
    if "-" in history:
        _fail("diff reads the history twice, so it cannot read standard input; give files")
    _refuse_clashes(
        {"program A": [program_a], "program B": [program_b], "the history file": history_files(history)},
        {"--output": output, "--report": html, "the comparison": "-"},
    )
    a, b = _load(program_a), _load(program_b)
    ha, hb = _read(history, a), _read(history, b)
    click.echo(f"loyalty: A {ha.accounting.line()}", err=True)
    click.echo(f"loyalty: B {hb.accounting.line()}", err=True)
    day = (as_of.date() if as_of else None) or default_as_of(ha, a.calendar) or default_as_of(hb, b.calendar)
    if day is None:
        _fail("the history has no accepted event: nothing to compare")
    report = DiffReport(day)
    drawn = DiffData(a, b) if html else None
    with contextlib.ExitStack() as stack:
        changed = stack.enter_context(atomic_file(output)) if output else None
        for change in pair_outcomes(a, ha, b, hb, day):
            report.add(change)
            if drawn is not None:
                drawn.add(change)
            if changed is not None and change.changed:
                changed.write(json_bytes(change.to_json()) + b"\n")
    data = report.to_json()
    tiers = ([t.name for t in a.tiers], [t.name for t in b.tiers])
    if html and drawn is not None:
        diff_page(data, drawn.to_json(), (program_a, program_b), (tier_names(a), tier_names(b))).write(html)
    if fmt == "json":
        sys.stdout.buffer.write(json_bytes(data, orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(console_text(diff_tables(data, *tiers, names=(program_a, program_b))))
    sys.stdout.flush()


@main.command(epilog=EXIT_STATUSES_WITHOUT_1)
@click.argument("program", type=click.Path(exists=True, dir_okay=False))
@click.argument("history", nargs=-1, required=True, type=click.Path())
@as_of_option("Report at the end of this day. Default: the day of the latest accepted event.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False), help="The HTML file to write.")
@_guarded
def report(program: str, history: tuple[str, ...], as_of: dt.datetime | None, output: str) -> None:
    """One self-contained HTML page of PROGRAM over HISTORY: tiers, points, rules, decisions, grants, accounting."""
    _refuse_clashes({"the program": [program], "the history file": history_files(history)}, {"--output": output})
    compiled = _load(program)
    try:
        data = run_report(compiled, _files(history), as_of.date() if as_of else None)
    except HistoryError as err:
        _fail(str(err))
    run_page(data.to_json(), program).write(output)
    click.echo(f"loyalty: {data.counts_line}", err=True)


@main.command(
    "test", epilog=EXIT_STATUSES.replace("1    --strict and some history lines were rejected", "1    an example failed")
)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option(
    "--coverage",
    "coverage_of",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    metavar="HISTORY",
    help="Also report, per rule, what it did over this real history (repeatable).",
)
@as_of_option("With --coverage: evaluate at the end of this day.")
@_guarded
def test_cmd(paths: tuple[str, ...], coverage_of: tuple[str, ...], as_of: dt.datetime | None) -> None:
    """Run the examples written beside programs (NAME_test.loy beside NAME.loy).

    PATHS are programs, example files or folders (searched for *_test.loy).
    A failed example prints what was expected, what came out and the rules
    involved.
    """
    try:
        pairs = find_pairs(paths)
    except DiscoveryError as err:
        _fail(str(err))
    failed = total = 0
    for program_path, tests_path in pairs:
        compiled = _load(str(program_path))
        try:
            examples = parse_file(tests_path)
        except ProgramError as err:
            click.echo(err.render(), err=True)
            _fail(f"{tests_path}: the examples do not parse")
        problems = check_examples(examples, compiled)
        if problems:
            click.echo(ProgramError(problems, examples.source).render(), err=True)
            _fail(f"{tests_path}: {len(problems)} problem(s) in the examples")
        results = run_examples(compiled, examples.tests)
        total += len(results)
        for r in results:
            if not r.passed:
                failed += 1
                click.echo(f"{tests_path}:{r.test.span.line}: FAILED {r.test.name.text}")
                for f in r.failures:
                    click.echo(f"    {f}")
        passed = sum(r.passed for r in results)
        click.echo(f"{tests_path}: {passed} of {len(results)} examples pass")
        if coverage_of:
            hist = _read(coverage_of, compiled)
            day = (as_of.date() if as_of else None) or default_as_of(hist, compiled.calendar)
            if day is None:
                _fail(f"{', '.join(coverage_of)}: no accepted event to measure coverage on")
            click.echo(console_text([coverage_table(str(program_path), coverage(compiled, hist, day))]))
    if failed:
        _fail(f"{failed} of {total} examples failed", EXIT_REJECTED)


def _source(path: str) -> str:
    try:
        return read_program(path, keep_line_ends=True)
    except ProgramError as err:  # not UTF-8: said with its line and column
        click.echo(err.render(), err=True)
        _fail(f"{path}: cannot read the program")
    except OSError as err:
        _fail(f"{path}: cannot read the program ({err})")


@main.command(
    epilog=EXIT_STATUSES.replace(
        "1    --strict and some history lines were rejected", "1    --check and some files are not formatted"
    )
)
@click.argument("programs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--check", is_flag=True, help="Change nothing; list the files that would change and exit 1.")
@click.option("--diff", "show_diff", is_flag=True, help="Change nothing; print what would change.")
@_guarded
def fmt(programs: tuple[str, ...], check: bool, show_diff: bool) -> None:
    """Lay out PROGRAMS in the one canonical way, comments kept (in place unless --check or --diff)."""
    changed = 0
    for path in programs:
        text = _source(path)
        try:
            formatted = format_source(text, path)
        except ProgramError as err:
            click.echo(err.render(), err=True)
            _fail(f"{path}: does not parse; nothing was changed")
        if formatted == text:
            continue
        changed += 1
        if show_diff:
            click.echo(format_diff(text, path), nl=False)
        elif check:
            click.echo(f"would reformat {path}")
        else:
            with atomic_file(path) as handle:
                handle.write(formatted.encode("utf-8"))
            click.echo(f"reformatted {path}")
    if (check or show_diff) and changed:
        _fail(f"{changed} of {len(programs)} file(s) would change", EXIT_REJECTED)


@main.command(
    epilog=EXIT_STATUSES.replace("1    --strict and some history lines were rejected", "1    lint has findings")
)
@click.argument("programs", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@_guarded
def lint(programs: tuple[str, ...]) -> None:
    """Loyalty-aware warnings on PROGRAMS: unreachable tiers, caps below an earning, impossible conditions..."""
    findings = 0
    for path in programs:
        text = _source(path)
        if path.endswith(TEST_SUFFIX):  # examples: checked as `check` does, nothing to lint
            try:
                _check_examples_or_fail(path, parse(text, path))
            except ProgramError as err:
                click.echo(err.render(), err=True)
                _fail(f"{path}: does not parse")
            continue
        partial, problems = diagnose(text, path)
        if partial is None:
            click.echo(ProgramError(problems, text).render(), err=True)
            _fail(f"{path}: does not parse; lint needs a program that does")
        parsed = partial
        if problems:
            click.echo(ProgramError(problems, text).render(), err=True)
            _fail(f"{path}: {len(problems)} problem(s); fix them before linting")
        warnings = lint_program(parsed)
        findings += len(warnings)
        if warnings:
            click.echo(ProgramError(warnings, text).render())
    if findings:
        _fail(f"{findings} finding(s)", EXIT_REJECTED)
    click.echo(f"{len(programs)} program(s): no findings")


@main.command("lsp")
def lsp_cmd() -> None:
    """Speak the Language Server Protocol on stdin and stdout, for editors (needs the `lsp` extra)."""
    try:
        from loyalty_dsl.lsp.server import serve
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in ("pygls", "lsprotocol"):
            raise
        _fail('loyalty lsp needs the lsp extra: pip install "loyalty-dsl[lsp]"')
    serve()


if __name__ == "__main__":  # pragma: no cover
    main()
