"""Two-level scheduling (pools.py): hash pools keep a tenant on its home slice and fall back in order;
capability pools pick the capable pool with most free slots; the Mesh dispatches through them; and
ExplainDispatch shows the pool choice as a dry run."""

from __future__ import annotations

import pytest

from lingua.v1 import admin_pb2, session_pb2
from scheduler_svc.config import SchedulerSettings
from scheduler_svc.explain import explain
from scheduler_svc.mesh import Mesh
from scheduler_svc.pools import PooledIndex, fnv1a64
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeRegistry
from tests.unit.test_mesh import assigns, register, utterance

EN_FR = NodeCaps(frozenset({"en"}), frozenset({("en", "fr")}), frozenset({"en"}), frozenset({"fr"}))
EN_FR_DE = NodeCaps(frozenset({"en"}), frozenset({("en", "fr"), ("en", "de")}), frozenset({"en"}),
                    frozenset({"fr", "de"}))


def fleet(index: PooledIndex, registry: NodeRegistry, count: int, caps: NodeCaps = EN_FR, prefix: str = "n",
          max_jobs: int = 2) -> list[NodeRecord]:
    nodes = []
    for i in range(count):
        node = NodeRecord(node_id=f"{prefix}{i}", auth_token="t", caps=caps, max_jobs=max_jobs)
        registry.add(node)
        index.update(node)
        nodes.append(node)
    return nodes


def fill(index: PooledIndex, node: NodeRecord) -> None:
    node.reserved = {(f"busy-{node.node_id}-{i}", 1) for i in range(node.max_jobs)}
    index.update(node)


def test_fnv1a64_matches_the_reference_vectors() -> None:
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C
    assert fnv1a64("foobar") == 0x85944171F73967E8


def test_hash_pools_keep_a_tenant_home_then_fall_back_in_order() -> None:
    registry = NodeRegistry()
    index = PooledIndex(registry, "hash", count=4)
    nodes = fleet(index, registry, 40)
    assert sorted(index.pools) == ["h00", "h01", "h02", "h03"]
    assert sum(len(p.capable_ids("en", "fr", 0)) for p in index.pools.values()) == 40
    home = f"h{fnv1a64('tenant-a') % 4:02d}"
    plan = index.plan("en", "fr", 0, "tenant-a")
    assert plan[0].pool_id == home and len(plan) == 4
    assert plan[0].reason == "home pool of the routing key"
    in_home = [n for n in nodes if index.pool_for(n) == home]
    for _ in range(len(in_home)):  # every pick stays home while home has a free node
        node = index.select("en", "fr", 0, route="tenant-a")
        assert node is not None and index.pool_for(node) == home
        fill(index, node)
    assert index.plan("en", "fr", 0, "tenant-a")[0].free_slots == 0
    spill = index.select("en", "fr", 0, route="tenant-a")
    assert spill is not None and index.pool_for(spill) == plan[1].pool_id  # the next pool, not any pool
    strict = PooledIndex(registry, "hash", count=4, fallback=False)
    for n in nodes:
        strict.update(n)
    assert strict.select("en", "fr", 0, route="tenant-a") is None  # waits for its own pool


def test_capability_pools_choose_the_capable_pool_with_most_free_slots() -> None:
    registry = NodeRegistry()
    index = PooledIndex(registry, "capability")
    fr_only = fleet(index, registry, 3, EN_FR, "fr")
    both = fleet(index, registry, 4, EN_FR_DE, "both")
    assert len(index.pools) == 2
    assert [s.free_slots for s in index.plan("en", "fr", 0)] == [8, 6]
    picked = index.select("en", "fr", 0)
    assert picked is not None and picked.node_id.startswith("both")
    for node in both[:2]:
        fill(index, node)
    assert index.plan("en", "fr", 0)[0].free_slots == 6  # now the en->fr-only pool leads
    picked = index.select("en", "fr", 0)
    assert picked is not None and picked.node_id.startswith("fr")
    assert [s.pool_id for s in index.plan("en", "de", 0)] == [index.pool_for(both[0])]  # only one pool can
    # A node whose capabilities change moves to the pool of its new set; the free counts follow.
    fr_only[0].caps = EN_FR_DE
    index.update(fr_only[0])
    assert [s.free_slots for s in index.plan("en", "fr", 0)] == [6, 4]
    assert sorted(n for p in index.pools.values() for n in p.capable_ids("en", "de", 0)) == \
        sorted(["both0", "both1", "both2", "both3", "fr0"])
    index.remove("fr1")
    index.remove("fr2")
    assert len(index.pools) == 1  # an emptied pool goes away


async def test_the_mesh_dispatches_through_pools_and_explain_shows_the_choice() -> None:
    mesh = Mesh(SchedulerSettings(ready_after_heartbeats=0, pools="hash", pool_count=3))
    links = {f"n{i}": register(mesh, f"n{i}", max_jobs=1) for i in range(9)}
    assert isinstance(mesh.index, PooledIndex)
    index = mesh.index
    home = f"h{fnv1a64('acme') % 3:02d}"
    session = mesh.open_session(session_pb2.OpenSessionRequest(src_lang="en", tgt_lang="fr", tenant_id="acme"))
    report = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr", tenant_id="acme"))
    assert report.pool_mode == "hash" and report.pools[0].pool_id == home
    assert report.pools[0].reason == "home pool of the routing key" and report.pools[0].node_id
    assert report.chosen_node_id == report.pools[0].node_id
    mesh.submit_utterance(session, utterance(0))
    [(node_id, _job)] = [(n, a) for n, link in links.items() for a in assigns(link)]
    assert index.pool_for(mesh.registry.nodes[node_id]) == home


def test_pool_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="pools must be one of off, hash, capability"):
        SchedulerSettings(pools="zones")
    assert SchedulerSettings().pools == "off"
    mesh = Mesh(SchedulerSettings())
    assert not isinstance(mesh.index, PooledIndex)
    report = explain(mesh, admin_pb2.ExplainDispatchRequest(src_lang="en", tgt_lang="fr"))
    assert report.pool_mode == "off" and not report.pools
