"""routing-admin issue-token: a staff token routing accepts, signed with a staff issuer's
key (DEV_ISSUER_SIGNING_KEY), never with a service's own."""

from __future__ import annotations

import pytest
from complaint_runtime.dev_identity import DevIdentity
from complaint_runtime.errors import Unauthorized
from routing.cli import main


def test_issue_token(
    identity: DevIdentity, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEV_ISSUER_SIGNING_KEY", identity.staff.private_jwk())
    assert (
        main(["issue-token", "--sub", "lead-zhao", "--roles", "lead,agent", "--team", "billing"])
        == 0
    )
    token = capsys.readouterr().out.strip()
    principal = identity.verifier("routing").verify(token)
    assert (principal.subject, principal.team) == ("lead-zhao", "billing")
    assert principal.roles == {"lead", "agent"}
    with pytest.raises(Unauthorized):  # for routing only, by default
        identity.verifier("sla-watch").verify(token)
    assert main(["issue-token", "--sub", "x", "--roles", "wizard"]) == 2
    assert main(["issue-token", "--sub", "x", "--roles", "service"]) == 2  # staff only


def test_issue_token_for_several_audiences(
    identity: DevIdentity, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEV_ISSUER_SIGNING_KEY", identity.staff.private_jwk())
    argv = ["issue-token", "--sub", "mgr-sun", "--roles", "manager"]
    assert main([*argv, "--audience", "routing", "--audience", "sla-watch", "--ttl-s", "60"]) == 0
    token = capsys.readouterr().out.strip()
    for audience in ("routing", "sla-watch"):
        assert identity.verifier(audience).verify(token).subject == "mgr-sun"
    with pytest.raises(Unauthorized):
        identity.verifier("intake").verify(token)


def test_issue_token_needs_a_staff_issuers_key(
    identity: DevIdentity, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["issue-token", "--sub", "x", "--roles", "agent"]
    monkeypatch.delenv("DEV_ISSUER_SIGNING_KEY", raising=False)
    assert main(argv) == 2
    assert "DEV_ISSUER_SIGNING_KEY is not set" in capsys.readouterr().err
    monkeypatch.setenv("DEV_ISSUER_SIGNING_KEY", "not a key")
    assert main(argv) == 2
    # A service's own key signs only that service: refused before anything is printed.
    monkeypatch.setenv("DEV_ISSUER_SIGNING_KEY", identity.services["routing"].private_jwk())
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "service:routing" in err
