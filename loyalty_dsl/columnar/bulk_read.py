"""Activity histories read in bulk, as columns: the fast path of `loyalty run`.

`read_bulk` gives what `history.read_history` gives (applied events, accounting,
members, latest instant), with pyarrow instead of a loop over lines. It answers
only when it is certain to agree with that reader; whenever it is not, it returns
None and the caller reads line by line. Agreement is the point: every check here
errs towards None. None comes from:

- standard input, CSV, a file that cannot be read; an amount in a currency without
  a rate, or with more digits than a decimal of 20 places holds; a field name with
  two types, or a default of another type than its field;
- any line the line reader would reject (member, type, `at`, id, a declared field);
- forms taken here only in their common spelling: instants as `2026-03-01`,
  `2026-03-01T10:00[:00[.123456]]` with `Z`, `+hh:mm` or `-hh:mm` or nothing;
  dates as `2026-03-01`; JSON lines exactly `{...}` (CRLF, blank lines, a BOM and a
  missing last newline are fine; spaces around an object are not);
- bytes on which pyarrow and orjson might part: NaN, Infinity, numbers that may
  overflow a double, nesting beyond orjson's depth, text that is not UTF-8;
- numbers a double might not hold as the line reader does (beyond 2**53), Parquet
  decimals and column types beyond the plain ones.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from loyalty_dsl.evaluation.calendar import END_INSTANT, FIRST_INSTANT, US_PER_DAY
from loyalty_dsl.evaluation.compile import CompiledProgram, FieldSpec
from loyalty_dsl.io.history import Accounting, HistoryError, format_of, partition_of_member
from loyalty_dsl.io.parquet_values import known_zone
from loyalty_dsl.io.spool import KEPT, Spool
from loyalty_dsl.language.vocabulary import MAX_EXACT

# The columns of the events table, by field type; and how JSON Lines are read before checks.
COLUMN_TYPES = {
    "text": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "money": pa.float64(),
    "date": pa.date32(),
    "boolean": pa.bool_(),
}
# Whole numbers are read as doubles, as JSON allows `5.0` and `1e2` for them; checked after.
_READ_TYPES = {**COLUMN_TYPES, "integer": pa.float64(), "date": pa.string()}
_FIXED = ("member", "type", "at", "seq", "id")
_DECLARED = "_declared"  # a column of the table while it is built: whether the row's type is declared
_EXACT = float(2**53)  # below this, a double holds any whole number read as one exactly

_YEAR = r"(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"  # 0001 to 9999: year 0 is impossible
_DATE_TEXT = rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}$"
# The common subset of what the line reader takes for an instant; anything else is left to it.
_INSTANT_TEXT = (
    rf"^{_YEAR}-[0-9]{{2}}-[0-9]{{2}}"
    r"(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?$"
)
_ZONED = r"(?:Z|[+-][0-9]{2}:[0-9]{2})$"
# Bytes after which pyarrow and orjson might disagree on a file: NaN and Infinity (pyarrow
# takes them), numbers that may overflow a double (orjson refuses them even in a field
# nobody reads), and lines that are not exactly one object between `{` and `}`.
_DOUBTFUL_BYTES = (
    r"NaN|Inf|[0-9]{30}|[0-9][eE]\+?[0-9]{3}"
    r"|[^}\n\r]\n|[^}\n]\r\n|\n[^{\r\n]|\n\r[^\n]"
)
_NESTED = r"|[{\[][^\n]*[{\[]"  # a line with a second `{` or `[`: may nest (in a string too)
_BLANK_LINE = r"\n\r?\n"
_BOM = b"\xef\xbb\xbf"
_MAX_DEPTH = 1024  # orjson's limit of nesting; pyarrow has none
_BLOCK = 8 * 2**20  # bytes; at most half the line reader's MAX_LINE
_AMOUNT_DIGITS, _AMOUNT_PLACES = 50, 20  # an amount converted between currencies, as a decimal
_NEWLINE = pa.scalar(10, pa.uint8())
_OPEN_BRACE = pa.scalar(ord("{"), pa.uint8())


class _Doubt(Exception):
    """The bulk read might not agree with the line reader: leave the history to it."""


@attrs.frozen
class BulkHistory:
    """A history read in bulk: what `read_history` would give, as a table."""

    events: pa.Table  # the applied events (no ignored type, no repeat), in no particular order
    members: list[str]  # sorted: every member with a line neither rejected nor a repeat
    accounting: Accounting
    latest: int | None
    sources: tuple[_Source, ...] = ()  # the files read, for the place of a row

    def places(self, seqs: list[int]) -> list[tuple[str, int]]:
        """(file, line) of the rows at these positions (`seq`: 1-based in the whole history)."""
        return _places([s - 1 for s in seqs], list(self.sources), _line_lists(list(self.sources)))


@attrs.frozen
class _Layout:
    """The program's event types and fields, as columns."""

    types: tuple[str, ...]  # declared event types; a row's type code is its index here
    kinds: dict[str, str]  # field name -> its type (one per name)
    declaring: dict[str, tuple[tuple[int, FieldSpec], ...]]  # field name -> (type code, spec)
    currency: str | None = None  # the program's own currency, which amounts are counted in
    rates: tuple[tuple[str, Decimal], ...] = ()  # (currency, rate) of the others


