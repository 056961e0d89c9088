"""grpc-web framing, WebSocket frame parsing and the JSON/audio helpers of the gateway (no servers)."""

from __future__ import annotations

import base64
import json

import grpc
import pytest
from google.rpc import status_pb2

from gateway.audio_meter import AudioMeter, declared_encoding
from gateway.grpcweb import (
    TRAILERS_FLAG,
    Status,
    WireFormat,
    frame,
    grpc_timeout,
    parse_frames,
    parse_trailers,
    single_message,
    trailers_frame,
)
from gateway.http_errors import bearer_token, http_status, retry_after_header
from gateway.json_codec import encoding_from_name, features_from_json
from gateway.ws_frames import AudioData, EndUtterance, Start, Stop, parse_text, server_frame
from lingua.formats import encoding_from_header
from lingua.v1 import common_pb2, session_pb2
from lingua_common.audio import encode_wav
from lingua_common.errors import LinguaError, make_error


def _code(exc: pytest.ExceptionInfo[LinguaError]) -> int:
    return exc.value.code


def test_frames_round_trip_and_reject_truncation() -> None:
    msg = session_pb2.SubscribeRequest(session_id="s-1", resume_token="t").SerializeToString()
    body = frame(msg) + trailers_frame(Status())
    frames = parse_frames(body)
    assert frames[0] == (0, msg) and frames[1][0] == TRAILERS_FLAG
    assert parse_trailers(frames[1][1]) == {"grpc-status": "0"}
    assert single_message(body) == msg
    with pytest.raises(LinguaError) as short:
        parse_frames(frame(msg)[:-1])
    assert "only" in short.value.message
    with pytest.raises(LinguaError):
        parse_frames(b"\x00\x00")
    with pytest.raises(LinguaError):
        single_message(frame(msg) + frame(msg))
    with pytest.raises(LinguaError):
        parse_frames(b"\x01" + frame(msg)[1:])  # compressed flag


def test_text_mode_decodes_concatenated_padded_chunks() -> None:
    fmt = WireFormat.from_content_type("application/grpc-web-text")
    assert fmt.text and fmt.content_type == "application/grpc-web-text+proto"
    a, b = frame(b"hello"), frame(b"x")
    body = base64.b64encode(a) + base64.b64encode(b)  # two separately padded chunks
    assert fmt.decode_body(body) == a + b
    assert fmt.decode_body(base64.b64encode(a + b)) == a + b
    with pytest.raises(LinguaError):
        fmt.decode_body(b"QQ==Q!==")
    with pytest.raises(LinguaError):
        fmt.decode_body(b"=QQ==")
    binary = WireFormat.from_content_type("application/grpc-web+proto; charset=utf-8")
    assert not binary.text and binary.encode(a) == a
    with pytest.raises(LinguaError):
        WireFormat.from_content_type("application/json")


def test_error_trailers_carry_status_message_and_details() -> None:
    error = make_error(common_pb2.RATE_LIMITED, "slow down: 100% used", retry_after_ms=1500)
    trailers = parse_trailers(parse_frames(trailers_frame(Status.of(error)))[0][1])
    assert trailers["grpc-status"] == str(grpc.StatusCode.RESOURCE_EXHAUSTED.value[0])
    assert trailers["grpc-message"] == "slow down: 100%25 used"  # percent-encoded per the gRPC spec
    assert trailers["retry-after-ms"] == "1500"
    raw = trailers["grpc-status-details-bin"]
    rich = status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    unpacked = common_pb2.Error()
    assert rich.details[0].Unpack(unpacked)
    assert unpacked.code == common_pb2.RATE_LIMITED and unpacked.retry_after_ms == 1500


def test_grpc_timeout_header() -> None:
    assert grpc_timeout("10S") == 10.0
    assert grpc_timeout("1500m") == pytest.approx(1.5)
    assert grpc_timeout("2M") == 120.0
    assert grpc_timeout("") is None and grpc_timeout("10s") is None and grpc_timeout("abc") is None


def test_ws_start_frame_defaults_and_validation() -> None:
    start = parse_text(json.dumps({"type": "start", "src_lang": "en", "tgt_lang": "fr",
                                   "features": {"emotion_detection": True, "voice_cloning": False},
                                   "tenant_id": "evil"}))
    assert isinstance(start, Start)
    assert start.request.src_lang == "en" and start.request.tgt_lang == "fr"
    assert start.request.features.emotion_detection and not start.request.features.voice_cloning
    assert start.request.tenant_id == ""  # never taken from the client
    assert start.request.streaming_asr and start.audio_format.encoding == common_pb2.PCM16
    assert start.audio_format.sample_rate_hz == 16000
    for bad in ({"type": "start", "sample_rate_hz": 1000}, {"type": "start", "features": ["telepathy"]},
                {"type": "start", "src_lang": 5}, {"type": "start", "encoding": "AIFF"},
                {"type": "start", "streaming_asr": "yes"}):
        with pytest.raises(LinguaError):
            parse_text(json.dumps(bad))


