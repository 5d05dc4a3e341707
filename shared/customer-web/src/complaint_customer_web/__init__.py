"""What the customers' pages of the platform share (intake's tracking page, feedback's survey
pages): the base layout and CSS, the shared words in zh-CN and en, the choice of language,
times shown in the customer's zone, the link cookie and CSRF tokens, security headers and
rate limits.

Customers open these pages from an e-mail or SMS, mostly on a phone and often inside
WeChat's browser, so everything here is plain server-rendered HTML with one small CSS file
and a few lines of script, served by the service itself: nothing is loaded from elsewhere
at run time. Services import this package; it imports no service.
"""
