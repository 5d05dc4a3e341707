"""What the survey and NPS integration tests share: a complaint worked to its resolution
through intake and routing, the links of the real e-mails, an NPS round opened through
feedback's internal API, the pages' forms as a browser posts them."""

from __future__ import annotations

import re
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from harness import wait_for

from conftest import Platform, agent_id

WAIT_S = 60.0
SURVEY_LINK = re.compile(r"https?://\S+/s/[\w.\-~%]+")
NPS_LINK = re.compile(r"https?://\S+/n/[\w.\-~%]+")  # the first: the page, then #opt-out
OPT_OUT_LINK = re.compile(r"https?://\S+/n/[\w.\-~%]+#opt-out")


def post_complaint(platform: Platform, *, email: str, language: str) -> dict[str, Any]:
    body = {
        "channel": "web",
        "customer": {
            "external_ref": f"survey-{uuid.uuid4().hex[:12]}",
            "name": "王芳" if language == "zh-CN" else "Alex Smith",
            "email": email,
            "language": language,
            "preferred_channel": "email",
        },
        "subject": "退款一直没有到账" if language == "zh-CN" else "Refund never arrived",
        "description": (
            "我三周前退回了电水壶，退款到现在还没有到账。"
            if language == "zh-CN"
            else "I returned the kettle three weeks ago and the refund has not arrived."
        ),
        "order_ref": f"ORD-SURVEY-{uuid.uuid4().hex[:8]}",
    }
    with platform.client() as intake:
        response = intake.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    accepted: dict[str, Any] = response.json()
    return accepted


def _view(platform: Platform, complaint_id: str) -> dict[str, Any]:
    with platform.client() as intake:
        view: dict[str, Any] = intake.get(f"/v1/complaints/{complaint_id}").json()
    return view


def resolve(platform: Platform, complaint_id: str) -> str:
    """First response and resolution by the assigned agent through routing's API; the team."""
    team: str = wait_for(
        lambda: (v := _view(platform, complaint_id))["status"] == "assigned" and v["team"],
        timeout_s=WAIT_S,
        what=f"{complaint_id} assigned",
    )
    with platform.staff_client("routing", agent_id(team), ["agent"]) as agent:
        first = agent.post(f"/v1/cases/{complaint_id}/first-response", json={})
        assert first.status_code == 200, first.text
        resolved = agent.post(
            f"/v1/cases/{complaint_id}/resolve",
            json={
                "solution_summary": "Refund re-issued and confirmed by the bank",
                "solution_type": "refund",
                "root_cause": "The refund batch skipped orders paid with vouchers",
            },
        )
        assert resolved.status_code == 200, resolved.text
    return team


def case_status(platform: Platform, complaint_id: str, team: str) -> str:
    with platform.staff_client("routing", agent_id(team), ["agent"]) as agent:
        case = agent.get(f"/v1/cases/{complaint_id}")
    assert case.status_code == 200, case.text
    return str(case.json()["status"])


def wait_case_status(platform: Platform, complaint_id: str, team: str, status: str) -> None:
    wait_for(
        lambda: case_status(platform, complaint_id, team) == status,
        timeout_s=WAIT_S,
        what=f"routing's case {complaint_id} {status}",
    )


def link_in_mail(platform: Platform, email: str, pattern: re.Pattern[str], what: str) -> str:
    def found() -> str | None:
        for mail in platform.mail.to(email):
            if match := pattern.search(mail.body):
                return match.group(0)
        return None

    link: str = wait_for(found, timeout_s=WAIT_S, what=f"{what} to {email}")
    return link


def nps_mails(platform: Platform, email: str) -> list[Any]:
    return [m for m in platform.mail.to(email) if NPS_LINK.search(m.body)]


def open_nps_round(platform: Platform, since: datetime) -> str:
    """An operator's NPS round over ``since`` until a moment from now, worked through; its
    period's key."""
    end = datetime.now(since.tzinfo) + timedelta(seconds=1)
    time.sleep(1.1)  # the window's end has passed: nothing later belongs to it
    with platform.staff_client("feedback", "ops-admin", ["admin"]) as feedback:
        opened = feedback.post(
            "/internal/v1/nps/rounds",
            json={"start": since.isoformat(), "end": end.isoformat()},
        )
        assert opened.status_code == 202, opened.text
        period = str(opened.json()["period"])
        wait_for(
            lambda: feedback.get(f"/internal/v1/nps/rounds/{period}").json()["status"] == "done",
            timeout_s=WAIT_S,
            what=f"the NPS round {period} done",
        )
    return period


def hidden_fields(html: str, action: str) -> dict[str, str]:
    forms = re.findall(
        rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html, re.S
    )
    assert forms, f"no form posting to {action}"
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', forms[0]))
