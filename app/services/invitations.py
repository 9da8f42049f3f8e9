"""Invitations: how people are asked to join an org (join links: ``join_links``).

An invitation is bound to one address, single use (a conditional update plus the
unique membership make parallel accepts safe), expires, and can be resent (new token,
old link dead) or revoked. Its email is queued in the outbox with the invitation.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from app import mail
from app.actors import Actor
from app.credentials import hash_token, new_token
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.ids import PREFIXES, new_public_id
from app.models import (
    AuditEvent,
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OrgClosure,
    Team,
    TeamMember,
    Tenant,
    User,
    utcnow,
)
from app.policy import Perm, actor_access, grantable_roles, role_catalog
from app.services import accounts, audit, email_verification, lookup, members, orgs
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.single_use_links import MAX_TOKEN_LENGTH
from app.services.validation import check_text, normalize_email

MAX_ADDRESSES = 1000
MAX_MESSAGE = 1000
# Abuse limits, counted in the database so they hold across app instances.
PER_INVITER_PER_HOUR = 2000
PER_TENANT_PER_HOUR = 10000
PER_RECIPIENT_PER_DAY = 5
RESENDS_PER_HOUR = 3
_SEPARATORS = re.compile(r"[\s,;]+")


class RateLimited(Conflict):
    status_code = 429
    code = "rate_limited"


class Outcome:
    INVITED = "invited"
    ALREADY_MEMBER = "already a member"
    ALREADY_INVITED = "already invited"
    INVALID = "invalid address"
    DOMAIN_NOT_ALLOWED = "domain not allowed"
    SEAT_LIMIT = "seat limit reached"
    TOO_MANY = "too many invitations to this address today"


@dataclass
class InviteResult:
    address: str
    outcome: str
    detail: str = ""
    invitation: Invitation | None = None

    @property
    def ok(self) -> bool:
        return self.outcome == Outcome.INVITED


def split_addresses(text: str) -> list[str]:
    """Addresses separated by commas, semicolons, spaces or new lines, in order, deduped."""
    seen: dict[str, None] = {}
    for part in _SEPARATORS.split(text or ""):
        part = part.strip().strip("<>\"'")
        if part:
            seen.setdefault(part, None)
    return list(seen)


def require_inviter(actor: Actor, org: Organization) -> None:
    if not actor_access(actor, org).can(Perm.MEMBERS_INVITE):
        raise PermissionDenied("You don't have permission to invite people here.")


def check_grantable_role(actor: Actor, tenant: Tenant, org: Organization, role: str) -> None:
    catalog = role_catalog(tenant.id)
    if role not in catalog:
        raise ValidationFailed(f"Unknown role “{role}”.", field="role")
    allowed = {r.key for r in grantable_roles(actor_access(actor, org), catalog)}
    if role not in allowed:
        raise PermissionDenied(f"You can't invite people as {catalog[role].name}.")


def _require_could_send(
    actor: Actor, tenant: Tenant, org: Organization, invitation: Invitation, verb: str
) -> None:
    """Resending or revoking is for someone who could have sent it. (A role deleted since
    is no longer anyone's to give: any inviter may tidy up such an invitation.)"""
    catalog = role_catalog(tenant.id)
    role = catalog.get(invitation.role)
    if role is not None and role not in grantable_roles(actor_access(actor, org), catalog):
        raise PermissionDenied(
            f"Only someone who can give the {role.name} role can {verb} this invitation."
        )


def _check_rate(actor: Actor, tenant: Tenant, adding: int) -> None:
    hour_ago = utcnow() - timedelta(hours=1)
    recent = sa.select(sa.func.count()).select_from(Invitation)
    tenant_count = db.session.scalar(
        recent.where(Invitation.tenant_id == tenant.id, Invitation.created_at >= hour_ago)
    )
    if tenant_count + adding > PER_TENANT_PER_HOUR:
        raise RateLimited("This workspace has sent too many invitations this hour: try later.")
    if actor.user is not None:
        mine = db.session.scalar(
            recent.where(Invitation.inviter_id == actor.user.id, Invitation.created_at >= hour_ago)
        )
        if mine + adding > PER_INVITER_PER_HOUR:
            raise RateLimited("You have sent too many invitations this hour: try again later.")


def _teams(org: Organization, team_ids: list[str]) -> list[Team]:
    if not team_ids:
        return []
    found = list(
        db.session.scalars(
            sa.select(Team).where(Team.org_id == org.id, Team.public_id.in_(team_ids))
        )
    )
    if len(found) != len(set(team_ids)):
        raise ValidationFailed("One of the chosen teams doesn't exist here.", field="teams")
    return found


def invite(
    actor: Actor,
    tenant: Tenant,
    org: Organization,
    *,
    addresses: list[str],
    role: str,
    team_ids: list[str] | None = None,
    message: str = "",
) -> list[InviteResult]:
    """Invite each address; every address gets its own outcome, nothing is all-or-nothing."""
    require_inviter(actor, org)
    check_grantable_role(actor, tenant, org, role)
    if not addresses:
        raise ValidationFailed("Enter at least one email address.", field="emails")
    if len(addresses) > MAX_ADDRESSES:
        raise ValidationFailed(f"Send at most {MAX_ADDRESSES} addresses at a time.", field="emails")
    message = check_text(message, field="message").strip()
    if len(message) > MAX_MESSAGE:
        raise ValidationFailed(f"Keep the message under {MAX_MESSAGE} characters.", field="message")
    teams = _teams(org, team_ids or [])

    results: list[InviteResult] = []
    valid: dict[str, str] = {}  # normalised -> as typed
    for raw in addresses:
        try:
            email = normalize_email(raw)
        except ValidationFailed:
            results.append(InviteResult(raw, Outcome.INVALID))
            continue
        if email in valid:
            continue
        if not tenant.admits_address(email):
            allowed = ", ".join(tenant.signup_email_domains)
            results.append(InviteResult(raw, Outcome.DOMAIN_NOT_ALLOWED, f"allowed: {allowed}"))
            continue
        valid[email] = raw

    members_here = _member_emails(tenant, org, list(valid))
    pending_here = _pending_emails(org, list(valid))
    busy_recipients = _recently_invited(tenant, list(valid))
    seats_left = members.seats_left(tenant, org)
    to_invite: list[str] = []
    for email, raw in valid.items():
        if email in members_here:
            results.append(InviteResult(raw, Outcome.ALREADY_MEMBER))
        elif email in pending_here:
            results.append(InviteResult(raw, Outcome.ALREADY_INVITED))
        elif busy_recipients.get(email, 0) >= PER_RECIPIENT_PER_DAY:
            results.append(InviteResult(raw, Outcome.TOO_MANY))
        elif seats_left is not None and len(to_invite) >= seats_left:
            results.append(
                InviteResult(raw, Outcome.SEAT_LIMIT, members.seat_limit_message(tenant, org))
            )
        else:
            to_invite.append(email)
    _check_rate(actor, tenant, len(to_invite))

    made = _create_all(actor, tenant, org, to_invite, role=role, teams=teams, message=message)
    for email, invitation in zip(to_invite, made, strict=True):
        results.append(InviteResult(valid[email], Outcome.INVITED, invitation=invitation))
    # One flush for the whole batch: 1,000 invitations are a few statements, not 3,000.
    db.session.flush()
    order = {raw: i for i, raw in enumerate(addresses)}
    results.sort(key=lambda r: order.get(r.address, len(order)))
    return results


def _member_emails(tenant: Tenant, org: Organization, emails: list[str]) -> set[str]:
    """Which of these addresses already belong here, directly or from a parent org."""
    if not emails:
        return set()
    return set(
        db.session.scalars(
            sa.select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
            .where(
                User.tenant_id == tenant.id,
                User.email.in_(emails),
                OrgClosure.descendant_id == org.id,
            )
        )
    )


def _pending_emails(org: Organization, emails: list[str]) -> set[str]:
    if not emails:
        return set()
    return set(
        db.session.scalars(
            sa.select(Invitation.email).where(
                Invitation.org_id == org.id,
                Invitation.email.in_(emails),
                Invitation.status == InvitationStatus.PENDING,
                Invitation.expires_at > utcnow(),
            )
        )
    )


def _recently_invited(tenant: Tenant, emails: list[str]) -> dict[str, int]:
    if not emails:
        return {}
    rows = db.session.execute(
        sa.select(Invitation.email, sa.func.count())
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.email.in_(emails),
            Invitation.created_at >= utcnow() - timedelta(days=1),
        )
        .group_by(Invitation.email)
    )
    return dict(rows.all())


