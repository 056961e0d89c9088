"""SchedulerAdmin over gRPC: listing, filtering, draining, stats, explain."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from lingua.v1 import admin_pb2, admin_pb2_grpc, common_pb2, node_pb2
from lingua_common.errors import error_from_rpc
from tests.helpers.mesh import Conversation, running_node, running_scheduler

pytestmark = pytest.mark.models


async def test_admin_views_and_drain(pipeline) -> None:
    async with running_scheduler() as sched:
        address = f"127.0.0.1:{sched.port}"
        async with running_node(address, pipeline, name="a") as a, running_node(address, pipeline, name="b"):
            async with grpc.aio.insecure_channel(address) as channel:
                admin = admin_pb2_grpc.SchedulerAdminStub(channel)
                conv = Conversation(channel)
                await conv.open("en", "fr", platform="web")
                listed = await admin.ListNodes(admin_pb2.ListNodesRequest(src_lang="en", tgt_lang="fr"))
                assert {n.display_name for n in listed.nodes} == {"a", "b"}
                assert (await admin.ListNodes(admin_pb2.ListNodesRequest(src_lang="en", tgt_lang="de"))).nodes == []
                node = (await admin.GetNode(admin_pb2.GetNodeRequest(node_id=a.node_id))).node
                assert node.hardware.cpu_cores > 0 and node.installed_models
                assert "fr" in node.tts_cross_lingual_languages

                drained = await admin.DrainNode(admin_pb2.DrainNodeRequest(node_id=a.node_id, reason="upgrade"))
                assert drained.node.state == node_pb2.NODE_STATE_DRAINING
                for _ in range(50):  # the node hears about it on its stream
                    if a.state == node_pb2.NODE_STATE_DRAINING:
                        break
                    await asyncio.sleep(0.05)
                assert a.state == node_pb2.NODE_STATE_DRAINING
                ready = await admin.ListNodes(admin_pb2.ListNodesRequest(states=[node_pb2.NODE_STATE_READY]))
                assert [n.display_name for n in ready.nodes] == ["b"]
                report = await admin.ExplainDispatch(admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr"))
                assert [c.node_id for c in report.candidates] == [report.chosen_node_id]
                assert any(r.startswith("state draining") for e in report.excluded for r in e.reasons)

                sessions = await admin.ListSessions(admin_pb2.ListSessionsRequest())
                assert [(s.session_id, s.platform) for s in sessions.sessions] == [(conv.session_id, "web")]
                stats = await admin.GetStats(admin_pb2.GetStatsRequest())
                assert stats.nodes_total == 2 and stats.sessions_active == 1
                assert stats.nodes_by_state["draining"] == 1 and stats.nodes_by_state["ready"] == 1

                with pytest.raises(grpc.aio.AioRpcError) as missing:
                    await admin.GetNode(admin_pb2.GetNodeRequest(node_id="nope"))
                assert missing.value.code() == grpc.StatusCode.NOT_FOUND
                assert error_from_rpc(missing.value).code == common_pb2.NOT_FOUND
                await conv.close()
