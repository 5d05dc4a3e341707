"""Feedback's own Prometheus counters (the shared ones are in complaint_runtime.metrics)."""

from __future__ import annotations

from prometheus_client import Counter

REQUESTS = Counter(
    "feedback_confirmation_requests_total",
    "Confirmation requests sent to customers",
    ["defaults"],  # "true" when sent without knowing the complaint's channel and language
)
ANSWERS = Counter(
    "feedback_answers_total", "Survey answers recorded, by outcome", ["outcome", "reason"]
)
AUTO_CLOSED = Counter("feedback_auto_closed_total", "Confirmation requests that expired unanswered")
REMINDERS = Counter(
    "feedback_reminders_total", "Reminders of unanswered confirmation requests (one per request)"
)
UNREACHED = Counter(
    "feedback_requests_unreached_total",
    "Confirmation requests notify reported no channel for (the customer cannot be reached)",
)
REFUSED = Counter("feedback_answers_refused_total", "Survey answers refused, by reason", ["reason"])
MESSAGE_REOPENS = Counter(
    "feedback_message_reopens_total",
    "Closed complaints reopened by a customer message (within intake's reopen window)",
)
NPS_REQUESTS = Counter(
    "feedback_nps_requests_total",
    "NPS requests created (customers asked), per round trigger",
    ["trigger"],
)
NPS_ROUNDS = Counter("feedback_nps_rounds_total", "NPS rounds finished", ["trigger"])
NPS_ANSWERS = Counter("feedback_nps_answers_total", "NPS answers recorded, by group", ["group"])
NPS_OPT_OUTS = Counter("feedback_nps_opt_outs_total", "Customers who asked not to be asked again")
