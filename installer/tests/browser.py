"""What the browser tests share: Debian's Chromium driven by Playwright (headless, with the flags
this machine's closed network needs) and axe-core for the accessibility checks.

axe-core comes from npm into a cache directory (AXE_CACHE_DIR, default ~/.cache/installer-axe):
installed once when missing; a test that needs it skips only when npm is not available."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
AXE_DIR = Path(os.environ.get("AXE_CACHE_DIR", Path.home() / ".cache" / "installer-axe"))
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's Browser); skips the test when Playwright or Debian's
    chromium is missing. The browser ends with the block."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        yield p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def axe_script() -> Path:
    """axe-core's script, fetched from npm on first use."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: axe-core cannot be fetched")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(  # noqa: S603
            [npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "axe-core@4"],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return AXE_JS
