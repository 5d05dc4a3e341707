"""Customers' replies to notifications (e-mail through notify's SMTP endpoint, SMS through
the provider's push) become customer messages on the complaint in intake.

For the preparer: :meth:`ReplyAddressing.reply_address` (Reply-To of a customer e-mail)
and :meth:`ReplyAddressing.unsubscribe_url` (List-Unsubscribe of a non-transactional one),
on ``Dependencies.replies.addressing``."""

from notify.replies.addressing import ReplyAddressing, reply_key

__all__ = ["ReplyAddressing", "reply_key"]
