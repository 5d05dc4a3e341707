"""The case's pure rules: the §3 state machine, who may act on a case, and the refusals."""
