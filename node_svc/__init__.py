"""node_svc."""