@attrs.frozen
class _Source:
    """One file of the history: its name, its rows, and the line of each row."""

    name: str
    rows: int
    lines: pa.Array | None  # 1-based line numbers of the rows; None: row i is line i + 1


def read_bulk(
    paths: Sequence[str],
    program: CompiledProgram,
    partition: tuple[int, int] | None = None,
    names: Sequence[str] | None = None,
    spool: str | None = None,
) -> BulkHistory | None:
    """The history in `paths` read in bulk, or None if the line reader must read it.

    As `read_history`: with `partition=(k, n)`, only the members of partition k of n are kept
    and accounted (every file is still read and checked whole, so that every partition comes
    to the same answer, bulk or None); `names` are the files as rejections and repeats name
    them; `spool` names the spool files while not spooling here (on a Dask worker)."""
    try:
        return _read(paths, program, partition, names or paths, spool)
    except (_Doubt, HistoryError, pa.ArrowException, ValueError, OverflowError, OSError):
        # Arrow's errors (a parse error, a value that does not convert) are doubts too; so are
        # files the line reader cannot read at all: it says why.
        return None


def _read(
    paths: Sequence[str],
    program: CompiledProgram,
    partition: tuple[int, int] | None,
    names: Sequence[str],
    spool: str | None,
) -> BulkHistory:
    layout = _layout(program)
    formats = []
    for path in paths:
        fmt = format_of(path) if path != "-" else "stdin"
        if fmt not in ("jsonl", "parquet"):
            raise _Doubt(path)
        formats.append(fmt)
    frames: list[pa.Table] = []
    sources: list[_Source] = []
    for path, name, fmt in zip(paths, names, formats, strict=True):
        frame, lines = _read_jsonl(path, layout) if fmt == "jsonl" else _read_parquet(path, layout)
        frames.append(frame)
        sources.append(_Source(name, frame.num_rows, lines))
    schema = _frame_schema(layout)
    table = pa.concat_tables([f.cast(schema) for f in frames]) if frames else schema.empty_table()
    bounds = pc.min_max(table.column("at"))
    for edge in (bounds["min"].as_py(), bounds["max"].as_py()):
        if edge is not None and not program.calendar.holds(edge):
            raise _Doubt("an instant outside years 1 to 9999 in the program's time zone")
    return _account(table, sources, layout, partition, Spool.if_spooling(spool))


def _layout(program: CompiledProgram) -> _Layout:
    kinds: dict[str, str] = {}
    declaring: dict[str, list[tuple[int, FieldSpec]]] = {}
    for code, specs in enumerate(program.schema.values()):
        for spec in specs:
            # Names the table uses are not fields.
            if spec.type not in COLUMN_TYPES or spec.name in (*_FIXED, _DECLARED):
                raise _Doubt(spec.name)
            if kinds.setdefault(spec.name, spec.type) != spec.type:
                raise _Doubt(spec.name)
            if spec.default is not None and not _default_fits(spec):
                raise _Doubt(spec.name)
            if any(c == code for c, _ in declaring.get(spec.name, ())):
                raise _Doubt(spec.name)  # a field declared twice by one type
            declaring.setdefault(spec.name, []).append((code, spec))
    rates = tuple(sorted(program.rates.items()))
    return _Layout(tuple(program.schema), kinds, {k: tuple(v) for k, v in declaring.items()}, program.currency, rates)


def _default_fits(spec: FieldSpec) -> bool:
    """A default the column holds as the line reader's events hold it."""
    value = spec.default
    if spec.type == "text":
        return isinstance(value, str)
    if spec.type == "boolean":
        return isinstance(value, bool)
    if spec.type == "date":
        return isinstance(value, dt.date) and not isinstance(value, dt.datetime)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return abs(value) <= MAX_EXACT if spec.type == "integer" else abs(value) < _EXACT


