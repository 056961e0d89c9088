"""Scale out: 3 scheduler processes sharing the real Redis (127.0.0.1:6379), 6 node processes, 20 sessions
spread over the instances. Every utterance gets exactly one outcome, in order, while jobs cross instances;
then one scheduler is SIGKILLed mid-run: its nodes and sessions move to the others, nothing is lost or
duplicated, and its inbox is reclaimed.

The nodes run the real NodeAgent with the stand-in pipeline of tests/helpers/chaos_node.py (it says why);
the schedulers are real `python -m scheduler_svc` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import grpc
import pytest
from redis.asyncio import Redis

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2, node_pb2_grpc, session_pb2, session_pb2_grpc
from lingua_cli.up import scheduler_processes
from node_svc.agent import NodeAgent
from node_svc.config import NodeSettings
from tests.helpers.chaos_node import StandInPipeline
from tests.helpers.mesh import outcome_index, running_scheduler
from tests.helpers.ports import free_port_block
from tests.service.test_chaos import _overlaps

REDIS = "redis://127.0.0.1:6379/0"
SCHEDULERS, NODES, SESSIONS, IN_FLIGHT = 3, 6, 20, 3
AUDIOS = [common_pb2.Audio(data=bytes(3200 * (i + 1)), encoding=common_pb2.PCM16, sample_rate_hz=16000)
          for i in range(3)]


@dataclass
class Cluster:
    prefix: str
    log_dir: Path
    addresses: list[str] = field(default_factory=list)
    schedulers: list[asyncio.subprocess.Process] = field(default_factory=list)
    nodes: list[asyncio.subprocess.Process] = field(default_factory=list)
    killed_at: dict[str, int] = field(default_factory=dict)

    async def start_scheduler(self, i: int) -> None:
        env = dict(os.environ, LINGUA_SCHEDULER_HOST="127.0.0.1", LINGUA_SCHEDULER_PORT="0",
                   LINGUA_SCHEDULER_METRICS_PORT="-1", LINGUA_SCHEDULER_STATE_URL=REDIS,
                   LINGUA_SCHEDULER_STATE_PREFIX=self.prefix, LINGUA_SCHEDULER_INSTANCE_ID=f"sched-{i}",
                   LINGUA_SCHEDULER_CLUSTER_HEARTBEAT_MS="500", LINGUA_SCHEDULER_HEARTBEAT_INTERVAL_MS="500",
                   LINGUA_SCHEDULER_HEARTBEAT_TIMEOUT_MS="10000", LINGUA_SCHEDULER_QUEUE_TIMEOUT_MS="60000",
                   LINGUA_SCHEDULER_RESULT_GRACE_MS="60000")
        with _log_file(self.log_dir / f"sched-{i}.log") as err:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "scheduler_svc", env=env,
                                                        stdout=asyncio.subprocess.PIPE, stderr=err)
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        match = re.search(r"ready on ([\d.]+:\d+)", line)
        assert match, f"scheduler {i} did not start: {line!r}"
        self.schedulers.append(proc)
        self.addresses.append(match.group(1))

    async def start_node(self, i: int) -> None:
        # Each node starts with a different instance, and moves on to the next one when it is lost.
        order = self.addresses[i % SCHEDULERS:] + self.addresses[:i % SCHEDULERS]
        env = dict(os.environ, LINGUA_NODE_SCHEDULER=",".join(order), LINGUA_NODE_MAX_CONCURRENT_JOBS="1",
                   LINGUA_NODE_CPU_THREADS="1", LINGUA_NODE_WARM_UP="false", LINGUA_NODE_RECONNECT_INITIAL_MS="100",
                   LINGUA_NODE_JOB_LOG=str(self.log_dir / f"node-{i}.jsonl"))
        self.nodes.append(await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.helpers.chaos_node", env=env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL))

    def kill_scheduler(self, i: int) -> None:
        self.schedulers[i].send_signal(signal.SIGKILL)
        for n in range(NODES):  # the job logs of nodes on it: what ran there ran until now at most
            self.killed_at[str(self.log_dir / f"node-{n}.jsonl")] = time.monotonic_ns()

    async def ready_nodes(self, i: int) -> int:
        async with grpc.aio.insecure_channel(self.addresses[i]) as channel:
            reply = await admin_pb2_grpc.SchedulerAdminStub(channel).ListNodes(
                admin_pb2.ListNodesRequest(states=[node_pb2.NODE_STATE_READY]), timeout=5)
        return len(reply.nodes)

    async def stop(self) -> None:
        for proc in self.nodes + self.schedulers:
            if proc.returncode is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.nodes + self.schedulers:
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def _log_file(path: Path) -> IO[bytes]:
    return path.open("wb")


@pytest.fixture(scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    c = Cluster(f"lingua-test-{secrets.token_hex(4)}", tmp_path_factory.mktemp("scale_out"))
    try:
        for i in range(SCHEDULERS):
            await c.start_scheduler(i)
        for i in range(NODES):
            await c.start_node(i)
        deadline = time.monotonic() + 90
        while await c.ready_nodes(0) < NODES:  # every instance sees every node (the global view)
            assert time.monotonic() < deadline, "nodes did not come up"
            await asyncio.sleep(0.3)
        yield c
    finally:
        await c.stop()
        redis = Redis.from_url(REDIS)
        found = [k async for k in redis.scan_iter(match=f"{c.prefix}:*")]
        if found:
            await redis.delete(*found)
        await redis.aclose()


class Client:
    """One session's client: a Converse stream, resumed on the next instance when its instance dies."""

    def __init__(self, addresses: list[str], first: int, utterances: int) -> None:
        self.addresses, self.at, self.utterances = addresses, first, utterances
        self.outcomes: list[session_pb2.ServerMessage] = []
        self.session_id = self.token = ""
        self.resumes = 0

    async def run(self) -> list[session_pb2.ServerMessage]:
        while len(self.outcomes) < self.utterances:
            try:
                await self._stream()
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.UNAVAILABLE, exc
                self.at = (self.at + 1) % len(self.addresses)
                self.resumes += 1
        return self.outcomes

    async def _stream(self) -> None:
        async with grpc.aio.insecure_channel(self.addresses[self.at]) as channel:
            call = session_pb2_grpc.SessionServiceStub(channel).Converse()
            await call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
                src_lang="en", tgt_lang="en", resume_session_id=self.session_id, resume_token=self.token)))
            opened = await call.read()
            assert opened.HasField("opened"), opened
            self.session_id, self.token = opened.opened.session_id, opened.opened.resume_token
            window = asyncio.Semaphore(IN_FLIGHT)

            async def write() -> None:
                # After a resume: everything without an outcome yet, from the first missing index.
                for i in range(len(self.outcomes), self.utterances):
                    await window.acquire()
                    await call.write(session_pb2.ClientMessage(utterance=session_pb2.Utterance(
                        session_id=self.session_id, utterance_index=i, audio=AUDIOS[i % len(AUDIOS)])))

            writer = asyncio.create_task(write())
            try:
                while len(self.outcomes) < self.utterances:
                    msg = await call.read()
                    if msg is grpc.aio.EOF:
                        raise grpc.aio.AioRpcError(grpc.StatusCode.UNAVAILABLE, grpc.aio.Metadata(),
                                                   grpc.aio.Metadata(), "stream ended")
                    if msg.HasField("result") or (msg.HasField("error") and msg.error.HasField("utterance_index")):
                        self.outcomes.append(msg)
                        window.release()
            finally:
                writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, grpc.aio.AioRpcError):
                    await writer
            await call.write(session_pb2.ClientMessage(close=session_pb2.CloseSessionRequest(
                session_id=self.session_id)))
            await call.done_writing()


