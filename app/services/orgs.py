"""Organizations: the nested tree, its rules, and the queries the pages need.

Every read is one query whatever the tree's size (``OrgClosure`` makes subtrees and
ancestors plain indexed joins); every change checks permission, flushes and writes an
audit event. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as so

from app.actors import Actor
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import (
    AuditEvent,
    Membership,
    Organization,
    OrgClosure,
    OrgSlugRedirect,
    Tenant,
    User,
    utcnow,
)
from app.policy import (
    InsufficientScope,
    OrgAccess,
    Perm,
    Role,
    TenantPerm,
    access,
    actor_access,
    may_create_top_level_org,
    require_tenant,
    roles_in_orgs,
)
from app.services import audit, lookup
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.validation import clean_name, escape_like, make_slug, next_free_slug

SLUG_RETRIES = 5
CHILDREN_PAGE = 100
SEARCH_LIMIT = 50

# --- finding ---------------------------------------------------------------------------


def _live(tenant: Tenant) -> sa.Select:
    return sa.select(Organization).where(
        Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None)
    )


def get_org(tenant: Tenant, slug: str) -> Organization:
    """A live org of this tenant by slug; NotFound for anything else, deleted included."""
    org = db.session.scalar(_live(tenant).where(Organization.slug == slug))
    if org is None:
        raise NotFound("No such organization.")
    return org


# Built once (every org page runs it first): building a statement costs more than its SQL.
_ORG_AND_ROLES = (
    sa.select(Organization, Membership.role)
    .outerjoin(
        sa.join(
            OrgClosure,
            Membership,
            sa.and_(
                Membership.org_id == OrgClosure.ancestor_id,
                Membership.user_id == sa.bindparam("user_id"),
            ),
        ),
        OrgClosure.descendant_id == Organization.id,
    )
    .where(
        Organization.tenant_id == sa.bindparam("tenant_id"),
        Organization.slug == sa.bindparam("slug"),
        Organization.deleted_at.is_(None),
    )
)


def get_org_and_roles(tenant: Tenant, slug: str, user: User) -> tuple[Organization, list[str]]:
    """``get_org`` and every role ``user`` holds there, directly or from above (what
    ``policy.roles_held`` reads), in one query: what each org page needs first."""
    params = {"tenant_id": tenant.id, "slug": slug, "user_id": user.id}
    rows = db.session.execute(_ORG_AND_ROLES, params).all()
    if not rows:
        raise NotFound("No such organization.")
    return rows[0][0], [role for _org, role in rows if role is not None]


def get_org_by_public_id(tenant: Tenant, public_id: str, *, deleted: bool = False) -> Organization:
    stmt = sa.select(Organization).where(
        Organization.tenant_id == tenant.id, Organization.public_id == public_id
    )
    stmt = stmt.where(
        Organization.deleted_at.is_not(None) if deleted else Organization.deleted_at.is_(None)
    )
    org = db.session.scalar(stmt)
    if org is None:
        raise NotFound("No such organization.")
    return org


def current_slug_for(tenant: Tenant, old_slug: str) -> str | None:
    """Where a renamed org lives now, if ``old_slug`` used to be one of this tenant's."""
    return db.session.scalar(
        sa.select(Organization.slug)
        .join(OrgSlugRedirect, OrgSlugRedirect.org_id == Organization.id)
        .where(
            OrgSlugRedirect.tenant_id == tenant.id,
            OrgSlugRedirect.old_slug == old_slug,
            Organization.deleted_at.is_(None),
        )
    )


def require(actor: Actor, org: Organization, permission: str) -> OrgAccess:
    granted = actor_access(actor, org)
    if not granted.can(permission):
        if actor.key_scope is not None and actor.key_scope.reaches(org):
            raise InsufficientScope(permission)
        raise PermissionDenied("You don't have permission to do that in this organization.")
    return granted


# --- the tree ------------------------------------------------------------------------


@dataclass
class TreeNode:
    org: Organization
    child_count: int = 0
    member_count: int = 0
    viewer_role: str | None = None
    path: list[PathStep] = field(default_factory=list)

    @property
    def has_children(self) -> bool:
        return self.child_count > 0

    @property
    def can_open(self) -> bool:
        """Shown only as the way to orgs below it that the viewer may open."""
        return self.viewer_role is not None


