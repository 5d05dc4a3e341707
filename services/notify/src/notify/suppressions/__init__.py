"""Bounces and unsubscribes, recorded per recipient key and channel, and the rule the
preparer applies before a send: :func:`suppression_for` (the reason a message must not
go, or None) and :func:`is_non_transactional` (whether it carries an unsubscribe link)."""

from notify.suppressions.domain.rules import is_non_transactional, suppression_applies
from notify.suppressions.service import suppression_for

__all__ = ["is_non_transactional", "suppression_applies", "suppression_for"]