def _frame_schema(layout: _Layout) -> pa.Schema:
    fields = [("member", pa.string()), ("type", pa.string()), ("at", pa.int64()), ("id", pa.string())]
    fields += [(_DECLARED, pa.bool_())]
    fields += [(name, COLUMN_TYPES[layout.kinds[name]]) for name in sorted(layout.kinds)]
    return pa.schema(fields)


# --- JSON Lines ---------------------------------------------------------------------------


def _read_jsonl(path: str, layout: _Layout) -> tuple[pa.Table, pa.Array | None]:
    with open(path, "rb") as handle:
        data = handle.read()
    body = pa.py_buffer(data)
    if data.startswith(_BOM):  # the line reader drops one at the start of a file only
        body = body.slice(len(_BOM))
    if data.find(b"{") == -1:  # no object: blank lines only, or a doubt
        lines, _ = _check_lines(data, body) if body.size else (None, 0)
        return _empty_frame(layout), lines
    schema = pa.schema(
        [("member", pa.string()), ("type", pa.string()), ("at", pa.string()), ("id", pa.string())]
        + [(name, _READ_TYPES[kind]) for name, kind in sorted(layout.kinds.items())]
    )
    # The bytes are checked while pyarrow parses, the instants read while the fields are
    # (pyarrow leaves the interpreter free).
    with ThreadPoolExecutor(2) as pool:
        checked = pool.submit(_check_lines, data, body)
        try:
            table = _parse_json(body, schema)
        except pa.ArrowInvalid as err:
            if "Column(/id) changed from string to number" not in str(err):
                raise
            # Whole-number ids: read as such, then written as the line reader writes them.
            table = _parse_json(body, schema.set(schema.get_field_index("id"), pa.field("id", pa.int64())))
        instants = pool.submit(_instants_of_text, table.column("at"))
        raw = {name: table.column(name) for name in layout.kinds}
        frame = _frame(layout, table.column("member"), table.column("type"), table.column("id"), raw)
        lines, expected = checked.result()
        at = instants.result()
    # Each line starts with `{` and ends with `}`, and no string holds a raw newline (pyarrow
    # refuses control characters in strings), so no object spans two lines: as many rows as
    # lines means one object a line.
    if table.num_rows != expected:
        raise _Doubt("not one object a line")
    return frame.add_column(2, "at", at), lines


def _parse_json(body: pa.Buffer, schema: pa.Schema) -> pa.Table:
    import pyarrow.json as pajson

    return pajson.read_json(
        pa.BufferReader(body),
        # Blocks above the default parse faster; a line longer than a block fails (a doubt),
        # which keeps lines far below the line reader's limit.
        read_options=pajson.ReadOptions(block_size=_BLOCK),
        parse_options=pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
    )


def _check_lines(data: bytes, body: pa.Buffer) -> tuple[pa.Array | None, int]:
    """The line number of each object (None: no blank line, object i is on line i + 1) and
    how many lines hold one, if pyarrow and orjson read the file alike; or a doubt."""
    size = body.size
    whole = _one_value(body)
    if not data.isascii():
        whole.cast(pa.large_string())  # orjson refuses text that is not UTF-8: so does this
    head, tail = body.slice(0, min(size, 2)).to_pybytes(), body.slice(max(size - 2, 0)).to_pybytes()
    if not (head.startswith((b"{", b"\n", b"\r\n")) and tail.endswith((b"\n", b"}", b"}\r"))):
        raise _Doubt("a first or last line of another form")
    nested = _matches(whole, _DOUBTFUL_BYTES + _NESTED)
    if nested and _matches(whole, _DOUBTFUL_BYTES):
        raise _Doubt("bytes the readers may take differently")
    blank = head.startswith((b"\n", b"\r\n")) or _matches(whole, _BLANK_LINE)
    lines = _line_numbers(body) if blank else None
    if nested and _too_deep(body):
        raise _Doubt("nesting orjson refuses")
    return lines, len(lines) if lines is not None else data.count(b"\n") + (not data.endswith(b"\n"))


def _one_value(body: pa.Buffer) -> pa.Array:
    """The whole file as one binary value, without a copy."""
    offsets = pa.array([0, body.size], pa.int64()).buffers()[1]
    return pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, body])


def _matches(value: pa.Array, pattern: str) -> bool:
    return bool(pc.match_substring_regex(value, pattern)[0].as_py())


