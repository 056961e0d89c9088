"""Streaming sessions over gRPC with real speech: chunks sealed by a pause, group context, two-way mode."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from lingua.v1 import common_pb2, session_pb2
from tests.helpers.mesh import Conversation, running_node, running_scheduler, speech_wav
from tests.helpers.phrasebook import phrasebook

pytestmark = pytest.mark.models

FIRST = "I would like a quiet room with a view of the sea."
SECOND = "I am here on vacation with my family."


async def test_chunks_sealed_by_pause_become_ordered_utterances_with_live_partials(pipeline) -> None:
    book = phrasebook()
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            conv = Conversation(channel)
            await conv.open("en", "fr", streaming_asr=True, stream_tts=True, pause_ms=400)
            seq = 0
            for sentence in (FIRST, SECOND):
                wav = speech_wav(pipeline, sentence)
                pcm, rate = wav[44:], pipeline.tts.sample_rate
                step = rate // 5 * 2  # 200 ms of PCM16 per chunk, as a browser would send
                for start in range(0, len(pcm), step):
                    await conv.call.write(session_pb2.ClientMessage(audio_chunk=session_pb2.AudioChunk(
                        session_id=conv.session_id, seq=seq, audio=common_pb2.Audio(
                            data=pcm[start:start + step], encoding=common_pb2.PCM16, sample_rate_hz=rate))))
                    seq += 1
                await asyncio.sleep(0.8)  # the speaker pauses: the scheduler seals the utterance
            outcomes = await conv.outcomes(2)
            await conv.close()
    assert [m.result.utterance_index for m in outcomes] == [0, 1]
    heard = [m.result.text_asr for m in outcomes]
    assert [m.result.text_translated for m in outcomes] == [book[FIRST], book[SECOND]], heard
    sealed = [m.event.utterance_index for m in conv.events if m.HasField("event")
              and m.event.kind == session_pb2.SessionEvent.KIND_UTTERANCE_SEALED]
    assert sealed == [0, 1]
    assert {p.utterance_index for p in conv.partials if p.is_final} == {0, 1}
    chunks = [m.tts_chunk for m in conv.events if m.HasField("tts_chunk")]
    assert {c.utterance_index for c in chunks} == {0, 1} and all(c.audio.data for c in chunks)


async def test_two_way_needs_a_node_that_hears_both_languages(pipeline) -> None:
    async with running_scheduler() as sched, running_node(f"127.0.0.1:{sched.port}", pipeline):
        async with grpc.aio.insecure_channel(f"127.0.0.1:{sched.port}") as channel:
            conv = Conversation(channel)
            await conv.open("", "", mode=session_pb2.SESSION_MODE_TWO_WAY, lang_a="fr", lang_b="en")
            await conv.send(0, common_pb2.Audio(data=speech_wav(pipeline, SECOND), encoding=common_pb2.WAV))
            [outcome] = await conv.outcomes(1)
            await conv.close()
    # The bundled ASR hears only English: no node can take French speech, so the session is told so
    # rather than having French transcribed as English.
    assert outcome.error.code == common_pb2.UNSUPPORTED_LANGUAGE
    assert "both directions" in outcome.error.message


def test_node_picks_the_two_way_direction_from_what_its_asr_can_hear(pipeline) -> None:
    """An English-only ASR hears only one of fr/en: that is the source, without language identification."""
    from lingua_common.audio import pcm16_to_float, resample
    from node_svc.pipeline import PipelineRequest

    pcm = b"".join(c.pcm16 for c in pipeline.tts.synthesize("I am here on vacation with my family.", "en"))
    audio = resample(pcm16_to_float(pcm), pipeline.tts.sample_rate, 16000)
    result = pipeline.run(PipelineRequest(audio, "", "", two_way=("fr", "en")))
    assert (result.src_lang, result.tgt_lang, result.detected_lang) == ("en", "fr", "en")
    assert result.text_translated == phrasebook()["I am here on vacation with my family."]
