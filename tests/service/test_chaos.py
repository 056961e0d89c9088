"""Chaos: node processes killed with SIGKILL every 2 s and restarted while 10 sessions talk.

Every utterance must get exactly one outcome, in index order; at least 95 % must be results; and no job
may run on two nodes at once (checked from the nodes' own job logs). The nodes are separate processes
running the real NodeAgent over real gRPC, with a stand-in pipeline (tests/helpers/chaos_node.py says
why); the scheduler is the real one, in this process.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import sys
import time
from pathlib import Path

import grpc
import pytest

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from tests.helpers.mesh import outcome_index, running_scheduler

pytestmark = pytest.mark.slow

NODES, SESSIONS, UTTERANCES, IN_FLIGHT = 5, 10, 30, 3


class Fleet:
    """Node processes, each with its own job log; kill and restart them."""

    def __init__(self, address: str, log_dir: Path) -> None:
        self.address, self.log_dir = address, log_dir
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.kills: dict[str, int] = {}  # job log file -> monotonic ns of the SIGKILL
        self.generation = 0

    async def start(self, slot: int) -> None:
        self.generation += 1
        log = self.log_dir / f"node-{slot}-{self.generation}.jsonl"
        env = dict(os.environ, LINGUA_NODE_SCHEDULER=self.address, LINGUA_NODE_MAX_CONCURRENT_JOBS="1",
                   LINGUA_NODE_CPU_THREADS="1", LINGUA_NODE_WARM_UP="false", LINGUA_NODE_JOB_LOG=str(log),
                   LINGUA_NODE_RECONNECT_INITIAL_MS="100")
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "tests.helpers.chaos_node", env=env,
                                                    stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.DEVNULL)
        proc.log = log  # type: ignore[attr-defined]
        self.procs[slot] = proc

    async def kill_and_restart(self, slot: int) -> None:
        proc = self.procs[slot]
        proc.send_signal(signal.SIGKILL)
        self.kills[str(proc.log)] = time.monotonic_ns()  # type: ignore[attr-defined]
        await proc.wait()
        await self.start(slot)

    async def stop(self) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                proc.kill()
            await proc.wait()


async def _session(stub: session_pb2_grpc.SessionServiceStub, audios: list[object]) -> list[session_pb2.ServerMessage]:
    call = stub.Converse()
    await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en")))
    session_id = (await call.read()).opened.session_id
    window = asyncio.Semaphore(IN_FLIGHT)
    outcomes: list[session_pb2.ServerMessage] = []

    async def read() -> None:
        while len(outcomes) < UTTERANCES:
            msg = await call.read()
            assert msg is not grpc.aio.EOF
            if msg.HasField("result") or (msg.HasField("error") and msg.error.HasField("utterance_index")):
                outcomes.append(msg)
                window.release()

    reader = asyncio.create_task(read())
    for i in range(UTTERANCES):
        await window.acquire()
        await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=session_id, utterance_index=i, audio=audios[i % len(audios)])))  # type: ignore[arg-type]
    await reader
    await call.done_writing()
    return outcomes


def _overlaps(log_dir: Path, kills: dict[str, int]) -> list[str]:
    """Jobs whose attempts ran at the same time on two nodes."""
    runs: dict[str, list[tuple[int, int, str]]] = {}
    for path in log_dir.glob("*.jsonl"):
        started: dict[tuple[str, int], int] = {}
        for line in path.read_text().splitlines():
            e = json.loads(line)
            key = (e["job_id"], e["attempt"])
            if e["event"] == "start":
                started[key] = e["t_ns"]
            elif key in started:
                runs.setdefault(e["job_id"], []).append((started.pop(key), e["t_ns"], path.name))
        for (job_id, _attempt), t0 in started.items():  # killed mid-job: it ran until the SIGKILL
            runs.setdefault(job_id, []).append((t0, kills.get(str(path), time.monotonic_ns()), path.name))
    bad = []
    for job_id, spans in runs.items():
        spans.sort()
        bad += [f"{job_id}: {a[2]} and {b[2]}" for a, b in itertools.pairwise(spans) if b[0] < a[1]]
    return bad


async def test_nodes_killed_every_two_seconds_lose_nothing(tmp_path: Path) -> None:
    audios = [common_pb2.Audio(data=bytes(3200 * (i + 1)), encoding=common_pb2.PCM16, sample_rate_hz=16000)
              for i in range(3)]
    rng = random.Random(42)
    async with running_scheduler(queue_timeout_ms=60_000, result_grace_ms=60_000) as sched:
        fleet = Fleet(f"127.0.0.1:{sched.port}", tmp_path)
        try:
            for slot in range(NODES):
                await fleet.start(slot)
            deadline = time.monotonic() + 180
            while sum(n.state.value == "ready" for n in sched.mesh.registry.nodes.values()) < NODES:
                assert time.monotonic() < deadline, "nodes did not come up"
                await asyncio.sleep(0.2)
            async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
                stub = session_pb2_grpc.SessionServiceStub(channel)
                sessions = asyncio.gather(*(_session(stub, audios) for _ in range(SESSIONS)))
                kills = 0
                while not sessions.done():
                    await asyncio.wait([sessions], timeout=2)
                    if not sessions.done():
                        await fleet.kill_and_restart(rng.randrange(NODES))
                        kills += 1
                results = await sessions
        finally:
            await fleet.stop()
        redispatched = sched.mesh.counters["redispatched"]
    total = SESSIONS * UTTERANCES
    for outcomes in results:
        assert [outcome_index(m) for m in outcomes] == list(range(UTTERANCES))  # one each, in order
        for m in outcomes:
            if m.HasField("result"):  # the result belongs to this utterance's audio
                assert m.result.text_asr == f"{1600 * (m.result.utterance_index % 3 + 1)} samples"
    ok = sum(m.HasField("result") for outcomes in results for m in outcomes)
    errors = [m.error for outcomes in results for m in outcomes if m.HasField("error")]
    print(f"chaos: {kills} kills, {redispatched} re-dispatches, {ok}/{total} results, errors: "
          f"{sorted({e.code for e in errors})}")
    assert kills >= 5
    assert redispatched >= 1
    assert ok >= 0.95 * total, [e.message for e in errors][:5]
    assert _overlaps(tmp_path, fleet.kills) == []
