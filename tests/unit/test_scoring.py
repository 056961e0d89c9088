"""Hand-computed scores for every strategy and bonus."""

from __future__ import annotations

import pytest

from lingua.v1 import admin_pb2, common_pb2, node_pb2, session_pb2
from lingua_common.features import mask_of
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.explain import explain
from scheduler_svc.index import CapabilityIndex
from scheduler_svc.mesh import Mesh, NodeLink
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeRegistry, Usage
from scheduler_svc.scoring import Weights, rank, score_terms

CAPS = NodeCaps(frozenset({"en"}), frozenset({("en", "fr")}), frozenset({"en"}), frozenset({"fr"}))


def test_composite_terms_by_hand() -> None:
    n = NodeRecord(node_id="n", auth_token="", caps=CAPS, max_jobs=4)
    n.reserved = {("a", 1)}
    n.usage = Usage(cpu_percent=50, mem_percent=20, gpu_percent=10, gpu_mem_percent=30)
    n.seconds_per_audio_s = 0.25
    terms = score_terms(n, "fr", Weights())
    assert terms == pytest.approx({
        "load": 3.0 * 0.75, "cpu": 1.0 * 0.5, "gpu": 0.5 * 0.9, "mem": 0.5 * 0.8, "capacity": 1.0 * 0.75,
        "speed": 1.0 / 1.25, "native_voice": 0.0, "features": 0.0})
    assert score_terms(n, "en", Weights())["native_voice"] == 2.0
    assert rank(n, "fr", "composite", Weights()) == pytest.approx(sum(terms.values()))
    assert rank(n, "fr", "least_connections", Weights()) == -1
    assert rank(n, "en", "least_connections", Weights()) == -0.5  # native voice only breaks ties


def test_no_gpu_means_no_gpu_term_and_unmeasured_speed_is_neutral() -> None:
    n = NodeRecord(node_id="n", auth_token="", caps=CAPS, max_jobs=2)
    terms = score_terms(n, "fr", Weights())
    assert terms["gpu"] == 0.0 and terms["speed"] == 0.5


def index_with(strategy: str, specs: list[tuple[str, int, float]], **caps_kw: object) -> CapabilityIndex:
    registry = NodeRegistry()
    index = CapabilityIndex(registry, strategy=strategy, seed=1)
    for node_id, busy, cpu in specs:
        n = NodeRecord(node_id=node_id, auth_token="", caps=CAPS, max_jobs=4)
        n.reserved = {(f"j{i}", 1) for i in range(busy)}
        n.usage = Usage(cpu_percent=cpu)
        registry.add(n)
        index.update(n)
    return index


def test_least_connections_counts_jobs_not_cpu() -> None:
    index = index_with("least_connections", [("heavy", 3, 0), ("medium", 1, 99), ("light", 0, 99)])
    assert index.select("en", "fr", 0).node_id == "light"  # type: ignore[union-attr]


def test_composite_trades_cpu_against_load() -> None:
    # light: load 3 + capacity 1 + cpu 0.01 (+ mem 0.5 + speed 0.5) = 5.01;
    # medium: load 2.25 + capacity 0.75 + cpu 1.0 (+ 1.0) = 5.0 -> light wins.
    index = index_with("composite", [("light", 0, 99), ("medium", 1, 0)])
    assert index.select("en", "fr", 0).node_id == "light"  # type: ignore[union-attr]
    # At cpu 100 it is 5.0 against 5.0: ties go to the smaller node id, whichever that is.
    assert index_with("composite", [("light", 0, 100), ("medium", 1, 0)]).select(
        "en", "fr", 0).node_id == "light"  # type: ignore[union-attr]
    assert index_with("composite", [("light", 0, 100), ("a-medium", 1, 0)]).select(
        "en", "fr", 0).node_id == "a-medium"  # type: ignore[union-attr]


