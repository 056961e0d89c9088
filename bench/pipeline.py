#!/usr/bin/env python3
"""Time to first translated audio: the pipeline called directly vs. the same pipeline through the mesh.

Real English speech (sentences from the MT phrasebook spoken by the bundled Piper voice, resampled to
16 kHz and wrapped as WAV) of about 1.5 s, 3 s and 6 s is translated to French with streamed TTS:

* in-process: `decode_audio` + `Pipeline.run` in a worker thread, timed from the call to the first
  `on_tts_chunk` callback and to the return;
* mesh: a real SchedulerServer (ephemeral port) and one real NodeAgent holding the SAME Pipeline
  object, in this process; a client sends the Utterance on a Converse session opened with
  `stream_tts=True` and times from the write to the first `tts_chunk` ServerMessage and to the
  `result`.

Both paths start from the same WAV bytes and run interleaved (alternating which goes first), so
machine noise hits both. These are measurements, not tests: nothing fails on a slow number.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from lingua.v1 import common_pb2, session_pb2, session_pb2_grpc  # noqa: E402
from lingua_common.audio import decode_audio, encode_wav, float_to_pcm16, pcm16_to_float, resample  # noqa: E402
from node_svc.agent import NodeAgent  # noqa: E402
from node_svc.config import NodeSettings  # noqa: E402
from node_svc.pipeline import SAMPLE_RATE, Pipeline, PipelineRequest, PipelineResult  # noqa: E402
from scheduler_svc.config import SchedulerSettings  # noqa: E402
from scheduler_svc.server import SchedulerServer  # noqa: E402

# Sentences the bundled phrasebook MT model was trained on (so the French is real), chosen so the
# Piper voice speaks them in about the named time.
UTTERANCES: dict[str, tuple[str, str]] = {
    "short": ("1.5 s", "Where is the nearest bus stop?"),
    "medium": ("3 s", "Could you recommend a good book about the history of the city?"),
    "long": ("6 s", "My brother lives in a small village in the mountains. "
                    "The children are playing in the garden behind the house."),
}
TARGET_LENGTH = "medium"
TARGET_OVERHEAD_MS = 30.0
SRC, TGT = "en", "fr"


@dataclass
class Speech:
    key: str
    label: str
    text: str
    wav: bytes
    seconds: float


@dataclass
class Samples:
    """Milliseconds per run, same order for both paths (run i of each was measured back to back)."""

    inproc_first: list[float] = field(default_factory=list)
    inproc_end: list[float] = field(default_factory=list)
    mesh_first: list[float] = field(default_factory=list)
    mesh_end: list[float] = field(default_factory=list)
    node_ms: list[float] = field(default_factory=list)  # JobResult.processing_ms as the node reported it
    stage_ms: dict[str, list[float]] = field(default_factory=dict)  # in-process Pipeline timings
    texts: set[tuple[str, str]] = field(default_factory=set)


def speak(pipeline: Pipeline, key: str) -> Speech:
    label, text = UTTERANCES[key]
    pcm = b"".join(chunk.pcm16 for chunk in pipeline.tts.synthesize(text, SRC))
    audio = resample(pcm16_to_float(pcm), pipeline.tts.sample_rate, SAMPLE_RATE)
    return Speech(key, label, text, encode_wav(float_to_pcm16(audio), SAMPLE_RATE), audio.size / SAMPLE_RATE)


def load_pipeline(mt_model: Path | None, cpu_threads: int | None) -> Pipeline:
    from node_svc.engines.mt import BUNDLED_DIR, M2M100Translator

    model_dir = mt_model or BUNDLED_DIR
    if not (model_dir / "model.bin").is_file():
        raise SystemExit(f"no MT model in {model_dir}: run `make mt-fixture` (or pass --mt-model DIR)")
    if mt_model is None:
        return Pipeline.bundled(cpu_threads)
    # Pipeline.bundled() with another MT model directory.
    from node_svc.engines.asr import WhisperAsr
    from node_svc.engines.tts import PiperTts
    from node_svc.engines.vad import SileroVad

    return Pipeline(vad=SileroVad(), asr=WhisperAsr(cpu_threads=cpu_threads), mt=M2M100Translator(mt_model),
                    tts=PiperTts(cpu_threads=cpu_threads))


class InProcess:
    """decode_audio + Pipeline.run on a dedicated worker thread, as the node agent runs a job."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inproc")

    async def run(self, speech: Speech) -> tuple[float, float, PipelineResult]:
        first: list[float] = []

        def on_tts(_pcm: bytes, _rate: int, _sentence: str) -> None:
            if not first:
                first.append(time.perf_counter())

        def job() -> PipelineResult:
            audio = decode_audio(speech.wav, "WAV", 0, 1)
            request = PipelineRequest(audio=audio, src_lang=SRC, tgt_lang=TGT)
            return self.pipeline.run(request, on_partial=lambda _text, _final: None, on_tts_chunk=on_tts)

        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        result = await loop.run_in_executor(self.executor, job)
        ended = time.perf_counter()
        if not first:
            raise RuntimeError(f"no TTS audio in-process for {speech.text!r}: {result}")
        return (first[0] - started) * 1000, (ended - started) * 1000, result


