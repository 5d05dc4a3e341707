"""The NPS programme's pure rules: periods, the sample, the answer, refusals."""