def test_round_robin_rotates_over_eligible_nodes() -> None:
    index = index_with("round_robin", [("a", 0, 0), ("b", 4, 0), ("c", 0, 0)])  # b is full
    picks = [index.select("en", "fr", 0).node_id for _ in range(4)]  # type: ignore[union-attr]
    assert picks == ["a", "c", "a", "c"]


def test_power_of_two_picks_the_better_of_two_samples() -> None:
    index = index_with("power_of_two", [("a", 3, 0), ("b", 0, 0)])
    # Two eligible nodes: both get sampled and the better one wins every time.
    assert {index.select("en", "fr", 0).node_id for _ in range(20)} == {"b"}  # type: ignore[union-attr]


def test_dialect_bonus_breaks_an_otherwise_even_contest() -> None:
    registry = NodeRegistry()
    index = CapabilityIndex(registry)
    for node_id, dialects in (("a", frozenset()), ("b", frozenset({"en-GB"}))):
        caps = NodeCaps(CAPS.asr_languages, CAPS.mt_pairs, CAPS.tts_native, CAPS.tts_cross_lingual, 0, dialects)
        registry.add(NodeRecord(node_id=node_id, auth_token="", caps=caps, max_jobs=4))
        index.update(registry.nodes[node_id])
    assert index.select("en", "fr", 0).node_id == "a"  # type: ignore[union-attr]
    assert index.select("en", "fr", 0, dialect="en-GB").node_id == "b"  # type: ignore[union-attr]


def _register(mesh: Mesh, name: str, busy_cpu: float = 0.0, features: common_pb2.Features | None = None,
              tts: tuple[str, ...] = ("en",), cross: tuple[str, ...] = ("fr",)) -> NodeLink:
    link = NodeLink("")
    models = [node_pb2.InstalledModel(model_id="asr", kind=node_pb2.MODEL_KIND_ASR, languages=["en"]),
              node_pb2.InstalledModel(model_id="mt", kind=node_pb2.MODEL_KIND_MT,
                                      pairs=[common_pb2.LanguagePair(src_lang="en", tgt_lang="fr")]),
              node_pb2.InstalledModel(model_id="tts", kind=node_pb2.MODEL_KIND_TTS, languages=list(tts),
                                      cross_lingual_languages=list(cross))]
    mesh.register_node(node_pb2.NodeRegister(node_id=name, installed_models=models, max_concurrent_jobs=2,
                                             features_supported=features), link)
    mesh.node_heartbeat(name, node_pb2.NodeHeartbeat(resource_usage=node_pb2.ResourceUsage(cpu_percent=busy_cpu)))
    return link


async def test_explain_matches_the_node_a_real_job_gets() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=1))
    _register(mesh, "busy", busy_cpu=90)
    _register(mesh, "idle", busy_cpu=5)
    _register(mesh, "emo", busy_cpu=50, features=common_pb2.Features(emotion_detection=True))
    _register(mesh, "german", tts=("de",), cross=())
    report = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr"))
    assert report.chosen_node_id == "idle" == report.candidates[0].node_id
    assert [c.node_id for c in report.candidates] == ["idle", "emo", "busy"]
    [german] = report.excluded
    assert german.node_id == "german" and "no TTS for 'fr'" in german.reasons
    idle = report.candidates[0]
    assert idle.terms["cpu"] == pytest.approx(0.95) and idle.score == pytest.approx(sum(idle.terms.values()))
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr"))
    mesh.submit_utterance(session, session_pb2.Utterance(utterance_index=0, audio=common_pb2.Audio(
        data=bytes(3200), encoding=common_pb2.PCM16, sample_rate_hz=16000)))
    assert next(iter(session.jobs.values())).node_id == report.chosen_node_id
    want = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr",
                                                          features=common_pb2.Features(emotion_detection=True)))
    assert want.chosen_node_id == "emo"
    assert any("lacks feature(s) emotion_detection" in r for e in want.excluded for r in e.reasons)
    assert mask_of(["emotion_detection"]) == 1 << 4
