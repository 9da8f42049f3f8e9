"""View-as state lives on the server (a ``ViewAsSession`` row), not in the signed cookie.

The cookie names the row; every request checks that the row is live and belongs to the
signed-in staff account. Ending a view-as (by hand, by signing out, by starting another,
by its time running out, by the staff account being deactivated) stamps the row, so a
cookie saved before the end and replayed afterwards gets no view-as.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, StaffRole, ViewAsSession, utcnow
from tests.conftest import PASSWORD, Auth

COOKIE = "tenantry_session"
REASON = "Ticket 7: the Platform page is empty"


@pytest.fixture
def ann(world, create_user, add_member):
    user = create_user(world.tenant, "ann@acme.example", name="Ann Archer")
    add_member(world.platform, user, "member")
    return user


@pytest.fixture
def support(auth, create_staff):
    staff = create_staff(role=StaffRole.SUPPORT, email="helper@platform.example")
    auth.login_staff(staff)
    return staff


def _start(client, user, reason=REASON):
    response = client.post(f"/staff/users/{user.public_id}/view-as", data={"reason": reason})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response


def _viewing(client) -> bool:
    """Whether the client sees Acme's pages as a view-as (not the sign-in redirect)."""
    response = client.get("/t/acme/orgs/")
    return response.status_code == 200 and "(read-only)" in response.get_data(as_text=True)


def _rows(app) -> list[ViewAsSession]:
    with app.app_context():
        return list(db.session.scalars(sa.select(ViewAsSession).order_by(ViewAsSession.id)))


def _ended_events(app, since: int = 0) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.scalars(
                sa.select(AuditEvent)
                .where(AuditEvent.action == "staff.view_as_ended", AuditEvent.id > since)
                .order_by(AuditEvent.id)
            )
        )


def _last_event_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(AuditEvent.id))) or 0


def test_starting_stores_the_state_on_the_server_and_only_its_id_in_the_cookie(
    app, client, ann, support
):
    _start(client, ann)
    [row] = _rows(app)
    assert row.public_id.startswith("va_")
    assert (row.staff_id, row.user_id, row.tenant_id) == (support.id, ann.id, ann.tenant_id)
    assert row.reason == REASON
    assert row.ended_at is None
    assert timedelta(minutes=29) < row.expires_at - utcnow() <= timedelta(minutes=30)
    with client.session_transaction() as session:
        assert session["view_as"] == row.public_id
    with app.app_context():
        started = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "staff.view_as_started")
        )
    assert started.after == {"reason": REASON, "until": row.expires_at.isoformat()}
    assert _viewing(client)


def test_replaying_the_cookie_saved_before_ending_gives_no_view_as(app, client, ann, support):
    _start(client, ann)
    assert _viewing(client)
    saved = client.get_cookie(COOKIE).value
    assert client.post("/staff/view-as/end").status_code == 303

    client.set_cookie(COOKIE, saved)  # the copy taken while the view-as ran
    page = client.get("/t/acme/orgs/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/t/acme/login")
    [row] = _rows(app)
    assert row.ended_at is not None
    assert row.end_reason == "ended"
    with client.session_transaction() as session:
        assert "view_as" not in session  # forgotten, not asked about again

    client.set_cookie(COOKIE, saved)
    console = client.get("/staff/")
    assert console.status_code == 200  # the staff member sees the normal console
    assert "End view as user" not in console.get_data(as_text=True)

    client.set_cookie(COOKIE, saved)
    last = _last_event_id(app)
    ended_again = client.post("/staff/view-as/end")
    assert ended_again.status_code == 303
    assert ended_again.headers["Location"] == "/staff/"
    assert _ended_events(app, last) == []  # nothing to end, nothing recorded
    assert [r.end_reason for r in _rows(app)] == ["ended"]


