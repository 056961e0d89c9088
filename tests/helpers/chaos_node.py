"""A node process for the chaos test: the real NodeAgent, settings, gRPC stream, heartbeats,
reconnects and job log, with a stand-in pipeline that spends a fixed time per job instead of running
the models.

Why: loading the real models takes seconds of CPU; on the 2-core test machines a fleet whose nodes are
SIGKILLed every 2 s would spend all its time reloading and never serve. The chaos test checks the
scheduler's failover, ordering and exactly-once outcomes; the real-model failover path is covered by
tests/service/test_ordering_and_failover.py. Run as: python -m tests.helpers.chaos_node
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from dataclasses import dataclass, field

from lingua_common.grpc_server import wait_for_signal
from lingua_common.settings import load_settings
from node_svc.agent import NodeAgent
from node_svc.config import NodeSettings
from node_svc.modules.manager import ModuleManager
from node_svc.pipeline import Capabilities, PipelineError, PipelineRequest, PipelineResult

WORK_S = 0.25


@dataclass
class _Named:
    voice_name: str = "stand-in"
    model_id: str = "stand-in-mt"
    model_name: str = "stand-in"
    languages: list[str] = field(default_factory=lambda: ["en"])


class StandInPipeline:
    """Answers every en->en job after WORK_S seconds (cancellable), with deterministic text."""

    def __init__(self) -> None:
        self.asr = self.mt = self.tts = _Named()
        self.modules = ModuleManager(enabled=[])
        self.served = None  # no model store: fixed capabilities
        self.model_generation = -1

    def sync_models(self) -> bool:
        return False

    def capabilities(self) -> Capabilities:
        return Capabilities(asr_languages=["en"], mt_pairs=[], tts_native=["en"], tts_cross_lingual=[])

    def run(self, req: PipelineRequest, on_partial: object = None, on_tts_chunk: object = None,
            cancelled: threading.Event | None = None) -> PipelineResult:
        deadline = time.monotonic() + WORK_S
        while time.monotonic() < deadline:
            if cancelled is not None and cancelled.wait(0.01):
                raise PipelineError("JOB_CANCELLED", "cancelled by the scheduler")
        text = f"{len(req.audio)} samples"
        return PipelineResult(text_asr=text, text_translated=text, tts_pcm16=b"\0\0" * 160, tts_sample_rate=16000,
                              tts_voice="stand-in", tts_voice_quality="native",
                              timings={"total_ms": WORK_S * 1000})


async def main() -> None:
    agent = NodeAgent(load_settings(NodeSettings, "node"), StandInPipeline())  # type: ignore[arg-type]
    runner = asyncio.create_task(agent.run())
    await wait_for_signal()
    await agent.stop()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner


if __name__ == "__main__":
    asyncio.run(main())