def _line_starts(body: pa.Buffer) -> tuple[pa.Array, pa.Array]:
    """The bytes of a file, and the offset each line starts at."""
    octets = pa.Array.from_buffers(pa.uint8(), body.size, [None, body])
    after = pc.add(pc.cast(pc.indices_nonzero(pc.equal(octets, _NEWLINE)), pa.int64()), 1)
    starts = pa.concat_arrays([pa.array([0], pa.int64()), after])
    return octets, starts.filter(pc.less(starts, body.size))


def _line_numbers(body: pa.Buffer) -> pa.Array:
    """The line number of each non-blank line (lines are `{...}` or blank, checked before)."""
    octets, starts = _line_starts(body)
    counted = pc.equal(octets.take(starts), _OPEN_BRACE)
    return pc.add(pc.cast(pc.indices_nonzero(counted), pa.int64()), 1)


def _too_deep(body: pa.Buffer) -> bool:
    """Whether a line may nest deeper than orjson reads (counting every `{` and `[` of it)."""
    _, starts = _line_starts(body)
    offsets = pa.concat_arrays([starts, pa.array([body.size], pa.int64())])
    lines = pa.Array.from_buffers(pa.large_binary(), len(starts), [None, offsets.buffers()[1], body])
    openers = pc.add(pc.count_substring(lines, "{"), pc.count_substring(lines, "["))
    return bool(pc.max(openers).as_py() > _MAX_DEPTH)


def _empty_frame(layout: _Layout) -> pa.Table:
    return _frame_schema(layout).empty_table()


# --- Parquet ---------------------------------------------------------------------------------

# Column types whose values the line reader turns into Python objects without trouble.
_PLAIN = (
    pa.types.is_null,
    pa.types.is_boolean,
    pa.types.is_integer,
    pa.types.is_floating,
    pa.types.is_string,
    pa.types.is_large_string,
    pa.types.is_binary,
    pa.types.is_large_binary,
)


def _plain(type_: pa.DataType) -> bool:
    if pa.types.is_dictionary(type_):
        return _plain(type_.value_type)
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return _plain(type_.value_type)
    if pa.types.is_struct(type_):
        return all(_plain(type_.field(i).type) for i in range(type_.num_fields))
    return any(test(type_) for test in _PLAIN)


def _read_parquet(path: str, layout: _Layout) -> tuple[pa.Table, None]:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    names = schema.names
    if len(set(names)) != len(names):
        raise _Doubt("a column name twice")
    wanted = {"member", "type", "at", "id", *layout.kinds}
    for field in schema:
        if field.name not in wanted and not _plain(field.type):
            raise _Doubt(field.name)  # the line reader converts every column; leave odd ones to it
    table = pq.read_table(path, columns=[n for n in names if n in wanted])
    rows = table.num_rows
    if rows == 0:
        return _empty_frame(layout), None

    def column(name: str) -> pa.ChunkedArray | None:
        if name not in table.column_names or pa.types.is_null(table.column(name).type):
            return None
        return table.column(name)

    member, type_ = _text(column("member"), rows), _text(column("type"), rows)
    found = column("id")
    id_ = found if found is not None and pa.types.is_integer(found.type) else _text(found, rows)
    with ThreadPoolExecutor(1) as pool:  # the instants read while the fields are
        instants = pool.submit(_parquet_instants, column("at"), rows)
        raw = {name: _parquet_field(column(name), layout.kinds[name], rows) for name in layout.kinds}
        frame = _frame(layout, member, type_, id_, raw)
        at = instants.result()
    return frame.add_column(2, "at", at), None


def _text(column: pa.ChunkedArray | None, rows: int) -> pa.ChunkedArray | pa.Array:
    if column is None:
        return pa.nulls(rows, pa.string())
    type_ = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if not (pa.types.is_string(type_) or pa.types.is_large_string(type_)):
        raise _Doubt("not text")
    return pc.cast(column, pa.string())


def _parquet_instants(column: pa.ChunkedArray | None, rows: int) -> pa.ChunkedArray | pa.Array:
    if column is None:
        raise _Doubt("no instants")
    type_ = column.type
    if pa.types.is_timestamp(type_):
        if column.null_count or not known_zone(type_.tz):
            raise _Doubt("an instant missing, or in a time zone the line reader refuses")
        # As the line reader: nanoseconds cut to microseconds, the stored (UTC) value is the instant.
        safe = type_.unit != "ns"
        instants = pc.cast(pc.cast(column, pa.timestamp("us", type_.tz), safe=safe), pa.int64())
        _check_range(instants, FIRST_INSTANT, END_INSTANT)  # beyond: the line reader rejects the row
        return instants
    if pa.types.is_date32(type_):
        if column.null_count:
            raise _Doubt("an instant missing")
        instants = pc.multiply(pc.cast(pc.cast(column, pa.int32()), pa.int64()), US_PER_DAY)
        _check_range(instants, FIRST_INSTANT, END_INSTANT)
        return instants
    return _instants_of_text(_text(column, rows))


