"""The command line: it works, and bad input exits non-zero with one line and no change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEvent, StaffUser, Tenant, User


@pytest.fixture
def cli(app):
    runner = app.test_cli_runner()

    def invoke(*args: str):
        return runner.invoke(args=list(args))

    return invoke


def _counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Tenant, User, StaffUser, AuditEvent)
        )


def test_staff_create(app, cli):
    result = cli(
        "staff",
        "create",
        "--email",
        "Ops@Platform.example",
        "--password",
        "long-password-1",
        "--role",
        "superadmin",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        staff = db.session.scalar(sa.select(StaffUser))
        assert staff.email == "ops@platform.example"
        assert staff.role == "superadmin"
        assert staff.password_hash.startswith("$argon2")


def test_tenants_create(app, cli):
    result = cli(
        "tenants",
        "create",
        "--name",
        "Ünïcode Straße GmbH",
        "--owner-email",
        "boss@example.com",
        "--owner-password",
        "long-password-1",
    )
    assert result.exit_code == 0, result.output
    assert "/t/unicode-strasse-gmbh/" in result.output
    with app.app_context():
        owner = db.session.scalar(sa.select(User))
        assert owner.tenant_role == "owner"
        assert db.session.scalar(sa.select(AuditEvent.action)) == "tenant.created"


def test_tenants_create_derives_a_free_slug(cli):
    args = [
        "tenants",
        "create",
        "--name",
        "Acme",
        "--owner-email",
        "a@example.com",
        "--owner-password",
        "long-password-1",
    ]
    assert cli(*args).exit_code == 0
    second = cli(*args)
    assert second.exit_code == 0
    assert "/t/acme-2/" in second.output


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (
            ["staff", "create", "--email", "not-an-email", "--password", "long-password-1"],
            "valid email",
        ),
        (["staff", "create", "--email", "a@example.com", "--password", "short"], "at least 10"),
        (
            [
                "staff",
                "create",
                "--email",
                "a@example.com",
                "--password",
                "long-password-1",
                "--role",
                "boss",
            ],
            "boss",
        ),
        (
            [
                "tenants",
                "create",
                "--name",
                "X",
                "--owner-email",
                "bad",
                "--owner-password",
                "long-password-1",
            ],
            "valid email",
        ),
        (
            [
                "tenants",
                "create",
                "--name",
                "X",
                "--slug",
                "api",
                "--owner-email",
                "a@example.com",
                "--owner-password",
                "long-password-1",
            ],
            "reserved",
        ),
        (
            [
                "tenants",
                "create",
                "--name",
                "X",
                "--slug",
                "Has Spaces",
                "--owner-email",
                "a@example.com",
                "--owner-password",
                "long-password-1",
            ],
            "lowercase",
        ),
        (
            [
                "tenants",
                "create",
                "--name",
                "!!!",
                "--owner-email",
                "a@example.com",
                "--owner-password",
                "long-password-1",
            ],
            "empty",
        ),
        (
            [
                "tenants",
                "create",
                "--name",
                "X",
                "--owner-email",
                "a@example.com",
                "--owner-password",
                "short",
            ],
            "at least 10",
        ),
    ],
)
def test_bad_input_exits_nonzero_with_a_reason_and_changes_nothing(app, cli, args, reason):
    before = _counts(app)
    result = cli(*args)
    assert result.exit_code != 0
    assert reason in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _counts(app) == before


def test_duplicate_slug_and_staff_email_are_refused(app, cli):
    args = [
        "tenants",
        "create",
        "--name",
        "Acme",
        "--slug",
        "acme",
        "--owner-email",
        "a@example.com",
        "--owner-password",
        "long-password-1",
    ]
    assert cli(*args).exit_code == 0
    before = _counts(app)
    again = cli(*args)
    assert again.exit_code == 1
    assert "already taken" in again.output
    staff = ["staff", "create", "--email", "s@example.com", "--password", "long-password-1"]
    assert cli(*staff).exit_code == 0
    assert "already exists" in cli(*staff).output
    assert _counts(app)[0] == before[0]


def test_demo_seed_is_idempotent_and_prints_logins(app, cli):
    first = cli("demo", "seed", "--with-staff")
    assert first.exit_code == 0, first.output
    assert "owner@acme.example" in first.output
    assert "staff@tenantry.example" in first.output
    counts = _counts(app)
    second = cli("demo", "seed")
    assert second.exit_code == 0
    assert _counts(app) == counts
