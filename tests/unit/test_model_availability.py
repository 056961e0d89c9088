"""MODEL_NOT_AVAILABLE: re-dispatch at once, steer the pair away from that node; operator install orders."""

from __future__ import annotations

import asyncio

import pytest

from lingua.v1 import admin_pb2, common_pb2, node_pb2
from lingua_common.errors import LinguaError
from scheduler_svc.explain import explain
from scheduler_svc.mesh import NodeLink
from scheduler_svc.registry import NodeState
from tests.unit.test_mesh import assigns, drain, new_mesh, ok, register, utterance


def missing(job: node_pb2.JobAssign) -> node_pb2.JobResult:
    return node_pb2.JobResult(job_id=job.job_id, attempt_id=job.attempt_id, success=False,
                              error=common_pb2.Error(code=common_pb2.MODEL_NOT_AVAILABLE,
                                                     message="no translation model for en->fr"))


async def test_a_missing_model_sends_the_job_elsewhere_and_later_jobs_skip_that_node() -> None:
    mesh, session = new_mesh()
    a, b = register(mesh, "a", max_jobs=4), register(mesh, "b", max_jobs=1)
    mesh.submit_utterance(session, utterance(0))
    [first] = assigns(a)  # a has more free capacity, so it is preferred
    mesh.job_result("a", missing(first))
    [moved] = assigns(b)  # re-dispatched on the spot, no timer involved
    assert moved.job_id == first.job_id
    mesh.job_result("b", ok(moved))
    mesh.submit_utterance(session, utterance(1))
    assert assigns(a) == []  # a is still preferred by score but avoided for en->fr
    [second] = assigns(b)
    mesh.job_result("b", ok(second))
    assert [m.result.utterance_index for m in drain(session) if m.HasField("result")] == [0, 1]
    node_a = mesh.registry.get("a")
    assert node_a is not None and node_a.state is NodeState.READY and node_a.jobs_failed == 0  # not a sick node
    why = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr"))
    [excluded] = [e for e in why.excluded if e.node_id == "a"]
    assert any("MODEL_NOT_AVAILABLE" in r for r in excluded.reasons)


async def test_re_announcing_models_lifts_the_avoidance() -> None:
    mesh, session = new_mesh()
    a = register(mesh, "a", max_jobs=4)
    register(mesh, "b", max_jobs=1)
    mesh.submit_utterance(session, utterance(0))
    [job] = assigns(a)
    mesh.job_result("a", missing(job))
    assert mesh.avoidance.avoided("en", "fr") == {"a"}
    reg = mesh.registry.get("a")
    assert reg is not None
    mesh.node_heartbeat("a", node_pb2.NodeHeartbeat(capabilities_changed=True,
                                                    installed_models=reg.description.installed_models))  # type: ignore[union-attr]
    assert mesh.avoidance.avoided("en", "fr") == frozenset()


async def test_avoidance_expires() -> None:
    mesh, session = new_mesh(model_unavailable_hold_s=0.05)
    a = register(mesh, "a")
    mesh.submit_utterance(session, utterance(0))
    [job] = assigns(a)
    mesh.job_result("a", missing(job))
    # The only node lacks the model: the client hears MODEL_NOT_AVAILABLE, not a timeout.
    [error] = [m.error for m in drain(session) if m.HasField("error")]
    assert error.code == common_pb2.MODEL_NOT_AVAILABLE and error.utterance_index == 0
    await asyncio.sleep(0.1)
    mesh.submit_utterance(session, utterance(1))
    assert len(assigns(a)) == 1


async def test_install_orders_reach_the_node_and_its_status_answers_the_watch() -> None:
    mesh, _session = new_mesh()
    link = register(mesh, "a")
    mesh.links["a"] = link
    watch = mesh.install_model("a", "phrasebook-m2m100", "")
    [order] = [m.install_model for m in _drain_link(link) if m.HasField("install_model")]
    assert order.model_id == "phrasebook-m2m100" and order.request_id == watch.request_id
    waiter = asyncio.create_task(watch.next_status(final=True, timeout_s=5))
    mesh.model_install_status("a", node_pb2.ModelInstallStatus(
        request_id=order.request_id, model_id=order.model_id, version="1.0.0", state=node_pb2.MODEL_STATE_DOWNLOADING))
    await asyncio.sleep(0)
    assert not waiter.done()
    mesh.model_install_status("a", node_pb2.ModelInstallStatus(
        request_id=order.request_id, model_id=order.model_id, version="1.0.0", state=node_pb2.MODEL_STATE_READY))
    final = await waiter
    assert final is not None and final.state == node_pb2.MODEL_STATE_READY and final.version == "1.0.0"


async def test_an_install_on_a_node_that_goes_away_ends_in_an_error() -> None:
    mesh, _session = new_mesh()
    link = register(mesh, "a")
    mesh.links["a"] = link
    watch = mesh.install_model("a", "m", "1")
    mesh.node_disconnected(link)
    status = await watch.next_status(final=True, timeout_s=1)
    assert status is not None and status.state == node_pb2.MODEL_STATE_ERROR
    assert status.error.code == common_pb2.NODE_UNAVAILABLE
    with pytest.raises(LinguaError) as gone:
        mesh.install_model("a", "m", "1")
    assert gone.value.code == common_pb2.NODE_UNAVAILABLE
    with pytest.raises(LinguaError) as unknown:
        mesh.install_model("nope", "m", "1")
    assert unknown.value.code == common_pb2.NOT_FOUND


def _drain_link(link: NodeLink) -> list[node_pb2.SchedulerMessage]:
    out = []
    queue = link.outbox
    while not queue.empty():
        msg = queue.get_nowait()
        if msg is not None:
            out.append(msg)
    return out
