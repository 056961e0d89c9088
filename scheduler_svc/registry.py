"""The node registry: what each node can do, how busy it is, and whether it may take jobs."""

from __future__ import annotations

import enum
import time
from dataclasses import dataclass, field

from lingua_common.features import FEATURE_NAMES


class NodeState(enum.Enum):
    REGISTERING = "registering"
    READY = "ready"
    DEGRADED = "degraded"
    DRAINING = "draining"
    OFFLINE = "offline"


@dataclass(frozen=True)
class NodeCaps:
    """Capabilities as the scheduler matches them."""

    asr_languages: frozenset[str] = frozenset()
    mt_pairs: frozenset[tuple[str, str]] = frozenset()
    tts_native: frozenset[str] = frozenset()
    tts_cross_lingual: frozenset[str] = frozenset()
    # Bit i set when FEATURE_NAMES[i] is supported.
    features_mask: int = 0
    # Dialects the node's models name (e.g. "en-GB", "yue"); an exact match earns a bonus.
    dialects: frozenset[str] = frozenset()

    @property
    def tts_languages(self) -> frozenset[str]:
        return self.tts_native | self.tts_cross_lingual

    def job_keys(self) -> set[tuple[str, str]]:
        """Every (src, tgt) this node can run end to end: ASR src, MT src→tgt (or none), TTS tgt."""
        return {(s, t) for s in self.asr_languages for t in self.tts_languages
                if s == t or (s, t) in self.mt_pairs}

    def can_run(self, src: str, tgt: str) -> bool:
        return (src in self.asr_languages and tgt in self.tts_languages
                and (src == tgt or (src, tgt) in self.mt_pairs))

    def missing_for(self, src: str, tgt: str) -> list[str]:
        reasons = []
        if src not in self.asr_languages:
            reasons.append(f"no ASR for {src!r}")
        if src != tgt and (src, tgt) not in self.mt_pairs:
            reasons.append(f"no MT for {src}->{tgt}")
        if tgt not in self.tts_languages:
            reasons.append(f"no TTS for {tgt!r}")
        return reasons

    def missing_features(self, mask: int) -> list[str]:
        lacking = mask & ~self.features_mask
        return [name for i, name in enumerate(FEATURE_NAMES) if lacking >> i & 1]


@dataclass
class Usage:
    cpu_percent: float = 0.0
    mem_percent: float = 0.0
    gpu_percent: float = 0.0
    gpu_mem_percent: float = 0.0
    running_jobs: int = 0


@dataclass
class NodeRecord:
    node_id: str
    auth_token: str
    caps: NodeCaps
    max_jobs: int
    version: str = ""
    platform: str = ""
    display_name: str = ""
    accept_public_jobs: bool = True
    state: NodeState = NodeState.READY
    state_reason: str = ""
    usage: Usage = field(default_factory=Usage)
    # Jobs (job_id, attempt) this scheduler dispatched to the node that have not finished.
    reserved: set[tuple[str, int]] = field(default_factory=set)
    last_heartbeat: float = field(default_factory=time.monotonic)
    connected_since_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    last_heartbeat_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    jobs_completed: int = 0
    jobs_failed: int = 0
    # EWMA of processing seconds per audio second (0 until measured).
    seconds_per_audio_s: float = 0.0
    # Bumped on every change that affects selection; stale index entries carry an older value.
    epoch: int = 0
    # Opaque extra description kept for admin listings (hardware, models) as the node sent it.
    description: object = None

    @property
    def free_slots(self) -> int:
        return max(0, self.max_jobs - len(self.reserved))

    @property
    def load(self) -> float:
        return len(self.reserved) / self.max_jobs if self.max_jobs else 1.0

    def accepts_jobs(self) -> bool:
        return self.state is NodeState.READY and self.free_slots > 0

    def observe_speed(self, processing_s: float, audio_s: float, alpha: float = 0.2) -> None:
        if audio_s <= 0:
            return
        sample = processing_s / audio_s
        self.seconds_per_audio_s = sample if self.seconds_per_audio_s == 0 else (
            alpha * sample + (1 - alpha) * self.seconds_per_audio_s)


class NodeRegistry:
    """All nodes ever registered with this scheduler, keyed by id (offline ones are kept)."""

    def __init__(self) -> None:
        self.nodes: dict[str, NodeRecord] = {}

    def get(self, node_id: str) -> NodeRecord | None:
        return self.nodes.get(node_id)

    def add(self, node: NodeRecord) -> None:
        self.nodes[node.node_id] = node

    def live(self) -> list[NodeRecord]:
        return [n for n in self.nodes.values() if n.state is not NodeState.OFFLINE]

    def expired(self, timeout_s: float, now: float | None = None) -> list[NodeRecord]:
        now = time.monotonic() if now is None else now
        return [n for n in self.nodes.values()
                if n.state is not NodeState.OFFLINE and now - n.last_heartbeat > timeout_s]

    def any_can_run(self, src: str, tgt: str, features_mask: int) -> bool:
        return any(n.caps.can_run(src, tgt) and not n.caps.missing_features(features_mask)
                   for n in self.live())

    def counts_by_state(self) -> dict[str, int]:
        out = {s.value: 0 for s in NodeState}
        for n in self.nodes.values():
            out[n.state.value] += 1
        return out
