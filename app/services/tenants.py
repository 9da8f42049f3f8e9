"""Tenants: create with their owner, find, list, suspend and reactivate."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from app.actors import Actor
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.models import (
    Invitation,
    InvitationStatus,
    Membership,
    Organization,
    OutboxEmail,
    Tenant,
    TenantRole,
    TenantStatus,
    User,
    utcnow,
)
from app.policy import StaffAction, TenantPerm, require_staff_permission, require_tenant
from app.services import audit, orgs, passwords
from app.services.accounts import create_user
from app.services.pagination import Cursor, KeysetPage, keyset_page
from app.services.validation import (
    check_password,
    clean_name,
    escape_like,
    make_slug,
    next_free_slug,
    normalize_email,
)

SLUG_RETRIES = 5
TENANT_USERS_PAGE = 50


class SameNameTenant(ValidationFailed):
    """Another live tenant already has this name (ignoring case and spacing): likely the
    one meant, so the console asks before making a second."""

    def __init__(self, existing: Tenant) -> None:
        super().__init__(
            f"A tenant named “{existing.name}” already exists (/t/{existing.slug}/).",
            field="name",
        )
        self.existing = existing


def get_tenant(slug: str) -> Tenant:
    """An existing, not deleted tenant (suspended ones included: the caller decides)."""
    tenant = db.session.scalar(
        sa.select(Tenant).where(Tenant.slug == slug, Tenant.deleted_at.is_(None))
    )
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


def _slug_taken(slug: str) -> bool:
    return db.session.scalar(sa.select(Tenant.id).where(Tenant.slug == slug)) is not None


def create_tenant(
    actor: Actor,
    *,
    name: str,
    owner_email: str,
    owner_password: str | None = None,
    owner_name: str = "",
    slug: str | None = None,
    allow_signup: bool = False,
    warn_on_same_name: bool = False,
) -> tuple[Tenant, User]:
    """A tenant and its owner. An explicit slug must be free; a derived one gets -2, -3…

    With ``warn_on_same_name`` (the console, until the person confirms), a name another
    tenant already has is refused with ``SameNameTenant``; names need not be unique."""
    require_staff_permission(actor, StaffAction.TENANTS_CREATE, "create tenants")
    name = clean_name(name)
    if warn_on_same_name:
        existing = tenant_named(name)
        if existing is not None:
            raise SameNameTenant(existing)
    owner_email = normalize_email(owner_email, field="owner_email")
    if owner_password:
        check_password(owner_password, field="owner_password")
    explicit = bool(slug and slug.strip())
    base = (
        make_slug(slug, field="slug")
        if explicit
        else make_slug(name, field="name", allow_reserved=True)
    )
    if explicit and base != slug.strip():
        raise ValidationFailed(
            f"Use lowercase letters, digits and hyphens, e.g. “{base}”.", field="slug"
        )

    for _attempt in range(SLUG_RETRIES):
        if explicit and _slug_taken(base):
            raise ValidationFailed(f"The slug “{base}” is already taken.", field="slug")
        candidate = base if explicit else next_free_slug(base, _slug_taken)
        tenant = Tenant(name=name, slug=candidate, allow_signup=allow_signup)
        try:
            # A savepoint: a concurrent insert of the same slug loses only this attempt.
            with db.session.begin_nested():
                db.session.add(tenant)
                db.session.flush()
        except sa_exc.IntegrityError:
            continue
        break
    else:
        raise Conflict("Could not find a free slug; try again.")

    owner = create_user(
        tenant,
        email=owner_email,
        name=" ".join(owner_name.split()),
        password=owner_password or None,
        tenant_role=TenantRole.OWNER,
        # An operator who chose the password vouches for the address; otherwise the
        # welcome link that sets the password proves it.
        email_verified=bool(owner_password),
    )
    if not owner_password:
        passwords.send_owner_welcome(tenant, owner)
    audit.record(
        actor,
        "tenant.created",
        tenant=tenant,
        target=tenant,
        after={"name": tenant.name, "slug": tenant.slug, "owner_email": owner.email},
    )
    return tenant, owner


def suspend_tenant(actor: Actor, tenant: Tenant) -> Tenant:
    require_staff_permission(actor, StaffAction.TENANTS_SUSPEND, "suspend tenants")
    if tenant.status == TenantStatus.SUSPENDED:
        raise Conflict(f"{tenant.name} is already suspended.")
    tenant.status = TenantStatus.SUSPENDED
    tenant.suspended_at = utcnow()
    audit.record(
        actor,
        "tenant.suspended",
        tenant=tenant,
        target=tenant,
        before={"status": TenantStatus.ACTIVE},
        after={"status": TenantStatus.SUSPENDED},
    )
    return tenant


def reactivate_tenant(actor: Actor, tenant: Tenant) -> Tenant:
    require_staff_permission(actor, StaffAction.TENANTS_SUSPEND, "reactivate tenants")
    if tenant.status == TenantStatus.ACTIVE:
        raise Conflict(f"{tenant.name} is already active.")
    tenant.status = TenantStatus.ACTIVE
    tenant.suspended_at = None
    audit.record(
        actor,
        "tenant.reactivated",
        tenant=tenant,
        target=tenant,
        before={"status": TenantStatus.SUSPENDED},
        after={"status": TenantStatus.ACTIVE},
    )
    return tenant


def tenant_named(name: str) -> Tenant | None:
    """The oldest live tenant with this name, ignoring case and spacing."""
    folded = " ".join(name.split()).lower()
    return db.session.scalar(
        sa.select(Tenant)
        .where(sa.func.lower(Tenant.name) == folded, Tenant.deleted_at.is_(None))
        .order_by(Tenant.id)
        .limit(1)
    )


def get_tenant_by_public_id(public_id: str) -> Tenant:
    tenant = db.session.scalar(
        sa.select(Tenant).where(Tenant.public_id == public_id, Tenant.deleted_at.is_(None))
    )
    if tenant is None:
        raise NotFound("No such tenant.")
    return tenant


TENANTS_PAGE = 25
# A page's edge row as a cursor: the id for the tenants list (newest first: ids grow as
# tenants are made, and the primary key orders them without another index), (name, id)
# for a tenant's users.
TENANTS_CURSOR = (int,)
USERS_CURSOR = (str, int)


def search_tenants(
    query: str = "", *, cursor: Cursor | None = None, per_page: int = TENANTS_PAGE
) -> KeysetPage:
    """Tenants by name or slug fragment (``%`` and ``_`` match literally), newest first,
    as plain rows (id, public_id, name, slug, status, created_at), a page by key."""
    stmt = tenants_matching(query).with_only_columns(
        Tenant.id, Tenant.public_id, Tenant.name, Tenant.slug, Tenant.status, Tenant.created_at
    )
    return keyset_page(
        stmt,
        [Tenant.id],
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.id,),
        descending=True,
    )


def tenants_matching(query: str) -> sa.Select[tuple[Tenant]]:
    """Live tenants whose name or slug contains ``query``, case-insensitively (every live
    tenant for an empty one); unordered. Trigram indexes on lower(name) and slug answer
    it on PostgreSQL."""
    stmt = sa.select(Tenant).where(Tenant.deleted_at.is_(None))
    query = query.strip()
    if query:
        pattern = f"%{escape_like(query.lower())}%"
        stmt = stmt.where(
            sa.or_(
                sa.func.lower(Tenant.name).like(pattern, escape="\\"),
                Tenant.slug.like(pattern, escape="\\"),
            )
        )
    return stmt


def list_users(
    tenant: Tenant, *, cursor: Cursor | None = None, per_page: int = TENANT_USERS_PAGE
) -> KeysetPage:
    """A page of the tenant's users in (name, id) order, as plain rows: a seek on the
    (tenant_id, name, id) index, so the thousandth page costs what the first does."""
    stmt = sa.select(
        User.id,
        User.public_id,
        User.name,
        User.email,
        User.tenant_role,
        User.email_verified_at,
        User.is_active_account,
    ).where(User.tenant_id == tenant.id)
    return keyset_page(
        stmt,
        [User.name, User.id],
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.name, row.id),
    )


def count_users(tenant_ids: list[int]) -> dict[int, int]:
    """User counts for a page of tenants, in one query."""
    if not tenant_ids:
        return {}
    rows = db.session.execute(
        sa.select(User.tenant_id, sa.func.count())
        .where(User.tenant_id.in_(tenant_ids))
        .group_by(User.tenant_id)
    )
    return dict(rows.all())


def update_tenant_rules(
    actor: Actor,
    tenant: Tenant,
    *,
    allow_signup: bool,
    signup_email_domains: list[str],
    personal_orgs: bool,
    members_can_create_orgs: bool,
    seat_limit: int | None = None,
) -> Tenant:
    """The tenant's auth and organization rules (tenant owners and admins)."""
    require_tenant(actor, TenantPerm.SETTINGS_UPDATE)
    domains = sorted({clean_domain(d) for d in signup_email_domains if d.strip()})
    if seat_limit is not None and not 1 <= seat_limit <= 1_000_000:
        raise ValidationFailed(
            "Use a number from 1 to 1,000,000, or leave it empty.", field="seat_limit"
        )
    fields = (
        "allow_signup",
        "signup_email_domains",
        "personal_orgs",
        "members_can_create_orgs",
        "seat_limit",
    )
    before = {name: getattr(tenant, name) for name in fields}
    tenant.allow_signup = allow_signup
    tenant.signup_email_domains = domains
    tenant.personal_orgs = personal_orgs
    tenant.members_can_create_orgs = members_can_create_orgs
    tenant.seat_limit = seat_limit
    after = {name: getattr(tenant, name) for name in fields}
    if after != before:
        db.session.flush()
        audit.record(
            actor,
            "tenant.settings_updated",
            tenant=tenant,
            target=tenant,
            changes=audit.before_after(before, after),
        )
    return tenant


