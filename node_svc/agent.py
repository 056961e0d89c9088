"""The node agent: dials the scheduler, registers, heartbeats, runs jobs, reconnects.

One stream per connection; everything the node sends goes through one outbox so writes never
interleave. Jobs run in worker threads (the engines release the GIL), so the event loop stays free
for heartbeats and cancellations.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import platform
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from lingua.v1 import common_pb2, node_pb2, node_pb2_grpc, session_pb2
from lingua_common.audio import AudioDecodeError, AudioLimits, AudioTooLargeError, decode_audio
from lingua_common.errors import LinguaError, code_name
from lingua_common.grpc_server import channel_options
from node_svc.capabilities import installed_models, module_extras, module_request
from node_svc.config import NodeSettings, uses_model_store
from node_svc.control import ControlServer
from node_svc.joblog import JobLog
from node_svc.jobs_view import JobsView, ResourceHistory
from node_svc.node_models import NodeModels
from node_svc.pipeline import Pipeline, PipelineError, PipelineRequest, PipelineResult
from node_svc.resources import ResourceMonitor

log = logging.getLogger(__name__)

NODE_VERSION = "0.1.0"
Outbox = asyncio.Queue[node_pb2.NodeMessage | None]


class RegistrationRefused(Exception):
    pass


class NodeAgent:
    def __init__(self, settings: NodeSettings, pipeline: Pipeline, models: NodeModels | None = None) -> None:
        self.settings = settings
        self.pipeline = pipeline
        # `scheduler` may list several instances ("host:port,host:port"): on a lost connection the
        # agent tries the next one, so the nodes of a dead instance move to the others.
        self.schedulers = [a.strip() for a in settings.scheduler.split(",") if a.strip()] or [settings.scheduler]
        self._scheduler_index = 0
        # The local model store and hub installer (None: the models shipped in wheels, no installs).
        self.models = models
        self.monitor = ResourceMonitor()
        self.node_id = settings.node_id
        self.auth_token = ""
        self.state: int = node_pb2.NODE_STATE_UNSPECIFIED
        self.connected = asyncio.Event()
        # Set while the scheduler considers this node ready for jobs.
        self.ready = asyncio.Event()
        self.pairing_code: node_pb2.PairingCode | None = None
        self._pairing_waiters: list[asyncio.Future[node_pb2.PairingCode]] = []
        self._executor = ThreadPoolExecutor(max_workers=settings.max_concurrent_jobs, thread_name_prefix="job")
        self._running: dict[tuple[str, int], threading.Event] = {}
        self._job_tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._outbox: Outbox | None = None
        self._job_log = JobLog(settings.job_log)
        # For the dashboard (node_svc/control.py): recent jobs, resource samples, the loop to call into.
        self.jobs = JobsView()
        self.resources = ResourceHistory()
        self.loop: asyncio.AbstractEventLoop | None = None

    # ---- connection loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until stop(): reconnect with exponential backoff and full jitter."""
        self.loop = asyncio.get_running_loop()
        delay = self.settings.reconnect_initial_ms / 1000
        while not self._stopping:
            started = time.monotonic()
            try:
                await self._connect_once()
            except RegistrationRefused as exc:
                log.error("scheduler refused registration: %s", exc)
                if "NODE_ID_CONFLICT" in str(exc):
                    self.node_id, self.auth_token = "", ""  # start over with a fresh identity
            except (grpc.RpcError, OSError) as exc:
                details = exc.details() if isinstance(exc, grpc.RpcError) and hasattr(exc, "details") else exc
                log.warning("scheduler connection lost: %s", details)
            finally:
                self.connected.clear()
                self.ready.clear()
            if self._stopping:
                return
            self._scheduler_index = (self._scheduler_index + 1) % len(self.schedulers)
            if time.monotonic() - started > 30:
                delay = self.settings.reconnect_initial_ms / 1000  # it was a healthy connection
            sleep = random.uniform(0, delay)
            log.info("reconnecting in %.2f s", sleep)
            await asyncio.sleep(sleep)
            delay = min(delay * 2, self.settings.reconnect_max_ms / 1000)

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        """Drain: tell the scheduler, let in-flight jobs finish (bounded), then close."""
        self._stopping = True
        if self._outbox is not None:
            self._outbox.put_nowait(node_pb2.NodeMessage(drain=node_pb2.NodeDrain(reason="node shutting down")))
            if self._job_tasks:
                await asyncio.wait(self._job_tasks, timeout=self.settings.drain_grace_s)
            self._outbox.put_nowait(None)
        self._executor.shutdown(wait=False, cancel_futures=True)

    @property
    def scheduler(self) -> str:
        """The scheduler address this agent uses (or tries) now."""
        return self.schedulers[self._scheduler_index]

    async def _connect_once(self) -> None:
        async with grpc.aio.insecure_channel(self.scheduler,
                                             options=channel_options(self.settings.max_message_mb)) as channel:
            call = node_pb2_grpc.NodeServiceStub(channel).Connect()
            await call.write(node_pb2.NodeMessage(register=self._register_message()))
            first = await call.read()
            if first is grpc.aio.EOF:
                raise RegistrationRefused("stream closed before `registered`")
            if first.WhichOneof("kind") == "error":
                raise RegistrationRefused(f"{code_name(first.error.code)}: {first.error.message}")
            reg = first.registered
            self.node_id, self.auth_token = reg.node_id, reg.auth_token
            self._set_state(reg.state)
            log.info("registered as %s with %s", self.node_id, self.scheduler, extra={"node_id": self.node_id})
            outbox: Outbox = asyncio.Queue()
            self._outbox = outbox
            self.connected.set()
            tasks = [asyncio.create_task(self._write(call, outbox)),
                     asyncio.create_task(self._heartbeat(outbox, reg.heartbeat_interval_ms / 1000))]
            try:
                await self._read(call, outbox)
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, grpc.RpcError):
                        await task
                self._outbox = None
                for event in self._running.values():
                    event.set()  # the scheduler re-dispatches these; stop wasting CPU on them

    def _register_message(self) -> node_pb2.NodeRegister:
        hardware = node_pb2.Hardware(cpu_cores=self.monitor.cpu_cores, memory_mb=self.monitor.memory_mb,
                                     gpus=[node_pb2.Gpu(name=g.name, memory_mb=g.memory_mb)
                                           for g in self.monitor.gpus()])
        return node_pb2.NodeRegister(
            node_id=self.node_id, auth_token=self.auth_token, version=NODE_VERSION,
            platform=f"{platform.system().lower()}-{platform.machine()}", hardware=hardware,
            installed_models=installed_models(self.pipeline), features_supported=self._features(),
            max_concurrent_jobs=self.settings.max_concurrent_jobs,
            accept_public_jobs=self.settings.accept_public_jobs, display_name=self.settings.display_name)

    def _features(self) -> common_pb2.Features:
        return common_pb2.Features(**dict.fromkeys(self.pipeline.modules.supported(), True))

    async def _write(self, call: Any, outbox: Outbox) -> None:
        while True:
            msg = await outbox.get()
            if msg is None:
                await call.done_writing()
                return
            await call.write(msg)

    async def _heartbeat(self, outbox: Outbox, interval_s: float) -> None:
        announced = self.pipeline.modules.version
        announced_models = self.pipeline.model_generation
        while True:
            # Installs and removals (by this node or `lingua node models`) show up in the next beat.
            await asyncio.to_thread(self.pipeline.sync_models)
            cpu, mem, gpu, gpu_mem = self.monitor.usage()
            self.resources.add(cpu, mem, gpu, gpu_mem)
            beat = node_pb2.NodeHeartbeat(
                timestamp_ms=int(time.time() * 1000),
                resource_usage=node_pb2.ResourceUsage(cpu_percent=cpu, mem_percent=mem, gpu_percent=gpu,
                                                      gpu_mem_percent=gpu_mem, running_jobs=len(self._running)))
            models_changed = self.pipeline.model_generation != announced_models
            if self.pipeline.modules.version != announced or models_changed:  # re-announce what we have
                announced, announced_models = self.pipeline.modules.version, self.pipeline.model_generation
                beat.capabilities_changed = True
                beat.installed_models.extend(installed_models(self.pipeline))
                beat.features_supported.CopyFrom(self._features())
            outbox.put_nowait(node_pb2.NodeMessage(heartbeat=beat))
            await asyncio.sleep(interval_s)

    async def _read(self, call: Any, outbox: Outbox) -> None:
        while True:
            msg = await call.read()
            if msg is grpc.aio.EOF:
                return
            kind = msg.WhichOneof("kind")
            if kind == "job_assign":
                task = asyncio.create_task(self._run_job(msg.job_assign, outbox))
                self._job_tasks.add(task)
                task.add_done_callback(self._job_tasks.discard)
            elif kind == "job_cancel":
                event = self._running.get((msg.job_cancel.job_id, msg.job_cancel.attempt_id))
                if event is not None:
                    event.set()
            elif kind == "pairing_code":
                self.pairing_code = msg.pairing_code
                for waiter in self._pairing_waiters:
                    if not waiter.done():
                        waiter.set_result(msg.pairing_code)
                self._pairing_waiters.clear()
            elif kind == "install_model":
                self._start_install(msg.install_model, outbox)
            elif kind == "node_status":
                self._set_state(msg.node_status.state)
                log.info("scheduler says this node is %s: %s",
                         node_pb2.NodeState.Name(msg.node_status.state), msg.node_status.reason)
            elif kind == "error":
                log.warning("scheduler error %s: %s", code_name(msg.error.code), msg.error.message)

    def _set_state(self, state: int) -> None:
        self.state = state
        if state == node_pb2.NODE_STATE_READY:
            self.ready.set()
        else:
            self.ready.clear()

    async def request_pairing_code(self, timeout_s: float = 5.0) -> node_pb2.PairingCode:
        """Ask the scheduler for a pairing code a client can use to get this node's jobs."""
        if self._outbox is None:
            raise ConnectionError("not connected to a scheduler")
        waiter: asyncio.Future[node_pb2.PairingCode] = asyncio.get_running_loop().create_future()
        self._pairing_waiters.append(waiter)
        self._outbox.put_nowait(node_pb2.NodeMessage(pairing_code_request=node_pb2.PairingCodeRequest()))
        return await asyncio.wait_for(waiter, timeout_s)

    # ---- model installs ordered by the scheduler (SchedulerAdmin.InstallModel) ---------------------

    def _start_install(self, order: node_pb2.ModelInstallOrder, outbox: Outbox) -> None:
        task = asyncio.create_task(self._install(order, outbox))
        self._job_tasks.add(task)
        task.add_done_callback(self._job_tasks.discard)

    async def _install(self, order: node_pb2.ModelInstallOrder, outbox: Outbox) -> None:
        loop = asyncio.get_running_loop()
        base = node_pb2.ModelInstallStatus(request_id=order.request_id, node_id=self.node_id,
                                           model_id=order.model_id, version=order.version)

        def report(state: int, done: int = 0, total: int = 0, version: str = "",
                   error: common_pb2.Error | None = None) -> None:
            status = node_pb2.ModelInstallStatus()
            status.CopyFrom(base)
            status.state, status.done_bytes, status.total_bytes = state, done, total  # type: ignore[assignment]
            status.version = version or order.version
            if error is not None:
                status.error.CopyFrom(error)
            loop.call_soon_threadsafe(outbox.put_nowait, node_pb2.NodeMessage(model_install_status=status))

        if self.models is None:
            report(node_pb2.MODEL_STATE_ERROR, error=common_pb2.Error(
                code=common_pb2.MODEL_NOT_AVAILABLE, message="this node has no model hub configured (LINGUA_NODE_HUB)"))
            return
        report(node_pb2.MODEL_STATE_DOWNLOADING)
        try:
            model = await asyncio.to_thread(
                self.models.install_now, order.model_id, order.version,
                lambda p: report(node_pb2.MODEL_STATE_DOWNLOADING, p.done_bytes, p.total_bytes, p.version))
        except LinguaError as exc:
            report(node_pb2.MODEL_STATE_ERROR, error=exc.to_proto())
            return
        except Exception as exc:  # the installer's bug must still end the order
            log.exception("install of %s failed", order.model_id)
            report(node_pb2.MODEL_STATE_ERROR, error=common_pb2.Error(code=common_pb2.INTERNAL, message=str(exc)))
            return
        await asyncio.to_thread(self.pipeline.sync_models)
        report(node_pb2.MODEL_STATE_READY, model.size_bytes, model.size_bytes, model.version)

    # ---- jobs --------------------------------------------------------------------------------------

    async def _run_job(self, job: node_pb2.JobAssign, outbox: Outbox) -> None:
        key = (job.job_id, job.attempt_id)
        cancelled = threading.Event()
        self._running[key] = cancelled
        loop = asyncio.get_running_loop()
        started = time.perf_counter()
        self.jobs.started(job.job_id, job.attempt_id, job.session_id, job.utterance_index,
                          job.src_lang or job.lang_a, job.tgt_lang or job.lang_b)
        timings: dict[str, float] = {}

        def send(msg: node_pb2.NodeMessage) -> None:  # from worker threads
            loop.call_soon_threadsafe(outbox.put_nowait, msg)

        outbox.put_nowait(node_pb2.NodeMessage(job_ack=node_pb2.JobAck(job_id=job.job_id, attempt_id=job.attempt_id)))
        try:
            result = await loop.run_in_executor(self._executor, self._execute, job, cancelled, send)
            timings = result.timings
            outcome = node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=True,
                                         result=self._result_proto(job, result))
            if result.speaker_embedding is not None:
                outcome.speaker.speaker_id = str(result.extras.get("speaker_id", ""))
                outcome.speaker.embedding.extend(float(x) for x in result.speaker_embedding)
        except PipelineError as exc:
            outcome = node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=False,
                                         error=common_pb2.Error(code=exc.code,
                                                                message=exc.message, job_id=job.job_id))
        except Exception as exc:  # a bug must still end the job explicitly
            log.exception("job %s crashed", job.job_id, extra={"job_id": job.job_id})
            outcome = node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=False,
                                         error=common_pb2.Error(code=common_pb2.INTERNAL, message=str(exc)))
        finally:
            self._running.pop(key, None)
        ended = "cancelled" if cancelled.is_set() else ("ok" if outcome.success else "error")
        self._job_log.write(self.node_id, job.job_id, job.attempt_id, "end", ended)
        self.jobs.finished(job.job_id, job.attempt_id, ended, error=outcome.error.message, timings=timings,
                           src_lang=outcome.result.src_lang, tgt_lang=outcome.result.tgt_lang)
        outcome.processing_ms = (time.perf_counter() - started) * 1000
        if not cancelled.is_set():
            outbox.put_nowait(node_pb2.NodeMessage(job_result=outcome))

    def _execute(self, job: node_pb2.JobAssign, cancelled: threading.Event,
                 send: Any) -> PipelineResult:
        """Runs in a worker thread."""
        self.pipeline.sync_models()  # a model removed a moment ago must not be used (MODEL_NOT_AVAILABLE)
        self._job_log.write(self.node_id, job.job_id, job.attempt_id, "start")
        send(node_pb2.NodeMessage(job_started=node_pb2.JobStarted(job_id=job.job_id, attempt_id=job.attempt_id)))
        try:  # bounded: stops at DEFAULT_MAX_SECONDS decoded (or a decompression bomb's ratio), never guesses
            audio = decode_audio(job.audio.data, common_pb2.AudioEncoding.Name(job.audio.encoding),
                                 job.audio.sample_rate_hz, job.audio.channels or 1, limits=AudioLimits())
        except AudioTooLargeError as exc:  # a wire ErrorCode the pipeline's own ErrorCode list does not name
            raise PipelineError("PAYLOAD_TOO_LARGE", str(exc)) from None  # type: ignore[arg-type]
        except AudioDecodeError as exc:
            raise PipelineError("INVALID_AUDIO", str(exc)) from None
        seq = 0

        def on_partial(text: str, is_final: bool) -> None:
            if job.streaming_asr:
                send(node_pb2.NodeMessage(asr_partial=common_pb2.AsrPartial(
                    job_id=job.job_id, attempt_id=job.attempt_id, session_id=job.session_id,
                    utterance_index=job.utterance_index, text=text, is_final=is_final)))

        def on_tts(pcm: bytes, rate: int, sentence: str) -> None:
            nonlocal seq
            if job.stream_tts:
                send(node_pb2.NodeMessage(tts_chunk=common_pb2.TtsChunk(
                    job_id=job.job_id, attempt_id=job.attempt_id, session_id=job.session_id,
                    utterance_index=job.utterance_index, seq=seq, text=sentence,
                    audio=common_pb2.Audio(data=pcm, encoding=common_pb2.PCM16, sample_rate_hz=rate, channels=1))))
            seq += 1

        two_way = (job.lang_a, job.lang_b) if job.mode == session_pb2.SESSION_MODE_TWO_WAY else None
        request = PipelineRequest(audio=audio, src_lang=job.src_lang, tgt_lang=job.tgt_lang,
                                  context_text=job.context_text, modules=module_request(job), two_way=two_way)
        return self.pipeline.run(request, on_partial=on_partial, on_tts_chunk=on_tts, cancelled=cancelled)

    def _result_proto(self, job: node_pb2.JobAssign, r: PipelineResult) -> common_pb2.TranslationResult:
        t = r.timings
        return common_pb2.TranslationResult(
            session_id=job.session_id, utterance_index=job.utterance_index, job_id=job.job_id,
            node_id=self.node_id, attempt_id=job.attempt_id, text_asr=r.text_asr,
            text_translated=r.text_translated, src_lang=r.src_lang or job.src_lang,
            tgt_lang=r.tgt_lang or job.tgt_lang, detected_lang=r.detected_lang, mt_engine=r.mt_engine,
            tier=r.mt_tier, pivot_lang=r.pivot_lang,  # type: ignore[arg-type]
            tts_audio=common_pb2.Audio(data=r.tts_pcm16, encoding=common_pb2.PCM16,
                                       sample_rate_hz=r.tts_sample_rate, channels=1),
            extras=common_pb2.Extras(tts_voice=r.tts_voice, tts_voice_quality=r.tts_voice_quality, notes=r.notes,
                                     detected_lang=r.detected_lang, detected_lang_probability=r.detected_probability,
                                     mt_unknown_words=r.mt_marks.unknown,
                                     mt_untranslated_words=r.mt_marks.untranslated,
                                     mt_generation_gaps=r.mt_marks.generation_gaps,
                                     module_errors=r.module_errors, **module_extras(r.extras)),
            timings=common_pb2.Timings(vad_ms=t.get("vad_ms", 0), asr_ms=t.get("asr_ms", 0),
                                       mt_ms=t.get("mt_ms", 0), tts_ms=t.get("tts_ms", 0),
                                       node_ms=t.get("total_ms", 0)))


