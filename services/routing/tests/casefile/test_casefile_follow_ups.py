"""A complaint opened because its customer wrote after the reopen window names the one it
follows up, and that one lists it: the link shows both ways in the case file."""

from __future__ import annotations

import httpx

from .conftest import MANAGER, Receive


async def test_the_case_file_links_a_follow_up_both_ways(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    old = await receive()
    new = await receive(related_complaint_id=old, subject="Re: 退款迟迟未到账")
    unrelated = await receive()
    old_file = (await client.get(f"/v1/cases/{old}", headers=MANAGER)).json()
    new_file = (await client.get(f"/v1/cases/{new}", headers=MANAGER)).json()
    assert old_file["related_complaint_id"] is None
    assert old_file["related_complaint"] is None
    assert [link["complaint_id"] for link in old_file["follow_ups"]] == [new]
    assert old_file["follow_ups"][0]["reference"] == new_file["reference"]
    assert new_file["related_complaint_id"] == old
    assert new_file["related_complaint"]["reference"] == old_file["reference"]
    assert new_file["follow_ups"] == []
    other = (await client.get(f"/v1/cases/{unrelated}", headers=MANAGER)).json()
    assert (other["related_complaint"], other["follow_ups"]) == (None, [])


async def test_a_follow_up_of_a_complaint_routing_never_saw_keeps_the_id(
    client: httpx.AsyncClient, receive: Receive
) -> None:
    missing = "0195a011-2b3c-7d4e-8f50-61728394a5b6"
    new = await receive(related_complaint_id=missing)
    case_file = (await client.get(f"/v1/cases/{new}", headers=MANAGER)).json()
    assert (case_file["related_complaint_id"], case_file["related_complaint"]) == (missing, None)
