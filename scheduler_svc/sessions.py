"""Sessions and jobs as the scheduler tracks them."""

from __future__ import annotations

import asyncio
import enum
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from lingua.v1 import common_pb2, session_pb2
from lingua_common.errors import make_error
from scheduler_svc.reorder import ReorderBuffer
from scheduler_svc.streaming import ChunkAssembler, GroupContext

_DROPPABLE = {"asr_partial", "tts_chunk", "event", "heartbeat"}

Outgoing = session_pb2.ServerMessage | None


class Superseded(Exception):
    """A newer reader took the session over: this reader gets nothing more."""


class Outbox:
    """A session's outgoing messages in order (None: the session ended), read by one reader at a time.

    `attach` makes a new reader current and atomically supersedes the previous one: a message is only ever
    handed to the current reader, so whatever the old reader has not taken yet goes to the new one. Tracks
    its size in messages and bytes so a client that stops reading can be cut off (Session.send).
    """

    def __init__(self) -> None:
        self._items: deque[tuple[Outgoing, int]] = deque()
        self.nbytes = 0
        self._wake = asyncio.Event()
        # Generation of the current reader (0: none ever), and whether it is still attached.
        self.reader = 0
        self.reading = False

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, message: Outgoing) -> None:
        size = message.ByteSize() if message is not None else 0
        self._items.append((message, size))
        self.nbytes += size
        self._notify()

    def get_nowait(self) -> Outgoing:
        if not self._items:
            raise asyncio.QueueEmpty
        message, size = self._items.popleft()
        self.nbytes -= size
        return message

    def attach(self) -> int:
        """A new reader takes over (the previous one's get raises Superseded); returns its generation."""
        self.reader += 1
        self.reading = True
        self._notify()
        return self.reader

    def detach(self, reader: int) -> bool:
        """`reader` stops reading; True if it was the current one (nobody reads now)."""
        if reader != self.reader or not self.reading:
            return False
        self.reading = False
        return True

    async def get(self, reader: int) -> Outgoing:
        """The next message for `reader`; raises Superseded once another reader attached."""
        while True:
            if reader != self.reader:
                raise Superseded
            if self._items:
                return self.get_nowait()
            await self._wake.wait()

    def _notify(self) -> None:
        self._wake.set()
        self._wake = asyncio.Event()


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
    # Past either bound the client is not reading: the session ends with CLIENT_TOO_SLOW (on_overflow).
    max_outbox: int = 2048
    max_outbox_bytes: int = 64 * 1024 * 1024
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    outbox: Outbox = field(default_factory=Outbox)
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
    # grpc-web: the timer that closes a session nobody reads (outbox.reading tells whether somebody does).
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
    # Ended by the scheduler (shutting down, client too slow): the stream ends once the outbox is written.
    ended_by_server: bool = False
    # The outbox passed its bound: nothing more is queued, and on_overflow (the mesh) ends the session.
    overflowed: bool = False
    on_overflow: Callable[[Session], None] | None = None

    def __post_init__(self) -> None:
        self.buffer: ReorderBuffer[session_pb2.ServerMessage] = ReorderBuffer(self.grace_s)

    def send(self, message: session_pb2.ServerMessage) -> None:
        if self.closed or self.overflowed:
            return
        queued = self.outbox.qsize()
        if queued >= self.max_buffered and message.WhichOneof("kind") in _DROPPABLE:
            return  # nobody is reading (a dropped grpc-web Subscribe): keep outcomes, drop live extras
        too_big = queued > 0 and self.outbox.nbytes + message.ByteSize() > self.max_outbox_bytes
        if queued >= self.max_outbox or too_big:
            # The client stopped reading: end the session rather than grow without bound.
            self.overflowed = True
            lost = self.buffer.next_index
            if message.HasField("result"):
                lost = message.result.utterance_index
            elif message.HasField("error") and message.error.HasField("utterance_index"):
                lost = message.error.utterance_index
            self.outbox.put_nowait(session_pb2.ServerMessage(error=make_error(
                common_pb2.CLIENT_TOO_SLOW,
                f"the client did not read this session's messages ({queued} waiting, {self.outbox.nbytes} bytes); "
                f"the session is ended and utterances from {lost} on have no outcome")))
            if self.on_overflow is not None:
                self.on_overflow(self)
            return
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
