"""Recompute jobs: open clocks follow a policy or calendar change."""
