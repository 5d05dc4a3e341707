"""Outbound webhooks for integrators (issue 15, requirements §8), to the Standard Webhooks spec.

Subscriptions per event type (``api.py``, ``service.py``); every consumed event fans out to the
subscriptions that want it in the consumer's transaction (``fanout.py``, ``cache.py``); the
dispatcher (``loop.py``, ``outcomes.py``) signs and posts each delivery through a client that
only reaches checked addresses (``transport.py``), retries within a time window behind a
breaker per endpoint, and keeps the delivery log (``db.py``). Pure rules in ``domain/``.
"""
