"""Routing's clients of other services' internal APIs (built in ``routing.bootstrap``)."""
