"""Pairing codes shared in the real Redis (127.0.0.1:6379): issued by one instance, redeemed on another,
single use, unique, expiring, one live per node, throttled per client and mesh-wide across instances, burned
after too many wrong guesses, revoked per issuing instance."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError
from scheduler_svc.cluster.keys import Keys
from scheduler_svc.cluster.pairing import SharedPairing

URL = "redis://127.0.0.1:6379/0"
Make = Callable[..., SharedPairing]


@pytest.fixture
async def pairing() -> AsyncIterator[Make]:
    """SharedPairing per instance name, each on its own connection, all under one fresh prefix."""
    keys = Keys(f"lingua-test-{secrets.token_hex(4)}")
    clients: list[Redis] = []

    def make(instance: str, **kw: float) -> SharedPairing:
        clients.append(Redis.from_url(URL))
        return SharedPairing(clients[-1], keys, instance, **kw)  # type: ignore[arg-type]

    yield make
    client = Redis.from_url(URL)
    found = [k async for k in client.scan_iter(match=f"{keys.prefix}:*")]
    if found:
        await client.delete(*found)
    for c in [client, *clients]:
        await c.aclose()


async def refused(coro: object) -> LinguaError:
    with pytest.raises(LinguaError) as info:
        await coro  # type: ignore[misc]
    assert info.value.code == common_pb2.INVALID_PAIRING_CODE
    return info.value


async def test_a_code_from_one_instance_is_redeemed_once_on_another(pairing: Make) -> None:
    a, b, c = pairing("a"), pairing("b"), pairing("c")
    code, expires_ms = await a.issue("node-1")
    assert len(code) == 6 and code.isdigit()
    now_ms = int((await b.redis.time())[0]) * 1000
    assert 299_000 <= expires_ms - now_ms <= 301_000
    assert await a.live() == 1
    assert await b.redeem(code, "client") == "node-1"
    await refused(c.redeem(code, "client"))  # single use, on any instance
    await refused(a.redeem(code, "client"))
    assert await c.live() == 0


async def test_concurrent_redeems_of_one_code_have_one_winner(pairing: Make) -> None:
    insts = [pairing(f"i{n}") for n in range(3)]
    code, _ = await insts[0].issue("node-1")
    outcomes = await asyncio.gather(*(inst.redeem(code, f"client-{n}") for n, inst in enumerate(insts)),
                                    return_exceptions=True)
    assert sorted(type(o).__name__ for o in outcomes) == ["LinguaError", "LinguaError", "str"]


async def test_codes_are_unique_among_live_codes_and_expire(pairing: Make) -> None:
    a, b = pairing("a"), pairing("b")
    codes = []
    for i in range(150):  # both instances at once, 150 times
        codes += [code for code, _ in await asyncio.gather(a.issue(f"a{i}"), b.issue(f"b{i}"))]
    assert len(set(codes)) == 300 and await a.live() == 300
    # The script itself refuses a code that is live, whoever asks: the caller draws another.
    taken = await b._issue(keys=b._issue_keys("x"), args=[codes[0], "x|b", 60_000, 10**6, "x"])
    assert taken == 0
    short = pairing("c", ttl_s=0.2)
    brief, _ = await short.issue("c0")
    assert await short.live() == 301
    await asyncio.sleep(0.3)
    assert await a.live() == 300
    await refused(b.redeem(brief, "client"))


async def test_wrong_codes_are_throttled_per_client_across_instances(pairing: Make) -> None:
    a, b = pairing("a", max_failures=5, failure_window_s=60), pairing("b", max_failures=5, failure_window_s=60)
    good, _ = await a.issue("node")
    wrong = "000000" if good != "000000" else "000001"
    for i in range(5):
        await refused((a if i % 2 else b).redeem(wrong, "mallory"))
    throttled = await refused(b.redeem(good, "mallory"))  # even the right code, even on another instance
    assert 58_000 < throttled.retry_after_ms <= 60_001
    assert await a.redeem(good, "alice") == "node"  # other clients are unaffected


async def test_failures_age_out_of_the_window(pairing: Make) -> None:
    a = pairing("a", max_failures=2, failure_window_s=0.3)
    good, _ = await a.issue("node")
    for _ in range(2):
        await refused(a.redeem("999999" if good != "999999" else "999998", "bob"))
    await refused(a.redeem(good, "bob"))
    await asyncio.sleep(0.35)
    assert await a.redeem(good, "bob") == "node"


async def test_revoking_drops_only_the_codes_this_instance_issued(pairing: Make) -> None:
    a, b = pairing("a"), pairing("b")
    from_a, _ = await a.issue("node-1")
    other, _ = await a.issue("node-2")
    assert await a.revoke_node("node-1") == 1  # its stream on a ended
    await refused(b.redeem(from_a, "client"))
    again, _ = await a.issue("node-1")  # it reconnected to a, asked again, then moved to b and asked there
    from_b, _ = await b.issue("node-1")
    assert await a.live() == 2  # one live code per node: b's replaced a's
    assert await a.revoke_node("node-1") == 0  # its old stream on a ended: b's code stays
    await refused(b.redeem(again, "client"))
    assert await a.redeem(from_b, "client") == "node-1"
    assert await b.redeem(other, "client") == "node-2"


async def test_rotating_clients_meet_the_mesh_wide_cap_and_a_guessed_at_code_burns(pairing: Make) -> None:
    kw = {"max_failures": 5, "failure_window_s": 60, "max_global_failures": 20, "code_max_misses": 10}
    a, b = pairing("a", **kw), pairing("b", **kw)
    early, _ = await a.issue("node-1")
    wrong = next(c for c in ("000000", "000001") if c != early)
    for i in range(10):  # a fresh client each time: the per-client throttle never applies
        await refused((a if i % 2 else b).redeem(wrong, f"tenant:rotated-{i}"))
    late, _ = await b.issue("node-2")  # issued after those ten misses: its budget is whole
    await refused(a.redeem(early, "alice"))  # ten misses while it was live: burned, though right
    for i in range(9):
        await refused(b.redeem(wrong if wrong != late else "999999", f"tenant:more-{i}"))
    with pytest.raises(LinguaError) as capped:  # twenty wrong codes mesh-wide: every redeem waits
        await a.redeem(late, "alice")
    assert capped.value.code == common_pb2.RATE_LIMITED and 58_000 < capped.value.retry_after_ms <= 60_001
