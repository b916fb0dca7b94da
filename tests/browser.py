"""Headless Chromium driven over the DevTools protocol: open a page, see what it drew and logged.

Used by the report tests and by the script that takes the README's screenshots.
"""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
    "--window-size=1200,900",
]
# What the page has drawn: every Plotly chart div, and those with their svg and a drawn mark
# (a trace's bars, a pie's slice, a heatmap's image).
_DRAWN = """JSON.stringify({
  charts: document.querySelectorAll('div.plotly-graph-div').length,
  drawn: [...document.querySelectorAll('div.plotly-graph-div.js-plotly-plot')]
    .filter(d => d.querySelector('svg.main-svg') && d.querySelector('g.trace, g.slice, g.hm image')).length,
  height: document.documentElement.scrollHeight})"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One Chromium and one page; `open` loads a file and returns what it drew and logged."""

    def __init__(self, proc: subprocess.Popen[bytes], ws: Any) -> None:
        self.proc, self.ws, self._id = proc, ws, 0

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self._events.append(message)

    _events: list[dict[str, Any]]

    def open(self, path: Path, settle: float = 1.0, timeout: float = 60) -> dict[str, Any]:
        """Load `path`; its console errors, uncaught exceptions, requests beyond the file and charts."""
        self._events = []
        self.send("Page.navigate", url=path.resolve().as_uri())
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{path} did not load in {timeout}s")
            self._events.append(json.loads(self.ws.recv()))
        time.sleep(settle)  # Plotly draws on load; let it finish
        drawn = json.loads(self.send("Runtime.evaluate", expression=_DRAWN, returnByValue=True)["result"]["value"])
        errors = []
        requests = []
        for e in self._events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description"))) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if not url.startswith(("file:", "data:", "blob:", "about:")):
                    requests.append(url)
        return {**drawn, "errors": errors, "requests": requests}

    def screenshot(self, out: Path, height: int) -> None:
        self.send("Emulation.setDeviceMetricsOverride", width=1200, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(1.0)
        shot = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        out.write_bytes(base64.b64decode(shot["data"]))


@contextlib.contextmanager
def browser(executable: str) -> Iterator[Browser]:
    import websocket  # websocket-client, in the test extra

    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            port_file = Path(profile) / "DevToolsActivePort"
            deadline = time.monotonic() + 60
            while not (port_file.exists() and port_file.read_text().strip()):
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("chromium did not start its DevTools endpoint")
                time.sleep(0.1)
            port = port_file.read_text().split()[0]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
                pages = [t for t in json.load(answer) if t["type"] == "page"]
            ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
            b = Browser(proc, ws)
            b._events = []
            for domain in ("Page", "Runtime", "Log", "Network"):
                b.send(f"{domain}.enable")
            yield b
            ws.close()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
