"""One JSON node connection ↔ one NodeService.Connect stream to the scheduler.

To the scheduler the JSON node is an ordinary node: it registers, heartbeats, takes JobAssigns and answers
them, so it is listed, scored and failed over like a native one. What the bridge adds:

- heartbeats at the scheduler's interval (the original beat every 15 s; the scheduler expects ~5 s), with
  the node's last reported usage, for as long as the node keeps talking (node_silence_timeout_s);
- attempt ids: early nodes know none, so results are matched to the attempt this node was given, and
  answers for jobs it no longer holds (cancelled, failed over) are dropped;
- JobAck as soon as job_assign is on the node's socket (early nodes never ack; the scheduler's ack
  timeout would otherwise re-dispatch every job);
- node ids the original way: a node that comes back with its stored node_id gets it again.

A dropped WebSocket (or a silent node) ends the gRPC stream, and the scheduler fails its jobs over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import grpc
from starlette.websockets import WebSocket, WebSocketDisconnect

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc
from lingua_common.audio import AudioDecodeError
from lingua_common.errors import LinguaError, code_name
from wirecompat import node_frames, wire
from wirecompat.config import CompatSettings
from wirecompat.wire import Frame

log = logging.getLogger(__name__)

Outbox = asyncio.Queue[node_pb2.NodeMessage | None]
# Sending to a socket the node already closed.
_GONE = (WebSocketDisconnect, RuntimeError, OSError)


class Identities:
    """node_id → the scheduler's re-registration token, for nodes that reconnect to this adapter.

    The original protocol has no node credentials: a node proves nothing but its id, so this adapter
    vouches for the ids it handed out (in memory; after an adapter restart such nodes get fresh ids).
    """

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}

    def token(self, node_id: str) -> str:
        return self._tokens.get(node_id, "")

    def remember(self, registered: node_pb2.Registered) -> None:
        self._tokens[registered.node_id] = registered.auth_token


class NodeBridge:
    def __init__(self, ws: WebSocket, stub: node_pb2_grpc.NodeServiceStub, settings: CompatSettings,
                 identities: Identities) -> None:
        self.ws = ws
        self.stub = stub
        self.settings = settings
        self.identities = identities
        self.node_id = ""
        self.features = common_pb2.Features()
        self.usage = node_pb2.ResourceUsage()
        # job_id → the attempt this node was given, for the jobs it holds now.
        self.jobs: dict[str, int] = {}
        self.outbox: Outbox = asyncio.Queue()
        self._send_lock = asyncio.Lock()

    async def send(self, frame: Frame) -> None:
        async with self._send_lock:
            await self.ws.send_json(frame)

    # ---- life of one connection --------------------------------------------------------------------

    async def run(self) -> None:
        register = await self._first_register()
        if register is None:
            with contextlib.suppress(*_GONE):
                await self.ws.close(code=1008, reason="node_register expected")
            return
        try:
            call, registered = await self._register(register)
        except LinguaError as exc:  # refused, or no scheduler: the node retries later, as it does after any drop
            log.warning("JSON node not registered: %s", exc)
            with contextlib.suppress(*_GONE):
                await self.send(wire.error_frame(exc.to_proto()))
                await self.ws.close(code=1011, reason=exc.message[:120])
            return
        self.node_id = registered.node_id
        self.identities.remember(registered)
        log.info("JSON node registered as %s", self.node_id, extra={"node_id": self.node_id})
        tasks: list[asyncio.Task[None]] = []
        try:
            await self.send(node_frames.register_ack(registered))
            tasks = [asyncio.create_task(self._from_node(), name="from-node"),
                     asyncio.create_task(self._from_scheduler(call), name="from-scheduler"),
                     asyncio.create_task(self._heartbeats(registered.heartbeat_interval_ms / 1000), name="beats"),
                     asyncio.create_task(self._write(call), name="to-scheduler")]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    log.warning("JSON node %s: %s ended: %r", self.node_id, task.get_name(), task.exception())
        except _GONE:
            pass
        finally:
            for task in tasks:
                task.cancel()
            call.cancel()  # the scheduler sees the node go and fails its jobs over
            with contextlib.suppress(asyncio.CancelledError, *_GONE, grpc.RpcError):
                await asyncio.gather(*tasks, return_exceptions=True)
                await self.ws.close(code=1001)
            log.info("JSON node %s disconnected", self.node_id, extra={"node_id": self.node_id})

    async def _receive(self, timeout_s: float) -> Frame | None:
        """The next valid frame; None when the node left or was silent for timeout_s. Malformed frames are
        logged and skipped (the original's node socket did the same)."""
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout_s)
            except TimeoutError:
                log.warning("JSON node %s silent for %.0f s: dropping it", self.node_id or "(unregistered)",
                            timeout_s)
                return None
            if message["type"] == "websocket.disconnect":
                return None
            text = message.get("text")
            if text is None:
                log.warning("JSON node sent a binary frame; the protocol is JSON text")
                continue
            try:
                return wire.decode(text)
            except LinguaError as exc:
                log.warning("JSON node %s: %s", self.node_id, exc.message)

    async def _first_register(self) -> node_pb2.NodeRegister | None:
        deadline = time.monotonic() + self.settings.register_timeout_s
        while True:
            frame = await self._receive(max(0.0, deadline - time.monotonic()))
            if frame is None:
                return None
            if frame["type"] != "node_register":
                log.warning("JSON node sent %r before node_register; ignored", frame["type"])
                continue
            try:
                register = node_frames.register(frame, self.settings.node_max_jobs)
            except LinguaError as exc:
                log.warning("bad node_register: %s", exc.message)
                with contextlib.suppress(*_GONE):
                    await self.send(wire.error_frame(exc.to_proto()))
                continue
            self.features.CopyFrom(register.features_supported)
            return register

    async def _register(self, register: node_pb2.NodeRegister) -> tuple[Any, node_pb2.Registered]:
        register.auth_token = self.identities.token(register.node_id)
        try:
            call = self.stub.Connect()
            await call.write(node_pb2.NodeMessage(register=register))
            first = await call.read()
        except grpc.RpcError as exc:
            raise LinguaError(common_pb2.NODE_UNAVAILABLE, f"the scheduler is unreachable: {exc.code()}") from None
        if first is grpc.aio.EOF:
            raise LinguaError(common_pb2.NODE_UNAVAILABLE, "the scheduler closed the stream while registering")
        if first.WhichOneof("kind") == "registered":
            return call, first.registered
        call.cancel()
        err = first.error
        if err.code == common_pb2.NODE_ID_CONFLICT and register.node_id:
            # An id this adapter cannot vouch for (another node's, or from before a restart): a fresh one,
            # which the node stores from the ack as it always does.
            log.info("node id %s is taken; registering the JSON node under a new id", register.node_id)
            register.node_id = ""
            return await self._register(register)
        raise LinguaError(err.code, err.message)

    # ---- node → scheduler -----------------------------------------------------------------------------

    async def _from_node(self) -> None:
        while (frame := await self._receive(self.settings.node_silence_timeout_s)) is not None:
            try:
                message = self._translate(frame)
            except LinguaError as exc:
                log.warning("JSON node %s sent a bad %s: %s", self.node_id, frame["type"], exc.message)
                continue
            if message is not None:
                self.outbox.put_nowait(message)

    def _attempt(self, frame: Frame, done: bool = False) -> int | None:
        """The attempt a job message belongs to; None for a job this node no longer holds (stale)."""
        job_id = wire.req_str(frame, "job_id")
        held = self.jobs.get(job_id)
        claimed = frame.get("attempt_id")
        if held is None or (isinstance(claimed, int) and claimed != held):
            log.info("JSON node %s: dropping %s for job %s it no longer holds", self.node_id, frame["type"], job_id)
            return None
        if done:
            del self.jobs[job_id]
        return held

    def _translate(self, frame: Frame) -> node_pb2.NodeMessage | None:
        kind = frame["type"]
        if kind == "node_heartbeat":
            self.usage = node_frames.usage(frame)
            changed = node_frames.capabilities(frame, self.features)
            if changed is not None:
                self.features.CopyFrom(changed.features_supported)
                changed.resource_usage.CopyFrom(self._usage())
                return node_pb2.NodeMessage(heartbeat=changed)
            return None
        if kind == "node_register":  # again on the same socket: new capabilities
            register = node_frames.register(frame, self.settings.node_max_jobs)
            self.features.CopyFrom(register.features_supported)
            return node_pb2.NodeMessage(heartbeat=node_pb2.NodeHeartbeat(
                capabilities_changed=True, installed_models=register.installed_models,
                features_supported=register.features_supported, resource_usage=self._usage()))
        if kind in ("job_ack", "job_started", "asr_partial", "job_result", "MODEL_NOT_AVAILABLE"):
            attempt = self._attempt(frame, done=kind in ("job_result", "MODEL_NOT_AVAILABLE"))
            if attempt is None:
                return None
            job_id = frame["job_id"]
            if kind == "job_ack":
                return node_pb2.NodeMessage(job_ack=node_pb2.JobAck(job_id=job_id, attempt_id=attempt))
            if kind == "job_started":
                return node_pb2.NodeMessage(job_started=node_pb2.JobStarted(job_id=job_id, attempt_id=attempt))
            if kind == "asr_partial":
                return node_pb2.NodeMessage(asr_partial=node_frames.asr_partial(frame, attempt))
            if kind == "job_result":
                return node_pb2.NodeMessage(job_result=node_frames.job_result(frame, attempt))
            return node_pb2.NodeMessage(job_result=node_frames.model_not_available(frame, attempt))
        if kind == "node_error":
            err = node_frames.node_error(frame, common_pb2.INTERNAL)
            return node_pb2.NodeMessage(node_error=node_pb2.NodeError(code=err.code, message=err.message,
                                                                      details=err.details))
        if kind == "request_pairing_code":  # the original scheduler never answered this (reference §15.6)
            return node_pb2.NodeMessage(pairing_code_request=node_pb2.PairingCodeRequest())
        log.info("JSON node %s sent %r; ignored", self.node_id, kind)
        return None

    def _usage(self) -> node_pb2.ResourceUsage:
        usage = node_pb2.ResourceUsage()
        usage.CopyFrom(self.usage)
        usage.running_jobs = max(usage.running_jobs, len(self.jobs))
        return usage

    async def _heartbeats(self, interval_s: float) -> None:
        while True:
            self.outbox.put_nowait(node_pb2.NodeMessage(heartbeat=node_pb2.NodeHeartbeat(
                resource_usage=self._usage(), timestamp_ms=int(time.time() * 1000))))
            await asyncio.sleep(interval_s)

    async def _write(self, call: Any) -> None:
        while (message := await self.outbox.get()) is not None:
            await call.write(message)

    # ---- scheduler → node -----------------------------------------------------------------------------

    async def _from_scheduler(self, call: Any) -> None:
        while (msg := await call.read()) is not grpc.aio.EOF:
            kind = msg.WhichOneof("kind")
            if kind == "job_assign":
                await self._assign(msg.job_assign)
            elif kind == "job_cancel":
                if self.jobs.get(msg.job_cancel.job_id) == msg.job_cancel.attempt_id:
                    del self.jobs[msg.job_cancel.job_id]
                    await self.send(node_frames.job_cancel(msg.job_cancel))
            elif kind == "node_status":
                await self.send(node_frames.node_status(self.node_id, msg.node_status))
            elif kind == "pairing_code":
                await self.send(node_frames.pairing_code(msg.pairing_code))
            elif kind == "error":
                log.warning("scheduler error for JSON node %s: %s %s", self.node_id,
                            code_name(msg.error.code), msg.error.message)
                await self.send(wire.error_frame(msg.error))
            elif kind == "install_model":
                order = msg.install_model
                self.outbox.put_nowait(node_pb2.NodeMessage(model_install_status=node_pb2.ModelInstallStatus(
                    request_id=order.request_id, node_id=self.node_id, model_id=order.model_id,
                    state=node_pb2.MODEL_STATE_ERROR, error=common_pb2.Error(
                        code=common_pb2.MODEL_NOT_AVAILABLE,
                        message="a JSON-protocol (original) node installs models itself; it takes no install orders"))))

    async def _assign(self, job: node_pb2.JobAssign) -> None:
        try:
            pcm16 = await asyncio.to_thread(node_frames.job_audio, job.audio)
        except AudioDecodeError as exc:
            self.outbox.put_nowait(node_pb2.NodeMessage(job_result=node_pb2.JobResult(
                job_id=job.job_id, attempt_id=job.attempt_id, success=False, error=common_pb2.Error(
                    code=exc.code_name, message=str(exc), job_id=job.job_id))))
            return
        self.jobs[job.job_id] = job.attempt_id  # before sending: answers may come quickly
        await self.send(node_frames.job_assign(job, pcm16))
        self.outbox.put_nowait(node_pb2.NodeMessage(job_ack=node_pb2.JobAck(job_id=job.job_id,
                                                                            attempt_id=job.attempt_id)))
