"""The VS Code extension's client, run as the editor runs it.

node loads the module that package.json's `main` names, with the `vscode` module stubbed
(tests/vscode/vscode_stub.js: that module exists only inside the editor) and the real
vscode-languageclient from npm, calls activate(context), opens documents, then deactivate()
(tests/vscode/activate.js). Then it starts the command the extension gave its client, apart from
the client, and speaks LSP to it over stdio: initialize, initialized, shutdown, exit.

Where vscode-languageclient cannot be installed (no network, outside CI) the tests that need it
skip, and those of what the extension gives its client use a stand-in that records it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.node import CACHE, NEEDED, node_and_npm, npm_install

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
DRIVER = Path(__file__).parent / "vscode" / "activate.js"
MANIFEST: dict[str, Any] = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
BIN = Path(sys.executable).parent  # this environment's `loyalty`, put first on node's PATH
SETTING = "loyalty.server.command"
# What the server must say it does: the features issue 16 lists for `loyalty lsp`.
FEATURES = {
    "textDocumentSync",
    "hoverProvider",
    "definitionProvider",
    "referencesProvider",
    "completionProvider",
    "documentSymbolProvider",
    "documentFormattingProvider",
}

# One error: `purchse` is no event (E101), on the 0-based line 4.
BROKEN = """\
program "p"
event purchase
window lifetime, continuous
rule buy:
    on purchse
    earn 5
tier Member from 0 points:
"""
# One example of examples/programs/pending_points.loy with a wrong figure: the order's 10 points
# vest on 16 March 10:00, before the end of the day, so 10, not 20: a failure on line 3 (0-based).
EXAMPLES = """\
test "an order's points vest 15 days after it":
    given order_confirmed at 2026-03-01T10:00:00Z with order "o1", amount 10
    as of 2026-03-16
    expect points 20
    expect tier Member
"""


def _language_of(path: Path) -> str | None:
    """The language VS Code gives a file, by the extensions the package contributes."""
    for language in MANIFEST["contributes"]["languages"]:
        if any(path.name.endswith(ext) for ext in language["extensions"]):
            return str(language["id"])
    return None


@pytest.fixture(scope="module")
def node() -> str:
    return node_and_npm()[0]


@pytest.fixture(scope="module")
def client_modules() -> Path | None:
    """node_modules with the vscode-languageclient the package asks for (the oldest its range takes)."""
    _, npm = node_and_npm()
    wanted = MANIFEST["dependencies"]["vscode-languageclient"]
    package = f"vscode-languageclient@{wanted.lstrip('^~')}"
    try:
        return npm_install(npm, CACHE / "vscode-client", [package])
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as err:
        if NEEDED:
            pytest.fail(f"npm could not install {package}: {err}")
        return None


def _activate(
    node: str, mode: str, settings: dict[str, Any], modules: Path | None = None, documents=(), handshake=False
) -> dict:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "NODE_PATH": str(modules or "")}
    args = [node, str(DRIVER), str(EXTENSION), json.dumps(settings), mode, json.dumps(list(documents))]
    args += ["handshake"] if handshake else []
    done = subprocess.run(args, capture_output=True, text=True, timeout=90, env=env)
    report: dict = json.loads(done.stdout) if done.stdout.startswith("{") else {"error": done.stderr}
    assert done.returncode == 0 and "error" not in report, report.get("error") or done.stderr
    return report


@pytest.fixture(scope="module")
def real(node: str, client_modules: Path | None, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The extension with the real client: started, shown three documents, stopped."""
    if client_modules is None:
        pytest.skip("vscode-languageclient could not be installed from npm")
    folder = tmp_path_factory.mktemp("editor")
    (folder / "pp.loy").write_text((ROOT / "examples/programs/pending_points.loy").read_text(encoding="utf-8"))
    files = {"notes.txt": BROKEN, "broken.loy": BROKEN, "pp_test.loy": EXAMPLES}
    documents = []
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
        documents.append(
            {"path": str(folder / name), "languageId": _language_of(folder / name) or "plaintext", "text": text}
        )
    report = _activate(node, "real", {}, client_modules, documents, handshake=True)
    report["folder"] = folder
    return report


@pytest.fixture(scope="module")
def recorded(node: str) -> dict:
    """The extension with a stand-in client, the setting unset."""
    return _activate(node, "stub", {}, handshake=True)


