"""The delivery log: recording what an event causes, claiming, sending once, recording the
outcome, and the log's API."""
