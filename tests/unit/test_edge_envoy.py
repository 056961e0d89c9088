"""gateway/envoy/envoy.yaml (the production edge) parsed into Envoy's own types and checked against the ports
and routes the gateway, the schedulers and the wire-compat adapter really serve."""

from __future__ import annotations

import copy
import datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import GatewaySettings
from gateway.http_app import HttpLimits, routes
from lingua_cli.up import scheduler_processes
from tests.helpers.envoy_config import connection_manager, load, read_yaml
from wirecompat.config import CompatSettings

EDGE = Path(__file__).resolve().parents[2] / "gateway" / "envoy" / "envoy.yaml"
ZERO = datetime.timedelta(0)
# Paths that carry a stream for as long as a conversation or a node lives.
STREAMS = ["/lingua.v1.SessionService/Converse", "/lingua.v1.SessionService/Subscribe",
           "/lingua.v1.NodeService/Connect", "/v1/stream", "/ws/session", "/ws/node"]


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return read_yaml(EDGE)


@pytest.fixture(scope="module")
def edge(raw: dict[str, Any]) -> Any:
    return load(raw)


def _route_for(edge: Any, path: str) -> Any:
    """The route Envoy picks for `path`: the first whose exact path or prefix matches."""
    for vh in connection_manager(edge).route_config.virtual_hosts:
        for route in vh.routes:
            if route.match.path == path or (route.match.prefix is not None and path.startswith(route.match.prefix)):
                return route
    raise AssertionError(f"no route for {path}")


def _endpoints(edge: Any, cluster_name: str) -> list[str]:
    [cluster] = [c for c in edge.static_resources.clusters if c.name == cluster_name]
    return [f"{e.endpoint.address.socket_address.address}:{e.endpoint.address.socket_address.port_value}"
            for group in cluster.load_assignment.endpoints for e in group.lb_endpoints]


def test_a_broken_edge_config_is_refused(raw: dict[str, Any]) -> None:
    broken = copy.deepcopy(raw)
    broken["static_resources"]["clusters"][0]["lb_policy"] = "FASTEST"
    with pytest.raises((KeyError, ValueError, TypeError)):
        load(broken)
    unknown_filter = copy.deepcopy(raw)
    filters = unknown_filter["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    filters["typed_config"]["http_filters"][0]["typed_config"]["@type"] = \
        "type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWebNope"
    with pytest.raises((KeyError, ValueError, TypeError, AttributeError)):
        load(unknown_filter)


def test_grpc_web_and_cors_run_before_the_router(edge: Any) -> None:
    names = [f.name for f in connection_manager(edge).http_filters]
    assert names == ["envoy.filters.http.grpc_web", "envoy.filters.http.cors", "envoy.filters.http.router"]
    [vh] = connection_manager(edge).route_config.virtual_hosts
    cors = vh.typed_per_filter_config["envoy.filters.http.cors"].unpack()
    for header in ("authorization", "x-grpc-web", "content-type"):
        assert header in cors.allow_headers
    for header in ("grpc-status", "grpc-message", "retry-after"):
        assert header in cors.expose_headers


def test_every_api_reaches_the_process_that_serves_it_on_its_documented_port(edge: Any) -> None:
    gateway, compat = GatewaySettings(), CompatSettings()
    assert _endpoints(edge, "gateway_http") == [f"127.0.0.1:{gateway.http_port}"]
    assert _endpoints(edge, "gateway_grpc") == [f"127.0.0.1:{gateway.grpc_port}"]
    assert _endpoints(edge, "compat") == [f"127.0.0.1:{compat.port}"]
    assert _endpoints(edge, "schedulers") == [
        s.address for s in scheduler_processes({}, 50051, 9101, 3, "redis://127.0.0.1:6379/0")]
    for method in ("OpenSession", "Converse", "Subscribe", "Translate"):
        assert _route_for(edge, f"/lingua.v1.SessionService/{method}").route.cluster == "gateway_grpc"
    assert _route_for(edge, "/lingua.v1.TenantAdmin/CreateTenant").route.cluster == "gateway_grpc"
    assert _route_for(edge, "/lingua.v1.NodeService/Connect").route.cluster == "schedulers"
    assert _route_for(edge, "/ws/node").route.cluster == "compat"
    # Every path the gateway's HTTP app serves (its routes, plus the web client at /) goes to its HTTP port.
    for r in routes(_NoDoor(), HttpLimits()):  # type: ignore[arg-type]
        path = getattr(r, "path", "")
        if path.startswith("/lingua.v1."):
            continue  # the gateway's own grpc-web; at the edge Envoy's grpc_web filter serves those paths
        assert _route_for(edge, path).route.cluster == "gateway_http", path
    assert _route_for(edge, "/").route.cluster == "gateway_http"
    assert _route_for(edge, "/ws/session").route.cluster == "gateway_http"


def test_streams_are_never_cut_by_a_timeout_and_websockets_upgrade(edge: Any) -> None:
    manager = connection_manager(edge)
    assert manager.stream_idle_timeout == ZERO
    assert [u.upgrade_type for u in manager.upgrade_configs] == ["websocket"]
    for path in STREAMS:
        route = _route_for(edge, path).route
        assert route.timeout == ZERO and route.idle_timeout == ZERO, path
    # A unary REST translation may take the gateway's whole request timeout, and a little more.
    translate = _route_for(edge, "/v1/speech/translate").route
    assert translate.timeout > datetime.timedelta(seconds=GatewaySettings().request_timeout_s)


def test_every_upstream_is_health_checked_and_grpc_ones_speak_http2(edge: Any) -> None:
    for cluster in edge.static_resources.clusters:
        [check] = cluster.health_checks
        assert check.grpc_health_check is not None or check.http_health_check is not None, cluster.name
        if cluster.name in ("gateway_grpc", "schedulers"):
            assert check.grpc_health_check is not None
            options = cluster.typed_extension_protocol_options[
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].unpack()
            assert options.explicit_http_config.http2_protocol_options.connection_keepalive is not None
    [gateway_http] = [c for c in edge.static_resources.clusters if c.name == "gateway_http"]
    assert gateway_http.health_checks[0].http_health_check.path == "/healthz"


class _NoDoor:
    """routes() only closes over the door; listing the paths never calls it."""