def clean_domain(raw: str) -> str:
    """``Example.COM`` → ``example.com``; refuses what can't be an email domain."""
    domain = raw.strip().lower().lstrip("@")
    try:
        normalize_email(f"someone@{domain}", field="signup_email_domains")
    except ValidationFailed:
        raise ValidationFailed(
            f"“{raw.strip()}” is not an email domain.", field="signup_email_domains"
        ) from None
    return domain


# --- a tenant at a glance (the support console) ---------------------------------


@dataclass
class TenantStats:
    users: int = 0
    deactivated_users: int = 0
    memberships: int = 0
    orgs: int = 0
    deleted_orgs: int = 0
    invitations: dict[str, int] = field(default_factory=dict)  # by effective status
    outbox: dict[str, int] = field(default_factory=dict)  # by status


def tenant_stats(tenant: Tenant) -> TenantStats:
    """Every count the tenant page shows, in one query (a UNION ALL of small counts)."""
    now = utcnow()

    def part(kind: str, key: sa.ColumnElement, model: type) -> sa.Select:
        return sa.select(
            sa.literal(kind, sa.String).label("kind"),
            sa.cast(key, sa.String).label("key"),
            sa.func.count().label("n"),
        ).select_from(model)

    user_state = sa.case((User.is_active_account.is_(True), "active"), else_="deactivated")
    org_state = sa.case((Organization.deleted_at.is_(None), "live"), else_="deleted")
    invitation_state = sa.case(
        (
            sa.and_(Invitation.status == InvitationStatus.PENDING, Invitation.expires_at <= now),
            InvitationStatus.EXPIRED,
        ),
        else_=Invitation.status,
    )
    parts = [
        part("users", user_state, User).where(User.tenant_id == tenant.id).group_by(user_state),
        part("orgs", org_state, Organization)
        .where(Organization.tenant_id == tenant.id)
        .group_by(org_state),
        part("memberships", sa.literal("all", sa.String), Membership)
        .join(Organization, Organization.id == Membership.org_id)
        .where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None)),
        part("invitations", invitation_state, Invitation)
        .where(Invitation.tenant_id == tenant.id)
        .group_by(invitation_state),
        part("outbox", OutboxEmail.status, OutboxEmail)
        .where(OutboxEmail.tenant_id == tenant.id)
        .group_by(OutboxEmail.status),
    ]
    stats = TenantStats()
    for kind, key, count in db.session.execute(sa.union_all(*parts)):
        if kind == "users":
            stats.users += count
            if key == "deactivated":
                stats.deactivated_users = count
        elif kind == "orgs":
            if key == "live":
                stats.orgs = count
            else:
                stats.deleted_orgs = count
        elif kind == "memberships":
            stats.memberships = count
        elif kind == "invitations":
            stats.invitations[key] = count
        elif kind == "outbox":
            stats.outbox[key] = count
    return stats


