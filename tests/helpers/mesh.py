"""Real scheduler and node servers on ephemeral ports, for service tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc
from lingua_common.audio import encode_wav
from node_svc.agent import NodeAgent
from node_svc.config import NodeSettings
from node_svc.pipeline import Pipeline
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.server import SchedulerServer


@contextlib.asynccontextmanager
async def running_scheduler(**overrides: object) -> AsyncIterator[SchedulerServer]:
    # Frequent heartbeats so new nodes become ready (2 healthy heartbeats) within a second, and a
    # generous timeout so a node sharing 2 busy cores with the test is not declared offline.
    settings = SchedulerSettings(host="127.0.0.1", port=0, metrics_port=0, metrics_host="127.0.0.1",
                                 heartbeat_interval_ms=500, heartbeat_timeout_ms=10_000)
    for key, value in overrides.items():
        setattr(settings, key, value)
    server = SchedulerServer(settings)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace_s=0.5)


@contextlib.asynccontextmanager
async def running_node(address: str, pipeline: Pipeline, max_jobs: int = 1, name: str = "",
                       job_log: str = "") -> AsyncIterator[NodeAgent]:
    agent = NodeAgent(NodeSettings(scheduler=address, max_concurrent_jobs=max_jobs, display_name=name,
                                   reconnect_initial_ms=100, drain_grace_s=2, job_log=job_log), pipeline)
    task = asyncio.create_task(agent.run())
    await asyncio.wait_for(agent.ready.wait(), 30)
    try:
        yield agent
    finally:
        await agent.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def speech_wav(pipeline: Pipeline, text: str, language: str = "en") -> bytes:
    """Real speech for `text`, spoken by the node's Piper voice, as a WAV file."""
    pcm = b"".join(c.pcm16 for c in pipeline.tts.synthesize(text, language))
    return encode_wav(pcm, pipeline.tts.sample_rate)


def wav_audio(data: bytes) -> common_pb2.Audio:
    return common_pb2.Audio(data=data, encoding=common_pb2.WAV)


class Conversation:
    """One Converse stream: open, send utterances, collect what comes back."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call = session_pb2_grpc.SessionServiceStub(channel).Converse()
        self.session_id = ""
        self.partials: list[common_pb2.AsrPartial] = []
        self.events: list[session_pb2.ServerMessage] = []

    async def open(self, src: str = "en", tgt: str = "fr", **kw: object) -> session_pb2.OpenSessionResponse:
        await self.call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            src_lang=src, tgt_lang=tgt, **kw)))  # type: ignore[arg-type]
        msg = await asyncio.wait_for(self.call.read(), 10)
        assert msg.WhichOneof("kind") == "opened", msg
        self.session_id = msg.opened.session_id
        return msg.opened

    async def send(self, index: int, audio: common_pb2.Audio, **kw: object) -> None:
        await self.call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=self.session_id, utterance_index=index, audio=audio, **kw)))  # type: ignore[arg-type]

    async def outcomes(self, count: int, timeout_s: float = 120) -> list[session_pb2.ServerMessage]:
        """The next `count` results/errors that carry an utterance index (partials etc. are skipped)."""
        out: list[session_pb2.ServerMessage] = []

        async def collect() -> None:
            while len(out) < count:
                msg = await self.call.read()
                assert msg is not grpc.aio.EOF, "stream ended early"
                if msg.HasField("result") or (msg.HasField("error") and msg.error.HasField("utterance_index")):
                    out.append(msg)
                elif msg.HasField("asr_partial"):
                    self.partials.append(msg.asr_partial)
                else:
                    self.events.append(msg)

        await asyncio.wait_for(collect(), timeout_s)
        return out

    async def close(self, timeout_s: float = 60) -> None:
        """Close the session and read the stream to its end; fails on any outcome after the ones counted
        (a duplicate or a stray outcome would otherwise go unseen) and unless the stream says `closed`."""
        await self.call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(
            session_id=self.session_id)))
        await self.call.done_writing()
        rest = await read_to_end(self.call, timeout_s)
        extra = [m for m in rest if is_outcome(m)]
        assert extra == [], f"outcomes nobody waited for: {extra}"
        assert rest and rest[-1].HasField("closed"), rest
        self.events += rest


def is_outcome(msg: session_pb2.ServerMessage) -> bool:
    return msg.HasField("result") or (msg.HasField("error") and msg.error.HasField("utterance_index"))


async def read_to_end(stream: object, timeout_s: float = 60) -> list[session_pb2.ServerMessage]:
    """Everything a server stream (Converse, Subscribe) still sends, up to its end."""
    out: list[session_pb2.ServerMessage] = []

    async def collect() -> None:
        while (msg := await stream.read()) is not grpc.aio.EOF:  # type: ignore[attr-defined]
            out.append(msg)

    await asyncio.wait_for(collect(), timeout_s)
    return out


def outcome_index(msg: session_pb2.ServerMessage) -> int:
    return msg.result.utterance_index if msg.HasField("result") else msg.error.utterance_index


class SchedulerProcess:
    """A real `python -m scheduler_svc` (memory:// state) on an ephemeral port, stderr to `log`."""

    def __init__(self, proc: asyncio.subprocess.Process, address: str) -> None:
        self.proc, self.address = proc, address

    @property
    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]

    async def health_check_s(self, channel: grpc.aio.Channel, timeout_s: float = 5) -> float:
        """Seconds one Health/Check took (it must say SERVING)."""
        started = time.monotonic()
        reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout_s)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
        return time.monotonic() - started


@contextlib.asynccontextmanager
async def scheduler_process(log: Path, **settings: object) -> AsyncIterator[SchedulerProcess]:
    """Settings as LINGUA_SCHEDULER_* (e.g. result_grace_ms=200). Stopped with SIGTERM, then killed."""
    env = dict(os.environ, LINGUA_SCHEDULER_HOST="127.0.0.1", LINGUA_SCHEDULER_PORT="0",
               LINGUA_SCHEDULER_METRICS_PORT="-1", LINGUA_SCHEDULER_HEARTBEAT_INTERVAL_MS="500",
               LINGUA_SCHEDULER_HEARTBEAT_TIMEOUT_MS="10000")
    env.update({f"LINGUA_SCHEDULER_{k.upper()}": str(v) for k, v in settings.items()})
    with log.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "scheduler_svc", env=env,
                                                    stdout=asyncio.subprocess.PIPE, stderr=err)
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"ready on ([\d.]+:\d+)", line)
        assert match, f"the scheduler did not start: {line!r}; see {log}"
        yield SchedulerProcess(proc, match.group(1))
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
