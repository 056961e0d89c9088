#!/usr/bin/env python3
"""Scheduler dispatch latency (utterance in -> JobAssign on a node stream) with many nodes registered.

For each size N (default 10, 1,000 and 10,000) this script:

1. starts a real SchedulerServer in this process (ephemeral port, no metrics endpoint), and a raw
   grpc.aio relay (generic handlers on bytes, no scheduling logic) in a process of its own, so the
   scheduler's periodic work (heartbeats, expiry scans) does not delay the baseline;
2. spawns a load-generator process that holds N fake node streams on each of them
   (NodeService.Connect over one channel per --streams-per-channel streams). Mesh nodes register
   with en->fr capabilities and max_concurrent_jobs 4, heartbeat at the interval the scheduler
   asks for, and answer every JobAssign at once with job_ack + a successful JobResult; relay
   nodes answer every forwarded message with one reply;
3. spawns a client process that opens a Converse session and a relay stream and sends
   --utterances small PCM16 utterances to each, alternating mesh/relay, one in flight per worker;
4. computes latency = (node receive time) - (client send time), both `time.monotonic_ns()`
   (CLOCK_MONOTONIC is system-wide on Linux, so stamps from different processes compare), and
   reads the scheduler's own view from SchedulerAdmin.GetStats.

Every process calls gc.freeze() after its setup. These are measurements, not tests: nothing here
fails on a slow number; the targets are only printed next to the results.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import math
import multiprocessing as mp
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import psutil

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
from lingua_common.grpc_server import channel_options, server_options  # noqa: E402

# Targets from the issue: scheduler dispatch p99 by number of registered nodes.
TARGETS_P99_MS: tuple[tuple[int, float], ...] = ((1_000, 2.0), (10_000, 5.0))
RELAY_SERVICE = "lingua.bench.Relay"
Key = tuple[str, int]  # (session id, utterance index)
MiB = 1024 * 1024


def target_for(nodes: int) -> float | None:
    for limit, p99_ms in TARGETS_P99_MS:
        if nodes <= limit:
            return p99_ms
    return None


def local_channel(port: int) -> grpc.aio.Channel:
    # A local subchannel pool gives every channel its own TCP connection (the global pool would
    # share one connection between all channels with the same target and arguments).
    options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    return grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options)


# ---- the baseline: a relay with no logic ----------------------------------------------------------


class _RelayNode:
    def __init__(self) -> None:
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        # Where each reply of this node goes: the client outbox of each forwarded message, in order.
        self.reply_to: collections.deque[asyncio.Queue[bytes | None]] = collections.deque()


class Relay:
    """Forwards every client message (raw bytes) to the next node stream, and its reply back.

    Same shape as the scheduler's servicers (explicit read(), an outbox queue and a writer task per
    stream) but no parsing, validation, selection or bookkeeping.
    """

    def __init__(self) -> None:
        self.server = grpc.aio.server(options=server_options())
        self.nodes: list[_RelayNode] = []
        self._next = 0
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(RELAY_SERVICE, {
            "Client": grpc.stream_stream_rpc_method_handler(self._client),
            "Node": grpc.stream_stream_rpc_method_handler(self._node),
        }),))

    async def start(self) -> int:
        port = int(self.server.add_insecure_port("127.0.0.1:0"))
        await self.server.start()
        return port

    async def stop(self) -> None:
        await self.server.stop(0.5)

    async def _client(self, _requests: Any, context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
        outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        writer = asyncio.create_task(_pump(outbox, context))
        try:
            while (msg := await context.read()) is not grpc.aio.EOF:
                node = self.nodes[self._next % len(self.nodes)]
                self._next += 1
                node.reply_to.append(outbox)
                node.outbox.put_nowait(msg)
        finally:
            writer.cancel()

    async def _node(self, _requests: Any, context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
        node = _RelayNode()
        writer = asyncio.create_task(_pump(node.outbox, context))
        node.outbox.put_nowait(b"")  # "connected", so the load generator knows the stream is up
        self.nodes.append(node)
        try:
            while (msg := await context.read()) is not grpc.aio.EOF:
                if node.reply_to:
                    node.reply_to.popleft().put_nowait(msg)
        finally:
            self.nodes.remove(node)
            writer.cancel()


def relay_main(conn: Connection) -> None:
    """Process entry: run the relay and obey "port", "freeze" and "stop" on `conn`."""

    async def serve() -> None:
        relay = Relay()
        port = await relay.start()
        while True:
            cmd = (await asyncio.to_thread(conn.recv))[0]
            if cmd == "port":
                conn.send(("ok", port))
            elif cmd == "freeze":
                gc.collect()
                gc.freeze()
                conn.send(("ok",))
            elif cmd == "stop":
                await relay.stop()
                conn.send(("ok",))
                return

    asyncio.run(serve())


async def _pump(outbox: asyncio.Queue[bytes | None], context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
    while (msg := await outbox.get()) is not None:
        await context.write(msg)


# ---- load generator process: N fake nodes on the scheduler and N on the relay --------------------


def _register_message() -> node_pb2.NodeRegister:
    return node_pb2.NodeRegister(
        version="bench", platform="bench", display_name="fake",
        installed_models=[
            node_pb2.InstalledModel(model_id="asr", kind=node_pb2.MODEL_KIND_ASR, languages=["en"],
                                    state=node_pb2.MODEL_STATE_READY),
            node_pb2.InstalledModel(model_id="mt", kind=node_pb2.MODEL_KIND_MT, state=node_pb2.MODEL_STATE_READY,
                                    pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr")]),
            node_pb2.InstalledModel(model_id="tts", kind=node_pb2.MODEL_KIND_TTS, languages=["en", "fr"],
                                    state=node_pb2.MODEL_STATE_READY),
        ],
        features_supported=common_pb2.Features(), max_concurrent_jobs=4, accept_public_jobs=True)


def _result_message(job_id: str, attempt: int, session_id: str, index: int) -> node_pb2.NodeMessage:
    return node_pb2.NodeMessage(job_result=node_pb2.JobResult(
        job_id=job_id, attempt_id=attempt, success=True, processing_ms=0.1,
        result=common_pb2.TranslationResult(session_id=session_id, utterance_index=index, job_id=job_id,
                                            text_asr="hello", text_translated="bonjour")))


@dataclass
class Received:
    """What the fake nodes saw: per message key, the monotonic_ns at which it arrived."""

    mesh: dict[Key, int] = field(default_factory=dict)
    relay: dict[Key, int] = field(default_factory=dict)
    mesh_nodes_used: set[int] = field(default_factory=set)


class FakeNode:
    """One node stream. Writes are serialized by a lock (replies and heartbeats share the stream)."""

    def __init__(self, index: int, call: Any, received: Received) -> None:
        self.index = index
        self.call = call
        self.received = received
        self.lock = asyncio.Lock()
        self.task: asyncio.Task[None] | None = None
        self.last_heartbeat = 0.0
        self.max_heartbeat_gap = 0.0

    async def write(self, msg: Any) -> None:
        async with self.lock:
            await self.call.write(msg)

    async def heartbeat(self) -> None:
        now = time.monotonic()
        if self.last_heartbeat:
            self.max_heartbeat_gap = max(self.max_heartbeat_gap, now - self.last_heartbeat)
        self.last_heartbeat = now
        await self.write(_heartbeat())

    async def serve_mesh(self) -> None:
        with contextlib.suppress(grpc.RpcError, asyncio.CancelledError, grpc.aio.UsageError):
            while (msg := await self.call.read()) is not grpc.aio.EOF:
                now = time.monotonic_ns()
                if msg.WhichOneof("kind") != "job_assign":
                    continue
                job = msg.job_assign
                self.received.mesh[(job.session_id, job.utterance_index)] = now
                self.received.mesh_nodes_used.add(self.index)
                async with self.lock:
                    await self.call.write(node_pb2.NodeMessage(job_ack=node_pb2.JobAck(
                        job_id=job.job_id, attempt_id=job.attempt_id)))
                    await self.call.write(_result_message(job.job_id, job.attempt_id, job.session_id,
                                                          job.utterance_index))

    async def serve_relay(self) -> None:
        with contextlib.suppress(grpc.RpcError, asyncio.CancelledError, grpc.aio.UsageError):
            while (msg := await self.call.read()) is not grpc.aio.EOF:
                now = time.monotonic_ns()
                utt = msg.utterance
                self.received.relay[(utt.session_id, utt.utterance_index)] = now
                await self.write(_result_message("relay", 1, utt.session_id, utt.utterance_index))


def _heartbeat() -> node_pb2.NodeMessage:
    return node_pb2.NodeMessage(heartbeat=node_pb2.NodeHeartbeat(
        timestamp_ms=int(time.time() * 1000), resource_usage=node_pb2.ResourceUsage(cpu_percent=5.0, mem_percent=20.0)))


class LoadGen:
    def __init__(self, streams_per_channel: int) -> None:
        self.streams_per_channel = streams_per_channel
        self.received = Received()
        self.channels: list[grpc.aio.Channel] = []
        self.mesh_nodes: list[FakeNode] = []
        self.relay_nodes: list[FakeNode] = []
        self.heartbeat_s = 0.0
        self._heartbeat_task: asyncio.Task[None] | None = None

    def _open_channels(self, port: int, count: int) -> list[grpc.aio.Channel]:
        channels = [local_channel(port) for _ in range(max(1, math.ceil(count / self.streams_per_channel)))]
        self.channels.extend(channels)
        return channels

    async def connect_mesh(self, port: int, count: int, parallel: int) -> None:
        channels = self._open_channels(port, count)
        register = node_pb2.NodeMessage(register=_register_message())
        gate = asyncio.Semaphore(parallel)
        self._heartbeat_task = asyncio.create_task(self._heartbeats())

        async def one(i: int) -> None:
            async with gate:
                call = node_pb2_grpc.NodeServiceStub(channels[i % len(channels)]).Connect()
                await call.write(register)
                first = await call.read()
                if first is grpc.aio.EOF or first.WhichOneof("kind") != "registered":
                    raise RuntimeError(f"fake node {i} was not registered: {first}")
                self.heartbeat_s = first.registered.heartbeat_interval_ms / 1000
                node = FakeNode(i, call, self.received)
                await node.heartbeat()  # as NodeAgent does: one heartbeat right after `registered`
                node.task = asyncio.create_task(node.serve_mesh())
                self.mesh_nodes.append(node)

        await asyncio.gather(*(one(i) for i in range(count)))

    async def connect_relay(self, port: int, count: int, parallel: int) -> None:
        channels = self._open_channels(port, count)
        gate = asyncio.Semaphore(parallel)

        async def one(i: int) -> None:
            async with gate:
                call = channels[i % len(channels)].stream_stream(
                    f"/{RELAY_SERVICE}/Node", request_serializer=node_pb2.NodeMessage.SerializeToString,
                    response_deserializer=session_pb2.ClientMessage.FromString)()
                await call.read()  # the relay's "connected"
                node = FakeNode(i, call, self.received)
                node.task = asyncio.create_task(node.serve_relay())
                self.relay_nodes.append(node)

        await asyncio.gather(*(one(i) for i in range(count)))

    async def _heartbeats(self) -> None:
        """Every mesh node heartbeats once per interval, round robin, spread evenly over the interval.

        The number sent per tick follows the time that really passed, so a busy loop catches up
        instead of letting nodes miss their heartbeat timeout.
        """
        position, credit, last = 0, 0.0, time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            nodes = self.mesh_nodes
            if not nodes or self.heartbeat_s <= 0:
                last = now
                continue
            credit = min(credit + len(nodes) * (now - last) / self.heartbeat_s, float(len(nodes)))
            last = now
            batch = int(credit)
            credit -= batch
            for _ in range(batch):
                node = nodes[position % len(nodes)]
                position += 1
                with contextlib.suppress(grpc.RpcError, grpc.aio.UsageError):
                    await node.heartbeat()

    async def close(self) -> None:
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        for node in [*self.mesh_nodes, *self.relay_nodes]:
            node.call.cancel()
            if node.task is not None:
                node.task.cancel()
        await asyncio.gather(*(channel.close() for channel in self.channels))


def loadgen_main(conn: Connection, streams_per_channel: int, parallel: int) -> None:
    """Process entry: obey the parent's commands on `conn` until "stop"."""
    asyncio.run(_loadgen(conn, streams_per_channel, parallel))


