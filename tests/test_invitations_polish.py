"""Issue 15's invitations: Resend for expired invitations (12), dead links that say why
and offer the way on (12), an invitee's decline credited to them (13), revokes that ask
on a page without JavaScript (10), and form messages that match their hints (15)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import (
    ActorType,
    AuditEvent,
    Invitation,
    InvitationStatus,
    JoinLink,
    Organization,
    OutboxEmail,
    Tenant,
    TenantStatus,
    utcnow,
)
from app.services import invitations, join_links
from tests.conftest import CSRFClient
from tests.markup import find_form, one, select, text_of

BASE = "/t/acme/orgs/engineering/invitations"
HX = {"HX-Request": "true"}
ADDRESS = "newcomer@example.com"


# --- helpers -----------------------------------------------------------------------------


def _invite(app, world, email: str = ADDRESS) -> Invitation:
    """An invitation to Engineering from Erin, its owner."""
    with app.test_request_context():
        [result] = invitations.invite(
            Actor.for_user(world.owner),
            world.tenant,
            world.engineering,
            addresses=[email],
            role="member",
        )
        db.session.commit()
        return result.invitation


def _links_for(app, email: str) -> list[str]:
    """The invitation links emailed to ``email``, oldest first (from the outbox)."""
    with app.app_context():
        bodies = db.session.scalars(
            sa.select(OutboxEmail.text_body)
            .where(OutboxEmail.to_address == email, OutboxEmail.kind == "invitation")
            .order_by(OutboxEmail.id)
        )
        return [re.search(r"/invitations/[^\s/]+", body).group(0) for body in bodies]


def _change(app, model, row_id: int, **fields) -> None:
    with app.app_context():
        row = db.session.get(model, row_id)
        for key, value in fields.items():
            setattr(row, key, value)
        db.session.commit()


def _expire(app, invitation: Invitation) -> None:
    _change(app, Invitation, invitation.id, expires_at=utcnow() - timedelta(minutes=1))


def _reload(app, invitation: Invitation) -> Invitation:
    with app.app_context():
        return db.session.get(Invitation, invitation.id)


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _fresh_client(app) -> CSRFClient:
    app.test_client_class = CSRFClient
    return app.test_client()  # type: ignore[return-value]


def _page(response) -> str:
    return response.get_data(as_text=True)


# --- 12: Resend on an expired invitation -------------------------------------------------


def test_resending_an_expired_invitation_mails_a_new_link_and_kills_the_old(
    app, client, auth, world
):
    invitation = _invite(app, world)
    _expire(app, invitation)
    [old_link] = _links_for(app, ADDRESS)
    assert client.get(old_link).status_code == 410

    auth.login(world.admin)
    listing = _page(client.get(f"{BASE}?status=expired"))
    row = one(listing, f"tr#invitation-{invitation.public_id}")
    assert "Expired" in row.text
    form = find_form(row.html, action=f"{BASE}/{invitation.public_id}/resend")
    assert form.one("button").text == "Resend"

    response = client.post(f"{BASE}/{invitation.public_id}/resend", headers=HX)
    assert response.status_code == 200
    assert "Sent again with a new link" in _page(response)

    revived = _reload(app, invitation)
    assert revived.status == InvitationStatus.PENDING
    assert revived.expires_at > utcnow() + timedelta(days=6)
    old, new = _links_for(app, ADDRESS)  # a second email, with its own link
    assert old == old_link
    assert new != old_link
    visitor = _fresh_client(app)
    assert visitor.get(old_link).status_code == 410
    assert visitor.get(new).status_code == 200
    assert "Accept invitation" in _page(visitor.get(new))

    [event] = _events(app, "invitation.resent")
    assert event.actor_id == world.admin.public_id
    assert event.target_id == invitation.public_id
    assert (event.before, event.after) == ({"status": "expired"}, {"status": "pending"})


def test_resending_an_expired_invitation_without_htmx_says_so(app, client, auth, world):
    invitation = _invite(app, world)
    _expire(app, invitation)
    auth.login(world.admin)
    response = client.post(f"{BASE}/{invitation.public_id}/resend")
    assert response.status_code == 303
    assert f"Sent the invitation to {ADDRESS} again" in _page(client.get(BASE))


def test_resending_is_refused_to_someone_who_may_not_invite(app, client, auth, world):
    invitation = _invite(app, world)
    _expire(app, invitation)
    auth.login(world.member)  # Milo: a member of Engineering, without members:invite
    response = client.post(f"{BASE}/{invitation.public_id}/resend", headers=HX)
    assert response.status_code == 403
    assert len(_links_for(app, ADDRESS)) == 1  # no second email
    assert _reload(app, invitation).effective_status(utcnow()) == InvitationStatus.EXPIRED
    assert _events(app, "invitation.resent") == []


def test_resending_counts_toward_the_inviters_hourly_limit(app, client, auth, world, monkeypatch):
    invitation = _invite(app, world)
    _expire(app, invitation)
    monkeypatch.setattr(invitations, "PER_INVITER_PER_HOUR", 0)
    auth.login(world.admin)
    response = client.post(f"{BASE}/{invitation.public_id}/resend", headers=HX)
    assert response.status_code == 429
    assert "too many invitations this hour" in _page(response)
    assert len(_links_for(app, ADDRESS)) == 1


@pytest.mark.parametrize("since", ["joined", "invited again"])
def test_an_expired_invitation_is_not_revived_when_it_is_moot(
    app, client, auth, world, create_user, add_member, since
):
    invitation = _invite(app, world)
    _expire(app, invitation)
    if since == "joined":
        add_member(world.engineering, create_user(world.tenant, ADDRESS))
        message = "has joined Engineering since"
    else:
        _invite(app, world)
        message = "has a newer invitation to Engineering waiting"
    auth.login(world.admin)
    response = client.post(f"{BASE}/{invitation.public_id}/resend", headers=HX)
    assert response.status_code == 409
    assert message in _page(response)
    assert _reload(app, invitation).effective_status(utcnow()) == InvitationStatus.EXPIRED


@pytest.mark.parametrize("state", ["accepted", "declined", "revoked"])
def test_an_answered_invitation_is_not_resent(app, client, auth, world, state):
    invitation = _invite(app, world)
    _change(app, Invitation, invitation.id, status=state)
    auth.login(world.admin)
    response = client.post(f"{BASE}/{invitation.public_id}/resend", headers=HX)
    assert response.status_code == 409
    page = _page(response)
    assert f"This invitation was {state}" in page
    assert "Conflict" not in page


# --- 12: dead links say why, and offer the way on ----------------------------------------


def _heading(html: str) -> str:
    return text_of(html, "h1")


def _way_on(html: str) -> list[tuple[str, str]]:
    return [(a.text, a["href"]) for a in select(html, ".dead-link a[role=button]")]


@pytest.mark.parametrize(
    ("reason", "heading", "advice"),
    [
        ("expired", "This invitation has expired", "Ask Erin Owner to send you a new one."),
        ("revoked", "This invitation was withdrawn", "Erin Owner withdrew it"),
        ("accepted", "This invitation was accepted already", "An invitation works once."),
        ("declined", "This invitation was declined", "ask Erin Owner to invite you again"),
        ("org deleted", "Engineering no longer exists", "It was deleted"),
    ],
)
def test_each_dead_invitation_link_says_why_and_offers_sign_in(app, world, reason, heading, advice):
    invitation = _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    if reason == "expired":
        _expire(app, invitation)
    elif reason == "org deleted":
        _change(app, Organization, world.engineering.id, deleted_at=utcnow())
    else:
        _change(app, Invitation, invitation.id, status=reason)
    visitor = _fresh_client(app)
    response = visitor.get(link)
    assert response.status_code == 410
    html = _page(response)
    assert _heading(html) == heading
    assert advice in text_of(html, ".dead-link")
    sign_in = "/t/acme/login"
    if reason == "accepted":  # whoever accepted it signs in to the org
        sign_in += "?next=/t/acme/orgs/engineering/"
    assert _way_on(html) == [("Sign in to Acme", sign_in)]
    assert "Accept invitation" not in html
    # The forms the page once had answer the same way.
    assert visitor.post(f"{link}/decline").status_code == 410


def test_a_link_of_an_unknown_or_replaced_invitation(app, world):
    _invite(app, world)
    visitor = _fresh_client(app)
    html = _page(visitor.get("/invitations/not-a-token-anyone-was-sent"))
    assert _heading(html) == "This invitation link doesn't work"
    assert "only the link in the newest email works" in html
    assert _way_on(html) == []  # no workspace to sign in to: the link names none


def test_a_suspended_workspace_says_only_that(app, world):
    _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    _change(app, Tenant, world.tenant.id, status=TenantStatus.SUSPENDED)
    html = _page(_fresh_client(app).get(link))
    assert _heading(html) == "This workspace isn't available"
    assert "Engineering" not in text_of(html, "main")


def test_right_after_accepting_the_link_says_you_are_in(app, world):
    _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    visitor = _fresh_client(app)
    signed_up = visitor.post(
        f"{link}/sign-up", data={"name": "New Comer", "password": "long-enough-pw"}
    )
    assert signed_up.status_code == 303

    response = visitor.get(link)
    assert response.status_code == 410  # the link is spent; the page is the member's way in
    html = _page(response)
    assert _heading(html) == "You're already in Engineering"
    assert "You accepted this invitation" in html
    assert _way_on(html) == [("Go to Engineering", "/t/acme/orgs/engineering/")]


def test_a_dead_link_offers_the_org_to_someone_already_in_it(app, client, auth, world):
    invitation = _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    _change(app, Invitation, invitation.id, status=InvitationStatus.REVOKED)
    auth.login(world.member)
    html = _page(client.get(link))
    assert _heading(html) == "This invitation was withdrawn"
    assert _way_on(html) == [("Go to Engineering", "/t/acme/orgs/engineering/")]


def test_a_dead_link_opened_while_signed_in_to_another_workspace(
    app, client, auth, world, create_tenant, create_user
):
    invitation = _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    _expire(app, invitation)
    other = create_tenant("Globex", slug="globex")
    auth.login(create_user(other, "someone@globex.example"))
    html = _page(client.get(link))
    assert _heading(html) == "This invitation has expired"
    assert "You're signed in to Globex; this link belongs to Acme." in text_of(html, ".dead-link")
    assert _way_on(html) == [("Sign in to Acme", "/t/acme/login")]


def _join_link(app, world, **fields) -> tuple[JoinLink, str]:
    with app.test_request_context():
        made = join_links.create(
            Actor.for_user(world.owner), world.tenant, world.engineering, role="member"
        )
        for key, value in fields.items():
            setattr(made.link, key, value)
        db.session.commit()
        return made.link, made.url.replace("http://localhost", "")


@pytest.mark.parametrize(
    ("fields", "heading", "advice"),
    [
        ({"revoked_at": utcnow()}, "This join link was withdrawn", "Erin Owner withdrew it"),
        (
            {"expires_at": utcnow() - timedelta(days=1)},
            "This join link has expired",
            "Ask Erin Owner to send you a new one.",
        ),
        (
            {"max_uses": 1, "uses": 1},
            "This join link has been used up",
            "Ask Erin Owner for a new link.",
        ),
    ],
    ids=["revoked", "expired", "used-up"],
)
def test_each_dead_join_link_says_why_and_offers_sign_in(app, world, fields, heading, advice):
    _link, path = _join_link(app, world, **fields)
    response = _fresh_client(app).get(path)
    assert response.status_code == 410
    html = _page(response)
    assert _heading(html) == heading
    assert advice in text_of(html, ".dead-link")
    assert _way_on(html) == [("Sign in to Acme", "/t/acme/login")]


def test_an_unknown_join_link(app):
    html = _page(_fresh_client(app).get("/join/no-such-link"))
    assert _heading(html) == "This join link doesn't work"


def test_a_live_join_link_tells_a_member_they_are_in_already(app, client, auth, world):
    _link, path = _join_link(app, world)
    auth.login(world.member)
    html = _page(client.get(path))
    assert "You're already in Engineering" in html
    assert one(html, "article a[role=button]")["href"] == "/t/acme/orgs/engineering/"
    assert "Join Engineering as" not in html


# --- 13: the invitee's decline is theirs -------------------------------------------------


def test_a_decline_without_an_account_is_credited_to_the_invited_address(app, world):
    invitation = _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    assert _fresh_client(app).post(f"{link}/decline").status_code == 200
    [event] = _events(app, "invitation.declined")
    assert (event.actor_type, event.actor_label) == (ActorType.USER, ADDRESS)
    assert event.target_id == invitation.public_id
    assert "anonymous" not in event.actor_label


def test_a_signed_in_invitees_decline_is_credited_to_their_account(
    app, client, auth, world, create_user
):
    invitee = create_user(world.tenant, ADDRESS)
    _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    auth.login(invitee)
    assert client.post(f"{link}/decline").status_code == 200
    [event] = _events(app, "invitation.declined")
    assert (event.actor_type, event.actor_id, event.actor_label) == (
        ActorType.USER,
        invitee.public_id,
        ADDRESS,
    )


# --- 10: revokes ask on a page of their own without JavaScript ---------------------------


def test_revoking_an_invitation_without_javascript_asks_on_a_page_first(app, client, auth, world):
    invitation = _invite(app, world)
    auth.login(world.admin)
    url = f"{BASE}/{invitation.public_id}/revoke"
    listing = _page(client.get(BASE))
    revoke = one(listing, f"tr#invitation-{invitation.public_id} a[role=button]")
    assert (revoke.text, revoke["href"], revoke["hx-post"]) == ("Revoke", url, url)

    page = client.get(url)  # what the link opens without JavaScript
    assert page.status_code == 200
    html = _page(page)
    assert _heading(html) == "Revoke invitation"
    assert f"Revoke the invitation to {ADDRESS}?" in html
    form = find_form(html, action=url)
    assert form["method"] == "post"
    assert form.one("button[type=submit]").text == "Revoke invitation"
    assert one(html, ".confirm-page a")["href"] == BASE
    # Looking changes nothing.
    assert _reload(app, invitation).status == InvitationStatus.PENDING
    assert _events(app, "invitation.revoked") == []

    done = client.post(url)
    assert done.status_code == 303
    assert _reload(app, invitation).status == InvitationStatus.REVOKED
    # Opening the page again, once revoked, has nothing to ask.
    assert client.get(url).headers["Location"] == BASE


def test_revoking_a_join_link_without_javascript_asks_on_a_page_first(app, client, auth, world):
    link, _path = _join_link(app, world)
    auth.login(world.admin)
    url = f"{BASE}/links/{link.public_id}/revoke"
    page = client.get(url)
    assert page.status_code == 200
    html = _page(page)
    assert _heading(html) == "Revoke join link"
    assert "adds people to Engineering as Member" in html
    assert find_form(html, action=url).one("button[type=submit]").text == "Revoke join link"
    with app.app_context():
        assert db.session.get(JoinLink, link.id).revoked_at is None
    assert _events(app, "join_link.revoked") == []

    assert client.post(url).status_code == 303
    with app.app_context():
        assert db.session.get(JoinLink, link.id).revoked_at is not None


def test_the_confirmation_pages_are_for_inviters_only(app, client, auth, world):
    invitation = _invite(app, world)
    link, _path = _join_link(app, world)
    auth.login(world.member)
    assert client.get(f"{BASE}/{invitation.public_id}/revoke").status_code == 403
    assert client.get(f"{BASE}/links/{link.public_id}/revoke").status_code == 403
    auth.logout("acme")
    auth.login(world.admin)
    assert client.get(f"{BASE}/inv_nope/revoke").status_code == 404
    assert client.get(f"{BASE}/links/jl_nope/revoke").status_code == 404


# --- 12, 15: the join link's copy button; the pages' wording -----------------------------


def test_a_new_join_link_comes_with_a_copy_button(client, auth, world):
    auth.login(world.admin)
    html = _page(client.post(f"{BASE}/links", data={"role": "member"}))
    button = one(html, "button[data-copy]")
    assert button["data-copy"] == "#new-join-link"
    assert "hidden" in button.attrs  # app.js shows it where copying works
    assert one(html, "input#new-join-link")["value"].startswith("http://localhost/join/")


def test_the_sign_up_forms_messages_match_its_hint(app, world):
    _invite(app, world)
    [link] = _links_for(app, ADDRESS)
    visitor = _fresh_client(app)
    assert "At least 10 characters." in _page(visitor.get(link))
    response = visitor.post(f"{link}/sign-up", data={"name": "", "password": "short"})
    assert response.status_code == 422
    html = _page(response)
    assert "Use at least 10 characters." in html
    assert "Enter your name." in html
    assert "Field must be" not in html
    assert "This field is required" not in html


def test_the_invite_summary_counts_in_the_plural(client, auth, world):
    auth.login(world.admin)
    html = _page(
        client.post(
            f"{BASE}/new",
            data={"emails": "nope, @nah, one@example.com", "role": "member"},
        )
    )
    assert "<strong>2</strong> invalid addresses" in html
    assert "<strong>1</strong> invited" in html
