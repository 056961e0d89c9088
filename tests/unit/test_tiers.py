"""Translation tiers in the scheduler: what nodes advertise becomes routes, dispatch prefers the better tier
before any load, "auto" sources go to nodes that identify languages, and ListLanguages lists what is online."""

from __future__ import annotations

import pytest

from lingua.v1 import common_pb2, node_pb2
from lingua_common.model_format import TIER_DEMO, TIER_NEURAL, TIER_PIVOT, TIER_RULE_BASED
from scheduler_svc.index import CapabilityIndex
from scheduler_svc.languages import list_languages
from scheduler_svc.mesh import caps_from_models
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeRegistry, NodeState


def models(*pairs: tuple[str, str, int, str], asr: tuple[str, ...] = ("en", "es"),
           espeak: bool = True) -> list[node_pb2.InstalledModel]:
    out = [node_pb2.InstalledModel(model_id="whisper", kind=node_pb2.MODEL_KIND_ASR, languages=list(asr)),
           node_pb2.InstalledModel(model_id="mt", kind=node_pb2.MODEL_KIND_MT, pairs=[
               common_pb2.LanguagePair(src_lang=s, tgt_lang=t, tier=tier, engine="e", pivot_lang=pivot)  # type: ignore[arg-type]
               for s, t, tier, pivot in [(p[0], p[1], p[2], p[3]) for p in pairs]]),
           node_pb2.InstalledModel(model_id="piper-joe", kind=node_pb2.MODEL_KIND_TTS, engine="piper",
                                   languages=["en"], cross_lingual_languages=["es", "fr"])]
    if espeak:
        out.append(node_pb2.InstalledModel(model_id="espeak-ng", kind=node_pb2.MODEL_KIND_TTS, engine="espeak-ng",
                                           languages=["en", "es", "fr"]))
    return out


def node(registry: NodeRegistry, index: CapabilityIndex, node_id: str, caps: NodeCaps, busy: int = 0) -> NodeRecord:
    record = NodeRecord(node_id=node_id, auth_token="t", caps=caps, max_jobs=4)
    record.reserved = {(f"j{i}", 1) for i in range(busy)}
    registry.add(record)
    index.update(record)
    return record


def test_caps_keep_the_best_route_and_voice_per_language() -> None:
    caps = caps_from_models(models(("en", "es", TIER_RULE_BASED, ""), ("en", "fr", TIER_DEMO, ""),
                                   ("en", "fr", TIER_PIVOT, "es")), common_pb2.Features())
    assert caps.route("en", "fr").tier == TIER_PIVOT and caps.route("en", "fr").pivot == "es"
    assert caps.tier("en", "es") == TIER_RULE_BASED
    assert caps.voice("en") == ("piper-joe", "native")
    assert caps.voice("es") == ("espeak-ng", "espeak_native")
    no_espeak = caps_from_models(models(("en", "es", TIER_RULE_BASED, ""), espeak=False), common_pb2.Features())
    assert no_espeak.voice("es") == ("piper-joe", "cross_lingual")


@pytest.mark.parametrize("strategy", ["composite", "least_connections", "round_robin", "power_of_two"])
def test_dispatch_prefers_the_better_tier_over_a_lighter_load(strategy: str) -> None:
    registry = NodeRegistry()
    index = CapabilityIndex(registry, strategy=strategy, seed=1)
    demo = caps_from_models(models(("en", "fr", TIER_DEMO, "")), common_pb2.Features())
    pivot = caps_from_models(models(("en", "fr", TIER_PIVOT, "es")), common_pb2.Features())
    node(registry, index, "idle-demo", demo)
    node(registry, index, "idle-demo-2", demo)
    node(registry, index, "busy-pivot", pivot, busy=3)
    for _ in range(4):
        assert index.select("en", "fr", 0).node_id == "busy-pivot"  # type: ignore[union-attr]
    full = registry.get("busy-pivot")
    assert full is not None
    full.reserved.add(("last", 1))  # no free slot left: the demo tier is better than nothing
    index.update(full)
    assert index.select("en", "fr", 0).node_id in {"idle-demo", "idle-demo-2"}  # type: ignore[union-attr]


def test_auto_goes_only_to_nodes_that_identify_languages() -> None:
    registry = NodeRegistry()
    index = CapabilityIndex(registry)
    detects = caps_from_models(models(("es", "en", TIER_RULE_BASED, ""), asr=("en", "es", "auto")),
                               common_pb2.Features())
    english_only = caps_from_models(models(("en", "es", TIER_NEURAL, ""), asr=("en",)), common_pb2.Features())
    node(registry, index, "multilingual", detects)
    node(registry, index, "tiny", english_only)
    assert index.select("auto", "en", 0).node_id == "multilingual"  # type: ignore[union-attr]
    assert index.select("auto", "fr", 0) is None
    assert english_only.missing_for("auto", "es") == ["cannot detect the spoken language"]


def test_list_languages_reports_the_best_tier_online() -> None:
    registry = NodeRegistry()
    index = CapabilityIndex(registry)
    node(registry, index, "rule", caps_from_models(models(("en", "es", TIER_RULE_BASED, ""),
                                                          ("es", "en", TIER_RULE_BASED, ""),
                                                          ("en", "fr", TIER_PIVOT, "es"), asr=("en", "es", "auto")),
                                                   common_pb2.Features()))
    node(registry, index, "demo", caps_from_models(models(("en", "fr", TIER_DEMO, "")), common_pb2.Features()))
    offline = node(registry, index, "gone", caps_from_models(models(("en", "de", TIER_NEURAL, "")),
                                                             common_pb2.Features()))
    offline.state = NodeState.OFFLINE
    response = list_languages(registry.nodes.values())
    offers = {(p.src_lang, p.tgt_lang): p for p in response.pairs}
    assert set(offers) == {("en", "es"), ("es", "en"), ("en", "fr")}
    assert offers[("en", "fr")].tier == common_pb2.TRANSLATION_TIER_PIVOT and offers[("en", "fr")].pivot_lang == "es"
    assert offers[("en", "fr")].nodes == 2
    assert offers[("en", "es")].two_way and not offers[("en", "fr")].two_way
    assert (offers[("en", "es")].voice, offers[("en", "es")].voice_quality) == ("espeak-ng", "espeak_native")
    assert (offers[("es", "en")].voice, offers[("es", "en")].voice_quality) == ("piper-joe", "native")
    assert list(response.detectable_languages) == ["en", "es"]
