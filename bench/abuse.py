#!/usr/bin/env python3
"""Hostile clients against a real scheduler and gateway (issue 16): RSS and responsiveness under each attack,
next to the same figures at rest, in one run.

A scheduler (`python -m scheduler_svc`, memory://, no node) and a gateway (`python -m gateway`, trusting the
bench as a proxy so each bad-key request can come from its own address) run as processes on loopback. Attacks,
each a bounded loop:

  register/drop   N node streams that register, then vanish
  pairing         N wrong pairing codes (OpenSession)
  huge-index      N utterances with indices near 2^64 (over a few sessions)
  bombs           N decompression bombs (0.5 MB FLAC of 3 h of silence) through the gateway's public gRPC
  unread          N sessions that send utterances and never read what comes back
  bad-keys        N requests with distinct made-up API keys from distinct addresses (gateway REST)

Event-loop lag inside a process cannot be seen from outside, so the PROXY measured is the latency of a health
check sampled every 20 ms from a separate thread of this bench: gRPC Health/Check for the scheduler, GET
/healthz for the gateway (median / p99 over the phase). RSS (VmRSS) of each process is sampled at the same
rate: before the phase, its peak during it, and after it (once the attack's connections are closed). The
issue's targets (RSS growth <= 50 MB, lag p99 <= 50 ms) are printed beside each row; nothing fails on a number.

    .venv/bin/python bench/abuse.py [--scale 1.0] [--json FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grpc
import httpx
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc, session_pb2, session_pb2_grpc  # noqa: E402
from tests.helpers.bombs import silence_flac  # noqa: E402
from tests.helpers.gateway import create_tenant  # noqa: E402

SAMPLE_S = 0.02
TARGET_RSS_MB, TARGET_P99_MS = 50.0, 50.0
PCM = common_pb2.Audio(data=bytes(320), encoding=common_pb2.PCM16, sample_rate_hz=16000)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextlib.asynccontextmanager
async def process(args: list[str], env: dict[str, str], ready: str) -> AsyncIterator[tuple[psutil.Process, str]]:
    """A service process, up once it prints a line matching `ready` (returned); SIGTERM at the end."""
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=ROOT, env={**os.environ, **env},
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    try:
        while not (match := re.search(ready, (line := (await proc.stdout.readline()).decode()))):
            if not line:
                raise RuntimeError(f"{args} exited with {await proc.wait()}")
        yield psutil.Process(proc.pid), match.group(1)
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 30)


def rss_mb(proc: psutil.Process) -> float:
    return float(proc.memory_info().rss) / 2**20


class Sampler(threading.Thread):
    """Every 20 ms, in its own thread: one health check of each service (latency) and both processes' RSS."""

    def __init__(self, scheduler: str, gateway_http: str, procs: dict[str, psutil.Process]) -> None:
        super().__init__(daemon=True)
        self.scheduler, self.gateway_http, self.procs = scheduler, gateway_http, procs
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"scheduler": [], "gateway": []}
        self.peak: dict[str, float] = {name: 0.0 for name in procs}

    def reset(self) -> None:
        with self.lock:
            self.latency = {"scheduler": [], "gateway": []}
            self.peak = {name: rss_mb(p) for name, p in self.procs.items()}

    def take(self) -> tuple[dict[str, list[float]], dict[str, float]]:
        with self.lock:
            return {k: list(v) for k, v in self.latency.items()}, dict(self.peak)

    def run(self) -> None:
        with grpc.insecure_channel(self.scheduler) as channel, httpx.Client(timeout=5) as http:
            health = health_pb2_grpc.HealthStub(channel)
            while not self.stopped.is_set():
                started = time.perf_counter()
                try:
                    health.Check(health_pb2.HealthCheckRequest(), timeout=5)
                    sched_ms = (time.perf_counter() - started) * 1000
                except grpc.RpcError:
                    sched_ms = 5000.0
                started = time.perf_counter()
                try:
                    http.get(self.gateway_http + "/healthz")
                    gw_ms = (time.perf_counter() - started) * 1000
                except httpx.HTTPError:
                    gw_ms = 5000.0
                with self.lock:
                    self.latency["scheduler"].append(sched_ms)
                    self.latency["gateway"].append(gw_ms)
                    for name, proc in self.procs.items():
                        self.peak[name] = max(self.peak[name], rss_mb(proc))
                self.stopped.wait(max(0.0, SAMPLE_S - (time.perf_counter() - started)))