def test_an_expired_view_as_is_ended_and_audited_once(app, client, world, ann, support):
    _start(client, ann)
    saved = client.get_cookie(COOKIE).value
    with app.app_context():
        db.session.execute(
            sa.update(ViewAsSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    last = _last_event_id(app)
    expired = client.get("/t/acme/orgs/")
    assert expired.status_code == 302
    assert expired.headers["Location"] == f"/staff/users/{ann.public_id}"
    [row] = _rows(app)
    assert row.ended_at is not None
    assert row.end_reason == "expired"
    [event] = _ended_events(app, last)
    assert event.after == {"reason": "expired", "view_reason": REASON}
    assert event.tenant_id == world.tenant.id
    assert event.target_id == ann.public_id
    # replayed, the expired one is not ended (or audited) a second time
    client.set_cookie(COOKIE, saved)
    assert client.get("/t/acme/orgs/").headers["Location"].startswith("/t/acme/login")
    assert len(_ended_events(app, last)) == 1


def test_an_expired_view_as_shows_no_banner_in_the_console(app, client, ann, support):
    _start(client, ann)
    assert "End view as user" in client.get("/staff/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(
            sa.update(ViewAsSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert "End view as user" not in client.get("/staff/").get_data(as_text=True)


def test_signing_out_ends_it(app, client, ann, support, auth):
    _start(client, ann)
    saved = client.get_cookie(COOKIE).value
    last = _last_event_id(app)
    assert client.post("/staff/logout").status_code == 303
    [row] = _rows(app)
    assert row.ended_at is not None
    assert row.end_reason == "signed out"
    [event] = _ended_events(app, last)
    assert event.after == {"reason": "signed out", "view_reason": REASON}
    # signed in again, the old cookie's view-as stays over
    auth.login_staff(support)
    with client.session_transaction() as session:
        session["view_as"] = row.public_id
    assert not _viewing(client)
    client.set_cookie(COOKIE, saved)  # the old cookie itself: signed out everywhere
    assert client.get("/t/acme/orgs/").headers["Location"].startswith("/t/acme/login")


def test_a_cookie_naming_another_staff_members_view_as_is_ignored(
    app, client, ann, support, create_staff
):
    _start(client, ann)
    [row] = _rows(app)
    other_client = app.test_client()
    Auth(app, other_client).login_staff(create_staff(role=StaffRole.SUPPORT))
    with other_client.session_transaction() as session:
        session["view_as"] = row.public_id
    page = other_client.get("/t/acme/orgs/")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/t/acme/login")
    assert "End view as user" not in other_client.get("/staff/").get_data(as_text=True)
    last = _last_event_id(app)
    other_client.post("/staff/view-as/end", data={"csrf_token": other_client.csrf_token()})
    assert _ended_events(app, last) == []
    assert _rows(app)[0].ended_at is None  # untouched: still the first staff member's
    assert _viewing(client)


def test_a_cookie_in_the_old_format_is_not_trusted(app, client, ann, support):
    with client.session_transaction() as session:
        session["view_as"] = {
            "user": ann.public_id,
            "staff": support.public_id,
            "reason": REASON,
            "until": (utcnow() + timedelta(minutes=30)).isoformat(),
        }
    assert not _viewing(client)
    assert client.get("/staff/").status_code == 200


def test_starting_another_view_as_ends_the_earlier_one_in_every_browser(
    app, client, ann, world, support
):
    """One view-as at a time per staff member: the second replaces the first, even the
    one left open in another browser."""
    _start(client, ann)
    other_browser = app.test_client()
    Auth(app, other_browser).login_staff(support)
    last = _last_event_id(app)
    response = other_browser.post(
        f"/staff/users/{world.member.public_id}/view-as",
        data={"reason": "Ticket 8", "csrf_token": other_browser.csrf_token()},
    )
    assert response.status_code == 303
    first, second = _rows(app)
    assert first.end_reason == "replaced"
    assert first.ended_at is not None
    assert second.ended_at is None
    assert second.user_id == world.member.id
    [event] = _ended_events(app, last)
    assert event.after == {"reason": "replaced", "view_reason": REASON}
    assert event.target_id == ann.public_id
    assert not _viewing(client)
    assert _viewing(other_browser)


def test_deactivating_a_staff_account_ends_its_view_as(app, client, ann, support, create_staff):
    _start(client, ann)
    admin_client = app.test_client()
    admin = create_staff(role=StaffRole.SUPERADMIN)
    Auth(app, admin_client).login_staff(admin)
    last = _last_event_id(app)
    response = admin_client.post(
        f"/staff/staff/{support.public_id}/deactivate",
        data={"csrf_token": admin_client.csrf_token()},
    )
    assert response.status_code == 303
    [row] = _rows(app)
    assert row.ended_at is not None
    assert row.end_reason == "deactivated"
    [event] = _ended_events(app, last)
    assert event.actor_id == admin.public_id
    assert event.after == {
        "reason": "deactivated",
        "view_reason": REASON,
        "view_as_session": row.public_id,
    }


def test_the_read_only_rule_still_holds(app, client, ann, support):
    _start(client, ann)
    refused = client.post("/t/acme/orgs/new", data={"name": "Sneaky"})
    assert refused.status_code == 403
    assert client.head("/t/acme/orgs/").status_code == 200


def test_a_view_as_page_adds_one_query(app, client, auth, ann, support, count_queries):
    _start(client, ann)
    client.get("/t/acme/orgs/")  # both counted warm (the tenant cache filled)
    with count_queries() as viewing:
        assert client.get("/t/acme/orgs/").status_code == 200
    user_client = app.test_client()
    Auth(app, user_client).login(ann, PASSWORD)
    user_client.get("/t/acme/orgs/")
    with count_queries() as signed_in:
        assert user_client.get("/t/acme/orgs/").status_code == 200
    # the staff account, then the view-as row with its user (a signed-in user comes with
    # the tenant's own read)
    assert viewing.count <= signed_in.count + 2


def test_ending_one_whose_time_ran_out_records_it_as_expired(app, client, ann, support):
    _start(client, ann)
    with app.app_context():
        db.session.execute(
            sa.update(ViewAsSession).values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    last = _last_event_id(app)
    assert client.post("/staff/view-as/end").status_code == 303
    [event] = _ended_events(app, last)
    assert event.after == {"reason": "expired", "view_reason": REASON}
    assert [row.end_reason for row in _rows(app)] == ["expired"]