def _create_all(
    actor: Actor,
    tenant: Tenant,
    org: Organization,
    emails: list[str],
    *,
    role: str,
    teams: list[Team],
    message: str,
) -> list[Invitation]:
    """An invitation, its email and its audit event per address. The batch shares one
    expiry, so its emails differ only in the address and the link: the email is rendered
    once and merged (``mail.EmailMerge``), its rows inserted in one statement."""
    if not emails:
        return []
    now = utcnow()
    expires_at = now + timedelta(days=tenant.invitation_days)
    inviter_name = actor.user.display_name if actor.user else tenant.name
    role_shown = role_catalog(tenant.id).get(role)
    # Unguessable, so that no org name or personal message can contain one.
    address_stand_in = f"address-{secrets.token_hex(8)}@stand-in.invalid"
    link_stand_in = f"https://stand-in.invalid/{secrets.token_hex(8)}"
    letters = mail.EmailMerge(
        kind="invitation",
        subject=f"{inviter_name} invited you to {org.name} on {tenant.name}",
        template="invitation",
        tenant=tenant,
        org=org,
        invitation=Invitation(
            email=address_stand_in, role=role, message=message, expires_at=expires_at
        ),
        inviter_name=inviter_name,
        role_name=role_shown.name if role_shown else role,
        link=link_stand_in,
    )
    team_ids = [team.id for team in teams]
    made: list[Invitation] = []
    events: list[AuditEvent] = []
    for email in emails:
        token = new_token()
        invitation = Invitation(
            public_id=new_public_id(PREFIXES["invitation"]),
            tenant_id=tenant.id,
            org_id=org.id,
            email=email,
            role=role,
            team_ids=list(team_ids),
            message=message,
            inviter_id=actor.user.id if actor.user else None,
            token_hash=hash_token(token),
            expires_at=expires_at,
            last_sent_at=now,
        )
        db.session.add(invitation)
        link = mail.external_url("invitee.show", token=token)
        letters.add(
            to=email,
            replace={address_stand_in: email, link_stand_in: link},
            invitation=invitation,
            link=link,
        )
        events.append(
            audit.event(
                actor,
                "invitation.created",
                tenant=tenant,
                org=org,
                target=invitation,
                after={"email": email, "role": role},
            )
        )
        made.append(invitation)
    letters.queue()
    # Their ids aren't needed: inserted together without reading each one back.
    db.session.bulk_save_objects(events)
    return made


