"""The scheduler's core: nodes, sessions, jobs, dispatch, failover and ordered delivery.

Everything here runs on the event loop thread, so there are no locks. The gRPC servicers call in
with decoded messages and read outgoing messages from per-stream queues; this module never touches
gRPC itself. Protobuf messages are used as the payloads that pass through (audio, results).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import logging
import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from lingua.v1 import common_pb2, node_pb2, session_pb2
from lingua_common.errors import LinguaError, make_error
from lingua_common.features import FEATURE_NAMES
from lingua_common.ids import new_id, new_token
from lingua_common.model_format import ENGINE_ESPEAK
from scheduler_svc import health, limits, metrics
from scheduler_svc.avoidance import ModelAvoidance
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.hooks import MeshHooks
from scheduler_svc.index import CapabilityIndex, NodeIndex
from scheduler_svc.installs import InstallRequests, InstallWatch
from scheduler_svc.pairing import LocalPairing, PairingCodes, PairingStore, code_message, unix_ms
from scheduler_svc.pools import PooledIndex
from scheduler_svc.registry import AUTO, UNKNOWN_TIER, NodeCaps, NodeRecord, NodeRegistry, NodeState, Route, Usage
from scheduler_svc.selection import Need, NodeSelector
from scheduler_svc.sessions import Job, JobState, Session
from scheduler_svc.streaming import ChunkAssembler, GroupContext
from scheduler_svc.validation import audio_seconds, check_language

log = logging.getLogger(__name__)

# Node-reported failures that another node might not have: try elsewhere.
_RETRYABLE = {common_pb2.INTERNAL, common_pb2.PROCESSING_ERROR, common_pb2.MODEL_LOAD_FAILED,
              common_pb2.MODEL_NOT_AVAILABLE, common_pb2.NODE_OVERLOADED, common_pb2.JOB_CANCELLED,
              common_pb2.ERROR_CODE_UNSPECIFIED}
Kind = session_pb2.SessionEvent.Kind


def token_matches(stored: str, given: str) -> bool:
    """Node tokens learnt from another instance's snapshot are stored as `sha256:<hex>`."""
    if stored.startswith("sha256:"):
        given = "sha256:" + hashlib.sha256(given.encode()).hexdigest()
    return secrets.compare_digest(stored.encode(), given.encode())


def features_mask(features: common_pb2.Features) -> int:
    return sum(1 << i for i, name in enumerate(FEATURE_NAMES) if getattr(features, name))


def caps_from_models(models: list[node_pb2.InstalledModel], features: common_pb2.Features) -> NodeCaps:
    asr: set[str] = set()
    dialects: set[str] = set()
    routes: dict[tuple[str, str], Route] = {}
    voices: dict[str, tuple[str, str]] = {}
    cross: set[str] = set()
    for m in models:
        if m.state not in (node_pb2.MODEL_STATE_READY, node_pb2.MODEL_STATE_UNSPECIFIED):
            continue
        if m.dialect:
            dialects.add(m.dialect)
        if m.kind == node_pb2.MODEL_KIND_ASR:
            asr.update(m.languages)
        elif m.kind == node_pb2.MODEL_KIND_MT:
            for p in m.pairs:
                route = Route(p.tier or UNKNOWN_TIER, p.engine or m.engine or m.model_id, p.pivot_lang)
                key = (p.src_lang, p.tgt_lang)
                if key not in routes or (route.tier, route.engine) < (routes[key].tier, routes[key].engine):
                    routes[key] = route
        elif m.kind == node_pb2.MODEL_KIND_TTS:
            quality = "espeak_native" if m.engine == ENGINE_ESPEAK else "native"
            for lang in m.languages:
                if lang not in voices or _VOICE_RANK[quality] < _VOICE_RANK[voices[lang][1]]:
                    voices[lang] = (m.model_id, quality)
            cross.update(m.cross_lingual_languages)
            for lang in m.cross_lingual_languages:
                voices.setdefault(lang, (m.model_id, "cross_lingual"))
    tts = {lang for lang, (_, quality) in voices.items() if quality != "cross_lingual"}
    return NodeCaps(frozenset(asr), frozenset(routes), frozenset(tts), frozenset(cross - tts),
                    features_mask(features), frozenset(dialects), routes=tuple(sorted(routes.items())),
                    voices=tuple(sorted((lang, v, q) for lang, (v, q) in voices.items())))


# Which voice speaks a language best: a native neural voice, espeak-ng's own voice, another voice's accent.
_VOICE_RANK = {"native": 0, "espeak_native": 1, "cross_lingual": 2}


@dataclass
class NodeLink:
    """The open stream of one node."""

    node_id: str
    outbox: asyncio.Queue[node_pb2.SchedulerMessage | None] = field(default_factory=asyncio.Queue)
    # Closed because this instance is shutting down: the node should reconnect to another one.
    handed_over: bool = False

    def send(self, message: node_pb2.SchedulerMessage) -> None:
        self.outbox.put_nowait(message)


class LocalHooks:
    """memory:// state: every node is connected to this process, nothing is shared."""

    def __init__(self, links: dict[str, NodeLink]) -> None:
        self._links = links

    def to_node(self, node: NodeRecord, message: node_pb2.SchedulerMessage) -> None:
        link = self._links.get(node.node_id)
        if link is not None:
            link.send(message)

    def released(self, node: NodeRecord, job_id: str, attempt: int) -> None:
        pass

    def job_finished(self, job: Job, ok: bool) -> None:
        pass

    def node_lost(self, node_id: str, reason: str) -> None:
        pass

    def session_opened(self, session: Session, request: session_pb2.OpenSessionRequest) -> None:
        pass

    def session_closed(self, session: Session, forget: bool) -> None:
        pass


