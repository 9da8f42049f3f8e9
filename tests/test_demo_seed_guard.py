"""`demo seed` never writes into a tenant it did not create (the trust issue's item 4)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, Membership, Organization, StaffUser, Tenant, User


def _snapshot(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Tenant, User, Organization, Membership, StaffUser, AuditEvent)
        }


def test_it_refuses_a_real_tenant_at_the_demo_slug_and_changes_nothing(app):
    runner = app.test_cli_runner()
    made = runner.invoke(
        args=[
            "tenants", "create", "--name", "Acme Real", "--slug", "acme",
            "--owner-email", "boss@acme-real.example", "--owner-password", "long-password-1",
        ]
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    before = _snapshot(app)

    result = runner.invoke(args=["demo", "seed", "--orgs", "20", "--members", "40"])

    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert "acme" in lines[0]
    assert "--tenant" in lines[0]
    assert "/ demo-password" not in result.output  # no logins that would not work
    assert _snapshot(app) == before


def test_it_seeds_beside_it_under_another_slug_and_again_there(app):
    runner = app.test_cli_runner()
    runner.invoke(
        args=[
            "tenants", "create", "--name", "Acme Real", "--slug", "acme",
            "--owner-email", "boss@acme-real.example", "--owner-password", "long-password-1",
        ]
    )  # fmt: skip
    first = runner.invoke(args=["demo", "seed", "--tenant", "acme-demo"])
    assert first.exit_code == 0, first.output
    assert "/t/acme-demo/login" in first.output
    again = runner.invoke(args=["demo", "seed", "--tenant", "acme-demo"])
    assert again.exit_code == 0, again.output
    assert again.output == first.output


def test_outside_debug_mode_it_makes_no_staff_account_with_the_published_password(app):
    """Found in the route review: `demo seed` on a server's database made a superadmin
    whose password is in the README."""
    runner = app.test_cli_runner()
    assert not app.debug
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert "/staff/login" not in result.output
    assert "flask staff create" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 0
    debug_run = runner.invoke(args=["demo", "seed", "--with-staff"])
    assert "at http://127.0.0.1:5000/staff/login" in debug_run.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser)) == 1