class MeshClient:
    """One Converse session with stream_tts=True; one utterance at a time."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.call = session_pb2_grpc.SessionServiceStub(channel).Converse()
        self.session_id = ""
        self.index = 0

    async def open(self) -> None:
        await self.call.write(session_pb2.ClientMessage(open=session_pb2.OpenSessionRequest(
            src_lang=SRC, tgt_lang=TGT, stream_tts=True, platform="bench")))
        msg = await asyncio.wait_for(self.call.read(), 30)
        if msg is grpc.aio.EOF or msg.WhichOneof("kind") != "opened":
            raise RuntimeError(f"session not opened: {msg}")
        self.session_id = msg.opened.session_id

    async def run(self, speech: Speech) -> tuple[float, float, common_pb2.TranslationResult]:
        msg = session_pb2.ClientMessage(utterance=session_pb2.Utterance(
            session_id=self.session_id, utterance_index=self.index,
            audio=common_pb2.Audio(data=speech.wav, encoding=common_pb2.WAV)))
        self.index += 1
        first: float | None = None
        started = time.perf_counter()
        await self.call.write(msg)
        while True:
            reply = await asyncio.wait_for(self.call.read(), 120)
            now = time.perf_counter()
            if reply is grpc.aio.EOF:
                raise RuntimeError("the scheduler closed the session")
            kind = reply.WhichOneof("kind")
            if kind == "tts_chunk" and first is None:
                first = now
            elif kind == "result":
                if first is None:
                    raise RuntimeError(f"result without a tts_chunk for {speech.text!r}")
                return (first - started) * 1000, (now - started) * 1000, reply.result
            elif kind == "error":
                raise RuntimeError(f"mesh error: {common_pb2.ErrorCode.Name(reply.error.code)} {reply.error.message}")


@contextlib.asynccontextmanager
async def mesh(pipeline: Pipeline) -> Any:
    server = SchedulerServer(SchedulerSettings(host="127.0.0.1", port=0, metrics_port=-1))
    port = await server.start()
    agent = NodeAgent(NodeSettings(scheduler=f"127.0.0.1:{port}", max_concurrent_jobs=1, display_name="bench",
                                   drain_grace_s=2), pipeline)
    task = asyncio.create_task(agent.run())
    try:
        await asyncio.wait_for(agent.connected.wait(), 30)
        # The scheduler gives a new node jobs only after a few heartbeats (ready_after_heartbeats).
        for _ in range(600):
            if server.mesh.registry.counts_by_state().get("ready"):
                break
            await asyncio.sleep(0.1)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            client = MeshClient(channel)
            await client.open()
            yield client
    finally:
        await agent.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.stop(grace_s=0.5)


async def measure(args: argparse.Namespace, log: Any) -> tuple[list[Speech], dict[str, Samples]]:
    log("loading the bundled models ...")
    pipeline = await asyncio.to_thread(load_pipeline, args.mt_model, args.cpu_threads)
    await asyncio.to_thread(pipeline.warm_up)
    speeches = [await asyncio.to_thread(speak, pipeline, key) for key in args.length_keys]
    inproc = InProcess(pipeline)
    results: dict[str, Samples] = {s.key: Samples() for s in speeches}
    async with mesh(pipeline) as client:
        for speech in speeches:  # one untimed run of each path and length first
            await inproc.run(speech)
            await client.run(speech)
        gc.collect()
        gc.freeze()
        for run in range(args.runs):
            for speech in speeches:
                samples = results[speech.key]
                order = ("inproc", "mesh") if (run + len(speech.key)) % 2 == 0 else ("mesh", "inproc")
                for path in order:
                    if path == "inproc":
                        first, end, res = await inproc.run(speech)
                        samples.inproc_first.append(first)
                        samples.inproc_end.append(end)
                        for stage, ms in res.timings.items():
                            samples.stage_ms.setdefault(stage, []).append(ms)
                        samples.texts.add(("in-process", res.text_translated))
                    else:
                        first, end, proto = await client.run(speech)
                        samples.mesh_first.append(first)
                        samples.mesh_end.append(end)
                        samples.node_ms.append(proto.timings.node_ms)
                        samples.texts.add(("mesh", proto.text_translated))
                if args.pause_ms:
                    await asyncio.sleep(args.pause_ms / 1000)
            log(f"run {run + 1}/{args.runs} done")
    return speeches, results


def pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def render(speeches: list[Speech], results: dict[str, Samples],
           args: argparse.Namespace) -> tuple[str, list[dict[str, Any]]]:
    head = ("length", "audio s", "inproc p50", "inproc p95", "mesh p50", "mesh p95", "ovh p50", "paired",
            "ratio", "e2e in p50", "e2e mesh p50")
    widths = [max(len(h), 9) for h in head]
    lines = [" | ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)),
             "-|-".join("-" * w for w in widths)]
    rows: list[dict[str, Any]] = []
    for s in speeches:
        r = results[s.key]
        in50, mesh50 = pct(r.inproc_first, 50), pct(r.mesh_first, 50)
        paired = statistics.median(m - i for m, i in zip(r.mesh_first, r.inproc_first, strict=True))
        row: dict[str, Any] = {
            "length": s.label, "audio_s": s.seconds, "runs": len(r.mesh_first),
            "inproc_first_p50_ms": in50, "inproc_first_p95_ms": pct(r.inproc_first, 95),
            "mesh_first_p50_ms": mesh50, "mesh_first_p95_ms": pct(r.mesh_first, 95),
            "overhead_p50_ms": mesh50 - in50, "overhead_paired_median_ms": paired, "ratio_p50": mesh50 / in50,
            "inproc_end_p50_ms": pct(r.inproc_end, 50), "mesh_end_p50_ms": pct(r.mesh_end, 50),
            "node_processing_p50_ms": pct(r.node_ms, 50),
            # Per run: client-observed e2e minus what the node reports it spent on the job.
            "outside_node_p50_ms": statistics.median(e - n for e, n in zip(r.mesh_end, r.node_ms, strict=True)),
            "stages_p50_ms": {k: pct(v, 50) for k, v in r.stage_ms.items()},
        }
        rows.append(row)
        cells = (s.label, f"{s.seconds:.2f}", *(f"{row[k]:.1f}" for k in (
            "inproc_first_p50_ms", "inproc_first_p95_ms", "mesh_first_p50_ms", "mesh_first_p95_ms",
            "overhead_p50_ms", "overhead_paired_median_ms")), f"{row['ratio_p50']:.3f}",
            f"{row['inproc_end_p50_ms']:.1f}", f"{row['mesh_end_p50_ms']:.1f}")
        lines.append(" | ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True)))
    lines += [
        "",
        f"ms, {args.runs} runs per path and length, interleaved. inproc/mesh = call or send -> first TTS audio;",
        "ovh p50 = mesh p50 - inproc p50; paired = median of per-run (mesh - inproc); ratio = mesh p50 / inproc p50;",
        "e2e = call or send -> Pipeline.run returned / `result` received.",
    ]
    for s, row in zip(speeches, rows, strict=True):
        r = results[s.key]
        stages = ", ".join(f"{k.removesuffix('_ms')} {v:.0f}" for k, v in row["stages_p50_ms"].items())
        translations = sorted({text for _, text in r.texts})
        lines.append(f"  {s.label}: {s.text!r} -> {translations[0]!r}"
                     + ("" if len(translations) == 1 else f" (paths disagree: {translations})"))
        lines.append(f"        in-process stages p50 ms: {stages}; node-reported processing p50 "
                     f"{row['node_processing_p50_ms']:.0f} ms; mesh e2e - node processing, per run, p50 "
                     f"{row['outside_node_p50_ms']:.1f} ms (transport + scheduling)")
    target = next((row for s, row in zip(speeches, rows, strict=True) if s.key == TARGET_LENGTH), None)
    lines.append("")
    if target is None:
        lines.append(f"target (mesh overhead <= {TARGET_OVERHEAD_MS:.0f} ms p50 at 3 s): not measured in this run")
    else:
        ovh = target["overhead_p50_ms"]
        spread = target["inproc_first_p95_ms"] - target["inproc_first_p50_ms"]
        lines.append(f"target: mesh first-audio overhead <= {TARGET_OVERHEAD_MS:.0f} ms p50 for a 3 s utterance: "
                     f"{ovh:.1f} ms -> {'HOLDS' if ovh <= TARGET_OVERHEAD_MS else 'DOES NOT HOLD'}")
        lines.append(f"        (paired median {target['overhead_paired_median_ms']:.1f} ms; time outside the node's "
                     f"job {target['outside_node_p50_ms']:.1f} ms p50; in-process run-to-run spread p95 - p50 = "
                     f"{spread:.0f} ms{', so use --runs 30 or more for a firm direct number' if spread > 30 else ''})")
    return "\n".join(lines), rows


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time to first TTS audio: Pipeline.run in-process vs. the same Pipeline behind a real "
                    "scheduler and node agent (gRPC), interleaved.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per path and utterance length")
    parser.add_argument("--lengths", default="short,medium,long",
                        help=f"which utterances ({', '.join(f'{k}={v[0]}' for k, v in UTTERANCES.items())})")
    parser.add_argument("--cpu-threads", type=int, default=None, help="ASR/TTS threads (default: min(2, cores))")
    parser.add_argument("--mt-model", type=Path, default=None,
                        help="CTranslate2 MT model dir (default: the bundled phrasebook model)")
    parser.add_argument("--pause-ms", type=int, default=0, help="idle time between runs (lets the CPU cool down)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)
    args.length_keys = [k.strip() for k in args.lengths.split(",") if k.strip()]
    unknown = [k for k in args.length_keys if k not in UTTERANCES]
    if unknown or not args.length_keys:
        parser.error(f"unknown --lengths {unknown}; choose from {', '.join(UTTERANCES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    log(f"pipeline bench: python {platform.python_version()}, grpcio {grpc.__version__}, {psutil.cpu_count()} CPUs, "
        f"load average {', '.join(f'{x:.2f}' for x in psutil.getloadavg())}")
    started = time.perf_counter()
    speeches, results = asyncio.run(measure(args, log))
    text, rows = render(speeches, results, args)
    print(text)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