async def _loadgen(conn: Connection, streams_per_channel: int, parallel: int) -> None:
    gen = LoadGen(streams_per_channel)
    while True:
        cmd, *args = await asyncio.to_thread(conn.recv)
        try:
            if cmd == "mesh":
                started = time.monotonic_ns()
                await gen.connect_mesh(args[0], args[1], parallel)
                conn.send(("ok", started, time.monotonic_ns()))
            elif cmd == "relay":
                await gen.connect_relay(args[0], args[1], parallel)
                conn.send(("ok",))
            elif cmd == "freeze":
                gc.collect()
                gc.freeze()
                conn.send(("ok",))
            elif cmd == "dump":
                r = gen.received
                gap = max((n.max_heartbeat_gap for n in gen.mesh_nodes), default=0.0)
                conn.send(("ok", r.mesh, r.relay, len(r.mesh_nodes_used), gap))
            elif cmd == "stop":
                await gen.close()
                conn.send(("ok",))
                return
        except Exception as exc:
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
            await gen.close()
            return


# ---- client process ---------------------------------------------------------------------------


@dataclass
class ClientReport:
    mesh_sent: dict[Key, int]
    relay_sent: dict[Key, int]
    errors: list[str]
    wall_s: float


class ClientWorker:
    """One mesh session and one relay stream; sends alternate between them, one in flight."""

    def __init__(self, worker: int, mesh: grpc.aio.Channel, relay: grpc.aio.Channel, audio: common_pb2.Audio,
                 report: ClientReport, read_timeout_s: float) -> None:
        self.worker = worker
        self.audio = audio
        self.report = report
        self.timeout = read_timeout_s
        self.mesh_call = session_pb2_grpc.SessionServiceStub(mesh).Converse()
        self.relay_call = relay.stream_stream(
            f"/{RELAY_SERVICE}/Client", request_serializer=session_pb2.ClientMessage.SerializeToString,
            response_deserializer=node_pb2.NodeMessage.FromString)()
        self.session_id = ""
        self.relay_session = f"relay-{worker}"

    async def open(self) -> None:
        await self.mesh_call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            src_lang="en", tgt_lang="fr", platform="bench")))
        msg = await asyncio.wait_for(self.mesh_call.read(), self.timeout)
        if msg is grpc.aio.EOF or msg.WhichOneof("kind") != "opened":
            raise RuntimeError(f"session not opened: {msg}")
        self.session_id = msg.opened.session_id

    async def run(self, first: int, stop: int, record: bool) -> None:
        for i in range(first, stop):
            steps = (self._mesh, self._relay) if i % 2 == 0 else (self._relay, self._mesh)
            for step in steps:
                await step(i, record)

    async def _mesh(self, i: int, record: bool) -> None:
        msg = session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=self.session_id, utterance_index=i, audio=self.audio))
        sent = time.monotonic_ns()
        await self.mesh_call.write(msg)
        if record:
            self.report.mesh_sent[(self.session_id, i)] = sent
        while True:
            reply = await asyncio.wait_for(self.mesh_call.read(), self.timeout)
            if reply is grpc.aio.EOF:
                raise RuntimeError("the scheduler closed the session stream")
            kind = reply.WhichOneof("kind")
            if kind == "result":
                return
            if kind == "error":
                self.report.errors.append(f"mesh {i}: {common_pb2.ErrorCode.Name(reply.error.code)} "
                                          f"{reply.error.message}")
                return

    async def _relay(self, i: int, record: bool) -> None:
        msg = session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=self.relay_session, utterance_index=i, audio=self.audio))
        sent = time.monotonic_ns()
        await self.relay_call.write(msg)
        if record:
            self.report.relay_sent[(self.relay_session, i)] = sent
        reply = await asyncio.wait_for(self.relay_call.read(), self.timeout)
        if reply is grpc.aio.EOF:
            raise RuntimeError("the relay closed the client stream")