def _parquet_field(column: pa.ChunkedArray | None, kind: str, rows: int) -> pa.ChunkedArray | pa.Array:
    """A field's column in the form JSON Lines are read in (see `_READ_TYPES`)."""
    if column is None:
        return pa.nulls(rows, _READ_TYPES[kind])
    type_ = column.type
    if kind == "text" or (kind == "date" and not pa.types.is_date32(type_)):
        return _text(column, rows)
    if kind == "date" or (kind == "boolean" and pa.types.is_boolean(type_)):
        return column
    if kind in ("integer", "number", "money"):
        if pa.types.is_integer(type_):
            # Whole numbers stay exact in a double up to 2**53, beyond which the reader refuses
            # integers and a double would not equal its Python int.
            if column.null_count < len(column) and pc.max(pc.abs_checked(pc.cast(column, pa.int64()))).as_py() >= (
                MAX_EXACT if kind == "integer" else _EXACT
            ):
                raise _Doubt("a number beyond 2**53")
            return pc.cast(column, pa.float64())
        if pa.types.is_floating(type_):
            return pc.cast(column, pa.float64())
    raise _Doubt(f"a {kind} field of type {type_}")


# --- checks and conversions, in columns ---------------------------------------------------------


def _any(mask: Any) -> bool:
    return bool(pc.any(mask, skip_nulls=True, min_count=0).as_py())


def _all(mask: Any) -> bool:
    """True for no values, as Python's all()."""
    return bool(pc.all(mask, skip_nulls=True, min_count=0).as_py())


def _check_range(values: Any, low: int, high: int) -> None:
    """Every value in [low, high)."""
    if len(values) and (pc.min(values).as_py() < low or pc.max(values).as_py() >= high):
        raise _Doubt("out of range")


def _instants_of_text(texts: Any) -> Any:
    """Instants (µs, UTC) from ISO-8601 text, exactly as `history._instant` reads the forms taken."""
    if texts.null_count:
        raise _Doubt("an instant missing")
    if not _all(pc.match_substring_regex(texts, _INSTANT_TEXT)):
        raise _Doubt("an instant of another form")
    zoned = pc.match_substring_regex(texts, _ZONED)
    count = pc.sum(pc.cast(zoned, pa.int64())).as_py() or 0
    # Arrow parses a text with an offset only into a zoned type, one without only into a naive one.
    if count == len(texts):
        stamps = pc.cast(texts, pa.timestamp("us", "UTC"))
    elif count == 0:
        stamps = pc.cast(texts, pa.timestamp("us"))
    else:
        with_zone = pc.cast(pc.if_else(zoned, texts, "1970-01-01T00:00Z"), pa.timestamp("us", "UTC"))
        without = pc.cast(pc.if_else(zoned, "1970-01-01", texts), pa.timestamp("us"))
        stamps = pc.if_else(zoned, pc.cast(with_zone, pa.int64()), pc.cast(without, pa.int64()))
    instants = pc.cast(stamps, pa.int64())
    _check_range(instants, FIRST_INSTANT, END_INSTANT)
    return instants


def _frame(layout: _Layout, member: Any, type_: Any, id_: Any, raw: dict[str, Any]) -> pa.Table:
    """One file's rows, checked as the line reader checks them, in the table's columns but
    `at` (members are checked once for all files, in `_account`)."""
    if member.null_count or type_.null_count:
        raise _Doubt("a member or type missing")
    types = pc.dictionary_encode(type_).combine_chunks()
    _check_text(types.dictionary)
    if pa.types.is_integer(id_.type):
        id_ = pc.cast(id_, pa.string())  # str() of the number, as the line reader writes it
    id_ = pc.if_else(pc.equal(id_, ""), pa.scalar(None, pa.string()), id_)  # an empty id is no id
    # Each row's index in the declared types, -1 for a type the program ignores.
    declared = pc.fill_null(pc.index_in(types.dictionary, value_set=pa.array(layout.types, pa.string())), -1)
    codes = declared.take(types.indices)
    columns: dict[str, Any] = {"member": member, "type": type_, "id": id_}
    columns[_DECLARED] = pc.greater_equal(codes, 0)
    for name in sorted(layout.kinds):
        columns[name] = _field(layout.kinds[name], layout.declaring[name], raw[name], codes)
    for name, declaring in layout.declaring.items():
        for code, spec in declaring:
            if spec.currency is not None:
                of_type = pc.equal(codes, code)
                columns[name] = _priced(columns[name], columns[spec.currency], of_type, layout)
    return pa.table(columns)