def _openable_by(user: User, org: type[Organization] = Organization) -> sa.ColumnElement[bool]:
    """Organization rows (``org``: the entity or an alias of it) ``user`` may open: every
    live one of the tenant for a tenant owner or admin, else those at or below one of
    their memberships."""
    if user.is_tenant_admin:
        return sa.true()
    return (
        sa.select(OrgClosure.ancestor_id)
        .join(Membership, Membership.org_id == OrgClosure.ancestor_id)
        .where(OrgClosure.descendant_id == org.id, Membership.user_id == user.id)
        .exists()
    )


def _visible_to(viewer: User, org: type[Organization] = Organization) -> sa.ColumnElement[bool]:
    """The orgs of the tree ``viewer`` sees: all for a tenant owner or admin; for anyone
    else those they may open (at or below a membership) and the ancestors leading there,
    shown without a link."""
    if viewer.is_tenant_admin:
        return sa.true()
    mine = sa.select(Membership.org_id).where(Membership.user_id == viewer.id)
    above = sa.select(OrgClosure.ancestor_id).where(OrgClosure.descendant_id.in_(mine))
    return sa.or_(_openable_by(viewer, org), org.id.in_(above))


def is_visible_to(org: Organization, viewer: User) -> bool:
    if viewer.is_tenant_admin:
        return org.tenant_id == viewer.tenant_id
    return bool(
        db.session.scalar(
            sa.select(sa.literal(True)).where(Organization.id == org.id, _visible_to(viewer))
        )
    )


# The tree lists a level by name; the id breaks ties between equal names.
LEVEL_ORDER = (Organization.name, Organization.id)
LEVEL_KEY_TYPES = (str, int)


def children(
    tenant: Tenant,
    parent: Organization | None,
    viewer: User,
    *,
    cursor: Cursor | None = None,
    counted: bool = False,
) -> KeysetPage[TreeNode]:
    """A page of one level of the tree as ``viewer`` sees it (``_visible_to``), by name
    and by key (``cursor``: "show more" costs the same however far down the level),
    with counts (in the same query) and the viewer's role; 2 queries (3 when
    ``counted``: the level's size)."""
    level = Organization.parent_id == parent.id if parent else Organization.parent_id.is_(None)
    page = keyset_page(
        _live(tenant).add_columns(*_counts(viewer)).where(level, _visible_to(viewer)),
        LEVEL_ORDER,
        cursor=cursor,
        per_page=CHILDREN_PAGE,
        key_of=lambda row: (row[0].name, row[0].id),
    )
    total = None
    if counted:
        total = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Organization)
            .where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None))
            .where(level, _visible_to(viewer))
        )
    return replace(page, items=_nodes(page.items, viewer), total=total)


def _counts(viewer: User) -> tuple[sa.Label[int], sa.Label[int]]:
    """Each listed org's children (that ``viewer`` sees) and direct members, as columns
    of the query that lists them."""
    child = so.aliased(Organization, name="child")
    children_seen = (
        sa.select(sa.func.count())
        .where(
            child.parent_id == Organization.id,
            child.deleted_at.is_(None),
            _visible_to(viewer, child),
        )
        .correlate(Organization)
        .scalar_subquery()
    )
    members = (
        sa.select(sa.func.count())
        .where(Membership.org_id == Organization.id)
        .correlate(Organization)
        .scalar_subquery()
    )
    return children_seen.label("child_count"), members.label("member_count")


def _nodes(
    rows: list[tuple[Organization, int, int]], viewer: User, *, with_paths: bool = False
) -> list[TreeNode]:
    """Tree nodes from rows of (org, child count, member count) (``_counts``), with the
    viewer's role in each (one query) and, ``with_paths``, each one's path (one more)."""
    ids = [org.id for org, *_counts in rows]
    roles = roles_in_orgs(viewer, ids)
    paths = ancestors_of_many(ids) if with_paths else {}
    tenant_role = Role.OWNER if viewer.is_tenant_admin else None
    return [
        TreeNode(
            org=org,
            child_count=child_count,
            member_count=member_count,
            viewer_role=roles.get(org.id) or tenant_role,
            path=paths.get(org.id, []),
        )
        for org, child_count, member_count in rows
    ]


