"""Email verification: the link mailed at sign-up (and on request), `email_verified` on /me,
and unverified employers kept from publishing."""

from __future__ import annotations

import httpx

from tests.support.factories import PASSWORD
from tests.support.helpers import assert_error
from tests.support.mail import Mail, link_token, wait_for

VERIFY = "Confirm your email address"
JOB = {
    "title": "Boat captain",
    "description": "Run snorkel trips to the reef off Rose Island, twice daily.",
    "location": "Nassau",
    "island": "New Providence",
    "category": "maritime_fishing",
    "employment_type": "full_time",
}


async def _register_employer(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    body = {"email": email, "password": PASSWORD, "full_name": "Ann Knowles", "role": "employer"}
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["user"]["email_verified"] is False
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_unverified_employer_drafts_but_publishes_only_after_following_the_link(
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    email = "ann@conchshack.example.com"
    headers = await _register_employer(client, email)
    company = await client.post(
        "/api/companies", json={"name": "Conch Shack", "island": "Exuma"}, headers=headers
    )
    job = {**JOB, "company_id": company.json()["id"]}

    published = await client.post("/api/jobs", json={**job, "status": "published"}, headers=headers)
    assert_error(published, 403, "EMAIL_NOT_VERIFIED")
    draft = await client.post("/api/jobs", json=job, headers=headers)
    assert draft.status_code == 201
    publish = await client.post(f"/api/jobs/{draft.json()['id']}/publish", headers=headers)
    assert_error(publish, 403, "EMAIL_NOT_VERIFIED")
    assert (await client.get("/api/jobs")).json()["items"] == []

    mail.worker()
    [message] = await wait_for(lambda: mail.received(VERIFY))
    assert message["To"] == email
    confirm = await client.post(
        "/api/auth/verify-email/confirm", json={"token": link_token(message, "verify-email")}
    )
    assert confirm.status_code == 204
    me = await client.get("/api/auth/me", headers=headers)
    assert me.json()["email_verified"] is True

    publish = await client.post(f"/api/jobs/{draft.json()['id']}/publish", headers=headers)
    assert publish.status_code == 200, publish.text

    again = await client.post(
        "/api/auth/verify-email/confirm", json={"token": link_token(message, "verify-email")}
    )
    assert_error(again, 400, "INVALID_TOKEN")


async def test_a_new_link_on_request_and_the_request_is_limited(
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    headers = await _register_employer(client, "bo@exuma.example.com")
    statuses = [
        (await client.post("/api/auth/verify-email/request", headers=headers)).status_code
        for _ in range(6)
    ]
    assert statuses == [202] * 5 + [429]
    mail.worker()
    # One at sign-up and five asked for; the newest link works like any other.
    messages = await wait_for(lambda: len(found := mail.received(VERIFY)) == 6 and found)
    confirm = await client.post(
        "/api/auth/verify-email/confirm", json={"token": link_token(messages[-1], "verify-email")}
    )
    assert confirm.status_code == 204
    assert (await client.get("/api/auth/me", headers=headers)).json()["email_verified"] is True
    assert (
        await client.post("/api/auth/verify-email/request")
    ).status_code == 401  # signed in only


async def test_changing_the_address_takes_the_password_and_the_new_address_confirmed(
    client: httpx.AsyncClient,
    mail: Mail,
) -> None:
    old, new = "cleo@example.com", "cleo@newmail.example.com"
    headers = await _register_employer(client, old)
    taken = await _register_employer(client, "taken@example.com")
    assert taken

    wrong = {"password": "not my password", "new_email": new}
    assert_error(await client.post("/api/auth/change-email", json=wrong, headers=headers), 403)
    clash = {"password": PASSWORD, "new_email": "TAKEN@example.com"}
    assert_error(await client.post("/api/auth/change-email", json=clash, headers=headers), 409)
    asked = {"password": PASSWORD, "new_email": new}
    response = await client.post("/api/auth/change-email", json=asked, headers=headers)
    assert response.status_code == 202, response.text
    # Nothing changes until the new address is confirmed.
    assert (await client.get("/api/auth/me", headers=headers)).json()["email"] == old

    mail.worker()
    [link] = await wait_for(lambda: mail.received(VERIFY, to=new))
    await wait_for(lambda: mail.received(to=old, contains="being changed"))
    confirm = await client.post(
        "/api/auth/verify-email/confirm", json={"token": link_token(link, "verify-email")}
    )
    assert confirm.status_code == 204
    me = (await client.get("/api/auth/me", headers=headers)).json()
    assert (me["email"], me["email_verified"]) == (new, True)
    await wait_for(lambda: mail.received(to=old, contains="was changed"))

    assert (
        await client.post("/api/auth/login", json={"email": new, "password": PASSWORD})
    ).status_code == 200
    assert (
        await client.post("/api/auth/login", json={"email": old, "password": PASSWORD})
    ).status_code == 401
    # The sign-up link to the old address died with the change.
    [signup] = mail.received(VERIFY, to=old)
    stale = await client.post(
        "/api/auth/verify-email/confirm", json={"token": link_token(signup, "verify-email")}
    )
    assert_error(stale, 400, "INVALID_TOKEN")
