"""The node dashboard in headless Chromium: a real scheduler and node, the page served by the node's control
server, a pairing code asked for in the page and used by a client, and the job it ran shown in the page.

Needs /usr/bin/chromium (or $CHROMIUM), node and tests/browser/node_modules (scripts/ensure_browser.sh
installs them). Without them the test is skipped locally and fails under CI=true.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import os
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from hub_svc.client import HubClient
from hub_svc.config import HubSettings
from hub_svc.importer import bundled
from hub_svc.server import HubServer
from lingua_common.signing import generate_key_pair
from node_svc.control import ControlServer
from node_svc.models import ModelInstaller, ModelStore, ModelTrust
from node_svc.models.manager import NodeModelManager
from node_svc.modules.manager import ModuleManager
from node_svc.pipeline import Pipeline
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav, wav_audio
from tests.helpers.node_tools import artifacts_dir, browser, driver_event

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
SENTENCE = "We are looking for a good restaurant near the river."
HUB_TOKEN = "operator-secret"
MT, OLD, NEW = "phrasebook-m2m100", "1.0.0", "1.1.0"


@contextlib.asynccontextmanager
async def managed_models(tmp_path: Path) -> AsyncIterator[NodeModelManager]:
    """A real hub with two versions of the phrasebook MT model, and a node model store that has the first one
    installed from it, served by a store-backed pipeline."""
    private_key, public_key = generate_key_pair(tmp_path / "keys")
    hub = HubServer(HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=str(tmp_path / "hub"),
                                operator_token=HUB_TOKEN, signing_key=str(private_key)))
    await hub.start()
    try:
        address = f"127.0.0.1:{hub.grpc_port}"
        client = HubClient(address, HUB_TOKEN)
        mt = next(b for b in bundled() if b.model.model_id == MT)
        for version in (OLD, NEW):
            await asyncio.to_thread(client.publish_files, mt.files, mt.model, version)
        client.close()
        store = ModelStore(tmp_path / "models")
        manager = NodeModelManager(store, ModelInstaller(store, address,
                                                         trust=ModelTrust.from_settings(str(public_key))))
        await asyncio.to_thread(manager.install_now, MT, OLD)
        manager.pipeline = await asyncio.to_thread(Pipeline.from_store, store, 1, [])
        yield manager
    finally:
        await hub.stop()


async def _models_when(port: int, done: Any, timeout_s: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        models: dict[str, Any] = json.loads((await asyncio.to_thread(_request, port, "GET", "/api/models"))[2])
        if done(models):
            return models
        assert asyncio.get_running_loop().time() < deadline, models
        await asyncio.sleep(0.1)


@pytest.fixture
def artifacts() -> Path:
    return artifacts_dir()


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


async def test_control_server_serves_only_its_files_and_refuses_bad_requests(tmp_path: Path) -> None:
    async with managed_models(tmp_path) as manager:
        server = ControlServer(ModuleManager(enabled=[]), 0, models=manager)
        server.start()
        try:
            await asyncio.to_thread(_check_control_server, server.port)
            # A real install from the hub, through the panel's endpoint; it ends "done" and is listed.
            install = {"Content-Type": "application/json"}
            body = json.dumps({"model_id": MT, "version": NEW}).encode()
            status, _, answer = await asyncio.to_thread(_request, server.port, "POST", "/api/models/install", body,
                                                        {**install, "Origin": f"http://127.0.0.1:{server.port}"})
            assert status == 202 and json.loads(answer)["accepted"] is True
            models = await _models_when(server.port, lambda m: m["installs"] and m["installs"][0]["state"] == "done")
            assert models["configured"] is True
            assert [(m["version"], m["in_use"]) for m in models["installed"]] == [(OLD, False), (NEW, True)]
            unknown = json.dumps({"model_id": "no-such-model"}).encode()
            assert (await asyncio.to_thread(_request, server.port, "POST", "/api/models/install", unknown,
                                            install))[0] == 202
            models = await _models_when(server.port, lambda m: m["installs"][0]["state"] == "failed")
            assert "MODEL_NOT_AVAILABLE" in models["installs"][0]["error"]
            in_use = json.dumps({"model_id": MT, "version": NEW}).encode()
            status, _, answer = await asyncio.to_thread(_request, server.port, "POST", "/api/models/remove",
                                                        in_use, install)
            assert status == 409 and "in use" in json.loads(answer)["error"]
            missing = json.dumps({"model_id": MT, "version": "7.7.7"}).encode()
            assert (await asyncio.to_thread(_request, server.port, "POST", "/api/models/remove", missing,
                                            install))[0] == 404
        finally:
            server.stop()


def _check_control_server(port: int) -> None:
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
    ok_body = json.dumps({"model_id": MT, "version": NEW}).encode()
    assert _request(port, "POST", "/api/models/install", ok_body,
                    {**install, "Origin": "http://evil.example"})[0] == 403
    assert _request(port, "POST", "/api/models/install", b"x" * (65 * 1024), install)[0] == 413
    assert _request(port, "POST", "/api/models/install", b"{nope", install)[0] == 400
    assert _request(port, "POST", "/api/models/install", b'{"model_id": "../x"}', install)[0] == 400
    assert _request(port, "POST", "/api/models/frobnicate", ok_body, install)[0] == 404


def test_control_server_without_model_management() -> None:
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
    chromium, node = browser()
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
                ready = await driver_event(driver, timeout_s=30, want="ready")
                assert ready["node_id"] == agent.node_id and agent.node_id
                assert ready["state"] == "ready" and ready["connection"] == "connected"
                assert ready["scheduler"] == address and "dash-test" in ready["node_name"]
                assert ready["cpu_samples"] >= 3 and ready["cpu_now"].endswith("%")
                assert set(ready["modules"]) == {s.name for s in pipeline.modules.status()} != set()
                assert "not configured" in ready["models_status"] and ready["engines"] >= 4

                paired = await driver_event(driver, timeout_s=30, want="pairing")
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
                done = await driver_event(driver, timeout_s=30, want="done")
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
async def test_models_panel_installs_and_removes(tmp_path: Path, artifacts: Path) -> None:
    chromium, node = browser()
    async with managed_models(tmp_path) as manager:
        server = ControlServer(ModuleManager(enabled=[]), 0, models=manager)
        server.start()
        try:
            run = await asyncio.to_thread(
                subprocess.run, [node, str(HERE / "models_panel.mjs"), server.url, str(artifacts), MT, NEW, OLD],
                cwd=HERE, env={**os.environ, "CHROMIUM": chromium}, capture_output=True, timeout=90, check=False)
        finally:
            server.stop()
        assert run.returncode == 0, (run.stdout.decode(), run.stderr.decode()[-2000:])
        done = json.loads(run.stdout.decode().splitlines()[-1])
        size = sum(f.size_bytes for f in [manager.store.get(MT, NEW)] if f is not None)
        assert [(m["id"], m["version"], m["removable"]) for m in done["before"]] == [(MT, OLD, False)]
        assert done["before"][0]["cells"][2] == "mt" and "en→fr" in done["before"][0]["cells"][4]
        assert done["progress"] == {"value": size, "max": size}
        assert done["progressText"].startswith(f"{size / 1e6:.1f} MB / {size / 1e6:.1f} MB")
        # The new version serves; the old one is no longer in use and can be removed from the page.
        assert [(m["version"], m["removable"]) for m in done["installed"]] == [(OLD, True), (NEW, False)]
        assert done["dialogs"] == [f"Remove {MT} {OLD}?"]
        assert [(m["id"], m["version"]) for m in done["after"]] == [(MT, NEW)]
        assert [m.version for m in manager.store.versions(MT)] == [NEW]
        assert "MODEL_NOT_AVAILABLE" in done["installError"] and "no-such-model" in done["installError"]
        assert done["problems"] == [], done["problems"]
