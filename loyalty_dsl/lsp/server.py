"""The language server: pygls answers the editor from analysis.py, index.py and words.py."""

from __future__ import annotations

import re
from pathlib import Path

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument
from pygls.workspace.position_codec import ServerTextPosition, ServerTextRange

from loyalty_dsl import __version__
from loyalty_dsl.language import ast
from loyalty_dsl.language.check import PERIODS
from loyalty_dsl.language.diagnostics import Diagnostic, ProgramError
from loyalty_dsl.language.fmt import format_source
from loyalty_dsl.language.parse import _grammar_text
from loyalty_dsl.lsp.analysis import Analysis, analyse, is_examples, read_disk
from loyalty_dsl.lsp.index import Index, Occurrence, index_of
from loyalty_dsl.lsp.words import hover_words
from loyalty_dsl.tools.testing import TEST_SUFFIX

server = LanguageServer("loyalty", __version__)
_analyses: dict[str, Analysis] = {}  # uri -> the latest analysis of the editor's text

# The language's keywords, as the grammar writes them: completion offers them everywhere.
KEYWORDS = sorted(set(re.findall(r'"([a-z]{2,})"', _grammar_text())))
_SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning}


def serve() -> None:
    server.start_io()


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def _read(path: Path) -> str:
    """A file's text: the editor's copy when it is open (unsaved edits count), else the disk's."""
    uri = from_fs_path(str(path))
    doc = server.workspace.text_documents.get(uri) if uri else None
    return doc.source if doc is not None else read_disk(path)


def _analysis(uri: str) -> Analysis:
    if uri not in _analyses:
        doc = server.workspace.get_text_document(uri)
        _analyses[uri] = analyse(doc.source, _path(uri), _read)
    return _analyses[uri]


def _range(doc: TextDocument, line: int, col: int, end_line: int, end_col: int) -> lsp.Range:
    """1-based line and column (the parser's code points) to the client's units."""
    start, end = ServerTextPosition(line - 1, col - 1), ServerTextPosition(end_line - 1, end_col - 1)
    return doc.range_to_client_units(ServerTextRange(start, end))


def _span_range(doc: TextDocument, span: ast.Span) -> lsp.Range:
    return _range(doc, span.line, span.col, span.end_line, span.end_col)


def _diagnostic(doc: TextDocument, d: Diagnostic) -> lsp.Diagnostic:
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return lsp.Diagnostic(
        range=_range(doc, d.line, d.col, d.last_line, d.end_col),
        message=message,
        severity=_SEVERITY.get(d.severity, lsp.DiagnosticSeverity.Error),
        code=d.code,
        source="loyalty",
        data={"hint": d.hint} if d.hint else None,
    )


def _publish(uri: str) -> None:
    _analyses.pop(uri, None)
    doc = server.workspace.get_text_document(uri)
    found = _analysis(uri)
    diagnostics = [_diagnostic(doc, d) for d in found.problems if d.file == _path(uri)]
    server.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics))


def _refresh(uri: str) -> None:
    _publish(uri)
    if not is_examples(_path(uri)):  # open examples of this program run again against the new text
        path = Path(_path(uri))
        examples = from_fs_path(str(path.with_name(path.stem + TEST_SUFFIX)))
        if examples in server.workspace.text_documents:
            _publish(examples)


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _refresh(params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: LanguageServer, params: lsp.DidSaveTextDocumentParams) -> None:
    _refresh(params.text_document.uri)


@server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched_files_changed(ls: LanguageServer, params: lsp.DidChangeWatchedFilesParams) -> None:
    """A program changed on disk (saved by another tool, a checkout): its open examples run again.
    An open program is the editor's copy, refreshed as it is typed, so its disk change is ignored."""
    for change in params.changes:
        path = _path(change.uri)
        if is_examples(path) or change.uri in server.workspace.text_documents:
            continue
        examples = from_fs_path(str(Path(path).with_name(Path(path).stem + TEST_SUFFIX)))
        if examples in server.workspace.text_documents:
            _publish(examples)


@server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: lsp.DidCloseTextDocumentParams) -> None:
    _analyses.pop(params.text_document.uri, None)


# --- names: hover, definition, references ------------------------------------------------


def _places(uri: str) -> list[tuple[str, Index, ast.Program]]:
    """The documents whose names count here: the file, and for examples the program they test."""
    found = _analysis(uri)
    out = [(uri, index_of(found.program), found.program)] if found.program is not None else []
    if found.beside is not None:
        beside = from_fs_path(found.beside.file) or found.beside.file
        out.append((beside, index_of(found.beside), found.beside))
    return out


def _under(uri: str, position: lsp.Position) -> Occurrence | None:
    doc = server.workspace.get_text_document(uri)
    at = doc.position_from_client_units(position)
    places = _places(uri)
    return places[0][1].at(at.line + 1, at.character + 1) if places else None


def _location(uri: str, o: Occurrence) -> lsp.Location:
    doc = server.workspace.get_text_document(uri)
    return lsp.Location(uri=uri, range=_span_range(doc, o.span))


