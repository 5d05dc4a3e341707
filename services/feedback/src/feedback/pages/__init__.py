"""What feedback's customer pages share: the link cookie, the language, CSRF, rate limits,
rendering with the shared customer-web package, the friendly error pages and the words.
The survey page (:mod:`feedback.surveys`) and the NPS page (:mod:`feedback.nps`) are built
on it, the way intake's tracking page is built on its own."""
