"""Take the README's screenshots of both reports: `python docs/screenshots.py` (needs chromium).

The reports are of the shipped four-tier program over examples/history.jsonl, and of
the legacy program replacing it over the same history.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser import browser, chromium  # noqa: E402


def main() -> None:
    exe = chromium()
    if exe is None:
        sys.exit("chromium is not installed")
    four, legacy, history = "programs/four_tier.loy", "programs/legacy_a0_a4.loy", "examples/history.jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        report, diff = Path(tmp) / "report.html", Path(tmp) / "diff.html"
        subprocess.run(["loyalty", "report", four, history, "-o", report], check=True, cwd=ROOT)
        subprocess.run(
            ["loyalty", "diff", four, legacy, history, "--report", diff],
            check=True,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        with browser(exe) as b:
            for page, png in ((report, "report.png"), (diff, "diff-report.png")):
                seen = b.open(page)
                b.screenshot(ROOT / "docs" / png, seen["height"])


if __name__ == "__main__":
    main()
