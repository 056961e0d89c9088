"""Tenants, API keys, quotas and daily audio usage on SQLite and on the real PostgreSQL, and Access over them."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from gateway.access import Access
from gateway.db import ApiKeyRow
from gateway.quotas import MemorySessionSlots, Quota
from gateway.ratelimit import MemoryRateLimiter
from gateway.tenants import KeyMatch, TenantStore, ensure_dev_tenant, now_ms
from hub_svc.catalog import Catalog
from lingua.v1 import common_pb2, hub_pb2
from lingua_common.errors import LinguaError
from tests.helpers.databases import database

DEFAULT = Quota(requests_per_second=10, burst=20, max_concurrent_sessions=2, audio_seconds_per_day=100)
KINDS = ["sqlite", "postgresql"]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TenantStore]:
    with database(request.param, tmp_path) as url:
        s = TenantStore(url, DEFAULT)
        try:
            yield s
        finally:
            s.close()


def _access(store: TenantStore, clock: FakeClock) -> Access:
    return Access(store, MemoryRateLimiter(clock), MemorySessionSlots(), key_cache_ttl_s=1.0, clock=clock)


def _code(exc: pytest.ExceptionInfo[LinguaError]) -> int:
    return exc.value.code


def test_tenants_quotas_and_their_checks(store: TenantStore) -> None:
    acme = store.create_tenant("acme")
    assert acme.quota == DEFAULT and acme.tenant_id.startswith("tn_")
    small = store.create_tenant("small co", Quota(0.5, 1, 1, 60))
    assert store.get_tenant(small.tenant_id).quota == Quota(0.5, 1, 1, 60)
    assert [t.name for t in store.list_tenants()] == ["acme", "small co"]
    with pytest.raises(LinguaError) as dup:
        store.create_tenant("acme")
    assert _code(dup) == common_pb2.ALREADY_EXISTS
    for bad_name in ("", " leading space", "x" * 129, "semi;colon"):
        with pytest.raises(LinguaError) as bad:
            store.create_tenant(bad_name)
        assert _code(bad) == common_pb2.INVALID_MESSAGE
    with pytest.raises(LinguaError) as bad_quota:
        store.create_tenant("zero", Quota(0, 1, 1, 1))
    assert _code(bad_quota) == common_pb2.INVALID_MESSAGE

    updated = store.update_quota(acme.tenant_id, requests_per_second=3, max_concurrent_sessions=7)
    assert updated.quota == Quota(3, DEFAULT.burst, 7, DEFAULT.audio_seconds_per_day)
    with pytest.raises(LinguaError) as negative:
        store.update_quota(acme.tenant_id, requests_per_second=-1)
    assert _code(negative) == common_pb2.INVALID_MESSAGE
    assert store.get_tenant(acme.tenant_id).quota == updated.quota  # a refused update changes nothing
    with pytest.raises(LinguaError) as missing:
        store.update_quota("tn_nope", burst=3)
    assert _code(missing) == common_pb2.NOT_FOUND


def test_keys_are_stored_as_hashes_and_resolve_to_their_tenant(store: TenantStore) -> None:
    acme, other = store.create_tenant("acme"), store.create_tenant("other")
    record, secret = store.issue_key(acme.tenant_id, label="ci")
    _, other_secret = store.issue_key(other.tenant_id)
    assert secret.startswith("lk_") and len(secret) >= 40 and record.prefix == secret[:12]
    with store.engine.connect() as conn:
        rows = conn.execute(select(ApiKeyRow.__table__)).all()
        dumped = " ".join(str(v) for row in rows for v in row)
    assert secret not in dumped and secret[12:] not in dumped  # only the prefix and the hash are kept
    assert hashlib.sha256(secret.encode()).hexdigest() in dumped

    match = store.find_key(secret)
    assert match is not None and match.key.tenant_id == acme.tenant_id and match.key.label == "ci"
    found_other = store.find_key(other_secret)
    assert found_other is not None and found_other.key.tenant_id == other.tenant_id
    assert store.find_key(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None  # same prefix, wrong key
    assert store.find_key("lk_") is None and store.find_key("not a key at all") is None
    assert [k.key_id for k in store.get_tenant(acme.tenant_id).keys] == [record.key_id]

    revoked = store.revoke_key(record.key_id)
    assert revoked.revoked_ms and not revoked.usable(now_ms())
    assert store.revoke_key(record.key_id).revoked_ms == revoked.revoked_ms
    with pytest.raises(LinguaError) as unknown:
        store.revoke_key("key_nope")
    assert _code(unknown) == common_pb2.NOT_FOUND
    with pytest.raises(LinguaError) as no_tenant:
        store.issue_key("tn_nope")
    assert _code(no_tenant) == common_pb2.NOT_FOUND
    with pytest.raises(LinguaError) as past:
        store.issue_key(acme.tenant_id, expires_ms=now_ms() - 1)
    assert _code(past) == common_pb2.INVALID_MESSAGE


async def test_access_refuses_missing_unknown_revoked_and_expired_keys(store: TenantStore) -> None:
    clock = FakeClock()
    access = _access(store, clock)
    acme = store.create_tenant("acme")
    _, good = store.issue_key(acme.tenant_id)
    doomed_record, doomed = store.issue_key(acme.tenant_id)
    # Expiry is a wall-clock instant: make one that lapses in a moment, by writing it into the row.
    expiring_record, expiring = store.issue_key(acme.tenant_id, expires_ms=now_ms() + 3_600_000)
    try:
        who = await access.authenticate(good)
        assert (who.tenant_id, who.quota) == (acme.tenant_id, DEFAULT)
        assert (await access.authenticate(doomed)).key_id == doomed_record.key_id
        assert (await access.authenticate(expiring)).key_id == expiring_record.key_id
        for key in (None, "", "lk_not_a_key_we_issued_at_all_xxxxxxxxxx", "Bearer " + good, good + "x"):
            with pytest.raises(LinguaError) as refused:
                await access.authenticate(key)
            assert _code(refused) == common_pb2.UNAUTHENTICATED

        store.revoke_key(doomed_record.key_id)
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE api_keys SET expires_ms = :t WHERE key_id = :k"),
                         {"t": now_ms() - 1, "k": expiring_record.key_id})
        # Within the cache TTL the earlier lookup still stands; past it, both are refused.
        assert (await access.authenticate(doomed)).key_id == doomed_record.key_id
        clock.now += 1.01
        for key, why in ((doomed, "revoked"), (expiring, "expired")):
            with pytest.raises(LinguaError) as refused:
                await access.authenticate(key)
            assert _code(refused) == common_pb2.UNAUTHENTICATED and why in refused.value.message
        assert (await access.authenticate(good)).tenant_id == acme.tenant_id
        # A quota change reaches the next lookup too.
        store.update_quota(acme.tenant_id, max_concurrent_sessions=9)
        clock.now += 1.01
        assert (await access.authenticate(good)).quota.max_concurrent_sessions == 9
    finally:
        await access.close()


async def test_session_quota_and_release(store: TenantStore) -> None:
    access = _access(store, FakeClock())
    acme = store.create_tenant("acme", Quota(10, 10, 2, 100))
    _, key = store.issue_key(acme.tenant_id)
    try:
        who = await access.authenticate(key)
        async with access.session(who), access.session(who):
            with pytest.raises(LinguaError) as full:
                async with access.session(who):
                    pytest.fail("a third session got in")
            assert _code(full) == common_pb2.QUOTA_EXCEEDED
        with pytest.raises(RuntimeError):
            async with access.session(who), access.session(who):
                raise RuntimeError("the session's work failed")
        async with access.session(who), access.session(who):  # both slots came back
            pass
        assert isinstance(access.slots, MemorySessionSlots) and access.slots.held(acme.tenant_id) == 0
    finally:
        await access.close()


async def test_daily_audio_quota_is_persisted_per_utc_day(store: TenantStore) -> None:
    access = _access(store, FakeClock())
    acme = store.create_tenant("acme", Quota(10, 10, 2, 10))
    _, key = store.issue_key(acme.tenant_id)
    try:
        who = await access.authenticate(key)
        await access.add_audio_seconds(who, 6.5)
        with pytest.raises(LinguaError) as over:
            await access.add_audio_seconds(who, 4.0)
        assert _code(over) == common_pb2.QUOTA_EXCEEDED and over.value.retry_after_ms > 0
        await access.add_audio_seconds(who, 3.5)  # what still fits is counted
        assert store.audio_used(acme.tenant_id) == pytest.approx(10.0)
        with pytest.raises(LinguaError):
            await access.add_audio_seconds(who, 0.01)
        await access.add_audio_seconds(who, 0)  # nothing to count is never refused
        assert store.add_audio(acme.tenant_id, 4.0, 10, day="2020-01-01") == pytest.approx(4.0)
        assert store.audio_used(acme.tenant_id, "2020-01-01") == pytest.approx(4.0)
    finally:
        await access.close()
    reopened = TenantStore(store.url, DEFAULT)
    try:
        assert reopened.audio_used(acme.tenant_id) == pytest.approx(10.0)
    finally:
        reopened.close()


def test_audio_quota_holds_under_concurrent_writers(store: TenantStore) -> None:
    acme = store.create_tenant("acme")
    accepted: list[float] = []
    lock = threading.Lock()

    def charge() -> None:
        for _ in range(5):
            if store.add_audio(acme.tenant_id, 1.0, 12) is not None:
                with lock:
                    accepted.append(1.0)

    threads = [threading.Thread(target=charge) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(accepted) == 12 and store.audio_used(acme.tenant_id) == pytest.approx(12.0)


def test_dev_tenant_is_created_once_and_gets_a_fresh_key_each_time(store: TenantStore) -> None:
    first_tenant, first_key = ensure_dev_tenant(store)
    second_tenant, second_key = ensure_dev_tenant(store)
    assert first_tenant == second_tenant and first_key != second_key
    for key in (first_key, second_key):
        match = store.find_key(key)
        assert match is not None and match.key.tenant_id == first_tenant and match.key.usable(now_ms())
    assert [t.name for t in store.list_tenants()] == ["dev"]


@pytest.mark.parametrize("kind", KINDS)
def test_gateway_and_hub_share_one_database(kind: str, tmp_path: Path) -> None:
    """Each keeps its own Alembic version table, so neither takes the other's revisions for its own."""
    with database(kind, tmp_path) as url:
        catalog = Catalog(url)
        tenants = TenantStore(url, DEFAULT)
        again = TenantStore(url, DEFAULT)  # migrating an up-to-date database is a no-op
        try:
            assert tenants.create_tenant("acme").name == "acme"
            assert catalog.list_models(hub_pb2.ListModelsRequest()) == []
            assert again.list_tenants()[0].name == "acme"
            with tenants.engine.connect() as conn:
                assert conn.execute(text("SELECT version_num FROM gateway_alembic_version")).scalar() == "0001"
                assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _hub_head()
        finally:
            again.close()
            tenants.close()
            catalog.close()