def check_outcomes(clients: list[Client], utterances: int) -> tuple[int, list[common_pb2.Error]]:
    for c in clients:
        assert [outcome_index(m) for m in c.outcomes] == list(range(utterances))  # one each, in order
        for m in c.outcomes:
            if m.HasField("result"):  # the result belongs to this utterance's audio
                assert m.result.text_asr == f"{1600 * (m.result.utterance_index % 3 + 1)} samples"
    ok = sum(m.HasField("result") for c in clients for m in c.outcomes)
    return ok, [m.error for c in clients for m in c.outcomes if m.HasField("error")]


@pytest.mark.slow
async def test_sessions_on_three_instances_share_six_nodes(cluster: Cluster) -> None:
    utterances = 6
    clients = [Client(cluster.addresses, i % SCHEDULERS, utterances) for i in range(SESSIONS)]
    started = time.monotonic()
    await asyncio.wait_for(asyncio.gather(*(c.run() for c in clients)), 60)
    ok, errors = check_outcomes(clients, utterances)
    # Node i started on instance i % 3; a result from a node of another instance crossed over.
    crossed = sum(int(m.result.node_id and nodes_instance(cluster, m.result.node_id) != c.at)
                  for c in clients for m in c.outcomes if m.HasField("result"))
    print(f"scale-out: {ok}/{SESSIONS * utterances} results in {time.monotonic() - started:.1f} s, "
          f"{crossed} crossed instances, errors {[e.message for e in errors][:3]}")
    assert ok == SESSIONS * utterances
    assert crossed > 0


