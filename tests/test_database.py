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


def _file_app(tmp_path):
    from app import create_app

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'busy.db'}",
        }
    )
    with app.app_context():
        db.metadata.create_all(db.engine)
    return app


def test_sqlite_writers_wait_their_turn_instead_of_failing(tmp_path):
    """Two requests that read and then write at the same moment: on SQLite a deferred
    transaction would fail at once with "database is locked"; both must go through.
    (The engine's own connections: the test session is bound to the in-memory database.)"""
    import threading
    import time

    from app.models import Tenant

    app = _file_app(tmp_path)
    with app.app_context():
        engine = db.engine
    tenants = Tenant.__table__
    with engine.begin() as conn:
        conn.execute(tenants.insert().values(public_id="ten_busy", name="Busy", slug="busy"))
    outcomes: list[str] = []

    def rename(suffix: str) -> None:
        with app.test_request_context("/", method="POST"), engine.connect() as conn:
            try:
                name = conn.scalar(db.select(tenants.c.name).where(tenants.c.slug == "busy"))
                time.sleep(0.2)  # the other request reads meanwhile
                conn.execute(
                    tenants.update().where(tenants.c.slug == "busy").values(name=f"{name} {suffix}")
                )
                conn.commit()
                outcomes.append("ok")
            except Exception as error:  # reported by the assertion below
                outcomes.append(repr(error))

    threads = [threading.Thread(target=rename, args=(s,)) for s in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes == ["ok", "ok"]
    with engine.connect() as conn:
        name = conn.scalar(db.select(tenants.c.name).where(tenants.c.slug == "busy"))
    assert sorted(name.split()[1:]) == ["A", "B"]  # neither change lost
    engine.dispose()
