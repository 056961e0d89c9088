"""The node registry: what each node can do, how busy it is, and whether it may take jobs."""

from __future__ import annotations

import collections
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


# Tier of a pair a node advertised without one (an older node): ranked after every known tier.
UNKNOWN_TIER = 9
# A same-language job needs no translation: nothing ranks above it.
NO_MT_TIER = 0
AUTO = "auto"


@dataclass(frozen=True)
class Route:
    """How a node translates one pair: tier (lingua_common.model_format TIER_*), engine, pivot language."""

    tier: int
    engine: str = ""
    pivot: str = ""


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
    # The best route per MT pair ((src, tgt), Route), and the voice per target language
    # (language, voice id, quality "native" | "espeak_native" | "cross_lingual").
    routes: tuple[tuple[tuple[str, str], Route], ...] = ()
    voices: tuple[tuple[str, str, str], ...] = ()

    @property
    def tts_languages(self) -> frozenset[str]:
        return self.tts_native | self.tts_cross_lingual

    @property
    def detects_language(self) -> bool:
        """The node can identify the spoken language (it advertises ASR for "auto")."""
        return AUTO in self.asr_languages

    def job_keys(self) -> set[tuple[str, str]]:
        """Every (src, tgt) this node can run end to end: ASR src, MT src→tgt (or none), TTS tgt.

        ("auto", tgt) when the node detects languages and translates something into tgt."""
        keys = {(s, t) for s in self.asr_languages - {AUTO} for t in self.tts_languages
                if s == t or (s, t) in self.mt_pairs}
        if self.detects_language:
            keys |= {(AUTO, t) for _, t in keys}
        return keys

    def can_run(self, src: str, tgt: str) -> bool:
        return not self.missing_for(src, tgt)

    def missing_for(self, src: str, tgt: str) -> list[str]:
        reasons = []
        if src not in self.asr_languages:
            reasons.append("cannot detect the spoken language" if src == AUTO else f"no ASR for {src!r}")
        if src == AUTO:
            if self.detects_language and (AUTO, tgt) not in self.job_keys():
                reasons.append(f"no MT into {tgt!r}")
        elif src != tgt and (src, tgt) not in self.mt_pairs:
            reasons.append(f"no MT for {src}->{tgt}")
        if tgt not in self.tts_languages:
            reasons.append(f"no TTS for {tgt!r}")
        return reasons

    def route(self, src: str, tgt: str) -> Route:
        """How this node would translate src→tgt ("auto": its best route into tgt)."""
        if src == tgt:
            return Route(NO_MT_TIER)
        found = [r for (s, t), r in self.routes if t == tgt and (s == src or src == AUTO)]
        if not found:
            return Route(UNKNOWN_TIER)
        return min(found, key=lambda r: (r.tier, r.engine))

    def tier(self, src: str, tgt: str) -> int:
        return self.route(src, tgt).tier

    def voice(self, lang: str) -> tuple[str, str]:
        """(voice id, quality) that speaks `lang` here; ("", "") when none."""
        return next(((v, q) for code, v, q in self.voices if code == lang), ("", ""))

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
    # Scaled out: the instance whose stream the node is on ("" = this one), and the slots other
    # instances hold on it (as last read from the shared reservations).
    owner: str = ""
    others_reserved: int = 0
    last_heartbeat: float = field(default_factory=time.monotonic)
    connected_since_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    last_heartbeat_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    jobs_completed: int = 0
    jobs_failed: int = 0
    # EWMA of processing seconds per audio second (0 until measured).
    seconds_per_audio_s: float = 0.0
    # Opaque extra description kept for admin listings (hardware, models, features) as the node sent them.
    description: object = None
    # Monotonic time the node last went offline (registry entries expire some time after it).
    offline_since: float = 0.0

    @property
    def busy_slots(self) -> int:
        return len(self.reserved) + self.others_reserved

    @property
    def free_slots(self) -> int:
        return max(0, self.max_jobs - self.busy_slots)

    @property
    def load(self) -> float:
        return self.busy_slots / self.max_jobs if self.max_jobs else 1.0

    def accepts_jobs(self) -> bool:
        return self.state is NodeState.READY and self.free_slots > 0

    def observe_speed(self, processing_s: float, audio_s: float, alpha: float = 0.2) -> None:
        if audio_s <= 0:
            return
        sample = processing_s / audio_s
        self.seconds_per_audio_s = sample if self.seconds_per_audio_s == 0 else (
            alpha * sample + (1 - alpha) * self.seconds_per_audio_s)


