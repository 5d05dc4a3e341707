"""SLA clocks: arming, stopping, pausing, resuming, next-response clocks, the facts that
change clocks, rescheduling, and the read API."""
