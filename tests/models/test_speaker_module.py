"""speaker_identification on real speech: Piper's voice, and voices made from it with WORLD (no stubs)."""

from __future__ import annotations

import numpy as np
import pytest
import pyworld

from lingua_common.audio import pcm16_to_float, resample
from node_svc.modules import voice
from node_svc.modules.speaker import DEFAULT_THRESHOLD, SpeakerEncoder, cosine, identify
from node_svc.pipeline import Pipeline

pytestmark = pytest.mark.models

SR = 16000
SENTENCES = (
    "I would like a quiet room with a view of the sea.",
    "We should leave now if we want to catch the train.",
    "The children are playing in the garden behind the house.",
)


def speak(pipeline: Pipeline, text: str, language: str = "en") -> np.ndarray:
    tts = pipeline.tts
    pcm = b"".join(chunk.pcm16 for chunk in tts.synthesize(text, language))
    return resample(pcm16_to_float(pcm), tts.sample_rate, SR)


def other_voice(x: np.ndarray) -> np.ndarray:
    """A clearly different voice: 6 semitones lower with formants 14 % lower (calibration: <= 0.71 to joe)."""
    audio = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = voice.pitch_track(audio, SR)
    sp, ap = pyworld.cheaptrick(audio, f0, t, SR), pyworld.d4c(audio, f0, t, SR)
    y = pyworld.synthesize(f0 * 2 ** (-6 / 12), voice._warp(sp, 0.86), ap, SR, voice.FRAME_MS)
    return np.asarray(y[: audio.size], dtype=np.float32)


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder()


def test_same_voice_keeps_its_id_and_a_different_voice_gets_a_new_one(
        pipeline: Pipeline, encoder: SpeakerEncoder) -> None:
    a, b, c = (encoder.embed(speak(pipeline, s)) for s in SENTENCES)
    german = encoder.embed(speak(pipeline, "Wir sollten jetzt gehen, wenn wir den Zug erreichen wollen.", "de"))
    other = encoder.embed(other_voice(speak(pipeline, SENTENCES[0])))
    assert a.dtype == np.float32 and a.shape == (256,)
    assert float(np.linalg.norm(a)) == pytest.approx(1.0, abs=1e-5)
    # Same sentence in the other voice stays below the threshold; different sentences in one voice above.
    assert cosine(a, other) < DEFAULT_THRESHOLD - 0.05
    assert min(cosine(a, b), cosine(a, c), cosine(b, c), cosine(a, german)) >= DEFAULT_THRESHOLD

    known: list[tuple[str, np.ndarray]] = []
    # The cross-lingual German is the same Piper voice, so it is the same speaker.
    for embedding, expected in ((a, "spk-1"), (b, "spk-1"), (other, "spk-2"), (c, "spk-1"), (german, "spk-1")):
        speaker_id, similarity, new = identify(embedding, known)
        assert speaker_id == expected
        assert new == (expected == f"spk-{len(known) + 1}")
        if new:
            known.append((speaker_id, embedding))
        else:
            assert similarity >= DEFAULT_THRESHOLD
    assert [k for k, _ in known] == ["spk-1", "spk-2"]


def test_identify_picks_the_best_match_at_or_above_the_threshold() -> None:
    e1 = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    e2 = np.array([0.0, 1.0, 0.0], dtype=np.float32)
    probe = np.array([0.6, 0.8, 0.0], dtype=np.float32)
    known = [("spk-1", e1), ("spk-2", e2)]
    # Both are above 0.5: the more similar one wins, not the first.
    speaker_id, similarity, new = identify(probe, known, threshold=0.5)
    assert (speaker_id, new) == ("spk-2", False) and similarity == pytest.approx(0.8)
    # The threshold is inclusive.
    assert identify(probe, known, threshold=similarity)[0] == "spk-2"
    # Nobody close enough: the next id, with the best similarity found.
    speaker_id, best, new = identify(probe, known, threshold=0.81)
    assert (speaker_id, new) == ("spk-3", True) and best == pytest.approx(0.8)
    # A tie goes to the earlier speaker; an empty session starts at spk-1.
    assert identify(np.array([1.0, 1.0, 0.0]), known, threshold=0.5)[0] == "spk-1"
    assert identify(probe, []) == ("spk-1", 0.0, True)
    # Only the direction counts.
    assert cosine(probe * 7.0, probe) == pytest.approx(1.0)
    assert cosine(e1, np.zeros(3)) == 0.0


def test_too_short_or_invalid_audio_raises(encoder: SpeakerEncoder) -> None:
    with pytest.raises(ValueError, match=r"at least 0\.5 s"):
        encoder.embed(np.zeros(int(0.49 * SR), dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        encoder.embed(np.full(SR, np.nan, dtype=np.float32))
