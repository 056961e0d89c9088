"""NodeService.Connect: translates one node's stream into Mesh calls and back."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import grpc

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc
from lingua_common.errors import LinguaError, code_name, make_error
from scheduler_svc.drain import NODE_MOVED
from scheduler_svc.mesh import Mesh, NodeLink
from scheduler_svc.pairing import code_message

log = logging.getLogger(__name__)


# Scaled out: takes a node's message about another instance's job (returns True) to relay it there.
Relay = Callable[[str, str, Any], bool]


class NodeServicer(node_pb2_grpc.NodeServiceServicer):
    def __init__(self, mesh: Mesh, relay: Relay | None = None) -> None:
        self.mesh = mesh
        self.relay = relay
        self._handlers: dict[str, Callable[[str, Any], None]] = {
            "heartbeat": mesh.node_heartbeat,
            "job_ack": mesh.job_acked,
            "job_started": mesh.job_started,
            "asr_partial": mesh.asr_partial,
            "tts_chunk": mesh.tts_chunk,
            "job_result": mesh.job_result,
            "model_install_status": mesh.model_install_status,
            "drain": lambda node_id, msg: mesh.node_draining(node_id, msg.reason),
            "node_error": lambda node_id, msg: log.warning(
                "node error %s: %s", code_name(msg.code), msg.message,
                extra={"node_id": node_id}),
        }

    async def Connect(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:  # type: ignore[override,type-arg]
        if self.mesh.draining:  # shutting down: the node tries the next scheduler
            await context.abort(grpc.StatusCode.UNAVAILABLE, NODE_MOVED)
        first = await context.read()
        if first is grpc.aio.EOF:
            return
        if first.WhichOneof("kind") != "register":
            await context.write(node_pb2.SchedulerMessage(error=make_error(
                common_pb2.INVALID_MESSAGE, "the first message on a node stream must be `register`")))
            return
        link = NodeLink(node_id="")
        try:
            registered = self.mesh.register_node(first.register, link)
        except LinguaError as exc:
            await context.write(node_pb2.SchedulerMessage(error=exc.to_proto()))
            return
        await context.write(node_pb2.SchedulerMessage(registered=registered))
        loop = asyncio.get_running_loop()
        writer = loop.create_task(self._write(link, context))
        reader = loop.create_task(self._read(link, context))
        try:
            await asyncio.wait([reader, writer], return_when=asyncio.FIRST_COMPLETED)
            if link.handed_over and not reader.done():  # drain.py: all written, send the node elsewhere
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader
                await context.abort(grpc.StatusCode.UNAVAILABLE, NODE_MOVED)
            await reader  # replaced by a newer stream, or stopping: the node ends it
        finally:
            self.mesh.node_disconnected(link)
            for task in (reader, writer):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _read(self, link: NodeLink, context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
        while True:
            msg = await context.read()
            if msg is grpc.aio.EOF:
                return
            kind = msg.WhichOneof("kind")
            handler = self._handlers.get(kind or "")
            if self.relay is not None and self.relay(link.node_id, kind or "", getattr(msg, kind or "")):
                continue
            if handler is not None:
                try:
                    handler(link.node_id, getattr(msg, kind))
                except LinguaError as exc:  # a message past its bounds (limits.py): refused, the stream carries on
                    link.send(node_pb2.SchedulerMessage(error=exc.to_proto()))
            elif kind == "pairing_code_request":
                try:  # scaled out the code goes to Redis, redeemable on any instance
                    code, expires_ms = await self.mesh.pairing_store.issue(link.node_id)
                    link.send(code_message(code, expires_ms))
                except LinguaError as exc:
                    link.send(node_pb2.SchedulerMessage(error=exc.to_proto()))

    async def _write(self, link: NodeLink, context: grpc.aio.ServicerContext) -> None:  # type: ignore[type-arg]
        while True:
            msg = await link.outbox.get()
            if msg is None:
                return
            await context.write(msg)
