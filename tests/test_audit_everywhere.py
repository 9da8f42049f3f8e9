"""Every mutating service writes exactly one audit event, with its before/after values.

One test walks the services a tenant's life goes through, in order, and checks after
each call that exactly one event appeared, with the expected action, the acting actor,
the tenant, and the before/after keys that say what changed. Tokens never appear.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from app.actors import Actor
from app.extensions import db
from app.models import AuditEvent, OutboxEmail, Tenant
from app.services import (
    accounts,
    invitations,
    join_links,
    members,
    org_data,
    orgs,
    outbox,
    passwords,
    roles,
    teams,
    tenants,
)


@dataclass
class Step:
    action: str
    call: Callable[[dict], object]
    before: set[str] | None = None
    after: set[str] | None = None


def _events() -> list[AuditEvent]:
    return list(db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))


def test_each_mutating_service_writes_exactly_one_audit_event(app, create_staff):
    staff = create_staff()
    with app.test_request_context():
        support_actor = Actor.for_staff(staff)
        tenant, owner = tenants.create_tenant(
            support_actor, name="Audit Co", owner_email="owner@audit.example",
            owner_password="long-password-1",
        )  # fmt: skip
        me = Actor.for_user(owner)
        other = accounts.create_user(tenant, email="ann@audit.example", name="Ann", password=None)
        third = accounts.create_user(tenant, email="bo@audit.example", name="Bo", password=None)
        db.session.flush()
        state: dict = {"tenant": tenant, "owner": owner, "other": other, "third": third}

        steps = [
            Step(
                "org.created",
                lambda s: s.update(root=orgs.create_org(me, tenant, name="Root")),
                after={"name", "slug", "parent"},
            ),
            Step(
                "org.created",
                lambda s: s.update(
                    child=orgs.create_org(me, tenant, name="Child", parent=s["root"])
                ),
                after={"name", "slug", "parent"},
            ),
            Step(
                "org.updated",
                lambda s: orgs.update_org(
                    me, tenant, s["child"], name="Kid", slug="kid", logo_url=""
                ),
                before={"name", "slug"},
                after={"name", "slug"},
            ),
            Step(
                "org.settings_updated",
                lambda s: org_data.update(me, tenant, s["child"], "settings", {"tz": "UTC"}),
                before={"settings"},
                after={"settings"},
            ),
            Step(
                "org.moved",
                lambda s: orgs.move_org(me, tenant, s["child"], None),
                before={"parent"},
                after={"parent"},
            ),
            Step(
                "org.deleted",
                lambda s: orgs.delete_org(me, tenant, s["child"]),
                after={"hidden_orgs"},
            ),
            Step(
                "org.restored",
                lambda s: orgs.restore_org(me, tenant, s["child"]),
                after={"restored_orgs"},
            ),
            Step(
                "member.added",
                lambda s: members.add_member(me, tenant, s["root"], other, "member"),
                after={"role"},
            ),
            Step(
                "member.role_changed",
                lambda s: members.change_role(me, tenant, s["root"], other, "admin"),
                before={"role"},
                after={"role"},
            ),
            Step(
                "member.added",
                lambda s: members.add_member(me, tenant, s["root"], third, "viewer"),
                after={"role"},
            ),
            Step(
                "member.removed",
                lambda s: members.remove_member(me, tenant, s["root"], third),
                before={"role"},
            ),
            Step(
                "org.ownership_transferred",
                lambda s: members.transfer_ownership(me, tenant, s["root"], other),
                before={"role", "previous_owner"},
                after={"role"},
            ),
            Step(
                "member.left",
                lambda s: members.leave_org(me, tenant, s["root"]),
                before={"role"},
            ),
            Step(
                "team.created",
                lambda s: s.update(team=teams.create_team(me, tenant, s["root"], name="Crew")),
                after={"name"},
            ),
            Step(
                "team.renamed",
                lambda s: teams.rename_team(me, tenant, s["root"], s["team"], name="Squad"),
                before={"name"},
                after={"name"},
            ),
            Step(
                "team.member_added",
                lambda s: teams.add_to_team(me, tenant, s["root"], s["team"], other),
                after={"user"},
            ),
            Step(
                "team.member_removed",
                lambda s: teams.remove_from_team(me, tenant, s["root"], s["team"], other),
                before={"user"},
            ),
            Step(
                "team.deleted",
                lambda s: teams.delete_team(me, tenant, s["root"], s["team"]),
                before={"name"},
            ),
            Step(
                "role.created",
                lambda s: s.update(
                    role=roles.create_role(
                        me,
                        tenant,
                        key="auditor",
                        name="Auditor",
                        description="",
                        permissions=["org:read", "audit:read"],
                    )
                ),
                after={"key", "permissions"},
            ),
            Step(
                "role.updated",
                lambda s: roles.update_role(
                    me, tenant, s["role"], name="Auditors", description="", permissions=["org:read"]
                ),
                before={"name", "permissions"},
                after={"name", "permissions"},
            ),
            Step(
                "role.deleted",
                lambda s: roles.delete_role(me, tenant, s["role"]),
                before={"key", "permissions"},
            ),
            Step(
                "invitation.created",
                lambda s: invitations.invite(
                    me, tenant, s["root"], addresses=["new@audit.example"], role="member"
                ),
                after={"email", "role"},
            ),
            Step(
                "invitation.resent",
                lambda s: invitations.resend(me, tenant, s["root"], _pending(s)),
            ),
            Step(
                "invitation.revoked",
                lambda s: invitations.revoke(me, tenant, s["root"], _pending(s)),
                before={"status"},
                after={"status"},
            ),
            Step(
                "join_link.created",
                lambda s: s.update(link=join_links.create(me, tenant, s["root"], role="viewer")),
                after={"role", "max_uses", "allowed_domain"},
            ),
            Step(
                "join_link.revoked",
                lambda s: join_links.revoke(me, tenant, s["root"], s["link"].link.public_id),
            ),
            Step(
                "tenant.settings_updated",
                lambda s: tenants.update_tenant_rules(
                    me,
                    tenant,
                    allow_signup=True,
                    signup_email_domains=[],
                    personal_orgs=False,
                    members_can_create_orgs=False,
                ),
                before={"allow_signup"},
                after={"allow_signup"},
            ),
            Step(
                "user.deactivated", lambda s: accounts.deactivate_user(support_actor, tenant, third)
            ),
            Step(
                "user.reactivated", lambda s: accounts.reactivate_user(support_actor, tenant, third)
            ),
            Step(
                "tenant.suspended",
                lambda s: tenants.suspend_tenant(support_actor, tenant),
                before={"status"},
                after={"status"},
            ),
            Step(
                "tenant.reactivated",
                lambda s: tenants.reactivate_tenant(support_actor, tenant),
                before={"status"},
                after={"status"},
            ),
            Step(
                "email.retried",
                lambda s: outbox.retry_email(support_actor, tenant, _failed_email(tenant)),
            ),
        ]
        for step in steps:
            seen = len(_events())
            step.call(state)
            db.session.flush()
            new = _events()[seen:]
            assert [e.action for e in new] == [step.action], (step.action, [e.action for e in new])
            event = new[0]
            assert event.tenant_id == tenant.id, step.action
            if step.before is not None:
                assert step.before <= set(event.before or {}), (step.action, event.before)
            if step.after is not None:
                assert step.after <= set(event.after or {}), (step.action, event.after)
            text = repr((event.before, event.after, event.target_label))
            assert "token" not in text.lower(), step.action
        db.session.rollback()


def _pending(state):
    from app.models import Invitation

    return db.session.scalar(sa.select(Invitation).where(Invitation.email == "new@audit.example"))


def _failed_email(tenant: Tenant) -> OutboxEmail:
    email = db.session.scalar(sa.select(OutboxEmail).where(OutboxEmail.tenant_id == tenant.id))
    email.status = "failed"
    email.last_error = "SMTPServerDisconnected: test"
    db.session.flush()
    return email


def test_password_reset_is_audited_without_the_token(app, tenant, owner, client):
    with app.test_request_context():
        token = passwords._issue(owner, "reset", passwords.RESET_LIFETIME)
        passwords.reset_password(tenant, token, "another-long-password")
        event = _events()[-1]
        assert event.action == "user.password_changed"
        assert token not in repr((event.before, event.after))
        db.session.rollback()
