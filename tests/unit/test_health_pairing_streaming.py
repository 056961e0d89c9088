from __future__ import annotations

import pytest

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from scheduler_svc import health
from scheduler_svc.health import HealthPolicy, HealthTracker
from scheduler_svc.pairing import PairingCodes
from scheduler_svc.registry import NodeCaps, NodeRecord, NodeState
from scheduler_svc.streaming import ChunkAssembler, GroupContext

POLICY = HealthPolicy(ready_after_heartbeats=2, failure_threshold=3, failure_window_s=60, recover_s=30)


def node() -> NodeRecord:
    return NodeRecord(node_id="n", auth_token="t", caps=NodeCaps(), max_jobs=1)


def test_registering_becomes_ready_after_n_healthy_heartbeats() -> None:
    n, t = node(), HealthTracker()
    n.state, _ = health.after_register(n, t, POLICY)
    assert n.state is NodeState.REGISTERING
    assert health.after_heartbeat(n, t, POLICY, (), now=1) is None
    assert health.after_heartbeat(n, t, POLICY, (), now=2) == (NodeState.READY, "2 healthy heartbeats")


def test_failures_in_a_window_degrade_and_quiet_time_recovers() -> None:
    n, t = node(), HealthTracker()
    n.state = NodeState.READY
    assert health.after_job_failure(n, t, POLICY, now=0) is None
    assert health.after_job_failure(n, t, POLICY, now=70) is None  # the first one aged out of the window
    assert health.after_job_failure(n, t, POLICY, now=80) is None
    change = health.after_job_failure(n, t, POLICY, now=90)
    assert change is not None and change[0] is NodeState.DEGRADED
    n.state = NodeState.DEGRADED
    assert health.after_heartbeat(n, t, POLICY, (), now=100) is None  # failures still in the window
    assert health.after_heartbeat(n, t, POLICY, (), now=151) == (NodeState.READY, "healthy for 30 s")


def test_broken_model_degrades_draining_and_offline_are_sticky() -> None:
    n, t = node(), HealthTracker()
    n.state = NodeState.READY
    change = health.after_heartbeat(n, t, POLICY, ("whisper",), now=0)
    assert change is not None and change[0] is NodeState.DEGRADED and "whisper" in change[1]
    for sticky in (NodeState.DRAINING, NodeState.OFFLINE):
        n.state = sticky
        assert health.after_heartbeat(n, t, POLICY, (), now=100) is None


def test_pairing_codes_are_six_digits_unique_single_use_and_expire() -> None:
    codes = PairingCodes(ttl_s=300)
    issued = {codes.issue(f"node-a{i}", now=0)[0] for i in range(2000)}
    assert len(issued) == 2000 and all(len(c) == 6 and c.isdigit() for c in issued)
    code, expires = codes.issue("node-b", now=0)
    assert expires == 300
    assert codes.redeem(code, "client", now=10) == "node-b"
    with pytest.raises(LinguaError) as used:
        codes.redeem(code, "client", now=11)
    assert used.value.code == common_pb2.INVALID_PAIRING_CODE
    late, _ = codes.issue("node-c", now=0)
    with pytest.raises(LinguaError):
        codes.redeem(late, "other", now=301)
    for i in range(2000):
        codes.revoke_node(f"node-a{i}")
    assert codes.live() == 0


def test_pairing_failures_are_throttled_per_client() -> None:
    codes = PairingCodes(max_failures=5, failure_window_s=60)
    good, _ = codes.issue("node", now=0)
    for i in range(5):
        with pytest.raises(LinguaError):
            codes.redeem("000000" if good != "000000" else "000001", "mallory", now=i)
    with pytest.raises(LinguaError) as throttled:
        codes.redeem(good, "mallory", now=10)  # even the right code is refused while throttled
    assert throttled.value.retry_after_ms > 0
    assert codes.redeem(good, "alice", now=10) == "node"  # other clients are unaffected


