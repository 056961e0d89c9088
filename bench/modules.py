#!/usr/bin/env python3
"""Cost of the optional modules: pipeline time for a ~3 s utterance with no module, each module alone,
and all of them, measured interleaved in one run (medians, p95, added % over the baseline).

    .venv/bin/python bench/modules.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lingua_common.audio import decode_audio, encode_wav
from lingua_common.features import FEATURE_NAMES
from node_svc.modules.persona import PersonaConfig
from node_svc.modules.stage import ModuleRequest
from node_svc.pipeline import Pipeline, PipelineRequest

SENTENCE = "Could you recommend a good book about the history of the city?"
TARGET_ADDED = 0.50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs per configuration")
    parser.add_argument("--tgt", default="fr", help="target language")
    args = parser.parse_args()

    pipeline = Pipeline.bundled()
    pipeline.warm_up()
    pcm = b"".join(c.pcm16 for c in pipeline.tts.synthesize(SENTENCE, "en"))
    audio = decode_audio(encode_wav(pcm, pipeline.tts.sample_rate), "WAV", 0)
    persona = PersonaConfig(register="formal", remove_fillers=True, mask_profanity=True, glossary=["Lingua"])
    configs: dict[str, frozenset[str]] = {"none": frozenset()}
    configs.update({name: frozenset({name}) for name in FEATURE_NAMES})
    configs["all"] = frozenset(FEATURE_NAMES)

    def request(features: frozenset[str]) -> PipelineRequest:
        return PipelineRequest(audio=audio, src_lang="en", tgt_lang=args.tgt,
                               modules=ModuleRequest(features=features, persona=persona))

    for features in configs.values():  # first use loads each module's model: keep that out of the figures
        pipeline.run(request(features))
    times: dict[str, list[float]] = {name: [] for name in configs}
    for _ in range(args.runs):
        for name, features in configs.items():  # interleaved, so machine noise hits every configuration
            start = time.perf_counter()
            result = pipeline.run(request(features))
            times[name].append((time.perf_counter() - start) * 1000)
            if result.module_errors:
                print(f"  {name}: {result.module_errors}", file=sys.stderr)

    base = statistics.median(times["none"])
    print(f"optional modules on a {len(audio) / 16000:.1f} s utterance (en->{args.tgt}), {args.runs} runs each, ms")
    print(f"{'configuration':<24} {'p50':>8} {'p95':>8} {'added p50':>10} {'added %':>8}")
    for name, values in times.items():
        p50, p95 = statistics.median(values), float(np.percentile(values, 95))
        print(f"{name:<24} {p50:>8.1f} {p95:>8.1f} {p50 - base:>10.1f} {100 * (p50 - base) / base:>7.1f}%")
    added = (statistics.median(times["all"]) - base) / base
    verdict = "HOLDS" if added <= TARGET_ADDED else "MISSED"
    print(f"target: every module on adds <= {TARGET_ADDED:.0%} to the median: {added:.1%} -> {verdict}")


if __name__ == "__main__":
    main()
