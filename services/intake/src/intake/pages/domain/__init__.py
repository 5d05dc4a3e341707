"""Pure rules of the tracking page: the customer's status and next step, the timeline, the
forms' checks, the rate limits' keys and the page's words."""
