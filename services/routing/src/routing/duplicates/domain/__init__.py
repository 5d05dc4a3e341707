"""Duplicates and repeats of §4, as pure rules over a customer's earlier complaints."""
