"""routing-admin issue-token: a token the API accepts."""

from __future__ import annotations

import pytest
from complaint_runtime.auth import verify_token
from routing.cli import main

SECRET = "test-secret-for-routing-cli-0123456789abcdef"


def test_issue_token(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("AUTH_JWT_SECRET", SECRET)
    assert (
        main(["issue-token", "--sub", "lead-zhao", "--roles", "lead,agent", "--team", "billing"])
        == 0
    )
    principal = verify_token(capsys.readouterr().out.strip(), secret=SECRET)
    assert (principal.subject, principal.team) == ("lead-zhao", "billing")
    assert principal.roles == {"lead", "agent"}
    assert main(["issue-token", "--sub", "x", "--roles", "wizard"]) == 2


def test_issue_token_needs_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_JWT_SECRET", raising=False)
    assert main(["issue-token", "--sub", "x", "--roles", "agent"]) == 2
