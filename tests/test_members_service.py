"""The member rules, called directly: inheritance, grants, and owners that can't vanish."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import TenantRole
from app.services import members
from app.services.actors import Actor
from app.services.errors import Conflict, PermissionDenied


@pytest.fixture
def world(app, tenant, create_org, create_user, add_member):
    root = create_org(tenant, "Root")
    child = create_org(tenant, "Child", parent=root)
    grandchild = create_org(tenant, "Grandchild", parent=child)
    people = {
        role: create_user(tenant, f"{role}@example.com", name=role.title())
        for role in ("owner", "admin", "member", "viewer")
    }
    for role, user in people.items():
        add_member(root, user, role)
    return {"root": root, "child": child, "grandchild": grandchild, **people}


def _merge(*objects):
    return [db.session.merge(o, load=False) for o in objects]


def test_inherited_members_appear_with_their_source(app, tenant, world):
    with app.app_context():
        tenant_, grandchild = _merge(tenant, world["grandchild"])
        page = members.list_members(tenant_, grandchild)
        roles = {
            row.user.email: (row.role, row.source.name if row.source else None)
            for row in page.items
        }
        assert roles["owner@example.com"] == ("owner", "Root")
        assert roles["viewer@example.com"] == ("viewer", "Root")


def test_effective_role_is_the_strongest(app, tenant, world, add_member):
    add_member(world["child"], world["viewer"], "admin")
    with app.app_context():
        tenant_, grandchild = _merge(tenant, world["grandchild"])
        rows = members.list_members(tenant_, grandchild, query="viewer").items
        assert [(r.role, r.source.name) for r in rows] == [("admin", "Child")]
        admins = members.list_members(tenant_, grandchild, role="admin").items
        assert {r.user.email for r in admins} == {"admin@example.com", "viewer@example.com"}
        viewers = members.list_members(tenant_, grandchild, role="viewer").items
        assert viewers == []


def test_search_wildcards_match_literally(app, tenant, world, create_user, add_member):
    odd = create_user(tenant, "under_score@example.com", name="100% Person")
    add_member(world["root"], odd, "member")
    with app.app_context():
        tenant_, root = _merge(tenant, world["root"])
        assert [r.user.email for r in members.list_members(tenant_, root, query="%").items] == [
            odd.email
        ]
        assert [r.user.email for r in members.list_members(tenant_, root, query="_").items] == [
            odd.email
        ]


def test_admin_cannot_promote_to_owner_or_touch_owners(app, tenant, world):
    with app.app_context():
        tenant_, root, admin, owner, member = _merge(
            tenant, world["root"], world["admin"], world["owner"], world["member"]
        )
        actor = Actor.for_user(admin)
        for target, role in ((member, "owner"), (admin, "owner")):
            with pytest.raises(PermissionDenied):
                members.change_role(actor, tenant_, root, target, role)
        with pytest.raises(PermissionDenied):
            members.change_role(actor, tenant_, root, owner, "admin")
        with pytest.raises(PermissionDenied):
            members.remove_member(actor, tenant_, root, owner)
        members.change_role(actor, tenant_, root, member, "viewer")
        db.session.rollback()


def test_last_owner_cannot_leave_be_removed_or_demoted(app, tenant, world):
    with app.app_context():
        tenant_, root, owner = _merge(tenant, world["root"], world["owner"])
        actor = Actor.for_user(owner)
        with pytest.raises(Conflict, match="without an owner"):
            members.change_role(actor, tenant_, root, owner, "admin")
        with pytest.raises(Conflict, match="without an owner"):
            members.remove_member(actor, tenant_, root, owner)
        with pytest.raises(Conflict, match="without an owner"):
            members.leave_org(actor, tenant_, root)
        db.session.rollback()


def test_transfer_ownership(app, tenant, world):
    with app.app_context():
        tenant_, child, owner, member = _merge(
            tenant, world["child"], world["owner"], world["member"]
        )
        members.transfer_ownership(Actor.for_user(owner), tenant_, child, member)
        rows = {r.user.email: r.role for r in members.list_members(tenant_, child).items}
        assert rows["member@example.com"] == "owner"
        db.session.rollback()


def test_seat_limit(app, tenant, world, create_user):
    extra = create_user(tenant, tenant_role=TenantRole.MEMBER)
    with app.app_context():
        tenant_, root, owner, extra_ = _merge(tenant, world["root"], world["owner"], extra)
        tenant_.seat_limit = 4
        with pytest.raises(Conflict, match="limit of 4"):
            members.add_member(Actor.for_user(owner), tenant_, root, extra_, "member")
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
    add_member(world["root"], strong, "deleter")
    with app.app_context():
        tenant_, root, admin, strong_ = _merge(tenant, world["root"], world["admin"], strong)
        with pytest.raises(PermissionDenied):
            members.change_role(Actor.for_user(admin), tenant_, root, strong_, "member")
        with pytest.raises(PermissionDenied):
            members.remove_member(Actor.for_user(admin), tenant_, root, strong_)
        db.session.rollback()


def test_transfer_to_an_owner_is_refused(app, tenant, world, add_member):
    from app.services.errors import ValidationFailed

    add_member(world["child"], world["member"], "owner")
    with app.app_context():
        tenant_, child, owner, member = _merge(
            tenant, world["child"], world["owner"], world["member"]
        )
        with pytest.raises(ValidationFailed, match="already an owner"):
            members.transfer_ownership(Actor.for_user(owner), tenant_, child, member)
        db.session.rollback()


@pytest.fixture
def mixed_tree(world, tenant, create_user, add_member):
    """Members at every level with overlapping roles and repeated names, and a user of
    the tenant who belongs nowhere."""
    grandchild = world["grandchild"]
    extra = [
        (world["root"], "member"),
        (world["child"], "admin"),
        (grandchild, "viewer"),
        (world["child"], "owner"),
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

    def page(per_page: int, number: int = 1):
        with app.app_context():
            tenant_, grandchild = _merge(tenant, world["grandchild"])
            found = members.list_members(
                tenant_, grandchild, per_page=per_page, page=number, **filters
            )
            return (
                [
                    (r.user.email, r.role, r.direct_role, r.source and r.source.name)
                    for r in found.items
                ],
                found.has_next,
            )

    by_id = [page(4, n) for n in (1, 2, 3)] + [page(50)]
    monkeypatch.setattr(members, "FEW_MEMBERS", 0)
    monkeypatch.setattr(members, "FEW_HOLDERS", 0)
    walked = [page(4, n) for n in (1, 2, 3)] + [page(50)]
    assert by_id == walked
    assert by_id[-1][0], filters  # every filter here matches someone
    assert "pat.outside@example.com" not in {email for email, *_ in by_id[-1][0]}
