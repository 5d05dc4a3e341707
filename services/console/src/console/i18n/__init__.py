"""The console's two languages (zh-CN, en): the message catalog, the choice of language
and the formatting of dates, times and durations. Pure rules only (``domain``)."""
