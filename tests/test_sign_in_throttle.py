"""Per-account sign-in throttling, stored on the user row so every worker shares it.

Guessing one account's password from many addresses gets past the per-address limit;
the account's own count does not: after ``FREE_FAILURES`` failures in a row each further
one blocks the account for a delay that doubles up to a cap. An address without an
account answers exactly alike, and the password-reset link clears the count.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import OutboxEmail, PasswordResetToken, User, utcnow
from app.services import sign_in_throttle
from app.services.accounts import SIGN_IN_FAILED
from app.services.sign_in_throttle import FIRST_BLOCK, FREE_FAILURES, LONGEST_BLOCK, delay_after
from tests.conftest import PASSWORD
from tests.markup import one

_addresses = (f"10.1.{n // 250}.{n % 250 + 1}" for n in itertools.count())
WRONG = "wrong-password-123"
WAIT = re.compile(r"try again in (\d+) minutes?")


def _attempt(client, email: str, password: str = WRONG):
    """One sign-in from a fresh client address (the per-address limit never applies)."""
    return client.post(
        "/t/acme/login",
        data={"email": email, "password": password},
        environ_base={"REMOTE_ADDR": next(_addresses)},
    )


def _error(response) -> str:
    assert response.status_code == 422, response.status_code
    return one(response.get_data(as_text=True), "div.alert-error").text


def _user(app, user: User) -> User:
    with app.app_context():
        return db.session.get(User, user.id)


def _unblock(app, user: User) -> None:
    """The block has passed: as if the clock moved on."""
    with app.app_context():
        db.session.execute(
            sa.update(User)
            .where(User.id == user.id)
            .values(sign_in_blocked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


def _signed_in(client) -> bool:
    with client.session_transaction() as session:
        return str(session.get("_user_id", "")).startswith("user:")


def test_the_delay_doubles_from_a_few_seconds_and_is_capped():
    assert [delay_after(n) for n in range(1, FREE_FAILURES + 1)] == [None] * FREE_FAILURES
    delays = [delay_after(n) for n in range(FREE_FAILURES + 1, FREE_FAILURES + 12)]
    assert delays[0] == FIRST_BLOCK == timedelta(seconds=5)
    assert delays[:4] == [timedelta(seconds=s) for s in (5, 10, 20, 40)]
    assert max(delays) == LONGEST_BLOCK == timedelta(minutes=15)
    assert delays == sorted(delays)
    assert delay_after(10_000) == LONGEST_BLOCK  # no overflow, however many


def test_failures_from_many_addresses_block_the_account(app, client, owner):
    for _ in range(FREE_FAILURES):
        assert _error(_attempt(client, owner.email)) == SIGN_IN_FAILED
    assert _user(app, owner).sign_in_blocked_until is None
    blocking = _error(_attempt(client, owner.email))
    assert blocking.startswith(SIGN_IN_FAILED)
    assert "try again in 1 minute, or reset your password" in blocking
    stored = _user(app, owner)
    assert stored.failed_sign_ins == FREE_FAILURES + 1
    remaining = stored.sign_in_blocked_until - utcnow()
    assert timedelta(seconds=3) < remaining <= FIRST_BLOCK


def test_the_right_password_is_refused_while_blocked(app, client, owner):
    for _ in range(FREE_FAILURES + 1):
        _attempt(client, owner.email)
    refused = _error(_attempt(client, owner.email, PASSWORD))
    assert "Too many failed sign-ins with this email: try again in 1 minute" in refused
    assert not _signed_in(client)
    # a refused attempt is not counted: the block does not grow while it runs
    assert _user(app, owner).failed_sign_ins == FREE_FAILURES + 1


def test_the_delay_grows_with_each_failure_up_to_the_cap(app, client, owner):
    for _ in range(FREE_FAILURES):
        _attempt(client, owner.email)
    seen = []
    for _ in range(12):
        message = _error(_attempt(client, owner.email))
        until = _user(app, owner).sign_in_blocked_until
        seen.append((until - utcnow(), int(WAIT.search(message).group(1))))
        _unblock(app, owner)
    blocks = [block for block, _ in seen]
    assert blocks[1] > blocks[0] + timedelta(seconds=3)  # 10 s after 5 s
    assert blocks[-1] <= LONGEST_BLOCK
    assert blocks[-1] > LONGEST_BLOCK - timedelta(seconds=5)
    assert blocks[-2] > LONGEST_BLOCK - timedelta(seconds=5)  # capped, not still doubling
    assert [minutes for _, minutes in seen][-1] == 15


def test_after_the_block_the_right_password_works_and_resets_the_count(app, client, owner):
    for _ in range(FREE_FAILURES + 2):
        _attempt(client, owner.email)
    _unblock(app, owner)
    response = _attempt(client, owner.email, PASSWORD)
    assert response.status_code == 303
    assert _signed_in(client)
    stored = _user(app, owner)
    assert stored.failed_sign_ins == 0
    assert stored.sign_in_blocked_until is None


def test_an_address_without_an_account_answers_alike(app, client, owner):
    """Step by step, the same status and the same words for a known address (wrong
    password) and an unknown one: the block gives no account away."""
    known, unknown = [], []
    for _ in range(FREE_FAILURES + 3):
        known.append(_error(_attempt(client, owner.email)))
        unknown.append(_error(_attempt(client, "nobody@acme.example")))
    assert known == unknown
    assert any("try again in" in message for message in unknown)


def test_a_blocked_unknown_address_refuses_alike_before_any_password_check(app, client, owner):
    for _ in range(FREE_FAILURES + 1):
        _attempt(client, owner.email)
        _attempt(client, "nobody@acme.example")
    assert _error(_attempt(client, owner.email, PASSWORD)) == _error(
        _attempt(client, "nobody@acme.example", PASSWORD)
    )


def test_the_password_reset_link_clears_the_count(app, client, owner):
    for _ in range(FREE_FAILURES + 3):
        _attempt(client, owner.email)
    assert _user(app, owner).sign_in_blocked_until > utcnow()
    with app.test_request_context():
        from app.services.passwords import RESET_LIFETIME, _issue

        token = _issue(db.session.get(User, owner.id), "reset", RESET_LIFETIME)
        db.session.commit()
    new_password = "a-brand-new-passphrase"
    reset = client.post(
        f"/t/acme/password/reset/{token}",
        data={"password": new_password, "confirm": new_password},
    )
    assert reset.status_code == 303, reset.get_data(as_text=True)[:500]
    with app.app_context():
        assert db.session.scalar(
            sa.select(PasswordResetToken.used_at).where(PasswordResetToken.user_id == owner.id)
        )
    stored = _user(app, owner)
    assert stored.failed_sign_ins == 0
    assert stored.sign_in_blocked_until is None
    # the link signs its owner in at once; signed out again, the new password works
    assert reset.headers["Location"] == "/t/acme/"
    client.post("/t/acme/logout")
    assert _attempt(client, owner.email, new_password).status_code == 303


def test_failures_are_counted_in_the_database_not_from_a_stale_copy(app, owner):
    """Each failure is ``failed_sign_ins = failed_sign_ins + 1`` in one UPDATE: a worker
    holding an old copy of the row still adds to the current count."""
    with app.app_context():
        stale = db.session.get(User, owner.id)
        assert stale.failed_sign_ins == 0
        db.session.execute(sa.update(User).where(User.id == owner.id).values(failed_sign_ins=7))
        sign_in_throttle.record_failure(stale.tenant, owner.email, stale)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(User, owner.id).failed_sign_ins == 8


@pytest.mark.parametrize("email", ["owner@acme.example", "nobody@acme.example"])
def test_the_per_address_limit_stays(app, client, owner, email):
    app.config["LOGIN_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [
            client.post("/t/acme/login", data={"email": email, "password": "x" * 12}).status_code
            for _ in range(3)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
    assert statuses == [422, 422, 429]


def test_a_staff_account_is_throttled_per_account_too(app, client, create_staff):
    """Staff reach every tenant: guessing a superadmin's password from many addresses
    blocks that account as it would a tenant user's."""
    from app.models import StaffUser

    staff = create_staff()

    def attempt(password: str = WRONG):
        return client.post(
            "/staff/login",
            data={"email": staff.email, "password": password},
            environ_base={"REMOTE_ADDR": next(_addresses)},
        )

    for _ in range(FREE_FAILURES):
        assert _error(attempt()) == SIGN_IN_FAILED
    assert "try again in 1 minute" in _error(attempt())
    assert "Too many failed sign-ins" in _error(attempt(PASSWORD))
    with app.app_context():
        stored = db.session.get(StaffUser, staff.id)
        assert stored.failed_sign_ins == FREE_FAILURES + 1
        stored.sign_in_blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert attempt(PASSWORD).status_code == 303
    with app.app_context():
        assert db.session.get(StaffUser, staff.id).failed_sign_ins == 0


def test_failures_on_an_invitations_sign_in_count_for_the_account_too(
    app, client, tenant, create_user, create_org
):
    """The invitation page signs in with a password as well: guesses there count."""
    from app.actors import Actor
    from app.services import invitations

    invitee = create_user(tenant, "ines@acme.example")
    org = create_org(tenant, "Labs")
    with app.app_context():
        invitations.invite(
            Actor.system("test"), tenant, db.session.merge(org),
            addresses=[invitee.email], role="member",
        )  # fmt: skip
        db.session.commit()
        body = db.session.scalar(
            sa.select(OutboxEmail.text_body).where(OutboxEmail.to_address == invitee.email)
        )
    link = re.search(r"/invitations/[^\s/]+", body).group(0)
    for _ in range(FREE_FAILURES + 1):
        response = client.post(
            f"{link}/sign-in",
            data={"password": WRONG},
            environ_base={"REMOTE_ADDR": next(_addresses)},
        )
        assert response.status_code == 422
    stored = _user(app, invitee)
    assert stored.failed_sign_ins == FREE_FAILURES + 1
    assert stored.sign_in_blocked_until is not None