@dataclass
class Row:
    attack: str
    count: int
    seconds: float
    outcome: str
    lag_ms: dict[str, tuple[float, float]] = field(default_factory=dict)  # service -> (median, p99)
    rss_mb: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # service -> before, peak, after


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values) or [0.0]
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def bounded(count: int, concurrency: int, one: Callable[[int], Awaitable[str]]) -> dict[str, int]:
    """Run one(i) for i in range(count), `concurrency` at a time; tally what each returned."""
    tally: dict[str, int] = {}
    queue = iter(range(count))

    async def worker() -> None:
        for i in queue:
            try:
                what = await one(i)
            except grpc.aio.AioRpcError as exc:
                what = exc.code().name
            except (httpx.HTTPError, OSError, TimeoutError) as exc:
                what = type(exc).__name__
            tally[what] = tally.get(what, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return tally


class Attacks:
    def __init__(self, scheduler: str, gateway_grpc: str, gateway_http: str, key: str, scale: float) -> None:
        self.scheduler, self.gateway_grpc, self.gateway_http, self.key = scheduler, gateway_grpc, gateway_http, key
        self.n = lambda count: max(1, int(count * scale))

    async def register_drop(self) -> tuple[int, dict[str, int]]:
        count = self.n(10_000)
        async with grpc.aio.insecure_channel(self.scheduler) as channel:
            stub = node_pb2_grpc.NodeServiceStub(channel)

            async def one(i: int) -> str:
                call = stub.Connect()
                await call.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(
                    version="abuse", platform="bench", max_concurrent_jobs=1, display_name=f"ghost-{i}")))
                reply = await asyncio.wait_for(call.read(), 10)
                call.cancel()  # gone without a word
                return "registered" if reply.HasField("registered") else "refused"

            return count, await bounded(count, 50, one)

    async def pairing(self) -> tuple[int, dict[str, int]]:
        count = self.n(10_000)
        async with grpc.aio.insecure_channel(self.scheduler) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)

            async def one(i: int) -> str:
                try:
                    await stub.OpenSession(session_pb2.OpenSessionRequest(
                        src_lang="en", tgt_lang="fr", pairing_code=f"{secrets.randbelow(10**6):06d}"), timeout=10)
                except grpc.aio.AioRpcError as exc:
                    from lingua_common.errors import code_name, error_from_rpc
                    return code_name(error_from_rpc(exc).code)
                return "opened"

            return count, await bounded(count, 50, one)

    async def huge_index(self) -> tuple[int, dict[str, int]]:
        count, sessions = self.n(1000), 10
        tally: dict[str, int] = {}
        async with grpc.aio.insecure_channel(self.scheduler) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)

            async def session(s: int) -> None:
                call = stub.Converse()
                await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                                tgt_lang="fr")))
                await asyncio.wait_for(call.read(), 10)
                mine = range(s, count, sessions)
                for i in mine:
                    await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                        utterance_index=2**64 - 1 - i, audio=PCM)))
                for _ in mine:
                    msg = await asyncio.wait_for(call.read(), 30)
                    what = common_pb2.ErrorCode.Name(msg.error.code) if msg.HasField("error") else "other"
                    tally[what] = tally.get(what, 0) + 1
                call.cancel()

            await asyncio.gather(*(session(s) for s in range(sessions)))
        return count, tally

    async def bombs(self) -> tuple[int, dict[str, int]]:
        count, bomb = self.n(100), silence_flac()
        auth = (("authorization", f"Bearer {self.key}"),)
        async with grpc.aio.insecure_channel(self.gateway_grpc) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)

            async def one(i: int) -> str:
                try:
                    await stub.Translate(session_pb2.TranslateRequest(
                        audio=common_pb2.Audio(data=bomb, encoding=common_pb2.FLAC), src_lang="en", tgt_lang="fr"),
                        metadata=auth, timeout=60)
                except grpc.aio.AioRpcError as exc:
                    from lingua_common.errors import code_name, error_from_rpc
                    return code_name(error_from_rpc(exc).code)
                return "translated"

            return count, await bounded(count, 4, one)

    async def unread(self) -> tuple[int, dict[str, int]]:
        count, each = self.n(1000), 20
        async with grpc.aio.insecure_channel(self.scheduler) as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            calls = []
            for _ in range(count):
                call = stub.Converse()
                await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en",
                                                                                                tgt_lang="fr")))
                for i in range(each):
                    await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(utterance_index=i,
                                                                                                audio=PCM)))
                calls.append(call)  # never read
            await asyncio.sleep(2.0)  # bench pacing: let the outcomes pile up unread before letting go
            for call in calls:
                call.cancel()
        return count, {f"sessions x {each} utterances, unread": count}

    async def bad_keys(self) -> tuple[int, dict[str, int]]:
        count = self.n(10_000)
        async with httpx.AsyncClient(base_url=self.gateway_http, timeout=10,
                                     limits=httpx.Limits(max_connections=32)) as http:
            async def one(i: int) -> str:
                reply = await http.get("/v1/whoami", headers={
                    "Authorization": f"Bearer lk_{i:09d}{secrets.token_urlsafe(30)}",
                    "X-Forwarded-For": f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"})
                return str(reply.status_code)

            return count, await bounded(count, 32, one)


async def phase(name: str, sampler: Sampler, procs: dict[str, psutil.Process],
                attack: Callable[[], Awaitable[tuple[int, dict[str, int]]]] | None, rest_s: float) -> Row:
    before = {n: rss_mb(p) for n, p in procs.items()}
    sampler.reset()
    started = time.perf_counter()
    if attack is None:
        await asyncio.sleep(rest_s)  # bench pacing: sample an idle system for this long
        count, tally = 0, {}
    else:
        count, tally = await attack()
    seconds = time.perf_counter() - started
    latency, peak = sampler.take()
    await asyncio.sleep(1.0)  # bench pacing: let the processes release what the attack's connections held
    after = {n: rss_mb(p) for n, p in procs.items()}
    outcome = ", ".join(f"{k} {v}" for k, v in sorted(tally.items(), key=lambda kv: -kv[1])) or "-"
    return Row(name, count, seconds, outcome,
               {s: (statistics.median(v or [0.0]), pct(v, 0.99)) for s, v in latency.items()},
               {n: (before[n], peak[n], after[n]) for n in procs})


def print_table(rows: list[Row]) -> None:
    print(f"\nabuse: scheduler and gateway processes under attack (loopback, {psutil.cpu_count()} cores)")
    print("lag = latency of a health check sampled every 20 ms from this bench (a proxy for event-loop lag)")
    print(f"targets: RSS growth (peak - before) <= {TARGET_RSS_MB:.0f} MB, lag p99 <= {TARGET_P99_MS:.0f} ms\n")
    head = (f"{'attack':<14} {'n':>6} {'s':>6}  {'sched lag p50/p99 ms':>21}  {'gw lag p50/p99 ms':>18}  "
            f"{'sched RSS before/peak/after MB':>31}  {'gw RSS before/peak/after MB':>28}  verdict")
    print(head)
    for r in rows:
        (s50, s99), (g50, g99) = r.lag_ms["scheduler"], r.lag_ms["gateway"]
        sb, sp, sa = r.rss_mb["scheduler"]
        gb, gp, ga = r.rss_mb["gateway"]
        holds = max(sp - sb, gp - gb) <= TARGET_RSS_MB and max(s99, g99) <= TARGET_P99_MS
        print(f"{r.attack:<14} {r.count:>6} {r.seconds:>6.1f}  {s50:>10.1f}/{s99:<10.1f}  {g50:>8.1f}/{g99:<9.1f}  "
              f"{sb:>9.0f}/{sp:>6.0f}/{sa:<14.0f}  {gb:>8.0f}/{gp:>6.0f}/{ga:<12.0f}  "
              f"{'HOLDS' if holds else 'DOES NOT HOLD'}")
    print("\noutcomes (what the attacker got back):")
    for r in rows:
        print(f"  {r.attack:<14} {r.outcome}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every attack's count (0.1: quick run)")
    parser.add_argument("--rest-s", type=float, default=3.0, help="seconds sampled at rest")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args()
    log("making the decompression bomb (sox) ...")
    silence_flac()
    with tempfile.TemporaryDirectory() as tmp:
        sched_env = {"LINGUA_SCHEDULER_HOST": "127.0.0.1", "LINGUA_SCHEDULER_PORT": "0",
                     "LINGUA_SCHEDULER_METRICS_PORT": "-1"}
        async with process(["-m", "scheduler_svc"], sched_env, r"ready on ([\d.]+:\d+)") as (sched, sched_addr):
            gw_env = {"LINGUA_GATEWAY_HOST": "127.0.0.1", "LINGUA_GATEWAY_HTTP_PORT": "0",
                      "LINGUA_GATEWAY_GRPC_PORT": "0", "LINGUA_GATEWAY_DATA_DIR": tmp,
                      "LINGUA_GATEWAY_SCHEDULER": sched_addr, "LINGUA_GATEWAY_TRUSTED_PROXIES": "127.0.0.1"}
            key = await create_tenant(gw_env, requests_per_second=100_000.0, burst=100_000,
                                      max_concurrent_sessions=1000, audio_seconds_per_day=10_000_000)
            async with process(["-m", "gateway"], gw_env, r"gateway ready: HTTP ([\d.]+:\d+)") as (gw, http_addr):
                grpc_port = next(c.laddr.port for c in gw.net_connections("tcp")
                                 if c.status == psutil.CONN_LISTEN and c.laddr.port != int(http_addr.split(":")[1]))
                procs = {"scheduler": sched, "gateway": gw}
                sampler = Sampler(sched_addr, f"http://{http_addr}", procs)
                sampler.start()
                attacks = Attacks(sched_addr, f"127.0.0.1:{grpc_port}", f"http://{http_addr}", key, args.scale)
                plan: list[tuple[str, Callable[[], Awaitable[tuple[int, dict[str, int]]]] | None]] = [
                    ("at rest", None), ("register/drop", attacks.register_drop), ("pairing", attacks.pairing),
                    ("huge-index", attacks.huge_index), ("bombs", attacks.bombs), ("unread", attacks.unread),
                    ("bad-keys", attacks.bad_keys), ("at rest", None)]
                rows = []
                for name, attack in plan:
                    log(f"{name} ...")
                    rows.append(await phase(name, sampler, procs, attack, args.rest_s))
                sampler.stopped.set()
    print_table(rows)
    if args.json:
        await asyncio.to_thread(Path(args.json).write_text, json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    asyncio.run(main())