def member_counts_for(org_ids: list[int]) -> dict[int, int]:
    """Direct members of each org, in one query."""
    if not org_ids:
        return {}
    rows = db.session.execute(
        sa.select(Membership.org_id, sa.func.count())
        .where(Membership.org_id.in_(org_ids))
        .group_by(Membership.org_id)
    )
    return dict(rows.all())


def search(tenant: Tenant, query: str, viewer: User) -> list[TreeNode]:
    """Orgs whose name contains ``query`` (literally), each with its path; 3 queries."""
    pattern = f"%{escape_like(query.lower())}%"
    rows = db.session.execute(
        _live(tenant)
        .add_columns(*_counts(viewer))
        .where(sa.func.lower(Organization.name).like(pattern, escape="\\"), _visible_to(viewer))
        .order_by(Organization.name, Organization.id)
        .limit(SEARCH_LIMIT)
    ).all()
    return _nodes(rows, viewer, with_paths=True)


def ancestors(org: Organization) -> list[Organization]:
    """From the root down to the parent (breadcrumbs), in one query."""
    return list(
        db.session.scalars(
            sa.select(Organization)
            .join(OrgClosure, OrgClosure.ancestor_id == Organization.id)
            .where(OrgClosure.descendant_id == org.id, OrgClosure.depth > 0)
            .order_by(OrgClosure.depth.desc())
        )
    )


@dataclass(frozen=True)
class PathStep:
    """One ancestor in a path: just what a path shows (full org rows cost ~10 ms here)."""

    id: int
    name: str
    slug: str


def ancestors_of_many(org_ids: Iterable[int]) -> dict[int, list[PathStep]]:
    """For each org, its ancestors from the root down; one query."""
    org_ids = list(org_ids)
    if not org_ids:
        return {}
    rows = db.session.execute(
        sa.select(OrgClosure.descendant_id, Organization.id, Organization.name, Organization.slug)
        .join(Organization, OrgClosure.ancestor_id == Organization.id)
        .where(OrgClosure.descendant_id.in_(org_ids), OrgClosure.depth > 0)
        .order_by(OrgClosure.descendant_id, OrgClosure.depth.desc())
    )
    paths: dict[int, list[PathStep]] = {}
    for descendant_id, ancestor_id, name, slug in rows:
        paths.setdefault(descendant_id, []).append(PathStep(ancestor_id, name, slug))
    return paths


def subtree_ids(org: Organization) -> sa.Select:
    return sa.select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == org.id)


def recent_activity(org: Organization, limit: int = 10) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.org_id == org.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )


def orgs_query(
    tenant: Tenant,
    *,
    parent: Organization | None = None,
    top_level: bool = False,
    query: str = "",
    within: int | None = None,
) -> sa.Select[tuple[Organization]]:
    """Live orgs of the tenant, optionally one level or a name search, in no order yet;
    ``within``: only that org (by id) and what is below it."""
    stmt = _live(tenant)
    if within is not None:
        stmt = stmt.where(
            Organization.id.in_(
                sa.select(OrgClosure.descendant_id).where(OrgClosure.ancestor_id == within)
            )
        )
    if parent is not None:
        stmt = stmt.where(Organization.parent_id == parent.id)
    elif top_level:
        stmt = stmt.where(Organization.parent_id.is_(None))
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(sa.func.lower(Organization.name).like(pattern, escape="\\"))
    return stmt


def subtree_query(tenant: Tenant, org: Organization) -> sa.Select[tuple[Organization, int]]:
    """Every live org below ``org`` (not itself) with its distance from it."""
    return (
        _live(tenant)
        .add_columns(OrgClosure.depth)
        .join(OrgClosure, OrgClosure.descendant_id == Organization.id)
        .where(OrgClosure.ancestor_id == org.id, OrgClosure.depth > 0)
    )


def public_ids(org_ids: Iterable[int | None]) -> dict[int, str]:
    """Public ids of these orgs (parents, sources of inherited roles); one query."""
    return lookup.public_ids(Organization, org_ids)


# --- the switcher ----------------------------------------------------------------------


@dataclass
class UserOrg:
    org: Organization
    role: str
    path: list[PathStep]


