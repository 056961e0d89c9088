#!/usr/bin/env python3
"""Gateway overhead: each front door (REST, WebSocket, grpc-web, public gRPC) against calling the
scheduler directly, the same Piper-spoken WAV, interleaved in the same run (p50/p99, ratio of medians);
then how many small authenticated requests per second the gateway sustains.

Scheduler, node and gateway run as separate processes (`python -m …`), as in production; the benchmark
client runs here. On 2 cores the node's inference dominates translation latency, so the interesting
column is the added milliseconds.

    .venv/bin/python bench/gateway.py [--runs 10] [--rps-seconds 5] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import io
import json
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc
import httpx
import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc  # noqa: E402
from lingua_common.audio import encode_wav  # noqa: E402
from tests.helpers.gateway import create_tenant  # noqa: E402
from tests.helpers.grpcweb import GrpcWebClient  # noqa: E402

SENTENCE = "I am here on vacation with my family."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def process(args: list[str], env: dict[str, str], ready: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """A service process, up once it prints `ready`; SIGTERM at the end."""
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=ROOT, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        line = b""
        while ready.encode() not in line:
            line = await proc.stdout.readline()
            if not line:
                raise RuntimeError(f"{args} exited with {await proc.wait()}")
        yield proc
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


def speech() -> tuple[bytes, int, bytes]:
    from node_svc.engines.tts import PiperTts

    tts = PiperTts()
    pcm = b"".join(c.pcm16 for c in tts.synthesize(SENTENCE, "en"))
    return encode_wav(pcm, tts.sample_rate), tts.sample_rate, pcm


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_node(sched: str) -> None:
    from lingua.v1 import admin_pb2, admin_pb2_grpc

    async with grpc.aio.insecure_channel(sched) as channel:
        admin = admin_pb2_grpc.SchedulerAdminStub(channel)
        for _ in range(600):
            nodes = (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes
            if any(n.state == 2 for n in nodes):  # NODE_STATE_READY
                return
            await asyncio.sleep(0.2)
    raise RuntimeError("no node became ready")


class Doors:
    """One callable per way in; each returns when the translation of the WAV is back."""

    def __init__(self, sched: str, http_url: str, grpc_addr: str, key: str, wav: bytes, rate: int,
                 pcm: bytes) -> None:
        self.sched, self.http_url, self.grpc_addr, self.key = sched, http_url, grpc_addr, key
        self.wav, self.rate, self.pcm = wav, rate, pcm
        self.auth = (("authorization", f"Bearer {key}"),)
        self.audio = common_pb2.Audio(data=wav, encoding=common_pb2.WAV)

    async def __aenter__(self) -> Doors:
        self.direct = grpc.aio.insecure_channel(self.sched)
        self.public = grpc.aio.insecure_channel(self.grpc_addr)
        self.http = httpx.AsyncClient(base_url=self.http_url, timeout=120)
        self.web = GrpcWebClient(self.http, self.http_url, self.key)
        self.web_text = GrpcWebClient(self.http, self.http_url, self.key, text=True)
        self.ws = await websockets.connect(self.http_url.replace("http", "ws") + f"/v1/stream?api_key={self.key}",
                                           max_size=None)
        await self.ws.send(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr",
                                       "sample_rate_hz": self.rate, "streaming_asr": False}))
        assert json.loads(await self.ws.recv())["type"] == "started"
        self.direct_conv = await self._converse(session_pb2_grpc.SessionServiceStub(self.direct), ())
        self.public_conv = await self._converse(session_pb2_grpc.SessionServiceStub(self.public), self.auth)
        self.index = {"direct": 0, "public": 0}
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()
        for call in (self.direct_conv, self.public_conv):
            call.cancel()
        await self.http.aclose()
        await self.direct.close()
        await self.public.close()

    @staticmethod
    async def _converse(stub: session_pb2_grpc.SessionServiceStub, metadata: tuple[tuple[str, str], ...]) -> object:
        call = stub.Converse(metadata=metadata)
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr")))
        assert (await call.read()).HasField("opened")
        return call

    def request(self) -> session_pb2.TranslateRequest:
        return session_pb2.TranslateRequest(audio=self.audio, src_lang="en", tgt_lang="fr")

    async def scheduler_translate(self) -> None:
        await session_pb2_grpc.SessionServiceStub(self.direct).Translate(self.request())

    async def grpc_translate(self) -> None:
        await session_pb2_grpc.SessionServiceStub(self.public).Translate(self.request(), metadata=self.auth)

    async def rest(self) -> None:
        r = await self.http.post("/v1/speech/translate", headers={"Authorization": f"Bearer {self.key}"},
                                 files={"audio": ("a.wav", self.wav, "audio/wav")},
                                 data={"src_lang": "en", "tgt_lang": "fr"})
        assert r.status_code == 200, r.text

    async def grpc_web(self) -> None:
        assert (await self.web.unary("Translate", self.request())).status == 0

    async def grpc_web_text(self) -> None:
        assert (await self.web_text.unary("Translate", self.request())).status == 0

    async def _utterance(self, call: object, which: str) -> None:
        index = self.index[which]
        self.index[which] += 1
        await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(  # type: ignore[attr-defined]
            utterance_index=index, audio=self.audio)))
        while True:
            msg = await call.read()  # type: ignore[attr-defined]
            if msg.HasField("result") or msg.HasField("error"):
                assert msg.HasField("result"), msg
                return

    async def scheduler_converse(self) -> None:
        await self._utterance(self.direct_conv, "direct")

    async def grpc_converse(self) -> None:
        await self._utterance(self.public_conv, "public")

    async def websocket(self) -> None:
        half = len(self.pcm) // 4 * 2
        await self.ws.send(json.dumps({"type": "audio", "data": base64.b64encode(self.pcm[:half]).decode()}))
        await self.ws.send(self.pcm[half:])
        await self.ws.send('{"type": "end_utterance"}')
        while True:
            frame = json.loads(await self.ws.recv())
            if frame["type"] in ("result", "error"):
                assert frame["type"] == "result", frame
                return


async def latency_table(doors: Doors, runs: int) -> None:
    groups: list[tuple[str, list[tuple[str, Callable[[], Awaitable[None]]]]]] = [
        ("one-shot (Translate)", [("scheduler gRPC (direct)", doors.scheduler_translate),
                                  ("gateway public gRPC", doors.grpc_translate), ("gateway REST", doors.rest),
                                  ("gateway grpc-web+proto", doors.grpc_web),
                                  ("gateway grpc-web-text", doors.grpc_web_text)]),
        ("utterance in an open session", [("scheduler Converse (direct)", doors.scheduler_converse),
                                          ("gateway public Converse", doors.grpc_converse),
                                          ("gateway WebSocket", doors.websocket)]),
    ]
    for _title, calls in groups:  # warm-up: first calls load lazily on the node
        for _name, call in calls:
            await call()
    print(f"front-door latency, same WAV ({SENTENCE!r}), {runs} interleaved runs each")
    print(f"{'door':<30} {'p50 ms':>9} {'p99 ms':>9} {'+ms vs direct':>14} {'x direct':>9}")
    for title, calls in groups:
        times: dict[str, list[float]] = {name: [] for name, _ in calls}
        for _ in range(runs):
            for name, call in calls:
                start = time.perf_counter()
                await call()
                times[name].append((time.perf_counter() - start) * 1000)
        base = statistics.median(times[calls[0][0]])
        print(f"-- {title}")
        for name, values in times.items():
            med = statistics.median(values)
            print(f"{name:<30} {med:>9.1f} {pct(values, 0.99):>9.1f} {med - base:>+14.1f} {med / base:>9.3f}")


async def hammer(port: int, path: str, headers: dict[str, str], deadline: float, latencies: list[float]) -> int:
    """GETs back to back on one keep-alive connection until the deadline; returns how many were not 200.

    A bare HTTP/1.1 client (not httpx): on 2 shared cores a heavy client would measure itself, not the gateway.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
    failures = 0
    try:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append((time.perf_counter() - start) * 1000)
            failures += not head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()
    return failures


