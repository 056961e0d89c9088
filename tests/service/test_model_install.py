"""The node's installer against a real hub: interrupted installs resume without fetching again what is on
disk, a hub that goes away mid-download is retried, a tampered blob is rejected and its download deleted, two
installs of the same model download it once, and the installed files are byte-identical to what was published.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hub_svc.client import HubClient, sha256_of
from hub_svc.config import HubSettings
from hub_svc.importer import Bundle, bundled, publish_all
from hub_svc.server import HubServer
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from lingua_common.signing import ensure_key_pair, public_key_text
from node_svc.models import InstallProgress, InstallResult, ModelInstaller, ModelStore, ModelTrust

TOKEN = "operator-secret"
WHISPER = "whisper-tiny.en"  # ~75 MB: big enough to interrupt half-way


def _bundle(model_id: str) -> Bundle:
    return next(b for b in bundled() if b.model.model_id == model_id)


async def _start_hub(data_dir: Path, grpc_port: int = 0) -> HubServer:
    key, _ = ensure_key_pair(data_dir.parent / "keys")  # the same key across a restart
    hub = HubServer(HubSettings(host="127.0.0.1", grpc_port=grpc_port, http_port=0, data_dir=str(data_dir),
                                operator_token=TOKEN, chunk_size=64 * 1024, signing_key=str(key)))
    await hub.start()
    return hub


def _public_key(hub: HubServer) -> str:
    assert hub.signer is not None
    return public_key_text(hub.signer.public_key)


def _trust(hub: HubServer) -> ModelTrust:
    """A node that trusts the hub's signing key."""
    return ModelTrust.from_settings(_public_key(hub))


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[HubServer]:
    server = await _start_hub(tmp_path / "hub")
    client = HubClient(f"127.0.0.1:{server.grpc_port}", TOKEN)
    await asyncio.to_thread(publish_all, client, [_bundle(WHISPER), _bundle("phrasebook-m2m100")])
    client.close()
    yield server
    await server.stop()


def _installed_matches(store: ModelStore, bundle: Bundle) -> None:
    local = store.get(bundle.model.model_id, bundle.version)
    assert local is not None
    for rel, src in bundle.files.items():
        assert sha256_of(local.path / rel) == sha256_of(src), rel


