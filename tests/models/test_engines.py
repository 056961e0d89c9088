"""The real bundled engines and the pipeline end to end (no stubs, no downloads).

Piper makes the speech, so the tests need no audio fixtures. Models load once per session.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from lingua_common.audio import pcm16_to_float, resample
from node_svc.engines.asr import AsrUnsupportedLanguage, WhisperAsr
from node_svc.engines.tts import PiperTts, TtsUnsupportedLanguage, split_sentences
from node_svc.engines.vad import SileroVad
from node_svc.pipeline import Pipeline, PipelineError, PipelineRequest
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

SR = 16000
LONG_ENGLISH = (
    "The weather is lovely today and we should go for a long walk in the park. "
    "I will bring some sandwiches, fresh fruit and cold drinks for everybody. "
    "After lunch we can visit the museum near the river."
)


# The engines of the session-wide bundled pipeline (tests/conftest.py), so models load once per run.
@pytest.fixture(scope="session")
def tts(pipeline: Pipeline) -> PiperTts:
    return pipeline.tts  # type: ignore[return-value]


@pytest.fixture(scope="session")
def asr(pipeline: Pipeline) -> WhisperAsr:
    return pipeline.asr  # type: ignore[return-value]


@pytest.fixture(scope="session")
def vad(pipeline: Pipeline) -> SileroVad:
    return pipeline.vad  # type: ignore[return-value]


def speech16k(tts: PiperTts, text: str, language: str = "en") -> np.ndarray:
    pcm = b"".join(chunk.pcm16 for chunk in tts.synthesize(text, language))
    return resample(pcm16_to_float(pcm), tts.sample_rate, SR)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SR), dtype=np.float32)


# ------------------------------------------------------------------ ASR + TTS


def test_piper_speech_is_transcribed_by_whisper(tts: PiperTts, asr: WhisperAsr) -> None:
    segments: list[str] = []
    out = asr.transcribe(speech16k(tts, LONG_ENGLISH), "en", on_segment=segments.append)
    assert word_error_rate(LONG_ENGLISH, out.text) <= 0.2, out.text
    assert out.language == "en"
    assert segments and segments[-1] == out.text  # cumulative partials end at the full text
    assert out.segments and out.segments[-1][1] > out.segments[0][0]


def test_word_timestamps_on_request(tts: PiperTts, asr: WhisperAsr) -> None:
    out = asr.transcribe(speech16k(tts, "Where is the train station?"), "en", word_timestamps=True)
    assert len(out.words) >= 4
    starts = [w.start for w in out.words]
    assert starts == sorted(starts)


def test_english_only_model_reports_and_enforces_its_language(asr: WhisperAsr) -> None:
    assert asr.languages == ["en"]
    with pytest.raises(AsrUnsupportedLanguage, match="fr"):
        asr.transcribe(silence(1.0), "fr")


def test_tts_is_deterministic_and_chunked_per_sentence(tts: PiperTts) -> None:
    text = "Hello there. Dr. Smith is here! How are you today?"
    first = list(tts.synthesize(text, "en"))
    second = list(tts.synthesize(text, "en"))
    assert [c.sentence for c in first] == ["Hello there.", "Dr. Smith is here!", "How are you today?"]
    assert [c.pcm16 for c in first] == [c.pcm16 for c in second]
    assert all(c.sample_rate == tts.sample_rate == 22050 for c in first)
    assert tts.quality_for("en-US") == "native"


def test_cross_lingual_french(tts: PiperTts) -> None:
    assert tts.native_languages == ["en"]
    assert {"fr", "de", "es"} <= set(tts.cross_lingual_languages)
    assert "en" not in tts.cross_lingual_languages
    assert tts.quality_for("fr") == "cross_lingual"
    chunks = list(tts.synthesize("Bonjour, comment allez-vous aujourd'hui ? Où est la gare ?", "fr"))
    assert len(chunks) == 2
    audio = pcm16_to_float(b"".join(c.pcm16 for c in chunks))
    seconds = audio.size / tts.sample_rate
    assert 2.0 < seconds < 8.0  # ~12 syllables of speech
    assert float(np.sqrt(np.mean(audio**2))) > 0.02  # not silence


def test_tts_rejects_languages_espeak_cannot_speak(tts: PiperTts) -> None:
    for language in ("xx", "klingon", ""):
        with pytest.raises(TtsUnsupportedLanguage):
            tts.quality_for(language)
    with pytest.raises(TtsUnsupportedLanguage):
        list(tts.synthesize("Hello.", "xx"))


# ------------------------------------------------------------------------ VAD


def test_vad_trims_leading_and_trailing_silence(tts: PiperTts, vad: SileroVad) -> None:
    speech = speech16k(tts, "Where is the nearest pharmacy?")
    trimmed = vad.trim(np.concatenate([silence(1.0), speech, silence(1.0)]))
    # Only Piper's own short edge silence and the 100 ms pads may remain.
    assert speech.size - 0.3 * SR < trimmed.size < speech.size + 0.25 * SR
    assert vad.trim(silence(2.0)).size == 0


def test_vad_finds_two_sentences_split_by_a_second_of_silence(tts: PiperTts, vad: SileroVad) -> None:
    first = speech16k(tts, "The quick brown fox jumps over the lazy dog, and then it runs away.")
    second = speech16k(tts, "Tomorrow we will travel to Paris by train.")
    audio = np.concatenate([silence(1.0), first, silence(1.0), second, silence(0.5)])
    segments = vad.speech_segments(audio)
    assert len(segments) == 2  # the comma pause does not split the first sentence
    (s1, e1), (s2, e2) = segments
    boundary = SR + first.size + SR // 2
    assert s1 < SR + 0.2 * SR and e1 < boundary < s2 and e2 <= audio.size

    # Per-call state: concurrent callers get the same answer.
    results: list[list[tuple[int, int]]] = []
    threads = [threading.Thread(target=lambda: results.append(vad.speech_segments(audio))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [segments] * 3


# ------------------------------------------------------------------- pipeline


def test_capabilities(pipeline: Pipeline) -> None:
    caps = pipeline.capabilities()
    assert caps.asr_languages == ["en"]
    assert ("en", "fr") in caps.mt_pairs
    assert caps.tts_native == ["en"]
    assert "fr" in caps.tts_cross_lingual


def test_pipeline_en_to_en_streams_partials_then_final(tts: PiperTts, pipeline: Pipeline) -> None:
    pipeline.warm_up()
    text = "Good morning, how are you today? Where is the train station?"
    audio = np.concatenate([silence(0.5), speech16k(tts, text), silence(0.5)])
    partials: list[tuple[str, bool]] = []
    chunks: list[tuple[bytes, int, str]] = []
    result = pipeline.run(
        PipelineRequest(audio=audio, src_lang="en", tgt_lang="en"),
        on_partial=lambda t, final: partials.append((t, final)),
        on_tts_chunk=lambda pcm, sr, sentence: chunks.append((pcm, sr, sentence)),
    )
    assert word_error_rate(text, result.text_asr) <= 0.2, result.text_asr
    assert result.text_translated == result.text_asr
    assert [final for _, final in partials] == [False] * (len(partials) - 1) + [True]
    assert len(partials) >= 2 and partials[-1][0] == result.text_asr
    # One streamed chunk per sentence of the text spoken (Whisper may punctuate either way).
    assert [c[2] for c in chunks] == split_sentences(result.text_translated)
    assert b"".join(c[0] for c in chunks) == result.tts_pcm16
    assert result.tts_sample_rate == 22050 and result.tts_voice_quality == "native"
    assert result.tts_voice == "en_US-joe-medium"
    assert set(result.timings) == {"vad_ms", "asr_ms", "mt_ms", "tts_ms", "total_ms"}
    assert result.timings["total_ms"] >= result.timings["asr_ms"] > 0


def test_pipeline_en_to_fr(tts: PiperTts, pipeline: Pipeline) -> None:
    audio = speech16k(tts, "Thank you very much for your help. Where is the train station?")
    result = pipeline.run(PipelineRequest(audio=audio, src_lang="en", tgt_lang="fr"))
    assert result.text_translated == "Merci beaucoup pour votre aide. Où est la gare ?", result.text_asr
    assert result.tts_voice_quality == "cross_lingual"
    assert 1.5 < len(result.tts_pcm16) / 2 / result.tts_sample_rate < 8.0
    assert result.timings["mt_ms"] > 0


def test_pipeline_no_speech(pipeline: Pipeline) -> None:
    partials: list[tuple[str, bool]] = []
    result = pipeline.run(
        PipelineRequest(audio=silence(1.5), src_lang="en", tgt_lang="fr"),
        on_partial=lambda t, final: partials.append((t, final)),
    )
    assert (result.text_asr, result.text_translated, result.tts_pcm16) == ("", "", b"")
    assert "no speech detected" in result.notes
    assert partials == [("", True)]


@pytest.mark.parametrize(
    ("src", "tgt", "code"),
    [
        ("klingon!", "en", "UNSUPPORTED_LANGUAGE"),
        ("en", "zz", "UNSUPPORTED_LANGUAGE"),
        ("fr", "en", "MODEL_NOT_AVAILABLE"),  # French is known here, but there is no French ASR
        ("en", "de", "MODEL_NOT_AVAILABLE"),  # de can be spoken, but no en->de MT
    ],
)
def test_pipeline_rejects_unsupported_languages(pipeline: Pipeline, src: str, tgt: str, code: str) -> None:
    with pytest.raises(PipelineError) as info:
        pipeline.run(PipelineRequest(audio=silence(0.5), src_lang=src, tgt_lang=tgt))
    assert info.value.code == code
    assert info.value.message


def test_pipeline_rejects_invalid_audio(pipeline: Pipeline) -> None:
    for audio in (np.zeros((2, 100), np.float32), np.zeros(0, np.float32), np.full(100, np.nan, np.float32)):
        with pytest.raises(PipelineError) as info:
            pipeline.run(PipelineRequest(audio=audio, src_lang="en", tgt_lang="en"))
        assert info.value.code == "INVALID_AUDIO"


def test_pipeline_honours_cancellation(tts: PiperTts, pipeline: Pipeline) -> None:
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(PipelineError) as info:
        pipeline.run(
            PipelineRequest(audio=speech16k(tts, "Hello."), src_lang="en", tgt_lang="en"),
            cancelled=cancelled,
        )
    assert info.value.code == "JOB_CANCELLED"


def test_pipeline_cancelled_mid_recognition_stops_before_synthesis(tts: PiperTts, pipeline: Pipeline) -> None:
    cancelled = threading.Event()
    spoken: list[str] = []
    with pytest.raises(PipelineError) as info:
        pipeline.run(
            PipelineRequest(audio=speech16k(tts, "Where is the exit?"), src_lang="en", tgt_lang="fr"),
            on_partial=lambda text, final: cancelled.set(),
            on_tts_chunk=lambda pcm, sr, sentence: spoken.append(sentence),
            cancelled=cancelled,
        )
    assert info.value.code == "JOB_CANCELLED"
    assert spoken == []
