"""The case page's pure rules: the SLA badge, the view of a case file (the conversation
woven with the history), which actions a case offers whom, the forms' checks and
routing's refusals mapped onto fields, a stale form's changes, routing's capabilities and
problems."""

from __future__ import annotations

from typing import Any

import pytest
from complaint_runtime.errors import Conflict, Forbidden, InvalidInput, NotFound
from console.backends.domain.capabilities import NONE, capabilities_of
from console.backends.domain.problems import BackendUnavailable, SignInRequired, error_of, kind_of
from console.cases.domain.actions import available_actions, case_tools, escalation_levels
from console.cases.domain.case_view import case_view
from console.cases.domain.contact import contact_of
from console.cases.domain.forms import FieldProblem, check_text, clean, problems_of
from console.cases.domain.sla_badge import clock_badge, sla_badge
from console.cases.domain.staleness import changes_since
from console_support import case_file


@pytest.mark.parametrize(
    ("state", "percent", "left", "level"),
    [
        ("on_track", None, 5000, "ok"),
        ("on_track", 25, 5000, "ok"),
        ("at_risk", None, 3000, "warning"),  # the list's at-risk without a percent
        ("at_risk", 50, 3000, "warning"),
        ("at_risk", 75, 1000, "warning"),
        ("at_risk", 90, 300, "danger"),
        ("on_track", None, -10, "danger"),  # overdue, the breach not reported yet
        ("breached", 90, -600, "breached"),
        ("paused", 50, None, "paused"),
        ("stopped", None, None, "none"),
        (None, None, None, "none"),
    ],
)
def test_the_sla_level(
    state: str | None, percent: int | None, left: int | None, level: str
) -> None:
    badge = sla_badge(state=state, warned_percent=percent, seconds_left=left)
    assert badge.level == level
    assert badge.label_key == f"sla.level.{level}"
    if level in ("paused", "none"):
        assert badge.seconds_left is None


def test_a_clock_s_badge() -> None:
    assert (
        clock_badge(state="running", breached=False, warned_percent=None, seconds_left=99).level
        == "ok"
    )
    assert (
        clock_badge(state="running", breached=True, warned_percent=90, seconds_left=-5).level
        == "breached"
    )
    assert (
        clock_badge(state="stopped", breached=False, warned_percent=75, seconds_left=None).level
        == "none"
    )
    assert (
        clock_badge(state="paused", breached=False, warned_percent=None, seconds_left=None).level
        == "paused"
    )


def test_the_conversation_is_the_complaint_then_messages_and_history_by_time() -> None:
    view = case_view(case_file())
    kinds = [(e.kind, e.subtype) for e in view.conversation]
    assert kinds[0] == ("customer", "description")
    assert ("staff", "first_response") in kinds
    assert ("customer", "customer_message") in kinds
    assert ("note", "note") in kinds
    assert ("system", "escalated") in kinds
    # a message's own history entry is not repeated as an event
    assert ("system", "first_response_sent") not in kinds
    assert ("system", "received") not in kinds
    times = [e.at for e in view.conversation[1:]]
    assert times == sorted(times)  # type: ignore[type-var]
    assert view.last_customer_message_id == "msg-1"
    assert view.version == 7
    assert view.sla.level == "danger"
    assert [c.metric for c in view.clocks] == ["first_response", "resolution"]


def test_a_case_file_of_an_older_routing_or_an_erased_case_still_renders() -> None:
    bare: dict[str, Any] = {"complaint_id": "x", "reference": "C-1", "status": "assigned"}
    view = case_view(bare)
    assert view.version is None
    assert view.conversation[0].text is None
    assert view.clocks == ()
    erased = case_view(case_file(texts_erased_at="2026-12-01T00:00:00+00:00", description=None))
    assert erased.erased


