"""`loyalty lsp`, driven by a real LSP client (pytest-lsp) that starts it as a subprocess over stdio.

Places in these tests are 0-based lines and characters, as LSP counts them, read off the
program texts written here by hand.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp", reason="the lsp test needs pytest-lsp (the test extra)")
from lsprotocol import types as lsp  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LOYALTY = shutil.which("loyalty", path=str(Path(sys.executable).parent)) or "loyalty"
SHIPPED = sorted(p for p in [*ROOT.glob("programs/*.loy"), *ROOT.glob("examples/programs/*.loy")])

BROKEN = """\
program "p"
event purchase with total: money
window last 12 months, recalculated monthly
rule buy:
    on purchse
    earn 5
rule r2
    on purchase
    earn 1
benefit perk
tier Star from 10 points:
    perk
"""

SMALL = """\
program "p"
event purchase with total: money, shop: text
event visit with shop: text
a shop is closed by visit
window last 12 months, recalculated monthly
rule buy:
    on purchase where total >= 10 and shop is not closed
    earn 5 per shop per day
    cap 20 per month
rule visits:
    on visit
    earn 1
benefit perk with percent: number
benefit lounge
tier Star from 10 points:
    perk (percent 5)
tier Sun from 100 points:
    perk (percent 8)
    lounge
