"""The Python SDK (generated/python: lingua.v1 + the hand-written lingua.client) against a real mesh.

Real scheduler, node with the bundled models, and gateway with real tenant keys, on ephemeral ports. The
client is synchronous (grpc's blocking API), so the tests call it in a thread while the servers run on the
test's event loop. Also: the standalone `lingua-sdk` wheel builds offline, installs nothing of the rest of
the repository and translates on its own; `lingua translate --api-key` goes through the gateway.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
import threading
import wave
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest

from lingua.client import ClientError, LinguaClient, audio_from_file, features, tier_name
from lingua.v1 import common_pb2, session_pb2
from lingua_common.audio import float_to_pcm16, pcm16_to_float, resample
from node_svc.pipeline import Pipeline
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parents[2]
SDK = ROOT / "generated" / "python"
# make test installs them (scripts/ensure_languages.sh); without root they may be missing.
_NO_APERTIUM = shutil.which("espeak-ng") is None or not Path("/usr/share/apertium/modes/eng-spa.mode").is_file()


@pytest.fixture(scope="module")
async def env(pipeline: Pipeline) -> AsyncIterator[GatewayEnv]:
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, pipeline):
            yield env


@pytest.fixture(scope="module")
async def languages_env(languages_pipeline: Pipeline) -> AsyncIterator[GatewayEnv]:
    """A node as `lingua up` builds it (multilingual Whisper, Apertium, espeak-ng): detection and two-way."""
    if _NO_APERTIUM:
        pytest.skip("apertium-eng-spa or espeak-ng is missing (scripts/ensure_languages.sh installs them)")
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, languages_pipeline):
            yield env


@pytest.fixture(scope="module")
def wavs(pipeline: Pipeline) -> dict[str, bytes]:
    return {s: speech_wav(pipeline, s) for s in SPEECH_SENTENCES[:3]}


def _check(sentence: str, text_asr: str, text_translated: str) -> None:
    assert word_error_rate(sentence, text_asr) <= 0.2, text_asr
    assert text_translated == phrasebook()[sentence]


def _readers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lingua-session-reader" and t.is_alive()]


async def test_translate_a_wav_through_the_gateway_with_a_key(env: GatewayEnv, wavs: dict[str, bytes],
                                                               tmp_path: Path) -> None:
    sentence = SPEECH_SENTENCES[0]
    path = tmp_path / "hello.wav"
    path.write_bytes(wavs[sentence])
    key = (await env.tenant()).key

    def run() -> session_pb2.TranslateResponse:
        with LinguaClient(env.grpc_address, api_key=key) as lingua:
            return lingua.translate(path, "en", "fr")

    result = await asyncio.to_thread(run)
    _check(sentence, result.text_asr, result.text_translated)
    assert result.tts_audio.sample_rate_hz > 0
    assert len(result.tts_audio.data) / 2 / result.tts_audio.sample_rate_hz > 0.5  # over half a second of speech
    assert result.session_id and result.node_id


async def test_list_languages_through_the_gateway(env: GatewayEnv) -> None:
    """list_languages() gives what the scheduler says the mesh serves; the fixture node: en->fr, a demo model."""
    key = (await env.tenant()).key

    def run() -> tuple[session_pb2.ListLanguagesResponse, session_pb2.ListLanguagesResponse, ClientError]:
        with LinguaClient(env.grpc_address, api_key=key) as lingua:
            through_gateway = lingua.list_languages()
        with LinguaClient(env.scheduler_address) as lingua:
            direct = lingua.list_languages()
        with LinguaClient(env.grpc_address, timeout_s=10) as lingua:
            try:
                lingua.list_languages()
            except ClientError as exc:
                return through_gateway, direct, exc
        raise AssertionError("listed without a key")

    listed, direct, refused = await asyncio.to_thread(run)
    assert listed == direct
    (en_fr,) = [p for p in listed.pairs if (p.src_lang, p.tgt_lang) == ("en", "fr")]
    assert tier_name(en_fr.tier) == "demo" and en_fr.nodes == 1 and en_fr.engine and not en_fr.two_way, en_fr
    assert refused.code == "UNAUTHENTICATED"
    assert [tier_name(t) for t in range(5)] == ["", "neural", "rule_based", "pivot", "demo"]


async def test_missing_or_wrong_key_is_unauthenticated(env: GatewayEnv, wavs: dict[str, bytes]) -> None:
    audio = common_pb2.Audio(data=wavs[SPEECH_SENTENCES[0]], encoding=common_pb2.WAV)

    def refused(api_key: str | None, session: bool) -> ClientError:
        with LinguaClient(env.grpc_address, api_key=api_key, timeout_s=30) as lingua:
            try:
                if session:
                    with lingua.session("en", "fr"):
                        pass
                else:
                    lingua.translate(audio, "en", "fr")
            except ClientError as exc:
                return exc
        raise AssertionError("the gateway accepted the call")

    for api_key in (None, "lk_not-a-real-key"):
        for session in (False, True):
            err = await asyncio.to_thread(refused, api_key, session)
            assert err.code == "UNAUTHENTICATED", (api_key, session, err)
            assert err.grpc_code == grpc.StatusCode.UNAUTHENTICATED and err.message
            assert err.error is not None and err.error.code == common_pb2.UNAUTHENTICATED  # from the status details
    assert not _readers()


async def test_session_of_three_files_yields_three_results_in_order(env: GatewayEnv, wavs: dict[str, bytes],
                                                                    tmp_path: Path) -> None:
    tenant = await env.tenant()
    sentences = SPEECH_SENTENCES[:3]
    paths = []
    for i, s in enumerate(sentences):
        paths.append(tmp_path / f"u{i}.wav")
        paths[-1].write_bytes(wavs[s])
    seen: dict[str, str] = {}

    def run() -> tuple[list[int], list[common_pb2.TranslationResult | common_pb2.Error]]:
        with LinguaClient(env.grpc_address, api_key=tenant.key) as lingua, \
                lingua.session("en", "fr", tenant_id="someone-else") as session:
            seen["session_id"] = session.session_id
            sent = [session.send_file(paths[0]), session.send_file(wavs[sentences[1]]),
                    session.send_audio(audio_from_file(paths[2]))]
            session.close()
            return sent, list(session.results())

    task = asyncio.ensure_future(asyncio.to_thread(run))
    for _ in range(200):  # the gateway stamped the key's tenant, whatever the client asked for
        if seen.get("session_id") in env.scheduler.mesh.sessions:
            assert await env.session_tenant(seen["session_id"]) == tenant.tenant_id
            break
        await asyncio.sleep(0.05)
    sent, outcomes = await task
    assert sent == [0, 1, 2]
    assert [o.utterance_index for o in outcomes] == [0, 1, 2]
    for sentence, outcome in zip(sentences, outcomes, strict=True):
        assert isinstance(outcome, common_pb2.TranslationResult), outcome
        _check(sentence, outcome.text_asr, outcome.text_translated)
        assert outcome.tts_audio.data
    assert seen["session_id"] not in env.scheduler.mesh.sessions  # closed on the server
    assert not _readers()


def _frames(wav_bytes: bytes, rate: int = 16000, frame_ms: int = 20) -> list[bytes]:
    with wave.open(io.BytesIO(wav_bytes)) as w:
        source_rate, pcm = w.getframerate(), w.readframes(w.getnframes())
    pcm = float_to_pcm16(resample(pcm16_to_float(pcm), source_rate, rate))
    size = rate * frame_ms // 1000 * 2
    return [pcm[i:i + size] for i in range(0, len(pcm), size)]


async def test_streamed_pcm_frames_become_one_utterance(env: GatewayEnv, wavs: dict[str, bytes]) -> None:
    key = (await env.tenant()).key
    first, second = SPEECH_SENTENCES[1], SPEECH_SENTENCES[2]
    frames = _frames(wavs[first])
    assert len(frames) > 50 and len(frames[0]) == 640  # 20 ms of 16 kHz PCM16

    def microphone() -> Iterator[bytes]:
        yield from frames  # as a microphone would, only faster

    def run() -> tuple[int | None, int, list[object]]:
        with LinguaClient(env.grpc_address, api_key=key) as lingua, \
                lingua.session("en", "fr", streaming_asr=True, features=features()) as session:
            streamed = session.stream_pcm16(microphone(), sample_rate_hz=16000)
            after = session.send_file(wavs[second])  # index bookkeeping carries on after a stream
            session.close()
            return streamed, after, list(session.results(partials=True))

    streamed, after, items = await asyncio.to_thread(run)
    assert (streamed, after) == (0, 1)
    outcomes = [i for i in items if isinstance(i, common_pb2.TranslationResult | common_pb2.Error)]
    assert [type(o) for o in outcomes] == [common_pb2.TranslationResult] * 2, outcomes
    assert [o.utterance_index for o in outcomes] == [0, 1]
    _check(first, outcomes[0].text_asr, outcomes[0].text_translated)  # all frames sealed into one utterance
    _check(second, outcomes[1].text_asr, outcomes[1].text_translated)
    partials = [i for i in items if isinstance(i, common_pb2.AsrPartial)]
    assert partials and all(p.utterance_index in (0, 1) for p in partials)
    assert not _readers()


async def test_session_errors_with_the_scheduler_directly(env: GatewayEnv) -> None:
    """No key in-cluster; a refused open raises, a bad utterance is an outcome, an exception cancels."""

    cancelled_id: list[str] = []

    def run() -> tuple[ClientError, list[object], bool]:
        with LinguaClient(env.scheduler_address, timeout_s=30) as lingua:
            try:
                with lingua.session("not a language", "fr"):
                    pass
                raise AssertionError("opened")
            except ClientError as exc:
                refused = exc
            with lingua.session("en", "fr") as session:
                assert session.send_file(b"RIFF\x24\x00\x00\x00WAVEjunk") == 0
                session.close()
                outcomes = list(session.results())
                try:
                    session.send_file(b"RIFF\x24\x00\x00\x00WAVEjunk")
                    raise AssertionError("sent after close")
                except ClientError as exc:
                    assert exc.code == "SESSION_CLOSED"
            cancelled = False
            try:
                with lingua.session("en", "fr") as session:
                    cancelled_id.append(session.session_id)
                    session.send_file(b"RIFF\x24\x00\x00\x00WAVEjunk")
                    raise KeyboardInterrupt  # e.g. Ctrl-C while waiting
            except KeyboardInterrupt:
                cancelled = True
            return refused, outcomes, cancelled

    refused, outcomes, cancelled = await asyncio.to_thread(run)
    assert refused.code == "UNSUPPORTED_LANGUAGE" and refused.grpc_code is None, refused  # in-stream error
    assert len(outcomes) == 1 and isinstance(outcomes[0], common_pb2.Error), outcomes
    assert outcomes[0].utterance_index == 0 and outcomes[0].code == common_pb2.INVALID_AUDIO
    assert cancelled and not _readers()
    for _ in range(100):  # the cancelled stream's session ends on the server too
        if cancelled_id[0] not in env.scheduler.mesh.sessions:
            break
        await asyncio.sleep(0.05)
    assert cancelled_id[0] and cancelled_id[0] not in env.scheduler.mesh.sessions


def _build_wheel(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    shutil.copytree(SDK, source, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           str(source), "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list((tmp_path / "dist").glob("lingua_sdk-0.1.0-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


_STANDALONE = """
import json, sys
from lingua.client import LinguaClient
import lingua.client, lingua.v1.session_pb2
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("lingua_common", "lingua_cli", "gateway", "node_svc"))
with LinguaClient(sys.argv[1], api_key=sys.argv[2]) as client:
    result = client.translate(sys.argv[3], "en", "fr")
