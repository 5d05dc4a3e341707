"""The survey page's pure rules: what its form accepts."""
