"""GET /v1/templates and GET /v1/templates/{name}/preview: for admins, managers and leads;
what does not exist is a 404 problem naming what does, a malformed query a 422 problem."""

from __future__ import annotations

import dataclasses
import shutil
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from complaint_runtime.dev_identity import DevIdentity
from fastapi import FastAPI
from notify.bootstrap import Dependencies
from notify.config import NotifySettings
from notify.main import create_app
from notify.messages.domain.planning import TEMPLATES
from notify.messages.rendering import TEMPLATE_DIR, Renderer

PROBLEM = "application/problem+json"
Auth = Callable[..., dict[str, str]]


@pytest.fixture
async def app(tmp_path: Path, identity: DevIdentity) -> AsyncIterator[FastAPI]:
    settings = NotifySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/notify.db",
        **{k.lower(): v for k, v in identity.env("notify").items()},
    )
    app = create_app(settings)
    yield app
    deps: Dependencies = app.state.dependencies
    await deps.internal_api.aclose()
    await deps.database.dispose()


@pytest.fixture
def auth(identity: DevIdentity) -> Auth:
    def headers(*roles: str) -> dict[str, str]:
        token = identity.token(subject="someone", roles=list(roles), audience="notify")
        return {"Authorization": f"Bearer {token}"}

    return headers


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://notify")


@pytest.mark.parametrize("role", ["admin", "manager", "lead"])
async def test_the_catalogue_lists_every_template(app: FastAPI, auth: Auth, role: str) -> None:
    async with _client(app) as client:
        response = await client.get("/v1/templates", headers=auth(role))
    assert response.status_code == 200
    templates = response.json()["templates"]
    assert [t["name"] for t in templates] == list(TEMPLATES)
    ack = templates[0]
    assert ack == {
        "name": "acknowledgement",
        "audience": "customer",
        "channels": [
            {"channel": "email", "languages": ["zh-CN", "en"]},
            {"channel": "sms", "languages": ["zh-CN", "en"]},
        ],
        "languages": ["zh-CN", "en"],
    }


@pytest.mark.parametrize(
    ("headers", "status"), [({}, 401), ({"role": "agent"}, 403), ({"role": "auditor"}, 403)]
)
async def test_only_admins_managers_and_leads_read_templates(
    app: FastAPI, auth: Auth, headers: dict[str, str], status: int
) -> None:
    sent = auth(headers["role"]) if headers else {}
    async with _client(app) as client:
        listed = await client.get("/v1/templates", headers=sent)
        shown = await client.get("/v1/templates/acknowledgement/preview", headers=sent)
    assert (listed.status_code, shown.status_code) == (status, status)


async def test_previews_of_each_channel(app: FastAPI, auth: Auth) -> None:
    async with _client(app) as client:
        mail = await client.get("/v1/templates/acknowledgement/preview", headers=auth("lead"))
        sms = await client.get(
            "/v1/templates/agent_reply/preview",
            params={"lang": "en", "channel": "sms"},
            headers=auth("admin"),
        )
        robot = await client.get(
            "/v1/templates/sla_breach/preview",
            params={"lang": "zh-CN", "channel": "robot"},
            headers=auth("manager"),
        )
    assert mail.status_code == 200
    assert set(mail.json()) == {"template", "language", "channel", "subject", "body"}
    assert mail.json()["language"] == "zh-CN"
    assert "C-20261123-000042" in mail.json()["subject"]
    assert sms.status_code == 200
    body = sms.json()
    assert set(body) == {"template", "language", "channel", "text", "params", "segments"}
    assert body["text"].startswith("New reply on your complaint C-20261123-000042, read it at ")
    assert set(body["params"]) == {"reference", "link"}
    assert body["segments"] == {"count": 1, "encoding": "GSM-7", "units": len(body["text"])}
    assert robot.status_code == 200
    notice = robot.json()
    assert set(notice) == {"template", "language", "channel", "title", "lines", "severity"}
    assert notice["title"] == "SLA 超时：C-20261123-000042"
    assert notice["severity"] == "critical"
    assert "团队：billing" in notice["lines"]


async def test_an_unknown_template_is_a_404_problem(app: FastAPI, auth: Auth) -> None:
    async with _client(app) as client:
        response = await client.get("/v1/templates/no_such/preview", headers=auth("admin"))
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["templates"] == list(TEMPLATES)


async def test_a_channel_or_language_the_template_lacks_is_a_404_naming_what_exists(
    app: FastAPI, auth: Auth
) -> None:
    async with _client(app) as client:
        channel = await client.get(
            "/v1/templates/acknowledgement/preview",
            params={"channel": "robot"},
            headers=auth("admin"),
        )
        language = await client.get(
            "/v1/templates/acknowledgement/preview",
            params={"lang": "fr", "channel": "sms"},
            headers=auth("admin"),
        )
    assert channel.status_code == 404
    assert channel.headers["content-type"].startswith(PROBLEM)
    assert channel.json()["channels"] == ["email", "sms"]
    assert language.status_code == 404
    assert language.json()["languages"] == ["zh-CN", "en"]
    assert "zh-CN, en" in language.json()["detail"]


async def test_a_missing_file_is_a_404_not_a_500(app: FastAPI, auth: Auth, tmp_path: Path) -> None:
    copy = tmp_path / "templates"
    shutil.copytree(TEMPLATE_DIR, copy)
    (copy / "en" / "sms" / "resolution.txt").unlink()
    deps: Dependencies = app.state.dependencies
    app.state.dependencies = dataclasses.replace(deps, renderer=Renderer(copy))
    async with _client(app) as client:
        response = await client.get(
            "/v1/templates/resolution/preview",
            params={"lang": "en", "channel": "sms"},
            headers=auth("admin"),
        )
    assert response.status_code == 404
    assert response.json()["languages"] == ["zh-CN"]


@pytest.mark.parametrize(
    "params", [{"channel": "fax"}, {"lang": "zh CN"}, {"lang": "x" * 40}, {"lang": ""}]
)
async def test_a_malformed_query_is_a_422_problem(
    app: FastAPI, auth: Auth, params: dict[str, str]
) -> None:
    async with _client(app) as client:
        response = await client.get(
            "/v1/templates/acknowledgement/preview", params=params, headers=auth("admin")
        )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
