"""sla-watch's HTTP API."""