def test_ws_frames_audio_and_bad_input() -> None:
    audio = parse_text(json.dumps({"type": "audio", "data": base64.b64encode(b"\x01\x02").decode()}))
    assert audio == AudioData(b"\x01\x02")
    assert parse_text('{"type": "audio", "chunk": "AAA=", "final": true}') == AudioData(b"\x00\x00", True)
    assert parse_text('{"type": "end_utterance"}') == EndUtterance()
    assert parse_text('{"type": "stop"}') == Stop("client stopped")
    for text, needle in (("{not json", "not valid JSON"), ("[1]", "JSON object"), ('{"type": "dance"}', "unknown"),
                         ('{"kind": "start"}', "no `type`"), ('{"type": "audio"}', "needs `data`"),
                         ('{"type": "audio", "data": "@@@"}', "base64")):
        with pytest.raises(LinguaError) as exc:
            parse_text(text)
        assert _code(exc) == common_pb2.INVALID_MESSAGE and needle in exc.value.message, text


def test_server_frames() -> None:
    result = common_pb2.TranslationResult(session_id="s", utterance_index=2, text_asr="hi", text_translated="salut",
                                          tts_audio=common_pb2.Audio(data=b"\x00\x01", encoding=common_pb2.PCM16,
                                                                     sample_rate_hz=22050),
                                          timings=common_pb2.Timings(total_ms=12.5))
    frame_ = server_frame(session_pb2.ServerMessage(result=result))
    assert frame_ is not None and frame_["type"] == "result" and frame_["text_translated"] == "salut"
    assert base64.b64decode(frame_["tts_audio_b64"]) == b"\x00\x01" and frame_["tts_sample_rate_hz"] == 22050
    assert frame_["timings"]["total_ms"] == 12.5
    err = server_frame(session_pb2.ServerMessage(error=make_error(common_pb2.RESULT_TIMEOUT, "late",
                                                                  utterance_index=3)))
    assert err == {"type": "error", "code": "RESULT_TIMEOUT", "message": "late", "utterance_index": 3}
    closed = server_frame(session_pb2.ServerMessage(closed=session_pb2.CloseSessionResponse(session_id="s")))
    assert closed == {"type": "stopped", "session_id": "s"}
    assert server_frame(session_pb2.ServerMessage(heartbeat=session_pb2.ServerHeartbeat())) is None
    sealed = server_frame(session_pb2.ServerMessage(event=session_pb2.SessionEvent(
        kind=session_pb2.SessionEvent.KIND_UTTERANCE_SEALED, utterance_index=4)))
    assert sealed is not None and sealed["kind"] == "utterance_sealed" and sealed["utterance_index"] == 4


def test_features_and_encodings_from_json() -> None:
    assert features_from_json('["speech_rate_detection"]').speech_rate_detection
    assert features_from_json("") == common_pb2.Features()
    with pytest.raises(LinguaError) as unknown:
        features_from_json('{"x_ray": false}')
    assert _code(unknown) == common_pb2.UNSUPPORTED_FEATURE
    with pytest.raises(LinguaError):
        features_from_json("{")
    assert encoding_from_name("wav") == common_pb2.WAV
    with pytest.raises(LinguaError):
        encoding_from_name("AUDIO_ENCODING_UNSPECIFIED")


def test_decoded_seconds_and_declared_encodings() -> None:
    meter = AudioMeter(max_seconds=60.0)
    pcm = b"\x00\x00" * 16000
    assert meter.measure_now(common_pb2.Audio(data=pcm, encoding=common_pb2.PCM16, sample_rate_hz=16000)).seconds == 1.0
    wav = encode_wav(pcm, 8000)
    assert meter.measure_now(common_pb2.Audio(data=wav, encoding=common_pb2.WAV)).seconds == 2.0
    # A header that claims an hour over two seconds of data counts two seconds: the decoded ones.
    liar = wav[:40] + (3600 * 8000 * 2).to_bytes(4, "little") + wav[44:]
    assert meter.measure_now(common_pb2.Audio(data=liar, encoding=common_pb2.WAV)).seconds == 2.0
    junk = meter.measure_now(common_pb2.Audio(data=b"junk", encoding=common_pb2.WAV))
    assert junk.seconds == 0.0 and junk.error is not None and junk.error.code == common_pb2.INVALID_AUDIO
    # Declared by the upload's type or name, never by its bytes.
    assert declared_encoding("a.wav", "audio/wav") == common_pb2.WAV
    assert declared_encoding("", "audio/x-flac") == common_pb2.FLAC
    assert declared_encoding("clip.mp3", "application/octet-stream") == common_pb2.MP3
    assert declared_encoding("", "audio/ogg; codecs=opus") == common_pb2.OGG_OPUS
    assert declared_encoding("rec.webm", "") == common_pb2.WEBM_OPUS
    assert declared_encoding("blob", "application/octet-stream") == common_pb2.PCM16
    # The SDK, given bytes it knows are an encoded file, trusts a bare MP3 frame sync.
    assert encoding_from_header(b"\xff\xfb\x90\x00", bare_mp3_sync=True) == common_pb2.MP3
    assert encoding_from_header(b"\x00\x01\x02\x03", bare_mp3_sync=True) is None


def test_http_helpers() -> None:
    assert bearer_token("Bearer abc ") == "abc" and bearer_token("bearer abc") == "abc"
    assert bearer_token("Basic abc") is None and bearer_token(None) is None and bearer_token("Bearer ") is None
    assert retry_after_header(1200) == {"Retry-After": "2"} and retry_after_header(0) == {}
    assert http_status(common_pb2.RATE_LIMITED) == 429 and http_status(common_pb2.QUOTA_EXCEEDED) == 403
    assert http_status(common_pb2.UNAUTHENTICATED) == 401 and http_status(common_pb2.INTERNAL) == 500