def list_user_orgs(user: User, *, query: str = "", limit: int = 200) -> list[UserOrg]:
    """The orgs a user is a direct member of, with role and path; two queries."""
    stmt = (
        sa.select(Organization, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(
            Membership.user_id == user.id,
            Organization.tenant_id == user.tenant_id,
            Organization.deleted_at.is_(None),
        )
        .order_by(Organization.name, Organization.id)
        .limit(limit)
    )
    if query:
        stmt = stmt.where(
            sa.func.lower(Organization.name).like(f"%{escape_like(query.lower())}%", escape="\\")
        )
    rows = db.session.execute(stmt).all()
    paths = ancestors_of_many(org.id for org, _role in rows)
    return [UserOrg(org=org, role=role, path=paths.get(org.id, [])) for org, role in rows]


@dataclass
class OpenableOrg:
    """An org someone may open, for the switcher: their role there (direct, inherited or
    by tenant role), whether they are a direct member (so may leave), and its path."""

    org: Organization
    role: str | None
    direct: bool
    sole_owner: bool  # the one owner: may not leave before handing ownership on
    path: list[PathStep]

    @property
    def may_leave(self) -> bool:
        return self.direct and not self.sole_owner


SWITCHER_LIMIT = 50


def list_openable_orgs(
    user: User, *, query: str = "", limit: int = SWITCHER_LIMIT
) -> tuple[list[OpenableOrg], bool]:
    """Every org ``user`` may open (direct, inherited, or by tenant role), by name, with
    role and path; ``(orgs, more)``, at most ``limit`` of them. Four queries."""
    stmt = (
        sa.select(Organization)
        .where(
            Organization.tenant_id == user.tenant_id,
            Organization.deleted_at.is_(None),
            _openable_by(user),
        )
        .order_by(Organization.name, Organization.id)
        .limit(limit + 1)
    )
    if query:
        stmt = stmt.where(
            sa.func.lower(Organization.name).like(f"%{escape_like(query.lower())}%", escape="\\")
        )
    found = list(db.session.scalars(stmt))
    more = len(found) > limit
    found = found[:limit]
    ids = [org.id for org in found]
    direct = _direct_memberships(user, ids)
    roles = roles_in_orgs(user, ids)
    paths = ancestors_of_many(ids)
    tenant_role = Role.OWNER if user.is_tenant_admin else None
    return [
        OpenableOrg(
            org=org,
            role=roles.get(org.id) or tenant_role,
            direct=org.id in direct,
            sole_owner=direct.get(org.id, ("", False))[1],
            path=paths.get(org.id, []),
        )
        for org in found
    ], more


def _direct_memberships(user: User, org_ids: list[int]) -> dict[int, tuple[str, bool]]:
    """For each of ``org_ids`` ``user`` is a direct member of: (role, sole owner?) — sole
    owner meaning no other owner there or above, as ``members.leave_org`` counts. One
    query."""
    if not org_ids:
        return {}
    other = so.aliased(Membership)
    other_owners = (
        sa.select(sa.func.count())
        .select_from(other)
        .join(OrgClosure, OrgClosure.ancestor_id == other.org_id)
        .where(
            OrgClosure.descendant_id == Membership.org_id,
            other.role == Role.OWNER,
            other.user_id != user.id,
        )
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Membership.org_id, Membership.role, other_owners).where(
            Membership.user_id == user.id, Membership.org_id.in_(org_ids)
        )
    )
    return {org_id: (role, role == Role.OWNER and others == 0) for org_id, role, others in rows}


def accessible_org(user: User, public_id: str | None) -> Organization | None:
    """The org if ``user`` may still see it (live, same tenant, member or tenant admin)."""
    if not public_id:
        return None
    stmt = sa.select(Organization).where(
        Organization.public_id == public_id,
        Organization.tenant_id == user.tenant_id,
        Organization.deleted_at.is_(None),
    )
    return db.session.scalar(stmt.where(_openable_by(user)))


def switch_org(user: User, org: Organization) -> Organization:
    """Make ``org`` the user's current org; remembered for their next sign-in."""
    if not access(user, org).can(Perm.ORG_READ):
        raise PermissionDenied("You are not a member of that organization.")
    if user.last_org_id != org.id:
        user.last_org_id = org.id
    return org