def _queue_email(tenant, org, invitation, token, *, inviter: User | None) -> None:
    inviter_name = inviter.display_name if inviter else tenant.name
    role = role_catalog(tenant.id).get(invitation.role)
    mail.queue_email(
        kind="invitation",
        to=invitation.email,
        subject=f"{inviter_name} invited you to {org.name} on {tenant.name}",
        template="invitation",
        tenant=tenant,
        org=org,
        invitation=invitation,
        inviter_name=inviter_name,
        role_name=role.name if role else invitation.role,
        link=mail.external_url("invitee.show", token=token),
    )


# --- managing ------------------------------------------------------------------------


# What a row of the invitations page shows, and its sort key (newest first).
LIST_ORDER = (Invitation.created_at, Invitation.id)
LIST_KEY_TYPES = (datetime, int)
# Past this many, counting would cost more than the page: the list shows no total.
COUNT_UP_TO = 1_000


def list_invitations(
    org: Organization,
    *,
    status: str | None = None,
    cursor: Cursor | None = None,
    per_page: int = 25,
) -> KeysetPage[sa.Row]:
    """One page of the org's invitations, newest first, by key (``cursor``), as plain rows
    of what the list shows (``_invitation_rows``), with the inviter's name; plus
    their number when that is cheap to count. Two queries."""
    now = utcnow()
    stmt = _invitation_rows(org, now).where(*_in_status(status, now))
    page = keyset_page(
        stmt,
        LIST_ORDER,
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.created_at, row.id),
        descending=True,
    )
    counted = sa.select(Invitation.id).where(Invitation.org_id == org.id, *_in_status(status, now))
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(counted.limit(COUNT_UP_TO + 1).subquery())
    )
    if total is not None and total <= COUNT_UP_TO:
        page = replace(page, total=total)
    return page