"""

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[LOYALTY, "lsp"]), scope="module")
async def client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(lsp.InitializeParams(capabilities=lsp.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


async def _diagnostics(client: LanguageClient, uri: str, send) -> list[lsp.Diagnostic]:
    """Send a notification, then wait for the diagnostics the server publishes for `uri`."""
    client.diagnostics.pop(uri, None)
    send()
    while uri not in client.diagnostics:
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


_VERSIONS: dict[str, int] = {}


async def _open(client: LanguageClient, path: Path, text: str) -> list[lsp.Diagnostic]:
    uri = path.as_uri()
    _VERSIONS[uri] = _VERSIONS.get(uri, 0) + 1
    item = lsp.TextDocumentItem(uri=uri, language_id="loyalty", version=_VERSIONS[uri], text=text)
    return await _diagnostics(
        client, uri, lambda: client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=item))
    )


async def _change(client: LanguageClient, path: Path, text: str) -> list[lsp.Diagnostic]:
    uri = path.as_uri()
    _VERSIONS[uri] += 1
    doc = lsp.VersionedTextDocumentIdentifier(uri=uri, version=_VERSIONS[uri])
    change = lsp.TextDocumentContentChangeWholeDocument(text=text)
    params = lsp.DidChangeTextDocumentParams(text_document=doc, content_changes=[change])
    return await _diagnostics(client, uri, lambda: client.text_document_did_change(params))


def _doc(path: Path) -> lsp.TextDocumentIdentifier:
    return lsp.TextDocumentIdentifier(uri=path.as_uri())


def _at(line: int, character: int) -> lsp.Position:
    return lsp.Position(line=line, character=character)


async def test_without_the_extra_it_says_how_to_install_it() -> None:
    hide = "import sys; sys.modules['pygls'] = None; from loyalty_dsl.cli import main; main(['lsp'])"
    done = subprocess.run([sys.executable, "-c", hide], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert 'pip install "loyalty-dsl[lsp]"' in done.stderr


# --- diagnostics ---------------------------------------------------------------------


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
async def test_shipped_programs_and_examples_have_no_diagnostics(client: LanguageClient, path: Path) -> None:
    # every shipped program checks, lints clean and passes its examples (`loyalty check/lint/test` agree)
    assert await _open(client, path, path.read_text(encoding="utf-8")) == []


async def test_check_errors_come_with_code_range_and_hint(client: LanguageClient, tmp_path: Path) -> None:
    found = await _open(client, tmp_path / "broken.loy", BROKEN)
    assert [(d.code, d.severity) for d in found] == [
        ("E101", lsp.DiagnosticSeverity.Error),  # line 5: `on purchse`
        ("E001", lsp.DiagnosticSeverity.Error),  # line 8: `rule r2` lacks its colon
    ]
    unknown, syntax = found
    # `    on purchse`: the name starts at character 7 and has 7 letters
    assert unknown.range == lsp.Range(_at(4, 7), _at(4, 14))
    assert "unknown event `purchse`" in unknown.message
    assert "hint: did you mean `purchase`?" in unknown.message
    assert syntax.range.start == _at(7, 4)


async def test_diagnostics_follow_the_typing(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "typing.loy"
    assert len(await _open(client, path, BROKEN)) == 2
    fixed = BROKEN.replace("purchse", "purchase").replace("rule r2\n", "rule r2:\n")
    assert await _change(client, path, fixed) == []
    # a cap of 3 a day under an earning of 5: lint's L104, a warning once the program checks
    capped = fixed.replace("    earn 5\n", "    earn 5\n    cap 3 per day\n")
    (warning,) = await _change(client, path, capped)
    assert (warning.code, warning.severity) == ("L104", lsp.DiagnosticSeverity.Warning)
    assert warning.range.start == _at(6, 8)  # `    cap 3 per day`: the 3
    assert "hint: raise the cap to at least 5" in warning.message


async def test_failed_examples_are_placed_on_their_expect_lines(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "small.loy").write_text(SMALL, encoding="utf-8")
    examples = (
        'test "one purchase of 10 earns 5":\n'  # line 0
        '    given purchase at 2026-01-10T10:00:00Z with total 10, shop "a"\n'
        "    as of 2026-01-31\n"
        "    expect points 5\n"  # right: one purchase over 10 earns 5
        "    expect points 7\n"  # wrong: line 4
        "    expect tier Star\n"  # wrong as well: 5 points are below Star's 10 (line 5)
    )
    found = await _open(client, tmp_path / "small_test.loy", examples)
    assert [(d.code, d.range.start.line) for d in found] == [("T100", 4), ("T100", 5)]
    assert found[0].range == lsp.Range(_at(4, 4), _at(4, 19))  # the written part of `    expect points 7`
    assert "one purchase of 10 earns 5" in found[0].message
    # the program edited in the editor (not saved): its examples run again against the new text
    tests_uri = (tmp_path / "small_test.loy").as_uri()
    client.diagnostics.pop(tests_uri)
    await _open(client, tmp_path / "small.loy", SMALL.replace("earn 5 per shop", "earn 7 per shop"))
    while tests_uri not in client.diagnostics:
        await client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    lines = [d.range.start.line for d in client.diagnostics[tests_uri]]
    assert lines == [3, 5]  # now 7 points: `expect points 5` fails and `expect points 7` holds


async def test_examples_run_again_when_their_program_changes_on_disk(client: LanguageClient, tmp_path: Path) -> None:
    # The program is not open: it changes on disk (another tool saved it), the client says so, and
    # the open examples are judged against the new text: 7 points a purchase instead of 5.
    program = tmp_path / "disk.loy"
    program.write_text(SMALL, encoding="utf-8")
    examples = 'test "t":\n    given purchase at 2026-01-10T10:00:00Z with total 10, shop "a"\n'
    examples += "    as of 2026-01-31\n    expect points 5\n"  # line 3: right for SMALL (5 a purchase)
    assert await _open(client, tmp_path / "disk_test.loy", examples) == []
    program.write_text(SMALL.replace("earn 5 per shop", "earn 7 per shop"), encoding="utf-8")
    change = lsp.FileEvent(uri=program.as_uri(), type=lsp.FileChangeType.Changed)
    params = lsp.DidChangeWatchedFilesParams(changes=[change])
    uri = (tmp_path / "disk_test.loy").as_uri()
    waiting = _diagnostics(client, uri, lambda: client.workspace_did_change_watched_files(params))
    found = await asyncio.wait_for(waiting, 20)  # a server that ignores the change publishes nothing
    assert [(d.code, d.range.start.line) for d in found] == [("T100", 3)]


async def test_examples_of_a_broken_program_say_so(client: LanguageClient, tmp_path: Path) -> None:
    (tmp_path / "bad.loy").write_text(BROKEN, encoding="utf-8")
    example = 'test "t":\n    given purchase at 2026-01-10T10:00:00Z with total 10\n    as of 2026-01-31\n'
    example += "    expect points 0\n"
    found = await _open(client, tmp_path / "bad_test.loy", example)
    assert [d.code for d in found] == ["E249"]
    assert "bad.loy has 2 problem(s)" in found[0].message


# --- hover -------------------------------------------------------------------------------


async def _hover(client: LanguageClient, path: Path, line: int, character: int) -> str:
    found = await client.text_document_hover_async(
        lsp.HoverParams(text_document=_doc(path), position=_at(line, character))
    )
    assert found is not None
    assert isinstance(found.contents, lsp.MarkupContent)
    return found.contents.value


async def test_hover(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "hover.loy"
    assert await _open(client, path, SMALL) == []
    rule = await _hover(client, path, 5, 6)  # `rule buy`
    assert "Earns 5 points once per `shop` per day of `purchase` events" in rule
    assert "Only when total >= 10 and shop is not closed" in rule
    assert "At most 20 points per month" in rule
    event = await _hover(client, path, 6, 8)  # `on purchase`
    assert "`total: money`" in event and "`shop: text`" in event
    field = await _hover(client, path, 6, 22)  # `where total`
    assert "`total: money`" in field and "purchase" in field
    tier = await _hover(client, path, 14, 6)  # `tier Star`
    assert "from 10 points earned in the last 12 months" in tier
    assert "until Sun at 100 points" in tier
    assert "`perk` (percent 5)" in tier
    benefit = await _hover(client, path, 12, 9)  # `benefit perk`
    assert "Star: `perk` (percent 5)" in benefit and "Sun: `perk` (percent 8)" in benefit
    lounge = await _hover(client, path, 18, 6)  # `lounge` under Sun
    assert "- Sun" in lounge and "Star" not in lounge


async def test_hover_on_a_shipped_program(client: LanguageClient) -> None:
    path = ROOT / "programs" / "four_tier.loy"
    lines = path.read_text(encoding="utf-8").split("\n")
    row = lines.index("rule shopping:")
    await _open(client, path, "\n".join(lines))
    words = await _hover(client, path, row, 6)
    assert "Earns 5 points for each `order_confirmed` event" in words  # `earn 5`, no `per`
    assert "At most 5 points per day" in words  # `cap 5 per day`


# --- definition and references -----------------------------------------------------------


async def test_definition_and_references(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "names.loy"
    await _open(client, path, SMALL)
    cases = {
        # (line, character) of a use -> the line of its declaration, the lines of every mention
        (6, 8): (1, [1, 6]),  # event purchase: declared on 1, `on purchase` on 6
        (3, 20): (2, [2, 3, 10]),  # event visit: in the fact (3) and the rule (10)
        (15, 5): (12, [12, 15, 17]),  # benefit perk: in Star and Sun
        (18, 5): (13, [13, 18]),  # benefit lounge
        (14, 6): (14, [14]),  # tier Star: declared, used nowhere
        (5, 6): (5, [5]),  # rule buy
        (6, 51): (3, [3, 6]),  # fact closed, tested in `buy`
    }
    for (line, char), (declared, mentioned) in cases.items():
        where = lsp.TextDocumentPositionParams(text_document=_doc(path), position=_at(line, char))
        found = await client.text_document_definition_async(
            lsp.DefinitionParams(text_document=where.text_document, position=where.position)
        )
        assert isinstance(found, list)
        assert [loc.range.start.line for loc in found] == [declared], (line, char)
        refs = await client.text_document_references_async(
            lsp.ReferenceParams(
                text_document=where.text_document,
                position=where.position,
                context=lsp.ReferenceContext(include_declaration=True),
            )
        )
        assert sorted(loc.range.start.line for loc in refs or []) == mentioned, (line, char)


async def test_definition_from_examples_goes_to_the_program(client: LanguageClient) -> None:
    program = ROOT / "programs" / "four_tier.loy"
    examples = ROOT / "programs" / "four_tier_test.loy"
    await _open(client, examples, examples.read_text(encoding="utf-8"))
    lines = examples.read_text(encoding="utf-8").split("\n")
    row = next(i for i, text in enumerate(lines) if text.strip() == "expect tier Silver")
    found = await client.text_document_definition_async(
        lsp.DefinitionParams(text_document=_doc(examples), position=_at(row, lines[row].index("Silver")))
    )
    assert isinstance(found, list) and len(found) == 1
    assert found[0].uri == program.as_uri()
    declared = program.read_text(encoding="utf-8").split("\n")[found[0].range.start.line]
    assert declared.startswith("tier Silver from")
    # hover there says what the program says of the tier: `tier Silver from 1 point:`
    words = await _hover(client, examples, row, lines[row].index("Silver"))
    assert "**tier Silver**" in words and "Qualifies from 1 point" in words


# --- completion, outline, formatting --------------------------------------------------------


async def test_completion(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "complete.loy"
    typing = SMALL.replace("    cap 20 per month\n", "    cap 20 per month\n    \n")  # a blank line in `buy` (9)
    await _open(client, path, typing)
    found = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=_doc(path), position=_at(9, 4))
    )
    assert isinstance(found, lsp.CompletionList)
    labels = {item.label: item.kind for item in found.items}
    assert labels["earn"] == labels["cap"] == labels["where"] == lsp.CompletionItemKind.Keyword
    assert labels["purchase"] == labels["visit"] == lsp.CompletionItemKind.Event
    assert labels["total"] == labels["shop"] == lsp.CompletionItemKind.Field  # the fields of `buy`'s event
    assert labels["Star"] == labels["Sun"] == lsp.CompletionItemKind.EnumMember
    assert labels["perk"] == labels["lounge"] == lsp.CompletionItemKind.Constant
    # in `visits` (event visit has only `shop`): `total`, a field of purchase, is not offered
    found = await client.text_document_completion_async(
        lsp.CompletionParams(text_document=_doc(path), position=_at(12, 10))
    )
    assert isinstance(found, lsp.CompletionList)
    offered = {item.label: item.kind for item in found.items}
    assert offered["shop"] == lsp.CompletionItemKind.Field and "total" not in offered


async def test_document_symbols(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "outline.loy"
    await _open(client, path, SMALL)
    found = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(text_document=_doc(path)))
    assert found is not None
    outline = [(s.name, s.kind) for s in found if isinstance(s, lsp.DocumentSymbol)]
    S = lsp.SymbolKind
    assert outline == [
        ("purchase", S.Event),
        ("visit", S.Event),
        ("buy", S.Function),
        ("visits", S.Function),
        ("perk", S.Constant),
        ("lounge", S.Constant),
        ("Star", S.Class),
        ("Sun", S.Class),
    ]
    purchase = found[0]
    assert isinstance(purchase, lsp.DocumentSymbol)
    assert [c.name for c in purchase.children or []] == ["total", "shop"]


async def test_formatting(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "messy.loy"
    messy = (
        'program "p"\nevent purchase with total:money\nwindow last 12 months, recalculated monthly\n'
        "rule  buy :\n  on purchase\n  earn   5\n"
    )
    await _open(client, path, messy)
    options = lsp.FormattingOptions(tab_size=4, insert_spaces=True)
    (edit,) = (
        await client.text_document_formatting_async(
            lsp.DocumentFormattingParams(text_document=_doc(path), options=options)
        )
        or []
    )
    # the canonical layout: one space after the colon of a field, `rule NAME:`, a 4-space indent
    assert edit.new_text == (
        'program "p"\n\nevent purchase with total: money\n\nwindow last 12 months, recalculated monthly\n\n'
        "rule buy:\n    on purchase\n    earn 5\n"
    )
    assert edit.range.start == _at(0, 0)
    broken = await _open(client, tmp_path / "unparsable.loy", BROKEN)
    assert broken  # it does not parse: formatting leaves it alone
    edits = await client.text_document_formatting_async(
        lsp.DocumentFormattingParams(text_document=_doc(tmp_path / "unparsable.loy"), options=options)
    )
    assert not edits