def remembered_org(user: User) -> Organization | None:
    """The org ``user`` last switched to, if they may still see it (as ``accessible_org``)."""
    if user.last_org_id is None:
        return None
    stmt = sa.select(Organization).where(
        Organization.id == user.last_org_id,
        Organization.tenant_id == user.tenant_id,
        Organization.deleted_at.is_(None),
    )
    return db.session.scalar(stmt.where(_openable_by(user)))


# --- changing --------------------------------------------------------------------------


def _slug_taken(tenant: Tenant):
    def taken(slug: str) -> bool:
        in_use = db.session.scalar(
            sa.select(Organization.id).where(
                Organization.tenant_id == tenant.id, Organization.slug == slug
            )
        )
        redirected = db.session.scalar(
            sa.select(OrgSlugRedirect.id).where(
                OrgSlugRedirect.tenant_id == tenant.id, OrgSlugRedirect.old_slug == slug
            )
        )
        return in_use is not None or redirected is not None

    return taken


def _snapshot(org: Organization) -> dict[str, Any]:
    return {"name": org.name, "slug": org.slug, "logo_url": org.logo_url}


def create_org(
    actor: Actor,
    tenant: Tenant,
    *,
    name: str,
    parent: Organization | None = None,
    slug: str | None = None,
    is_personal: bool = False,
) -> Organization:
    """A new org (top level, or under ``parent``); its creator becomes its owner."""
    user = actor.user
    if not is_personal:
        if parent is None and not may_create_top_level_org(actor):
            raise PermissionDenied("You can't create top-level organizations in this tenant.")
        if parent is not None:
            require(actor, parent, Perm.ORG_CREATE_CHILD)
    name = clean_name(name)
    explicit = bool(slug and slug.strip())
    base = (
        make_slug(slug, field="slug")
        if explicit
        else make_slug(name, field="name", allow_reserved=True)
    )
    taken = _slug_taken(tenant)

    for _attempt in range(SLUG_RETRIES):
        if explicit and taken(base):
            raise ValidationFailed(f"The address “{base}” is already taken.", field="slug")
        org = Organization(
            tenant_id=tenant.id,
            parent_id=parent.id if parent else None,
            name=name,
            slug=base if explicit else next_free_slug(base, taken),
            is_personal=is_personal,
            created_by_id=user.id if user else None,
        )
        try:
            # Two people creating "Acme" at once: the loser of the race retries with -2.
            with db.session.begin_nested():
                db.session.add(org)
                db.session.flush()
        except sa_exc.IntegrityError:
            continue
        break
    else:
        raise Conflict("Could not find a free address for this organization; try again.")

    _link_into_tree(org, parent)
    if user is not None:
        db.session.add(
            Membership(org_id=org.id, user_id=user.id, role=Role.OWNER, created_by_id=user.id)
        )
    audit.record(
        actor,
        "org.created",
        tenant=tenant,
        org=org,
        target=org,
        after={**_snapshot(org), "parent": parent.public_id if parent else None},
    )
    return org


def create_personal_org(user: User, tenant: Tenant) -> Organization:
    """The org a tenant with personal orgs gives each new user, owned by them."""
    first_name = user.display_name.split(" ")[0] if user.name else user.email.split("@")[0]
    return create_org(
        Actor.for_user(user),
        tenant,
        name=f"{first_name}'s organization",
        is_personal=True,
    )


def _link_into_tree(org: Organization, parent: Organization | None) -> None:
    db.session.add(OrgClosure(ancestor_id=org.id, descendant_id=org.id, depth=0))
    if parent is not None:
        db.session.execute(
            sa.insert(OrgClosure).from_select(
                ["ancestor_id", "descendant_id", "depth"],
                sa.select(OrgClosure.ancestor_id, sa.literal(org.id), OrgClosure.depth + 1).where(
                    OrgClosure.descendant_id == parent.id
                ),
            )
        )


