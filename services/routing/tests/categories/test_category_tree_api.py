"""The category tree and its admin API: roles, 201/204, 404/409/422, the version, and
admin keywords reaching triage through the cached classifier."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from complaint_contracts.vocabulary import CATEGORIES
from complaint_runtime.database import Database
from routing.categories.api import router
from routing.categories.domain.tree import DEFAULT_TREE
from routing.triage.classifiers import TriageClassifiers
from routing.triage.domain.classification import DEFAULT_RULES

from ..conftest import staff_auth

URL = "/v1/admin/categories"
LOCK = {
    "code": "smart_lock",
    "labels": {"zh": "智能门锁", "en": "Smart lock"},
    "keywords": ["门锁", "smart lock"],
    "weight": 3,
}


def auth(*roles: str) -> dict[str, str]:
    return staff_auth("user-1", *roles)


ADMIN = auth("admin")
LEAD = auth("lead")
MANAGER = auth("manager")
AGENT = auth("agent")


@pytest.fixture
async def client(api_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(router) as c:
        yield c


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    return body


def test_the_tree_has_the_contract_codes_and_every_rule_subcategory() -> None:
    assert tuple(node.code for node in DEFAULT_TREE.categories) == CATEGORIES
    for rule in DEFAULT_RULES:
        if rule.subcategory is not None:
            node = DEFAULT_TREE.node(rule.category)
            assert node is not None, rule.name
            assert node.subcategory(rule.subcategory) is not None, rule.name
    for node in DEFAULT_TREE.categories:
        assert node.subcategories
        assert node.labels.zh
        assert node.labels.en


async def test_read_roles(client: httpx.AsyncClient) -> None:
    for headers in (ADMIN, LEAD, MANAGER):
        response = await client.get(URL, headers=headers)
        assert response.status_code == 200
        body = response.json()
        assert body["version"] == 0
        assert [c["code"] for c in body["categories"]] == list(CATEGORIES)
    problem(await client.get(URL, headers=AGENT), 403)
    problem(await client.get(URL), 401)


async def test_only_admins_write(client: httpx.AsyncClient) -> None:
    for headers in (LEAD, MANAGER, AGENT):
        problem(
            await client.post(f"{URL}/technical_fault/subcategories", json=LOCK, headers=headers),
            403,
        )
    problem(await client.delete(f"{URL}/other/subcategories/suggestion", headers=LEAD), 403)


async def test_add_change_remove(client: httpx.AsyncClient) -> None:
    added = await client.post(f"{URL}/technical_fault/subcategories", json=LOCK, headers=ADMIN)
    assert added.status_code == 201, added.text
    assert added.json()["version"] == 1
    technical = next(c for c in added.json()["categories"] if c["code"] == "technical_fault")
    lock = next(s for s in technical["subcategories"] if s["code"] == "smart_lock")
    assert lock == {**LOCK, "labels": LOCK["labels"], "builtin": False}

    problem(
        await client.post(f"{URL}/technical_fault/subcategories", json=LOCK, headers=ADMIN), 409
    )
    builtin = {**LOCK, "code": "app_crash"}
    problem(
        await client.post(f"{URL}/technical_fault/subcategories", json=builtin, headers=ADMIN), 409
    )

    patched = await client.patch(
        f"{URL}/technical_fault/subcategories/smart_lock",
        json={"keywords": ["指纹锁"]},
        headers=ADMIN,
    )
    assert patched.status_code == 200, patched.text
    technical = next(c for c in patched.json()["categories"] if c["code"] == "technical_fault")
    lock = next(s for s in technical["subcategories"] if s["code"] == "smart_lock")
    assert lock["keywords"] == ["指纹锁"]
    assert lock["labels"] == LOCK["labels"]
    assert patched.json()["version"] == 2

    removed = await client.delete(f"{URL}/technical_fault/subcategories/smart_lock", headers=ADMIN)
    assert removed.status_code == 204
    problem(
        await client.delete(f"{URL}/technical_fault/subcategories/smart_lock", headers=ADMIN), 404
    )
    tree = (await client.get(URL, headers=LEAD)).json()
    assert tree["version"] == 3
    technical = next(c for c in tree["categories"] if c["code"] == "technical_fault")
    assert "smart_lock" not in [s["code"] for s in technical["subcategories"]]


async def test_builtin_subcategories_can_be_relabelled_not_removed(
    client: httpx.AsyncClient,
) -> None:
    problem(
        await client.delete(f"{URL}/billing_refund/subcategories/refund_delay", headers=ADMIN), 409
    )
    body = {"labels": {"zh": "退款慢", "en": "Slow refund"}, "keywords": ["钱没退"]}
    response = await client.patch(
        f"{URL}/billing_refund/subcategories/refund_delay", json=body, headers=ADMIN
    )
    assert response.status_code == 200, response.text
    billing = next(c for c in response.json()["categories"] if c["code"] == "billing_refund")
    delay = next(s for s in billing["subcategories"] if s["code"] == "refund_delay")
    assert delay["builtin"] is True
    assert delay["labels"]["en"] == "Slow refund"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", URL, {"code": "weather"}),  # a ninth top-level category
        ("post", f"{URL}/weather/subcategories", LOCK),  # unknown top-level code
        ("post", f"{URL}/other/subcategories", {**LOCK, "code": "Bad Code"}),
        ("post", f"{URL}/other/subcategories", {**LOCK, "keywords": ["  "]}),
        ("post", f"{URL}/other/subcategories", {**LOCK, "weight": 9}),
        ("post", f"{URL}/other/subcategories", {**LOCK, "keywords": ["x" * 41]}),
        ("post", f"{URL}/other/subcategories", {"code": "x1"}),
        ("post", f"{URL}/other/subcategories", {**LOCK, "labels": {"zh": "门锁", "en": "a\nb"}}),
        ("patch", f"{URL}/other/subcategories/suggestion", {"colour": "red"}),
    ],
)
async def test_bad_input_is_422(
    client: httpx.AsyncClient, method: str, path: str, body: Any
) -> None:
    response = await client.request(method, path, json=body, headers=ADMIN)
    problem(response, 422)


async def test_patch_of_an_unknown_subcategory_is_404(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        f"{URL}/other/subcategories/nope", json={"weight": 1}, headers=ADMIN
    )
    problem(response, 404)


async def test_triage_picks_up_admin_keywords_by_version(
    client: httpx.AsyncClient, database: Database
) -> None:
    provider = TriageClassifiers()
    async with database.sessions() as session:
        before = await provider.for_session(session)
        again = await provider.for_session(session)
    assert before is again  # cached while the version stands
    text = {"subject": "门锁坏了打不开", "description": "", "language": "zh-CN"}
    assert before.classify(**text).subcategory != "smart_lock"

    await client.post(f"{URL}/technical_fault/subcategories", json=LOCK, headers=ADMIN)
    async with database.sessions() as session:
        after = await provider.for_session(session)
    assert after is not before
    assert after.classify(**text).subcategory == "smart_lock"
