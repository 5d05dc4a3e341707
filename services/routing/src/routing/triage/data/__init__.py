"""The labelled complaints shipped with routing (package data, read with importlib)."""
