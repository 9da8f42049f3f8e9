"""Invitations from the invitee's side: the emailed link, sign up or in, accept, decline."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import Invitation, Membership, OutboxEmail, User, utcnow
from app.services import invitations
from tests.conftest import PASSWORD, CSRFClient


@pytest.fixture
def org(tenant, create_org, owner, add_member):
    made = create_org(tenant, "Research")
    add_member(made, owner, "owner")
    return made


def _invite(app, tenant, org, owner, *emails, role="member"):
    with app.test_request_context():
        results = invitations.invite(
            Actor.for_user(owner),
            tenant,
            org,
            addresses=list(emails),
            role=role,
            message="Come and <b>help</b>!",
        )
        db.session.commit()
        links = [
            re.search(r"/invitations/\S+", e.text_body).group(0)
            for e in db.session.scalars(sa.select(OutboxEmail).order_by(OutboxEmail.id))
        ]
    return results, links


def _fresh_client(app) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()


def test_stranger_signs_up_through_the_link_and_lands_in_the_org(app, tenant, org, owner):
    results, [link] = _invite(app, tenant, org, owner, "new.person@example.com")
    assert [r.outcome for r in results] == ["invited"]
    client = _fresh_client(app)
    page = client.get(link).get_data(as_text=True)
    for expected in ("Olive", "Research", "Acme"):
        assert expected in page
    assert 'value="new.person@example.com" readonly' in page
    response = client.post(
        f"{link}/sign-up", data={"name": "New Person", "password": "long-enough-pw"}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/orgs/research/"
    assert client.get("/t/acme/").headers["Location"] == "/t/acme/orgs/research/"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "new.person@example.com"))
        membership = db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))
        assert membership.role == "member"
    assert client.get(link).status_code == 410  # single use


def test_existing_user_signs_in_and_accepts(app, tenant, org, owner, create_user):
    create_user(tenant, "known@example.com")
    _, [link] = _invite(app, tenant, org, owner, "known@example.com")
    client = _fresh_client(app)
    assert "Sign in and accept" in client.get(link).get_data(as_text=True)
    wrong = client.post(f"{link}/sign-in", data={"password": "nope-nope-nope"})
    assert wrong.status_code == 422
    ok = client.post(f"{link}/sign-in", data={"password": PASSWORD})
    assert ok.status_code == 303


def test_signed_in_as_someone_else_is_refused_and_stays_pending(
    app, tenant, org, owner, create_user
):
    create_user(tenant, "invited@example.com")
    _, [link] = _invite(app, tenant, org, owner, "invited@example.com")
    client = _fresh_client(app)
    client.post("/t/acme/login", data={"email": owner.email, "password": PASSWORD})
    page = client.get(link).get_data(as_text=True)
    assert "Sign out and continue as invited@example.com" in page
    assert client.post(f"{link}/accept").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.status)) == "pending"
    assert client.post(f"{link}/switch-account").status_code == 303
    assert "Sign in and accept" in client.get(link).get_data(as_text=True)


def test_decline(app, tenant, org, owner):
    _, [link] = _invite(app, tenant, org, owner, "nope@example.com")
    client = _fresh_client(app)
    assert client.post(f"{link}/decline").status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.status)) == "declined"
    assert client.get(link).status_code == 410


@pytest.mark.parametrize(
    ("state", "heading"),
    [
        ("revoked", "This invitation was withdrawn"),
        ("expired", "This invitation has expired"),
        ("superseded", "This invitation link doesn't work"),
        ("tampered", "This invitation link doesn't work"),
        ("unknown", "This invitation link doesn't work"),
    ],
)
def test_every_dead_link_says_why_on_a_plain_page(app, tenant, org, owner, state, heading):
    _, [link] = _invite(app, tenant, org, owner, "x@example.com")
    with app.test_request_context():
        invitation = db.session.scalar(sa.select(Invitation))
        if state == "revoked":
            invitations.revoke(Actor.for_user(owner), tenant, org, invitation)
        elif state == "expired":
            invitation.expires_at = utcnow() - timedelta(seconds=1)
        elif state == "superseded":
            invitations.resend(Actor.for_user(owner), tenant, org, invitation)
        db.session.commit()
    if state == "tampered":
        link = link[:-3] + "xyz"
    if state == "unknown":
        link = "/invitations/nothing-like-a-token"
    client = _fresh_client(app)
    response = client.get(link)
    assert response.status_code == 410
    assert f"<h1>{heading}</h1>" in response.get_data(as_text=True).replace("&#39;", "'")
    assert (
        client.post(f"{link}/sign-up", data={"name": "X", "password": "long-enough-pw"}).status_code
        == 410
    )


def test_bulk_invite_reports_each_address(app, tenant, org, owner, create_user, add_member):
    member = create_user(tenant, "already@example.com")
    add_member(org, member, "member")
    _invite(app, tenant, org, owner, "pending@example.com")
    results, _ = _invite(
        app, tenant, org, owner,
        "fresh@example.com", "already@example.com", "pending@example.com", "not-an-email",
        "FRESH@example.com",
    )  # fmt: skip
    outcomes = {r.address: r.outcome for r in results}
    assert outcomes == {
        "fresh@example.com": "invited",
        "already@example.com": "already a member",
        "pending@example.com": "already invited",
        "not-an-email": "invalid address",
    }


def test_email_escapes_the_message_and_names_the_parties(app, tenant, org, owner):
    _invite(app, tenant, org, owner, "x@example.com")
    with app.app_context():
        email = db.session.scalar(sa.select(OutboxEmail))
    assert email.subject == "Olive invited you to Research on Acme"
    assert "Come and &lt;b&gt;help&lt;/b&gt;!" in email.html_body
    assert "Accept invitation" in email.html_body
    assert "expires on" in email.text_body
