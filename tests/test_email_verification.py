"""Verified email addresses (issue 14, item 1).

An account made by self-service sign-up is unproven until its holder opens the link
emailed to the address. Until then it may sign in, and sees only "check your inbox": no
org page, no invitation accepted from "My invitations", no join link. Opening an
invitation's own link, or a password link, proves the address too. Changing one's address
keeps the old one until the new one is proven. Sign-up on an address that already has an
account answers exactly as for a new one.
"""

from __future__ import annotations

import re
from datetime import timedelta

import jwt
import pytest
import sqlalchemy as sa
from flask import Flask

from app.actors import Actor
from app.extensions import db
from app.models import (
    AuditEvent,
    EmailVerificationToken,
    Invitation,
    Membership,
    OutboxEmail,
    Tenant,
    TenantStatus,
    User,
    utcnow,
)
from app.services import email_verification, invitations, join_links
from tests.conftest import PASSWORD, ApiClient, Auth, CSRFClient, HtmxClient

NEW_PASSWORD = "a-new-long-password"
PENDING_PAGE = "/t/acme/account/verify"


# --- helpers -----------------------------------------------------------------------------


def _mail(app: Flask, *, to: str, kind: str | None = None) -> list[OutboxEmail]:
    with app.app_context():
        stmt = sa.select(OutboxEmail).where(OutboxEmail.to_address == to)
        if kind is not None:
            stmt = stmt.where(OutboxEmail.kind == kind)
        return list(db.session.scalars(stmt.order_by(OutboxEmail.id)))


def _verification_link(app: Flask, to: str) -> str:
    """The path of the newest verification link emailed to ``to``."""
    [*_, email] = _mail(app, to=to, kind="email_verification")
    match = re.search(
        r"https?://[^/\s]+(/t/[a-z0-9-]+/account/confirm/[A-Za-z0-9_-]+)", email.text_body
    )
    assert match, email.text_body
    assert match.group(0) in email.html_body
    return match.group(1)


def _user(app: Flask, email: str) -> User | None:
    with app.app_context():
        return db.session.scalar(sa.select(User).where(User.email == email))


def _memberships(app: Flask, user: User) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Membership).where(Membership.user_id == user.id)
        )