@server.feature(lsp.TEXT_DOCUMENT_HOVER)
def hover(ls: LanguageServer, params: lsp.HoverParams) -> lsp.Hover | None:
    uri = params.text_document.uri
    o = _under(uri, params.position)
    if o is None:
        return None
    for _, _, program in reversed(_places(uri)):  # the declaring program: the tested one first
        words = hover_words(o, program)
        if words is not None:
            doc = ls.workspace.get_text_document(uri)
            return lsp.Hover(lsp.MarkupContent(lsp.MarkupKind.Markdown, words), _span_range(doc, o.span))
    return None


@server.feature(lsp.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: lsp.DefinitionParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    o = _under(uri, params.position)
    if o is None:
        return []
    for where, index, _ in _places(uri):
        found = index.definition(o.kind, o.key)
        if found is not None:
            return [_location(where, found)]
    return []


@server.feature(lsp.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: lsp.ReferenceParams) -> list[lsp.Location]:
    uri = params.text_document.uri
    o = _under(uri, params.position)
    if o is None:
        return []
    out = []
    for where, index, _ in _places(uri):
        for r in index.references(o.kind, o.key):
            if params.context.include_declaration or not r.is_definition:
                out.append(_location(where, r))
    return out


# --- completion, outline, formatting -------------------------------------------------


def _rule_event(lines: list[str], line: int) -> str | None:
    """The event of the statement the cursor is in (`on X` of a rule or decision), read from the text
    so that it works while the line being typed does not parse."""
    for text in reversed(lines[: line + 1]):
        found = re.match(r"\s*(?:on|decide\s+\w+\s+on)\s+(\w+)", text)
        if found:
            return found.group(1)
        if text[:1].isalpha() and not text.startswith(("rule", "decide")):
            return None  # another statement began: the cursor is not in a rule
        if text.startswith(("rule", "decide")):
            return None
    return None


@server.feature(lsp.TEXT_DOCUMENT_COMPLETION, lsp.CompletionOptions(trigger_characters=[" "]))
def completion(ls: LanguageServer, params: lsp.CompletionParams) -> lsp.CompletionList:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    items = [lsp.CompletionItem(k, kind=lsp.CompletionItemKind.Keyword) for k in KEYWORDS]
    places = _places(uri)
    program = places[-1][2] if places else None
    if program is not None:
        event = _rule_event(doc.source.split("\n"), doc.position_from_client_units(params.position).line)
        fields = {f.name.text: f.type.text for e in program.events if e.name.text == event for f in e.fields}
        items += [lsp.CompletionItem(n, kind=lsp.CompletionItemKind.Field, detail=t) for n, t in fields.items()]
        items += [lsp.CompletionItem(p, kind=lsp.CompletionItemKind.Unit) for p in PERIODS if event]
        items += [lsp.CompletionItem(e.name.text, kind=lsp.CompletionItemKind.Event) for e in program.events]
        items += [lsp.CompletionItem(t.name.text, kind=lsp.CompletionItemKind.EnumMember) for t in program.tiers]
        items += [lsp.CompletionItem(b.name.text, kind=lsp.CompletionItemKind.Constant) for b in program.benefits]
    return lsp.CompletionList(is_incomplete=False, items=items)


def _symbol(doc: TextDocument, name: ast.Name, span: ast.Span, kind: lsp.SymbolKind, detail: str | None = None,
            children: list[lsp.DocumentSymbol] | None = None) -> lsp.DocumentSymbol:  # fmt: skip
    return lsp.DocumentSymbol(
        name=name.text,
        kind=kind,
        range=_span_range(doc, span),
        selection_range=_span_range(doc, name.span),
        detail=detail,
        children=children,
    )


@server.feature(lsp.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbols(ls: LanguageServer, params: lsp.DocumentSymbolParams) -> list[lsp.DocumentSymbol]:
    uri = params.text_document.uri
    doc = ls.workspace.get_text_document(uri)
    p = _analysis(uri).program
    if p is None:
        return []
    S = lsp.SymbolKind
    found = [
        _symbol(doc, e.name, e.span, S.Event, "event",
                [_symbol(doc, f.name, f.span, S.Field, f.type.text) for f in e.fields])
        for e in p.events
    ]  # fmt: skip
    found += [_symbol(doc, r.name, r.span, S.Function, f"rule on {r.on.text}") for r in p.rules]
    found += [_symbol(doc, b.name, b.span, S.Constant, "benefit") for b in p.benefits]
    found += [
        _symbol(doc, t.name, t.span, S.Class, f"tier from {t.threshold.text}",
                [_symbol(doc, b.name, b.span, S.Constant, "benefit") for b in t.benefits])
        for t in p.tiers
    ]  # fmt: skip
    found += [_symbol(doc, ast.Name(t.name.text, t.name.span), t.span, S.Method, "example") for t in p.tests]
    return sorted(found, key=lambda s: (s.range.start.line, s.range.start.character))


@server.feature(lsp.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: LanguageServer, params: lsp.DocumentFormattingParams) -> list[lsp.TextEdit]:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_source(doc.source, _path(doc.uri))
    except ProgramError:
        return []  # a program that does not parse is left as it is; its diagnostics say why
    if formatted == doc.source:
        return []
    whole = lsp.Range(lsp.Position(0, 0), lsp.Position(len(doc.lines), 0))  # clients clamp the end
    return [lsp.TextEdit(range=whole, new_text=formatted)]
