"""The Java SDK (sdk/java: generated lingua.v1 + the hand-written lingua.client) against a real mesh.

sdk/java/build.sh compiles it with javac against the Debian grpc-java/protobuf-java jars (scripts/ensure_java.sh
installs them; `make test` runs it), then the JVM talks to a real gateway's public gRPC port with a real tenant's
API key, in front of a real scheduler and a node with the bundled models, all on ephemeral ports:
sdk/java/test/lingua/sdkcheck/SdkCheck.java translates a WAV, lists the languages, runs a session of four
utterances (files, bytes that are no audio, PCM16 frames streamed as chunks) whose outcomes it reads to the end of
the stream, and reads typed errors; the example app (lingua.examples.Translate) translates a file and a session.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from node_svc.pipeline import Pipeline
from tests.helpers.gateway import GatewayEnv, gateway_env
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "sdk" / "java" / "build.sh"
SENTENCES = SPEECH_SENTENCES[:3]


@pytest.fixture(scope="module")
def classpath(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The SDK, the example and the check program built from the sources, and the classpath that runs them."""
    missing = subprocess.run(["bash", str(BUILD), "--missing"], capture_output=True, text=True, check=True).stdout
    if missing.strip():
        reason = f"the Java SDK needs {', '.join(missing.split(chr(10))[:-1])}; run scripts/ensure_java.sh"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(reason)
        pytest.skip(reason)
    out = tmp_path_factory.mktemp("java")
    built = subprocess.run(["bash", str(BUILD), str(out)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout + built.stderr
    cp = subprocess.run(["bash", str(BUILD), "--classpath", str(out)], capture_output=True, text=True, check=True)
    return cp.stdout.strip()


@pytest.fixture(scope="module")
async def env(pipeline: Pipeline) -> AsyncIterator[GatewayEnv]:
    async with gateway_env() as env:
        async with running_node(env.scheduler_address, pipeline):
            yield env


@pytest.fixture(scope="module")
def wavs(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("wavs")
    paths = []
    for i, sentence in enumerate(SENTENCES):
        paths.append(folder / f"u{i}.wav")
        paths[-1].write_bytes(speech_wav(pipeline, sentence))
    return paths


async def _java(classpath: str, *args: str, timeout_s: float = 300) -> tuple[int, str, str]:
    run = await asyncio.create_subprocess_exec("java", "-cp", classpath, *args, stdout=asyncio.subprocess.PIPE,
                                               stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(run.communicate(), timeout_s)
    finally:
        if run.returncode is None:
            run.kill()
            await run.wait()
    assert run.returncode is not None
    return run.returncode, out.decode(), err.decode()


def _heard(sentence: str, asr: str, translated: str) -> None:
    assert word_error_rate(sentence, asr) <= 0.2, asr
    assert translated == phrasebook()[sentence]


async def test_java_sdk_translates_and_runs_an_ordered_session(env: GatewayEnv, classpath: str,
                                                              wavs: list[Path]) -> None:
    tenant = await env.tenant()
    rc, out, err = await _java(classpath, "lingua.sdkcheck.SdkCheck", env.grpc_address, tenant.key,
                               *map(str, wavs))
    assert rc == 0, err[-4000:]
    checks: dict[str, dict[str, Any]] = {}
    for line in out.splitlines():
        item = json.loads(line)
        checks[item["check"]] = item
    assert list(checks) == ["translate", "languages", "session", "unsupported_language", "unauthenticated"], out

    # A WAV through the gateway's public gRPC port with the API key: transcript, translation, speech.
    one = checks["translate"]
    _heard(SENTENCES[0], one["asr"], one["translated"])
    assert one["ttsRate"] > 0 and one["ttsBytes"] / 2 / one["ttsRate"] > 0.5, one  # over half a second of speech
    assert one["wavBytes"] == one["ttsBytes"] + 44  # PCM16 speech saved as a WAV
    assert one["sessionId"] and one["nodeId"] and one["tier"] == "demo" and one["mtEngine"], one
    assert checks["languages"]["pairs"] == ["en>fr:demo"], checks["languages"]

    # A session of four utterances, read to the end of the stream: one outcome each, in utterance order; the
    # bytes that are no audio are utterance 1's typed error, and the session carried on after it.
    session = checks["session"]
    assert session["sent"] == [0, 1, 2, 3], session
    outcomes = session["outcomes"]
    assert [o["index"] for o in outcomes] == [0, 1, 2, 3], outcomes
    assert [o["kind"] for o in outcomes] == ["result", "error", "result", "result"], outcomes
    assert outcomes[1]["code"] == "INVALID_AUDIO", outcomes[1]
    for sentence, outcome in zip((SENTENCES[0], SENTENCES[1], SENTENCES[2]), (outcomes[0], *outcomes[2:]),
                                 strict=True):
        _heard(sentence, outcome["asr"], outcome["translated"])  # the streamed frames became one utterance
        assert outcome["ttsBytes"] > 0 and outcome["sessionId"] == session["sessionId"], outcome
    assert session["partials"] > 0  # live transcripts went to onProgress
    assert session["sessionId"] not in env.scheduler.mesh.sessions  # closed on the server

    # Typed errors: the ErrorCode from the status details, with the gRPC status of the call.
    unsupported = checks["unsupported_language"]
    assert unsupported["code"] == "UNSUPPORTED_LANGUAGE" and unsupported["fromDetails"] is True, unsupported
    assert unsupported["grpcCode"] == "INVALID_ARGUMENT", unsupported
    refused = checks["unauthenticated"]
    assert refused["code"] == "UNAUTHENTICATED" and refused["grpcCode"] == "UNAUTHENTICATED", refused
    assert refused["fromDetails"] is True and refused["sessionCode"] == "UNAUTHENTICATED", refused


async def test_java_example_app_translates_a_file_and_a_session(env: GatewayEnv, classpath: str,
                                                                wavs: list[Path], tmp_path: Path) -> None:
    key = (await env.tenant()).key
    speech = tmp_path / "translated.wav"
    common = ["lingua.examples.Translate", "--address", env.grpc_address, "--api-key", key, "--from", "en",
              "--to", "fr"]
    rc, out, err = await _java(classpath, *common, "--out", str(speech), str(wavs[1]))
    assert rc == 0, err[-4000:]
    lines = dict(line.split(":", 1) for line in out.splitlines())
    _heard(SENTENCES[1], lines["heard"].strip(), lines["translated"].strip())
    assert "demo" in lines["how"] and speech.read_bytes()[:4] == b"RIFF" and speech.stat().st_size > 16_000

    rc, out, err = await _java(classpath, *common, str(wavs[2]), str(wavs[0]))  # a session, in this order
    assert rc == 0, err[-4000:]
    printed = [re.fullmatch(r"#(\d+) (.*) -> (.*)", line) for line in out.splitlines()]
    assert all(printed) and [m.group(1) for m in printed if m] == ["0", "1"], out
    for sentence, m in zip((SENTENCES[2], SENTENCES[0]), printed, strict=True):
        assert m is not None
        _heard(sentence, m.group(2), m.group(3))

    rc, out, err = await _java(classpath, *common[:3], "--api-key", "lk_wrong", str(wavs[0]))
    assert rc == 2 and err.startswith("error UNAUTHENTICATED: "), (rc, err)