def nodes_instance(cluster: Cluster, node_id: str) -> int:
    """Which instance a node registered with first, from its job log's name (node-<i>.jsonl)."""
    for path in cluster.log_dir.glob("node-*.jsonl"):
        if f'"{node_id}"' in path.read_text():
            return int(path.stem.split("-")[1]) % SCHEDULERS
    return -1


@pytest.mark.slow
async def test_a_pairing_code_from_one_instance_is_redeemed_once_on_another(cluster: Cluster) -> None:
    async with grpc.aio.insecure_channel(cluster.addresses[1]) as node_channel:
        stream = node_pb2_grpc.NodeServiceStub(node_channel).Connect()
        await stream.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(display_name="pairing-node")))
        registered = (await stream.read()).registered
        await stream.write(node_pb2.NodeMessage(pairing_code_request=node_pb2.PairingCodeRequest()))
        while not (msg := await stream.read()).HasField("pairing_code"):
            assert msg.HasField("node_status"), msg
        code = msg.pairing_code.code
        request = session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="en", pairing_code=code, tenant_id="pair")
        async with grpc.aio.insecure_channel(cluster.addresses[2]) as channel:
            opened = await session_pb2_grpc.SessionServiceStub(channel).OpenSession(request, timeout=5)
        assert opened.assigned_node_id == registered.node_id  # issued by sched-1, redeemed on sched-2
        async with grpc.aio.insecure_channel(cluster.addresses[0]) as channel:
            with pytest.raises(grpc.aio.AioRpcError) as again:
                await session_pb2_grpc.SessionServiceStub(channel).OpenSession(request, timeout=5)
        assert "pairing code not found" in str(again.value.details())  # single use, everywhere
        await stream.done_writing()


@pytest.mark.slow
async def test_a_scheduler_killed_mid_run_loses_nothing(cluster: Cluster) -> None:
    utterances = 10
    clients = [Client(cluster.addresses, i % SCHEDULERS, utterances) for i in range(SESSIONS)]
    run = asyncio.gather(*(c.run() for c in clients))
    await asyncio.sleep(1.5)
    assert not run.done()
    cluster.kill_scheduler(0)
    await asyncio.wait_for(run, 75)
    ok, errors = check_outcomes(clients, utterances)
    total = SESSIONS * utterances
    moved = sum(c.resumes for c in clients)
    print(f"scale-out kill: {ok}/{total} results, {moved} sessions resumed elsewhere, "
          f"errors {sorted({common_pb2.ErrorCode.Name(e.code) for e in errors})}")
    assert moved >= SESSIONS // SCHEDULERS  # the dead instance's sessions went on elsewhere
    assert ok >= 0.95 * total, [e.message for e in errors][:5]
    assert _overlaps(cluster.log_dir, cluster.killed_at) == []
    # Its nodes moved to the survivors, and a survivor reclaimed its inbox and forgot it.
    deadline = time.monotonic() + 20
    redis = Redis.from_url(REDIS)
    try:
        while (await cluster.ready_nodes(1) < NODES or await redis.exists(f"{cluster.prefix}:inbox:{{sched-0}}")
               or await redis.sismember(f"{cluster.prefix}:instances", "sched-0")):
            assert time.monotonic() < deadline, "the dead instance's nodes or inbox were not taken over"
            await asyncio.sleep(0.3)
    finally:
        await redis.aclose()


