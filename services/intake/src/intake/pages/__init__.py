"""The customer's tracking page: the link ``/t/{token}`` and the page ``/c/{complaint_id}``
it opens (status in plain words, timeline, promised times, the conversation, a message,
withdrawal, a new link). Built from the shared customer-web package and intake's own use
cases (complaints, projection); nothing here duplicates their rules."""
