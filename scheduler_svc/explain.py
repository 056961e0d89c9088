"""ExplainDispatch: for a hypothetical job, each node's score terms or why it was excluded."""

from __future__ import annotations

from lingua.v1 import admin_pb2
from scheduler_svc.mesh import Mesh, Need, features_mask
from scheduler_svc.scoring import rank, score_terms


def explain(mesh: Mesh, request: admin_pb2.ExplainDispatchRequest) -> admin_pb2.ExplainDispatchResponse:
    need = Need(src=request.src_lang, tgt=request.tgt_lang, features_mask=features_mask(request.features),
                dialect=request.dialect, paired_node_id=request.paired_node_id,
                avoid=mesh.avoidance.avoided(request.src_lang, request.tgt_lang))
    weights, strategy = mesh.settings.weights, mesh.settings.strategy
    # The same selection a real job would get (round_robin advances its rotation; power_of_two samples).
    chosen, _passed_over = mesh.select(need)
    response = admin_pb2.ExplainDispatchResponse(strategy=strategy, chosen_node_id=chosen.node_id if chosen else "")
    candidates = []
    for node in sorted(mesh.registry.nodes.values(), key=lambda n: n.node_id):
        reasons = mesh.eligible(node, need)
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
        candidates.append(admin_pb2.CandidateScore(node_id=node.node_id, score=sum(terms.values()), terms=terms))
    candidates.sort(key=lambda c: (-c.score, c.node_id))
    response.candidates.extend(candidates)
    return response
