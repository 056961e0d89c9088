#!/usr/bin/env python3
"""Hub download throughput over loopback — gRPC DownloadFile and HTTP GET — next to a plain file copy of
the same blob, measured in the same run (medians of --runs, MB/s).

    .venv/bin/python bench/hub.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub_svc.client import HubClient
from hub_svc.config import HubSettings
from hub_svc.importer import bundled
from hub_svc.server import HubServer


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    whisper = next(b for b in bundled() if b.model.model_id == "whisper-tiny.en")
    source = whisper.files["model.bin"]
    size_mb = source.stat().st_size / 1e6
    with tempfile.TemporaryDirectory() as tmp:
        token = secrets.token_urlsafe(16)
        hub = HubServer(HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=f"{tmp}/hub",
                                    operator_token=token))
        await hub.start()
        try:
            client = HubClient(f"127.0.0.1:{hub.grpc_port}", token)
            await asyncio.to_thread(client.publish_files, {"model.bin": source}, whisper.model, whisper.version)
            models = await asyncio.to_thread(client.list_models)
            sha = models[0].versions[0].files[0].sha256
            blob = hub.blobs.path(sha)

            def grpc_download() -> int:
                return sum(len(c.data) for c in client.download(whisper.model.model_id, whisper.version, "model.bin"))

            async def http_download() -> int:
                url = f"http://127.0.0.1:{hub.http_port}/v1/models/{whisper.model.model_id}/{whisper.version}/model.bin"
                n = 0
                async with httpx.AsyncClient(timeout=60) as http, http.stream("GET", url) as response:
                    async for data in response.aiter_bytes(1024 * 1024):
                        n += len(data)
                return n

            def copy() -> int:
                shutil.copyfile(blob, Path(tmp) / "copy.bin")
                return (Path(tmp) / "copy.bin").stat().st_size

            times: dict[str, list[float]] = {"file copy": [], "gRPC DownloadFile": [], "HTTP GET": []}
            for _ in range(args.runs):
                for name in times:
                    start = time.perf_counter()
                    if name == "HTTP GET":
                        n = await http_download()
                    else:
                        n = await asyncio.to_thread(copy if name == "file copy" else grpc_download)
                    times[name].append(time.perf_counter() - start)
                    assert n == source.stat().st_size, (name, n)
        finally:
            await hub.stop()
    base = statistics.median(times["file copy"])
    print(f"hub downloads over loopback: {size_mb:.1f} MB file, {args.runs} runs each (medians)")
    print(f"{'path':<20} {'s':>8} {'MB/s':>9} {'x copy time':>12}")
    for name, values in times.items():
        s = statistics.median(values)
        print(f"{name:<20} {s:>8.3f} {size_mb / s:>9.1f} {s / base:>12.1f}")


if __name__ == "__main__":
    asyncio.run(main())
