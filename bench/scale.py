#!/usr/bin/env python3
"""Scheduler scale-out: dispatch throughput and latency with 1 vs 3 instances, and a cross-instance hop.

Every scenario starts real scheduler processes (`python -m scheduler_svc`), fake nodes that answer each
JobAssign at once with job_ack + a successful JobResult (so only the scheduler path is timed), and
Converse sessions that keep --in-flight utterances outstanding each. Latency is client send -> result
received (time.monotonic_ns in this process); throughput is results per second over the whole run.

Scenarios (same machine, same run):
  1 x memory://    one instance, state in memory (today's default)
  1 x redis://     one instance with the Redis state layer (reservations, job records in Redis)
  3 x redis://     three instances; nodes and sessions spread evenly, so 2/3 of jobs cross instances
  hop: local       two instances, sessions and nodes on instance A (no hop)
  hop: remote      two instances, sessions on A, every node on B (every job crosses: A -> Redis -> B -> node
                   -> B -> Redis -> A)

These are measurements, not tests: nothing fails on a slow number. The fake nodes and the clients run in
this process; on a 2-core machine they, Redis and the schedulers share the cores, so 3 instances cannot
add CPU, only add work: each job costs the Redis layer a few round trips (reserve, record, release,
finish) of Python client CPU, and a cross-instance job adds two stream hops. Scale-out pays where each
instance has cores of its own; what this run shows is the per-job price of sharing state.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lingua.v1 import (  # noqa: E402
    admin_pb2,
    admin_pb2_grpc,
    common_pb2,
    node_pb2,
    node_pb2_grpc,
    session_pb2,
    session_pb2_grpc,
)

AUDIO = common_pb2.Audio(data=bytes(3200), encoding=common_pb2.PCM16, sample_rate_hz=16000)
MODELS = [
    node_pb2.InstalledModel(model_id="asr", kind=node_pb2.MODEL_KIND_ASR, languages=["en"]),
    node_pb2.InstalledModel(model_id="tts", kind=node_pb2.MODEL_KIND_TTS, languages=["en"]),
]


@dataclass
class Row:
    name: str
    instances: int
    results: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.results / self.seconds if self.seconds else 0.0


async def start_scheduler(state_url: str, prefix: str, name: str) -> tuple[asyncio.subprocess.Process, str]:
    env = dict(os.environ, LINGUA_SCHEDULER_HOST="127.0.0.1", LINGUA_SCHEDULER_PORT="0",
               LINGUA_SCHEDULER_METRICS_PORT="-1", LINGUA_SCHEDULER_STATE_URL=state_url,
               LINGUA_SCHEDULER_STATE_PREFIX=prefix, LINGUA_SCHEDULER_INSTANCE_ID=name,
               LINGUA_SCHEDULER_READY_AFTER_HEARTBEATS="0", LINGUA_SCHEDULER_HEARTBEAT_TIMEOUT_MS="600000",
               LINGUA_SCHEDULER_CLUSTER_HEARTBEAT_MS="500")
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "scheduler_svc", env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
    assert proc.stdout is not None
    line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
    match = re.search(r"ready on ([\d.]+:\d+)", line)
    if not match:
        raise RuntimeError(f"scheduler did not start: {line!r}")
    return proc, match.group(1)


async def fake_node(address: str, max_jobs: int, stop: asyncio.Event) -> None:
    """A node stream that finishes every job at once."""
    async with grpc.aio.insecure_channel(address) as channel:
        call = node_pb2_grpc.NodeServiceStub(channel).Connect()
        await call.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(
            installed_models=MODELS, max_concurrent_jobs=max_jobs, version="bench")))
        await call.read()
        reader = asyncio.ensure_future(call.read())
        stopper = asyncio.ensure_future(stop.wait())
        while True:
            done, _ = await asyncio.wait({reader, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if stopper in done:
                reader.cancel()
                call.cancel()
                return
            msg = reader.result()
            if msg is grpc.aio.EOF:
                return
            if msg.HasField("job_assign"):
                a = msg.job_assign
                ack = node_pb2.JobAck(job_id=a.job_id, attempt_id=a.attempt_id)
                await call.write(node_pb2.NodeMessage(job_ack=ack))
                await call.write(node_pb2.NodeMessage(job_result=node_pb2.JobResult(
                    job_id=a.job_id, attempt_id=a.attempt_id, success=True, processing_ms=0,
                    result=common_pb2.TranslationResult(text_asr="x", text_translated="x"))))
            reader = asyncio.ensure_future(call.read())


async def session(address: str, utterances: int, in_flight: int, latencies: list[float]) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        call = session_pb2_grpc.SessionServiceStub(channel).Converse()
        await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en")))
        session_id = (await call.read()).opened.session_id
        window = asyncio.Semaphore(in_flight)
        sent: dict[int, int] = {}
        results = 0

        async def write() -> None:
            for i in range(utterances):
                await window.acquire()
                sent[i] = time.monotonic_ns()
                await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                    session_id=session_id, utterance_index=i, audio=AUDIO)))

        writer = asyncio.create_task(write())
        got = 0
        while got < utterances:
            msg = await call.read()
            if msg.HasField("result") or (msg.HasField("error") and msg.error.HasField("utterance_index")):
                index = msg.result.utterance_index if msg.HasField("result") else msg.error.utterance_index
                latencies.append((time.monotonic_ns() - sent[index]) / 1e6)
                results += msg.HasField("result")
                got += 1
                window.release()
        await writer
        await call.done_writing()
        return results


async def wait_nodes(address: str, count: int) -> None:
    deadline = time.monotonic() + 60
    async with grpc.aio.insecure_channel(address) as channel:
        admin = admin_pb2_grpc.SchedulerAdminStub(channel)
        while True:
            reply = await admin.ListNodes(admin_pb2.ListNodesRequest(states=[node_pb2.NODE_STATE_READY]))
            if len(reply.nodes) >= count:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(reply.nodes)}/{count} nodes ready at {address}")
            await asyncio.sleep(0.2)


async def scenario(name: str, state_url: str, instances: int, node_at: list[int], session_at: list[int],
                   args: argparse.Namespace) -> Row:
    prefix = f"lingua-bench-{secrets.token_hex(4)}"
    procs, addresses = [], []
    stop = asyncio.Event()
    nodes: list[asyncio.Task[None]] = []
    try:
        for i in range(instances):
            proc, address = await start_scheduler(state_url, prefix, f"bench-{i}")
            procs.append(proc)
            addresses.append(address)
        nodes = [asyncio.create_task(fake_node(addresses[i], args.max_jobs, stop)) for i in node_at]
        for address in addresses:
            await wait_nodes(address, len(node_at))
        await asyncio.gather(*(session(addresses[i], 3, 1, []) for i in session_at))  # warm up
        latencies: list[float] = []
        started = time.monotonic()
        results = await asyncio.gather(*(session(addresses[i], args.utterances, args.in_flight, latencies)
                                         for i in session_at))
        seconds = time.monotonic() - started
        q = statistics.quantiles(latencies, n=100)
        return Row(name, instances, sum(results), seconds, statistics.median(latencies), q[98])
    finally:
        stop.set()
        await asyncio.gather(*nodes, return_exceptions=True)
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            await proc.wait()
        if state_url.startswith("redis"):
            from redis.asyncio import Redis

            redis = Redis.from_url(state_url)
            found = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
            if found:
                await redis.delete(*found)
            await redis.aclose()


async def main(args: argparse.Namespace) -> None:
    n, s = args.nodes, args.sessions
    spread = (list(range(3)) * n)[:n], (list(range(3)) * s)[:s]
    plans = [
        ("1 x memory://", "memory://", 1, [0] * n, [0] * s),
        ("1 x redis://", args.redis, 1, [0] * n, [0] * s),
        ("3 x redis://", args.redis, 3, spread[0], spread[1]),
        ("hop: local (2 x redis://)", args.redis, 2, [0] * n, [0] * s),
        ("hop: remote (2 x redis://)", args.redis, 2, [1] * n, [0] * s),
    ]
    rows = []
    for plan in plans:
        print(f"running {plan[0]} ...", file=sys.stderr, flush=True)
        rows.append(await scenario(*plan, args))
    base = rows[0]
    print(f"\n{n} fake nodes (max {args.max_jobs} jobs each), {s} sessions x {args.utterances} utterances, "
          f"{args.in_flight} in flight per session; {os.cpu_count()} CPUs\n")
    print(f"{'scenario':<28} {'inst':>4} {'results/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'thr. ratio':>10} "
          f"{'p50 ratio':>9}")
    for r in rows:
        print(f"{r.name:<28} {r.instances:>4} {r.per_s:>10.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
              f"{r.per_s / base.per_s:>10.2f} {r.p50_ms / base.p50_ms:>9.2f}")
    local, remote = rows[3], rows[4]
    print(f"\ncross-instance hop adds {remote.p50_ms - local.p50_ms:.2f} ms at p50, "
          f"{remote.p99_ms - local.p99_ms:.2f} ms at p99 (remote / local p50 = {remote.p50_ms / local.p50_ms:.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--nodes", type=int, default=12)
    parser.add_argument("--max-jobs", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=24)
    parser.add_argument("--utterances", type=int, default=40)
    parser.add_argument("--in-flight", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
