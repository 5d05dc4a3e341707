"""Pure rules of outbound webhooks (no I/O): signing, destinations, retry schedule, breaker."""