def invitation_row(org: Organization, public_id: str) -> sa.Row:
    """One invitation as a row of the list (after a row action); NotFound if not here."""
    row = db.session.execute(
        _invitation_rows(org, utcnow()).where(Invitation.public_id == public_id)
    ).first()
    if row is None:
        raise NotFound("No such invitation.")
    return row


def _invitation_rows(org: Organization, now: datetime) -> sa.Select:
    """The list's columns: what a row shows, its state as of ``now`` (a pending
    invitation past its expiry reads as expired) and who sent it (an outer join: the
    inviter may be gone)."""
    state = sa.case(
        (
            sa.and_(
                Invitation.status == InvitationStatus.PENDING,
                Invitation.expires_at <= now,
            ),
            sa.literal(InvitationStatus.EXPIRED),
        ),
        else_=Invitation.status,
    )
    return (
        sa.select(
            Invitation.id,
            Invitation.public_id,
            Invitation.email,
            Invitation.role,
            state.label("state"),
            Invitation.created_at,
            sa.func.coalesce(Invitation.last_sent_at, Invitation.created_at).label("sent_at"),
            Invitation.sent_count,
            Invitation.expires_at,
            sa.func.coalesce(sa.func.nullif(User.name, ""), User.email).label("inviter_name"),
        )
        .outerjoin(User, sa.and_(User.id == Invitation.inviter_id, User.tenant_id == org.tenant_id))
        .where(Invitation.org_id == org.id)
    )


def _in_status(status: str | None, now: datetime) -> list[sa.ColumnElement[bool]]:
    """Invitations in one state as of ``now`` (a pending one past its expiry counts as
    expired); no condition for any state."""
    if status == InvitationStatus.EXPIRED:
        return [
            sa.or_(
                Invitation.status == InvitationStatus.EXPIRED,
                sa.and_(
                    Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now
                ),
            )
        ]
    if status == InvitationStatus.PENDING:
        return [Invitation.status == status, Invitation.expires_at > now]
    if status in InvitationStatus.ALL:
        return [Invitation.status == status]
    return []


def invitations_query(org: Organization, *, status: str | None = None) -> sa.Select:
    """The org's invitations, optionally in one state (a pending one past its expiry
    counts as expired), in no order yet."""
    return sa.select(Invitation).where(Invitation.org_id == org.id, *_in_status(status, utcnow()))


def references(
    invitations: list[Invitation],
) -> tuple[dict[tuple[int, int], str], dict[int, str]]:
    """Public ids of the teams (by org and team id: a team named by an invitation counts
    only in the invitation's own org) and inviters these invitations name; two queries
    at most."""
    team_ids = {team_id for inv in invitations for team_id in inv.team_ids or []}
    teams: dict[tuple[int, int], str] = {}
    if team_ids:
        rows = db.session.execute(
            sa.select(Team.org_id, Team.id, Team.public_id).where(Team.id.in_(team_ids))
        )
        teams = {(org_id, team_id): public_id for org_id, team_id, public_id in rows}
    inviters = lookup.public_ids(User, (inv.inviter_id for inv in invitations))
    return teams, inviters


def get_invitation(org: Organization, public_id: str) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.org_id == org.id, Invitation.public_id == public_id)
    )
    if invitation is None:
        raise NotFound("No such invitation.")
    return invitation


