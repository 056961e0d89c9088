"""How eligible nodes are ranked: the composite score and its terms.

score = w_load·(1-load) + w_cpu·(1-cpu) + w_gpu·(1-gpu) + w_mem·(1-mem) + w_capacity·free/max
        + w_speed·speed + bonuses (native voice for the target language, supported features;
        exact dialect match and the session's paired node are added at selection time)

load counts the jobs this scheduler has reserved on the node, not just the last heartbeat; speed is
1/(1 + seconds of processing per second of audio), learned from real results (0.5 until measured).
"""

from __future__ import annotations

from dataclasses import dataclass

from lingua_common.features import FEATURE_NAMES
from scheduler_svc.registry import NodeRecord

STRATEGIES = ("composite", "least_connections", "round_robin", "power_of_two")


@dataclass(frozen=True)
class Weights:
    load: float = 3.0
    cpu: float = 1.0
    gpu: float = 0.5
    mem: float = 0.5
    capacity: float = 1.0
    speed: float = 1.0
    native_voice: float = 2.0
    features: float = 0.25
    dialect: float = 0.5
    paired: float = 100.0


def speed_of(node: NodeRecord) -> float:
    spa = node.seconds_per_audio_s
    return 0.5 if spa <= 0 else 1.0 / (1.0 + spa)


def score_terms(node: NodeRecord, tgt: str, w: Weights) -> dict[str, float]:
    """Every node-dependent term of the composite score for a job speaking `tgt`."""
    u = node.usage
    has_gpu = u.gpu_percent > 0 or u.gpu_mem_percent > 0
    supported = bin(node.caps.features_mask).count("1")
    return {
        "load": w.load * (1.0 - node.load),
        "cpu": w.cpu * (1.0 - min(100.0, u.cpu_percent) / 100.0),
        "gpu": w.gpu * (1.0 - min(100.0, u.gpu_percent) / 100.0) if has_gpu else 0.0,
        "mem": w.mem * (1.0 - min(100.0, u.mem_percent) / 100.0),
        "capacity": w.capacity * (node.free_slots / node.max_jobs if node.max_jobs else 0.0),
        "speed": w.speed * speed_of(node),
        "native_voice": w.native_voice if tgt in node.caps.tts_native else 0.0,
        "features": w.features * supported / len(FEATURE_NAMES),
    }


def rank(node: NodeRecord, tgt: str, strategy: str, w: Weights) -> float:
    """The number the capability index orders nodes by (higher is better) for a strategy."""
    if strategy == "least_connections":
        # Fewest reserved jobs first; a native voice only breaks ties.
        return -node.busy_slots + (0.5 if tgt in node.caps.tts_native else 0.0)
    return sum(score_terms(node, tgt, w).values())
