"""The CLI's client: the SDK's `lingua.client` (sessions, Translate) plus the scheduler's admin API."""

from __future__ import annotations

import grpc

from lingua.client import ClientError, LinguaClient, audio_from_file, features
from lingua.v1 import admin_pb2, admin_pb2_grpc

__all__ = ["ClientError", "SchedulerClient", "audio_from_file", "features"]


class SchedulerClient(LinguaClient):
    """A LinguaClient (scheduler or gateway) that can also list a scheduler's nodes (SchedulerAdmin)."""

    def __init__(self, address: str, api_key: str | None = None, *, timeout_s: float = 120.0) -> None:
        super().__init__(address, api_key, timeout_s=timeout_s)
        self.admin = admin_pb2_grpc.SchedulerAdminStub(self.channel)

    def list_nodes(self) -> list[admin_pb2.NodeInfo]:
        try:
            reply = self.admin.ListNodes(admin_pb2.ListNodesRequest(), timeout=self.timeout_s, metadata=self.metadata)
        except grpc.RpcError as exc:
            raise ClientError.from_rpc(exc) from None
        return list(reply.nodes)
