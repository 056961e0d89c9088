"""The model hub as a real server (gRPC + HTTP) on SQLite and PostgreSQL: publish, list, resumable
downloads, Range requests, traversal attempts, tampered uploads, duplicates, auth, deprecation."""

from __future__ import annotations

import asyncio
import http.client
import sys
from pathlib import Path

import grpc
import httpx
import pytest

from hub_svc.client import HubClient, describe_dir
from hub_svc.config import HubSettings
from hub_svc.server import HubServer
from lingua.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2
from lingua_common.errors import error_from_rpc
from lingua_common.model_format import APERTIUM_PACKAGES
from node_svc.models.manager import BUNDLED_MODEL_IDS
from tests.helpers.databases import database

MT_DIR = Path(__file__).resolve().parents[2] / "node_svc" / "bundled" / "phrasebook_m2m100"
TOKEN = "operator-secret"
MODEL = hub_pb2.Model(model_id="phrasebook-m2m100", kind=node_pb2.MODEL_KIND_MT, engine="ctranslate2-m2m100",
                      pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr")], license="Apache-2.0")


def _raw_get(port: int, path: str) -> int:
    """A GET whose path is sent exactly as written (no client-side dot-segment cleanup)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path)
    status = conn.getresponse().status
    conn.close()
    return status


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_hub_publish_download_and_guard_rails(kind: str, tmp_path: Path) -> None:
    with database(kind, tmp_path) as url:
        settings = HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, database_url=url,
                               data_dir=str(tmp_path / "hub"), operator_token=TOKEN, chunk_size=64 * 1024)
        hub = HubServer(settings)
        await hub.start()
        address = f"127.0.0.1:{hub.grpc_port}"
        try:
            operator, anonymous = HubClient(address, TOKEN), HubClient(address)
            published = await asyncio.to_thread(operator.publish_dir, MT_DIR, MODEL, "1.0.0")
            assert published.total_size == sum(p.stat().st_size for p in MT_DIR.iterdir())
            with pytest.raises(grpc.RpcError) as dup:
                await asyncio.to_thread(operator.publish_dir, MT_DIR, MODEL, "1.0.0")
            assert error_from_rpc(dup.value).code == common_pb2.ALREADY_EXISTS
            for client in (anonymous, HubClient(address, "wrong")):
                with pytest.raises(grpc.RpcError) as denied:
                    await asyncio.to_thread(client.publish_dir, MT_DIR, MODEL, "2.0.0")
                assert denied.value.code() == grpc.StatusCode.UNAUTHENTICATED

            # A tampered upload (content differs from its declared sha256) never becomes a version.
            bad = tmp_path / "bad"
            bad.mkdir()
            (bad / "model.bin").write_bytes(b"real bytes")
            files = describe_dir(bad)
            files[0].sha256 = "0" * 64
            def tampered() -> object:
                return operator.stub.PublishModel(iter([
                    hub_pb2.PublishModelRequest(metadata=hub_pb2.PublishMetadata(model=MODEL, version="9.9.9",
                                                                                 files=files)),
                    hub_pb2.PublishModelRequest(chunk=hub_pb2.FileChunk(path="model.bin", data=b"real bytes"))]),
                    metadata=(("authorization", f"Bearer {TOKEN}"),))
            with pytest.raises(grpc.RpcError) as tamper:
                await asyncio.to_thread(tampered)
            assert error_from_rpc(tamper.value).code == common_pb2.MODEL_VERIFY_FAILED
            [listed] = await asyncio.to_thread(anonymous.list_models)
            assert [v.version for v in listed.versions] == ["1.0.0"]

            # gRPC download, and a resumed one that fetches only the rest.
            model_bin = (MT_DIR / "model.bin").read_bytes()
            chunks = await asyncio.to_thread(lambda: list(anonymous.download(MODEL.model_id, "1.0.0", "model.bin")))
            assert b"".join(c.data for c in chunks) == model_bin and len(chunks) > 1
            half = len(model_bin) // 2
            rest = await asyncio.to_thread(lambda: list(anonymous.download(MODEL.model_id, "1.0.0", "model.bin",
                                                                           offset=half)))
            assert rest[0].offset == half and b"".join(c.data for c in rest) == model_bin[half:]
            async with grpc.aio.insecure_channel(address) as channel:
                stub = hub_pb2_grpc.ModelHubStub(channel)
                for path, offset in (("../model.bin", 0), ("/etc/passwd", 0), ("model.bin", len(model_bin) + 1)):
                    with pytest.raises(grpc.aio.AioRpcError) as bad_request:
                        await stub.DownloadFile(hub_pb2.DownloadFileRequest(
                            model_id=MODEL.model_id, version="1.0.0", path=path, offset=offset)).read()
                    assert bad_request.value.code() == grpc.StatusCode.INVALID_ARGUMENT

            # HTTP with Range.
            base = f"http://127.0.0.1:{hub.http_port}/v1/models/{MODEL.model_id}/1.0.0"
            async with httpx.AsyncClient() as http:
                full = await http.get(f"{base}/model.bin")
                assert full.status_code == 200 and full.content == model_bin
                part = await http.get(f"{base}/model.bin", headers={"Range": "bytes=100-199"})
                assert part.status_code == 206 and part.content == model_bin[100:200]
                assert part.headers["content-range"] == f"bytes 100-199/{len(model_bin)}"
                tail = await http.get(f"{base}/model.bin", headers={"Range": "bytes=-10"})
                assert tail.status_code == 206 and tail.content == model_bin[-10:]
                for bad_range in (f"bytes={len(model_bin)}-", "bytes=abc", "items=0-1"):
                    assert (await http.get(f"{base}/model.bin", headers={"Range": bad_range})).status_code == 416
                assert (await http.get(f"{base}/nope.bin")).status_code == 404
                assert (await http.get(f"{base}/%2e%2e/%2e%2e/etc/passwd")).status_code == 400
                assert (await http.get(f"{base}/sub%2F..%2F..%2Fx")).status_code == 400
                catalog = (await http.get(f"http://127.0.0.1:{hub.http_port}/v1/models")).json()
                assert catalog[0]["model_id"] == MODEL.model_id
            for raw in ("/v1/models/phrasebook-m2m100/1.0.0/../../../../etc/passwd",
                        "/v1/models/phrasebook-m2m100/1.0.0/a/../model.bin"):
                assert await asyncio.to_thread(_raw_get, hub.http_port, raw) == 400

            deprecated = await asyncio.to_thread(lambda: operator.stub.DeprecateVersion(
                hub_pb2.DeprecateVersionRequest(model_id=MODEL.model_id, version="1.0.0"),
                metadata=(("authorization", f"Bearer {TOKEN}"),)))
            assert deprecated.model.versions[0].status == hub_pb2.VERSION_STATUS_DEPRECATED
            assert await asyncio.to_thread(anonymous.list_models) == []
        finally:
            await hub.stop()


async def test_import_bundled_seeds_a_fresh_hub_once(tmp_path: Path) -> None:
    from hub_svc.importer import bundled, publish_all

    settings = HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=str(tmp_path / "hub"),
                           operator_token=TOKEN)
    hub = HubServer(settings)
    await hub.start()
    try:
        client = HubClient(f"127.0.0.1:{hub.grpc_port}", TOKEN)
        first = await asyncio.to_thread(publish_all, client, bundled())
        assert len(first) == len(BUNDLED_MODEL_IDS)
        assert await asyncio.to_thread(publish_all, client, bundled()) == []  # idempotent
        models = {m.model_id: m for m in await asyncio.to_thread(client.list_models)}
        assert set(models) == {"silero-vad", "whisper-tiny.en", "whisper-base", "piper-en-us-joe-medium",
                               "phrasebook-m2m100", *(p.model_id for p in APERTIUM_PACKAGES)}
        assert set(models) == set(BUNDLED_MODEL_IDS)
        assert models["whisper-tiny.en"].kind == node_pb2.MODEL_KIND_ASR
        assert {f.path for f in models["whisper-tiny.en"].versions[0].files} >= {"model.bin", "config.json"}
        proc = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "lingua"), "hub", "list", "--hub", f"127.0.0.1:{hub.grpc_port}",
            stdout=asyncio.subprocess.PIPE)
        out, _ = await proc.communicate()
        assert proc.returncode == 0 and b"whisper-tiny.en" in out and b"asr" in out
    finally:
        await hub.stop()
