"""A small synchronous client for TenantAdmin; `lingua tenant` is a thin layer over it."""

from __future__ import annotations

import grpc

from lingua.v1 import gateway_pb2, gateway_pb2_grpc
from lingua_common.grpc_server import channel_options


class TenantAdminClient:
    def __init__(self, address: str, admin_token: str, timeout_s: float = 10.0) -> None:
        self._channel = grpc.insecure_channel(address, options=channel_options())
        self._stub = gateway_pb2_grpc.TenantAdminStub(self._channel)
        self._metadata = (("authorization", f"Bearer {admin_token}"),) if admin_token else ()
        self.timeout_s = timeout_s

    def create_tenant(self, name: str, quota: gateway_pb2.Quota | None = None) -> gateway_pb2.Tenant:
        request = gateway_pb2.CreateTenantRequest(name=name, quota=quota)
        reply: gateway_pb2.CreateTenantResponse = self._stub.CreateTenant(
            request, metadata=self._metadata, timeout=self.timeout_s)
        return reply.tenant

    def list_tenants(self) -> list[gateway_pb2.Tenant]:
        reply: gateway_pb2.ListTenantsResponse = self._stub.ListTenants(
            gateway_pb2.ListTenantsRequest(), metadata=self._metadata, timeout=self.timeout_s)
        return list(reply.tenants)

    def issue_key(self, tenant_id: str, label: str = "", expires_unix_ms: int = 0) -> gateway_pb2.IssueApiKeyResponse:
        request = gateway_pb2.IssueApiKeyRequest(tenant_id=tenant_id, label=label, expires_unix_ms=expires_unix_ms)
        reply: gateway_pb2.IssueApiKeyResponse = self._stub.IssueApiKey(
            request, metadata=self._metadata, timeout=self.timeout_s)
        return reply

    def revoke_key(self, key_id: str) -> gateway_pb2.ApiKeyInfo:
        reply: gateway_pb2.RevokeApiKeyResponse = self._stub.RevokeApiKey(
            gateway_pb2.RevokeApiKeyRequest(key_id=key_id), metadata=self._metadata, timeout=self.timeout_s)
        return reply.key

    def update_quota(self, tenant_id: str, quota: gateway_pb2.Quota) -> gateway_pb2.Tenant:
        reply: gateway_pb2.UpdateQuotaResponse = self._stub.UpdateQuota(
            gateway_pb2.UpdateQuotaRequest(tenant_id=tenant_id, quota=quota), metadata=self._metadata,
            timeout=self.timeout_s)
        return reply.tenant

    def close(self) -> None:
        self._channel.close()
