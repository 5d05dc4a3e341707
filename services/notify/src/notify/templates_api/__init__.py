"""The templates' catalogue and previews: which template has which channel and language,
and each version rendered with a fixed, fictitious sample (``GET /v1/templates``)."""