def _priced(values: Any, currencies: Any, of_type: Any, layout: _Layout) -> Any:
    """A type's amounts in another currency, in the program's (history._convert_amounts): each times
    its currency's rate, exactly, then the nearest double. A currency without a rate is a doubt (the
    line reader rejects the line)."""
    values, currencies, of_type = (_whole(c) for c in (values, currencies, of_type))
    foreign = pc.and_(of_type, pc.and_(pc.is_valid(values), pc.is_valid(currencies)))
    foreign = pc.fill_null(pc.and_(foreign, pc.not_equal(currencies, layout.currency or "")), False)
    if not _any(foreign):
        return values
    rates = dict(layout.rates)
    for currency in pc.unique(currencies.filter(foreign)).to_pylist():
        rate = rates.get(currency)
        if rate is None:
            raise _Doubt(f"an amount in {currency}, which has no rate")
        mask = pc.and_(foreign, pc.equal(currencies, currency))
        values = pc.replace_with_mask(values, mask, _times(values.filter(mask), rate))
    return values


def _whole(column: Any) -> Any:
    """One array for a column (replace_with_mask takes no chunks)."""
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _times(values: Any, rate: Decimal) -> Any:
    """exact.times for a column: the decimals written (a double's shortest digits, as repr gives
    them) times the rate, exactly, read back as the nearest double. ArrowInvalid where a value
    has more digits than the decimals here hold."""
    digits, exponent = len(rate.as_tuple().digits), -int(rate.as_tuple().exponent)
    scale = max(exponent, 0)
    factor = pa.scalar(rate, pa.decimal256(max(digits, scale + 1), scale))
    amounts = pc.cast(pc.cast(values, pa.string()), pa.decimal256(_AMOUNT_DIGITS, _AMOUNT_PLACES))
    return pc.cast(pc.cast(pc.multiply(amounts, factor), pa.string()), pa.float64())


def _check_text(values: pa.Array) -> None:
    """Distinct members or types: none blank, in Python's idea of white space (`str.strip`)."""
    odd = values.filter(pc.invert(pc.match_substring_regex(values, "[!-~]")))
    if any(not text.strip() for text in odd.to_pylist()):
        raise _Doubt("a blank member or type")


def _field(kind: str, declaring: tuple[tuple[int, FieldSpec], ...], raw: Any, codes: Any) -> Any:
    """A field's column: values only on the rows of types declaring it, checked, defaults filled."""
    relevant = pc.is_in(codes, value_set=pa.array([code for code, _ in declaring], pa.int32()))
    if _any(pc.and_(pc.is_valid(raw), pc.invert(relevant))):
        raw = pc.if_else(relevant, raw, pa.scalar(None, raw.type))  # other types' values are not read
    masks = [(pc.equal(codes, code), spec) for code, spec in declaring]
    for of_type, spec in masks:
        if not spec.optional and _any(pc.and_(of_type, pc.is_null(raw))):
            raise _Doubt(f"field '{spec.name}' missing")
    values = _convert(kind, raw)
    out_type = COLUMN_TYPES[kind]
    for of_type, spec in masks:
        if spec.at_least is not None and _any(pc.and_(of_type, pc.less(values, spec.at_least))):
            raise _Doubt(f"field '{spec.name}' below its least")
        if spec.default is not None and _any(pc.and_(of_type, pc.is_null(values))):
            default = pa.scalar(spec.default, out_type)
            values = pc.if_else(pc.and_(of_type, pc.is_null(values)), default, values)
    return values


