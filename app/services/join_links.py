"""Join links: one shareable link that lets anyone of the tenant join an org with a set
role, optionally limited in uses, lifetime and email domain. Only the token's hash is
stored; each use takes a place with a conditional update, so never more than max_uses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from app import mail
from app.actors import Actor
from app.credentials import hash_token, new_token
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import JoinLink, Organization, Tenant, User, utcnow
from app.services import audit, email_verification, invitations, members, tenants
from app.services.invitations import DeadLink, DeadReason
from app.services.single_use_links import MAX_TOKEN_LENGTH
from app.services.validation import email_domain

MAX_USES = 100_000
MAX_DAYS = 365


@dataclass
class NewJoinLink:
    link: JoinLink
    url: str  # shown once: only the token's hash is stored


def create(
    actor: Actor,
    tenant: Tenant,
    org: Organization,
    *,
    role: str,
    max_uses: int | None = None,
    expires_in_days: int | None = None,
    allowed_domain: str | None = None,
) -> NewJoinLink:
    invitations.require_inviter(actor, org)
    invitations.check_grantable_role(actor, tenant, org, role)
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise ValidationFailed(
            f"Use a number from 1 to {MAX_USES:,}, or leave it empty.", field="max_uses"
        )
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_DAYS:
        raise ValidationFailed(
            f"Use 1 to {MAX_DAYS} days, or leave it empty.", field="expires_in_days"
        )
    domain = None
    if allowed_domain and allowed_domain.strip():
        try:
            domain = tenants.clean_domain(allowed_domain)
        except ValidationFailed as error:
            raise ValidationFailed(error.message, field="allowed_domain") from None
    token = new_token()
    link = JoinLink(
        tenant_id=tenant.id,
        org_id=org.id,
        role=role,
        token_hash=hash_token(token),
        max_uses=max_uses,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
        allowed_domain=domain,
        created_by_id=actor.user.id if actor.user else None,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        actor, "join_link.created", tenant=tenant, org=org, target=link, label=org.name,
        after={"role": role, "max_uses": max_uses, "allowed_domain": domain},
    )  # fmt: skip
    return NewJoinLink(link, mail.external_url("invitee.join", token=token))


def list_links(org: Organization) -> list[JoinLink]:
    return list(
        db.session.scalars(
            sa.select(JoinLink)
            .where(JoinLink.org_id == org.id)
            .order_by(JoinLink.created_at.desc())
        )
    )


def get_link(org: Organization, public_id: str) -> JoinLink:
    link = db.session.scalar(
        sa.select(JoinLink).where(JoinLink.org_id == org.id, JoinLink.public_id == public_id)
    )
    if link is None:
        raise NotFound("No such join link.")
    return link


def revoke(actor: Actor, tenant: Tenant, org: Organization, public_id: str) -> JoinLink:
    invitations.require_inviter(actor, org)
    link = get_link(org, public_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        audit.record(
            actor, "join_link.revoked", tenant=tenant, org=org, target=link, label=org.name
        )
    return link


def state(link: JoinLink) -> str:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= utcnow():
        return "expired"
    if link.max_uses is not None and link.uses >= link.max_uses:
        return "used up"
    return "active"


def find_by_token(token: str) -> JoinLink | None:
    """The join link ``token`` names, if it still lets people join (else ``why_dead``)."""
    link = _by_token(token)
    if link is None or _dead_reason(link) is not None:
        return None
    return link


def _by_token(token: str) -> JoinLink | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(sa.select(JoinLink).where(JoinLink.token_hash == hash_token(token)))


def _dead_reason(link: JoinLink) -> str | None:
    link_state = state(link)
    if link_state != "active":
        return link_state  # revoked, expired, used up: DeadReason's words
    return invitations.unjoinable_reason(
        db.session.get(Organization, link.org_id), db.session.get(Tenant, link.tenant_id)
    )


def why_dead(token: str) -> DeadLink:
    """Why the join link ``token`` no longer works, and whose it was."""
    link = _by_token(token)
    if link is None:
        return DeadLink(DeadReason.UNKNOWN)
    tenant = db.session.get(Tenant, link.tenant_id)
    if invitations.workspace_closed(tenant):
        return DeadLink(DeadReason.WORKSPACE_CLOSED)
    creator = db.session.get(User, link.created_by_id) if link.created_by_id else None
    return DeadLink(
        _dead_reason(link) or DeadReason.UNKNOWN,
        tenant=tenant,
        org=db.session.get(Organization, link.org_id),
        inviter=creator,
    )


def join(link: JoinLink, user: User) -> Organization:
    """Use one of the link's places (a conditional update: never more than max_uses)."""
    if user.tenant_id != link.tenant_id:
        raise PermissionDenied("This link is for another workspace.")
    # An unproven address could claim any domain: no joining until it is proven.
    email_verification.require_verified(user)
    if link.allowed_domain and email_domain(user.email) != link.allowed_domain:
        raise PermissionDenied(f"This link is only for addresses at {link.allowed_domain}.")
    tenant = db.session.get(Tenant, link.tenant_id)
    org = db.session.get(Organization, link.org_id)
    assert tenant is not None
    assert org is not None
    if members.member_row(tenant, org, user) is not None:
        raise Conflict(f"You are already a member of {org.name}.")
    if members.seat_limit_reached(tenant, org):
        raise Conflict(members.seat_limit_message(tenant, org))
    now = utcnow()
    took = db.session.execute(
        sa.update(JoinLink)
        .where(
            JoinLink.id == link.id,
            JoinLink.revoked_at.is_(None),
            sa.or_(JoinLink.expires_at.is_(None), JoinLink.expires_at > now),
            sa.or_(JoinLink.max_uses.is_(None), JoinLink.uses < JoinLink.max_uses),
        )
        .values(uses=JoinLink.uses + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if took != 1:
        raise Conflict("This join link is no longer valid.")
    invitations.add_member_joining(org, user, link.role, added_by=link.created_by_id)
    user.last_org_id = org.id
    db.session.flush()
    audit.record(
        Actor.for_user(user), "member.joined_via_link", tenant=tenant, org=org, target=user,
        after={"role": link.role, "join_link": link.public_id},
    )  # fmt: skip
    return org
