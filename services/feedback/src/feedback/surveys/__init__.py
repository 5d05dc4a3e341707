"""The customer's survey page behind the confirmation link (§7): is the complaint solved,
how satisfied they are (CSAT 1–5), a comment. Built on :mod:`feedback.pages` and the
closed loop's use cases (:mod:`feedback.service`): the answer is recorded once and turned
into ``complaint.confirmed`` or ``complaint.reopened`` exactly as the JSON API does."""