@pytest.mark.slow
async def test_a_scheduler_stopped_with_sigterm_hands_over_without_losing_anything(cluster: Cluster) -> None:
    """After the kill above, sched-1 and sched-2 are left: SIGTERM sched-1 mid-run; it drains into sched-2."""
    utterances = 10
    clients = [Client(cluster.addresses, 1 + i % 2, utterances) for i in range(SESSIONS)]
    run = asyncio.gather(*(c.run() for c in clients))
    await asyncio.sleep(1.5)
    assert not run.done()
    stopping = cluster.schedulers[1]
    stopped_at = time.monotonic()
    stopping.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(stopping.wait(), 30) == 0
    exit_s = time.monotonic() - stopped_at
    await asyncio.wait_for(run, 75)
    ok, errors = check_outcomes(clients, utterances)
    moved = sum(c.resumes for c in clients)
    print(f"scale-out drain: {ok}/{SESSIONS * utterances} results, {moved} sessions resumed elsewhere, "
          f"sched-1 exited {exit_s:.1f} s after SIGTERM, errors {[e.message for e in errors][:3]}")
    assert ok == SESSIONS * utterances  # in-flight jobs finished, the rest was re-sent: no error at all
    assert moved >= SESSIONS // 4
    assert exit_s < 10 + 5  # drain_timeout_ms, plus the stop itself
    deadline = time.monotonic() + 20
    while await cluster.ready_nodes(2) < NODES:  # every node reconnected to the last instance
        assert time.monotonic() < deadline, "the drained instance's nodes did not move"
        await asyncio.sleep(0.3)


async def test_lingua_up_schedulers_form_one_cluster(tmp_path: Path) -> None:
    """The processes `lingua up --schedulers 2 --redis …` would start see each other's nodes."""
    prefix = f"lingua-test-{secrets.token_hex(4)}"
    base = dict(os.environ, LINGUA_SCHEDULER_HOST="127.0.0.1", LINGUA_SCHEDULER_STATE_PREFIX=prefix,
                LINGUA_SCHEDULER_CLUSTER_HEARTBEAT_MS="200", LINGUA_SCHEDULER_READY_AFTER_HEARTBEATS="0")
    planned = scheduler_processes(base, 0, -1, 2, REDIS, base_port=free_port_block(2))
    procs = []
    try:
        for i, sched in enumerate(planned):
            with _log_file(tmp_path / f"sched-{i}.log") as err:
                procs.append(await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "scheduler_svc", env=sched.env, stdout=asyncio.subprocess.PIPE, stderr=err))
            assert procs[-1].stdout is not None
            line = (await asyncio.wait_for(procs[-1].stdout.readline(), 60)).decode()
            assert f"ready on 127.0.0.1:{sched.address.rsplit(':', 1)[1]}" in line, line
        async with grpc.aio.insecure_channel(planned[1].address) as node_channel:
            stream = node_pb2_grpc.NodeServiceStub(node_channel).Connect()
            await stream.write(node_pb2.NodeMessage(register=node_pb2.NodeRegister(display_name="up-node")))
            node_id = (await stream.read()).registered.node_id
            async with grpc.aio.insecure_channel(planned[0].address) as channel:
                admin = admin_pb2_grpc.SchedulerAdminStub(channel)
                deadline = time.monotonic() + 20
                while node_id not in [n.node_id for n in (await admin.ListNodes(admin_pb2.ListNodesRequest())).nodes]:
                    assert time.monotonic() < deadline, "sched-0 never saw sched-1's node"
                    await asyncio.sleep(0.1)
            await stream.done_writing()
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)
        redis = Redis.from_url(REDIS)
        found = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if found:
            await redis.delete(*found)
        await redis.aclose()


async def test_a_node_tries_the_next_scheduler_address() -> None:
    """A node given several scheduler addresses skips one that does not answer."""
    async with running_scheduler() as sched:
        agent = NodeAgent(NodeSettings(scheduler=f"127.0.0.1:1, 127.0.0.1:{sched.port}", reconnect_initial_ms=50),
                          StandInPipeline())  # type: ignore[arg-type]
        task = asyncio.create_task(agent.run())
        try:
            await asyncio.wait_for(agent.connected.wait(), 20)
            assert agent.scheduler == f"127.0.0.1:{sched.port}"
        finally:
            await agent.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
