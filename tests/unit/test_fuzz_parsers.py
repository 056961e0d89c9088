"""Bounded fuzzing of every parser of untrusted bytes (issue 16), with Hypothesis (derandomized, few examples,
no deadline: the same inputs on every CI run): the JSON frames of `/v1/stream`, `/ws/session` and `/ws/node`,
grpc-web framing, and the WAV/PCM readers and the bounded decoder. Each either parses or raises its typed
error (LinguaError with a specific code / AudioDecodeError) — never anything else."""

from __future__ import annotations

import base64
import io
import json
import wave

import numpy as np
import soundfile as sf
from hypothesis import example, given
from hypothesis import strategies as st

from gateway.grpcweb import WireFormat, parse_frames, single_message
from gateway.ws_frames import parse_text
from lingua.v1 import common_pb2
from lingua_common.audio import ENCODINGS, AudioDecodeError, AudioLimits, decode_audio, measure_audio
from lingua_common.errors import LinguaError
from tests.helpers.fuzz import NODE_FIELDS, SESSION_FIELDS, STREAM_FIELDS, ci, frames, json_values
from wirecompat import node_frames, session_frames, wire

# ---- JSON frames -------------------------------------------------------------------------------------

def assert_typed(exc: LinguaError) -> None:
    """A refusal the client can act on: a specific code (bad message, unknown feature ...) and a message."""
    assert exc.code not in (common_pb2.INTERNAL, common_pb2.ERROR_CODE_UNSPECIFIED) and exc.message


def _text(frame: object) -> str:
    return json.dumps(frame)


@ci(150)
@given(st.one_of(frames(["start", "audio", "end_utterance", "stop"], STREAM_FIELDS).map(_text),
                 json_values.map(_text), st.text(max_size=200)))
@example('{"type": "start", "sample_rate_hz": 1e400}')
@example('{"type": "audio", "data": "===="}')
def test_stream_frames_parse_or_are_invalid_messages(text: str) -> None:
    try:
        parse_text(text)
    except LinguaError as exc:
        assert_typed(exc)


@ci(150)
@given(st.one_of(frames(["session_init", "utterance", "audio_chunk", "client_heartbeat", "session_close",
                         "tts_play_ended"], SESSION_FIELDS).map(_text), json_values.map(_text),
                 st.text(max_size=200)))
@example('{"type": "utterance", "session_id": "s", "utterance_index": 18446744073709551616, "audio": ""}')
def test_ws_session_frames_parse_or_are_invalid_messages(text: str) -> None:
    try:
        session_frames.parse(wire.decode(text))
    except LinguaError as exc:
        assert_typed(exc)


@ci(150)
@given(st.one_of(frames(["node_register", "node_heartbeat", "job_result", "asr_partial", "node_error",
                         "MODEL_NOT_AVAILABLE"], NODE_FIELDS).map(_text), json_values.map(_text)))
@example('{"type": "node_register", "hardware": {"gpus": [{"memory_gb": 1e308}]}}')
def test_ws_node_frames_parse_or_are_invalid_messages(text: str) -> None:
    try:
        frame = wire.decode(text)
        node_frames.register(frame, 4)
        node_frames.usage(frame)
        node_frames.capabilities(frame, common_pb2.Features())
        node_frames.node_error(frame.get("error") if isinstance(frame.get("error"), dict) else None,
                               common_pb2.INTERNAL)
        if isinstance(frame.get("job_id"), str):
            node_frames.job_result(frame, 1)
            node_frames.asr_partial(frame, 1)
    except LinguaError as exc:
        assert_typed(exc)


# ---- grpc-web framing --------------------------------------------------------------------------------

def _framed(parts: list[tuple[int, bytes, int]]) -> bytes:
    """Frames whose announced length may lie (delta)."""
    return b"".join(bytes([flag]) + max(0, len(p) + delta).to_bytes(4, "big") + p for flag, p, delta in parts)


@ci(200)
@given(st.one_of(st.binary(max_size=300),
                 st.lists(st.tuples(st.sampled_from([0, 1, 0x80, 0x81, 7]), st.binary(max_size=40),
                                    st.integers(-3, 3)), max_size=4).map(_framed)),
       st.booleans())
def test_grpc_web_bodies_parse_or_are_invalid_messages(body: bytes, text: bool) -> None:
    fmt = WireFormat(text=text, content_type="")
    wire_body = base64.b64encode(body) + (b"=" if len(body) % 5 == 1 else b"") if text else body
    try:
        decoded = fmt.decode_body(wire_body)
        for flag, payload in parse_frames(decoded):
            assert flag & 0x01 == 0 and isinstance(payload, bytes)
        single_message(decoded)
    except LinguaError as exc:
        assert_typed(exc)


# ---- audio -------------------------------------------------------------------------------------------

def _wav(rate: int, channels: int, width: int, frames: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes(frames * channels * width))
    return buf.getvalue()


def _flac(frames: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(frames, dtype=np.float32), 16000, format="FLAC")
    return buf.getvalue()


def _mutate(data: bytes, at: int, value: bytes, cut: int) -> bytes:
    at %= max(1, len(data))
    mutated = data[:at] + value + data[at + len(value):]
    return mutated[: max(0, len(mutated) - cut)]


SMALL = AudioLimits(max_seconds=5.0, expansion_floor_bytes=64 * 1024)
valid_files = st.one_of(
    st.builds(_wav, st.sampled_from([1, 8000, 16000, 44100, 1_000_000]), st.integers(1, 16),
              st.sampled_from([1, 2, 3, 4]), st.integers(0, 4000)),
    st.integers(1, 20000).map(_flac))


@ci(120)
@given(st.one_of(st.binary(max_size=2000),
                 st.builds(_mutate, valid_files, st.integers(0, 10_000), st.binary(min_size=1, max_size=8),
                           st.integers(0, 64))),
       st.sampled_from(ENCODINGS), st.sampled_from([0, 8000, 16000, 48000, 96000]), st.integers(0, 10))
def test_the_decoder_returns_audio_or_a_typed_error(data: bytes, encoding: str, rate: int, channels: int) -> None:
    try:
        seconds = measure_audio(data, encoding, rate, channels, SMALL)
        audio = decode_audio(data, encoding, rate, channels, limits=SMALL)
    except AudioDecodeError as exc:
        assert exc.code_name in ("INVALID_AUDIO", "PAYLOAD_TOO_LARGE") and str(exc)
        return
    assert 0 < seconds <= SMALL.max_seconds
    assert audio.dtype == np.float32 and audio.ndim == 1 and np.all(np.abs(audio) <= 1.0)
    assert abs(audio.size / 16000 - seconds) < 0.05