def test_a_node_has_one_live_code_and_a_new_one_revokes_the_old() -> None:
    codes = PairingCodes(ttl_s=300)
    first, _ = codes.issue("node", now=0)
    second, _ = codes.issue("node", now=1)
    assert codes.live() == 1
    with pytest.raises(LinguaError) as revoked:
        codes.redeem(first, "alice", now=2)
    assert revoked.value.code == common_pb2.INVALID_PAIRING_CODE
    assert codes.redeem(second, "alice", now=2) == "node"
    # Re-issuing many times keeps the expiry queue bounded by the live codes, not by the issues.
    for i in range(10_000):
        codes.issue("busy", now=3 + i * 1e-4)
    assert codes.live() == 1 and len(codes._expiry) <= 2 * codes.live() + 1025


def test_rotating_client_keys_cannot_outguess_the_scheduler_wide_cap() -> None:
    codes = PairingCodes(max_failures=5, failure_window_s=60, max_global_failures=100, code_max_misses=10_000)
    good, _ = codes.issue("node", now=0)
    wrong = "000000" if good != "000000" else "000001"
    for i in range(100):  # every guess from a fresh tenant: no per-client throttle ever applies
        with pytest.raises(LinguaError) as miss:
            codes.redeem(wrong, f"tenant:rotated-{i}", now=1 + i * 0.01)
        assert miss.value.code == common_pb2.INVALID_PAIRING_CODE
    with pytest.raises(LinguaError) as capped:
        codes.redeem(wrong, "tenant:rotated-new", now=5)
    assert capped.value.code == common_pb2.RATE_LIMITED and 55_000 < capped.value.retry_after_ms <= 57_000
    with pytest.raises(LinguaError):
        codes.redeem(good, "alice", now=5)  # the right code waits too: a lucky guess would otherwise get through
    assert codes.tracked_clients() == 100  # failures kept only within the window ...
    assert codes.redeem(good, "alice", now=62) == "node"  # ... and they age out
    assert codes.tracked_clients() == 0


def test_a_live_code_is_burned_after_its_budget_of_wrong_guesses() -> None:
    codes = PairingCodes(max_failures=1000, max_global_failures=1000, code_max_misses=3)
    before, _ = codes.issue("early", now=0)
    wrong = next(c for c in ("000000", "000001", "000002") if c != before)
    for i in range(2):
        with pytest.raises(LinguaError):
            codes.redeem(wrong, "mallory", now=1 + i)
    after, _ = codes.issue("late", now=3)  # its budget starts when it is issued
    with pytest.raises(LinguaError):
        codes.redeem(wrong if wrong != after else "999999", "mallory", now=4)
    with pytest.raises(LinguaError) as burned:
        codes.redeem(before, "alice", now=5)  # three misses while it was live: burned, though right
    assert burned.value.code == common_pb2.INVALID_PAIRING_CODE
    assert codes.redeem(after, "alice", now=5) == "late"


def test_chunks_assemble_into_one_utterance_with_one_format() -> None:
    asm = ChunkAssembler(max_bytes=100)
    pcm = common_pb2.Audio(data=b"ab" * 5, encoding=common_pb2.PCM16, sample_rate_hz=16000)
    asm.add(0, pcm)
    asm.add(1, pcm)
    with pytest.raises(LinguaError):
        asm.add(1, pcm)  # out of order
    with pytest.raises(LinguaError):
        asm.add(2, common_pb2.Audio(data=b"ab", encoding=common_pb2.PCM16, sample_rate_hz=8000))
    with pytest.raises(LinguaError) as big:
        asm.add(3, common_pb2.Audio(data=bytes(200), encoding=common_pb2.PCM16, sample_rate_hz=16000))
    assert big.value.code == common_pb2.PAYLOAD_TOO_LARGE
    sealed = asm.seal()
    assert sealed is not None and sealed.data == b"ab" * 10 and sealed.sample_rate_hz == 16000
    assert asm.seal() is None and asm.empty


def test_group_context_keeps_recent_pairs_within_the_window() -> None:
    ctx = GroupContext(window_s=30, max_parts=2, max_chars=1000)
    assert ctx.text(now=0) == ""
    ctx.add("Hello.", "Bonjour.", now=0)
    ctx.add("How are you?", "Comment allez-vous ?", now=10)
    ctx.add("Fine.", "Bien.", now=20)
    assert ctx.text(now=25) == "How are you?\tComment allez-vous ?\nFine.\tBien."
    assert ctx.text(now=60) == ""  # a long pause starts a new group
    assert ctx.group == 1
