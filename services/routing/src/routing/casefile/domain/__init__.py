"""The case file's pure rules: search terms, list cursors and filters, who sees a case, and
the SLA clocks as routing projects them."""