async def throughput(port: int, key: str, seconds: float, concurrency: int) -> None:
    print(f"\nsmall requests through the gateway ({concurrency} keep-alive connections, {seconds:.0f} s each)")
    print(f"{'request':<34} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8}")
    for label, path, headers in (("GET /healthz (no key)", "/healthz", {}),
                                 ("GET /v1/whoami (API key + rate)", "/v1/whoami",
                                  {"Authorization": f"Bearer {key}"})):
        latencies: list[float] = []
        started = time.perf_counter()
        failures = await asyncio.gather(*(hammer(port, path, headers, started + seconds, latencies)
                                          for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
        print(f"{label:<34} {len(latencies) / elapsed:>9.0f} {pct(latencies, 0.5):>8.1f} "
              f"{pct(latencies, 0.99):>8.1f} {sum(failures):>8}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--rps-seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    wav, rate, pcm = speech()
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getframerate() == rate
    sched_port, http_port, grpc_port = free_port(), free_port(), free_port()
    sched = f"127.0.0.1:{sched_port}"
    with tempfile.TemporaryDirectory() as tmp:
        gateway_env = {"LINGUA_GATEWAY_HOST": "127.0.0.1", "LINGUA_GATEWAY_HTTP_PORT": str(http_port),
                       "LINGUA_GATEWAY_GRPC_PORT": str(grpc_port), "LINGUA_GATEWAY_SCHEDULER": sched,
                       "LINGUA_GATEWAY_DATA_DIR": tmp}
        key = await create_tenant(gateway_env, requests_per_second=1e6, burst=1_000_000)
        async with (
            process(["-m", "scheduler_svc"], {"LINGUA_SCHEDULER_PORT": str(sched_port),
                                              "LINGUA_SCHEDULER_HOST": "127.0.0.1",
                                              "LINGUA_SCHEDULER_METRICS_PORT": "-1"}, "scheduler ready"),
            process(["-m", "node_svc"], {"LINGUA_NODE_SCHEDULER": sched, "LINGUA_NODE_CONTROL_PORT": "-1"},
                    "node ready"),
            process(["-m", "gateway"], gateway_env, "gateway ready"),
        ):
            await wait_node(sched)
            async with Doors(sched, f"http://127.0.0.1:{http_port}", f"127.0.0.1:{grpc_port}", key, wav, rate,
                             pcm) as doors:
                await latency_table(doors, args.runs)
            await throughput(http_port, key, args.rps_seconds, args.concurrency)


if __name__ == "__main__":
    asyncio.run(main())
