"""Teams: named sub-groups of an org's members."""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from app.actors import Actor
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Membership, Organization, OrgClosure, Team, TeamMember, Tenant, User
from app.policy import Perm, actor_access
from app.services import audit
from app.services.members import member_row
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.validation import clean_name, normalize_email

MAX_NAME_LENGTH = 80


def _require_manage(actor: Actor, org: Organization) -> None:
    if not actor_access(actor, org).can(Perm.TEAMS_MANAGE):
        raise PermissionDenied("You don't have permission to manage teams here.")


def list_teams(org: Organization) -> list[tuple[Team, int]]:
    """The org's teams by name, each with its member count; one query."""
    return [
        (team, count) for team, count in db.session.execute(teams_query(org).order_by(Team.name))
    ]


def teams_query(org: Organization) -> sa.Select[tuple[Team, int]]:
    """The org's teams with their member counts, in no order yet."""
    counts = (
        sa.select(TeamMember.team_id, sa.func.count().label("members"))
        .group_by(TeamMember.team_id)
        .subquery()
    )
    return (
        sa.select(Team, sa.func.coalesce(counts.c.members, 0))
        .outerjoin(counts, counts.c.team_id == Team.id)
        .where(Team.org_id == org.id)
    )


def member_count(team: Team) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(TeamMember).where(TeamMember.team_id == team.id)
    )


def get_team(org: Organization, public_id: str) -> Team:
    team = db.session.scalar(
        sa.select(Team).where(Team.org_id == org.id, Team.public_id == public_id)
    )
    if team is None:
        raise NotFound("No such team.")
    return team


# A team's people by name, the id breaking ties between equal names.
PEOPLE_ORDER = (User.name, User.id)
PEOPLE_KEY_TYPES = (str, int)


def team_members(
    team: Team, *, cursor: Cursor | None = None, per_page: int = 50
) -> KeysetPage[sa.Row]:
    """A page of the team's people by name, by key (``cursor``), as plain rows of what
    the page shows (public id, name as shown, email), with how many people the team has;
    two queries."""
    stmt = (
        sa.select(
            User.id,
            User.name,
            User.public_id,
            User.email,
            sa.func.coalesce(sa.func.nullif(User.name, ""), User.email).label("display_name"),
        )
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id, User.tenant_id == team.tenant_id)
    )
    page = keyset_page(
        stmt,
        PEOPLE_ORDER,
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.name, row.id),
    )
    return replace(page, total=member_count(team))


def team_members_query(team: Team) -> sa.Select[tuple[User]]:
    return (
        sa.select(User)
        .join(TeamMember, TeamMember.user_id == User.id)
        .where(TeamMember.team_id == team.id)
    )


def _save_name(team: Team, name: str) -> None:
    name = clean_name(name, limit=MAX_NAME_LENGTH)
    try:
        # The name changes inside the savepoint: set before it, a clash would be flushed
        # (and fail) outside it, taking the whole transaction down.
        with db.session.begin_nested():
            team.name = name
            db.session.add(team)
            db.session.flush()
    except sa_exc.IntegrityError:
        raise ValidationFailed(
            f"There is already a team called “{name}” here.", field="name"
        ) from None


def create_team(actor: Actor, tenant: Tenant, org: Organization, *, name: str) -> Team:
    _require_manage(actor, org)
    team = Team(tenant_id=tenant.id, org_id=org.id)
    _save_name(team, name)
    audit.record(
        actor, "team.created", tenant=tenant, org=org, target=team, after={"name": team.name}
    )
    return team


def rename_team(actor: Actor, tenant: Tenant, org: Organization, team: Team, *, name: str) -> Team:
    _require_manage(actor, org)
    before = team.name
    _save_name(team, name)
    if team.name != before:
        audit.record(
            actor, "team.renamed", tenant=tenant, org=org, target=team,
            before={"name": before}, after={"name": team.name},
        )  # fmt: skip
    return team


def delete_team(actor: Actor, tenant: Tenant, org: Organization, team: Team) -> None:
    _require_manage(actor, org)
    audit.record(
        actor, "team.deleted", tenant=tenant, org=org, target=team, before={"name": team.name}
    )
    db.session.delete(team)
    db.session.flush()


def find_member_by_email(tenant: Tenant, org: Organization, email: str) -> User:
    """The member of ``org`` (direct or inherited) with this address. One query, and one
    answer for a stranger, an unknown address and an outsider alike, so a team manager
    can't learn who has an account in the tenant."""
    address = normalize_email(email)
    person = db.session.scalar(
        sa.select(User)
        .join(Membership, Membership.user_id == User.id)
        .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
        .where(User.tenant_id == tenant.id, User.email == address)
        .where(OrgClosure.descendant_id == org.id)
        .limit(1)
    )
    if person is None:
        raise ValidationFailed(f"No member of {org.name} has that email address.", field="email")
    return person


def add_to_team(actor: Actor, tenant: Tenant, org: Organization, team: Team, user: User) -> None:
    _require_manage(actor, org)
    if member_row(tenant, org, user) is None:
        raise ValidationFailed(f"{user.display_name} is not a member of {org.name}.", field="user")
    exists = db.session.get(TeamMember, (team.id, user.id))
    if exists is not None:
        raise Conflict(f"{user.display_name} is already in {team.name}.")
    db.session.add(TeamMember(team_id=team.id, user_id=user.id))
    db.session.flush()
    audit.record(
        actor, "team.member_added", tenant=tenant, org=org, target=team, after={"user": user.email}
    )


def remove_from_team(
    actor: Actor, tenant: Tenant, org: Organization, team: Team, user: User
) -> None:
    _require_manage(actor, org)
    membership = db.session.get(TeamMember, (team.id, user.id))
    if membership is None:
        raise NotFound(f"{user.display_name} is not in {team.name}.")
    db.session.delete(membership)
    db.session.flush()
    audit.record(
        actor,
        "team.member_removed",
        tenant=tenant,
        org=org,
        target=team,
        before={"user": user.email},
    )
