"""Real languages on a node built as `lingua up` builds it: Apertium en<->es, pivots, language identification,
two-way direction, voices per language, and what a node says when an Apertium package is missing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from lingua.v1 import node_pb2
from lingua_common.audio import resample
from lingua_common.model_format import TIER_DEMO, TIER_PIVOT, TIER_RULE_BASED
from node_svc.pipeline import Pipeline, PipelineError, PipelineRequest
from tests.helpers.store import seed_store

# make test installs apertium and espeak-ng (scripts/ensure_languages.sh); without root they may be missing.
_MISSING = shutil.which("espeak-ng") is None or not Path("/usr/share/apertium/modes/eng-spa.mode").is_file()
pytestmark = [pytest.mark.models, pytest.mark.skipif(_MISSING, reason="apertium-eng-spa or espeak-ng is missing")]


def espeak(text: str, voice: str) -> np.ndarray:
    wav = subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "--stdout", text], capture_output=True,
                         check=True).stdout
    audio, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return resample(audio, rate, 16000)


def test_english_to_spanish_is_apertium_rule_based(languages_pipeline: Pipeline) -> None:
    result = languages_pipeline.run(PipelineRequest(espeak("My brother bought a new bicycle last week.", "en"),
                                                    "en", "es"))
    assert result.text_asr == "My brother bought a new bicycle last week."
    # Apertium is deterministic: this is eng-spa's translation of the transcript.
    assert result.text_translated == "Mi hermano compró una bicicleta nueva última semana."
    assert (result.mt_engine, result.mt_tier, result.pivot_lang) == ("apertium", TIER_RULE_BASED, "")
    # Spanish has no Piper voice here: espeak-ng's own Spanish voice speaks it.
    assert (result.tts_voice, result.tts_voice_quality) == ("espeak-ng", "espeak_native")
    assert len(result.tts_pcm16) > 22050  # more than half a second of speech


def test_spanish_source_goes_to_multilingual_whisper(languages_pipeline: Pipeline) -> None:
    result = languages_pipeline.run(PipelineRequest(espeak("Quiero comprar pan y leche en el mercado.", "es"),
                                                    "es", "en"))
    assert "mercado" in result.text_asr.lower()
    assert "market" in result.text_translated.lower()
    assert result.tts_voice == "en_US-joe-medium" and result.tts_voice_quality == "native"


def test_auto_identifies_the_language(languages_pipeline: Pipeline) -> None:
    speech = espeak("My brother bought a new bicycle last week.", "en")
    english = languages_pipeline.run(PipelineRequest(speech, "auto", "es"))
    assert (english.detected_lang, english.src_lang, english.tgt_lang) == ("en", "en", "es")
    assert english.detected_probability > 0.5
    assert english.text_translated == "Mi hermano compró una bicicleta nueva última semana."


def test_two_way_picks_the_direction_from_the_language_heard(languages_pipeline: Pipeline) -> None:
    """The store path used to call detect_language on an engine without it (issue 14 / 17)."""
    pair = ("en", "es")
    english = languages_pipeline.run(PipelineRequest(espeak("My brother bought a new bicycle last week.", "en"),
                                                     "", "", two_way=pair))
    spanish = languages_pipeline.run(PipelineRequest(espeak("¿Dónde está la estación de tren?", "es"),
                                                     "", "", two_way=pair))
    assert (english.src_lang, english.tgt_lang, english.detected_lang) == ("en", "es", "en")
    assert (spanish.src_lang, spanish.tgt_lang, spanish.detected_lang) == ("es", "en", "es")
    assert english.text_translated == "Mi hermano compró una bicicleta nueva última semana."
    assert "estación" in spanish.text_asr and spanish.text_translated.lower().startswith("where")


def test_pivot_beats_the_demo_phrasebook(languages_pipeline: Pipeline) -> None:
    """en->fr: the phrasebook (demo) has it directly, Apertium has en->es and es->fr: the pivot wins."""
    routes = languages_pipeline.mt.routes()  # type: ignore[attr-defined]
    assert routes[("en", "fr")].tier == TIER_PIVOT and routes[("en", "fr")].pivot == "es"
    assert routes[("fr", "en")].pivot == "es"
    output = languages_pipeline.mt.translate_output(["The weather is very nice today."], "en", "fr")  # type: ignore[attr-defined]
    direct = languages_pipeline.mt.translate_output(["The weather is very nice today."], "en", "es")  # type: ignore[attr-defined]
    via = languages_pipeline.mt.translate_output(direct.texts, "es", "fr")  # type: ignore[attr-defined]
    assert output.texts == via.texts and output.texts[0]
    assert (output.engine, output.tier, output.pivot) == ("apertium+apertium", TIER_PIVOT, "es")


def test_advertised_pairs_carry_tiers(languages_pipeline: Pipeline) -> None:
    assert languages_pipeline.served is not None
    models = languages_pipeline.served.protos()
    offers: dict[tuple[str, str], set[tuple[int, str, str]]] = {}
    for m in models:
        if m.kind == node_pb2.MODEL_KIND_MT:
            for p in m.pairs:
                offers.setdefault((p.src_lang, p.tgt_lang), set()).add((p.tier, p.engine, p.pivot_lang))
    assert offers[("en", "es")] == {(TIER_RULE_BASED, "apertium", "")}
    # en->fr: directly by the phrasebook (a demo) and through Spanish by two Apertium pairs.
    assert offers[("en", "fr")] == {(TIER_DEMO, "ctranslate2-m2m100", ""), (TIER_PIVOT, "apertium+apertium", "es")}
    asr = {m.model_id: m for m in models if m.kind == node_pb2.MODEL_KIND_ASR}
    assert "auto" in asr["whisper-base"].languages and "es" in asr["whisper-base"].languages
    assert list(asr["whisper-tiny.en"].languages) == ["en"]
    tts = {m.model_id: m for m in models if m.kind == node_pb2.MODEL_KIND_TTS}
    assert tts["espeak-ng"].engine == "espeak-ng" and "es" in tts["espeak-ng"].languages


def test_a_missing_apertium_package_is_said_not_pretended(tmp_path: Path) -> None:
    store = seed_store(tmp_path / "models", ["silero-vad", "whisper-tiny.en", "piper-en-us-joe-medium",
                                              "apertium-eng-spa"], cache=tmp_path / "cache")
    model = store.latest("apertium-eng-spa")
    assert model is not None
    manifest = json.loads((model.path / "apertium.json").read_text())
    manifest["modes"] = [{"src": "en", "tgt": "es", "mode": "eng-xxx"}]  # a mode no package installs
    (model.path / "apertium.json").unlink()
    (model.path / "apertium.json").write_text(json.dumps(manifest))
    pipeline = Pipeline.from_store(store, system_models=False)
    entry = next(m for m in pipeline.served.protos() if m.model_id == "apertium-eng-spa")  # type: ignore[union-attr]
    assert entry.state == node_pb2.MODEL_STATE_NOT_INSTALLED and not entry.pairs
    with pytest.raises(PipelineError) as failed:
        pipeline.run(PipelineRequest(espeak("Hello there.", "en"), "en", "es"))
    assert failed.value.code == "MODEL_NOT_AVAILABLE"


def test_auto_chooses_among_languages_the_node_can_translate(languages_pipeline: Pipeline) -> None:
    spanish = languages_pipeline.run(PipelineRequest(espeak("¿Dónde está la estación de tren?", "es"), "auto", "en"))
    assert (spanish.detected_lang, spanish.src_lang, spanish.tgt_lang) == ("es", "es", "en")
    assert spanish.text_translated.lower().startswith("where")


def test_auto_says_which_language_it_heard_when_it_cannot_translate_it(languages_pipeline: Pipeline) -> None:
    """English is heard clearly, but nothing installed translates en->de: a typed error naming it, no guess."""
    with pytest.raises(PipelineError) as failed:
        languages_pipeline.run(PipelineRequest(espeak("My brother bought a new bicycle last week.", "en"),
                                               "auto", "de"))
    assert failed.value.code == "UNSUPPORTED_LANGUAGE"
    assert "heard 'en'" in failed.value.message
