"""Pure i18n rules: catalog lookups, language negotiation, date and duration formatting."""