def client_main(conn: Connection, mesh_port: int, relay_port: int, utterances: int, warmup: int,
                concurrency: int, audio_ms: int) -> None:
    """Process entry: warm up, say "warm", wait for "go", measure, send the ClientReport."""
    try:
        report = asyncio.run(_client(conn, mesh_port, relay_port, utterances, warmup, concurrency, audio_ms))
        conn.send(("ok", report))
    except Exception as exc:
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


async def _client(conn: Connection, mesh_port: int, relay_port: int, utterances: int, warmup: int,
                  concurrency: int, audio_ms: int) -> ClientReport:
    samples = 16 * audio_ms
    tone = (np.sin(np.arange(samples) * 2 * np.pi * 220 / 16000) * 3000).astype("<i2").tobytes()
    audio = common_pb2.Audio(data=tone, encoding=common_pb2.PCM16, sample_rate_hz=16000, channels=1)
    report = ClientReport({}, {}, [], 0.0)
    mesh, relay = local_channel(mesh_port), local_channel(relay_port)
    workers = [ClientWorker(w, mesh, relay, audio, report, 30.0) for w in range(concurrency)]
    await asyncio.gather(*(w.open() for w in workers))
    warm_each, each = math.ceil(warmup / concurrency), math.ceil(utterances / concurrency)
    await asyncio.gather(*(w.run(0, warm_each, record=False) for w in workers))
    gc.collect()
    gc.freeze()
    conn.send(("warm",))
    await asyncio.to_thread(conn.recv)
    started = time.perf_counter()
    await asyncio.gather(*(w.run(warm_each, warm_each + each, record=True) for w in workers))
    report.wall_s = time.perf_counter() - started
    conn.send(("measured",))
    for w in workers:
        await w.mesh_call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(
            session_id=w.session_id)))
        await w.mesh_call.done_writing()
        await w.relay_call.done_writing()
    await mesh.close()
    await relay.close()
    return report


