"""The generated TypeScript SDK (generated/ts) on its own, in Node: gateway/web/examples/sdk-translate.mjs — the
README's example — translates a Piper-spoken phrasebook WAV through a real gateway's grpc-web endpoint
(one-shot Translate, then an open/push/subscribe/close session) and reads a typed error from the trailers.
Real scheduler, node with the bundled models, and gateway with a real tenant key, on ephemeral ports."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lingua.v1 import common_pb2
from node_svc.pipeline import Pipeline
from tests.helpers.gateway import gateway_env
from tests.helpers.mesh import running_node, speech_wav
from tests.helpers.node_tools import WEB, web_tools
from tests.helpers.phrasebook import SPEECH_SENTENCES, phrasebook
from tests.helpers.wer import word_error_rate

pytestmark = pytest.mark.models

SENTENCE = SPEECH_SENTENCES[1]


async def test_typescript_sdk_translates_through_grpc_web(pipeline: Pipeline, tmp_path: Path) -> None:
    node = web_tools()
    wav = tmp_path / "speech.wav"
    wav.write_bytes(speech_wav(pipeline, SENTENCE))
    async with gateway_env() as env, running_node(env.scheduler_address, pipeline):
        key = (await env.tenant()).key
        run = await asyncio.create_subprocess_exec(
            node, "--preserve-symlinks", "examples/sdk-translate.mjs", env.http_url, key, str(wav), "en", "fr",
            cwd=WEB, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(run.communicate(), 180)
    assert run.returncode == 0, err.decode()[-3000:]
    done = json.loads(out.decode().splitlines()[-1])
    french = phrasebook()[SENTENCE]
    one, session = done["translate"], done["session"]
    assert word_error_rate(SENTENCE, one["asr"]) <= 0.2 and one["translated"] == french, one
    assert one["ttsBytes"] > one["ttsRate"] > 0  # over half a second of speech
    assert session["kind"] == "result" and session["index"] == "0", session
    assert word_error_rate(SENTENCE, session["asr"]) <= 0.2 and session["translated"] == french, session
    assert session["partials"] and session["ttsBytes"] > 0, session
    # The gateway's typed error reached the SDK through grpc-status-details-bin.
    assert done["typed"]["grpcCode"] == 3  # INVALID_ARGUMENT
    assert done["typed"]["linguaCode"] == common_pb2.UNSUPPORTED_LANGUAGE, done["typed"]
