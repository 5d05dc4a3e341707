"""Pure rules of customers' replies: reply addresses, the reply's text, bounce reports."""
