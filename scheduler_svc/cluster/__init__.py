"""Several scheduler instances sharing state in Redis (state_url redis://…); memory:// needs none of this.

presence (who is alive) · nodeview (everyone's nodes) · reservations (slots, atomic) · jobs (lifecycle,
atomic) · inbox (streams between instances) · sessions (resume anywhere) · relay (owner-side
bookkeeping) · bridge (ties them to the Mesh).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scheduler_svc.cluster.bridge import ClusterBridge
    from scheduler_svc.config import SchedulerSettings
    from scheduler_svc.mesh import Mesh


def connect(settings: SchedulerSettings, mesh: Mesh) -> ClusterBridge | None:
    """The cluster bridge for settings.state_url, or None for memory:// (one instance, no Redis)."""
    if settings.state_url.startswith("memory://"):
        return None
    from redis.asyncio import Redis

    from scheduler_svc.cluster.bridge import ClusterBridge
    from scheduler_svc.cluster.presence import auto_instance_id

    redis = Redis.from_url(settings.state_url)
    return ClusterBridge(settings, mesh, redis, settings.instance_id or auto_instance_id())
