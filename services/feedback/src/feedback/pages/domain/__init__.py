"""The pages' pure rules: what a form accepts, which limits count, the words."""
