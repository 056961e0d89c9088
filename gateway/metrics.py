"""Prometheus metrics of the gateway (served at /metrics on its HTTP port)."""

from prometheus_client import Counter, Gauge, Histogram

# door: rest | websocket | grpc_web | grpc; outcome: OK or the ErrorCode name.
REQUESTS = Counter("lingua_gateway_requests_total", "Calls through the gateway by front door and outcome",
                   ["door", "outcome"])
LATENCY = Histogram("lingua_gateway_request_seconds", "Unary call latency through the gateway", ["door"],
                    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 120))
SESSIONS = Gauge("lingua_gateway_sessions", "Open external sessions by front door", ["door"])