async def serve(settings: NodeSettings) -> None:
    """Load the models (shipped in wheels, or the model store's), then stay connected until SIGINT/SIGTERM."""
    from lingua_common.grpc_server import wait_for_signal

    cpu_threads = settings.cpu_threads or None
    names = [m.strip() for m in settings.modules.split(",") if m.strip()]
    modules = None if names == ["all"] else names
    manager = None
    if uses_model_store(settings):
        from node_svc.models.setup import store_backed_pipeline

        pipeline, manager = await asyncio.to_thread(store_backed_pipeline, settings, cpu_threads, modules)
    else:
        pipeline = await asyncio.to_thread(Pipeline.bundled, cpu_threads, modules)
    if settings.warm_up:
        await asyncio.to_thread(pipeline.warm_up)
    agent = NodeAgent(settings, pipeline, manager)
    control = None
    if settings.control_port >= 0:
        control = ControlServer(pipeline.modules, settings.control_port, settings.control_host, agent=agent,
                                models=manager)
        control.start()
    runner = asyncio.create_task(agent.run())
    where = f"; dashboard http://{settings.control_host}:{control.port}/" if control else ""
    print(f"node ready, connecting to {settings.scheduler}{where}", flush=True)
    await wait_for_signal()
    if control is not None:
        control.stop()
    await agent.stop()
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
