"""Activity histories in: JSON Lines, CSV or Parquet -> accepted events, with accounting.

Every non-blank line (row) read ends up counted once: applied, ignored (a type
the program does not use), duplicate (an id the member already used: the first
line wins) or rejected (with file, line and reason). A bad line never stops
the reading. Lines are read one at a time and kept only as compact `Event`s.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import heapq
import io
import itertools
import math
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import attrs
import orjson

from loyalty_dsl.evaluation.calendar import END_INSTANT, FIRST_INSTANT, instant_of
from loyalty_dsl.evaluation.compile import CompiledProgram, FieldSpec
from loyalty_dsl.evaluation.events import Event
from loyalty_dsl.evaluation.exact import times
from loyalty_dsl.evaluation.order import sort_events
from loyalty_dsl.io.csv_header import HeaderProblem, csv_header
from loyalty_dsl.io.parquet_values import Unreadable, python_rows, python_values
from loyalty_dsl.io.rejections import Rejected
from loyalty_dsl.io.spool import KEPT, KINDS, Spool, spooled
from loyalty_dsl.language.vocabulary import MAX_EXACT

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}$")
# ISO-8601 as exports write it: a date, or a date and time ("T", "t" or a space between),
# seconds with any fraction ("." or ","), and "Z" or an offset (+05, +0530, +05:30).
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}([.,]\d+)?)?([Zz]|[+-]\d{2}(:?\d{2})?)?)?$")
_FRACTION = re.compile(r"([.,])(\d{6})\d+")  # Python keeps microseconds: further digits are cut
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
_CSV_NUMBER = re.compile(r"\s*-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?\s*$")
MAX_LINE = 16 * 2**20  # bytes: a longer line is rejected unread, so memory stays bounded


class HistoryError(Exception):
    """A history that cannot be read at all (missing file, unknown format)."""


@attrs.define
class Accounting:
    """What became of every line read; `applied + ignored + duplicate + rejected == read`.

    `rejections` and `duplicates` hold the first `spool.KEPT` of each, in input order,
    so that memory stays bounded whatever is rejected; `entries()` gives every one, read
    back from the spool files written while spooling (see `spool.py`)."""

    read: int = 0
    applied: int = 0
    ignored: int = 0
    duplicate: int = 0
    rejected: int = 0
    rejections: list[dict[str, Any]] = attrs.field(factory=list)
    duplicates: list[dict[str, Any]] = attrs.field(factory=list)
    # Input positions of the lines above, so that partitions read apart merge back in order.
    rejection_seqs: list[int] = attrs.field(factory=list, repr=False)
    duplicate_seqs: list[int] = attrs.field(factory=list, repr=False)
    # (instant, seq, file, line) of the first line with the latest instant: it sets the default as-of.
    latest: tuple[int, int, str, int] | None = attrs.field(default=None, repr=False)
    spools: list[str] = attrs.field(factory=list, repr=False)  # files holding every entry, if spooled

    @classmethod
    def merged(cls, parts: Iterable[Accounting]) -> Accounting:
        """The accounting of one history read as several partitions, as if read whole."""
        parts = list(parts)
        out = cls(
            *(sum(getattr(p, name) for p in parts) for name in ("read", "applied", "ignored", "duplicate", "rejected"))
        )
        # Each part's first entries are in input order: the first of all are among them.
        rejections = _first(zip(p.rejection_seqs, p.rejections, strict=True) for p in parts)
        duplicates = _first(zip(p.duplicate_seqs, p.duplicates, strict=True) for p in parts)
        out.rejection_seqs, out.rejections = [s for s, _ in rejections], [r for _, r in rejections]
        out.duplicate_seqs, out.duplicates = [s for s, _ in duplicates], [d for _, d in duplicates]
        out.latest = max((p.latest for p in parts if p.latest), key=lambda x: (x[0], -x[1]), default=None)
        out.spools = [path for p in parts for path in p.spools]
        return out

    def keep(self, kind: str, seq: int, entry: dict[str, Any], spooled: Spool | None) -> None:
        """Note a rejection or a repeat (already counted): kept if among the first, spooled."""
        entries, seqs = (
            (self.rejections, self.rejection_seqs) if kind == "rejections" else (self.duplicates, self.duplicate_seqs)
        )
        if len(entries) < KEPT:
            entries.append(entry)
            seqs.append(seq)
        if spooled is not None:
            spooled.add(kind, seq, entry)

    def entries(self, kind: str, every: bool = True) -> Iterator[dict[str, Any]]:
        """Every rejection or repeat (`kind`), in input order; with `every` false, the kept
        ones where they were not spooled (the counts say how many there were)."""
        kept = self.rejections if kind == "rejections" else self.duplicates
        total = self.rejected if kind == "rejections" else self.duplicate
        if self.spools:
            return (entry for _, entry in spooled(self.spools, kind))
        if every and len(kept) < total:  # a summary is never silently short
            raise RuntimeError(f"only the first {len(kept)} of {total} {kind} were kept: spool them")
        return iter(kept)

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "applied": self.applied,
            "ignored": self.ignored,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
        }

    def to_json(self) -> dict[str, Any]:
        """The counts and the rejections and repeats: all of them if spooled, else those kept."""
        return {"events": self.counts(), **{kind: list(self.entries(kind, every=False)) for kind in KINDS}}

    def line(self) -> str:
        c = self.counts()
        return (
            f"events: {c['read']} read, {c['applied']} applied, {c['ignored']} ignored, "
            f"{c['duplicate']} duplicate, {c['rejected']} rejected"
        )


def _first(parts: Iterable[Iterable[tuple[int, dict[str, Any]]]]) -> list[tuple[int, dict[str, Any]]]:
    return list(itertools.islice(heapq.merge(*parts, key=lambda item: item[0]), KEPT))


@attrs.define
class History:
    """Applied events by member (each list in time order), and the accounting."""

    members: dict[str, list[Event]] = attrs.field(factory=dict)
    accounting: Accounting = attrs.field(factory=Accounting)
    latest: int | None = None  # the latest instant of an event neither rejected nor a repeat

    def member_ids(self) -> list[str]:
        return sorted(self.members)


def expand_paths(paths: Iterable[str]) -> list[str]:
    """Files as given; a folder stands for its history files (a partitioned dataset), sorted."""
    out: list[str] = []
    for path in paths:
        folder = Path(path)
        if path != "-" and folder.is_dir():
            found = sorted(str(p) for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in FORMATS)
            if not found:
                raise HistoryError(f"{path}: no history files in this folder")
            out += found
        else:
            out.append(path)
    return out


def format_of(path: str) -> str:
    if path == "-":
        return "jsonl"
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise HistoryError(f"{path}: cannot tell the format from the name; use one of {', '.join(sorted(FORMATS))}")
    return fmt


def partition_of(record: dict[str, Any] | Rejected, partitions: int) -> int:
    """The partition a line belongs to: its member's, by a hash stable across processes.

    A line without a usable member (not JSON, no member) belongs to partition 0, so that
    every line is read and accounted by exactly one partition.
    """
    return partition_of_member(record.get("member") if isinstance(record, dict) else None, partitions)


def partition_of_member(member: Any, partitions: int) -> int:
    if not isinstance(member, str) or not member.strip():
        return 0
    return zlib.crc32(member.encode("utf-8", "surrogatepass")) % partitions


SKIPPED = "\0skipped"  # a row another partition owns (Parquet only: told apart before it is converted)


def read_history(
    paths: Iterable[str],
    program: CompiledProgram,
    stdin: BinaryIO | None = None,
    progress: Callable[[int], None] | None = None,
    partition: tuple[int, int] | None = None,
    names: Sequence[str] | None = None,
    spool: str | None = None,
) -> History:
    """Read several files as one history; `progress` hears the lines read so far, now and then.

    With `partition=(k, n)`, keep and account only the members of partition k of n. With
    `names`, each file is named so (in rejections, events, messages) instead of by its path:
    a worker opens an absolute path where the user typed a relative one. `spool`: the prefix
    of a spool file for every rejection and repeat (default: the current `spool.spooling`'s).
    """
    reader = _Reader(program, progress, partition, spool)
    paths = list(paths)
    for path, given in zip(paths, paths if names is None else names, strict=True):
        fmt = format_of(path)
        name = given if given != "-" else "<stdin>"
        records = _records(path, fmt, stdin, partition, name)
        reader.consume(name, records, text_cells=(fmt == "csv"))
    reader.finish()
    for events in reader.history.members.values():
        sort_events(events, program.schema)  # never by line: see order.py
    return reader.history


def read_records(records: Iterable[dict[str, Any]] | Any, program: CompiledProgram, name: str = "<events>") -> History:
    """Events held in memory, as dicts (JSON's types) or a pyarrow Table (a Parquet file's),
    read and accounted exactly as a file would be; `line` is the 1-based position."""
    reader = _Reader(program)
    numbered: Iterable[Record]
    if hasattr(records, "to_batches"):  # a pyarrow Table
        rows: Iterable[Any] = (row for batch in records.to_batches() for row in python_rows(batch))
        numbered = enumerate(rows, start=1)
    else:
        numbered = (
            (n, r if isinstance(r, dict) else Rejected("H003", f"expected an object, got {type(r).__name__}"))
            for n, r in enumerate(records, start=1)
        )
    reader.consume(name, numbered, text_cells=False)
    reader.finish()
    for events in reader.history.members.values():
        sort_events(events, program.schema)
    return reader.history


# --- formats -> (line, record | reason) ------------------------------------------------

Record = tuple[int, "dict[str, Any] | Rejected | str"]  # str: only SKIPPED


def _records(
    path: str, fmt: str, stdin: BinaryIO | None, partition: tuple[int, int] | None, name: str
) -> Iterator[Record]:
    if fmt == "parquet":
        return _parquet_records(path, partition, name)
    if path == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return _jsonl_records(stream) if fmt == "jsonl" else _csv_records(stream, name)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed by the generator below
    except OSError as err:
        raise HistoryError(f"{name}: {err.strerror or err}") from None
    return _closing(handle, _jsonl_records(handle) if fmt == "jsonl" else _csv_records(handle, name))


def _closing(handle: BinaryIO, records: Iterator[Record]) -> Iterator[Record]:
    with handle:
        yield from records


def _lines(stream: BinaryIO) -> Iterator[bytes | None]:
    """The stream's lines; None for a line longer than MAX_LINE, which is skipped unread."""
    while raw := stream.readline(MAX_LINE + 1):
        if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
            while (rest := stream.readline(2**20)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield raw


def _jsonl_records(stream: BinaryIO) -> Iterator[Record]:
    for number, raw in enumerate(_lines(stream), start=1):
        if raw is None:
            yield number, Rejected("H001", f"line longer than {MAX_LINE // 2**20} MiB")
            continue
        if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if not raw.strip():
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as err:
            yield number, Rejected("H002", f"not valid JSON: {str(err).split(':')[0]}")
            continue
        if not isinstance(value, dict):
            value = Rejected("H003", f"expected a JSON object, got {_json_kind(value)}")
        yield number, value


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "true or false", type(None): "null"}.get(type(value), "a number")


def _csv_records(stream: BinaryIO, name: str) -> Iterator[Record]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    try:
        found = csv_header(text, MAX_LINE)
    except HeaderProblem as problem:
        raise HistoryError(f"{name}:{problem}") from None
    if found is None:
        return
    header, delimiter, base = found
    # a quote never closed is an error, not the rest of the file
    rows = csv.reader(text, delimiter=delimiter, strict=True)
    line = base + 1
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as err:
            yield line, Rejected("H004", f"not valid CSV: {err}")
            line = base + rows.line_num + 1
            continue
        start, line = line, base + rows.line_num + 1
        if not row or all(not cell.strip() for cell in row):
            continue
        try:
            "".join(row).encode("utf-8")
        except UnicodeEncodeError:
            yield start, Rejected("H005", "not valid UTF-8 text")
            continue
        if len(row) != len(header):
            yield start, Rejected("H006", f"expected {len(header)} columns, got {len(row)}")
            continue
        yield start, {k: v for k, v in zip(header, row, strict=True) if v != ""}


def _parquet_records(path: str, partition: tuple[int, int] | None, name: str) -> Iterator[Record]:
    import pyarrow as pa  # imported here: only Parquet runs pay for it
    import pyarrow.parquet as pq

    try:
        file = pq.ParquetFile(path)
    except (OSError, ValueError) as err:
        raise HistoryError(f"{name}: not a readable Parquet file ({err})") from None
    number = 0
    for batch in file.iter_batches(batch_size=65_536):
        if partition is None or "member" not in batch.schema.names:
            for row in python_rows(batch):
                number += 1
                yield number, row
            continue
        # Only this partition's rows become Python dicts: the others are just counted.
        k, n = partition
        owned = [partition_of_member(m, n) == k for m in python_values(batch.column("member"))]
        rows = iter(python_rows(batch.filter(pa.array(owned, pa.bool_()))))
        for mine in owned:
            number += 1
            if mine:
                yield number, next(rows)
            else:
                yield number, SKIPPED


# --- one record -> an event, or the reason it is refused -----------------------------------


class _Reader:
    _EVERY = 65_536  # lines between two progress reports

    def __init__(
        self,
        program: CompiledProgram,
        progress: Callable[[int], None] | None = None,
        partition: tuple[int, int] | None = None,
        spool: str | None = None,
    ) -> None:
        self.program = program
        self.progress = progress
        self.partition = partition  # (k, n): keep only the lines of partition k of n
        self.history = History()
        self.seen_ids: dict[tuple[str, str], tuple[int, str, int]] = {}  # (member, id) -> (seq, file, line)
        self.seq = 0
        self.spool = Spool.if_spooling(spool)
        self.priced = {
            t: tuple(f for f in specs if f.currency)
            for t, specs in program.schema.items()
            if any(f.currency for f in specs)
        }
        self.converters = {
            t: tuple((spec, _CONVERT[spec.type]) for spec in specs) for t, specs in program.schema.items()
        }

    def consume(self, file: str, records: Iterable[Record], text_cells: bool) -> None:
        acc = self.history.accounting
        for line, record in records:
            self.seq += 1  # counted by every partition alike: positions stay global
            if isinstance(record, str) or (  # SKIPPED
                self.partition is not None and partition_of(record, self.partition[1]) != self.partition[0]
            ):
                continue
            acc.read += 1
            if self.progress is not None and not acc.read % self._EVERY:
                self.progress(acc.read)
            try:
                if isinstance(record, Rejected):
                    raise record
                self._accept(file, line, record, text_cells)
            except Rejected as bad:
                acc.rejected += 1
                rejection = {"file": file, "line": line, "code": bad.code, "reason": bad.reason}
                acc.keep("rejections", self.seq, rejection, self.spool)

    def finish(self) -> None:
        if self.spool is not None:
            self.history.accounting.spools = self.spool.close()

    def _convert_amounts(self, fields: dict[str, Any], specs: tuple[FieldSpec, ...]) -> None:
        """Amounts in another currency, in the program's: the one currency conditions compare."""
        program = self.program
        for spec in specs:
            assert spec.currency is not None
            value, currency = fields.get(spec.name), fields.get(spec.currency)
            if value is None or currency is None or currency == program.currency:
                continue
            rate = program.rates.get(currency)
            if rate is None:
                raise Rejected(
                    "H204",
                    f"field '{spec.currency}': no rate for {_shown(currency)} "
                    f"(amounts are counted in {program.currency})",
                )
            fields[spec.name] = times(value, rate)  # exact: 100 x 1.15 is 115, not 114.99999999999999

    def _accept(self, file: str, line: int, record: dict[str, Any], text_cells: bool) -> None:
        member = _required_text(record, "member")
        type_ = _required_text(record, "type")
        at = _instant(record.get("at"))
        if not self.program.calendar.holds(at):
            zone = self.program.calendar.name
            raise Rejected(
                "H112", f"field 'at': {_shown(record.get('at'))} is out of range (years 1 to 9999, in {zone})"
            )
        event_id = _event_id(record.get("id"))
        converters = self.converters.get(type_)
        fields = _fields(record, converters, text_cells) if converters is not None else None
        if fields is not None and type_ in self.priced:
            self._convert_amounts(fields, self.priced[type_])
        acc, history = self.history.accounting, self.history
        if event_id is not None:
            # By input position, not (file, line): the same file given twice repeats every id.
            first = self.seen_ids.setdefault((member, event_id), (self.seq, file, line))
            if first[0] != self.seq:
                acc.duplicate += 1
                repeat = {"file": file, "line": line, "member": member, "id": event_id}
                acc.keep("duplicates", self.seq, {**repeat, "first": {"file": first[1], "line": first[2]}}, self.spool)
                return
        history.latest = at if history.latest is None else max(history.latest, at)
        if acc.latest is None or at > acc.latest[0]:
            acc.latest = (at, self.seq, file, line)
        events = history.members.setdefault(member, [])
        if fields is None:
            acc.ignored += 1
            return
        acc.applied += 1
        events.append(Event(at, self.seq, type_, fields, file, line, event_id))


def _required_text(record: dict[str, Any], name: str) -> str:
    value = record.get(name)
    if value is None:
        raise Rejected("H101", f"field '{name}' is missing")
    if not isinstance(value, str):
        raise Rejected("H102", f"field '{name}': expected text, got {_shown(value)}")
    if not value.strip():
        raise Rejected("H103", f"field '{name}' is empty")
    return value


def _event_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Rejected("H104", f"field 'id': expected text or a whole number, got {_shown(value)}")
    return str(value)


def _instant(value: Any) -> int:
    if value is None:
        raise Rejected("H101", "field 'at' is missing")
    if isinstance(value, Unreadable):
        raise Rejected("H113", f"field 'at': {value}")
    if isinstance(value, dt.datetime):
        instant = instant_of(value)
        if not FIRST_INSTANT <= instant < END_INSTANT:
            raise Rejected("H112", f"field 'at': {value.isoformat()} is out of range (years 1 to 9999, in UTC)")
        return instant
    if isinstance(value, dt.date):
        return instant_of(dt.datetime(value.year, value.month, value.day))
    if not isinstance(value, str) or not _INSTANT.match(value.strip()):
        example = "2026-03-01T10:00:00Z"
        raise Rejected("H110", f"field 'at': expected an ISO-8601 instant such as {example}, got {_shown(value)}")
    text = _FRACTION.sub(r"\1\2", value.strip()).replace("z", "Z")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise Rejected("H111", f"field 'at': impossible date or time {_shown(value)} ({err})") from None
    try:
        instant = instant_of(parsed)
    except OverflowError:
        instant = END_INSTANT
    if not FIRST_INSTANT <= instant < END_INSTANT:
        raise Rejected("H112", f"field 'at': {_shown(value)} is out of range (years 1 to 9999, in UTC)")
    return instant


def _shown(value: Any) -> str:
    try:
        text = orjson.dumps(value, default=str).decode() if not isinstance(value, bytes) else repr(value)
    except TypeError:  # an integer beyond 64 bits
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fields(record: dict[str, Any], converters: tuple[tuple[FieldSpec, Any], ...], text_cells: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for spec, convert in converters:
        value = record.get(spec.name)
        if value is None:
            if not spec.optional:
                raise Rejected("H201", f"field '{spec.name}' is missing")
            if spec.default is not None:
                fields[spec.name] = spec.default
            continue
        try:
            converted = convert(value, text_cells)
        except (TypeError, ValueError, OverflowError) as err:
            raise Rejected("H202", f"field '{spec.name}': {err}, got {_shown(value)}") from None
        if spec.at_least is not None and converted < spec.at_least:
            raise Rejected("H203", f"field '{spec.name}': must be at least {spec.at_least}, got {_shown(value)}")
        fields[spec.name] = converted
    return fields


def _to_text(value: Any, text_cells: bool) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _to_number(value: Any, text_cells: bool) -> float | int:
    if isinstance(value, str) and text_cells:
        if not _CSV_NUMBER.match(value):  # as JSON writes numbers: no "1_000", no non-ASCII digits
            raise ValueError("expected a number")
        value = float(value) if any(c in value for c in ".eE") else int(value)
    if isinstance(value, decimal.Decimal):  # a Parquet decimal column
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("expected a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("expected a finite number")
    return value


def _to_integer(value: Any, text_cells: bool) -> int:
    number = _to_number(value, text_cells)
    if isinstance(number, float):
        if not number.is_integer():
            raise ValueError("expected a whole number")
        number = int(number)
    if abs(number) > MAX_EXACT:  # beyond what every JSON reader keeps exact
        raise ValueError(f"a whole number out of range (at most {MAX_EXACT} either way)")
    return number


def _to_date(value: Any, text_cells: bool) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _DATE.match(value.strip()):
        raise TypeError("expected a date such as 1990-05-12")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("impossible date") from None


def _to_boolean(value: Any, text_cells: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and text_cells:
        word = value.strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
    raise TypeError("expected true or false")


_CONVERT: dict[str, Callable[[Any, bool], Any]] = {
    "text": _to_text,
    "integer": _to_integer,
    "number": _to_number,
    "money": _to_number,
    "date": _to_date,
    "boolean": _to_boolean,
}
