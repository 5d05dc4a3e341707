"""The category tree (§4) and its admin API."""
