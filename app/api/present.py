"""Models to API shapes: public ids only, looked up in batches (never one query per row)."""

from __future__ import annotations

from app.api import schemas
from app.api.core import caller
from app.models import CustomRole, Invitation, Organization, Team, Tenant, User, utcnow
from app.policy import Perm, RoleDef
from app.services import invitations, members, orgs


def org(item: Organization) -> schemas.Org:
    return orgs_list([item])[0]


def orgs_list(items: list[Organization]) -> list[schemas.Org]:
    parents = orgs.public_ids(item.parent_id for item in items)
    return [schemas.Org(**_org_fields(item, parents)) for item in items]


def _org_fields(item: Organization, parents: dict[int, str]) -> dict:
    # A key's permissions hold alike in every org it reaches: one check serves a page.
    private = caller.scope.holds(Perm.ORG_UPDATE)
    return {
        "id": item.public_id,
        "name": item.name,
        "slug": item.slug,
        "parent_id": parents.get(item.parent_id) if item.parent_id else None,
        "logo_url": item.logo_url,
        "is_personal": item.is_personal,
        "public_metadata": item.public_metadata or {},
        "private_metadata": (item.private_metadata or {}) if private else None,
        "settings": (item.settings or {}) if private else None,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def subtree(rows: list[tuple[Organization, int]]) -> list[schemas.SubtreeOrg]:
    parents = orgs.public_ids(item.parent_id for item, _depth in rows)
    return [schemas.SubtreeOrg(**_org_fields(item, parents), depth=depth) for item, depth in rows]


def user_ref(user: User) -> schemas.UserRef:
    return schemas.UserRef(id=user.public_id, email=user.email, name=user.name)


def user(item: User) -> schemas.User:
    return schemas.User(
        id=item.public_id,
        email=item.email,
        name=item.name,
        tenant_role=item.tenant_role,
        is_active=item.is_active_account,
        created_at=item.created_at,
        last_login_at=item.last_login_at,
    )


def users_list(items: list[User]) -> list[schemas.User]:
    return [user(item) for item in items]


def members_list(
    tenant: Tenant, org_: Organization, users: list[User], chain: list[members.OrgRef] | None = None
) -> list[schemas.Member]:
    return [
        schemas.Member(
            user=user_ref(row.user),
            role=row.role,
            direct_role=row.direct_role,
            inherited_from=row.source.public_id if row.source else None,
            joined_at=row.joined_at,
            team_ids=[team.public_id for team in row.teams],
        )
        for row in members.member_rows(tenant, org_, users, chain=chain)
    ]


def member(tenant: Tenant, org_: Organization, item: User) -> schemas.Member:
    return members_list(tenant, org_, [item])[0]


def invitations_list(org_: Organization, items: list[Invitation]) -> list[schemas.Invitation]:
    teams, inviters = invitations.references(items)
    now = utcnow()
    return [
        schemas.Invitation(
            id=item.public_id,
            org_id=org_.public_id,
            email=item.email,
            role=item.role,
            status=item.effective_status(now),
            team_ids=[
                teams[(item.org_id, team_id)]
                for team_id in item.team_ids or []
                if (item.org_id, team_id) in teams
            ],
            message=item.message or "",
            inviter_id=inviters.get(item.inviter_id) if item.inviter_id else None,
            expires_at=item.expires_at,
            created_at=item.created_at,
            responded_at=item.responded_at,
        )
        for item in items
    ]


def invitation(org_: Organization, item: Invitation) -> schemas.Invitation:
    return invitations_list(org_, [item])[0]


def team(org_: Organization, item: Team, member_count: int) -> schemas.Team:
    return schemas.Team(
        id=item.public_id,
        org_id=org_.public_id,
        name=item.name,
        member_count=member_count,
        created_at=item.created_at,
    )


def role(definition: RoleDef, custom: CustomRole | None = None) -> schemas.Role:
    return schemas.Role(
        id=custom.public_id if custom else None,
        key=definition.key,
        name=definition.name,
        description=definition.description,
        permissions=sorted(definition.permissions),
        built_in=definition.built_in,
    )
