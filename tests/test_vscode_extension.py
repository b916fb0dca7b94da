"""The VS Code extension's manifest and language configuration hold together and fit the language."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from tests.node import node_and_npm

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
PROGRAMS = sorted([*ROOT.glob("programs/*.loy"), *ROOT.glob("examples/programs/*.loy")])


def _json(name: str) -> dict:
    found: dict = json.loads((EXTENSION / name).read_text(encoding="utf-8"))
    return found


def test_the_manifest_names_the_language_its_grammar_and_the_client() -> None:
    manifest = _json("package.json")
    (language,) = manifest["contributes"]["languages"]
    assert language["id"] == "loyalty" and language["extensions"] == [".loy"]
    assert (EXTENSION / language["configuration"]).is_file()
    (grammar,) = manifest["contributes"]["grammars"]
    assert grammar["language"] == "loyalty"
    assert _json(grammar["path"])["scopeName"] == grammar["scopeName"]
    assert (EXTENSION / manifest["main"]).is_file()
    assert "vscode-languageclient" in manifest["dependencies"]
    assert manifest["contributes"]["configuration"]["properties"]["loyalty.server.command"]["default"] == [
        "loyalty",
        "lsp",
    ]


def test_the_client_script_is_valid_javascript() -> None:
    node, _ = node_and_npm()
    subprocess.run([node, "--check", str(EXTENSION / "extension.js")], check=True, timeout=60)


def test_comments_brackets_and_indentation_fit_the_programs() -> None:
    config = _json("language-configuration.json")
    assert config["comments"] == {"lineComment": "#"}
    assert ["(", ")"] in config["brackets"] and ["[", "]"] in config["brackets"]
    indent = re.compile(config["indentationRules"]["increaseIndentPattern"])
    opened = 0
    for path in PROGRAMS:
        lines = path.read_text(encoding="utf-8").split("\n")
        for number, (line, following) in enumerate(zip(lines, [*lines[1:], ""], strict=True), 1):
            # a statement whose next line is indented under it opens a block, unless it goes on after a comma
            # (a tier without benefits opens one too: its benefits would go there)
            opens = bool(indent.match(line))
            opened += opens
            starts = line[:1].isalpha() and not line.rstrip().endswith(",")
            if starts and following.startswith("    ") and following.strip()[:1] != "#":
                assert opens, f"{path.name}:{number}: {line!r}"
            if opens:
                assert line.rstrip().endswith(":"), f"{path.name}:{number}: {line!r}"
    assert opened > 100
