"""The Mesh's hooks when several instances share Redis: shared slots, forwarding, records, reclaim.

The Mesh stays synchronous; everything that needs Redis is queued here as a task chained after the
previous one with the same key: per node for slots and node messages (a slot is reserved before it is
released, an assign is sent before its cancel), per job for relayed node messages (the ack before the
result), per session for its record. Work under different keys runs concurrently. What
other instances send arrives through this instance's inbox and re-enters the Mesh through the same
calls a local node stream uses, so the reorder buffer, timeouts and failover work unchanged.

Who does what for a job whose session is here (origin) and whose node is elsewhere (owner):
origin reserves the slot, records the job as dispatched and puts the JobAssign in the owner's inbox;
the owner sends it down its node stream and relays the node's ack, partials, TTS chunks and result to
the origin's inbox; the origin deduplicates results by (job id, attempt) with the job record and
delivers them. A lost node or a dead owner instance means a re-dispatch, as for a local node.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.errors import LinguaError
from scheduler_svc.cluster.inbox import ASSIGN, LOST, NODE, Entry, Inbox
from scheduler_svc.cluster.jobs import JobRecords
from scheduler_svc.cluster.keys import Keys
from scheduler_svc.cluster.nodeview import NodeView, record
from scheduler_svc.cluster.pairing import SharedPairing
from scheduler_svc.cluster.presence import Presence
from scheduler_svc.cluster.relay import Relay
from scheduler_svc.cluster.reservations import Reservations, member, parse_member
from scheduler_svc.cluster.sessions import SessionRecord, SessionRecords
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.mesh import LocalHooks, Mesh
from scheduler_svc.pairing import LocalPairing
from scheduler_svc.registry import NodeRecord, NodeState
from scheduler_svc.sessions import Job, Session

log = logging.getLogger(__name__)

# A reservation outlives its job's deadline by this much before it lapses on its own.
_RESERVATION_MARGIN_MS = 5_000
# Node messages an owner relays to the job's origin.
_RELAYED = ("job_ack", "job_started", "asr_partial", "tts_chunk", "job_result")

Op = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


class ClusterBridge:
    def __init__(self, settings: SchedulerSettings, mesh: Mesh, redis: Redis, instance_id: str) -> None:
        self.settings, self.mesh, self.redis, self.instance_id = settings, mesh, redis, instance_id
        keys = Keys(settings.state_prefix)
        self.keys = keys
        ttl_ms = 4 * settings.cluster_heartbeat_ms
        self.presence = Presence(redis, keys, instance_id, ttl_ms)
        self.view = NodeView(redis, keys, instance_id, ttl_ms)
        self.reservations = Reservations(redis, keys)
        self.jobs = JobRecords(redis, keys)
        self.inbox = Inbox(redis, keys, instance_id, settings.inbox_maxlen, settings.inbox_max_deliveries)
        self.sessions = SessionRecords(redis, keys, max(settings.session_idle_timeout_ms, 10 * ttl_ms))
        self.relay = Relay()
        self.pairing = SharedPairing(redis, keys, instance_id, settings.pairing_ttl_s, settings.pairing_max_failures,
                                     settings.pairing_failure_window_s, settings.pairing_max_global_failures,
                                     settings.pairing_code_max_misses)
        self.live: set[str] = {instance_id}
        # The last queued task of each ordering key, and every task not finished yet.
        self._chains: dict[str, asyncio.Task[None]] = {}
        self._pending: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._node_handlers: dict[str, Callable[[str, Any], None]] = {
            "job_ack": mesh.job_acked, "job_started": mesh.job_started, "asr_partial": mesh.asr_partial,
            "tts_chunk": mesh.tts_chunk, "job_result": mesh.job_result}

    # ---- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.inbox.ensure_group()
        await self.presence.beat()
        await self._refresh()
        self.mesh.hooks = self
        self.mesh.pairing_store = self.pairing
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._consume()), loop.create_task(self._tick())]
        log.info("scheduler instance %s joined the cluster (prefix %s)", self.instance_id, self.keys.prefix)

    async def stop(self, leave: bool = True) -> None:
        """Leave: look dead at once, so the others reclaim our inbox and re-dispatch our nodes' jobs.
        leave=False goes silent instead, as a crash would (the others notice when presence expires)."""
        if leave and self._pending:  # finish the queued Redis work first (releases, records), briefly
            await asyncio.wait(self._pending, timeout=2.0)
        for task in [*self._tasks, *self._pending]:
            task.cancel()
        for task in [*self._tasks, *self._pending]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if leave:
            with contextlib.suppress(Exception):
                await self.presence.leave()
        self.mesh.hooks = LocalHooks(self.mesh.links)  # what the Mesh does from now on stays local
        self.mesh.pairing_store = LocalPairing(self.mesh.pairing)
        await self.redis.aclose()

    # ---- MeshHooks: called synchronously by the Mesh ---------------------------------------------------

    def to_node(self, node: NodeRecord, message: node_pb2.SchedulerMessage) -> None:
        if message.HasField("job_assign"):
            self._queue(node.node_id, lambda: self._assign(node.node_id, node.max_jobs, message))
        else:
            self._queue(node.node_id, lambda: self._send_to_node(node.node_id, message))

    def released(self, node: NodeRecord, job_id: str, attempt: int) -> None:
        self._queue(node.node_id,
                    lambda: self.reservations.release(node.node_id, member(job_id, attempt, self.instance_id)))

    def job_finished(self, job: Job, ok: bool) -> None:
        async def record() -> None:
            await self.jobs.move(job.job_id, "done" if ok else "failed", job.attempt)
        self._queue(job.job_id, record)

    def node_lost(self, node_id: str, reason: str) -> None:
        for f in self.relay.node_lost(node_id):
            self._queue(f.job_id, functools.partial(self._tell_lost, f.origin, f.node_id, f.job_id, f.attempt,
                                                    reason))
        self._queue(node_id, lambda: self.view.withdraw(node_id))
        self._queue(node_id, lambda: self._revoke_codes(node_id))

    def session_opened(self, session: Session, request: session_pb2.OpenSessionRequest) -> None:
        rec = SessionRecord(session.session_id, session.resume_token, self.instance_id, session.paired_node_id,
                            request)
        self._queue(session.session_id, lambda: self.sessions.save(rec))

    def session_closed(self, session: Session, forget: bool) -> None:
        if forget:
            self._queue(session.session_id, lambda: self.sessions.forget(session.session_id))

    # ---- called by the servicers -------------------------------------------------------------------

    def from_node(self, node_id: str, kind: str, message: Any) -> bool:
        """A message from our node about another instance's job: relay it there (True), else False."""
        if kind not in _RELAYED:
            return False
        origin = self.relay.origin_of(message.job_id, message.attempt_id)
        if origin is None:
            return False
        if kind == "job_result":
            self.relay.untrack(message.job_id, message.attempt_id)
        payload = node_pb2.NodeMessage(**{kind: message}).SerializeToString()
        entry = Entry("", NODE, self.instance_id, node_id, message.job_id, message.attempt_id, payload)
        self._queue(message.job_id, lambda: self._send(origin, entry))
        return True

    async def resume(self, session_id: str, resume_token: str, replace: bool) -> Session:
        """The session `session_id`, here if it is open here (unless `replace`), else restored from Redis."""
        local = self.mesh.sessions.get(session_id)
        if local is not None and not replace:
            return self.mesh.find_session(session_id, resume_token)
        rec = await self.sessions.load(session_id, resume_token)
        if rec is None:
            raise LinguaError(common_pb2.INVALID_SESSION,
                              f"no session {session_id!r} to resume (closed, expired, or a wrong resume token)")
        session = self.mesh.restore_session(session_id, resume_token, rec.request, rec.paired_node_id)
        self._queue(session_id, lambda: self.sessions.claim(session_id, self.instance_id))
        log.info("session %s resumed here (was on %s)", session_id, rec.owner, extra={"session_id": session_id})
        return session

    # ---- the ordered Redis work ----------------------------------------------------------------------

    def _queue(self, key: str, op: Op) -> None:
        """Run `op` after every op queued before it under `key`."""
        task = asyncio.get_running_loop().create_task(self._after(self._chains.get(key), op))
        self._chains[key] = task
        self._pending.add(task)

        def done(t: asyncio.Task[None]) -> None:
            self._pending.discard(t)
            if self._chains.get(key) is t:
                del self._chains[key]

        task.add_done_callback(done)

    @staticmethod
    async def _after(previous: asyncio.Task[None] | None, op: Op) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        try:
            await op()
        except Exception:  # Redis hiccup: the job's timers re-dispatch whatever this left undone
            log.exception("cluster operation failed")

    async def _assign(self, node_id: str, max_jobs: int, message: node_pb2.SchedulerMessage) -> None:
        a = message.job_assign
        ttl_ms = int(a.deadline_unix_ms - time.time() * 1000) + _RESERVATION_MARGIN_MS
        slot = member(a.job_id, a.attempt_id, self.instance_id)
        if not await self.reservations.reserve(node_id, slot, max_jobs, ttl_ms):
            self.mesh.assign_refused(a.job_id, a.attempt_id, node_id)
            return
        request_id = f"{a.session_id}:{a.utterance_index}"
        moved, superseded = await asyncio.gather(
            self.jobs.move(a.job_id, "dispatched", a.attempt_id, node_id, self.instance_id, request_id),
            self.jobs.bind(request_id, a.job_id) if a.attempt_id == 1 else _nothing())
        if superseded is not None:  # the utterance was re-sent after a resume: the old job may not finish
            await self.jobs.move(superseded, "failed")
        if not moved.ok:  # finished, or a newer attempt exists: never send it again
            log.warning("job %s not re-dispatched: its record is %s (attempt %d)", a.job_id, moved.state,
                        moved.attempt, extra={"job_id": a.job_id})
            await self.reservations.release(node_id, slot)
            return
        await self._send_to_node(node_id, message)

    async def _send_to_node(self, node_id: str, message: node_pb2.SchedulerMessage) -> None:
        link = self.mesh.links.get(node_id)
        if link is not None:
            link.send(message)
            return
        node = self.mesh.registry.get(node_id)
        a = message.job_assign if message.HasField("job_assign") else message.job_cancel
        owner = node.owner if node is not None else ""
        if not owner or owner not in self.live:
            if message.HasField("job_assign"):
                self.mesh.attempt_lost(node_id, a.job_id, a.attempt_id, "its scheduler instance is gone")
            return
        await self._send(owner, Entry("", ASSIGN, self.instance_id, node_id, a.job_id, a.attempt_id,
                                      message.SerializeToString()))

    async def _send(self, to: str, entry: Entry) -> None:
        if to == self.instance_id:
            await self._handle(entry)
        elif to in self.live:
            await self.inbox.send(to, entry)

    async def _revoke_codes(self, node_id: str) -> None:
        await self.pairing.revoke_node(node_id)

    async def _tell_lost(self, origin: str, node_id: str, job_id: str, attempt: int, reason: str) -> None:
        await self._send(origin, Entry("", LOST, self.instance_id, node_id, job_id, attempt, reason.encode()))

    # ---- what other instances sent us -------------------------------------------------------------

    async def _consume(self) -> None:
        retry_at = time.monotonic() + self.settings.inbox_retry_idle_ms / 1000
        while True:
            try:
                entries = await self.inbox.read(block_ms=1000)
                if time.monotonic() >= retry_at:  # entries whose handling failed earlier
                    retry_at = time.monotonic() + self.settings.inbox_retry_idle_ms / 1000
                    entries += await self.inbox.stale(self.settings.inbox_retry_idle_ms)
                handled = []
                try:
                    for entry in entries:
                        await self._handle(entry)
                        handled.append(entry)
                finally:
                    await self.inbox.ack(*handled)
            except asyncio.CancelledError:
                raise
            except Exception:  # unacknowledged entries are handed out again after inbox_retry_idle_ms
                log.exception("inbox handling failed")
                await asyncio.sleep(0.5)

    async def _handle(self, entry: Entry) -> None:
        if entry.kind == ASSIGN:
            await self._assigned_here(entry)
        elif entry.kind == NODE:
            msg = node_pb2.NodeMessage.FromString(entry.payload)
            kind = msg.WhichOneof("kind") or ""
            inner = getattr(msg, kind)
            # At least once → exactly once: only the first `done` of this (job, attempt) is delivered.
            if kind == "job_result" and inner.success and not (
                    await self.jobs.move(entry.job_id, "done", entry.attempt)).ok:
                self.mesh.counters["duplicate_results"] += 1
                return
            handler = self._node_handlers.get(kind)
            if handler is not None:
                handler(entry.node_id, inner)
        elif entry.kind == LOST:
            self.mesh.attempt_lost(entry.node_id, entry.job_id, entry.attempt, entry.payload.decode())

    async def _assigned_here(self, entry: Entry) -> None:
        msg = node_pb2.SchedulerMessage.FromString(entry.payload)
        link = self.mesh.links.get(entry.node_id)
        if msg.HasField("job_cancel"):
            self.relay.untrack(entry.job_id, entry.attempt)
            if link is not None:
                link.send(msg)
            return
        if link is None:  # the node left this instance since the origin looked
            await self._tell_lost(entry.origin, entry.node_id, entry.job_id, entry.attempt,
                                  f"node {entry.node_id} is no longer connected to {self.instance_id}")
            return
        if self.relay.track(entry.job_id, entry.attempt, entry.node_id, entry.origin):
            link.send(msg)

    async def _reclaimed(self, entry: Entry) -> None:
        """An entry sent to a dead instance: assignments go back to their origin; the rest had only it to go to."""
        if entry.kind == ASSIGN and node_pb2.SchedulerMessage.FromString(entry.payload).HasField("job_assign"):
            await self._tell_lost(entry.origin, entry.node_id, entry.job_id, entry.attempt,
                                  "its scheduler instance died before running it")
        self.mesh.counters["reclaimed_entries"] += 1

    # ---- every heartbeat: presence, node view, reservations, dead instances ----------------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.settings.cluster_heartbeat_ms / 1000)
            try:
                await self.presence.beat()
                await self._refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("cluster refresh failed")

    async def _refresh(self) -> None:
        live, dead = await self.presence.scan()
        self.live = live | {self.instance_id}
        local = [n for node_id in self.mesh.links if (n := self.mesh.registry.get(node_id)) is not None
                 and n.state is not NodeState.OFFLINE]
        await self.view.publish(local)
        await self.sessions.renew(list(self.mesh.sessions))
        snaps, _expired = await self.view.read()
        ids = [s["node_id"] for s in snaps] + [n.node_id for n in local]
        holders = await self.reservations.holders(sorted(set(ids)))
        for node in local:
            self.mesh.others_reserved(node, self._others(node, holders.get(node.node_id, [])))
        seen: set[str] = set()
        for snap in snaps:
            if snap["owner"] == self.instance_id or snap["owner"] not in self.live:
                continue
            seen.add(snap["node_id"])
            rec = record(snap)
            known = self.mesh.registry.get(rec.node_id)
            if known is not None:
                rec.reserved = known.reserved  # our own reservations on it stay ours
            rec.others_reserved = self._others(known or rec, holders.get(rec.node_id, []))
            self.mesh.remote_node_seen(rec)
        for node in list(self.mesh.registry.nodes.values()):
            if node.owner and node.node_id not in seen:
                why = "its scheduler instance is gone" if node.owner not in self.live else "its snapshot expired"
                self.mesh.remote_node_gone(node.node_id, why)
        for gone in sorted(dead - {self.instance_id}):
            await self._bury(gone, sorted(set(ids)))

    def _others(self, node: NodeRecord, members: list[str]) -> int:
        """Reservations on `node` that are not this instance's current ones."""
        count = 0
        for raw in members:
            job_id, attempt, instance = parse_member(raw)
            count += not (instance == self.instance_id and (job_id, attempt) in node.reserved)
        return count

    async def _bury(self, dead: str, node_ids: list[str]) -> None:
        """A dead instance: stop its jobs on our nodes; one survivor reclaims its slots and inbox."""
        for f in self.relay.origin_gone(dead):
            link = self.mesh.links.get(f.node_id)
            if link is not None:
                link.send(node_pb2.SchedulerMessage(job_cancel=node_pb2.JobCancel(
                    job_id=f.job_id, attempt_id=f.attempt, reason=f"scheduler instance {dead} is gone")))
        if not await self.redis.set(self.keys.reclaim_lock(dead), self.instance_id, nx=True,
                                    px=10 * self.settings.cluster_heartbeat_ms):
            return  # another survivor is on it
        await self.reservations.release_instance(node_ids, dead)
        while entries := await self.inbox.reclaim(dead):
            for entry in entries:
                await self._reclaimed(entry)
            await self.inbox.ack(*entries)
        if await self.inbox.remove(dead):
            await self.presence.forget(dead)
            log.info("scheduler instance %s is gone; its inbox was reclaimed by %s", dead, self.instance_id)