class Mesh:
    def __init__(self, settings: SchedulerSettings) -> None:
        self.settings = settings
        self.registry = NodeRegistry()
        self.index: NodeIndex = CapabilityIndex(self.registry, settings.strategy, settings.weights)
        if settings.pools != "off":  # two-level: a pool, then a node in it
            self.index = PooledIndex(self.registry, settings.pools, settings.pool_count, settings.pool_fallback,
                                     settings.strategy, settings.weights)
        self.trackers: dict[str, health.HealthTracker] = {}
        self.avoidance = ModelAvoidance(settings.model_unavailable_hold_s)
        self.selector = NodeSelector(self.registry, self.index, self.avoidance, settings)
        self.installs = InstallRequests(settings.install_watch_ttl_s, settings.max_install_watches)
        self.pairing = PairingCodes(settings.pairing_ttl_s, settings.pairing_max_failures,
                                    settings.pairing_failure_window_s, settings.pairing_max_global_failures,
                                    settings.pairing_code_max_misses)
        # What the servicers issue and redeem codes with (cluster/ shares them in Redis).
        self.pairing_store: PairingStore = LocalPairing(self.pairing)
        self.sessions: dict[str, Session] = {}
        self.jobs: dict[str, Job] = {}
        self.links: dict[str, NodeLink] = {}
        self.waiting: deque[Job] = deque()
        self.started = time.monotonic()
        self.counters: collections.Counter[str] = collections.Counter()
        self.dispatch_latencies: deque[float] = deque(maxlen=10_000)
        self._tasks: list[asyncio.Task[None]] = []
        # Where node messages go and who hears about slots, jobs and sessions (cluster/ replaces it).
        self.hooks: MeshHooks = LocalHooks(self.links)
        # Shutting down (drain.py): no new sessions, nodes or utterances; the rest is being handed over
        # (scaled out) or finished here (alone).
        self.draining = False
        # Set whenever the last unfinished job is gone (drain_alone waits for it).
        self.no_jobs = asyncio.Event()

    @property
    def clustered(self) -> bool:
        """Scaled out (redis://): other instances can take over this one's sessions."""
        return not isinstance(self.hooks, LocalHooks)

    # ---- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self._tasks.append(asyncio.get_running_loop().create_task(self._watch_heartbeats()))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for session in list(self.sessions.values()):  # scaled out, its clients resume on another instance
            self.close_session(session, "scheduler shutting down", forget=False)
        for link in self.links.values():
            link.outbox.put_nowait(None)

    # ---- nodes -----------------------------------------------------------------------------------

    def register_node(self, reg: node_pb2.NodeRegister, link: NodeLink) -> node_pb2.Registered:
        """Register (or re-register) a node; raises LinguaError if it may not."""
        limits.check_register(reg)
        caps = caps_from_models(list(reg.installed_models), reg.features_supported)
        node_id = reg.node_id
        existing = self.registry.get(node_id) if node_id else None
        if existing is not None:
            if not token_matches(existing.auth_token, reg.auth_token):
                raise LinguaError(common_pb2.NODE_ID_CONFLICT,
                                  f"node id {node_id} is registered with another token; "
                                  "clear the stored node id and register again")
            if existing.owner and existing.state is not NodeState.OFFLINE:
                self._node_lost(existing, f"left scheduler instance {existing.owner}")  # jobs there died with it
            old_link = self.links.get(node_id)
            if old_link is not None and old_link is not link:
                self._node_lost(existing, "replaced by a new connection")
                old_link.outbox.put_nowait(None)
            node = existing
            node.caps = caps
            node.auth_token, node.owner, node.others_reserved = reg.auth_token, "", 0
        else:
            node_id = node_id or new_id("node")
            node = NodeRecord(node_id=node_id, auth_token=new_token(), caps=caps, max_jobs=1)
            self.registry.add(node)
        node.max_jobs = reg.max_concurrent_jobs or self.settings.default_max_jobs
        node.version, node.platform, node.display_name = reg.version, reg.platform, reg.display_name
        node.accept_public_jobs = reg.accept_public_jobs if reg.HasField("accept_public_jobs") else True
        # Only what admin listings show (not the token, nor anything else the node sent).
        node.description = node_pb2.NodeRegister(hardware=reg.hardware, installed_models=reg.installed_models,
                                                 features_supported=reg.features_supported)
        node.connected_since_ms = int(time.time() * 1000)
        node.usage = Usage()
        self.registry.touch(node)
        tracker = self.trackers.setdefault(node_id, health.HealthTracker())
        self.registry.set_state(node, *health.after_register(node, tracker, self.settings.health))
        link.node_id = node_id
        self.links[node_id] = link
        self.index.update(node)
        self._count_nodes()
        log.info("node registered (%s)", node.state.value, extra={"node_id": node_id})
        self._pump_waiting()
        return node_pb2.Registered(node_id=node_id, heartbeat_interval_ms=self.settings.heartbeat_interval_ms,
                                   auth_token=node.auth_token,
                                   state=f"NODE_STATE_{node.state.name}")  # type: ignore[arg-type]

    def node_heartbeat(self, node_id: str, hb: node_pb2.NodeHeartbeat) -> None:
        node = self.registry.get(node_id)
        if node is None:
            return
        if hb.capabilities_changed:
            limits.check_models(hb.installed_models)
        tracker = self.trackers[node_id]
        if node.state is NodeState.OFFLINE:
            if node_id not in self.links:
                return
            # Declared offline for late heartbeats, but its stream is alive: start over as registering.
            self._set_state(node, *health.after_register(node, tracker, self.settings.health))
        u = hb.resource_usage
        node.usage = Usage(u.cpu_percent, u.mem_percent, u.gpu_percent, u.gpu_mem_percent, u.running_jobs)
        self.registry.touch(node)
        broken = tracker.broken_models
        if hb.capabilities_changed:
            node.caps = caps_from_models(list(hb.installed_models), hb.features_supported)
            self.avoidance.forget_node(node_id)
            broken = tuple(m.model_id for m in hb.installed_models if m.state == node_pb2.MODEL_STATE_ERROR)
            if isinstance(node.description, node_pb2.NodeRegister):
                del node.description.installed_models[:]
                node.description.installed_models.extend(hb.installed_models)
                node.description.features_supported.CopyFrom(hb.features_supported)
        change = health.after_heartbeat(node, tracker, self.settings.health, broken)
        if change is not None:
            self._set_state(node, *change)
        else:
            self.index.update(node)  # usage changed, so did its score
        if change is not None or hb.capabilities_changed:
            self._pump_waiting()

    def node_draining(self, node_id: str, reason: str) -> None:
        node = self.registry.get(node_id)
        if node is None or node.state is NodeState.OFFLINE:
            return
        self._set_state(node, NodeState.DRAINING, reason or "node shutting down")

    def node_disconnected(self, link: NodeLink) -> None:
        if self.links.get(link.node_id) is not link:
            return  # a newer connection of the same node already took over
        del self.links[link.node_id]
        node = self.registry.get(link.node_id)
        if node is not None:
            self._node_lost(node, "stream closed")

    def pairing_requested(self, node_id: str) -> None:
        node = self.registry.get(node_id)
        link = self.links.get(node_id)
        if node is None or link is None:
            return
        code, expires = self.pairing.issue(node_id)
        link.send(code_message(code, unix_ms(expires)))

    def install_model(self, node_id: str, model_id: str, version: str) -> InstallWatch:
        """Tell a connected node to install a model from its hub; raises LinguaError if it cannot be told."""
        if self.registry.get(node_id) is None:
            raise LinguaError(common_pb2.NOT_FOUND, f"no node {node_id!r}")
        link = self.links.get(node_id)
        if link is None:
            raise LinguaError(common_pb2.NODE_UNAVAILABLE, f"node {node_id} is not connected")
        if not model_id:
            raise LinguaError(common_pb2.INVALID_MESSAGE, "model_id is required")
        limits.check_text(model_id, limits.NODE_TEXT, "model_id")
        limits.check_text(version, limits.NODE_TEXT, "version")
        watch, order = self.installs.order(node_id, model_id, version)
        link.send(node_pb2.SchedulerMessage(install_model=order))
        return watch

    def model_install_status(self, node_id: str, status: node_pb2.ModelInstallStatus) -> None:
        self.installs.update(node_id, status)

    def _node_lost(self, node: NodeRecord, reason: str) -> None:
        self._set_state(node, NodeState.OFFLINE, reason)
        self.installs.node_gone(node.node_id, node_pb2.ModelInstallStatus(
            node_id=node.node_id, state=node_pb2.MODEL_STATE_ERROR,
            error=make_error(common_pb2.NODE_UNAVAILABLE, f"node went offline during the install ({reason})")))
        self.pairing.revoke_node(node.node_id)
        if not node.owner:
            self.hooks.node_lost(node.node_id, reason)
        running = [self.jobs[job_id] for job_id, _attempt in list(node.reserved) if job_id in self.jobs]
        for job in running:
            self._release(job)
            self._retry(job, f"node {node.node_id} went offline ({reason})", "node_lost")

    def _set_state(self, node: NodeRecord, state: NodeState, reason: str) -> None:
        if node.state is state:
            return
        self.registry.set_state(node, state, reason)
        self.index.update(node)
        self._count_nodes()
        link = self.links.get(node.node_id)
        if link is not None and state is not NodeState.OFFLINE:
            status = node_pb2.NodeStatus(state=f"NODE_STATE_{state.name}", reason=reason)  # type: ignore[arg-type]
            link.send(node_pb2.SchedulerMessage(node_status=status))
        log.info("node %s is %s: %s", node.node_id, state.value, reason, extra={"node_id": node.node_id})

    def _count_nodes(self) -> None:
        for state, count in self.registry.counts_by_state().items():
            metrics.NODES.labels(state).set(count)

    def _job_failed_on(self, node_id: str | None) -> None:
        node = self.registry.get(node_id or "")
        if node is None or node.owner:  # another instance's node: its health is that instance's call
            return
        node.jobs_failed += 1
        change = health.after_job_failure(node, self.trackers[node.node_id], self.settings.health)
        if change is not None:
            self._set_state(node, *change)

    async def _watch_heartbeats(self) -> None:
        while True:
            await asyncio.sleep(min(1.0, self.settings.heartbeat_interval_ms / 2000))
            for node in self.registry.expired(self.settings.heartbeat_timeout_s):
                if node.owner:
                    continue  # another instance watches its heartbeats
                self._node_lost(node, f"no heartbeat for {self.settings.heartbeat_timeout_s:.1f} s")
            self.forget_offline()

    def forget_offline(self, now: float | None = None) -> int:
        """Drop nodes offline for longer than offline_node_ttl_s (registry, index, health, avoidance)."""
        forgotten = 0
        for node in self.registry.offline_for(self.settings.offline_node_ttl_s, now):
            if node.node_id in self.links:
                continue  # its stream is still open: a heartbeat brings it back
            self.registry.remove(node.node_id)
            self.index.remove(node.node_id)
            self.trackers.pop(node.node_id, None)
            self.avoidance.forget_node(node.node_id)
            self.pairing.revoke_node(node.node_id)
            forgotten += 1
        if forgotten:
            self.counters["nodes_forgotten"] += forgotten
            self._count_nodes()
        return forgotten

    # ---- messages from nodes ---------------------------------------------------------------------

    def _current_job(self, node_id: str, job_id: str, attempt: int) -> Job | None:
        """The job if this message belongs to its current attempt on this node, else None (stale)."""
        job = self.jobs.get(job_id)
        if job is None or job.attempt != attempt or job.node_id != node_id or job.queued_at is not None:
            return None
        return job

    def job_acked(self, node_id: str, ack: node_pb2.JobAck) -> None:
        job = self._current_job(node_id, ack.job_id, ack.attempt_id)
        if job is not None and job.state is JobState.DISPATCHED:
            job.state = JobState.ACCEPTED
            self._arm_run_timeout(job)

    def job_started(self, node_id: str, msg: node_pb2.JobStarted) -> None:
        job = self._current_job(node_id, msg.job_id, msg.attempt_id)
        if job is not None:
            self._mark_running(job)

    def _mark_running(self, job: Job) -> None:
        if job.state is JobState.DISPATCHED:
            self._arm_run_timeout(job)
        job.state = JobState.RUNNING

    def asr_partial(self, node_id: str, partial: common_pb2.AsrPartial) -> None:
        job = self._current_job(node_id, partial.job_id, partial.attempt_id)
        if job is None:
            return
        self._mark_running(job)
        if job.session.streaming_asr:
            partial.session_id = job.session.session_id
            partial.utterance_index = job.utterance_index
            job.session.send(session_pb2.ServerMessage(asr_partial=partial))

    def tts_chunk(self, node_id: str, chunk: common_pb2.TtsChunk) -> None:
        job = self._current_job(node_id, chunk.job_id, chunk.attempt_id)
        if job is None or not job.session.stream_tts:
            return
        chunk.session_id = job.session.session_id
        chunk.utterance_index = job.utterance_index
        job.session.send(session_pb2.ServerMessage(tts_chunk=chunk))

    def job_result(self, node_id: str, res: node_pb2.JobResult) -> None:
        job = self._current_job(node_id, res.job_id, res.attempt_id)
        if job is None:
            self.counters["stale_results"] += 1
            return
        node = self.registry.get(node_id)
        self._release(job)
        if res.success:
            if node is not None:
                node.jobs_completed += 1
                node.observe_speed(res.processing_ms / 1000.0, job.audio_s)
                self.index.update(node)
            job.session.context.add(res.result.text_asr, res.result.text_translated)
            self._remember_speaker(job.session, res.speaker)
            self._finish(job, self._result_message(job, res))
            return
        err = res.error
        if err.code == common_pb2.MODEL_NOT_AVAILABLE:
            # Not a sick node, a missing model: steer this pair elsewhere for a while.
            self.avoidance.mark(node_id, job.src_lang, job.tgt_lang)
            if job.session.two_way:
                self.avoidance.mark(node_id, job.tgt_lang, job.src_lang)
        else:
            self._job_failed_on(node_id)
        if err.code in _RETRYABLE:
            self._retry(job, f"node {node_id} failed: {err.message}", "node_error", last_error=err)
        else:
            self._fail(job, err.code, err.message)

    def _remember_speaker(self, session: Session, speaker: common_pb2.KnownSpeaker) -> None:
        """A new voice joins the session's registry, so later jobs (on any node) recognise it."""
        if not speaker.speaker_id or not speaker.embedding:
            return
        if any(known.speaker_id == speaker.speaker_id for known in session.speakers):
            return
        if len(session.speakers) < self.settings.max_speakers_per_session:
            session.speakers.append(speaker)

    def _result_message(self, job: Job, res: node_pb2.JobResult) -> session_pb2.ServerMessage:
        result = common_pb2.TranslationResult()
        result.CopyFrom(res.result)
        result.session_id = job.session.session_id
        result.utterance_index = job.utterance_index
        result.job_id = job.job_id
        result.node_id = job.node_id or ""
        result.attempt_id = job.attempt
        # In two-way mode and for "auto" sources the node reports the language it detected.
        if not job.session.two_way:
            result.tgt_lang = job.tgt_lang
            if job.src_lang != AUTO or not result.src_lang:
                result.src_lang = job.src_lang
        result.timings.queue_ms = (job.dispatched_at - job.created) * 1000
        result.timings.total_ms = (time.monotonic() - job.created) * 1000
        result.timings.node_ms = res.processing_ms
        return session_pb2.ServerMessage(result=result)

    # ---- sessions --------------------------------------------------------------------------------

    @staticmethod
    def check_open(req: session_pb2.OpenSessionRequest) -> None:
        """Raise LinguaError if the session cannot be opened as asked (checked before a code is used up)."""
        limits.check_open(req)
        if req.mode == session_pb2.SESSION_MODE_TWO_WAY:
            check_language(req.lang_a, "lang_a")
            check_language(req.lang_b, "lang_b")
        else:
            check_language(req.src_lang, "source", allow_auto=True)
            check_language(req.tgt_lang, "target")

    def open_session(self, req: session_pb2.OpenSessionRequest, client: str = "", session_id: str = "",
                     resume_token: str = "", paired_node_id: str | None = None) -> Session:
        """A new session; raises LinguaError (bad languages, bad pairing code). paired_node_id: the node
        req.pairing_code was already redeemed for (through pairing_store), else it is redeemed here."""
        self.check_open(req)
        two_way = req.mode == session_pb2.SESSION_MODE_TWO_WAY
        paired = paired_node_id or ""
        if paired_node_id is None and req.pairing_code:
            paired = self.pairing.redeem(req.pairing_code, client or req.tenant_id or "anonymous")
        s = self.settings
        session = Session(
            session_id=session_id or new_id("s"), src_lang=req.lang_a if two_way else req.src_lang,
            tgt_lang=req.lang_b if two_way else req.tgt_lang, dialect=req.dialect, features=req.features,
            tenant_id=req.tenant_id, platform=req.platform, streaming_asr=req.streaming_asr,
            stream_tts=req.stream_tts, resume_token=resume_token or new_token(), grace_s=s.result_grace_ms / 1000.0,
            paired_node_id=paired, require_paired_node=req.require_paired_node, two_way=two_way,
            lang_a=req.lang_a, lang_b=req.lang_b, pause_s=(req.pause_ms or s.pause_ms) / 1000.0,
            max_buffered=s.max_buffered_messages, max_outbox=s.max_outbox_messages,
            max_outbox_bytes=s.max_outbox_mb * 1024 * 1024, on_overflow=self._client_too_slow,
            chunks=ChunkAssembler(int(s.max_utterance_s * 48_000 * 2 * 2)),
            context=GroupContext(s.group_window_ms / 1000, s.group_max_parts, s.group_max_chars),
            persona=req.persona,
        )
        self.sessions[session.session_id] = session
        metrics.SESSIONS.set(len(self.sessions))
        self.hooks.session_opened(session, req)
        return session

    def _client_too_slow(self, session: Session) -> None:
        """The session's outbox passed its bound (sessions.Session.send): end it once this call returns."""
        self.counters["clients_too_slow"] += 1
        log.warning("session %s ended: its client does not read", session.session_id,
                    extra={"session_id": session.session_id})
        session.ended_by_server = True
        asyncio.get_running_loop().call_soon(self.close_session, session, "client too slow")

    def opened_message(self, session: Session) -> session_pb2.ServerMessage:
        return session_pb2.ServerMessage(opened=self.opened(session))

    def opened(self, session: Session) -> session_pb2.OpenSessionResponse:
        return session_pb2.OpenSessionResponse(
            session_id=session.session_id, resume_token=session.resume_token, message="session created",
            result_grace_ms=self.settings.result_grace_ms, assigned_node_id=session.paired_node_id)

    def close_session(self, session: Session, reason: str = "", forget: bool = True) -> None:
        """Close `session` here; forget=False keeps it resumable on another instance (the stream dropped)."""
        if session.closed:
            return
        for job in list(session.jobs.values()):
            self._cancel_on_node(job, f"session closed: {reason}")
            self._drop(job)
        session.cancel_timers()
        session.closed = True
        session.outbox.put_nowait(None)
        self.sessions.pop(session.session_id, None)
        metrics.SESSIONS.set(len(self.sessions))
        self.hooks.session_closed(session, forget)

    def withdraw_queued(self, session: Session) -> int:
        """Drop the session's jobs still waiting for a node, with no outcome (drain.py: the client re-sends
        them where it resumes). Returns how many."""
        queued = [job for job in session.jobs.values() if job.queued_at is not None]
        for job in queued:
            self._drop(job)
        self.counters["left_for_resume"] += len(queued)
        return len(queued)

    def find_session(self, session_id: str, resume_token: str | None = None) -> Session:
        session = self.sessions.get(session_id)
        if session is None or (resume_token is not None and resume_token != session.resume_token):
            raise LinguaError(common_pb2.INVALID_SESSION,
                              f"no open session {session_id!r} (closed, expired, or a wrong resume token)")
        return session

    # grpc-web sessions: a Subscribe stream reads the outbox; without one the session expires.

    def subscribed(self, session: Session) -> int:
        """A stream starts reading the session; it takes over from any earlier one. Returns its reader id."""
        reader = session.outbox.attach()
        if session.idle_timer is not None:
            session.idle_timer.cancel()
            session.idle_timer = None
        return reader

    def unsubscribed(self, session: Session, reader: int) -> None:
        if session.outbox.detach(reader):  # it was the current reader: nobody reads now
            self.arm_idle_timeout(session)

    def arm_idle_timeout(self, session: Session) -> None:
        if session.closed or session.outbox.reading:
            return
        if session.idle_timer is not None:
            session.idle_timer.cancel()
        session.idle_timer = asyncio.get_running_loop().call_later(
            self.settings.session_idle_timeout_ms / 1000, self.close_session, session, "idle, nobody subscribed")

    # ---- utterances ------------------------------------------------------------------------------

    def submit_utterance(self, session: Session, utt: session_pb2.Utterance) -> bool:
        """Accept one utterance: its outcome (result or error) reaches the session, in order. Returns False
        when it was refused outside the order (its index is out of the window or used; the session is told)."""
        index = utt.utterance_index
        if session.closed:
            return False
        if self.draining and self.clustered:  # no outcome, so the client re-sends it where it resumes the session
            self.counters["left_for_resume"] += 1
            return False
        if session.rebase:  # resumed elsewhere: the client re-sends from its first missing outcome
            session.rebase = False
            session.buffer.next_index = index
        refused = self._refuse_index(session, index)
        if refused:
            error = make_error(common_pb2.INVALID_MESSAGE, refused)
            error.details["utterance_index"] = str(index)
            session.send(session_pb2.ServerMessage(error=error))
            self.counters["refused_indices"] += 1
            return False
        session.utterances_received += 1
        session.last_index = max(session.last_index, index)
        if self.draining:  # alone, stopping: nobody will run it, say so in its place in the order
            self._deliver(session, index, session_pb2.ServerMessage(error=make_error(
                common_pb2.SESSION_CLOSED, f"the scheduler is shutting down: utterance {index} was not run; "
                "send it again in a new session", utterance_index=index, retry_after_ms=self.settings.retry_after_ms)))
            return True
        src = utt.src_lang if utt.HasField("src_lang") else session.src_lang
        tgt = utt.tgt_lang if utt.HasField("tgt_lang") else session.tgt_lang
        features = utt.features if utt.HasField("features") else session.features
        try:
            limits.check_utterance(utt)
            check_language(src, "source", allow_auto=True)
            check_language(tgt, "target")
            audio_s = audio_seconds(utt.audio, self.settings.max_utterance_s)
        except LinguaError as exc:
            self._deliver(session, index, session_pb2.ServerMessage(error=exc.to_proto(index)))
            return True
        if len(session.jobs) >= self.settings.max_queued_per_session:
            self._deliver(session, index, session_pb2.ServerMessage(error=make_error(
                common_pb2.NODE_OVERLOADED,
                f"this session already has {len(session.jobs)} utterances in progress; wait for results",
                utterance_index=index, retry_after_ms=self.settings.retry_after_ms)))
            return True
        job = Job(job_id=new_id("job"), session=session, utterance_index=index, src_lang=src, tgt_lang=tgt,
                  dialect=utt.dialect if utt.HasField("dialect") else session.dialect, features=features,
                  features_mask=features_mask(features), audio=utt.audio, audio_s=audio_s,
                  context_text=session.context.text())
        session.jobs[index] = job
        self.jobs[job.job_id] = job
        self._dispatch(job)
        return True

    def _refuse_index(self, session: Session, index: int) -> str:
        """Why `index` cannot enter the session's order ("" when it can): it must be unused and lie within
        max_queued_per_session of the next index not yet delivered, so the reorder buffer (and the
        RESULT_TIMEOUTs a gap produces) stay bounded."""
        if session.buffer.holds(index) or index in session.jobs:
            return f"utterance_index {index} was already used in this session; indices go 0, 1, 2, ..."
        window = self.settings.max_queued_per_session
        first = session.buffer.next_index
        if index >= first + window:
            return (f"utterance_index {index} is too far ahead: the next outcome due is for {first}, and at most "
                    f"{window} utterances may be pending; send {first} to {first + window - 1}")
        return ""

    def submit_chunk(self, session: Session, chunk: session_pb2.AudioChunk) -> int | None:
        """Add streamed audio; returns the index of the utterance it sealed, if it sealed one."""
        if session.closed:
            return None
        try:
            limits.check_chunk(chunk)
            session.chunks.add(chunk.seq, chunk.audio)
        except LinguaError as exc:
            session.chunks.seal()  # drop the broken utterance; the next chunk starts a new one
            session.send(session_pb2.ServerMessage(error=exc.to_proto()))
            return None
        if session.chunk_timer is not None:
            session.chunk_timer.cancel()
            session.chunk_timer = None
        if chunk.is_final:
            return self.seal_chunks(session)
        session.chunk_timer = asyncio.get_running_loop().call_later(session.pause_s, self.seal_chunks, session)
        return None

    def seal_chunks(self, session: Session) -> int | None:
        session.chunk_timer = None
        audio = session.chunks.seal()
        if audio is None or session.closed:
            return None
        index = session.last_index + 1
        session.send(session_pb2.ServerMessage(event=session_pb2.SessionEvent(
            kind=Kind.KIND_UTTERANCE_SEALED, utterance_index=index,
            message=f"streamed audio became utterance {index}")))
        self.submit_utterance(session, session_pb2.Utterance(session_id=session.session_id,
                                                             utterance_index=index, audio=audio))
        return index

    # ---- choosing a node -------------------------------------------------------------------------

    def need_of(self, job: Job) -> Need:
        s = job.session
        avoid = self.avoidance.avoided(job.src_lang, job.tgt_lang)
        if s.two_way:
            avoid |= self.avoidance.avoided(job.tgt_lang, job.src_lang)
        return Need(job.src_lang, job.tgt_lang, job.features_mask, job.dialect, frozenset(job.tried),
                    s.paired_node_id, s.require_paired_node, s.two_way, avoid, s.tenant_id or s.session_id)

    def _dispatch(self, job: Job) -> None:
        node, passed_over = self.selector.select(self.need_of(job))
        self._tell_paired_status(job.session, passed_over)
        if node is None:
            self._no_node(job)
            return
        job.attempt += 1
        job.node_id = node.node_id
        job.tried.add(node.node_id)
        job.state = JobState.DISPATCHED
        job.queued_at = None
        node.reserved.add((job.job_id, job.attempt))
        self.index.update(node)
        job.cancel_timer()
        job.timer = asyncio.get_running_loop().call_later(
            self.settings.ack_timeout_ms / 1000, self._attempt_timed_out, job.job_id, job.attempt, "ack")
        deadline_s = (self.settings.ack_timeout_ms + self._run_timeout_ms(job)) / 1000
        s = job.session
        self.hooks.to_node(node, node_pb2.SchedulerMessage(job_assign=node_pb2.JobAssign(
            job_id=job.job_id, attempt_id=job.attempt, session_id=s.session_id,
            utterance_index=job.utterance_index, src_lang=job.src_lang, tgt_lang=job.tgt_lang,
            dialect=job.dialect, features=job.features, audio=job.audio, context_text=job.context_text,
            deadline_unix_ms=int((time.time() + deadline_s) * 1000),
            streaming_asr=s.streaming_asr, stream_tts=s.stream_tts,
            mode=session_pb2.SESSION_MODE_TWO_WAY if s.two_way else session_pb2.SESSION_MODE_ONE_WAY,
            lang_a=s.lang_a, lang_b=s.lang_b,
            persona=s.persona if job.features.persona_adaptation else None,
            known_speakers=s.speakers if job.features.speaker_identification else None)))
        now = time.monotonic()
        if job.attempt == 1:
            job.dispatched_at = now
            latency = now - job.created
            self.dispatch_latencies.append(latency)
            metrics.DISPATCH_LATENCY.observe(latency)
        self.counters["dispatched"] += 1

    def _tell_paired_status(self, session: Session, passed_over: bool) -> None:
        if not session.paired_node_id or passed_over == session.paired_unavailable:
            return
        session.paired_unavailable = passed_over
        if not passed_over:
            kind, text = Kind.KIND_PAIRED_NODE_AVAILABLE, "the paired node takes this session's jobs again"
        elif session.require_paired_node:
            kind, text = Kind.KIND_PAIRED_NODE_UNAVAILABLE, "the paired node is unavailable; waiting for it"
        else:
            kind, text = Kind.KIND_FALLBACK_TO_POOL, "the paired node is unavailable; using the shared pool"
        session.send(session_pb2.ServerMessage(event=session_pb2.SessionEvent(
            kind=kind, node_id=session.paired_node_id, message=text)))

    def _no_node(self, job: Job) -> None:
        """No eligible node right now: wait for a slot if some node could run it, else fail."""
        need = self.need_of(job)
        paired = self.selector.paired_usable(need)
        waiting_for_paired = (paired is not None and paired.node_id not in need.excluded) or (
            need.require_paired and self.registry.get(need.paired_node_id) is not None)
        if need.two_way and not waiting_for_paired and not self.selector.two_way_capable(need):
            self._fail(job, common_pb2.UNSUPPORTED_LANGUAGE,
                       f"two-way {need.src}<->{need.tgt} needs a node that translates speech in both directions; "
                       "no connected node does")
            return
        if not waiting_for_paired and not self.index.has_capable(job.src_lang, job.tgt_lang, job.features_mask):
            if not self.registry.live_count():
                self._fail(job, common_pb2.NO_AVAILABLE_NODE, "no inference node is connected; try again later",
                           retry_after_ms=self.settings.retry_after_ms)
            elif self.index.has_capable(job.src_lang, job.tgt_lang, 0):
                self._fail(job, common_pb2.UNSUPPORTED_FEATURE,
                           f"no connected node supports the requested features for {job.src_lang}->{job.tgt_lang}")
            else:
                self._fail(job, common_pb2.UNSUPPORTED_LANGUAGE,
                           f"no connected node can translate {job.src_lang}->{job.tgt_lang} speech")
            return
        if need.excluded and not waiting_for_paired and not self._capable_untried_exists(need):
            if need.avoid and not job.tried - need.avoid:
                self._fail(job, common_pb2.MODEL_NOT_AVAILABLE,
                           f"every node that offers {job.src_lang}->{job.tgt_lang} reported its model unavailable",
                           retry_after_ms=self.settings.retry_after_ms)
                return
            self._fail(job, common_pb2.NO_AVAILABLE_NODE,
                       f"no other node can take utterance {job.utterance_index} after {job.attempt} attempt(s)",
                       retry_after_ms=self.settings.retry_after_ms)
            return
        if len(self.waiting) >= self.settings.max_queued_jobs:
            self._fail(job, common_pb2.NODE_OVERLOADED, "every capable node is busy and the queue is full",
                       retry_after_ms=self.settings.retry_after_ms)
            return
        job.state = JobState.QUEUED
        job.queued_at = time.monotonic()
        job.cancel_timer()
        job.timer = asyncio.get_running_loop().call_later(
            self.settings.queue_timeout_ms / 1000, self._queue_timed_out, job.job_id, job.attempt)
        self.waiting.append(job)
        metrics.QUEUE_DEPTH.set(len(self.waiting))

    def _capable_untried_exists(self, need: Need) -> bool:
        return any(i not in need.excluded and (n := self.registry.get(i)) is not None
                   and n.state is not NodeState.OFFLINE
                   for i in self.index.capable_ids(need.src, need.tgt, need.features_mask))

    def _pump_waiting(self) -> None:
        """Give freed slots to waiting jobs, oldest first."""
        for _ in range(len(self.waiting)):
            job = self.waiting.popleft()
            if job.job_id not in self.jobs or job.queued_at is None:
                continue
            node, _passed = self.selector.select(self.need_of(job))
            if node is None:
                self.waiting.append(job)
                continue
            self._dispatch(job)
        metrics.QUEUE_DEPTH.set(len(self.waiting))

    # ---- timeouts, retries, outcomes ---------------------------------------------------------------

    def _run_timeout_ms(self, job: Job) -> float:
        return self.settings.job_timeout_base_ms + self.settings.job_timeout_per_audio_s_ms * job.audio_s

    def _arm_run_timeout(self, job: Job) -> None:
        job.cancel_timer()
        job.timer = asyncio.get_running_loop().call_later(
            self._run_timeout_ms(job) / 1000, self._attempt_timed_out, job.job_id, job.attempt, "run")

    def _queue_timed_out(self, job_id: str, attempt: int) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.attempt != attempt or job.queued_at is None:
            return
        waited = time.monotonic() - job.queued_at
        self._fail(job, common_pb2.NO_AVAILABLE_NODE,
                   f"every capable node stayed busy for {waited:.1f} s; try again later",
                   retry_after_ms=self.settings.retry_after_ms)

    def _attempt_timed_out(self, job_id: str, attempt: int, stage: str) -> None:
        job = self.jobs.get(job_id)
        if job is None or job.attempt != attempt or job.node_id is None or job.queued_at is not None:
            return
        why = "did not acknowledge the job" if stage == "ack" else "did not finish in time"
        self._cancel_on_node(job, f"{stage}_timeout")
        self._job_failed_on(job.node_id)
        self._release(job)
        self._retry(job, f"node {job.node_id} {why}", f"{stage}_timeout",
                    last_error=make_error(common_pb2.JOB_TIMEOUT, f"the node {why}"))

    def _retry(self, job: Job, why: str, reason: str, last_error: common_pb2.Error | None = None) -> None:
        if job.attempt >= self.settings.max_attempts:
            code = last_error.code if last_error is not None and last_error.code else common_pb2.JOB_TIMEOUT
            self._fail(job, code, f"gave up after {job.attempt} attempts: {why}")
            return
        log.info("re-dispatching job %s: %s", job.job_id, why, extra={"job_id": job.job_id})
        metrics.REDISPATCHES.labels(reason).inc()
        self.counters["redispatched"] += 1
        self._dispatch(job)

    def _release(self, job: Job) -> None:
        """Free the node slot of the job's current attempt."""
        job.cancel_timer()
        if job.node_id is None:
            return
        node = self.registry.get(job.node_id)
        if node is not None and (job.job_id, job.attempt) in node.reserved:
            node.reserved.discard((job.job_id, job.attempt))
            self.hooks.released(node, job.job_id, job.attempt)
            self.index.update(node)
            self._pump_waiting()

    def _cancel_on_node(self, job: Job, reason: str) -> None:
        node = self.registry.get(job.node_id or "")
        if node is not None and job.queued_at is None:
            self.hooks.to_node(node, node_pb2.SchedulerMessage(job_cancel=node_pb2.JobCancel(
                job_id=job.job_id, attempt_id=job.attempt, reason=reason)))

    def _drop(self, job: Job) -> None:
        self._release(job)
        job.queued_at = None
        job.state = JobState.FINISHED
        self.jobs.pop(job.job_id, None)
        job.session.jobs.pop(job.utterance_index, None)
        if not self.jobs:
            self.no_jobs.set()

    def _finish(self, job: Job, message: session_pb2.ServerMessage) -> None:
        self._drop(job)
        self.hooks.job_finished(job, True)
        self.counters["completed"] += 1
        metrics.JOBS.labels("result").inc()
        self._deliver(job.session, job.utterance_index, message)

    def _fail(self, job: Job, code: int, message: str, retry_after_ms: int = 0) -> None:
        self._drop(job)
        self.hooks.job_finished(job, False)
        self.counters["failed"] += 1
        metrics.JOBS.labels("error").inc()
        self._deliver(job.session, job.utterance_index, session_pb2.ServerMessage(error=make_error(
            code, message, utterance_index=job.utterance_index, retry_after_ms=retry_after_ms)))

    def _deliver(self, session: Session, index: int, message: session_pb2.ServerMessage) -> None:
        """Push an outcome through the session's reorder buffer."""
        if session.closed:
            return
        ready = session.buffer.offer(index, message)
        if ready is None:
            self.counters["dropped_outcomes"] += 1
            return
        if not ready:
            self.counters["buffered_out_of_order"] += 1
        self._emit(session, ready)
        self._arm_gap_timer(session)

    def _emit(self, session: Session, messages: list[session_pb2.ServerMessage]) -> None:
        for msg in messages:
            if msg.HasField("result"):
                session.results_delivered += 1
            else:
                session.errors_delivered += 1
            session.send(msg)

    def _arm_gap_timer(self, session: Session) -> None:
        if session.timer is not None:
            session.timer.cancel()
            session.timer = None
        if session.closed:
            return
        deadline = session.buffer.gap_deadline()
        if deadline is not None:
            delay = max(0.0, deadline - time.monotonic())
            session.timer = asyncio.get_running_loop().call_later(delay, self._gap_expired, session)

    def _gap_expired(self, session: Session) -> None:
        session.timer = None
        if session.closed:
            return

        self._emit(session, session.buffer.give_up_expired(lambda index: self._result_timeout(session, index)))
        self._arm_gap_timer(session)

    def _result_timeout(self, session: Session, index: int,
                        why: str = "") -> session_pb2.ServerMessage:
        metrics.REORDER_WAITS.inc()
        self.counters["result_timeouts"] += 1
        job = session.jobs.get(index)
        if job is not None:  # still running somewhere: its late result will be dropped
            self._cancel_on_node(job, "result_timeout")
            self._drop(job)
        return session_pb2.ServerMessage(error=make_error(
            common_pb2.RESULT_TIMEOUT,
            why or f"no outcome for utterance {index} within {session.grace_s:.1f} s after a later one was ready",
            utterance_index=index))

    # ---- stopping alone (memory://): every utterance gets its outcome here (drain.drain_alone) --------

    def fail_in_flight(self, why: str) -> int:
        """Give every unfinished job an explicit error outcome now (queued ones first, so none is dispatched
        by a slot the others free); cancels them on their nodes. Returns how many."""
        jobs = sorted(self.jobs.values(), key=lambda j: j.queued_at is None)
        for job in jobs:
            if job.job_id not in self.jobs:
                continue
            self._cancel_on_node(job, "scheduler shutting down")
            self._fail(job, common_pb2.SESSION_CLOSED,
                       f"{why}: utterance {job.utterance_index} did not finish in time; send it again in a new session",
                       retry_after_ms=self.settings.retry_after_ms)
        return len(jobs)

    def end_sessions(self, why: str) -> int:
        """End every session after its last outcome: gaps in its order are given up now, then a final
        SESSION_CLOSED error (no utterance index) tells the client, and its stream ends."""
        ended = 0
        for session in list(self.sessions.values()):
            if session.closed:
                continue
            def timeout(index: int, session: Session = session) -> session_pb2.ServerMessage:
                return self._result_timeout(session, index,
                                            f"no outcome for utterance {index}: the scheduler is shutting down")

            self._emit(session, session.buffer.give_up_all(timeout))
            session.send(session_pb2.ServerMessage(error=make_error(
                common_pb2.SESSION_CLOSED, f"{why}; open a new session", retry_after_ms=self.settings.retry_after_ms)))
            session.ended_by_server = True
            self.close_session(session, why)
            ended += 1
        return ended

    # ---- scaled out: slots, nodes and sessions shared with other instances (see cluster/) ------------

    def assign_refused(self, job_id: str, attempt: int, node_id: str) -> None:
        """Another instance took the node's last slot first: undo this attempt and choose again."""
        job = self._current_job(node_id, job_id, attempt)
        node = self.registry.get(node_id)
        if job is None or node is None:
            return
        job.cancel_timer()
        node.reserved.discard((job_id, attempt))
        node.others_reserved = max(node.others_reserved, node.max_jobs - len(node.reserved))
        self.index.update(node)
        job.tried.discard(node_id)
        job.attempt -= 1  # nobody saw that attempt: the node never got it
        self.counters["assign_refused"] += 1
        self._dispatch(job)

    def attempt_lost(self, node_id: str, job_id: str, attempt: int, reason: str) -> None:
        """The attempt cannot finish (its node or the instance holding it went away): try another node."""
        job = self._current_job(node_id, job_id, attempt)
        if job is None:
            return
        self._release(job)
        self._retry(job, f"node {node_id} lost the job ({reason})", "node_lost")

    def remote_node_seen(self, seen: NodeRecord) -> None:
        """Another instance's node, as its snapshot says (reservations of ours on it are kept)."""
        node = self.registry.get(seen.node_id)
        if node is not None and not node.owner and node.node_id in self.links:
            return  # its stream is here: our record is the fresher one
        state, reason = seen.state, seen.state_reason
        if node is None:
            node = seen
            node.state = NodeState.OFFLINE
            self.registry.add(node)
        elif node.owner != seen.owner and node.state is not NodeState.OFFLINE:
            self._node_lost(node, f"moved to scheduler instance {seen.owner}")  # its running jobs died with it
        for name in ("auth_token", "caps", "max_jobs", "version", "platform", "display_name",
                     "accept_public_jobs", "usage", "owner", "others_reserved", "seconds_per_audio_s",
                     "connected_since_ms", "last_heartbeat_ms", "description"):
            setattr(node, name, getattr(seen, name))
        if node.state is not state:
            self._set_state(node, state, reason)
        else:
            self.index.update(node)
        self._pump_waiting()

    def remote_node_gone(self, node_id: str, reason: str) -> None:
        node = self.registry.get(node_id)
        if node is not None and node.owner and node.state is not NodeState.OFFLINE:
            self._node_lost(node, reason)

    def others_reserved(self, node: NodeRecord, count: int) -> None:
        """Slots other instances hold on `node` changed; a freed one may serve a waiting job."""
        if node.others_reserved == count:
            return
        freed = count < node.others_reserved
        node.others_reserved = count
        self.index.update(node)
        if freed:
            self._pump_waiting()

    def restore_session(self, session_id: str, resume_token: str, req: session_pb2.OpenSessionRequest,
                        paired_node_id: str) -> Session:
        """A session opened on another instance, resumed here: its order restarts at the next utterance sent."""
        old = self.sessions.get(session_id)
        if old is not None:
            self.close_session(old, "resumed on another stream", forget=False)
        session = self.open_session(session_pb2.OpenSessionRequest(
            src_lang=req.src_lang, tgt_lang=req.tgt_lang, dialect=req.dialect, features=req.features,
            tenant_id=req.tenant_id, platform=req.platform, streaming_asr=req.streaming_asr,
            stream_tts=req.stream_tts, require_paired_node=req.require_paired_node, mode=req.mode,
            lang_a=req.lang_a, lang_b=req.lang_b, pause_ms=req.pause_ms, persona=req.persona),
            session_id=session_id, resume_token=resume_token, paired_node_id=paired_node_id)
        session.rebase = True
        return session

    # ---- stats -----------------------------------------------------------------------------------

    def dispatch_percentile(self, q: float) -> float:
        if not self.dispatch_latencies:
            return 0.0
        ordered = sorted(self.dispatch_latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000