# ---- the parent: one size at a time ---------------------------------------------------------------


@dataclass
class Row:
    nodes: int
    registration_s: float
    rss_mib: float
    rss_delta_mib: float
    samples: int
    relay_p50_ms: float
    relay_p99_ms: float
    mesh_p50_ms: float
    mesh_p99_ms: float
    sched_p50_ms: float
    sched_p99_ms: float
    relay_max_ms: float
    mesh_p999_ms: float
    mesh_max_ms: float
    errors: int
    nodes_used: int
    # SchedulerAdmin.GetStats nodes_by_state after the measurement (all should be "ready").
    nodes_by_state: dict[str, int]
    # First Connect -> every node READY (or the wait gave up), and how many were READY then.
    ready_s: float
    nodes_ready_before: int
    wall_s: float
    registration_cpu_s: float
    # Scheduler-process CPU (% of one core) while holding every stream with only heartbeats flowing.
    hold_cpu_pct: float
    # Event-loop time of Mesh.node_disconnected for one node at this size (mean of a sample).
    disconnect_ms: float
    # Longest time between two heartbeats the load generator sent for one node (timeout: 3 intervals).
    heartbeat_gap_s: float
    # Scheduler event-loop stalls: the longest while registering, and while measuring (and how many > 5 ms).
    reg_stall_ms: float
    run_stall_ms: float
    run_stalls: int
    # While measuring: scheduler internals that scan every node -> (calls, longest ms).
    internals: dict[str, tuple[int, float]]
    # Only with --full-teardown: every node disconnects and the scheduler stops.
    teardown_s: float


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


