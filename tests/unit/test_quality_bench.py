"""The pure parts of bench/quality.py: corpora, the WER normaliser, the metric wrappers. No models, no mesh."""

from __future__ import annotations

import io
import re
import shutil
import struct
import wave
from pathlib import Path

import pytest

from bench import quality

CORPORA = sorted(quality.DATA.glob("*.tsv"))


def test_both_directions_have_a_corpus() -> None:
    assert {p.name for p in CORPORA} >= {"en_es.tsv", "es_en.tsv"}
    assert {spec.corpus for spec in quality.ROWS.values()} <= {p.name for p in CORPORA}


@pytest.mark.parametrize("path", CORPORA, ids=lambda p: p.name)
def test_corpus_rows(path: Path) -> None:
    rows = quality.load_corpus(path)
    assert len(rows) >= 50
    assert len({src for src, _ in rows}) == len(rows), "duplicate source sentences"
    for src, ref in rows:
        assert src and ref
        assert not re.search(r"\d", src + ref), f"digits in {src!r} / {ref!r}"
        assert 5 <= len(src.split()) <= 14, src
        assert "\t" not in src + ref


def test_load_corpus_rejects_a_malformed_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.tsv"
    path.write_text("# comment\n\nGood morning to you all.\tBuenos días a todos.\nno tab here\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.tsv:4"):
        quality.load_corpus(path)
    path.write_text("# comment\n\nGood morning to you all.\tBuenos días a todos.\n", encoding="utf-8")
    assert quality.load_corpus(path) == [("Good morning to you all.", "Buenos días a todos.")]


def test_normalize() -> None:
    assert quality.normalize("¿Dónde está la estación, señor?", "es") == ["donde", "esta", "la", "estacion", "senor"]
    assert quality.normalize("It's SEVEN o'clock.", "en") == ["its", "seven", "oclock"]
    # ASR digits become the words the reference uses; the same rule applies to both sides.
    assert quality.normalize("The bus leaves every 20 minutes", "en") == quality.normalize(
        "The bus leaves every twenty minutes.", "en")
    assert quality.normalize("a las 7:30", "es") == ["a", "las", "siete", "treinta"]
    assert quality.normalize("Tiene 42 años", "es") == ["tiene", "cuarenta", "y", "dos", "anos"]
    assert quality.normalize("twenty-five", "en") == ["twenty", "five"]
    assert quality.normalize("1000 people", "en") == ["1000", "people"]


def test_number_words() -> None:
    assert quality.number_words(0, "en") == "zero"
    assert quality.number_words(25, "en") == "twenty five"
    assert quality.number_words(23, "es") == "veintitrés"
    assert quality.number_words(31, "es") == "treinta y uno"
    assert quality.number_words(100, "es") == "cien"
    assert quality.number_words(101, "en") is None
    assert quality.number_words(5, "de") is None


def test_wer() -> None:
    assert quality.edit_distance(["a", "b", "c"], ["a", "x", "c", "d"]) == 2
    # Corpus level: 1 substitution + 1 deletion over 3 + 4 reference words.
    assert quality.corpus_wer(["The cat sat."], ["the bat sat"], "en") == pytest.approx(1 / 3)
    assert quality.corpus_wer(["The cat sat.", "one two three four"], ["the bat sat", "one two four"],
                              "en") == pytest.approx(2 / 7)
    assert quality.corpus_wer(["Hace mucho frío hoy."], ["hace mucho frio hoy"], "es") == 0.0
    assert quality.corpus_wer([], [], "en") is None


def test_mt_scores() -> None:
    perfect = quality.mt_scores(["Hace mucho frío hoy."], ["Hace mucho frío hoy."])
    assert perfect["chrf"] == pytest.approx(100.0)
    assert perfect["bleu"] == pytest.approx(100.0)
    # No shared 4-gram: BLEU 0; chrF still credits the shared character n-grams.
    partial = quality.mt_scores(["the cat"], ["the dog"])
    assert partial["bleu"] == pytest.approx(0.0)
    assert 0 < (partial["chrf"] or 0) < 60
    assert quality.mt_scores([], []) == {"chrf": None, "bleu": None}
    empty = quality.mt_scores([""], ["the dog"])
    assert empty["chrf"] == pytest.approx(0.0)


def test_percentile() -> None:
    assert quality.percentile([1.0, 2.0, 3.0], 50) == 2.0
    assert quality.percentile([], 50) is None


def test_espeak_style_wav_header() -> None:
    """espeak-ng --stdout writes placeholder sizes; the data chunk runs to the end of the stream."""
    pcm = struct.pack("<4h", 0, 1000, -1000, 32767)
    fmt = struct.pack("<HHIIHH", 1, 1, 22050, 44100, 2, 16)
    data = b"RIFF\xff\xff\xff\x7fWAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data\xff\xff\xff\x7f" + pcm
    assert quality.wav_pcm16(data) == (pcm, 22050, 1)
    with pytest.raises(ValueError):
        quality.wav_pcm16(b"not a wav file")


def test_targets_verdicts() -> None:
    rows = {"en-es": {"row": "en->es", "chrf_speech": 60.0, "wer": 0.2, "first_audio_p50_s": 0.5},
            "es-en": {"row": "es->en", "chrf_speech": None, "wer": 0.1, "first_audio_p50_s": 2.0}}
    verdicts = {t["target"].split(" (")[0]: t["meets"] for t in quality.targets(rows)}
    assert verdicts == {"chrF from speech en->es": True, "chrF from speech es->en": None, "ASR WER en": False,
                        "ASR WER es": True, "first audio p50 en->es": True, "first audio p50 es->en": False}


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_speech_is_16k_wav_and_cached(tmp_path: Path) -> None:
    wav = quality.espeak_wav("Hace mucho frío hoy.", "es", tmp_path, speed=120, word_gap=6)
    with wave.open(io.BytesIO(wav)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert 0.5 < w.getnframes() / 16000 < 5
    assert [p.suffix for p in tmp_path.iterdir()] == [".wav"]
    assert quality.espeak_wav("Hace mucho frío hoy.", "es", tmp_path, speed=120, word_gap=6) == wav