def resend(actor: Actor, tenant: Tenant, org: Organization, invitation: Invitation) -> Invitation:
    """A new token and a fresh expiry; the link in the earlier email stops working.

    An expired invitation comes back to life this way, under the rules of sending a new
    one: not to someone who has joined or been invited again since, and only with a free
    seat. Both kinds count toward the inviter's hourly limit."""
    require_inviter(actor, org)
    _require_could_send(actor, tenant, org, invitation, "resend")
    now = utcnow()
    state = invitation.effective_status(now)
    if state not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        raise Conflict(f"This invitation was {state}: invite the person again instead.")
    _check_rate(actor, tenant, 1)
    if invitation.last_sent_at and invitation.last_sent_at > now - timedelta(hours=1):
        if invitation.sent_count >= RESENDS_PER_HOUR:
            raise RateLimited(
                "This invitation was sent several times in the last hour: wait a bit."
            )
    else:
        invitation.sent_count = 0
    if state == InvitationStatus.EXPIRED:
        _require_room_to_revive(tenant, org, invitation)
    token = new_token()
    invitation.status = InvitationStatus.PENDING
    invitation.token_hash = hash_token(token)
    invitation.expires_at = now + timedelta(days=tenant.invitation_days)
    invitation.sent_count += 1
    invitation.last_sent_at = now
    db.session.flush()
    inviter = actor.user or (
        db.session.get(User, invitation.inviter_id) if invitation.inviter_id else None
    )
    _queue_email(tenant, org, invitation, token, inviter=inviter)
    revived = {"before": {"status": state}, "after": {"status": InvitationStatus.PENDING}}
    audit.record(
        actor, "invitation.resent", tenant=tenant, org=org, target=invitation,
        **(revived if state == InvitationStatus.EXPIRED else {}),
    )  # fmt: skip
    return invitation


def _require_room_to_revive(tenant: Tenant, org: Organization, invitation: Invitation) -> None:
    """What inviting the address afresh would check: a reason to, and a seat."""
    email = invitation.email
    if _member_emails(tenant, org, [email]):
        raise Conflict(f"{email} has joined {org.name} since: there is nothing to resend.")
    if _pending_emails(org, [email]):
        raise Conflict(f"{email} has a newer invitation to {org.name} waiting already.")
    if members.seat_limit_reached(tenant, org):
        raise Conflict(members.seat_limit_message(tenant, org))


def revoke(actor: Actor, tenant: Tenant, org: Organization, invitation: Invitation) -> Invitation:
    """Only by someone who could have sent it: an admin doesn't revoke an owner's
    invitation to ownership."""
    require_inviter(actor, org)
    _require_could_send(actor, tenant, org, invitation, "revoke")
    if invitation.status != InvitationStatus.PENDING:
        raise Conflict(f"This invitation is already {invitation.status}.")
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = utcnow()
    db.session.flush()
    audit.record(
        actor, "invitation.revoked", tenant=tenant, org=org, target=invitation,
        before={"status": "pending"}, after={"status": "revoked"},
    )  # fmt: skip
    return invitation


# --- the invitee's side ----------------------------------------------------------------


def find_by_token(token: str) -> Invitation | None:
    """The invitation a link names, if it is still usable; None for anything else
    (``why_dead`` then says why)."""
    invitation = _by_token(token)
    if invitation is None or _dead_reason(invitation) is not None:
        return None
    return invitation


def _by_token(token: str) -> Invitation | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        sa.select(Invitation).where(Invitation.token_hash == hash_token(token))
    )


class DeadReason:
    """Why a link (an invitation's or a join link's) no longer works."""

    UNKNOWN = "unknown"  # no link has this token: replaced by a newer one, or mistyped
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    USED_UP = "used up"  # a join link whose places are all taken
    ORG_GONE = "org gone"  # its organization was deleted
    WORKSPACE_CLOSED = "workspace closed"  # its tenant is suspended or deleted


