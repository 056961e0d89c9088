"""Run the hub: ModelHub over gRPC (50052) and the same files over HTTP with Range (8082)."""

from __future__ import annotations

import logging
from pathlib import Path

from hub_svc.blobs import BlobStore
from hub_svc.catalog import Catalog
from hub_svc.config import HubSettings
from hub_svc.http import build_app
from hub_svc.servicer import HubServicer
from lingua.v1 import hub_pb2, hub_pb2_grpc
from lingua_common.grpc_server import ServiceServer, wait_for_signal
from lingua_common.http_server import EmbeddedHttpServer
from lingua_common.signing import Signer, load_signer

log = logging.getLogger(__name__)


class HubServer:
    def __init__(self, settings: HubSettings) -> None:
        self.settings = settings
        self.signer: Signer | None = load_signer(settings.signing_key) if settings.signing_key else None
        self.catalog = Catalog(settings.db_url(), self.signer)
        self.blobs = BlobStore(Path(settings.data_dir) / "blobs")
        self.grpc = ServiceServer([hub_pb2.DESCRIPTOR.services_by_name["ModelHub"].full_name],
                                  max_message_mb=settings.max_message_mb)
        servicer = HubServicer(settings, self.catalog, self.blobs)
        self.grpc.add(lambda s: hub_pb2_grpc.add_ModelHubServicer_to_server(servicer, s))
        self._http = EmbeddedHttpServer(build_app(settings, self.catalog, self.blobs), settings.host,
                                        settings.http_port)
        self.grpc_port = self.http_port = 0

    async def start(self) -> None:
        self.grpc_port = await self.grpc.start(f"{self.settings.host}:{self.settings.grpc_port}")
        self.http_port = await self._http.start()
        log.info("hub listening: gRPC %d, HTTP %d", self.grpc_port, self.http_port)
        self._report_signing()

    def _report_signing(self) -> None:
        if self.signer is None:
            log.warning("no signing key (LINGUA_HUB_SIGNING_KEY): versions are published UNSIGNED and nodes that "
                        "verify signatures refuse them; make one with `lingua hub keygen`")
            return
        unsigned, other = self.catalog.unsigned(self.signer.key_id)
        log.info("signing published versions with key %s", self.signer.key_id)
        if unsigned:
            log.warning("%d version(s) are unsigned (%s): nodes refuse them until `lingua hub sign` signs them",
                        len(unsigned), ", ".join(unsigned[:5]) + (", …" if len(unsigned) > 5 else ""))
        if other:
            log.warning("%d version(s) are signed by another key; `lingua hub sign --resign` re-signs them",
                        len(other))

    async def stop(self) -> None:
        await self._http.stop()
        await self.grpc.stop(2.0)
        self.catalog.close()


async def serve(settings: HubSettings) -> None:
    server = HubServer(settings)
    await server.start()
    print(f"hub ready: gRPC {settings.host}:{server.grpc_port}, HTTP {settings.host}:{server.http_port}", flush=True)
    await wait_for_signal()
    await server.stop()
