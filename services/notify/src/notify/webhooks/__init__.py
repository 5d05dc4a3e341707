"""Outbound webhooks for integrators (issue 15, requirements §8): building blocks, not wired yet.

This package will hold subscriptions to event types, signed deliveries to the Standard Webhooks
specification, retries over a time window, a circuit breaker per endpoint and the delivery log.
So far only its pure rules exist, in ``domain/`` (signing, SSRF rules for destinations, the
retry schedule and outcome classification, the breaker); nothing in notify's delivery loop,
API, settings or database uses them yet.
"""