@dataclass(frozen=True)
class DeadLink:
    """A link that no longer works, why, and what it was for (nothing, when unknown)."""

    reason: str
    tenant: Tenant | None = None
    org: Organization | None = None
    inviter: User | None = None
    accepted_by_id: int | None = None


def workspace_closed(tenant: Tenant | None) -> bool:
    return tenant is None or tenant.is_suspended or tenant.deleted_at is not None


def unjoinable_reason(org: Organization | None, tenant: Tenant | None) -> str | None:
    """Why nobody can join ``org`` of ``tenant`` any more, if that is so."""
    if workspace_closed(tenant):
        return DeadReason.WORKSPACE_CLOSED
    if org is None or org.is_deleted:
        return DeadReason.ORG_GONE
    return None


def _dead_reason(invitation: Invitation) -> str | None:
    state = invitation.effective_status(utcnow())
    if state != InvitationStatus.PENDING:
        return state  # expired, revoked, accepted, declined: DeadReason's words
    org = db.session.get(Organization, invitation.org_id)
    tenant = db.session.get(Tenant, invitation.tenant_id)
    return unjoinable_reason(org, tenant)


def why_dead(token: str) -> DeadLink:
    """Why the invitation link ``token`` no longer works, and whose it was. Meant for a
    token ``find_by_token`` turned down."""
    invitation = _by_token(token)
    if invitation is None:
        return DeadLink(DeadReason.UNKNOWN)
    tenant = db.session.get(Tenant, invitation.tenant_id)
    if workspace_closed(tenant):
        return DeadLink(DeadReason.WORKSPACE_CLOSED)  # and nothing more about it
    inviter = db.session.get(User, invitation.inviter_id) if invitation.inviter_id else None
    return DeadLink(
        _dead_reason(invitation) or DeadReason.UNKNOWN,
        tenant=tenant,
        org=db.session.get(Organization, invitation.org_id),
        inviter=inviter,
        accepted_by_id=invitation.accepted_user_id,
    )


NO_LONGER_VALID = "This invitation is no longer valid."


class NoLongerValid(Conflict):
    """The invitation was used, revoked or replaced, or expired, meanwhile."""