print(json.dumps({"file": lingua.client.__file__, "stubs": lingua.v1.session_pb2.__file__, "leaked": leaked,
                  "asr": result.text_asr, "fr": result.text_translated, "tts": len(result.tts_audio.data)}))
"""


async def test_standalone_package_builds_offline_and_works_alone(env: GatewayEnv, wavs: dict[str, bytes],
                                                                  tmp_path: Path) -> None:
    wheel = await asyncio.to_thread(_build_wheel, tmp_path)
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = z.read("lingua_sdk-0.1.0.dist-info/METADATA").decode()
        z.extractall(tmp_path / "site")
    assert {"lingua/__init__.py", "lingua/client.py", "lingua/rpc.py", "lingua/formats.py",
            "lingua/v1/__init__.py", "lingua/v1/session_pb2.py", "lingua/v1/session_pb2_grpc.py",
            "lingua/v1/session_pb2.pyi", "lingua/v1/common_pb2.py", "lingua/py.typed"} <= names
    assert not any(n.startswith(("lingua_common/", "lingua_cli/", "tests/")) for n in names)
    for requirement in ("grpcio>=1.85.1", "grpcio-status>=1.85.1", "protobuf<8,>=7.35.1"):
        assert f"Requires-Dist: {requirement}" in metadata, metadata
    assert "from lingua.client import LinguaClient" in metadata  # the README is the long description
    # On the path: the unpacked wheel and the declared dependencies (grpcio with its typing-extensions,
    # grpcio-status with googleapis-common-protos' google.rpc, protobuf)
    # — nothing else; no site (-S), so no editable install of the repository; run from an empty directory.
    sentence = SPEECH_SENTENCES[2]
    (tmp_path / "speech.wav").write_bytes(wavs[sentence])
    installed, deps = Path(grpc.__file__).parents[1], tmp_path / "deps"
    (deps / "google").mkdir(parents=True)
    for name in ("grpc", "grpc_status", "google/protobuf", "google/rpc", "typing_extensions.py"):
        (deps / name).symlink_to(installed / name)
    key = (await env.tenant()).key
    run = await asyncio.create_subprocess_exec(
        sys.executable, "-S", "-c", _STANDALONE, env.grpc_address, key, str(tmp_path / "speech.wav"),
        cwd=tmp_path / "dist", env={"PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{deps}",
                                    "PATH": os.environ.get("PATH", "")},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(run.communicate(), 180)
    assert run.returncode == 0, err.decode()[-3000:]
    done = json.loads(out.decode().splitlines()[-1])
    assert done["file"] == str(tmp_path / "site" / "lingua" / "client.py")
    assert done["stubs"].startswith(str(tmp_path / "site"))
    assert done["leaked"] == []
    _check(sentence, done["asr"], done["fr"])
    assert done["tts"] > 0


def _cli(*args: str, api_key_env: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "LINGUA_API_KEY"}
    if api_key_env is not None:
        env["LINGUA_API_KEY"] = api_key_env
    return subprocess.run([sys.executable, "-c", "from lingua_cli.main import main; main()", "translate", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


async def test_cli_translate_through_the_gateway_with_an_api_key(env: GatewayEnv, wavs: dict[str, bytes],
                                                                 tmp_path: Path) -> None:
    sentence = SPEECH_SENTENCES[0]
    wav = tmp_path / "speech.wav"
    wav.write_bytes(wavs[sentence])
    key = (await env.tenant()).key
    common = (str(wav), "--to", "fr", "--scheduler", env.grpc_address)
    by_flag = await asyncio.to_thread(_cli, *common, "--json", "--api-key", key)
    assert by_flag.returncode == 0, by_flag.stderr
    out = json.loads(by_flag.stdout)
    _check(sentence, out["text_asr"], out["text_translated"])
    assert out["tts_audio_bytes"] > 0
    by_env = await asyncio.to_thread(_cli, *common, "--out", str(tmp_path / "fr.wav"), api_key_env=key)
    assert by_env.returncode == 0, by_env.stderr
    assert f"translation (fr): {phrasebook()[sentence]}" in by_env.stdout
    assert (tmp_path / "fr.wav").read_bytes()[:4] == b"RIFF"
    no_key = await asyncio.to_thread(_cli, *common)
    assert no_key.returncode == 1 and no_key.stderr.startswith("lingua translate: UNAUTHENTICATED: "), no_key.stderr


async def test_auto_detect_and_two_way_with_the_sdk_and_the_cli(languages_env: GatewayEnv, wavs: dict[str, bytes],
                                                                  tmp_path: Path) -> None:
    """English speech: translate(src "auto"), a two-way en<->es session, and `lingua translate --from auto`."""
    env = languages_env
    sentence = SPEECH_SENTENCES[0]
    wav = tmp_path / "speech.wav"
    wav.write_bytes(wavs[sentence])
    key = (await env.tenant()).key

    def run() -> tuple[session_pb2.TranslateResponse, list[object]]:
        with LinguaClient(env.grpc_address, api_key=key) as lingua:
            auto = lingua.translate(wav, "auto", "es")
            with lingua.two_way_session("es", "en") as session:
                session.send_file(wav)
                session.close()
                return auto, list(session.results())

    auto, outcomes = await asyncio.to_thread(run)
    assert word_error_rate(sentence, auto.text_asr) <= 0.2, auto.text_asr
    assert (auto.detected_lang, auto.src_lang, auto.tgt_lang) == ("en", "en", "es")
    assert (auto.mt_engine, tier_name(auto.tier), auto.pivot_lang) == ("apertium", "rule_based", "")
    (two_way,) = outcomes
    assert isinstance(two_way, common_pb2.TranslationResult), two_way
    assert (two_way.detected_lang, two_way.src_lang, two_way.tgt_lang) == ("en", "en", "es")
    assert two_way.text_translated == auto.text_translated  # Apertium is deterministic

    common = (str(wav), "--from", "auto", "--to", "es", "--scheduler", env.grpc_address, "--api-key", key)
    as_json = await asyncio.to_thread(_cli, *common, "--json")
    assert as_json.returncode == 0, as_json.stderr
    out = json.loads(as_json.stdout)
    assert (out["detected_lang"], out["src_lang"], out["mt_engine"], out["tier"], out["pivot_lang"]) == (
        "en", "en", "apertium", "TRANSLATION_TIER_RULE_BASED", ""), out
    assert out["text_translated"] == auto.text_translated
    human = await asyncio.to_thread(_cli, *common)
    assert human.returncode == 0, human.stderr
    lines = human.stdout.splitlines()
    assert f"translation (es): {auto.text_translated}" in lines, human.stdout
    assert "detected language: en (asked for auto)" in lines and "engine: apertium (rule-based)" in lines, lines
