"""Real speech through scheduler + node over gRPC: transcript, translation, synthesized speech."""

from __future__ import annotations

import grpc
import pytest

from lingua.v1 import session_pb2, session_pb2_grpc
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav, wav_audio
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

NOT_IN_PHRASEBOOK = "The weather was cold and windy all through the long winter."


def _speech_seconds(audio: object) -> float:
    return len(audio.data) / 2 / audio.sample_rate_hz  # type: ignore[attr-defined]


async def test_phrasebook_speech_is_transcribed_translated_and_spoken(pipeline) -> None:
    book = phrasebook()
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            conv = Conversation(channel)
            await conv.open("en", "fr", streaming_asr=True)
            for i, sentence in enumerate(SPEECH_SENTENCES):
                await conv.send(i, wav_audio(speech_wav(pipeline, sentence)))
            outcomes = await conv.outcomes(len(SPEECH_SENTENCES))
            await conv.close()
    for sentence, msg in zip(SPEECH_SENTENCES, outcomes, strict=True):
        assert msg.HasField("result"), msg
        r = msg.result
        assert word_error_rate(sentence, r.text_asr) <= 0.2, (sentence, r.text_asr)
        assert r.text_translated == book[sentence]
        # French speech for a sentence of this size: a few seconds, not silence, not a minute.
        assert 0.8 < _speech_seconds(r.tts_audio) < 15, _speech_seconds(r.tts_audio)
        assert r.extras.tts_voice_quality == "cross_lingual"
        assert r.timings.asr_ms > 0 and r.timings.total_ms > 0
    # Live transcripts were streamed for every utterance, ending with a final one.
    finals = {p.utterance_index for p in conv.partials if p.is_final}
    assert finals == set(range(len(SPEECH_SENTENCES)))


async def test_sentence_outside_the_phrasebook_and_same_language(pipeline) -> None:
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            stub = session_pb2_grpc.SessionServiceStub(channel)
            audio = wav_audio(speech_wav(pipeline, NOT_IN_PHRASEBOOK))
            to_en = await stub.Translate(session_pb2.TranslateRequest(audio=audio, src_lang="en", tgt_lang="en"))
            to_fr = await stub.Translate(session_pb2.TranslateRequest(audio=audio, src_lang="en", tgt_lang="fr"))
    assert word_error_rate(NOT_IN_PHRASEBOOK, to_en.text_asr) <= 0.2, to_en.text_asr
    # Same language: MT is skipped and the transcript is spoken back with the native voice.
    assert to_en.text_translated == to_en.text_asr
    assert to_en.extras.tts_voice_quality == "native"
    assert _speech_seconds(to_en.tts_audio) > 1.5
    # The phrasebook model still answers (with whatever it makes of an unknown sentence): never a failure.
    assert word_error_rate(NOT_IN_PHRASEBOOK, to_fr.text_asr) <= 0.2
    assert to_fr.text_translated
