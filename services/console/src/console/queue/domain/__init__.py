"""Pure rules of the queues: filters as routing's list parameters, and a list row."""