AGENT = {"roles": {"agent"}, "subject": "agent-billing", "team": "billing"}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("assigned", {"first_response", "transfer", "note"}),
        ("reopened", {"first_response", "transfer", "note"}),
        ("in_progress", {"reply", "ask", "resolve", "transfer", "note"}),
        ("awaiting_customer", {"resume", "transfer", "note"}),
        ("resolved", {"transfer", "note"}),
        ("closed", set()),
        ("received", {"note"}),
    ],
)
def test_the_actions_of_each_state(status: str, expected: set[str]) -> None:
    offered = available_actions(
        status=status, case_team="billing", case_assignee="agent-billing", notes=True, **AGENT
    )
    assert offered == expected


def test_who_may_act() -> None:
    def offered(**who: Any) -> frozenset[str]:
        return available_actions(
            status="in_progress", case_team="billing", case_assignee="agent-billing",
            notes=False, **who,
        )  # fmt: skip

    assert offered(roles={"agent"}, subject="agent-other", team="billing") == frozenset()
    assert "recategorize" in offered(roles={"lead"}, subject="lead-billing", team="billing")
    assert offered(roles={"lead"}, subject="lead-quality", team="quality") == frozenset()
    assert "recategorize" in offered(roles={"manager"}, subject="m", team=None)
    assert "recategorize" not in offered(roles={"agent"}, subject="agent-billing", team="billing")


def test_the_console_s_own_checks() -> None:
    assert check_text("message", "", limit=10) == [FieldProblem("message", "required")]
    assert check_text("message", "   ", limit=10) == [FieldProblem("message", "required")]
    assert check_text("message", "x" * 11, limit=10) == [
        FieldProblem("message", "too_long", limit=10)
    ]
    assert check_text("message", "", limit=10, required=False) == []
    assert clean({"a": " x ", "b": "  ", "c": None}) == {"a": "x"}


def test_routing_s_field_errors_map_onto_the_form() -> None:
    found = problems_of(
        [
            {"field": "root_cause", "code": "missing", "detail": "root_cause is required"},
            {"field": "message", "code": "string_too_long", "detail": "too long"},
            {"field": "If-Match", "code": "invalid_if_match", "detail": "one case version"},
            {"field": "", "code": "x"},
        ]
    )
    assert found["root_cause"].key == "required"
    assert found["message"].key == "too_long"
    assert found["If-Match"].key is None
    assert found["If-Match"].detail == "one case version"
    assert set(found) == {"root_cause", "message", "If-Match"}


def test_a_stale_case_s_changes() -> None:
    changes = changes_since(
        {
            "changes": [
                {"action": "reassigned", "actor": "lead-billing", "at": "2026-12-06T05:30:00Z"}
            ]
        }
    )
    assert changes[0].action == "reassigned"
    assert changes[0].at is not None
    assert changes[0].at.hour == 5
    assert changes_since({}) == ()


@pytest.mark.parametrize(
    ("status", "error_class"),
    [(403, Forbidden), (404, NotFound), (409, Conflict), (422, InvalidInput)],
)
def test_a_refusal_of_routing_becomes_the_domain_error(status: int, error_class: type) -> None:
    error = error_of(
        "routing",
        status,
        {
            "type": "https://docs.opencomplaints.org/problems/stale-case",
            "title": "The case changed",
            "status": status,
            "detail": "changed",
            "errors": [{"field": "x"}],
            "current_version": 8,
        },
    )
    assert isinstance(error, error_class)
    assert error.kind == "stale-case"
    assert error.detail == "changed"
    assert error.errors == [{"field": "x"}]
    assert error.extensions["current_version"] == 8


def test_outages_and_expired_tokens() -> None:
    assert isinstance(error_of("routing", 401, {}), SignInRequired)
    assert isinstance(error_of("routing", 500, {"title": "x"}), BackendUnavailable)
    assert isinstance(error_of("routing", 503, None), BackendUnavailable)
    assert isinstance(error_of("routing", 404, None), BackendUnavailable)  # not routing's answer
    assert kind_of({"type": "about:blank"}) is None