# --- one level of a tenant's org tree (the support console) ----------------------


@dataclass(frozen=True)
class OrgNode:
    """An org of a level (a plain row: id, public_id, name, slug, is_personal) with its
    live sub-organizations and direct members counted."""

    org: sa.Row
    child_count: int = 0
    member_count: int = 0


ORG_LEVEL_PAGE = 100
ORG_LEVEL_CURSOR = (str, int)  # a page's edge row: (name, id)


def org_level(
    tenant: Tenant,
    parent: Organization | None,
    *,
    cursor: Cursor | None = None,
    per_page: int = ORG_LEVEL_PAGE,
) -> KeysetPage[OrgNode]:
    """A page of one level of a tenant's live org tree by (name, id), by key, with child
    and member counts; three queries at any size or depth (orgs.children needs a viewing
    user, staff are none)."""
    level = Organization.parent_id == parent.id if parent else Organization.parent_id.is_(None)
    page = keyset_page(
        sa.select(
            Organization.id,
            Organization.public_id,
            Organization.name,
            Organization.slug,
            Organization.is_personal,
        ).where(Organization.tenant_id == tenant.id, Organization.deleted_at.is_(None), level),
        [Organization.name, Organization.id],
        cursor=cursor,
        per_page=per_page,
        key_of=lambda row: (row.name, row.id),
    )
    ids = [row.id for row in page.items]
    child_counts: dict[int, int] = {}
    if ids:
        child_counts = dict(
            db.session.execute(
                sa.select(Organization.parent_id, sa.func.count())
                .where(Organization.parent_id.in_(ids), Organization.deleted_at.is_(None))
                .group_by(Organization.parent_id)
            ).all()
        )
    member_counts = orgs.member_counts_for(ids)
    nodes = [
        OrgNode(row, child_counts.get(row.id, 0), member_counts.get(row.id, 0))
        for row in page.items
    ]
    return replace(page, items=nodes)