def update_org(
    actor: Actor,
    tenant: Tenant,
    org: Organization,
    *,
    name: str,
    slug: str,
    logo_url: str | None,
) -> Organization:
    require(actor, org, Perm.ORG_UPDATE)
    before = _snapshot(org)
    org.name = clean_name(name)
    new_slug = make_slug(slug)
    if new_slug != (slug or "").strip():
        raise ValidationFailed(
            f"Use lowercase letters, digits and hyphens, e.g. “{new_slug}”.", field="slug"
        )
    if new_slug != org.slug:
        taken_by_other = db.session.scalar(
            sa.select(Organization.id).where(
                Organization.tenant_id == tenant.id,
                Organization.slug == new_slug,
                Organization.id != org.id,
            )
        )
        old_redirect = db.session.scalar(
            sa.select(OrgSlugRedirect).where(
                OrgSlugRedirect.tenant_id == tenant.id, OrgSlugRedirect.old_slug == new_slug
            )
        )
        if taken_by_other or (old_redirect and old_redirect.org_id != org.id):
            raise ValidationFailed(f"The address “{new_slug}” is already taken.", field="slug")
        if old_redirect is not None:
            db.session.delete(old_redirect)  # taking back one of its own former slugs
        db.session.add(OrgSlugRedirect(tenant_id=tenant.id, old_slug=org.slug, org_id=org.id))
        org.slug = new_slug
    org.logo_url = _clean_logo_url(logo_url)
    after = _snapshot(org)
    if after != before:
        db.session.flush()
        audit.record(
            actor,
            "org.updated",
            tenant=tenant,
            org=org,
            target=org,
            changes=audit.before_after(before, after),
        )
    return org


def _clean_logo_url(raw: str | None) -> str | None:
    url = (raw or "").strip()
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL at all ("https://0[": an unclosed IPv6 bracket)
        parts = None
    if parts is None or parts.scheme != "https" or not parts.netloc or len(url) > 500:
        raise ValidationFailed(
            "Use an https:// address of at most 500 characters.", field="logo_url"
        )
    return url


def move_org(
    actor: Actor, tenant: Tenant, org: Organization, new_parent: Organization | None
) -> Organization:
    """Put ``org`` (with its subtree) under ``new_parent``, or at the top level.

    Moving takes rights where the org leaves as well as where it lands: an admin of only
    a sub-org can't cut it loose from the parent whose owners manage it. And an org that
    has an owner (directly or above it) keeps one after the move."""
    require(actor, org, Perm.ORG_UPDATE)
    old_parent = db.session.get(Organization, org.parent_id) if org.parent_id else None
    if old_parent is not None:
        require(actor, old_parent, Perm.ORG_CREATE_CHILD)
    if new_parent is None:
        if not may_create_top_level_org(actor):
            raise PermissionDenied("You can't place organizations at the top level.")
    else:
        require(actor, new_parent, Perm.ORG_CREATE_CHILD)
        in_subtree = db.session.scalar(
            sa.select(OrgClosure.depth).where(
                OrgClosure.ancestor_id == org.id, OrgClosure.descendant_id == new_parent.id
            )
        )
        if in_subtree is not None:
            raise ValidationFailed(
                "An organization can't move under itself or one of its own sub-organizations.",
                field="parent",
            )
    if org.parent_id == (new_parent.id if new_parent else None):
        return org

    owned_before = _has_owner_in_tree(org)
    subtree = subtree_ids(org).scalar_subquery()
    # Cut the subtree from its old ancestors…
    db.session.execute(
        sa.delete(OrgClosure).where(
            OrgClosure.descendant_id.in_(subtree),
            OrgClosure.ancestor_id.not_in(subtree_ids(org).scalar_subquery()),
        )
    )
    # …and hang it under the new ones: every new ancestor times every node of the subtree.
    if new_parent is not None:
        above = so.aliased(OrgClosure)
        below = so.aliased(OrgClosure)
        db.session.execute(
            sa.insert(OrgClosure).from_select(
                ["ancestor_id", "descendant_id", "depth"],
                sa.select(above.ancestor_id, below.descendant_id, above.depth + below.depth + 1)
                .select_from(above)
                .join(below, sa.true())  # every new ancestor with every node of the subtree
                .where(above.descendant_id == new_parent.id)
                .where(below.ancestor_id == org.id),
            )
        )
    org.parent_id = new_parent.id if new_parent else None
    db.session.flush()
    if owned_before and not _has_owner_in_tree(org):
        raise Conflict(
            f"{org.name} would have no owner there: its owners are above it now. "
            "Make someone its owner first."
        )
    audit.record(
        actor,
        "org.moved",
        tenant=tenant,
        org=org,
        target=org,
        before={"parent": old_parent.public_id if old_parent else None},
        after={"parent": new_parent.public_id if new_parent else None},
    )
    return org


