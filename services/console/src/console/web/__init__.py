"""The HTML side every page shares (API layer): rendering templates with the reader's
locale, the session's user and CSRF token, error pages, security headers."""