def test_routing_s_capabilities_from_its_openapi_document() -> None:
    full = capabilities_of(
        {
            "paths": {
                "/v1/cases/{id}/notes": {"post": {}},
                "/v1/canned-replies": {"get": {}},
                "/v1/tasks": {"get": {}},
            }
        }
    )
    assert full.notes
    assert full.canned_replies
    assert full.tasks
    assert not full.escalate
    assert not full.unlink_duplicate
    assert capabilities_of({"paths": {"/v1/cases": {"get": {}}}}) == NONE
    assert capabilities_of({}) == NONE
    unlink_only = capabilities_of({"paths": {"/v1/cases/{id}/duplicate-of/unlink": {"post": {}}}})
    assert unlink_only.unlink_duplicate
    assert not unlink_only.link_duplicate  # another path
    tools = capabilities_of(
        {
            "paths": {
                "/v1/cases/{complaint_id}/escalate": {"post": {}},
                "/v1/cases/{complaint_id}/duplicate-of": {"post": {}},
                "/v1/cases/{complaint_id}/contact/reveal": {"post": {}},
                "/v1/cases/{complaint_id}/x/escalate": {"post": {}},
            }
        }
    )
    assert tools.escalate
    assert tools.link_duplicate
    assert tools.reveal_contact
    assert not tools.unlink_duplicate


ALL_TOOLS = ("escalate", "link_duplicate", "unlink_duplicate", "reveal_contact")


def _tools(
    roles: tuple[str, ...],
    *,
    status: str = "in_progress",
    team: str | None = "billing",
    level: int = 0,
    duplicate: bool = False,
    offered: tuple[str, ...] = ALL_TOOLS,
) -> set[str]:
    return set(
        case_tools(
            status=status,
            roles=roles,
            team=team,
            case_team="billing",
            escalation_level=level,
            duplicate_of=duplicate,
            offered=offered,
        )
    )


def test_the_case_tools_offered_to_whom() -> None:
    assert _tools(("lead",)) == {"escalate", "link_duplicate", "reveal_contact"}
    assert _tools(("manager",), team=None, duplicate=True) == {
        "escalate",
        "unlink_duplicate",
        "reveal_contact",
    }
    assert _tools(("agent",)) == {"link_duplicate"}  # the assignee; no escalation, no contact
    assert _tools(("lead",), team="quality") == set()  # another team's lead
    assert _tools(("lead",), level=3) == {"link_duplicate", "reveal_contact"}
    assert _tools(("lead",), status="closed", duplicate=True) == {"reveal_contact"}
    assert _tools(("lead",), offered=("reveal_contact",)) == {"reveal_contact"}
    assert _tools(("manager",), status=None) == set()  # no state: nothing to offer


def test_escalation_and_the_reveal_are_the_supervisors_of_the_case_team() -> None:
    # A lead of another team who is the case's assignee acts on it as an agent only:
    # routing refuses them escalation and the contact (and a link: not their team's case).
    assert _tools(("lead",), team="quality") == set()
    assert _tools(("agent", "lead"), team="quality") == set()
    assert _tools(("lead",), team=None) == set()  # no team claim: fails closed
    assert _tools(("agent",), level=0) == {"link_duplicate"}


def test_linking_a_duplicate_mirrors_routing_may_link() -> None:
    # an agent or lead of the case's team (assigned or not), or any manager
    assert _tools(("agent",)) == {"link_duplicate"}
    assert _tools(("agent",), duplicate=True) == {"unlink_duplicate"}
    assert _tools(("agent",), team="quality") == set()
    assert _tools(("agent",), team=None) == set()
    assert _tools(("manager",), team="quality", duplicate=True) == {
        "escalate",
        "unlink_duplicate",
        "reveal_contact",
    }
    assert _tools(("agent",), status="closed") == set()
    assert _tools(("viewer",)) == set()
    assert escalation_levels(0) == (1, 2, 3)
    assert escalation_levels(2) == (3,)
    assert escalation_levels(3) == ()


def test_a_revealed_contact_never_shows_in_a_repr() -> None:
    contact = contact_of({"name": "张伟", "phone": "+8613812345678", "email": None})
    assert contact.phone == "+8613812345678"
    assert contact.preferred_channel is None
    assert "138" not in repr(contact)
    assert "138" not in repr([contact])
    assert contact_of(None).empty
