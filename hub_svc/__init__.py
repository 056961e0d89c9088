"""hub_svc."""
