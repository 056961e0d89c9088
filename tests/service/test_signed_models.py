"""Signed models against a real hub server and the node's real installer: the hub signs each version's manifest;
a node installs only versions whose signature verifies with a key it trusts, so a tampered catalog that serves
matching sha256 values, an unsigned version and a version signed by another key are all refused
(MODEL_VERIFY_FAILED, with what was downloaded deleted). `lingua hub keygen` writes a 0600 key,
`lingua hub sign` signs earlier versions (and re-signs after a rotation), and the private key is never logged.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from hub_svc.client import HubClient, sha256_of
from hub_svc.config import HubSettings
from hub_svc.db import FileRow, VersionRow
from hub_svc.importer import Bundle, bundled, publish_all
from hub_svc.server import HubServer
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from lingua_common.signing import ManifestError, Signer, generate_key_pair, load_signer, public_key_text
from node_svc.models import InstallProgress, ModelInstaller, ModelStore, ModelTrust
from tests.helpers.databases import database

TOKEN = "operator-secret"
MT = "phrasebook-m2m100"  # ~1.1 MB, several files


def _bundle() -> Bundle:
    return next(b for b in bundled() if b.model.model_id == MT)


def _secrets_of(private_key: Path) -> list[str]:
    """Every form the private key could leak in: the PEM text, its base64 body and its raw 32 bytes."""
    pem = private_key.read_text()
    body = "".join(line for line in pem.splitlines() if "-----" not in line)
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    raw = key.private_bytes_raw()
    return [pem, body, body[16:40], base64.b64encode(raw).decode(), raw.hex()]


async def _start_hub(data_dir: Path, signing_key: Path | None, database_url: str = "") -> HubServer:
    hub = HubServer(HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=str(data_dir),
                                database_url=database_url, operator_token=TOKEN,
                                signing_key=str(signing_key) if signing_key else ""))
    await hub.start()
    client = HubClient(f"127.0.0.1:{hub.grpc_port}", TOKEN)
    await asyncio.to_thread(publish_all, client, [_bundle()])
    client.close()
    return hub


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    """Two key pairs: (key A's private key file, key B's private key file)."""
    return generate_key_pair(tmp_path / "key-a")[0], generate_key_pair(tmp_path / "key-b")[0]


@pytest.fixture
async def signed_hub(tmp_path: Path, keys: tuple[Path, Path]) -> AsyncIterator[HubServer]:
    hub = await _start_hub(tmp_path / "hub", keys[0])
    yield hub
    await hub.stop()


def _trusting(*private_keys: Path) -> ModelTrust:
    return ModelTrust.from_settings(",".join(str(p.with_suffix(".pub")) for p in private_keys))


def _installer(hub: HubServer, store: ModelStore, trust: ModelTrust, progress_interval_s: float = 0.1
               ) -> ModelInstaller:
    return ModelInstaller(store, f"127.0.0.1:{hub.grpc_port}", trust=trust, progress_interval_s=progress_interval_s)


async def _refused(installer: ModelInstaller, store: ModelStore, *why: str) -> None:
    with pytest.raises(LinguaError) as refused:
        await asyncio.to_thread(installer.install, MT)
    assert refused.value.code == common_pb2.MODEL_VERIFY_FAILED, refused.value
    for part in why:
        assert part in refused.value.message
    assert store.list() == [] and store.partials() == []  # nothing installed, nothing left on disk


def _installed_matches(store: ModelStore) -> None:
    bundle = _bundle()
    local = store.get(MT, bundle.version)
    assert local is not None
    for rel, src in bundle.files.items():
        assert sha256_of(local.path / rel) == sha256_of(src), rel


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_signed_version_is_served_with_its_signature_and_installs(
        kind: str, keys: tuple[Path, Path], tmp_path: Path) -> None:
    signer = load_signer(keys[0])
    with database(kind, tmp_path) as url:
        hub = await _start_hub(tmp_path / "hub", keys[0], url)
        try:
            client = HubClient(f"127.0.0.1:{hub.grpc_port}")
            [version] = (await asyncio.to_thread(client.list_models))[0].versions
            client.close()
            assert version.signing_key_id == signer.key_id
            signer.public_key.verify(version.manifest_signature, version.manifest)  # raises if it does not verify
            async with httpx.AsyncClient() as http:
                catalog = (await http.get(f"http://127.0.0.1:{hub.http_port}/v1/models")).json()
            assert catalog[0]["versions"][0]["signing_key_id"] == signer.key_id

            store = ModelStore(tmp_path / "models")
            local = await asyncio.to_thread(_installer(hub, store, _trusting(keys[0])).install, MT)
        finally:
            await hub.stop()
    model = _bundle().model
    assert set(local.pairs) == {(p.src_lang, p.tgt_lang) for p in model.pairs} and local.engine == model.engine
    _installed_matches(store)


def _tamper_file(hub: HubServer, path: str) -> tuple[str, str]:
    """Change one file's bytes in the blob store and its sha256 in the catalog, as an attacker with the hub's
    disk would: the hub then serves the new bytes with their matching sha256. Returns (old, new) sha256."""
    with hub.catalog.engine.begin() as db:
        old = db.scalar(select(FileRow.sha256).where(FileRow.path == path))
        assert old is not None
        data = bytearray(hub.blobs.path(old).read_bytes())
        data[len(data) // 2] ^= 0xFF
        new = hashlib.sha256(data).hexdigest()
        hub.blobs.path(new).parent.mkdir(parents=True, exist_ok=True)
        hub.blobs.path(new).write_bytes(bytes(data))
        db.execute(update(FileRow).where(FileRow.sha256 == old).values(sha256=new))
    return old, new


async def test_tampered_version_is_refused_though_its_sha256_values_match(
        signed_hub: HubServer, keys: tuple[Path, Path], tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "models")
    installer = _installer(signed_hub, store, _trusting(keys[0]), progress_interval_s=0.0)

    def interrupt(p: InstallProgress) -> None:  # an earlier install left part of the version on disk
        if p.done_bytes > 0:
            installer.cancel(MT)

    with pytest.raises(LinguaError) as cancelled:
        await asyncio.to_thread(installer.install, MT, "", interrupt)
    assert cancelled.value.code == common_pb2.JOB_CANCELLED
    assert [(m, v) for m, v, _ in store.partials()] == [(MT, "1.0.0")]

    old, new = _tamper_file(signed_hub, "model.bin")
    client = HubClient(f"127.0.0.1:{signed_hub.grpc_port}")
    served = await asyncio.to_thread(lambda: list(client.download(MT, "1.0.0", "model.bin")))
    assert {r.sha256 for r in served} == {new}
    assert hashlib.sha256(b"".join(r.data for r in served)).hexdigest() == new  # the sha256 check would pass
    await _refused(installer, store, "differ from its signed manifest", "model.bin")

    # The attacker rewrites the stored manifest too: then the signature does not verify.
    with signed_hub.catalog.engine.begin() as db:
        manifest = db.scalar(select(VersionRow.manifest))
        assert manifest is not None and old.encode() in manifest
        db.execute(update(VersionRow).values(manifest=manifest.replace(old.encode(), new.encode())))
    await _refused(installer, store, "signature does not verify")
    client.close()


async def test_unsigned_version_is_refused_until_lingua_hub_sign(keys: tuple[Path, Path], tmp_path: Path,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hub = await _start_hub(tmp_path / "hub", signing_key=None)  # a hub from before signing: publishes unsigned
    try:
        store = ModelStore(tmp_path / "models")
        await _refused(_installer(hub, store, _trusting(keys[0])), store, "not signed")
        await _refused(_installer(hub, store, ModelTrust()), store, "no hub public key")
        with hub.catalog.engine.begin() as db:  # as a version from before 0002 (no manifest stored) would be
            db.execute(update(VersionRow).values(manifest=None))

        rc, out, err = await _lingua("hub", "sign", "--key", str(keys[0]), data_dir=tmp_path / "hub")
        assert rc == 0, err
        assert out.splitlines() == [f"signed {MT} 1.0.0 (key {load_signer(keys[0]).key_id})"]
        rc, again, err2 = await _lingua("hub", "sign", "--key", str(keys[0]), data_dir=tmp_path / "hub")
        assert rc == 0 and again.startswith("nothing to sign")

        await asyncio.to_thread(_installer(hub, store, _trusting(keys[0])).install, MT)
        _installed_matches(store)
    finally:
        await hub.stop()
    assert "published UNSIGNED" in caplog.text  # the hub's and the installer's logs were captured
    for secret in _secrets_of(keys[0]):
        assert secret not in caplog.text + out + err + again + err2


async def test_version_signed_by_another_key_is_refused_and_a_rotation_works(
        keys: tuple[Path, Path], tmp_path: Path) -> None:
    key_a, key_b = keys
    hub = await _start_hub(tmp_path / "hub", key_b)
    try:
        store = ModelStore(tmp_path / "models")
        await _refused(_installer(hub, store, _trusting(key_a)), store, "not trust", load_signer(key_b).key_id)
        # Rotation to key A: nodes trust both keys, the hub re-signs with A, then nodes can drop B.
        rc, out, err = await _lingua("hub", "sign", "--key", str(key_a), "--resign", data_dir=tmp_path / "hub")
        assert rc == 0 and out.startswith(f"signed {MT} 1.0.0"), err
        await asyncio.to_thread(_installer(hub, store, _trusting(key_a)).install, MT)
        _installed_matches(store)
    finally:
        await hub.stop()


async def _lingua(*args: str, data_dir: Path | None = None) -> tuple[int, str, str]:
    env = dict(os.environ)
    if data_dir is not None:
        env.update(LINGUA_HUB_DATA_DIR=str(data_dir), LINGUA_HUB_DATABASE_URL="", LINGUA_HUB_SIGNING_KEY="")
    proc = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "lingua"), *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_keygen_writes_a_0600_key_and_prints_only_the_public_key(tmp_path: Path) -> None:
    out_dir = tmp_path / "keys"
    rc, out, err = await _lingua("hub", "keygen", "--out", str(out_dir))
    assert rc == 0, err
    private_key = out_dir / "hub_signing.key"
    assert stat.S_IMODE(private_key.stat().st_mode) == 0o600
    signer: Signer = load_signer(private_key)
    assert f"LINGUA_NODE_HUB_PUBLIC_KEY={public_key_text(signer.public_key)}" in out
    assert signer.key_id in out
    for secret in _secrets_of(private_key):
        assert secret not in out + err
    rc, _, err = await _lingua("hub", "keygen", "--out", str(out_dir))  # never overwrites a key
    assert rc == 1 and "already exists" in err
    assert load_signer(private_key).key_id == signer.key_id

    os.chmod(private_key, 0o640)  # a key others may read is refused, by the hub and by `lingua hub sign`
    with pytest.raises(ManifestError, match="chmod 600"):
        HubServer(HubSettings(data_dir=str(tmp_path / "hub"), signing_key=str(private_key)))
    rc, _, err = await _lingua("hub", "sign", "--key", str(private_key), data_dir=tmp_path / "hub")
    assert rc == 1 and "chmod 600" in err


async def test_hub_process_logs_never_show_the_private_key(keys: tuple[Path, Path], tmp_path: Path) -> None:
    env = {**os.environ, "LINGUA_HUB_HOST": "127.0.0.1", "LINGUA_HUB_GRPC_PORT": "0", "LINGUA_HUB_HTTP_PORT": "0",
           "LINGUA_HUB_DATA_DIR": str(tmp_path / "hub"), "LINGUA_HUB_DATABASE_URL": "",
           "LINGUA_HUB_OPERATOR_TOKEN": TOKEN, "LINGUA_HUB_SIGNING_KEY": str(keys[0])}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "hub_svc", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    lines: list[str] = []
    try:
        while not (lines and lines[-1].startswith("hub ready")):
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            assert line, "".join(lines)
            lines.append(line.decode())
        port = lines[-1].split("gRPC ")[1].split(",")[0].rsplit(":", 1)[1]
        client = HubClient(f"127.0.0.1:{port}", TOKEN)
        await asyncio.to_thread(publish_all, client, [_bundle()])
        assert client.list_models()[0].versions[0].signing_key_id == load_signer(keys[0]).key_id
        client.close()
    finally:
        proc.terminate()
        rest, _ = await asyncio.wait_for(proc.communicate(), 30)
    log = "".join(lines) + rest.decode()
    assert f"signing published versions with key {load_signer(keys[0]).key_id}" in log
    for secret in _secrets_of(keys[0]):
        assert secret not in log

