"""The member rules, called directly: inheritance, grants, and owners that can't vanish."""

from __future__ import annotations

import pytest

from app.actors import Actor
from app.errors import Conflict, PermissionDenied
from app.extensions import db
from app.models import Tenant, TenantRole
from app.services import members


def test_inherited_members_appear_with_their_source(app, tenant, world):
    with app.app_context():
        page = members.list_members(tenant, world.platform)
        roles = {
            row.user.email: (row.role, row.source.name if row.source else None)
            for row in page.items
        }
        assert roles["hana@acme.example"] == ("owner", "Acme HQ")
        assert roles["vic@acme.example"] == ("viewer", "Engineering")


def test_effective_role_is_the_strongest(app, tenant, world, add_member):
    add_member(world.hq, world.viewer, "admin")
    with app.app_context():
        rows = members.list_members(tenant, world.platform, query="viewer").items
        assert [(r.role, r.source.name) for r in rows] == [("admin", "Acme HQ")]
        admins = members.list_members(tenant, world.platform, role="admin").items
        assert {r.user.email for r in admins} == {"ada@acme.example", "vic@acme.example"}
        viewers = members.list_members(tenant, world.platform, role="viewer").items
        assert viewers == []


def test_search_wildcards_match_literally(app, tenant, world, create_user, add_member):
    odd = create_user(tenant, "under_score@example.com", name="100% Person")
    add_member(world.hq, odd, "member")
    hq = world.hq
    with app.app_context():
        assert [r.user.email for r in members.list_members(tenant, hq, query="%").items] == [
            odd.email
        ]
        assert [r.user.email for r in members.list_members(tenant, hq, query="_").items] == [
            odd.email
        ]


def test_admin_cannot_promote_to_owner_or_touch_owners(app, tenant, world):
    engineering, admin, owner, member = world.engineering, world.admin, world.owner, world.member
    with app.app_context():
        actor = Actor.for_user(admin)
        for target, role in ((member, "owner"), (admin, "owner")):
            with pytest.raises(PermissionDenied):
                members.change_role(actor, tenant, engineering, target, role)
        with pytest.raises(PermissionDenied):
            members.change_role(actor, tenant, engineering, owner, "admin")
        with pytest.raises(PermissionDenied):
            members.remove_member(actor, tenant, engineering, owner)
        members.change_role(actor, tenant, engineering, member, "viewer")
        db.session.rollback()


def test_last_owner_cannot_leave_be_removed_or_demoted(app, tenant, world):
    hq, owner = world.hq, world.hq_owner
    with app.app_context():
        actor = Actor.for_user(owner)
        with pytest.raises(Conflict, match="without an owner"):
            members.change_role(actor, tenant, hq, owner, "admin")
        with pytest.raises(Conflict, match="without an owner"):
            members.remove_member(actor, tenant, hq, owner)
        with pytest.raises(Conflict, match="without an owner"):
            members.leave_org(actor, tenant, hq)
        db.session.rollback()


def test_transfer_ownership(app, tenant, world):
    with app.app_context():
        engineering = world.engineering
        members.transfer_ownership(
            Actor.for_user(world.hq_owner), tenant, engineering, world.hq_member
        )
        rows = {r.user.email: r.role for r in members.list_members(tenant, engineering).items}
        assert rows["ines@acme.example"] == "owner"
        db.session.rollback()


def test_seat_limit(app, tenant, world, create_user):
    extra = create_user(tenant, tenant_role=TenantRole.MEMBER)
    with app.app_context():
        acme = db.session.get(Tenant, tenant.id)
        acme.seat_limit = 4
        with pytest.raises(Conflict, match="limit of 4"):
            members.add_member(
                Actor.for_user(world.owner), acme, world.engineering, extra, "member"
            )
        db.session.rollback()


def test_csv_cells_cannot_be_formulas():
    assert members.safe_cell("=SUM(A1)") == "'=SUM(A1)"
    assert members.safe_cell("+1") == "'+1"
    assert members.safe_cell("-1") == "'-1"
    assert members.safe_cell("@cmd") == "'@cmd"
    assert members.safe_cell("Ann") == "Ann"


def test_admin_cannot_touch_a_custom_role_as_strong_as_owner(
    app, tenant, world, create_user, add_member
):
    from app.models import CustomRole
    from app.policy import ALL_PERMISSIONS

    strong = create_user(tenant, "strong@example.com")
    with app.app_context():
        db.session.add(
            CustomRole(
                tenant_id=tenant.id,
                key="deleter",
                name="Deleter",
                permissions=sorted(ALL_PERMISSIONS),
            )
        )
        db.session.commit()
    add_member(world.engineering, strong, "deleter")
    with app.app_context():
        admin, engineering = Actor.for_user(world.admin), world.engineering
        with pytest.raises(PermissionDenied):
            members.change_role(admin, tenant, engineering, strong, "member")
        with pytest.raises(PermissionDenied):
            members.remove_member(admin, tenant, engineering, strong)
        db.session.rollback()


def test_transfer_to_an_owner_is_refused(app, tenant, world, add_member):
    from app.errors import ValidationFailed

    add_member(world.engineering, world.hq_member, "owner")
    with app.app_context():
        with pytest.raises(ValidationFailed, match="already an owner"):
            members.transfer_ownership(
                Actor.for_user(world.owner), tenant, world.engineering, world.hq_member
            )
        db.session.rollback()


@pytest.fixture
def mixed_tree(world, tenant, create_user, add_member):
    """Members at every level with overlapping roles and repeated names, and a user of
    the tenant who belongs nowhere."""
    grandchild = world.platform
    extra = [
        (world.hq, "member"),
        (world.engineering, "admin"),
        (grandchild, "viewer"),
        (world.engineering, "owner"),
        (grandchild, "member"),
    ]
    for n, (org, role) in enumerate(extra * 3):
        user = create_user(tenant, f"pat{n}@example.com", name=f"Pat {'Lee' if n % 2 else 'Kim'}")
        add_member(org, user, role)
        if n % 4 == 0 and org is not grandchild:  # a weaker role nearer the page's org too
            add_member(grandchild, user, "viewer")
    create_user(tenant, "pat.outside@example.com", name="Pat Out")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"query": "pat"},
        {"query": "lee"},
        {"query": "@example.com"},
        {"role": "owner"},
        {"role": "admin"},
        {"role": "viewer"},
        {"role": "member", "query": "kim"},
        {"sort": "-name"},
        {"sort": "email"},
    ],
)
def test_fetching_by_id_and_walking_the_users_give_the_same_page(
    app, tenant, world, mixed_tree, monkeypatch, filters
):
    """Small trees and rare roles are fetched by id, big ones walked in page order: the
    rows must not depend on which way was taken."""

    def pages(per_page: int):
        """Every page, following Next from the first."""
        found, cursor = [], None
        with app.app_context():
            while True:
                page = members.list_members(
                    tenant, world.platform, per_page=per_page, cursor=cursor, **filters
                )
                found.append(
                    [
                        (r.user.email, r.role, r.direct_role, r.source and r.source.name)
                        for r in page.items
                    ]
                )
                if page.next_key is None:
                    return found
                sort = members.SORTS[filters.get("sort", "name")]
                cursor = sort.cursor({"after": page.next_key})

    by_id = pages(4) + pages(50)
    monkeypatch.setattr(members, "FEW_MEMBERS", 0)
    monkeypatch.setattr(members, "FEW_HOLDERS", 0)
    walked = pages(4) + pages(50)
    assert by_id == walked
    assert by_id[-1], filters  # every filter here matches someone
    assert "pat.outside@example.com" not in {email for email, *_ in by_id[-1]}
