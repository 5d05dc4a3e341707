"""The customer's survey page and the NPS programme through every service, real Kafka, real
PostgreSQL and a real SMTP server. A complaint is resolved through routing's API; the
survey e-mail's link opens the page (the secret goes into a cookie, the address keeps
none), the customer answers through the HTML form (CSRF token, Post/Redirect/Get), a
repeat changes nothing, and routing closes the case. An NPS round is opened over the
test's seconds through feedback's internal API: notify mails the invitation with the
page's link and "don't ask me again", the customer scores through the page, and after
opting out a later round does not ask them again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from survey_flows import (
    NPS_LINK,
    OPT_OUT_LINK,
    SURVEY_LINK,
    hidden_fields,
    link_in_mail,
    nps_mails,
    open_nps_round,
    post_complaint,
    resolve,
    wait_case_status,
)

from conftest import Platform


def _browser(platform: Platform) -> httpx.Client:
    """A client that keeps cookies and, like a browser, resolves the pages' own paths."""
    return httpx.Client(
        base_url=platform.services["feedback"].url, timeout=15, follow_redirects=False
    )


def _open(client: httpx.Client, link: str) -> httpx.Response:
    """What a browser does with the link: the redirect (the cookie), then the page."""
    opened = client.get(link)
    assert opened.status_code == 303, opened.text
    location = opened.headers["location"]
    assert link.rsplit("/", 1)[1] not in location  # the secret left the address
    assert "HttpOnly" in opened.headers["set-cookie"]
    page = client.get(location)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    return page


def _post_form(
    client: httpx.Client, page: httpx.Response, action: str, fields: dict[str, str]
) -> httpx.Response:
    return client.post(action, data={**hidden_fields(page.text, action), **fields})


def test_the_survey_page_closes_the_complaint_and_nps_asks_once(platform: Platform) -> None:
    started = datetime.now(UTC)
    email = f"survey.page.{started.strftime('%H%M%S%f')}@example.com"
    accepted = post_complaint(platform, email=email, language="en")
    complaint_id = accepted["id"]
    team = resolve(platform, complaint_id)

    link = link_in_mail(platform, email, SURVEY_LINK, "the survey e-mail")
    assert link.startswith(platform.services["feedback"].url + "/s/")
    with _browser(platform) as browser:
        page = _open(browser, link)
        assert '<html lang="en">' in page.text  # the customer's language
        action = page.url.path
        assert action.startswith("/survey/")
        # Out of range: a clear message on the page, nothing stored.
        refused = _post_form(browser, page, action, {"solved": "yes", "csat": "9"})
        assert refused.status_code == 422
        assert "Satisfaction is 1 to 5" in refused.text
        # Without the page's CSRF token: refused, nothing applied.
        forged = browser.post(action, data={"solved": "no", "csat": "1"})
        assert forged.status_code == 403
        sent = _post_form(
            browser, page, action, {"solved": "yes", "csat": "5", "comment": "Quick, thanks"}
        )
        assert sent.status_code == 303
        thanks = browser.get(sent.headers["location"])
        assert "Your complaint is closed" in thanks.text
        again = _post_form(browser, page, action, {"solved": "no", "csat": "1"})
        assert again.status_code == 303  # a repeat: the same confirmation, nothing changed
        assert "Your complaint is closed" in browser.get(again.headers["location"]).text
    wait_case_status(platform, complaint_id, team, "closed")
    json_view = httpx.get(link, headers={"Accept": "application/json"}, timeout=10).json()
    assert (json_view["answered"], json_view["outcome"]) == (True, "confirmed")

    # The NPS round over this test's seconds: the customer is asked once.
    period = open_nps_round(platform, started)
    nps_link = link_in_mail(platform, email, NPS_LINK, "the NPS invitation")
    [invitation] = nps_mails(platform, email)
    assert accepted["reference"] in invitation.subject
    opt_out_link = OPT_OUT_LINK.search(invitation.body)
    assert opt_out_link is not None
    assert opt_out_link.group(0) == f"{nps_link}#opt-out"
    with _browser(platform) as browser:
        page = _open(browser, nps_link)
        assert page.text.count('name="score"') == 11
        action = page.url.path
        assert _post_form(browser, page, action, {"score": "11"}).status_code == 422
        scored = _post_form(browser, page, action, {"score": "10", "comment": "Great people"})
        assert scored.status_code == 303
        assert "We received your score (10)" in browser.get(scored.headers["location"]).text
        assert _post_form(browser, page, action, {"score": "0"}).status_code == 303  # repeat
        out = _post_form(browser, page, f"{action}/opt-out", {})
        assert out.status_code == 303
        shown = browser.get(out.headers["location"].split("#")[0])
        assert "we will not invite you to this survey again" in shown.text
    answered: dict[str, Any] = httpx.get(
        nps_link, headers={"Accept": "application/json"}, timeout=10
    ).json()
    assert (answered["score"], answered["opted_out"], answered["period"]) == (10, True, period)

    # Another round over the same closure (another period key): the customer opted out.
    second = open_nps_round(platform, started - timedelta(seconds=1))
    assert second != period
    platform.mail.wait_quiet(quiet_s=3.0, timeout_s=60)  # what notify had to send went out
    assert len(nps_mails(platform, email)) == 1

    # The links' secrets never reached a log line.
    for name in ("feedback", "notify"):
        log = platform.services[name].log_path.read_text(encoding="utf-8", errors="replace")
        for secret in (link.rsplit("/", 1)[1], nps_link.rsplit("/", 1)[1]):
            assert secret not in log, name