async def _ask(conn: Connection, *cmd: Any) -> tuple[Any, ...]:
    conn.send(cmd)
    reply: tuple[Any, ...] = await asyncio.to_thread(conn.recv)
    if reply[0] == "error":
        raise RuntimeError(f"load generator: {reply[1]}")
    return reply


async def _wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll_s)
    return True


class Probe:
    """Times calls of a few scheduler internals (wrapped on the instances, in this process only), to
    tell which periodic or per-node work causes the event-loop stalls."""

    def __init__(self, targets: dict[str, tuple[object, str]]) -> None:
        self.calls: dict[str, list[float]] = {}
        for label, (owner, attr) in targets.items():
            fn = getattr(owner, attr, None)
            if callable(fn):
                self.calls[label] = []
                setattr(owner, attr, self._timed(fn, self.calls[label]))

    @staticmethod
    def _timed(fn: Callable[..., Any], out: list[float]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                out.append(time.perf_counter() - started)

        return timed

    def take(self) -> dict[str, tuple[int, float]]:
        """label -> (calls, longest ms) since the last take()."""
        out = {label: (len(times), max(times, default=0.0) * 1000) for label, times in self.calls.items()}
        for times in self.calls.values():
            times.clear()
        return out


class LoopLag:
    """How late this (the scheduler's) event loop wakes from a 10 ms sleep: its stalls as any handler sees them."""

    def __init__(self, period_s: float = 0.01) -> None:
        self.period_s = period_s
        self.lags: list[float] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            started = time.perf_counter()
            await asyncio.sleep(self.period_s)
            self.lags.append(time.perf_counter() - started - self.period_s)

    def take(self) -> tuple[float, int]:
        """(longest stall in ms, stalls over 5 ms) since the last take()."""
        lags, self.lags = self.lags, []
        return max(lags, default=0.0) * 1000, sum(1 for lag in lags if lag > 0.005)


def sample_disconnects(server: Any, count: int) -> float:
    """Mean ms that Mesh.node_disconnected takes for one of `count` connected nodes (they go offline)."""
    from scheduler_svc.registry import NodeState

    ready = (link for link in server.mesh.links.values()
             if (node := server.mesh.registry.get(link.node_id)) is not None and node.state is NodeState.READY)
    links = [link for _, link in zip(range(count), ready, strict=False)]
    started = time.perf_counter()
    for link in links:
        server.mesh.node_disconnected(link)
    return (time.perf_counter() - started) * 1000 / len(links) if links else float("nan")


def _states(server: Any) -> dict[str, int]:
    return {k: v for k, v in server.mesh.registry.counts_by_state().items() if v}


def cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def rss_mib() -> float:
    gc.collect()
    return float(psutil.Process().memory_info().rss) / MiB


async def run_size(nodes: int, args: argparse.Namespace, log: Callable[[str], None]) -> Row:
    from scheduler_svc.config import SchedulerSettings
    from scheduler_svc.server import SchedulerServer

    ctx = mp.get_context("spawn")
    base_rss = rss_mib()
    heartbeat_ms = args.heartbeat_ms if args.heartbeat_ms > 0 else 3_600_000
    settings = SchedulerSettings(host="127.0.0.1", port=0, metrics_port=-1, heartbeat_interval_ms=heartbeat_ms)
    server = SchedulerServer(settings)
    port = await server.start()
    relay_conn, relay_child = ctx.Pipe()
    relay = ctx.Process(target=relay_main, args=(relay_child,), name="bench-relay", daemon=True)
    relay.start()
    _, relay_port = await _ask(relay_conn, "port")

    parent_conn, child_conn = ctx.Pipe()
    loadgen = ctx.Process(target=loadgen_main, args=(child_conn, args.streams_per_channel, args.register_parallel),
                          name=f"bench-nodes-{nodes}", daemon=True)
    loadgen.start()
    client: mp.process.BaseProcess | None = None
    lag = LoopLag()
    probe = Probe({"registry.expired": (server.mesh.registry, "expired"),
                   "index._compact": (server.mesh.index, "_compact"),
                   "mesh._count_nodes": (server.mesh, "_count_nodes")})
    try:
        log(f"[{nodes} nodes] connecting relay nodes ...")
        await _ask(parent_conn, "relay", relay_port, nodes)
        log(f"[{nodes} nodes] registering fake nodes with the scheduler ...")
        cpu_before = cpu_s()
        lag.take()
        _, reg_start_ns, _ = await _ask(parent_conn, "mesh", port, nodes)
        # The last `registered` may be on the wire before its link is stored.
        await _wait_until(lambda: len(server.mesh.links) >= nodes, 10.0)
        registration_s = (time.monotonic_ns() - reg_start_ns) / 1e9
        registration_cpu_s = cpu_s() - cpu_before
        log(f"[{nodes} nodes] registered in {registration_s:.2f} s ({registration_cpu_s:.1f} s scheduler CPU); "
            f"node states {_states(server)}")
        # A new node takes jobs only after `ready_after_heartbeats` heartbeats: wait until none is
        # still registering (each is then READY, or OFFLINE if the scheduler missed its heartbeats).
        await _wait_until(lambda: not _states(server).get("registering"), 30 + 4 * heartbeat_ms / 1000, 1.0)
        ready_s = (time.monotonic_ns() - reg_start_ns) / 1e9
        states_ready = _states(server)
        reg_stall_ms, _ = lag.take()
        rss = rss_mib()
        log(f"[{nodes} nodes] {ready_s:.2f} s after the first Connect: node states {states_ready}; "
            f"scheduler RSS {rss:.0f} MiB")
        # Hold the streams with only heartbeats flowing: what N connected nodes cost the scheduler at rest.
        hold_cpu = cpu_s()
        await asyncio.sleep(args.hold_s)
        hold_cpu_pct = 100.0 * (cpu_s() - hold_cpu) / args.hold_s if args.hold_s > 0 else float("nan")
        log(f"[{nodes} nodes] holding {nodes} streams, heartbeats only, for {args.hold_s:.0f} s: "
            f"scheduler process CPU {hold_cpu_pct:.1f}% of one core, RSS {rss_mib():.0f} MiB")
        await _ask(parent_conn, "freeze")
        await _ask(relay_conn, "freeze")

        client_parent, client_child = ctx.Pipe()
        client = ctx.Process(target=client_main, name="bench-client", daemon=True, args=(
            client_child, port, relay_port, args.utterances, args.warmup, args.concurrency, args.audio_ms))
        client.start()
        warm = await asyncio.to_thread(client_parent.recv)
        if warm[0] == "error":
            raise RuntimeError(f"client: {warm[1]}")
        server.mesh.dispatch_latencies.clear()  # GetStats should describe the measured utterances only
        gc.collect()
        gc.freeze()
        await asyncio.sleep(0.05)  # let the lag monitor see the collection before its window starts
        lag.take()
        probe.take()
        log(f"[{nodes} nodes] warmed up; measuring {args.utterances} utterances on each path ...")
        client_parent.send(("go",))
        outcome = await asyncio.to_thread(client_parent.recv)
        run_stall_ms, run_stalls = lag.take()
        internals = probe.take()
        if outcome[0] == "measured":
            outcome = await asyncio.to_thread(client_parent.recv)
        if outcome[0] == "error":
            raise RuntimeError(f"client: {outcome[1]}")
        report: ClientReport = outcome[1]
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stats = await admin_pb2_grpc.SchedulerAdminStub(channel).GetStats(admin_pb2.GetStatsRequest())
        _, mesh_recv, relay_recv, nodes_used, heartbeat_gap_s = await _ask(parent_conn, "dump")
    finally:
        lag.task.cancel()
        disconnect_ms = sample_disconnects(server, 20)
        if not args.full_teardown:
            # The scheduler is thrown away: skip its per-node disconnect bookkeeping, which costs
            # about `disconnect_ms` of event loop per node (minutes at 10,000 nodes).
            server.mesh.node_disconnected = lambda _link: None  # type: ignore[method-assign,assignment]
        started = time.perf_counter()
        if loadgen.is_alive():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(_ask(parent_conn, "stop"), 120)
        loadgen.join(10)
        if client is not None:
            client.join(10)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(_ask(relay_conn, "stop"), 30)
        relay.join(10)
        await server.stop(grace_s=0.5)
        teardown_s = time.perf_counter() - started
        gc.unfreeze()
        gc.collect()

    mesh_ms = [(mesh_recv[k] - t) / 1e6 for k, t in report.mesh_sent.items() if k in mesh_recv]
    relay_ms = [(relay_recv[k] - t) / 1e6 for k, t in report.relay_sent.items() if k in relay_recv]
    return Row(nodes=nodes, registration_s=registration_s, rss_mib=rss, rss_delta_mib=rss - base_rss,
               samples=min(len(mesh_ms), len(relay_ms)),
               relay_p50_ms=pct(relay_ms, 50), relay_p99_ms=pct(relay_ms, 99),
               mesh_p50_ms=pct(mesh_ms, 50), mesh_p99_ms=pct(mesh_ms, 99),
               sched_p50_ms=stats.dispatch_latency_p50_ms, sched_p99_ms=stats.dispatch_latency_p99_ms,
               relay_max_ms=max(relay_ms, default=float("nan")), mesh_p999_ms=pct(mesh_ms, 99.9),
               mesh_max_ms=max(mesh_ms, default=float("nan")), errors=len(report.errors), nodes_used=nodes_used,
               nodes_by_state={k: v for k, v in sorted(stats.nodes_by_state.items()) if v},
               ready_s=ready_s, nodes_ready_before=states_ready.get("ready", 0),
               wall_s=report.wall_s, registration_cpu_s=registration_cpu_s, hold_cpu_pct=hold_cpu_pct,
               disconnect_ms=disconnect_ms, heartbeat_gap_s=heartbeat_gap_s, reg_stall_ms=reg_stall_ms,
               run_stall_ms=run_stall_ms, run_stalls=run_stalls, internals=internals,
               teardown_s=teardown_s if args.full_teardown else float("nan"))


def render(rows: list[Row], args: argparse.Namespace) -> str:
    head = ("nodes", "reg s", "RSS MiB", "relay p50", "relay p99", "mesh p50", "mesh p99",
            "sched p50", "sched p99", "ovh p50", "ovh p99")
    lines = [" | ".join(f"{h:>9}" for h in head), "-|-".join("-" * 9 for _ in head)]
    for r in rows:
        cells = (f"{r.nodes:,}", f"{r.registration_s:.2f}", f"{r.rss_mib:.0f} (+{r.rss_delta_mib:.0f})",
                 *(f"{v:.3f}" for v in (r.relay_p50_ms, r.relay_p99_ms, r.mesh_p50_ms, r.mesh_p99_ms,
                                        r.sched_p50_ms, r.sched_p99_ms, r.mesh_p50_ms - r.relay_p50_ms,
                                        r.mesh_p99_ms - r.relay_p99_ms)))
        lines.append(" | ".join(f"{c:>9}" for c in cells))
    lines += [
        "",
        "latencies in ms; relay/mesh = client send -> JobAssign read on a node (two gRPC hops: client process ->",
        "relay or scheduler process -> load-generator process);",
        "sched = GetStats (in-scheduler: utterance accepted -> JobAssign queued on the node stream);",
        "ovh = mesh - relay; RSS = this process (scheduler + bench) with all nodes registered (+ growth).",
        f"{args.utterances} utterances per path per size, {args.audio_ms} ms PCM16 each, concurrency "
        f"{args.concurrency}, heartbeats every {args.heartbeat_ms} ms per node"
        f"{'' if args.heartbeat_ms > 0 else ' (off)'}; reg s = first Connect -> last `registered`.",
    ]
    for r in rows:
        extra = f"; {r.errors} ERRORS" if r.errors else ""
        lines.append(f"  {r.nodes:>6,} nodes: {r.samples} samples in {r.wall_s:.1f} s; mesh p99.9 {r.mesh_p999_ms:.3f} "
                     f"max {r.mesh_max_ms:.3f}, relay max {r.relay_max_ms:.3f} ms; {r.nodes_used} distinct nodes "
                     f"got jobs; scheduler's node states {r.nodes_by_state}{extra}")
        ready = (f"all READY {r.ready_s:.1f} s after the first Connect" if r.nodes_ready_before >= r.nodes else
                 f"ONLY {r.nodes_ready_before:,} READY when measuring started ({r.ready_s:.1f} s)")
        lines.append(f"  {'':>6}        registration used {r.registration_cpu_s:.1f} s of scheduler-process CPU; "
                     f"{ready}; holding the streams (heartbeats only) costs {r.hold_cpu_pct:.1f}% of one core")
        lines.append(f"  {'':>6}        scheduler event loop: longest stall {r.reg_stall_ms:.0f} ms while registering, "
                     f"{r.run_stall_ms:.1f} ms while measuring ({r.run_stalls} stalls > 5 ms); longest heartbeat gap "
                     f"sent by the load generator {r.heartbeat_gap_s:.1f} s")
        lines.append(f"  {'':>6}        while measuring: " + ", ".join(
            f"{label}() {calls}x, longest {ms:.1f} ms" for label, (calls, ms) in r.internals.items()))
        lines.append(f"  {'':>6}        one node disconnecting costs {r.disconnect_ms:.2f} ms of scheduler event loop"
                     + (f"; full teardown (all nodes disconnect) {r.teardown_s:.1f} s" if args.full_teardown else ""))
    lines += ["", "targets (scheduler dispatch p99 <= 2 ms at 1,000 nodes, <= 5 ms at 10,000):"]
    for r in rows:
        target = target_for(r.nodes)
        if target is None:
            lines.append(f"  {r.nodes:>6,} nodes: no target above 10,000 nodes")
            continue
        verdict = [f"{name} p99 {value:.3f} ms {'meets' if value <= target else 'MISSES'}"
                   for name, value in (("in-scheduler", r.sched_p99_ms), ("end-to-end", r.mesh_p99_ms),
                                       ("mesh-relay", r.mesh_p99_ms - r.relay_p99_ms))]
        lines.append(f"  {r.nodes:>6,} nodes, target {target:.0f} ms: " + "; ".join(verdict))
    return "\n".join(lines)


def pools_lines(nodes: int, dispatches: int = 20_000, tenants: int = 200) -> list[str]:
    """Pools off vs on at `nodes` nodes, in process: the Mesh's hot path (select, reserve, re-index) with about
    half the slots busy; four capability sets, jobs from `tenants` tenants."""
    import random

    from scheduler_svc.index import CapabilityIndex, NodeIndex
    from scheduler_svc.pools import PooledIndex
    from scheduler_svc.registry import NodeCaps, NodeRecord, NodeRegistry

    sets = [NodeCaps(frozenset({"en"}), frozenset(pairs), frozenset({"en"}), frozenset(t for _, t in pairs))
            for pairs in ({("en", "fr")}, {("en", "fr"), ("en", "de")}, {("en", "fr"), ("en", "es")},
                          {("en", "fr"), ("en", "de"), ("en", "es")})]
    lines = [f"pools at {nodes:,} nodes (in process: select + reserve + re-index; {dispatches:,} dispatches, "
             f"about half the slots busy, {tenants} tenants):"]
    for mode in ("off", "hash", "capability"):
        registry = NodeRegistry()
        index: NodeIndex = CapabilityIndex(registry) if mode == "off" else PooledIndex(registry, mode)
        started = time.perf_counter()
        for i in range(nodes):
            node = NodeRecord(node_id=f"n{i}", auth_token="t", caps=sets[i % len(sets)], max_jobs=4)
            registry.add(node)
            index.update(node)
        build_s = time.perf_counter() - started
        rng = random.Random(7)
        running: collections.deque[tuple[NodeRecord, tuple[str, int]]] = collections.deque()
        took, home = [], 0
        for i in range(dispatches):
            route = f"tenant-{rng.randrange(tenants)}"
            t0 = time.perf_counter_ns()
            chosen = index.select("en", "fr", 0, route=route)
            assert chosen is not None
            chosen.reserved.add((f"j{i}", 1))
            index.update(chosen)
            took.append((time.perf_counter_ns() - t0) / 1000)
            if isinstance(index, PooledIndex) and mode == "hash":
                home += index.pool_for(chosen) == index.plan("en", "fr", 0, route)[0].pool_id
            running.append((chosen, (f"j{i}", 1)))
            if len(running) > nodes * 2:  # half of 4 slots per node
                done, key = running.popleft()
                done.reserved.discard(key)
                index.update(done)
        extra = f"; {home / dispatches:.0%} of jobs ran in their tenant's home pool" if mode == "hash" else ""
        label = {"off": "off", "hash": "hash/16", "capability": "capability"}[mode]
        lines.append(f"  {label:<11} p50 {pct(took, 50):6.1f} us  p99 {pct(took, 99):6.1f} us  "
                     f"index build {build_s:.2f} s{extra}")
    return lines


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Scheduler dispatch latency (utterance in -> JobAssign on a node) with N simulated nodes, "
                    "next to a raw grpc.aio relay measured in the same run.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", default="10,1000,10000", help="comma-separated numbers of simulated nodes")
    parser.add_argument("--utterances", type=int, default=2000, help="measured utterances per path per size")
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured utterances per path first")
    parser.add_argument("--concurrency", type=int, default=1,
                        help="client workers (sessions), each with one utterance in flight")
    parser.add_argument("--audio-ms", type=int, default=100, help="length of each PCM16 16 kHz utterance")
    parser.add_argument("--heartbeat-ms", type=int, default=5000,
                        help="scheduler heartbeat interval the fake nodes follow; 0 turns heartbeats off")
    parser.add_argument("--streams-per-channel", type=int, default=500, help="node streams per gRPC channel")
    parser.add_argument("--register-parallel", type=int, default=256, help="registrations in flight at once")
    parser.add_argument("--hold-s", type=float, default=10.0,
                        help="seconds to hold all node streams with only heartbeats, measuring scheduler CPU")
    parser.add_argument("--full-teardown", action="store_true",
                        help="let the scheduler process every node's disconnect at the end of each size and time it "
                             "(O(N^2): minutes at 10,000 nodes); by default only a sample of 20 is processed")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument("--pools-nodes", type=int, default=10_000,
                        help="also compare two-level scheduling (pools) off vs on at this many nodes, in process; "
                             "0 skips")
    parser.add_argument("--pools-only", action="store_true", help="only the pools comparison")
    args = parser.parse_args(argv)
    args.size_list = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not args.size_list or min(args.size_list) < 1 or args.utterances < 1 or args.concurrency < 1:
        parser.error("sizes, --utterances and --concurrency must be positive")
    return args


async def amain(args: argparse.Namespace) -> list[Row]:
    rows = []
    for nodes in args.size_list:
        rows.append(await run_size(nodes, args, lambda s: print(s, file=sys.stderr, flush=True)))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"dispatch bench: python {platform.python_version()}, grpcio {grpc.__version__}, "
          f"{psutil.cpu_count()} CPUs, load average {', '.join(f'{x:.2f}' for x in psutil.getloadavg())}",
          file=sys.stderr)
    started = time.perf_counter()
    rows = [] if args.pools_only else asyncio.run(amain(args))
    if rows:
        print(render(rows, args))
    if args.pools_nodes > 0:
        print("\n" + "\n".join(pools_lines(args.pools_nodes)))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