class NodeRegistry:
    """The nodes registered with this scheduler, keyed by id; an offline one is kept until `forget_offline`
    drops it (the mesh does so some time after it went offline).

    Counts by state and heartbeat expiry are maintained incrementally: with 10,000 nodes neither a state
    change nor the once-a-second expiry check may walk every node.
    """

    def __init__(self) -> None:
        self.nodes: dict[str, NodeRecord] = {}
        self._counts: collections.Counter[NodeState] = collections.Counter()
        # (monotonic time, node id) of every heartbeat, in arrival order (so oldest first).
        self._beats: collections.deque[tuple[float, str]] = collections.deque()
        # (monotonic time, node id) of every change to offline, oldest first.
        self._offline: collections.deque[tuple[float, str]] = collections.deque()

    def get(self, node_id: str) -> NodeRecord | None:
        return self.nodes.get(node_id)

    def add(self, node: NodeRecord) -> None:
        self.nodes[node.node_id] = node
        self._counts[node.state] += 1
        if node.state is NodeState.OFFLINE:
            self._went_offline(node)

    def remove(self, node_id: str) -> NodeRecord | None:
        node = self.nodes.pop(node_id, None)
        if node is not None:
            self._counts[node.state] -= 1
        return node

    def set_state(self, node: NodeRecord, state: NodeState, reason: str) -> None:
        self._counts[node.state] -= 1
        self._counts[state] += 1
        if state is NodeState.OFFLINE and node.state is not NodeState.OFFLINE:
            self._went_offline(node)
        node.state, node.state_reason = state, reason

    def _went_offline(self, node: NodeRecord, now: float | None = None) -> None:
        node.offline_since = time.monotonic() if now is None else now
        self._offline.append((node.offline_since, node.node_id))

    def offline_for(self, ttl_s: float, now: float | None = None) -> list[NodeRecord]:
        """Nodes offline for longer than `ttl_s` since they last went offline (amortised O(changes))."""
        now = time.monotonic() if now is None else now
        out = []
        while self._offline and now - self._offline[0][0] > ttl_s:
            since, node_id = self._offline.popleft()
            node = self.nodes.get(node_id)
            if node is not None and node.state is NodeState.OFFLINE and node.offline_since == since:
                out.append(node)
        return out

    def touch(self, node: NodeRecord, now: float | None = None) -> None:
        """Record a heartbeat (or registration) from `node`."""
        node.last_heartbeat = time.monotonic() if now is None else now
        node.last_heartbeat_ms = int(time.time() * 1000)
        self._beats.append((node.last_heartbeat, node.node_id))

    def expired(self, timeout_s: float, now: float | None = None) -> list[NodeRecord]:
        """Nodes not offline whose last heartbeat is older than `timeout_s` (amortised O(heartbeats))."""
        now = time.monotonic() if now is None else now
        out = []
        while self._beats and now - self._beats[0][0] > timeout_s:
            beat, node_id = self._beats.popleft()
            node = self.nodes.get(node_id)
            if node is not None and node.state is not NodeState.OFFLINE and node.last_heartbeat <= beat:
                out.append(node)
        return out

    def live_count(self) -> int:
        return len(self.nodes) - self._counts[NodeState.OFFLINE]

    def counts_by_state(self) -> dict[str, int]:
        return {s.value: self._counts[s] for s in NodeState}
