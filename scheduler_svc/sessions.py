"""Sessions and jobs as the scheduler tracks them."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from lingua.v1 import common_pb2, session_pb2

from scheduler_svc.reorder import ReorderBuffer


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
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    outbox: asyncio.Queue[session_pb2.ServerMessage | None] = field(default_factory=asyncio.Queue)
    # Jobs of this session not yet finished, by utterance index.
    jobs: dict[int, Job] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    closed: bool = False
    utterances_received: int = 0
    results_delivered: int = 0
    errors_delivered: int = 0

    def __post_init__(self) -> None:
        self.buffer: ReorderBuffer[session_pb2.ServerMessage] = ReorderBuffer(self.grace_s)

    def send(self, message: session_pb2.ServerMessage) -> None:
        if not self.closed:
            self.outbox.put_nowait(message)


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
    created: float = field(default_factory=time.monotonic)
    attempt: int = 0
    node_id: str | None = None
    tried: set[str] = field(default_factory=set)
    dispatched_at: float = 0.0
    queued_at: float | None = None
    timer: asyncio.TimerHandle | None = None
    acked: bool = False
    started: bool = False

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
