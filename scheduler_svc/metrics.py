"""Prometheus metrics of the scheduler (served on its metrics port at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

JOBS = Counter("lingua_scheduler_jobs_total", "Utterance outcomes by kind", ["outcome"])
REDISPATCHES = Counter("lingua_scheduler_redispatches_total", "Job attempts re-dispatched", ["reason"])
DISPATCH_LATENCY = Histogram(
    "lingua_scheduler_dispatch_seconds", "Utterance received to job sent to a node",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25, 1, 5, 10),
)
NODES = Gauge("lingua_scheduler_nodes", "Nodes by state", ["state"])
SESSIONS = Gauge("lingua_scheduler_sessions", "Open sessions")
QUEUE_DEPTH = Gauge("lingua_scheduler_queue_depth", "Jobs waiting for a free node slot")
REORDER_WAITS = Counter("lingua_scheduler_result_timeouts_total", "Indices given up by reorder buffers")