def _events(app: Flask, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _sign_up(client: CSRFClient, email: str, *, name: str = "New Hire", password: str = PASSWORD):
    return client.post("/t/acme/signup", data={"name": name, "email": email, "password": password})


def _invite(app: Flask, tenant: Tenant, org, inviter: User, email: str) -> tuple[Invitation, str]:
    with app.test_request_context():
        [result] = invitations.invite(
            Actor.for_user(inviter), tenant, org, addresses=[email], role="member"
        )
        db.session.commit()
        [mail] = [m for m in db.session.scalars(sa.select(OutboxEmail)) if m.to_address == email]
        link = re.search(r"/invitations/[A-Za-z0-9_-]+", mail.text_body).group(0)
        return result.invitation, link


def _age_links(app: Flask, by: timedelta) -> None:
    """Every verification link was made ``by`` earlier (the resend cooldown counts from it)."""
    with app.app_context():
        for row in db.session.scalars(sa.select(EmailVerificationToken)):
            row.created_at -= by
        db.session.commit()


def _client(app: Flask, kind: type = CSRFClient):
    app.test_client_class = kind
    return app.test_client()


def _confirm(client: CSRFClient, link: str):
    page = client.get(link)
    assert page.status_code == 200, page.get_data(as_text=True)
    assert "Confirm email address" in page.get_data(as_text=True)
    return client.post(link)


@pytest.fixture
def open_tenant(app, tenant):
    with app.app_context():
        row = db.session.get(Tenant, tenant.id)
        row.allow_signup = True
        db.session.commit()
    return tenant


@pytest.fixture
def unproven(world, create_user) -> User:
    """An account of Acme whose address was never proven."""
    return create_user(world.tenant, "new.hire@acme.example", name="Nemo", email_verified_at=None)


# --- the journey the issue describes --------------------------------------------------------


def test_a_sign_up_for_an_invited_address_sees_nothing_until_the_link_is_opened(
    app, client, auth, world, open_tenant
):
    invitation, _link = _invite(
        app, world.tenant, world.engineering, world.owner, "new.hire@acme.example"
    )

    answer = _sign_up(client, "new.hire@acme.example")
    assert answer.status_code == 200
    assert "Check your inbox" in answer.get_data(as_text=True)
    user = _user(app, "new.hire@acme.example")
    assert user is not None
    assert not user.email_verified
    assert _events(app, "user.signed_up")

    auth.login(user)  # an unproven account may sign in…
    for path in (
        "/t/acme/",
        "/t/acme/orgs/",
        "/t/acme/orgs/switch",  # where "My invitations" are listed
        f"/t/acme/orgs/{world.engineering.slug}/",
        f"/t/acme/orgs/{world.engineering.slug}/members",
        f"/t/acme/orgs/{world.engineering.slug}/invitations",
        "/t/acme/settings",
        "/t/acme/audit",
    ):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == PENDING_PAGE, path
    # … and sees only the page that says what to do.
    page = client.get("/t/acme/orgs/", follow_redirects=True).get_data(as_text=True)
    assert "Check your inbox" in page
    assert "new.hire@acme.example" in page
    assert "Resend the link" in page
    assert "Change your email address" in page
    assert "Sign out" in page
    for secret in ("Engineering", "Acme HQ", "Erin Owner", "Milo Member"):
        assert secret not in page

    # Accepting from "My invitations" is refused, by a form post and by htmx.
    accept = f"/t/acme/orgs/switch/invitations/{invitation.public_id}/accept"
    refused = client.post(accept)
    assert refused.status_code == 303
    assert refused.headers["Location"] == PENDING_PAGE
    htmx = _client(app, HtmxClient)
    Auth(app, htmx).login(user)
    swapped = htmx.post(accept)
    assert swapped.status_code == 204
    assert swapped.headers["HX-Redirect"] == PENDING_PAGE
    fragment = htmx.get("/t/acme/orgs/?q=eng")
    assert fragment.headers["HX-Redirect"] == PENDING_PAGE
    assert _memberships(app, user) == 0
    with app.app_context():
        assert db.session.get(Invitation, invitation.id).status == "pending"

    # The emailed link proves the address; then the invitation can be accepted.
    confirmed = _confirm(client, _verification_link(app, "new.hire@acme.example"))
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == "/t/acme/"
    assert _user(app, "new.hire@acme.example").email_verified
    [event] = _events(app, "user.email_verified")
    assert event.after == {"via": "link"}
    assert client.get("/t/acme/orgs/").status_code == 200
    accepted = client.post(accept)
    assert accepted.status_code == 303
    assert accepted.headers["Location"] == f"/t/acme/orgs/{world.engineering.slug}/"
    assert _memberships(app, user) == 1
    assert client.get(f"/t/acme/orgs/{world.engineering.slug}/members").status_code == 200


def test_the_service_refuses_an_unproven_account_whatever_the_door(app, app_ctx, world, unproven):
    with app.test_request_context():
        [result] = invitations.invite(
            Actor.for_user(world.owner), world.tenant, world.engineering,
            addresses=[unproven.email], role="member",
        )  # fmt: skip
        user = db.session.get(User, unproven.id)
        with pytest.raises(email_verification.EmailNotVerified):
            invitations.accept(result.invitation, user)
        link = join_links.create(
            Actor.for_user(world.owner), world.tenant, world.engineering, role="member"
        ).link
        with pytest.raises(email_verification.EmailNotVerified):
            join_links.join(link, user)


def test_no_api_operation_accepts_an_invitation_or_joins(app):
    """The JSON API acts for a tenant's key, never as an invitee: there is no door there."""
    api_rules = [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/")]
    assert api_rules
    assert not [r for r in api_rules if "accept" in r or "join" in r]


def test_every_tenant_page_answers_an_unproven_account_with_check_your_inbox(
    app, client, auth, unproven
):
    """Walks the URL map: one gate, in the tenant scope, covers every page added later."""
    from tests.test_guards import PUBLIC_TENANT_ENDPOINTS, TENANT_RULES, _answers_json, _visit

    open_ones = {
        "tenant.account.index",
        "tenant.account.update_name",
        "tenant.account.change_email",
        "tenant.account.cancel_email_change",
        "tenant.account.verify_pending",
        "tenant.account.resend",
        "tenant.access_token",  # the token says email_verified: false and names no org
    }
    auth.login(unproven)
    for rule in TENANT_RULES:
        if rule.endpoint in PUBLIC_TENANT_ENDPOINTS | open_ones:
            continue
        response = _visit(client, rule)
        if _answers_json(app, rule):
            assert response.status_code == 403, rule.rule
            assert response.json["error"]["code"] == "email_unverified"
            continue
        assert response.status_code == 303, rule.rule
        assert response.headers["Location"] == PENDING_PAGE, rule.rule


def test_an_unproven_account_cannot_use_a_domain_restricted_join_link(
    app, client, auth, world, unproven
):
    with app.test_request_context():
        made = join_links.create(
            Actor.for_user(world.owner), world.tenant, world.engineering,
            role="member", allowed_domain="acme.example",
        )  # fmt: skip
        db.session.commit()
        path = made.url.split("://", 1)[1].partition("/")[2]
    auth.login(unproven)
    page = client.get(f"/{path}").get_data(as_text=True)
    assert "Confirm your email address first" in page
    refused = client.post(f"/{path}")
    assert refused.status_code == 422
    assert email_verification.UNVERIFIED in refused.get_data(as_text=True)
    assert _memberships(app, unproven) == 0

    send = client.post("/t/acme/account/verify/resend")
    assert send.status_code == 303
    _confirm(client, _verification_link(app, unproven.email))
    joined = client.post(f"/{path}")
    assert joined.status_code == 303
    assert _memberships(app, unproven) == 1


def test_an_unproven_accounts_access_token_names_no_org(
    app, client, auth, world, unproven, add_member
):
    add_member(world.engineering, unproven, "member")  # an admin added it directly
    auth.login(unproven)
    minted = client.post("/t/acme/token")
    assert minted.status_code == 200
    claims = jwt.decode(minted.json["access_token"], options={"verify_signature": False})
    assert claims["email_verified"] is False
    assert claims["org_id"] is None
    assert claims["role"] is None
    assert claims["permissions"] == []
    assert claims["authorization"] == {}
    me = ApiClient(client).get("/self", key=minted.json["access_token"])
    assert me.status_code == 200
    assert me.json["email_verified"] is False
    assert me.json["authorization"] == {}
    assert me.json["org_id"] is None

    client.post("/t/acme/account/verify/resend")
    _confirm(client, _verification_link(app, unproven.email))
    # The same token, asked now: /self is computed now, not copied from the token.
    assert ApiClient(client).get("/self", key=minted.json["access_token"]).json["email_verified"]
    client.post("/t/acme/orgs/switch", data={"org": world.engineering.public_id})
    claims = jwt.decode(
        client.post("/t/acme/token").json["access_token"], options={"verify_signature": False}
    )
    assert claims["email_verified"] is True
    assert claims["org_id"] == world.engineering.public_id
    assert world.engineering.public_id in claims["authorization"]


# --- other links prove the address ----------------------------------------------------------


def test_signing_up_through_an_invitation_link_proves_the_address(app, world):
    _invitation, link = _invite(
        app, world.tenant, world.engineering, world.owner, "sam@example.com"
    )
    client = _client(app)
    response = client.post(f"{link}/sign-up", data={"name": "Sam", "password": NEW_PASSWORD})
    assert response.status_code == 303
    user = _user(app, "sam@example.com")
    assert user.email_verified
    assert [e.after for e in _events(app, "user.email_verified")] == [{"via": "invitation"}]
    assert client.get(f"/t/acme/orgs/{world.engineering.slug}/").status_code == 200


def test_signing_in_through_an_invitation_link_proves_an_unproven_address(
    app, client, world, unproven
):
    _invitation, link = _invite(app, world.tenant, world.engineering, world.owner, unproven.email)
    response = client.post(f"{link}/sign-in", data={"password": PASSWORD})
    assert response.status_code == 303
    assert _user(app, unproven.email).email_verified
    assert _memberships(app, unproven) == 1


def test_a_password_reset_link_proves_the_address(app, client, world, unproven):
    client.post("/t/acme/password/forgot", data={"email": unproven.email})
    [mail] = _mail(app, to=unproven.email, kind="password_reset")
    path = re.search(r"/t/acme/password/reset/[A-Za-z0-9_-]+", mail.text_body).group(0)
    assert client.post(path, data={"password": NEW_PASSWORD}).status_code == 303
    assert _user(app, unproven.email).email_verified
    [event] = _events(app, "user.email_verified")
    assert event.after == {"via": "password_reset"}


def test_an_owner_made_without_a_password_is_proven_by_the_welcome_link(app, client):
    from app.services import tenants

    with app.test_request_context():
        _tenant, owner = tenants.create_tenant(
            Actor.system("cli"), name="Initech", owner_email="boss@initech.example"
        )
        db.session.commit()
        assert not owner.email_verified
        [mail] = [
            m for m in db.session.scalars(sa.select(OutboxEmail)) if m.kind == "owner_welcome"
        ]
    path = re.search(r"/t/initech/password/reset/[A-Za-z0-9_-]+", mail.text_body).group(0)
    assert client.post(path, data={"password": NEW_PASSWORD}).status_code == 303
    assert _user(app, "boss@initech.example").email_verified


def test_an_owner_made_with_a_password_by_an_operator_is_proven(app, app_ctx):
    from app.services import tenants

    _tenant, owner = tenants.create_tenant(
        Actor.system("cli"), name="Initech", owner_email="boss@initech.example",
        owner_password=NEW_PASSWORD,
    )  # fmt: skip
    assert owner.email_verified


# --- the links themselves ------------------------------------------------------------------


def test_resending_is_limited(app, client, auth, unproven):
    auth.login(unproven)
    first = client.post("/t/acme/account/verify/resend")
    assert first.status_code == 303
    assert len(_mail(app, to=unproven.email, kind="email_verification")) == 1
    too_soon = client.post("/t/acme/account/verify/resend")
    assert too_soon.status_code == 429
    assert "less than a minute ago" in too_soon.get_data(as_text=True)
    assert len(_mail(app, to=unproven.email, kind="email_verification")) == 1

    def a_minute_passes():
        _age_links(app, timedelta(minutes=2))

    for _ in range(3):  # five asks an hour in all, a refused one included
        a_minute_passes()
        assert client.post("/t/acme/account/verify/resend").status_code == 303
    a_minute_passes()
    assert client.post("/t/acme/account/verify/resend").status_code == 429
    assert len(_mail(app, to=unproven.email, kind="email_verification")) == 4

    # Only the newest link works.
    with app.app_context():
        live = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(EmailVerificationToken)
            .where(EmailVerificationToken.used_at.is_(None))
        )
    assert live == 1


def test_a_used_an_expired_and_a_replaced_link_say_so_and_offer_another(
    app, client, auth, unproven
):
    auth.login(unproven)
    client.post("/t/acme/account/verify/resend")
    old = _verification_link(app, unproven.email)
    with app.app_context():
        db.session.execute(
            sa.update(EmailVerificationToken).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    client.post("/t/acme/account/verify/resend")
    new = _verification_link(app, unproven.email)
    replaced = client.get(old)
    assert replaced.status_code == 410
    assert "Email me a new link" in replaced.get_data(as_text=True)

    with app.app_context():
        db.session.execute(
            sa.update(EmailVerificationToken).values(expires_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
    expired = client.get(new)
    assert expired.status_code == 410
    assert client.post(new).status_code == 410
    assert not _user(app, unproven.email).email_verified

    with app.app_context():
        db.session.execute(
            sa.update(EmailVerificationToken).values(expires_at=utcnow() + timedelta(days=1))
        )
        db.session.commit()
    assert _confirm(client, new).status_code == 303
    assert client.get(new).status_code == 410  # single use
    assert client.post(new).status_code == 410
    anonymous = _client(app)
    assert "Sign in" in anonymous.get(new).get_data(as_text=True)
    assert client.get("/t/acme/account/confirm/" + "x" * 200).status_code == 410


def test_a_link_opened_signed_out_confirms_and_asks_to_sign_in(app, client, unproven):
    with app.test_request_context():
        email_verification.send_verification(unproven.tenant, db.session.get(User, unproven.id))
        db.session.commit()
    response = _confirm(client, _verification_link(app, unproven.email))
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/login?email=new.hire@acme.example"
    assert _user(app, unproven.email).email_verified


def test_a_link_for_one_account_opened_while_signed_in_as_another(
    app, client, auth, world, unproven
):
    with app.test_request_context():
        email_verification.send_verification(world.tenant, db.session.get(User, unproven.id))
        db.session.commit()
    link = _verification_link(app, unproven.email)
    auth.login(world.member)
    page = client.get(link)
    assert page.status_code == 200
    assert "This link is for another account" in page.get_data(as_text=True)
    assert client.post(link).status_code == 409
    assert not _user(app, unproven.email).email_verified

    switched = client.post(f"{link}/switch-account")
    assert switched.status_code == 303
    assert switched.headers["Location"] == link
    assert client.get("/t/acme/orgs/").status_code == 302  # signed out
    assert _confirm(client, link).status_code == 303
    assert _user(app, unproven.email).email_verified


def test_a_deactivated_account_or_a_suspended_tenant_gets_no_confirmation(
    app, client, world, unproven
):
    with app.test_request_context():
        email_verification.send_verification(world.tenant, db.session.get(User, unproven.id))
        db.session.commit()
    link = _verification_link(app, unproven.email)
    with app.app_context():
        db.session.get(User, unproven.id).is_active_account = False
        db.session.commit()
    assert client.get(link).status_code == 410
    with app.app_context():
        db.session.get(User, unproven.id).is_active_account = True
        db.session.get(Tenant, world.tenant.id).status = TenantStatus.SUSPENDED
        db.session.commit()
    assert client.get(link).status_code == 403
    assert client.post(link).status_code == 403
    assert not _user(app, unproven.email).email_verified


# --- answering alike -----------------------------------------------------------------------


def test_sign_up_with_a_taken_address_answers_like_a_new_one_and_tells_the_address(
    app, world, open_tenant
):
    def sign_up(email: str) -> tuple[int, str]:
        client = _client(app)
        response = _sign_up(client, email, password="another-password-1")
        body = response.get_data(as_text=True).replace(email, "<address>")
        body = re.sub(
            r'name="csrf_token" value="[^"]+"|"X-CSRFToken": "[^"]+"|data-csrf-token="[^"]+"',
            "",
            body,
        )
        assert client.get("/t/acme/orgs/").status_code == 302  # signed in neither time
        return response.status_code, body

    users_before = _count_users(app)
    taken = sign_up("milo@acme.example")
    fresh = sign_up("brand.new@acme.example")
    assert taken == fresh
    assert "already exists" not in taken[1]
    assert _count_users(app) == users_before + 1

    [note] = _mail(app, to="milo@acme.example")
    assert note.kind == "signup_existing"
    assert "sign in" in note.text_body.lower()
    assert "/t/acme/password/forgot" in note.text_body
    assert "/account/confirm/" not in note.text_body
    [link] = _mail(app, to="brand.new@acme.example")
    assert link.kind == "email_verification"
    with app.app_context():
        milo = db.session.get(User, world.member.id)
        assert milo.name == "Milo Member"
        assert milo.password_hash == world.member.password_hash

    for _ in range(5):  # a few notes a day at most
        sign_up("milo@acme.example")
    assert len(_mail(app, to="milo@acme.example")) == email_verification.SIGNUP_NOTICES_PER_DAY


def _count_users(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


# --- changing one's address ------------------------------------------------------------------


def test_changing_the_address_keeps_the_old_one_until_the_new_one_is_proven(
    app, client, auth, world
):
    milo = world.member
    auth.login(milo)
    page = client.get("/t/acme/account")
    assert page.status_code == 200
    assert "milo@acme.example" in page.get_data(as_text=True)
    assert 'href="/t/acme/account"' in client.get("/t/acme/orgs/").get_data(as_text=True)

    wrong = client.post(
        "/t/acme/account/email", data={"email": "milo@new.example", "password": "not-it-at-all"}
    )
    assert wrong.status_code == 422
    html = wrong.get_data(as_text=True)
    assert 'id="password-error"' in html
    assert email_verification.WRONG_PASSWORD in html.replace("&#39;", "'")
    assert not _mail(app, to="milo@new.example")

    asked = client.post(
        "/t/acme/account/email", data={"email": "Milo@New.example", "password": PASSWORD}
    )
    assert asked.status_code == 303
    assert _user(app, "milo@acme.example") is not None  # still the old address
    [notice] = _mail(app, to="milo@acme.example", kind="email_change_notice")
    assert "milo@new.example" in notice.text_body
    account = client.get("/t/acme/account").get_data(as_text=True)
    assert "We sent a link to <strong>milo@new.example</strong>" in account
    # The account stays usable meanwhile: its address is the old, proven one.
    assert client.get(f"/t/acme/orgs/{world.engineering.slug}/").status_code == 200

    link = _verification_link(app, "milo@new.example")
    confirm_page = client.get(link).get_data(as_text=True)
    assert "instead of milo@acme.example" in confirm_page
    done = client.post(link)
    assert done.status_code == 303
    assert _user(app, "milo@acme.example") is None
    changed = _user(app, "milo@new.example")
    assert changed.id == milo.id
    assert changed.email_verified
    [event] = _events(app, "user.email_changed")
    assert event.before == {"email": "milo@acme.example"}
    assert event.after == {"email": "milo@new.example"}
    assert _events(app, "user.email_change_requested")
    assert client.get(link).status_code == 410


def test_changing_to_an_address_another_account_has_reveals_nothing_and_is_refused_later(
    app, client, auth, world
):
    auth.login(world.member)

    def ask(email: str):
        response = client.post("/t/acme/account/email", data={"email": email, "password": PASSWORD})
        flashed = client.get("/t/acme/account").get_data(as_text=True)
        return response.status_code, flashed.replace(email, "<address>")

    taken_answer = ask("vic@acme.example")  # Vic's
    link = _verification_link(app, "vic@acme.example")
    with app.app_context():
        db.session.execute(
            sa.update(EmailVerificationToken).values(created_at=utcnow() - timedelta(minutes=5))
        )
        db.session.commit()
    free_answer = ask("free@acme.example")
    assert taken_answer[0] == free_answer[0] == 303
    assert "Check the inbox of <address>" in taken_answer[1]
    assert "Check the inbox of <address>" in free_answer[1]

    # Opening the first link (asked again, so it is the newest) changes nothing.
    ask("vic@acme.example")
    link = _verification_link(app, "vic@acme.example")
    refused = client.post(link)
    assert refused.status_code == 409
    assert "belongs to another account" in refused.get_data(as_text=True)
    assert _user(app, "milo@acme.example").id == world.member.id
    assert _user(app, "vic@acme.example").id == world.viewer.id
    assert client.post(link).status_code == 410  # spent


def test_the_account_page_changes_the_name_and_fixes_a_mistyped_address(
    app, client, auth, unproven
):
    auth.login(unproven)
    renamed = client.post("/t/acme/account/name", data={"name": "  Nemo   Newname "})
    assert renamed.status_code == 303
    assert _user(app, unproven.email).name == "Nemo Newname"
    empty = client.post("/t/acme/account/name", data={"name": ""})
    assert empty.status_code == 422
    assert 'id="name-error"' in empty.get_data(as_text=True)

    # An unproven address is not told (it may be a stranger's): only the new one gets mail.
    asked = client.post(
        "/t/acme/account/email", data={"email": "nemo@acme.example", "password": PASSWORD}
    )
    assert asked.status_code == 303
    assert not _mail(app, to=unproven.email, kind="email_change_notice")
    pending = client.get(PENDING_PAGE).get_data(as_text=True)
    assert "nemo@acme.example" in pending
    _confirm(client, _verification_link(app, "nemo@acme.example"))
    user = _user(app, "nemo@acme.example")
    assert user is not None
    assert user.email_verified
    assert client.get("/t/acme/orgs/").status_code == 200


def test_an_email_change_must_follow_the_tenants_domain_rule(app, client, auth, world):
    with app.app_context():
        db.session.get(Tenant, world.tenant.id).signup_email_domains = ["acme.example"]
        db.session.commit()
    auth.login(world.member)
    refused = client.post(
        "/t/acme/account/email", data={"email": "milo@elsewhere.example", "password": PASSWORD}
    )
    assert refused.status_code == 422
    assert 'id="email-error"' in refused.get_data(as_text=True)
