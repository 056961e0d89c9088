from __future__ import annotations

import io
import wave

import pytest

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from lingua_common.settings import load_settings
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.validation import audio_seconds, check_language


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(seconds * rate) * 2))
    return out.getvalue()


def test_audio_duration_from_pcm_and_wav() -> None:
    assert audio_seconds(common_pb2.Audio(data=bytes(32000), encoding=common_pb2.PCM16, sample_rate_hz=16000), 60) == 1
    assert audio_seconds(common_pb2.Audio(data=wav_bytes(2.5, 22050), encoding=common_pb2.WAV), 60) == 2.5


@pytest.mark.parametrize(("audio", "code"), [
    (common_pb2.Audio(data=b"", encoding=common_pb2.PCM16, sample_rate_hz=16000), common_pb2.INVALID_AUDIO),
    (common_pb2.Audio(data=b"abc", encoding=common_pb2.PCM16, sample_rate_hz=16000), common_pb2.INVALID_AUDIO),
    (common_pb2.Audio(data=b"ab", encoding=common_pb2.PCM16, sample_rate_hz=1000), common_pb2.INVALID_AUDIO),
    (common_pb2.Audio(data=b"RIFFjunk", encoding=common_pb2.WAV), common_pb2.INVALID_AUDIO),
    (common_pb2.Audio(data=b"ab"), common_pb2.INVALID_AUDIO),
    (common_pb2.Audio(data=wav_bytes(61), encoding=common_pb2.WAV), common_pb2.PAYLOAD_TOO_LARGE),
    (common_pb2.Audio(data=bytes(10_000_000), encoding=common_pb2.MP3), common_pb2.PAYLOAD_TOO_LARGE),
])
def test_bad_audio_is_rejected_with_a_code(audio: common_pb2.Audio, code: int) -> None:
    with pytest.raises(LinguaError) as info:
        audio_seconds(audio, 60)
    assert info.value.code == code


def test_language_codes() -> None:
    check_language("en", "source")
    check_language("pt-BR", "source")
    for bad in ("", "english", "e", "EN"):
        with pytest.raises(LinguaError):
            check_language(bad, "source")


def test_settings_from_toml_env_and_overrides(tmp_path) -> None:  # type: ignore[no-untyped-def]
    toml = tmp_path / "lingua.toml"
    toml.write_text("[scheduler]\nport = 6000\nresult_grace_ms = 2000\n")
    env = {"LINGUA_SCHEDULER_RESULT_GRACE_MS": "3000"}
    s = load_settings(SchedulerSettings, "scheduler", toml, env=env, max_attempts=5)
    assert (s.port, s.result_grace_ms, s.max_attempts) == (6000, 3000, 5)
    assert s.heartbeat_timeout_s == 15.0
    with pytest.raises(ValueError, match="unknown"):
        load_settings(SchedulerSettings, "scheduler", env={}, no_such_setting=1)
