"""The web client's TypeScript: it type-checks (strict), its unit tests pass, and the committed bundle
(gateway/web/dist, what the gateway serves) is what its sources build to."""

from __future__ import annotations

import filecmp
import subprocess
from pathlib import Path

from tests.helpers.node_tools import WEB, web_tools


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=WEB, capture_output=True, text=True, timeout=180, check=False)


def test_typescript_is_strict_clean_and_unit_tests_pass() -> None:
    node = web_tools()
    for script in ("node_modules/typescript/bin/tsc --noEmit -p .", "node_modules/typescript/bin/tsc --noEmit -p test"):
        done = _run(node, *script.split())
        assert done.returncode == 0, done.stdout + done.stderr
    built = _run(node, "build.mjs", "--tests")
    assert built.returncode == 0, built.stderr
    tests = sorted(str(p) for p in (WEB / "build" / "tests").glob("*.test.mjs"))
    assert len(tests) >= 5, tests
    done = _run(node, "--test", "--test-reporter=tap", *tests)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def test_committed_bundle_is_not_stale(tmp_path: Path) -> None:
    node = web_tools()
    fresh = tmp_path / "dist"
    done = _run(node, "build.mjs", "--outdir", str(fresh))
    assert done.returncode == 0, done.stderr
    committed = WEB / "dist"
    names = sorted(p.name for p in fresh.iterdir())
    assert {"index.html", "app.js", "worklet.js", "style.css"} <= set(names)
    assert names == sorted(p.name for p in committed.iterdir()), "gateway/web/dist has other files than the build"
    _match, mismatch, errors = filecmp.cmpfiles(fresh, committed, names, shallow=False)
    assert not mismatch and not errors, f"gateway/web/dist is stale, run `make web`: {mismatch + errors}"