def _convert(kind: str, values: Any) -> Any:
    """A field's values as `history._CONVERT` gives them, or a doubt."""
    if kind in ("integer", "number", "money"):
        if not pa.types.is_float64(values.type):
            raise _Doubt(f"a {kind} of type {values.type}")
        present = values.drop_null() if values.null_count else values
        if len(present) == 0:
            return pc.cast(values, COLUMN_TYPES[kind])
        if not _all(pc.is_finite(present)):
            raise _Doubt("not finite")
        largest = pc.max(pc.abs(present)).as_py()
        if kind == "integer":
            if largest > MAX_EXACT or not _all(pc.equal(pc.floor(present), present)):
                raise _Doubt("not a whole number in range")
            return pc.cast(values, pa.int64())
        if largest >= _EXACT:  # an integer this large would be a Python int the double does not equal
            raise _Doubt("a number beyond 2**53")
        return values
    if kind == "date":
        if pa.types.is_date32(values.type):
            days = pc.cast(values, pa.int32())
            _check_range(days.drop_null(), -719_162, 2_932_897)  # 0001-01-01 to 9999-12-31
            return values
        present = values.drop_null()
        if not _all(pc.match_substring_regex(present, _DATE_TEXT)):
            raise _Doubt("a date of another form")
        return pc.cast(values, pa.date32())  # an impossible date fails: a doubt
    expected = COLUMN_TYPES[kind]
    if values.type != expected:
        raise _Doubt(f"a {kind} of type {values.type}")
    return values


# --- repeats and accounting ---------------------------------------------------------------------


def _account(
    table: pa.Table, sources: list[_Source], layout: _Layout, partition: tuple[int, int] | None, spool: Spool | None
) -> BulkHistory:
    seq = pc.add(_counting(table.num_rows), 1)  # positions in the whole history, in every partition
    members = pc.dictionary_encode(table.column("member").combine_chunks())
    _check_text(members.dictionary)
    of_names = _owned_names(members.dictionary, partition)
    owned = None if of_names is None else of_names.take(members.indices)
    repeats = _repeats(members, table.column("id").combine_chunks(), sources, owned, spool)
    kept = _all_but(table.num_rows, pc.subtract(repeats.seqs, 1))
    names = members.dictionary
    if owned is not None and of_names is not None:  # another partition's rows are neither read nor kept here
        table, seq, kept, names = table.filter(owned), seq.filter(owned), kept.filter(owned), names.filter(of_names)
    rows = table.num_rows
    applied_mask = pc.and_(kept, table.column(_DECLARED))
    applied = pc.sum(pc.cast(applied_mask, pa.int64())).as_py() or 0
    accounting = Accounting(
        read=rows,
        applied=applied,
        ignored=rows - len(repeats.seqs) - applied,
        duplicate=len(repeats.seqs),
        duplicates=repeats.kept,
        duplicate_seqs=repeats.kept_seqs,
        spools=repeats.spools,
    )
    latest = pc.max(table.column("at").filter(kept)).as_py() if rows else None
    if latest is not None:  # the first line at that instant: it sets the default as-of
        row = pc.index(pc.if_else(kept, table.column("at"), pa.scalar(None, pa.int64())), latest).as_py()
        position = seq[row].as_py() - 1  # its row in the whole history
        ((file, line),) = _places([position], sources, _line_lists(sources))
        accounting.latest = (latest, position + 1, file, line)
    events = table.append_column("seq", seq).filter(applied_mask)
    columns = ["member", "type", "at", "seq", "id", *sorted(layout.kinds)]
    # A repeat's member has the first line of its id too: the members are all the members.
    return BulkHistory(events.select(columns), sorted(names.to_pylist()), accounting, latest, tuple(sources))


def _all_but(n: int, rows: pa.Array) -> pa.Array:
    """A mask of n rows, false at `rows` (distinct). Scattering marks costs a tenth of hashing
    every row into the set of rows (older pyarrow has no scatter: then the hash)."""
    if not len(rows):
        return pa.repeat(pa.scalar(True), n)
    if hasattr(pc, "scatter"):
        return pc.is_null(pc.scatter(pa.repeat(pa.scalar(True), len(rows)), rows, max_index=n - 1))
    return pc.invert(pc.is_in(_counting(n), value_set=rows))


def _owned_names(names: pa.Array, partition: tuple[int, int] | None) -> pa.Array | None:
    """Which of the distinct members are partition k's, as `read_history` splits them (None: all)."""
    if partition is None:
        return None
    k, n = partition
    return pa.array([partition_of_member(m, n) == k for m in names.to_pylist()], pa.bool_())


@attrs.frozen
class _Repeats:
    """The lines whose (member, id) an earlier line used: the positions (seq) of all, and the
    first `KEPT` as `Accounting.duplicates`, every one in a spool file while spooling."""

    seqs: pa.Array
    kept: list[dict[str, Any]] = attrs.field(factory=list)
    kept_seqs: list[int] = attrs.field(factory=list)
    spools: list[str] = attrs.field(factory=list)


