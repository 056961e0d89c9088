"""TenantAdmin over gRPC: protobuf in, TenantStore calls (in a worker thread), protobuf out.

Every call needs metadata `authorization: Bearer <admin token>`: without one it is UNAUTHENTICATED, with a
wrong one (or when the gateway has no admin token set) PERMISSION_DENIED.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar

from gateway.quotas import Quota
from gateway.tenants import ApiKey, Tenant, TenantStore
from lingua.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc
from lingua_common.auth import metadata_bearer, tokens_match
from lingua_common.errors import LinguaError, abort

Context: TypeAlias = Any  # grpc ships no type information
T = TypeVar("T")


def key_proto(key: ApiKey) -> gateway_pb2.ApiKeyInfo:
    return gateway_pb2.ApiKeyInfo(key_id=key.key_id, prefix=key.prefix, label=key.label,
                                  created_unix_ms=key.created_ms, expires_unix_ms=key.expires_ms,
                                  revoked=bool(key.revoked_ms))


def quota_proto(quota: Quota) -> gateway_pb2.Quota:
    return gateway_pb2.Quota(requests_per_second=quota.requests_per_second, burst=quota.burst,
                             max_concurrent_sessions=quota.max_concurrent_sessions,
                             audio_seconds_per_day=quota.audio_seconds_per_day)


def tenant_proto(tenant: Tenant) -> gateway_pb2.Tenant:
    return gateway_pb2.Tenant(tenant_id=tenant.tenant_id, name=tenant.name, quota=quota_proto(tenant.quota),
                              created_unix_ms=tenant.created_ms, keys=[key_proto(k) for k in tenant.keys])


def check_admin(expected: str, presented: str) -> None:
    if not presented:
        raise LinguaError(common_pb2.UNAUTHENTICATED,
                          "TenantAdmin needs metadata `authorization: Bearer <admin token>`")
    if not expected:
        raise LinguaError(common_pb2.PERMISSION_DENIED,
                          "TenantAdmin is disabled: the gateway has no admin token (set LINGUA_GATEWAY_ADMIN_TOKEN)")
    if not tokens_match(expected, presented):
        raise LinguaError(common_pb2.PERMISSION_DENIED, "wrong admin token for TenantAdmin")


class TenantAdminServicer(gateway_pb2_grpc.TenantAdminServicer):
    def __init__(self, store: TenantStore, admin_token: str) -> None:
        self.store, self.admin_token = store, admin_token

    async def _call(self, context: Context, work: Callable[[], T]) -> T:
        """Check the admin token, then run `work` off the event loop; LinguaErrors end the call with a status
        carrying the lingua.v1.Error."""
        try:
            check_admin(self.admin_token, metadata_bearer(context))
            return await asyncio.to_thread(work)
        except LinguaError as exc:
            await abort(context, exc.to_proto())
            raise AssertionError("unreachable") from None

    async def CreateTenant(self, request: gateway_pb2.CreateTenantRequest,
                           context: Context) -> gateway_pb2.CreateTenantResponse:
        q = request.quota
        quota = self.store.default_quota.updated(q.requests_per_second, q.burst, q.max_concurrent_sessions,
                                                 q.audio_seconds_per_day)  # fields left at 0 take the defaults
        tenant = await self._call(context, lambda: self.store.create_tenant(request.name, quota))
        return gateway_pb2.CreateTenantResponse(tenant=tenant_proto(tenant))

    async def ListTenants(self, request: gateway_pb2.ListTenantsRequest,
                          context: Context) -> gateway_pb2.ListTenantsResponse:
        tenants = await self._call(context, self.store.list_tenants)
        return gateway_pb2.ListTenantsResponse(tenants=[tenant_proto(t) for t in tenants])

    async def IssueApiKey(self, request: gateway_pb2.IssueApiKeyRequest,
                          context: Context) -> gateway_pb2.IssueApiKeyResponse:
        key, secret = await self._call(context, lambda: self.store.issue_key(
            request.tenant_id, request.label, request.expires_unix_ms))
        return gateway_pb2.IssueApiKeyResponse(key=key_proto(key), api_key=secret)

    async def RevokeApiKey(self, request: gateway_pb2.RevokeApiKeyRequest,
                           context: Context) -> gateway_pb2.RevokeApiKeyResponse:
        key = await self._call(context, lambda: self.store.revoke_key(request.key_id))
        return gateway_pb2.RevokeApiKeyResponse(key=key_proto(key))

    async def UpdateQuota(self, request: gateway_pb2.UpdateQuotaRequest,
                          context: Context) -> gateway_pb2.UpdateQuotaResponse:
        q = request.quota  # fields left at 0 keep their current value
        tenant = await self._call(context, lambda: self.store.update_quota(
            request.tenant_id, q.requests_per_second, q.burst, q.max_concurrent_sessions, q.audio_seconds_per_day))
        return gateway_pb2.UpdateQuotaResponse(tenant=tenant_proto(tenant))
