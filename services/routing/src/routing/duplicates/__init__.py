"""Duplicates and repeats (§4): the customer index, linking copies, closing them."""
