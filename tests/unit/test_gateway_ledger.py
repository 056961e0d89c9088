"""Session ownership and quota slots in the gateway's ledger (no servers)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from gateway.ledger import Owned, SessionLedger
from lingua.v1 import common_pb2
from lingua_common.errors import LinguaError


class Slots:
    """A real concurrent-slot counter, standing in for one tenant's session quota."""

    def __init__(self) -> None:
        self.held = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        self.held += 1
        try:
            yield
        finally:
            self.held -= 1

    async def hold(self) -> contextlib.AsyncExitStack:
        stack = contextlib.AsyncExitStack()
        await stack.enter_async_context(self.slot())
        return stack


async def test_only_the_owner_finds_a_session_and_unknown_ids_look_the_same() -> None:
    remote = {("t-b", "s-remote")}

    async def remote_owner(tenant: str, session_id: str) -> bool:
        return (tenant, session_id) in remote

    ledger = SessionLedger(remote_owner, lambda sid: 1, idle_timeout_s=60)
    ledger.record("s-a", "t-a", 0, None)
    assert (await ledger.lookup("t-a", "s-a")).tenant_id == "t-a"
    with pytest.raises(LinguaError) as theirs:
        await ledger.lookup("t-b", "s-a")
    with pytest.raises(LinguaError) as nobody:
        await ledger.lookup("t-b", "s-none")
    assert theirs.value.code == nobody.value.code == common_pb2.INVALID_SESSION
    assert theirs.value.message.replace("s-a", "X") == nobody.value.message.replace("s-none", "X")
    # Opened through another gateway instance: found on the scheduler, remembered on its home instance.
    found = await ledger.lookup("t-b", "s-remote")
    assert found.tenant_id == "t-b" and found.instance == 1 and len(ledger) == 2
    with pytest.raises(LinguaError):
        await ledger.lookup("t-a", "s-remote")


async def test_release_frees_the_slot_and_reaper_expires_idle_unsubscribed_sessions() -> None:
    async def nobody(tenant: str, session_id: str) -> bool:
        return False

    slots = Slots()
    ledger = SessionLedger(nobody, lambda sid: 0, idle_timeout_s=0.0)
    ledger.record("s-1", "t", 0, await slots.hold())
    listened = ledger.record("s-2", "t", 0, await slots.hold())
    listened.subscribers = 1
    assert slots.held == 2
    expired: list[str] = []

    async def expire(session_id: str, owned: Owned) -> None:
        expired.append(session_id)

    await ledger.reap(expire)
    assert expired == ["s-1"] and slots.held == 1  # s-2 has a subscriber: kept
    await ledger.release("s-2", forget=False)
    assert slots.held == 0 and (await ledger.lookup("t", "s-2")).hold is None  # ownership kept for a resume
    await ledger.release("s-2")
    with pytest.raises(LinguaError):
        await ledger.lookup("t", "s-2")