async def test_interrupted_install_resumes_without_fetching_twice(hub: HubServer, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    installer = ModelInstaller(store, f"127.0.0.1:{hub.grpc_port}", progress_interval_s=0.05, trust=_trust(hub))
    total = sum(p.stat().st_size for p in _bundle(WHISPER).files.values())
    seen: list[InstallProgress] = []

    def interrupt_at_a_third(p: InstallProgress) -> None:
        seen.append(p)
        if p.done_bytes > total // 3:
            installer.cancel(WHISPER)

    with pytest.raises(LinguaError) as cancelled:
        await asyncio.to_thread(installer.install, WHISPER, "", interrupt_at_a_third)
    assert cancelled.value.code == common_pb2.JOB_CANCELLED
    assert store.get(WHISPER, "1.0.0") is None
    [(model_id, version, on_disk)] = store.partials()
    assert (model_id, version) == (WHISPER, "1.0.0") and total // 3 < on_disk < total

    result: InstallResult = await asyncio.to_thread(installer.install_detailed, WHISPER)
    assert not result.already_installed
    assert result.resumed_bytes == on_disk  # what the first try left is reused ...
    assert result.fetched_bytes == total - on_disk  # ... and not fetched again
    _installed_matches(store, _bundle(WHISPER))
    assert store.partials() == []
    again = await asyncio.to_thread(installer.install_detailed, WHISPER, "1.0.0")
    assert again.already_installed and again.fetched_bytes == 0


async def test_hub_restart_mid_download_is_retried(tmp_path: Path) -> None:
    hub = await _start_hub(tmp_path / "hub")
    port = hub.grpc_port
    client = HubClient(f"127.0.0.1:{port}", TOKEN)
    await asyncio.to_thread(publish_all, client, [_bundle(WHISPER)])
    client.close()
    store = ModelStore(tmp_path / "models")
    installer = ModelInstaller(store, f"127.0.0.1:{port}", retries=8, backoff_s=0.2, progress_interval_s=0.05,
                               trust=_trust(hub))
    total = sum(p.stat().st_size for p in _bundle(WHISPER).files.values())
    loop = asyncio.get_running_loop()
    half_way, hub_gone = asyncio.Event(), threading.Event()

    def watch(p: InstallProgress) -> None:
        # Progress is reported from the downloading thread: holding it here keeps the stream open (and
        # the download unfinished) until the hub has gone away under it.
        if p.done_bytes > total // 4 and not hub_gone.is_set():
            loop.call_soon_threadsafe(half_way.set)
            hub_gone.wait(30)

    install = asyncio.create_task(asyncio.to_thread(installer.install_detailed, WHISPER, "", watch))
    try:
        await asyncio.wait_for(half_way.wait(), 60)
        await hub.stop()  # the network goes away mid-download ...
        hub_gone.set()
        await asyncio.sleep(0.5)
        hub = await _start_hub(tmp_path / "hub", grpc_port=port)  # ... and comes back
        result = await asyncio.wait_for(install, 120)
    finally:
        hub_gone.set()
        await hub.stop()
    assert result.retries >= 1
    assert result.fetched_bytes + result.resumed_bytes == total
    assert result.fetched_bytes < total + 2 * 1024 * 1024  # at most the chunks in flight are fetched twice
    _installed_matches(store, _bundle(WHISPER))


async def test_tampered_blob_is_rejected_and_deleted(hub: HubServer, tmp_path: Path) -> None:
    bundle = _bundle("phrasebook-m2m100")
    blob = hub.blobs.path(sha256_of(bundle.files["model.bin"]))
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content: only the sha256 can tell
    blob.write_bytes(bytes(data))
    store = ModelStore(tmp_path / "models")
    installer = ModelInstaller(store, f"127.0.0.1:{hub.grpc_port}", trust=_trust(hub))
    with pytest.raises(LinguaError) as bad:
        await asyncio.to_thread(installer.install, bundle.model.model_id)
    assert bad.value.code == common_pb2.MODEL_VERIFY_FAILED
    assert "deleted" in bad.value.message
    assert store.list() == []
    staged = [p for p in store.partial_dir(bundle.model.model_id, bundle.version).rglob("model.bin")]
    assert staged == []  # the bad download is gone: a retry starts that file afresh


async def test_concurrent_installs_download_once(hub: HubServer, tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    installers = [ModelInstaller(store, f"127.0.0.1:{hub.grpc_port}", trust=_trust(hub)) for _ in range(2)]
    barrier = threading.Barrier(2)

    def install(inst: ModelInstaller) -> InstallResult:
        barrier.wait()
        return inst.install_detailed("phrasebook-m2m100")

    results = await asyncio.gather(*(asyncio.to_thread(install, i) for i in installers))
    assert sorted(r.already_installed for r in results) == [False, True]
    bundle = _bundle("phrasebook-m2m100")
    assert sum(r.fetched_bytes for r in results) == sum(p.stat().st_size for p in bundle.files.values())
    _installed_matches(store, bundle)
    assert [m.version for m in store.versions("phrasebook-m2m100")] == [bundle.version]


async def test_unknown_model_and_version(hub: HubServer, tmp_path: Path) -> None:
    installer = ModelInstaller(ModelStore(tmp_path / "models"), f"127.0.0.1:{hub.grpc_port}", trust=_trust(hub))
    for model_id, version in (("no-such-model", ""), (WHISPER, "9.9.9")):
        with pytest.raises(LinguaError) as missing:
            await asyncio.to_thread(installer.install, model_id, version)
        assert missing.value.code == common_pb2.MODEL_NOT_AVAILABLE
    for model_id, version in (("../etc", ""), (WHISPER, "../../x")):
        with pytest.raises(LinguaError) as refused:
            await asyncio.to_thread(installer.install, model_id, version)
        assert refused.value.code == common_pb2.INVALID_MESSAGE


async def _lingua(*args: str, hub_public_key: str = "") -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "lingua"), "node", "models", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "LINGUA_NODE_HUB_PUBLIC_KEY": hub_public_key})
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_node_models_cli_install_list_remove_gc(hub: HubServer, tmp_path: Path) -> None:
    models_dir = str(tmp_path / "models")
    hub_flag = ("--hub", f"127.0.0.1:{hub.grpc_port}")
    rc, out, err = await _lingua("install", "phrasebook-m2m100", "--models-dir", models_dir, *hub_flag,
                                 hub_public_key=_public_key(hub))
    assert rc == 0, err
    assert out.startswith("installed phrasebook-m2m100 1.0.0") and "fetched 1.1 MB" in out
    rc, out, _ = await _lingua("install", "phrasebook-m2m100", "--version", "1.0.0", "--models-dir", models_dir,
                               *hub_flag)
    assert rc == 0 and "already installed" in out
    # A second version, side by side (a copy registered under another version, as an upgrade would be).
    store = ModelStore(models_dir)
    v1 = store.get("phrasebook-m2m100", "1.0.0")
    assert v1 is not None
    staging = store.partial_dir("phrasebook-m2m100", "1.1.0")
    shutil.copytree(v1.path, staging)
    store.add(dataclasses.replace(v1, version="1.1.0"), staging)

    rc, out, _ = await _lingua("list", "--json", "--models-dir", models_dir)
    listed = json.loads(out)
    assert rc == 0 and [(m["model_id"], m["version"]) for m in listed["models"]] == [
        ("phrasebook-m2m100", "1.0.0"), ("phrasebook-m2m100", "1.1.0")]
    rc, out, _ = await _lingua("list", "--models-dir", models_dir)
    assert rc == 0 and out.splitlines()[0].split()[:3] == ["MODEL", "VERSION", "KIND"] and "en->fr" in out
    rc, out, _ = await _lingua("gc", "--models-dir", models_dir)
    assert rc == 0 and "removed phrasebook-m2m100 1.0.0" in out
    assert [m.version for m in ModelStore(models_dir).versions("phrasebook-m2m100")] == ["1.1.0"]
    rc, out, _ = await _lingua("remove", "phrasebook-m2m100", "--models-dir", models_dir)
    assert rc == 0 and "removed phrasebook-m2m100 1.1.0" in out
    rc, _, err = await _lingua("remove", "phrasebook-m2m100", "--models-dir", models_dir)
    assert rc == 1 and "not installed" in err
    rc, _, err = await _lingua("install", "no-such-model", "--models-dir", models_dir, *hub_flag)
    assert rc == 1 and "MODEL_NOT_AVAILABLE" in err and "no-such-model" in err
