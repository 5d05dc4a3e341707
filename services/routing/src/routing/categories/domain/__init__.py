"""The category tree of §4 as data: eight fixed top-level codes and their sub-categories."""
