"""The "Forgot password" form answers alike, in words and in time, for an address with an account
and one without.

Only the account's path writes and emails, so it takes longer; both wait for the same
deadline (``app.web.security.answer_no_sooner_than``). Tested with a fake clock, not a
stopwatch: the account's path is made to "take" 40 ms, and both answers must still come
at exactly the floor.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app import mail
from app.extensions import db
from app.models import AuditEvent, OutboxEmail, StaffRole
from app.web import security
from app.web.security import ALIKE_ANSWER_SECONDS

SLOW_PATH = 0.04  # what the account's extra work "takes" on the fake clock
NOBODY = "nobody@acme.example"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(security, "time", fake)
    real_queue = mail.queue_email

    def slow_queue(**kwargs):
        fake.now += SLOW_PATH
        return real_queue(**kwargs)

    monkeypatch.setattr(mail, "queue_email", slow_queue)
    return fake


def _ask(client, clock: FakeClock, email: str) -> tuple[str, float, list[float]]:
    """The page (with the address and the CSRF token, signed with the second it is
    rendered in, blanked out), how long it took, and the waits it made."""
    started, sleeps_before = clock.now, len(clock.sleeps)
    response = client.post("/t/acme/password/forgot", data={"email": email})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert email in page
    page = re.sub(r'(X-CSRFToken": "|data-csrf-token=")[^"]+', r"\1…", page.replace(email, "@"))
    return page, clock.now - started, clock.sleeps[sleeps_before:]


def _outbox(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(OutboxEmail.to_address)))


def test_known_and_unknown_addresses_answer_at_the_same_moment(app, client, owner, clock):
    client.get("/t/acme/password/forgot")  # the session (and its CSRF token) exists first
    known_body, known_took, known_sleeps = _ask(client, clock, owner.email)
    unknown_body, unknown_took, unknown_sleeps = _ask(client, clock, NOBODY)
    # the account's path did more: an email is queued for it alone
    assert _outbox(app) == [owner.email]
    # both reached the padding, and both answered exactly at the floor
    assert known_sleeps == [pytest.approx(ALIKE_ANSWER_SECONDS - SLOW_PATH)]
    assert unknown_sleeps == [pytest.approx(ALIKE_ANSWER_SECONDS)]
    assert known_took == pytest.approx(ALIKE_ANSWER_SECONDS)
    assert unknown_took == pytest.approx(ALIKE_ANSWER_SECONDS)
    # and in the same words, apart from the address echoed back
    assert known_body == unknown_body


def test_a_deactivated_account_answers_like_no_account(app, client, create_user, tenant, clock):
    gone = create_user(tenant, "gone@acme.example", is_active_account=False)
    client.get("/t/acme/password/forgot")
    gone_body, gone_took, _ = _ask(client, clock, gone.email)
    unknown_body, unknown_took, _ = _ask(client, clock, NOBODY)
    assert _outbox(app) == []
    assert gone_took == unknown_took == pytest.approx(ALIKE_ANSWER_SECONDS)
    assert gone_body == unknown_body


def test_a_path_slower_than_the_floor_is_not_slowed_further(clock):
    with security.answer_no_sooner_than(0.25):
        clock.now += 0.3
    assert clock.sleeps == []


def test_the_staff_consoles_reset_is_sent_at_once(app, client, auth, owner, create_staff, clock):
    """Support's "Send password reset" is not an anonymous form: no padding, same email
    and audit event as before."""
    auth.login_staff(create_staff(role=StaffRole.SUPPORT))
    response = client.post(f"/staff/users/{owner.public_id}/password-reset")
    assert response.status_code == 303
    assert clock.sleeps == []
    assert _outbox(app) == [owner.email]
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "user.password_reset_requested")
        )
    assert event.actor_type == "staff"
    assert event.target_id == owner.public_id


def test_sign_up_answers_a_taken_address_at_the_same_moment_as_a_new_one(
    app, client, tenant, owner, clock
):
    """Sign-up too: a taken address gets a note, a new one an account and its link; both
    answer alike, at the floor."""
    from app.models import Tenant, User

    with app.app_context():
        db.session.get(Tenant, tenant.id).allow_signup = True
        db.session.commit()
    client.get("/t/acme/signup")
    answers = []
    for email in (owner.email, "newcomer@acme.example"):
        started, sleeps_before = clock.now, len(clock.sleeps)
        response = client.post(
            "/t/acme/signup",
            data={"name": "Someone", "email": email, "password": "long-enough-pass-1"},
        )
        assert response.status_code == 200
        assert "Check your inbox" in response.get_data(as_text=True)
        answers.append((clock.now - started, clock.sleeps[sleeps_before:]))
    (taken_took, taken_sleeps), (new_took, new_sleeps) = answers
    assert taken_sleeps, "the taken address waited for the floor too"
    assert new_sleeps, "the new address waited for the floor"
    assert taken_took == new_took == pytest.approx(ALIKE_ANSWER_SECONDS)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2