_NO_REPEATS = _Repeats(pa.array([], pa.int64()))
_ENTRIES = 65_536  # repeats made into dicts at a time


def _repeats(
    members: pa.DictionaryArray, id_: pa.Array, sources: list[_Source], owned: pa.Array | None, spool: Spool | None
) -> _Repeats:
    if id_.null_count == len(id_):
        return _NO_REPEATS
    ids = pc.dictionary_encode(id_)
    # One integer per (member, id): equal keys, equal pairs. Sorted, equal keys are neighbours.
    width = pa.int32() if len(members.dictionary) * len(ids.dictionary) < 2**31 else pa.int64()
    key = pc.add(
        pc.multiply(pc.cast(members.indices, width), pa.scalar(len(ids.dictionary), width)),
        pc.cast(ids.indices, width),
    )
    order = pc.sort_indices(key)  # stable: a key's rows in input order; rows without an id last
    ordered = key.take(order)
    same = pc.fill_null(pc.equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1)), False)
    if not _any(same):
        return _NO_REPEATS
    # In key order, a position repeats the one before when their keys are equal; the first
    # line of a (member, id) is at the start of its run.
    repeats = pa.concat_arrays([pa.array([False]), same])
    positions = _counting(len(key))
    run_start = pc.cumulative_max(pc.if_else(repeats, 0, positions))
    later = pc.indices_nonzero(repeats)
    rows, first = order.take(later), order.take(run_start.take(later))
    in_input_order = pc.sort_indices(rows)
    rows, first = pc.cast(rows.take(in_input_order), pa.int64()), pc.cast(first.take(in_input_order), pa.int64())
    if owned is not None:  # a repeat and its first line have one member: both are in its partition
        mine = owned.take(rows)
        rows, first = rows.filter(mine), first.filter(mine)
    lines = _line_lists(sources)
    kept: list[dict[str, Any]] = []
    size = _ENTRIES if spool is not None else KEPT
    for start in range(0, len(rows), size):
        some, firsts = rows.slice(start, size).to_pylist(), first.slice(start, size).to_pylist()
        entries = _entries(some, firsts, members, id_, sources, lines)
        kept += entries[: KEPT - len(kept)]
        if spool is None:
            break  # only the first are kept
        for row, entry in zip(some, entries, strict=True):
            spool.add("duplicates", row + 1, entry)
    seqs = pc.add(rows, 1)
    return _Repeats(seqs, kept, seqs.slice(0, len(kept)).to_pylist(), spool.close() if spool is not None else [])


def _entries(
    rows: list[int],
    first: list[int],
    members: pa.DictionaryArray,
    id_: pa.Array,
    sources: list[_Source],
    lines: dict[int, list[int]],
) -> list[dict[str, Any]]:
    """Repeats at `rows` (of a first line at `first`) as `Accounting.duplicates` entries."""
    member_ids = members.dictionary.take(members.indices.take(rows)).to_pylist()
    event_ids = id_.take(rows).to_pylist()
    places, first_places = _places(rows, sources, lines), _places(first, sources, lines)
    return [
        {"file": file, "line": line, "member": m, "id": i, "first": {"file": first_file, "line": first_line}}
        for (file, line), m, i, (first_file, first_line) in zip(
            places, member_ids, event_ids, first_places, strict=True
        )
    ]


def _counting(n: int) -> pa.Array:
    """0, 1, ..., n - 1."""
    if n == 0:
        return pa.array([], pa.int64())
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)


def _line_lists(sources: list[_Source]) -> dict[int, list[int]]:
    """The line numbers of the rows of each source that has them (others: row i is line i + 1)."""
    return {i: s.lines.to_pylist() for i, s in enumerate(sources) if s.lines is not None and s.rows}


def _places(rows: list[int], sources: list[_Source], lines: dict[int, list[int]]) -> list[tuple[str, int]]:
    """(file, line) of rows of the whole table."""
    starts = [0]
    for source in sources:
        starts.append(starts[-1] + source.rows)
    if len(sources) == 1 and sources[0].lines is None:
        return [(sources[0].name, row + 1) for row in rows]
    out = []
    for row in rows:
        i = bisect.bisect_right(starts, row) - 1
        offset = row - starts[i]
        numbers = lines.get(i)
        out.append((sources[i].name, offset + 1 if numbers is None else numbers[offset]))
    return out
