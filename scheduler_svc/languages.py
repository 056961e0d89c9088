"""What the mesh can translate right now: every (src, tgt) some online node serves, at the best tier on offer.

Built from the registry on demand (ListLanguages is rare next to dispatch), from the same capabilities the
index dispatches by, so a pair listed here is a pair a job can be sent with.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lingua.v1 import common_pb2, session_pb2
from lingua_common.model_format import TIER_DEMO
from scheduler_svc.registry import AUTO, NodeRecord, NodeState, Route

# Node states in which a node is "online": it serves jobs now, or will once its current jobs end.
_ONLINE = (NodeState.READY, NodeState.DEGRADED)
_VOICE_RANK = {"native": 0, "espeak_native": 1, "cross_lingual": 2}


def wire_tier(tier: int) -> common_pb2.TranslationTier:
    """A route's tier as the enum (an unknown tier is UNSPECIFIED)."""
    return tier if 0 < tier <= TIER_DEMO else common_pb2.TRANSLATION_TIER_UNSPECIFIED  # type: ignore[return-value]


def wire_pair(src: str, tgt: str, route: Route) -> common_pb2.LanguagePair:
    return common_pb2.LanguagePair(src_lang=src, tgt_lang=tgt, tier=wire_tier(route.tier), engine=route.engine,
                                   pivot_lang=route.pivot)


@dataclass
class _Offer:
    route: Route
    voice: tuple[str, str]
    nodes: set[str] = field(default_factory=set)
    two_way: bool = False

    def better_than(self, route: Route, voice: tuple[str, str]) -> bool:
        return (self.route.tier, _VOICE_RANK.get(self.voice[1], 3)) <= (route.tier, _VOICE_RANK.get(voice[1], 3))


def list_languages(nodes: Iterable[NodeRecord]) -> session_pb2.ListLanguagesResponse:
    offers: dict[tuple[str, str], _Offer] = {}
    detectable: set[str] = set()
    for node in nodes:
        if node.state not in _ONLINE or not node.accept_public_jobs:
            continue
        caps = node.caps
        if caps.detects_language:
            detectable |= caps.asr_languages - {AUTO}
        keys = caps.job_keys()
        for src, tgt in keys:
            if src in (tgt, AUTO):
                continue
            route, voice = caps.route(src, tgt), caps.voice(tgt)
            offer = offers.get((src, tgt))
            if offer is None or not offer.better_than(route, voice):
                offer = offers[(src, tgt)] = _Offer(route, voice, offer.nodes if offer else set(),
                                                    offer.two_way if offer else False)
            offer.nodes.add(node.node_id)
            offer.two_way = offer.two_way or (tgt, src) in keys
    response = session_pb2.ListLanguagesResponse(detectable_languages=sorted(detectable))
    for (src, tgt), offer in sorted(offers.items()):
        response.pairs.add(src_lang=src, tgt_lang=tgt, tier=wire_tier(offer.route.tier), engine=offer.route.engine,
                           pivot_lang=offer.route.pivot, voice=offer.voice[0], voice_quality=offer.voice[1],
                           nodes=len(offer.nodes), two_way=offer.two_way)
    return response
