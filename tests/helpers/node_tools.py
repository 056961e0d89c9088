"""What the tests that run JavaScript need: node, the web client's npm tooling, and for browser tests Chromium.

Missing tools skip a test on a developer machine and fail it under CI=true (`make test` installs them:
scripts/ensure_browser.sh and `make web-deps`).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "gateway" / "web"
BROWSER_TESTS = ROOT / "tests" / "browser"


def _skip_or_fail(missing: list[str], how: str) -> None:
    reason = f"needs {', '.join(missing)}; {how}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


def web_tools() -> str:
    """node on PATH and gateway/web/node_modules (npm ci); returns the node executable."""
    node = shutil.which("node")
    missing = [what for what, ok in (("node on PATH", node is not None),
                                     ("gateway/web/node_modules", (WEB / "node_modules" / "esbuild").is_dir()))
               if not ok]
    if missing:
        _skip_or_fail(missing, "run `make web-deps`")
    assert node is not None
    return node


def browser() -> tuple[str, str]:
    """Chromium and node with tests/browser/node_modules (playwright-core); returns (chromium, node)."""
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    node = shutil.which("node")
    missing = [what for what, ok in (("chromium at " + chromium, os.access(chromium, os.X_OK)),
                                     ("node on PATH", node is not None),
                                     ("tests/browser/node_modules/playwright-core",
                                      (BROWSER_TESTS / "node_modules" / "playwright-core").is_dir())) if not ok]
    if missing:
        _skip_or_fail(missing, "run scripts/ensure_browser.sh")
    assert node is not None
    return chromium, node


def artifacts_dir() -> Path:
    """Where screenshots go: $LINGUA_TEST_ARTIFACTS or test-artifacts/ at the repository root."""
    path = Path(os.environ.get("LINGUA_TEST_ARTIFACTS", ROOT / "test-artifacts")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


async def driver_event(driver: asyncio.subprocess.Process, want: str, timeout_s: float = 60) -> dict[str, Any]:
    """The next JSON line a browser driver script printed; it must be the event `want`."""
    assert driver.stdout is not None
    line = await asyncio.wait_for(driver.stdout.readline(), timeout_s)
    assert line, f"the browser driver exited (rc {await driver.wait()}) before {want!r}"
    msg: dict[str, Any] = json.loads(line)
    assert msg["event"] == want, msg
    return msg
