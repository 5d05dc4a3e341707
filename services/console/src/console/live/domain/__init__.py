"""Pure rules of live updates: what a change is, who sees it, how far a stream has read."""
