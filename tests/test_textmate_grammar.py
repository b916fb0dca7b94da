"""The VS Code extension's TextMate grammar, run by the same engine VS Code runs it with
(vscode-textmate + vscode-oniguruma, under node) on every shipped and example program.

What each token must be is derived here, independently of the TextMate grammar: comments and
strings by scanning the text, keywords from the language's Lark grammar.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.node import CACHE as NPM_CACHE
from tests.node import node_and_npm, npm_install

ROOT = Path(__file__).resolve().parent.parent
GRAMMAR = ROOT / "editors" / "vscode" / "syntaxes" / "loyalty.tmLanguage.json"
PROGRAMS = sorted([*ROOT.glob("programs/*.loy"), *ROOT.glob("examples/programs/*.loy")])
PACKAGES = ["vscode-textmate@9.3.2", "vscode-oniguruma@2.0.1"]
CACHE = Path(os.environ.get("LOYALTY_NPM_CACHE", NPM_CACHE / "textmate"))

LARK = (ROOT / "grammar" / "loyalty.lark").read_text(encoding="utf-8")
KEYWORDS = set(re.findall(r'"([a-z]+)"', LARK))  # every word the language writes
# The words a name can never be (NAME's lookahead): each must be coloured as a keyword wherever it is.
RESERVED = set((re.search(r"NAME: /\(\?!\(([a-z|]+)\)", LARK) or re.error("no NAME")).group(1).split("|"))
STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
INSTANT = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?)?")
NUMBER = re.compile(r"(?<![\w.:-])-?\d+(?:\.\d+)?(?![\w.:-])")
WORD = re.compile(r"[A-Za-z_]\w*")
KEYWORD_SCOPES = ("keyword.", "storage.type.", "constant.language.")


@pytest.fixture(scope="module")
def tokens() -> dict[str, list[list[dict]]]:
    node, npm = node_and_npm()  # the TextMate grammar is run by vscode-textmate under node
    modules = npm_install(npm, CACHE, PACKAGES)
    script = Path(__file__).parent / "textmate" / "tokenize.js"
    done = subprocess.run(
        [node, str(script), str(GRAMMAR), *map(str, PROGRAMS)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NODE_PATH": str(modules)},
        check=True,
    )
    found: dict[str, list[list[dict]]] = json.loads(done.stdout)
    return found


def _scopes(line_tokens: list[dict], col: int) -> list[str]:
    return next(t["scopes"] for t in line_tokens if t["start"] <= col < t["end"])


def _comment_start(line: str) -> int | None:
    """Where a `#` comment begins: the first `#` outside a string."""
    blanked = STRING.sub(lambda m: " " * len(m.group()), line)
    at = blanked.find("#")
    return None if at < 0 else at


def _lines(tokens: dict[str, list[list[dict]]]):
    for path in PROGRAMS:
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, toks) in enumerate(zip(lines, tokens[str(path)], strict=True), 1):
            start = _comment_start(line)
            code = line if start is None else line[:start]
            yield f"{path.name}:{number}", line, code, start, toks


def _has(scopes: list[str], *prefixes: str) -> bool:
    return any(s.startswith(prefixes) for s in scopes)


def test_every_program_is_tokenised(tokens: dict[str, list[list[dict]]]) -> None:
    assert len(PROGRAMS) >= 18  # 2 shipped programs, 8 examples, each with its examples file
    assert sorted(tokens) == sorted(map(str, PROGRAMS))


def test_comments(tokens: dict[str, list[list[dict]]]) -> None:
    seen = 0
    for where, line, _, start, toks in _lines(tokens):
        if start is not None:
            seen += 1
            bad = [c for c in range(start, len(line)) if not _has(_scopes(toks, c), "comment.line.number-sign")]
            assert not bad, f"{where}: not a comment at {bad[:3]}: {line!r}"
        else:
            assert not any(_has(t["scopes"], "comment.") for t in toks), where
    assert seen > 100  # the shipped programs quote their source in comments


def test_strings(tokens: dict[str, list[list[dict]]]) -> None:
    seen = 0
    for where, _line, code, _, toks in _lines(tokens):
        for m in STRING.finditer(code):
            seen += 1
            assert all(_has(_scopes(toks, c), "string.quoted.double") for c in range(*m.span())), (where, m.group())
    assert seen > 50


def test_numbers_and_instants(tokens: dict[str, list[list[dict]]]) -> None:
    seen = 0
    for where, _, code, _, toks in _lines(tokens):
        bare = STRING.sub(lambda m: " " * len(m.group()), code)
        for m in [*NUMBER.finditer(bare), *INSTANT.finditer(bare)]:
            seen += 1
            assert all(_has(_scopes(toks, c), "constant.numeric") for c in range(*m.span())), (where, m.group())
    assert seen > 200


def test_keywords(tokens: dict[str, list[list[dict]]]) -> None:
    first_words = reserved = 0
    for where, _, code, _, toks in _lines(tokens):
        bare = STRING.sub(lambda m: " " * len(m.group()), code)
        words = list(WORD.finditer(bare))
        # the word that opens a line of a statement, when the language writes it (`rule`, `on`, `earn`...)
        if words and words[0].group() in KEYWORDS and bare[: words[0].start()].strip() == "":
            first_words += 1
            assert _has(_scopes(toks, words[0].start()), *KEYWORD_SCOPES), (where, words[0].group())
        for w in words:
            if w.group() in RESERVED:
                reserved += 1
                assert _has(_scopes(toks, w.start()), *KEYWORD_SCOPES), (where, w.group())
    assert first_words > 300 and reserved > 300


def test_declared_names_are_not_keywords(tokens: dict[str, list[list[dict]]]) -> None:
    seen = 0
    for where, _, code, _, toks in _lines(tokens):
        m = re.match(r"(rule|tier|event|benefit)\s+(\w+)", code)
        if m:
            seen += 1
            scopes = _scopes(toks, m.start(2))
            assert _has(scopes, "entity.name.") and not _has(scopes, "keyword."), (where, m.group(2))
    assert seen > 60
