"""The SMS channel's Prometheus metrics (the runtime's registry, served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter

RECEIPTS = Counter(
    "notify_sms_receipts_total",
    "SMS delivery receipts pushed by the provider, by outcome (recorded; repeated: already "
    "recorded, nothing changed; unknown: no delivery holds the provider's message id)",
    ["outcome"],
)