def test_the_package_is_loadable_and_its_parts_agree(recorded: dict) -> None:
    entry = (EXTENSION / MANIFEST["main"]).resolve()
    assert entry.is_file() and Path(recorded["entry"]) == entry
    assert recorded["exports"] == {"activate": "function", "deactivate": "function"}
    ids = [language["id"] for language in MANIFEST["contributes"]["languages"]]
    assert ids == ["loyalty"]
    assert MANIFEST["activationEvents"] == [f"onLanguage:{i}" for i in ids]
    (language,) = MANIFEST["contributes"]["languages"]
    for grammar in MANIFEST["contributes"]["grammars"]:
        assert grammar["language"] in ids
        text = json.loads((EXTENSION / grammar["path"]).read_text(encoding="utf-8"))
        assert text["scopeName"] == grammar["scopeName"]
        assert [f".{t}" for t in text["fileTypes"]] == language["extensions"]
    # every program and examples file of the repository opens as the language, NAME_test.loy too
    loy = [*ROOT.glob("programs/*.loy"), *ROOT.glob("examples/programs/*.loy")]
    assert any(p.name.endswith("_test.loy") for p in loy)
    assert {_language_of(p) for p in loy} == {"loyalty"}
    assert _language_of(Path("notes.txt")) is None


@pytest.mark.parametrize(
    ("setting", "command"),
    [
        (None, ["loyalty", "lsp"]),
        ([], ["loyalty", "lsp"]),  # an empty list is no command: the default
        (["/opt/venv/bin/loyalty", "lsp"], ["/opt/venv/bin/loyalty", "lsp"]),
        # one path, as people write it: the server's executable, still started as `... lsp`
        ("/opt/venv/bin/loyalty", ["/opt/venv/bin/loyalty", "lsp"]),
    ],
)
def test_what_the_extension_gives_its_client(node: str, setting: Any, command: list[str]) -> None:
    report = _activate(node, "stub", {} if setting is None else {SETTING: setting})
    assert MANIFEST["contributes"]["configuration"]["properties"][SETTING]["default"] == ["loyalty", "lsp"]
    (client,) = report["started"]
    # no `transport`: the command's stdio (an explicit stdio transport adds `--stdio`, which
    # `loyalty lsp` does not take)
    assert client["serverOptions"] == {"command": command[0], "args": command[1:]}
    assert client["documentSelector"] and {f["language"] for f in client["documentSelector"]} == {"loyalty"}
    assert client["fileEvents"] == ["**/*.loy"]
    assert (client["state"], client["starts"], client["stops"]) == ("Running", 1, 0)
    (stopped,) = report["stopped"]
    assert (stopped["state"], stopped["stops"]) == ("Stopped", 1)  # deactivate() stops it
    assert report["subscriptions"] == 1  # and the editor disposes of it with the extension


def test_the_client_starts_loyalty_lsp_over_stdio_and_deactivate_stops_it(real: dict) -> None:
    # one process, exactly `loyalty lsp`, its stdin and stdout piped to the client
    assert [(s["command"], s["args"], s["stdio"]) for s in real["spawned"]] == [("loyalty", ["lsp"], "pipe")]
    (started,) = real["started"]
    assert started["state"] == "Running"
    assert set(started["capabilities"]) >= FEATURES  # the initialize handshake went through
    (stopped,) = real["stopped"]
    assert (stopped["state"], stopped["stops"]) == ("Stopped", 1)
    # shutdown and exit ended the server by itself (the client kills one still there after 2 s)
    assert real["spawned"][0]["exit"] == {"code": 0, "signal": None}


def test_the_client_sends_the_server_loyalty_documents_only(real: dict) -> None:
    def uri(name: str) -> str:
        return (real["folder"] / name).as_uri()

    problems = real["problems"]
    assert problems[uri("notes.txt")] is None  # plain text is never sent: nothing is published for it
    assert [(p["code"], p["line"], p["severity"]) for p in problems[uri("broken.loy")]] == [("E101", 4, 0)]
    failures = problems[uri("pp_test.loy")]
    assert [p["line"] for p in failures] == [3] and re.search(r"\b10\b", failures[0]["message"])


def test_the_configured_command_starts_the_server(node: str, client_modules: Path | None) -> None:
    if client_modules is None:
        pytest.skip("vscode-languageclient could not be installed from npm")
    loyalty = str(BIN / "loyalty")
    report = _activate(node, "real", {SETTING: [loyalty, "lsp"]}, client_modules)
    assert [(s["command"], s["args"]) for s in report["spawned"]] == [(loyalty, ["lsp"])]
    assert report["started"][0]["state"] == "Running" and report["stopped"][0]["state"] == "Stopped"


@pytest.mark.parametrize("which", ["recorded", "real"])
def test_the_command_the_extension_runs_answers_an_lsp_handshake(which: str, request: pytest.FixtureRequest) -> None:
    shake = request.getfixturevalue(which)["handshake"]
    assert (shake["command"], shake["args"]) == ("loyalty", ["lsp"]), shake
    result = shake["initialize"].get("result")
    assert result, shake
    assert set(result["capabilities"]) >= FEATURES and result["serverInfo"]["name"] == "loyalty"
    assert shake["shutdown"].get("result", "missing") is None and "error" not in shake["shutdown"]
    assert shake["exit"] == {"code": 0, "signal": None}, shake["stderr"]
