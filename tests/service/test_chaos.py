"""Chaos: node processes killed with SIGKILL every 2 s and restarted while 10 sessions talk.

Every utterance must get exactly one outcome, in index order, and nothing more (each stream is read to its
end after `close`); at least 95 % must be results, each the result of its own utterance's audio; and no job
may run on two nodes at once (checked from the nodes' own job logs). Five nodes are separate processes
running the real NodeAgent over real gRPC with a stand-in pipeline (tests/helpers/chaos_node.py says why);
two more run the real bundled models (VAD, whisper, Piper) in this process and are never killed, so jobs
moved off a killed stand-in also land on real models. The scheduler is the real one, in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
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
from lingua_common.audio import decode_audio, float_to_pcm16
from node_svc.pipeline import Pipeline
from tests.helpers.mesh import is_outcome, outcome_index, read_to_end, running_node, running_scheduler, speech_wav

pytestmark = [pytest.mark.slow, pytest.mark.models]

NODES, REAL_NODES, SESSIONS, UTTERANCES, IN_FLIGHT = 5, 2, 10, 30, 3
# What each utterance says, and a word of it the real models must hear.
PHRASES = [("Thank you very much.", "thank"), ("Good morning.", "morning"), ("See you tomorrow.", "tomorrow")]


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


async def _session(stub: session_pb2_grpc.SessionServiceStub,
                   audios: list[common_pb2.Audio]) -> list[session_pb2.ServerMessage]:
    call = stub.Converse()
    await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en")))
    session_id = (await call.read()).opened.session_id
    window = asyncio.Semaphore(IN_FLIGHT)
    outcomes: list[session_pb2.ServerMessage] = []

    async def read() -> None:
        while len(outcomes) < UTTERANCES:
            msg = await call.read()
            assert msg is not grpc.aio.EOF
            if is_outcome(msg):
                outcomes.append(msg)
                window.release()

    reader = asyncio.create_task(read())
    for i in range(UTTERANCES):
        await window.acquire()
        await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=session_id, utterance_index=i, audio=audios[i % len(audios)])))
    await reader
    # Read on to the end after closing: a trailing duplicate or stray outcome fails the test.
    await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(session_id=session_id)))
    await call.done_writing()
    rest = await read_to_end(call)
    assert [m.WhichOneof("kind") for m in rest if is_outcome(m) or m.HasField("closed")] == ["closed"], rest
    return outcomes


def _speech(pipeline: Pipeline, text: str) -> common_pb2.Audio:
    """`text` spoken by Piper, as 16 kHz PCM16 (so a stand-in node counts exactly len(data) / 2 samples)."""
    samples = decode_audio(speech_wav(pipeline, text), "WAV", 0, 1)
    return common_pb2.Audio(data=float_to_pcm16(samples), encoding=common_pb2.PCM16, sample_rate_hz=16000)


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


async def test_nodes_killed_every_two_seconds_lose_nothing(tmp_path: Path, pipeline: Pipeline) -> None:
    audios = [_speech(pipeline, text) for text, _word in PHRASES]
    rng = random.Random(42)
    async with running_scheduler(queue_timeout_ms=60_000, result_grace_ms=60_000) as sched:
        address = f"127.0.0.1:{sched.port}"
        fleet = Fleet(address, tmp_path)
        async with contextlib.AsyncExitStack() as real:
            real_ids = {(await real.enter_async_context(running_node(
                address, pipeline, name=f"real-{i}", job_log=str(tmp_path / f"real-{i}.jsonl")))).node_id
                for i in range(REAL_NODES)}
            try:
                for slot in range(NODES):
                    await fleet.start(slot)
                deadline = time.monotonic() + 180
                while sum(n.state.value == "ready" for n in sched.mesh.registry.nodes.values()) < NODES + REAL_NODES:
                    assert time.monotonic() < deadline, "nodes did not come up"
                    await asyncio.sleep(0.2)
                async with grpc.aio.insecure_channel(address) as channel:
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
    by_real = 0
    for outcomes in results:
        assert [outcome_index(m) for m in outcomes] == list(range(UTTERANCES))  # one each, in order
        for m in outcomes:
            if not m.HasField("result"):
                continue
            # The result belongs to this utterance's audio, whichever kind of node made it.
            audio, (_text, word) = audios[m.result.utterance_index % 3], PHRASES[m.result.utterance_index % 3]
            if m.result.node_id in real_ids:
                by_real += 1
                assert word in m.result.text_asr.lower(), m.result.text_asr
            else:
                assert m.result.text_asr == f"{len(audio.data) // 2} samples"
    ok = sum(m.HasField("result") for outcomes in results for m in outcomes)
    errors = [m.error for outcomes in results for m in outcomes if m.HasField("error")]
    print(f"chaos: {kills} kills, {redispatched} re-dispatches, {ok}/{total} results ({by_real} by real models), "
          f"errors: {sorted({e.code for e in errors})}")
    assert by_real > 0
    assert kills >= 5
    assert redispatched >= 1
    assert ok >= 0.95 * total, [e.message for e in errors][:5]
    assert _overlaps(tmp_path, fleet.kills) == []