def _spend(invitation: Invitation, status: str, user: User | None) -> None:
    """Pending -> accepted/declined exactly once, even with parallel requests."""
    now = utcnow()
    changed = db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.id == invitation.id,
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at > now,
        )
        .values(status=status, responded_at=now, accepted_user_id=user.id if user else None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        raise NoLongerValid(NO_LONGER_VALID)


def accept(invitation: Invitation, user: User, *, through_link: bool = False) -> Organization:
    """``user`` joins the org with the invited role; the address must be the invited one.

    ``through_link``: accepted through the emailed link, which proves the address (an
    unproven account becomes proven); otherwise (``My invitations``) the account's
    address must already be proven, or anyone could sign up as the invitee and join."""
    if user.tenant_id != invitation.tenant_id or user.email != invitation.email:
        raise PermissionDenied(
            f"This invitation is for {invitation.email}: sign in with that address to accept it."
        )
    if through_link:
        email_verification.mark_verified(user, via="invitation")
    else:
        email_verification.require_verified(user)
    tenant = db.session.get(Tenant, invitation.tenant_id)
    org = db.session.get(Organization, invitation.org_id)
    assert tenant is not None
    assert org is not None
    joining = not members.is_direct_member(org, user)
    _spend(invitation, InvitationStatus.ACCEPTED, user)
    # Spent, the invitation no longer holds its seat: joining must find one free (a limit
    # lowered since, or seats taken meanwhile, refuses it; the whole change rolls back).
    if joining and members.seat_limit_reached(tenant, org):
        raise Conflict(members.seat_limit_message(tenant, org))
    add_member_joining(org, user, invitation.role, added_by=invitation.inviter_id)
    # Only the org's own teams: an id of a team deleted since may belong to another org
    # (or tenant) by now, where SQLite reuses ids.
    for team in _live_teams_of(org, invitation.team_ids or []):
        if db.session.get(TeamMember, (team.id, user.id)) is None:
            db.session.add(TeamMember(team_id=team.id, user_id=user.id))
    user.last_org_id = org.id
    db.session.flush()
    audit.record(
        Actor.for_user(user), "invitation.accepted", tenant=tenant, org=org, target=invitation,
        after={"role": invitation.role},
    )  # fmt: skip
    return org


def _live_teams_of(org: Organization, team_ids: list[int]) -> list[Team]:
    if not team_ids:
        return []
    return list(
        db.session.scalars(sa.select(Team).where(Team.org_id == org.id, Team.id.in_(team_ids)))
    )


def add_member_joining(org: Organization, user: User, role: str, *, added_by: int | None) -> None:
    """A direct membership, unless one exists (the unique constraint settles races)."""
    try:
        with db.session.begin_nested():
            db.session.add(
                Membership(org_id=org.id, user_id=user.id, role=role, created_by_id=added_by)
            )
            db.session.flush()
    except sa_exc.IntegrityError:
        pass  # already a direct member, e.g. a parallel accept got there first


def accept_with_sign_up(invitation: Invitation, *, name: str, password: str) -> User:
    """A stranger creates their account with the invited address and joins in one step."""
    tenant = db.session.get(Tenant, invitation.tenant_id)
    assert tenant is not None
    if accounts.find_user(tenant, invitation.email) is not None:
        raise Conflict("An account with this address exists: sign in to accept.")
    from app.services.validation import check_password, clean_name

    user = accounts.create_user(
        tenant, email=invitation.email, name=clean_name(name), password=check_password(password)
    )
    audit.record(
        Actor.for_user(user), "user.signed_up", tenant=tenant, target=user,
        after={"via": "invitation"},
    )  # fmt: skip
    if tenant.personal_orgs:
        orgs.create_personal_org(user, tenant)
    accept(invitation, user, through_link=True)
    return user


def decline(invitation: Invitation, user: User | None) -> None:
    if user is not None and (
        user.tenant_id != invitation.tenant_id or user.email != invitation.email
    ):
        raise PermissionDenied(f"This invitation is for {invitation.email}.")
    _spend(invitation, InvitationStatus.DECLINED, None)
    tenant = db.session.get(Tenant, invitation.tenant_id)
    org = db.session.get(Organization, invitation.org_id)
    audit.record(
        _invitee(invitation, user), "invitation.declined", tenant=tenant, org=org,
        target=invitation,
    )  # fmt: skip


def _invitee(invitation: Invitation, user: User | None) -> Actor:
    """Who answered: the signed-in invitee, or else the holder of the emailed link, who
    is named by the address it was sent to (holding the link proves it)."""
    if user is not None:
        return Actor.for_user(user)
    return Actor.invitee(invitation.email)


def pending_for(user: User) -> list[tuple[Invitation, Organization]]:
    """Invitations waiting for this user's address in their tenant ("My invitations")."""
    rows = db.session.execute(
        sa.select(Invitation, Organization)
        .join(Organization, Organization.id == Invitation.org_id)
        .where(
            Invitation.tenant_id == user.tenant_id,
            Invitation.email == user.email,
            Invitation.status == InvitationStatus.PENDING,
            Invitation.expires_at > utcnow(),
            Organization.deleted_at.is_(None),
        )
        .order_by(Invitation.created_at.desc())
    )
    return [(invitation, org) for invitation, org in rows]


def get_pending_for(user: User, public_id: str) -> Invitation:
    for invitation, _org in pending_for(user):
        if invitation.public_id == public_id:
            return invitation
    raise NotFound("No such invitation.")


def invitation_to(user: User, public_id: str) -> tuple[Invitation, Organization]:
    """One of the invitations to this user's address in their tenant, with its org (for
    support staff looking at the user)."""
    row = db.session.execute(
        sa.select(Invitation, Organization)
        .join(Organization, Organization.id == Invitation.org_id)
        .where(
            Invitation.public_id == public_id,
            Invitation.tenant_id == user.tenant_id,
            Invitation.email == user.email,
        )
    ).first()
    if row is None:
        raise NotFound("No such invitation.")
    invitation, org = row
    return invitation, org
