"""The node dashboard in headless Chromium: a real scheduler and node, the page served by the node's control
server, a pairing code asked for in the page and used by a client, and the job it ran shown in the page.

Needs /usr/bin/chromium (or $CHROMIUM), node and tests/browser/node_modules (scripts/ensure_browser.sh
installs them). Without them the test is skipped locally and fails under CI=true.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import grpc
import pytest

from node_svc.control import ControlServer
from node_svc.modules.manager import ModuleManager
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav, wav_audio

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SENTENCE = "We are looking for a good restaurant near the river."


def _browser_or_skip() -> tuple[str, str]:
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    node = shutil.which("node")
    missing = [what for what, ok in (("chromium at " + chromium, os.access(chromium, os.X_OK)),
                                     ("node on PATH", node is not None),
                                     ("tests/browser/node_modules/playwright-core",
                                      (HERE / "node_modules" / "playwright-core").is_dir())) if not ok]
    if missing:
        reason = f"browser test needs {', '.join(missing)}; run scripts/ensure_browser.sh"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert node is not None
    return chromium, node


async def _event(driver: asyncio.subprocess.Process, want: str, timeout_s: float = 30) -> dict[str, Any]:
    assert driver.stdout is not None
    line = await asyncio.wait_for(driver.stdout.readline(), timeout_s)
    assert line, f"the browser driver exited (rc {await driver.wait()}) before {want!r}"
    msg: dict[str, Any] = json.loads(line)
    assert msg["event"] == want, msg
    return msg


class FakeModelOps:
    """A model store stand-in (tests only): one model installed, installs that stay half done."""

    def __init__(self) -> None:
        self.models = [{"model_id": "whisper-tiny.en", "version": "1", "kind": "asr", "size_bytes": 75_000_000,
                        "languages": ["en"], "pairs": [], "in_use": True},
                       {"model_id": "m2m100-418m", "version": "2", "kind": "mt", "size_bytes": 480_000_000,
                        "languages": [], "pairs": [["en", "de"], ["de", "en"]], "in_use": False}]
        self.active: list[dict[str, Any]] = []

    def installed(self) -> list[dict[str, Any]]:
        return list(self.models)

    def installs(self) -> list[dict[str, Any]]:
        return list(self.active)

    def install(self, model_id: str, version: str) -> None:
        if model_id == "no-such-model":
            raise KeyError(f"no model {model_id!r} in the hub")
        self.active.append({"model_id": model_id, "version": version or "3", "done_bytes": 30_000_000,
                            "total_bytes": 120_000_000, "bytes_per_s": 6_000_000, "eta_s": 15.0,
                            "state": "downloading", "error": ""})

    def remove(self, model_id: str, version: str) -> None:
        for m in self.models:
            if (m["model_id"], m["version"]) == (model_id, version):
                if m["in_use"]:
                    raise ValueError(f"{model_id} {version} is in use")
                self.models.remove(m)
                return
        raise KeyError(f"{model_id} {version} is not installed")


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go: $LINGUA_TEST_ARTIFACTS or test-artifacts/ at the repository root."""
    path = Path(os.environ.get("LINGUA_TEST_ARTIFACTS", ROOT / "test-artifacts")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sizes(folder: Path, *names: str) -> list[int]:
    return [(folder / name).stat().st_size for name in names]


def _request(port: int, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_control_server_serves_only_its_files_and_refuses_bad_requests() -> None:
    ops = FakeModelOps()
    server = ControlServer(ModuleManager(enabled=[]), 0, models=ops)
    server.start()
    try:
        port = server.port
        status, headers, page = _request(port, "GET", "/")
        assert status == 200 and headers["content-type"].startswith("text/html") and b"app.js" in page
        assert "script-src 'self'" in headers["content-security-policy"]
        for path in ("/app.js", "/style.css", "/favicon.svg", "/index.html?x=1"):
            assert _request(port, "GET", path)[0] == 200, path
        for path in ("/../control.py", "/%2e%2e/agent.py", "/dashboard/app.js", "/control.py", "//etc/passwd"):
            assert _request(port, "GET", path)[0] == 404, path
        assert json.loads(_request(port, "GET", "/api/status")[2])["agent"] is False
        assert json.loads(_request(port, "GET", "/api/jobs")[2]) == {"current": [], "recent": [], "total_finished": 0}
        assert _request(port, "POST", "/api/pairing-code")[0] == 503
        # No DNS rebinding, no cross-site POSTs, no huge or broken bodies.
        assert _request(port, "GET", "/api/status", headers={"Host": f"evil.example:{port}"})[0] == 403
        install = {"Content-Type": "application/json"}
        ok_body = json.dumps({"model_id": "m2m100-1.2b", "version": ""}).encode()
        assert _request(port, "POST", "/api/models/install", ok_body,
                        {**install, "Origin": "http://evil.example"})[0] == 403
        assert _request(port, "POST", "/api/models/install", b"x" * (65 * 1024), install)[0] == 413
        assert _request(port, "POST", "/api/models/install", b"{nope", install)[0] == 400
        assert _request(port, "POST", "/api/models/install", b'{"model_id": "../x"}', install)[0] == 400
        assert _request(port, "POST", "/api/models/frobnicate", ok_body, install)[0] == 404
        assert _request(port, "POST", "/api/models/install", b'{"model_id": "no-such-model"}', install)[0] == 404
        status, _, body = _request(port, "POST", "/api/models/install", ok_body,
                                   {**install, "Origin": f"http://127.0.0.1:{port}"})
        assert status == 202 and json.loads(body)["accepted"] is True
        models = json.loads(_request(port, "GET", "/api/models")[2])
        assert models["configured"] is True and [i["model_id"] for i in models["installs"]] == ["m2m100-1.2b"]
        in_use = json.dumps({"model_id": "whisper-tiny.en", "version": "1"}).encode()
        status, _, body = _request(port, "POST", "/api/models/remove", in_use, install)
        assert status == 409 and "in use" in json.loads(body)["error"]
    finally:
        server.stop()
    unconfigured = ControlServer(ModuleManager(enabled=[]), 0)
    unconfigured.start()
    try:
        assert json.loads(_request(unconfigured.port, "GET", "/api/models")[2])["configured"] is False
        assert _request(unconfigured.port, "POST", "/api/models/install", b'{"model_id": "x"}')[0] == 501
    finally:
        unconfigured.stop()


@pytest.mark.models
@pytest.mark.slow
async def test_dashboard_shows_the_node_pairs_a_client_and_lists_its_job(pipeline, artifacts: Path) -> None:
    chromium, node = _browser_or_skip()
    audio = wav_audio(speech_wav(pipeline, SENTENCE))
    async with running_scheduler() as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, pipeline, name="dash-test") as agent:
            control = ControlServer(pipeline.modules, 0, agent=agent)
            control.start()
            with (artifacts / "dashboard-driver.log").open("wb") as driver_log:
                driver = await asyncio.create_subprocess_exec(
                    node, str(HERE / "dashboard.mjs"), control.url, str(artifacts), cwd=HERE,
                    env={**os.environ, "CHROMIUM": chromium}, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=driver_log)
            try:
                ready = await _event(driver, "ready")
                assert ready["node_id"] == agent.node_id and agent.node_id
                assert ready["state"] == "ready" and ready["connection"] == "connected"
                assert ready["scheduler"] == address and "dash-test" in ready["node_name"]
                assert ready["cpu_samples"] >= 3 and ready["cpu_now"].endswith("%")
                assert set(ready["modules"]) == {s.name for s in pipeline.modules.status()} != set()
                assert "not configured" in ready["models_status"] and ready["engines"] >= 4

                paired = await _event(driver, "pairing")
                assert re.fullmatch(r"\d{6}", paired["code"]), paired
                for countdown in (paired["countdown1"], paired["countdown2"]):
                    assert re.fullmatch(r"expires in [45]:\d\d", countdown), paired
                assert paired["countdown1"] != paired["countdown2"]

                async with grpc.aio.insecure_channel(address) as channel:
                    conv = Conversation(channel)
                    opened = await conv.open("en", "fr", pairing_code=paired["code"])
                    assert opened.assigned_node_id == agent.node_id
                    await conv.send(0, audio)
                    (outcome,) = await conv.outcomes(1, timeout_s=60)
                    await conv.close()
                assert outcome.HasField("result"), outcome
                result = outcome.result
                assert result.node_id == agent.node_id and result.text_translated.startswith("Nous cherchons")

                assert driver.stdin is not None
                driver.stdin.write(json.dumps({"job_id": result.job_id}).encode() + b"\n")
                await driver.stdin.drain()
                driver.stdin.close()
                done = await _event(driver, "done")
                assert await asyncio.wait_for(driver.wait(), 10) == 0
            finally:
                if driver.returncode is None:
                    driver.kill()
                    await driver.wait()
                control.stop()
    # Columns: job, session, utterance, direction, started, duration, outcome, vad, asr, mt, tts.
    cells = done["cells"]
    assert done["outcome"] == "ok" and cells[6] == "ok", done
    assert cells[2] == "0" and cells[3] == "en → fr", cells
    timing = re.compile(r"[\d,]+ ms")
    assert all(timing.fullmatch(c) for c in cells[5:6] + cells[7:11]), cells
    assert int(cells[8].split()[0].replace(",", "")) > 0  # ASR took some time
    assert done["summary"].startswith("0 running · 1 finished"), done
    assert done["problems"] == [] and done["foreign"] == [], done
    assert min(_sizes(artifacts, "dashboard-paired.png", "dashboard-job.png")) > 10_000


@pytest.mark.slow
def test_models_panel_lists_installs_and_removes(artifacts: Path) -> None:
    chromium, node = _browser_or_skip()
    ops = FakeModelOps()
    server = ControlServer(ModuleManager(enabled=[]), 0, models=ops)
    server.start()
    try:
        run = subprocess.run([node, str(HERE / "models_panel.mjs"), server.url, str(artifacts)], cwd=HERE,
                             env={**os.environ, "CHROMIUM": chromium}, capture_output=True, timeout=60, check=False)
    finally:
        server.stop()
    assert run.returncode == 0, (run.stdout.decode(), run.stderr.decode()[-2000:])
    done = json.loads(run.stdout.decode().splitlines()[-1])
    assert [(m["id"], m["removable"]) for m in done["before"]] == [("whisper-tiny.en", False), ("m2m100-418m", True)]
    assert done["before"][1]["cells"][3] == "480.0 MB" and done["before"][1]["cells"][4] == "en→de de→en"
    assert done["progress"] == {"value": 30_000_000, "max": 120_000_000}
    assert done["progressText"] == "30.0 MB / 120.0 MB · 6.0 MB/s · ETA 15 s"
    assert "no-such-model" in done["installError"]
    assert done["dialogs"] == ["Remove m2m100-418m 2?"] and done["after"] == ["whisper-tiny.en"]
    assert [m["model_id"] for m in ops.models] == ["whisper-tiny.en"]
    assert all("404" in p for p in done["problems"]), done["problems"]  # only the refused install
