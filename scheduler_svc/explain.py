"""ExplainDispatch: for a hypothetical job, each node's score terms or why it was excluded; with pools on,
also the dry run of level 1 (which pools, in which order, and what each would give)."""

from __future__ import annotations

from lingua.v1 import admin_pb2
from lingua_common.model_format import TIER_DEMO
from scheduler_svc.mesh import Mesh, features_mask
from scheduler_svc.pools import PooledIndex
from scheduler_svc.registry import UNKNOWN_TIER
from scheduler_svc.scoring import rank, score_terms
from scheduler_svc.selection import Need


def explain(mesh: Mesh, request: admin_pb2.ExplainDispatchRequest) -> admin_pb2.ExplainDispatchResponse:
    need = Need(src=request.src_lang, tgt=request.tgt_lang, features_mask=features_mask(request.features),
                dialect=request.dialect, paired_node_id=request.paired_node_id,
                avoid=mesh.avoidance.avoided(request.src_lang, request.tgt_lang), route=request.tenant_id)
    weights, strategy = mesh.settings.weights, mesh.settings.strategy
    # The same selection a real job would get (round_robin advances its rotation; power_of_two samples).
    chosen, _passed_over = mesh.selector.select(need)
    response = admin_pb2.ExplainDispatchResponse(strategy=strategy, chosen_node_id=chosen.node_id if chosen else "")
    candidates = []
    for node in sorted(mesh.registry.nodes.values(), key=lambda n: n.node_id):
        reasons = mesh.selector.eligible(node, need)
        if reasons:
            response.excluded.add(node_id=node.node_id, reasons=reasons)
            continue
        if strategy == "least_connections":
            terms = {"least_connections": rank(node, need.tgt, strategy, weights)}
        else:
            terms = score_terms(node, need.tgt, weights)
            if need.dialect and need.dialect in node.caps.dialects:
                terms["dialect"] = weights.dialect
        if need.paired_node_id == node.node_id:
            terms["paired"] = weights.paired
        route = node.caps.route(need.src, need.tgt)
        candidates.append(admin_pb2.CandidateScore(node_id=node.node_id, score=sum(terms.values()), terms=terms,
                                                   tier=route.tier if route.tier <= TIER_DEMO else 0,  # type: ignore[arg-type]
                                                   engine=route.engine, pivot_lang=route.pivot))
    # Tier first (unknown last), then score: the order the index picks in.
    candidates.sort(key=lambda c: (c.tier or UNKNOWN_TIER, -c.score, c.node_id))
    response.candidates.extend(candidates)
    response.pool_mode = mesh.settings.pools
    if isinstance(mesh.index, PooledIndex):
        _explain_pools(mesh.index, need, response)
    return response


def _explain_pools(index: PooledIndex, need: Need, response: admin_pb2.ExplainDispatchResponse) -> None:
    for step in index.plan(need.src, need.tgt, need.features_mask, need.route):
        node = index.pools[step.pool_id].select(need.src, need.tgt, need.features_mask, need.dialect, need.excluded)
        response.pools.add(pool_id=step.pool_id, nodes=step.nodes, free_slots=step.free_slots, reason=step.reason,
                           node_id=node.node_id if node is not None else "")
