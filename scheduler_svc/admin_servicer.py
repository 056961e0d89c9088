"""SchedulerAdmin: read-only views of the mesh, draining a node, and model installs on a node."""

from __future__ import annotations

import time
from typing import Any, TypeAlias

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from lingua_common.errors import LinguaError, abort, make_error
from scheduler_svc.explain import explain
from scheduler_svc.languages import wire_pair
from scheduler_svc.mesh import Mesh
from scheduler_svc.registry import NodeRecord, NodeState

# grpc ships no type information; servicer contexts are untyped.
Context: TypeAlias = Any


def _state_value(state: NodeState) -> int:
    return node_pb2.NodeState.Value(f"NODE_STATE_{state.name}")


def node_info(node: NodeRecord) -> admin_pb2.NodeInfo:
    info = admin_pb2.NodeInfo(
        node_id=node.node_id, state=_state_value(node.state), state_reason=node.state_reason,  # type: ignore[arg-type]
        version=node.version, platform=node.platform, display_name=node.display_name,
        max_concurrent_jobs=node.max_jobs, reserved_jobs=node.busy_slots,
        last_heartbeat_unix_ms=node.last_heartbeat_ms, connected_since_unix_ms=node.connected_since_ms,
        accept_public_jobs=node.accept_public_jobs, jobs_completed=node.jobs_completed,
        jobs_failed=node.jobs_failed, seconds_per_audio_second=node.seconds_per_audio_s,
        asr_languages=sorted(node.caps.asr_languages), tts_languages=sorted(node.caps.tts_native),
        tts_cross_lingual_languages=sorted(node.caps.tts_cross_lingual),
        mt_pairs=[wire_pair(s, t, node.caps.route(s, t)) for s, t in sorted(node.caps.mt_pairs)],
        resource_usage=node_pb2.ResourceUsage(
            cpu_percent=node.usage.cpu_percent, mem_percent=node.usage.mem_percent,
            gpu_percent=node.usage.gpu_percent, gpu_mem_percent=node.usage.gpu_mem_percent,
            running_jobs=node.usage.running_jobs),
    )
    reg = node.description
    if isinstance(reg, node_pb2.NodeRegister):
        info.hardware.CopyFrom(reg.hardware)
        info.installed_models.extend(reg.installed_models)
        info.features_supported.CopyFrom(reg.features_supported)
    return info


class AdminServicer(admin_pb2_grpc.SchedulerAdminServicer):
    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh

    async def ListNodes(self, request: admin_pb2.ListNodesRequest, context: Context) -> admin_pb2.ListNodesResponse:
        states = set(request.states)
        nodes = []
        for node in sorted(self.mesh.registry.nodes.values(), key=lambda n: n.node_id):
            if states and _state_value(node.state) not in states:
                continue
            if request.src_lang and request.src_lang not in node.caps.asr_languages:
                continue
            if request.tgt_lang and request.tgt_lang not in node.caps.tts_languages:
                continue
            if request.src_lang and request.tgt_lang and not node.caps.can_run(request.src_lang, request.tgt_lang):
                continue
            nodes.append(node_info(node))
        return admin_pb2.ListNodesResponse(nodes=nodes)

    async def GetNode(self, request: admin_pb2.GetNodeRequest, context: Context) -> admin_pb2.GetNodeResponse:
        node = self.mesh.registry.get(request.node_id)
        if node is None:
            await abort(context, make_error(common_pb2.NOT_FOUND, f"no node {request.node_id!r}"))
            raise AssertionError("unreachable")
        return admin_pb2.GetNodeResponse(node=node_info(node))

    async def DrainNode(self, request: admin_pb2.DrainNodeRequest, context: Context) -> admin_pb2.DrainNodeResponse:
        node = self.mesh.registry.get(request.node_id)
        if node is None:
            await abort(context, make_error(common_pb2.NOT_FOUND, f"no node {request.node_id!r}"))
            raise AssertionError("unreachable")
        self.mesh.node_draining(node.node_id, request.reason or "drained by operator")
        return admin_pb2.DrainNodeResponse(node=node_info(node))

    async def ListSessions(self, request: admin_pb2.ListSessionsRequest,
                           context: Context) -> admin_pb2.ListSessionsResponse:
        out = []
        for s in self.mesh.sessions.values():
            if request.tenant_id and s.tenant_id != request.tenant_id:
                continue
            out.append(admin_pb2.SessionInfo(
                session_id=s.session_id, tenant_id=s.tenant_id, src_lang=s.src_lang, tgt_lang=s.tgt_lang,
                created_unix_ms=s.created_ms, utterances_received=s.utterances_received,
                results_delivered=s.results_delivered, errors_delivered=s.errors_delivered,
                pending=len(s.jobs), platform=s.platform))
        return admin_pb2.ListSessionsResponse(sessions=out)

    async def ExplainDispatch(self, request: admin_pb2.ExplainDispatchRequest,
                              context: Context) -> admin_pb2.ExplainDispatchResponse:
        return explain(self.mesh, request)

    async def InstallModel(self, request: admin_pb2.InstallModelRequest,
                           context: Context) -> admin_pb2.InstallModelResponse:
        try:
            watch = self.mesh.install_model(request.node_id, request.model_id, request.version)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from exc
        timeout_s = (request.timeout_ms or 600_000) / 1000 if request.wait else 10.0
        status = await watch.next_status(final=request.wait, timeout_s=timeout_s)
        if status is None:
            await abort(context, make_error(common_pb2.NODE_UNAVAILABLE,
                                            f"node {request.node_id} did not answer the install order"))
            raise AssertionError("unreachable")
        return admin_pb2.InstallModelResponse(status=status)

    async def GetStats(self, request: admin_pb2.GetStatsRequest, context: Context) -> admin_pb2.GetStatsResponse:
        m = self.mesh
        return admin_pb2.GetStatsResponse(
            nodes_total=len(m.registry.nodes), nodes_by_state=m.registry.counts_by_state(),
            sessions_active=len(m.sessions), jobs_dispatched=m.counters["dispatched"],
            jobs_completed=m.counters["completed"], jobs_failed=m.counters["failed"],
            jobs_in_flight=len(m.jobs), queue_depth=len(m.waiting),
            dispatch_latency_p50_ms=m.dispatch_percentile(0.5), dispatch_latency_p99_ms=m.dispatch_percentile(0.99),
            uptime_s=time.monotonic() - m.started, jobs_redispatched=m.counters["redispatched"],
            results_timed_out=m.counters["result_timeouts"],
            pairing_codes_live=await m.pairing_store.live(), jobs_stale_results=m.counters["stale_results"],
            dispatch_latency_p90_ms=m.dispatch_percentile(0.9))
