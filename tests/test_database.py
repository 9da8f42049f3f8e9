"""app.database.one_of: the same rows as IN, whichever database renders it."""

from __future__ import annotations

import pytest

from app.database import one_of
from app.extensions import db
from app.models import User


@pytest.mark.parametrize("count", [0, 1, 3, 1500])
def test_one_of_matches_exactly_the_given_ids(app, tenant, create_user, count):
    users = [create_user(tenant, f"one{n}@example.com") for n in range(3)]
    with app.app_context():
        wanted = [users[0].id, users[2].id] if count == 3 else [u.id for u in users[:count]]
        wanted += list(range(10_000_000, 10_000_000 + max(0, count - 3)))  # ids nobody has
        found = db.session.scalars(db.select(User.id).where(one_of(User.id, wanted))).all()
        assert sorted(found) == sorted(u.id for u in users if u.id in wanted)


def test_one_of_takes_strings(app, tenant, create_user):
    create_user(tenant, "a@example.com")
    create_user(tenant, "b@example.com")
    with app.app_context():
        emails = ["b@example.com", "nobody@example.com"]
        found = db.session.scalars(db.select(User.email).where(one_of(User.email, emails))).all()
        assert found == ["b@example.com"]