def test_in_memory_store_for_embedded_use() -> None:
    store = TenantStore("sqlite://", DEFAULT)
    try:
        tenant_id, key = ensure_dev_tenant(store)
        match = store.find_key(key)
        assert match is not None and match.key.tenant_id == tenant_id
    finally:
        store.close()


class CountingStore(TenantStore):
    """The real store, counting key lookups."""

    lookups = 0

    def find_key(self, api_key: str) -> KeyMatch | None:
        CountingStore.lookups += 1
        return super().find_key(api_key)


async def test_a_burst_on_a_cold_cache_looks_the_key_up_once(tmp_path: Path) -> None:
    store = CountingStore(f"sqlite:///{tmp_path / 'g.db'}", DEFAULT)
    clock = FakeClock()
    access = _access(store, clock)
    try:
        tenant = store.create_tenant("acme")
        _, key = store.issue_key(tenant.tenant_id)
        CountingStore.lookups = 0
        found = await asyncio.gather(*(access.authenticate(key) for _ in range(50)))
        assert {w.tenant_id for w in found} == {tenant.tenant_id} and CountingStore.lookups == 1
        await access.authenticate(key)
        assert CountingStore.lookups == 1  # cached
        clock.now += 1.01
        await access.authenticate(key)
        assert CountingStore.lookups == 2  # asked again past the TTL
    finally:
        await access.close()


def _hub_head() -> str:
    """The hub's newest Alembic revision, read from its migrations (not from the database under test)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    import hub_svc

    config = Config()
    config.set_main_option("script_location", str(Path(hub_svc.__file__).parent / "migrations"))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head
