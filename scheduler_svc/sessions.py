"""Sessions and jobs as the scheduler tracks them."""

from __future__ import annotations

import asyncio
import enum
import time
from dataclasses import dataclass, field

from lingua.v1 import common_pb2, session_pb2
from scheduler_svc.reorder import ReorderBuffer
from scheduler_svc.streaming import ChunkAssembler, GroupContext

_DROPPABLE = {"asr_partial", "tts_chunk", "event", "heartbeat"}


@dataclass
class Session:
    session_id: str
    src_lang: str
    tgt_lang: str
    dialect: str
    features: common_pb2.Features
    tenant_id: str = ""
    platform: str = ""
    streaming_asr: bool = False
    stream_tts: bool = False
    resume_token: str = ""
    grace_s: float = 10.0
    paired_node_id: str = ""
    require_paired_node: bool = False
    two_way: bool = False
    lang_a: str = ""
    lang_b: str = ""
    pause_s: float = 1.0
    max_buffered: int = 512
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    outbox: asyncio.Queue[session_pb2.ServerMessage | None] = field(default_factory=asyncio.Queue)
    # Jobs of this session not yet finished, by utterance index.
    jobs: dict[int, Job] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    closed: bool = False
    utterances_received: int = 0
    results_delivered: int = 0
    errors_delivered: int = 0
    # Highest utterance index used so far (client-chosen or sealed from chunks).
    last_index: int = -1
    chunks: ChunkAssembler = field(default_factory=lambda: ChunkAssembler(8 * 1024 * 1024))
    chunk_timer: asyncio.TimerHandle | None = None
    context: GroupContext = field(default_factory=GroupContext)
    # grpc-web: how many Subscribe streams read the outbox, and the timer that closes an abandoned session.
    subscribers: int = 0
    idle_timer: asyncio.TimerHandle | None = None
    # The paired node was unavailable at the last dispatch (the client was told once).
    paired_unavailable: bool = False
    persona: common_pb2.Persona = field(default_factory=common_pb2.Persona)
    # speaker_identification: the voices heard so far ("spk-1", "spk-2", ...), sent with each job.
    speakers: list[common_pb2.KnownSpeaker] = field(default_factory=list)
    # Resumed on this instance after its first one went away: the next utterance index starts the order.
    rebase: bool = False
    # Closed because this instance is shutting down: the client should resume it on another one.
    handed_over: bool = False

    def __post_init__(self) -> None:
        self.buffer: ReorderBuffer[session_pb2.ServerMessage] = ReorderBuffer(self.grace_s)

    def send(self, message: session_pb2.ServerMessage) -> None:
        if self.closed:
            return
        if self.outbox.qsize() >= self.max_buffered and message.WhichOneof("kind") in _DROPPABLE:
            return  # nobody is reading (a dropped grpc-web Subscribe): keep outcomes, drop live extras
        self.outbox.put_nowait(message)

    def cancel_timers(self) -> None:
        for timer in (self.timer, self.chunk_timer, self.idle_timer):
            if timer is not None:
                timer.cancel()
        self.timer = self.chunk_timer = self.idle_timer = None


class JobState(enum.Enum):
    CREATED = "created"
    QUEUED = "queued"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    RUNNING = "running"
    FINISHED = "finished"


@dataclass
class Job:
    job_id: str
    session: Session
    utterance_index: int
    src_lang: str
    tgt_lang: str
    dialect: str
    features: common_pb2.Features
    features_mask: int
    audio: common_pb2.Audio
    audio_s: float
    context_text: str = ""
    created: float = field(default_factory=time.monotonic)
    state: JobState = JobState.CREATED
    attempt: int = 0
    node_id: str | None = None
    tried: set[str] = field(default_factory=set)
    dispatched_at: float = 0.0
    queued_at: float | None = None
    timer: asyncio.TimerHandle | None = None

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