def _has_owner_in_tree(org: Organization) -> bool:
    """Whether someone owns ``org``, directly or through an org above it."""
    return db.session.scalar(
        sa.select(
            sa.select(Membership.org_id)
            .join(OrgClosure, OrgClosure.ancestor_id == Membership.org_id)
            .where(OrgClosure.descendant_id == org.id, Membership.role == Role.OWNER)
            .exists()
        )
    )


def delete_org(actor: Actor, tenant: Tenant, org: Organization) -> int:
    """Hide the org and its live subtree; returns how many orgs were hidden."""
    require(actor, org, Perm.ORG_DELETE)
    if org.is_personal:
        raise Conflict("A personal organization can't be deleted while its owner exists.")
    personal_below = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Organization)
        .where(
            Organization.id.in_(subtree_ids(org).scalar_subquery()),
            Organization.is_personal.is_(True),
            Organization.deleted_at.is_(None),
        )
    )
    if personal_below:
        raise Conflict("A personal organization below this one can't be deleted.")
    now = utcnow()
    result = db.session.execute(
        sa.update(Organization)
        .where(
            Organization.id.in_(subtree_ids(org).scalar_subquery()),
            Organization.deleted_at.is_(None),
        )
        .values(deleted_at=now, deleted_root_id=org.id)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(org)
    audit.record(
        actor,
        "org.deleted",
        tenant=tenant,
        org=org,
        target=org,
        after={"hidden_orgs": result.rowcount},
    )
    return result.rowcount


def restore_org(actor: Actor, tenant: Tenant, org: Organization) -> int:
    """Bring back an org together with everything its deletion hid."""
    require_tenant(actor, TenantPerm.ORGS_RESTORE)
    if org.deleted_root_id != org.id:
        raise Conflict("This organization was deleted with a parent: restore that one.")
    if org.parent_id is not None:
        parent = db.session.get(Organization, org.parent_id)
        if parent is not None and parent.is_deleted:
            raise Conflict("Its parent organization is deleted: restore the parent first.")
    result = db.session.execute(
        sa.update(Organization)
        .where(Organization.deleted_root_id == org.id)
        .values(deleted_at=None, deleted_root_id=None)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(org)
    audit.record(
        actor,
        "org.restored",
        tenant=tenant,
        org=org,
        target=org,
        after={"restored_orgs": result.rowcount},
    )
    return result.rowcount


def list_deleted(tenant: Tenant) -> list[tuple[Organization, int]]:
    """Each deletion's root org with how many orgs it hid, newest first; one query."""
    hidden = (
        sa.select(Organization.deleted_root_id, sa.func.count().label("hidden"))
        .where(Organization.tenant_id == tenant.id, Organization.deleted_root_id.is_not(None))
        .group_by(Organization.deleted_root_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Organization, hidden.c.hidden)
        .join(hidden, hidden.c.deleted_root_id == Organization.id)
        .order_by(Organization.deleted_at.desc())
        .limit(200)
    )
    return [(org, count) for org, count in rows]


MOVE_CHOICES = 500


@dataclass(frozen=True)
class ParentChoice:
    """A candidate new parent, in tree order: ``depth`` 0 is a top-level org."""

    public_id: str
    name: str
    depth: int


def org_choices_for_move(tenant: Tenant, org: Organization, user: User) -> list[ParentChoice]:
    """Candidate new parents: the live orgs outside this subtree, as the tree shows them
    (each parent before its children, siblings by name), at most ``MOVE_CHOICES``.

    One query over the tenant's live orgs (names and parents only: 10,000 orgs read in a
    few milliseconds); the tree is walked here."""
    rows = db.session.execute(
        sa.select(
            Organization.id, Organization.parent_id, Organization.public_id, Organization.name
        )
        .where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None))
        .order_by(sa.func.lower(Organization.name), Organization.id)
    ).all()
    children: dict[int | None, list[Any]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    choices: list[ParentChoice] = []
    stack = [(row, 0) for row in reversed(children.get(None, []))]
    while stack and len(choices) < MOVE_CHOICES:
        row, depth = stack.pop()
        if row.id == org.id:
            continue  # itself and its subtree can't be its new parent
        choices.append(ParentChoice(row.public_id, row.name, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(row.id, [])))
    return choices
