"""What a page shows follows the permissions of what it shows (the trust issue's item 9):
recent activity is the audit log's, and private metadata stays private in the log too."""

from __future__ import annotations

import pytest

from app.actors import Actor
from app.extensions import db
from app.models import Organization
from app.services import org_data, roles

SECRET = "crm-4711-secret"


@pytest.fixture
def secret_history(app, tenant, world):
    """Engineering's private metadata was set, and an invitation was sent."""
    with app.app_context():
        engineering = db.session.get(Organization, world.engineering.id)
        org_data.update(
            Actor.system("test"), tenant, engineering, "private_metadata", {"crm": SECRET}
        )
        db.session.commit()


@pytest.fixture
def auditor(app, tenant, world, create_user, add_member):
    """Someone whose role reads the org and its audit log, and nothing else."""
    with app.app_context():
        roles.create_role(
            Actor.system("test"),
            tenant,
            key="auditor",
            name="Auditor",
            description="",
            permissions=["org:read", "audit:read"],
        )
        db.session.commit()
    person = create_user(tenant, "audra@acme.example", name="Audra")
    add_member(world.engineering, person, "auditor")
    return person


def test_a_viewer_sees_no_recent_activity(client, auth, world, secret_history):
    auth.login(world.viewer)
    page = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    assert "Recent activity" not in page
    assert "org.private_metadata_updated" not in page


def test_an_audit_reader_sees_recent_activity(client, auth, world, secret_history):
    auth.login(world.admin)
    page = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    assert "Recent activity" in page


def test_an_auditor_without_org_update_reads_no_private_values(
    client, auth, auditor, secret_history
):
    auth.login(auditor)
    log = client.get("/t/acme/orgs/engineering/audit")
    assert log.status_code == 200
    assert "org.private_metadata_updated" in log.get_data(as_text=True)
    assert SECRET not in log.get_data(as_text=True)
    assert "[hidden]" in log.get_data(as_text=True)
    export = client.get("/t/acme/orgs/engineering/audit.csv").get_data(as_text=True)
    assert "org.private_metadata_updated" in export
    assert SECRET not in export


def test_those_who_may_edit_the_org_read_them(client, auth, world, secret_history):
    auth.login(world.owner)
    assert SECRET in client.get("/t/acme/orgs/engineering/audit").get_data(as_text=True)
    assert SECRET in client.get("/t/acme/orgs/engineering/audit.csv").get_data(as_text=True)
