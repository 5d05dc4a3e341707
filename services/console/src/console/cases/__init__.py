"""The case page: the conversation, the case's properties and clocks, the composer, and
the actions (first response, reply, ask the customer, resume, internal note, resolve,
transfer, recategorise), each posted to routing with the user's own token."""
