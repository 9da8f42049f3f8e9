"""Organizations: slugs, the tree, pages, moves, soft delete, personal orgs."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.actors import Actor
from app.errors import ValidationFailed
from app.extensions import db
from app.models import AuditEvent, Membership, Organization, OrgClosure, OutboxEmail, TenantRole
from app.services import orgs
from app.services.validation import make_slug
from tests.markup import field_value, find_form, select, text_of


@pytest.fixture
def signed_in_owner(auth, world):
    """Olive, the tenant owner, signed in to the shared world: Acme HQ > Engineering >
    Platform, and Sales."""
    auth.login(world.tenant_owner)


# --- slugs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Acme Corp", "acme-corp"),
        ("  Ünïcode Straße  ", "unicode-strasse"),
        ("R&D --- Lab!!", "r-d-lab"),
        ("Ελληνικά", "ellenika"),
        ("東京オフィス", "dong-jing-ohuisu"),
        ("a" * 200, "a" * 60),
    ],
)
def test_slug_rules(name, slug):
    assert make_slug(name) == slug


@pytest.mark.parametrize("name", ["new", "Settings", "API", "!!!", "   ", "—"])
def test_reserved_and_empty_slugs_are_refused(name):
    with pytest.raises(ValidationFailed):
        make_slug(name)


def test_clashing_names_get_numbered_slugs(app, tenant, create_org):
    slugs = [create_org(tenant, "Acme").slug for _ in range(3)]
    assert slugs == ["acme", "acme-2", "acme-3"]


def test_creating_with_a_taken_slug_is_a_field_error(client, signed_in_owner):
    response = client.post("/t/acme/orgs/new", data={"name": "X", "slug": "engineering"})
    assert response.status_code == 422
    assert 'id="slug-error"' in response.get_data(as_text=True)
    reserved = client.post("/t/acme/orgs/new", data={"name": "X", "slug": "new"})
    assert reserved.status_code == 422
    assert "reserved" in reserved.get_data(as_text=True)
    named_like_a_route = client.post("/t/acme/orgs/new", data={"name": "Settings"})
    assert named_like_a_route.headers["Location"] == "/t/acme/orgs/settings-2/"


def test_renaming_the_slug_keeps_the_old_address_redirecting(client, signed_in_owner):
    response = client.post(
        "/t/acme/orgs/engineering/settings",
        data={"name": "Engineering", "slug": "eng", "logo_url": ""},
    )
    assert response.status_code == 303
    old = client.get("/t/acme/orgs/engineering/settings?tab=1")
    assert old.status_code == 301
    assert old.headers["Location"] == "/t/acme/orgs/eng/settings?tab=1"
    assert client.get("/t/acme/orgs/eng/").status_code == 200
    # the old slug is not given to a new org: its links keep pointing at the renamed one
    created = client.post("/t/acme/orgs/new", data={"name": "Engineering"})
    assert created.headers["Location"] == "/t/acme/orgs/engineering-2/"


# --- the tree ------------------------------------------------------------------------


def test_tree_shows_top_level_and_children_load_on_demand(client, htmx_client, signed_in_owner):
    page = client.get("/t/acme/orgs/").get_data(as_text=True)
    assert 'role="tree"' in page
    assert "Acme HQ" in page
    assert "Platform" not in page  # not loaded until expanded
    children = client.get("/t/acme/orgs/acme-hq/children", headers={"HX-Request": "true"})
    body = children.get_data(as_text=True)
    assert "Engineering" in body
    assert 'aria-level="2"' in body
    assert 'aria-expanded="false"' in body  # Engineering has children of its own


def test_search_matches_literally_and_shows_the_path(client, signed_in_owner, tenant, create_org):
    create_org(tenant, "100% Sales")
    html = client.get("/t/acme/orgs/?q=plat").get_data(as_text=True)
    [hit] = [li for li in select(html, "li") if [a.text for a in li.select("a")] == ["Platform"]]
    assert text_of(hit, ".org-path") == "Acme HQ › Engineering ›"
    percent = client.get("/t/acme/orgs/?q=%25").get_data(as_text=True)
    assert "100% Sales" in percent
    assert "Platform" not in percent
    fragment = client.get("/t/acme/orgs/?q=plat", headers={"HX-Request": "true"})
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]


def test_empty_state_explains_how_to_begin(client, auth, owner):
    auth.login(owner)
    html = client.get("/t/acme/orgs/").get_data(as_text=True)
    assert "No organizations yet" in html
    assert "New organization" in html


def test_dashboard_shows_breadcrumbs_children_and_activity(client, signed_in_owner):
    html = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    crumbs = html[html.index('aria-label="breadcrumb"') :]
    assert crumbs.index("Acme HQ") < crumbs.index("Engineering")
    assert "Platform" in html
    assert "created <strong>Engineering</strong> under" in html  # the audit entry, in words
    assert "New sub-organization" in html


def test_create_nested_orgs_through_the_pages(app, client, signed_in_owner):
    response = client.post("/t/acme/orgs/platform/new", data={"name": "Databases"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/orgs/databases/"
    with app.app_context():
        org = db.session.scalar(sa.select(Organization).where(Organization.slug == "databases"))
        depths = db.session.scalars(
            sa.select(OrgClosure.depth).where(OrgClosure.descendant_id == org.id)
        ).all()
        assert sorted(depths) == [0, 1, 2, 3]


# --- moves ---------------------------------------------------------------------------


def test_move_refuses_cycles(client, world, signed_in_owner):
    platform = world.platform
    for target in (world.engineering, platform):
        response = client.post(
            f"/t/acme/orgs/{target.slug}/move", data={"parent": platform.public_id}
        )
        assert response.status_code == 422
    root_move = client.post("/t/acme/orgs/acme-hq/move", data={"parent": world.platform.public_id})
    assert root_move.status_code == 422  # not even offered as a choice


def test_move_service_refuses_cycles_whatever_the_door(app, tenant, owner, world, signed_in_owner):
    with app.app_context():
        actor = Actor.for_user(owner)
        with pytest.raises(ValidationFailed, match="under itself"):
            orgs.move_org(actor, tenant, world.hq, world.platform)


def test_move_takes_the_subtree_along(app, client, world, signed_in_owner, tenant, create_org):
    other = create_org(tenant, "Other Root")
    response = client.post("/t/acme/orgs/engineering/move", data={"parent": other.public_id})
    assert response.status_code == 303
    with app.app_context():
        platform = db.session.get(Organization, world.platform.id)
        path = [o.name for o in orgs.ancestors(platform)]
        assert path == ["Other Root", "Engineering"]
    to_top = client.post("/t/acme/orgs/engineering/move", data={"parent": ""})
    assert to_top.status_code == 303
    with app.app_context():
        platform = db.session.get(Organization, world.platform.id)
        assert [o.name for o in orgs.ancestors(platform)] == ["Engineering"]


def test_move_needs_rights_in_both_places(
    app, client, auth, tenant, create_user, create_org, add_member
):
    a = create_org(tenant, "Team A")
    b = create_org(tenant, "Team B")
    admin = create_user(tenant)
    add_member(a, admin, "admin")
    add_member(b, admin, "member")
    auth.login(admin)
    child = create_org(tenant, "Child", parent=a)
    response = client.post(f"/t/acme/orgs/{child.slug}/move", data={"parent": b.public_id})
    assert response.status_code == 403


def test_move_to_another_tenants_org_is_refused(client, signed_in_owner, create_tenant, create_org):
    other = create_tenant("Globex", slug="globex")
    foreign = create_org(other, "Foreign")
    response = client.post("/t/acme/orgs/engineering/move", data={"parent": foreign.public_id})
    assert response.status_code == 422


# --- soft delete ---------------------------------------------------------------------


def test_delete_hides_the_subtree_everywhere_and_restore_brings_it_back(
    app, client, world, signed_in_owner
):
    deleted = client.post(
        "/t/acme/orgs/engineering/settings/danger-zone", data={"confirm_name": "Engineering"}
    )
    assert deleted.status_code == 303
    for slug in ("engineering", "platform"):
        assert client.get(f"/t/acme/orgs/{slug}/").status_code == 404
    tree = client.get("/t/acme/orgs/acme-hq/children").get_data(as_text=True)
    assert "Engineering" not in tree
    assert "Platform" not in client.get("/t/acme/orgs/?q=plat").get_data(as_text=True)
    dashboard = client.get("/t/acme/orgs/acme-hq/").get_data(as_text=True)
    assert "No sub-organizations" in dashboard

    deleted = client.get("/t/acme/orgs/deleted").get_data(as_text=True)
    assert "Engineering" in deleted
    assert "1 sub-organization" in deleted
    engineering_id = world.engineering.public_id
    assert client.post(f"/t/acme/orgs/deleted/{engineering_id}/restore").status_code == 303
    assert client.get("/t/acme/orgs/platform/").status_code == 200
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert {"org.deleted", "org.restored"} <= set(actions)


def _delete(client, slug: str, name: str):
    """Delete an org as its Danger zone page does: its name typed."""
    return client.post(f"/t/acme/orgs/{slug}/settings/danger-zone", data={"confirm_name": name})


def test_restore_brings_back_only_what_was_deleted_with_it(app, client, world, signed_in_owner):
    _delete(client, "platform", "Platform")
    _delete(client, "engineering", "Engineering")
    engineering = world.engineering
    client.post(f"/t/acme/orgs/deleted/{engineering.public_id}/restore")
    assert client.get("/t/acme/orgs/engineering/").status_code == 200
    assert client.get("/t/acme/orgs/platform/").status_code == 404


def test_only_tenant_owners_restore(client, auth, tenant, create_user, world, signed_in_owner):
    _delete(client, "engineering", "Engineering")
    admin = create_user(tenant, tenant_role=TenantRole.ADMIN)
    auth.logout("acme")
    auth.login(admin)
    assert client.get("/t/acme/orgs/deleted").status_code == 403
    engineering = world.engineering
    assert client.post(f"/t/acme/orgs/deleted/{engineering.public_id}/restore").status_code == 403


# --- metadata and escaping -----------------------------------------------------------


def test_metadata_rows_are_saved_as_json(app, client, world, signed_in_owner):
    response = client.post(
        "/t/acme/orgs/engineering/settings/data",
        data={
            "field_name": "public_metadata",
            "rows-0-key": "plan",
            "rows-0-value": "enterprise",
            "rows-1-key": "seats",
            "rows-1-value": "25",
            "rows-2-key": "tags",
            "rows-2-value": '["a", "b"]',
            "rows-3-key": "",
            "rows-3-value": "",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        org = db.session.get(Organization, world.engineering.id)
        assert org.public_metadata == {"plan": "enterprise", "seats": 25, "tags": ["a", "b"]}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"rows-0-key": "a", "rows-0-value": "{not json"}, "not valid JSON"),
        ({"rows-0-key": "", "rows-0-value": "orphan"}, "give the value a key"),
        ({"rows-0-key": "a", "rows-0-value": "1", "rows-1-key": "a", "rows-1-value": "2"}, "twice"),
        (
            {
                "rows-0-key": "big",
                "rows-0-value": "x" * 3900,
                "rows-1-key": "b2",
                "rows-1-value": "x" * 3900,
                "rows-2-key": "b3",
                "rows-2-value": "x" * 3900,
            },
            "8 KB",
        ),
    ],
)
def test_bad_metadata_gets_a_clear_error_and_changes_nothing(
    app, client, world, signed_in_owner, rows, message
):
    response = client.post(
        "/t/acme/orgs/engineering/settings/data", data={"field_name": "settings", **rows}
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Organization, world.engineering.id).settings == {}


def test_names_and_metadata_are_escaped_everywhere(client, signed_in_owner):
    evil = '<script>alert("x")</script>'
    client.post("/t/acme/orgs/engineering/new", data={"name": evil})
    client.post(
        "/t/acme/orgs/engineering/settings/data",
        data={"field_name": "public_metadata", "rows-0-key": evil, "rows-0-value": evil},
    )
    pages = [
        "/t/acme/orgs/",
        "/t/acme/orgs/engineering/",
        "/t/acme/orgs/engineering/settings",
        "/t/acme/orgs/engineering/settings/metadata",
        "/t/acme/orgs/?q=script",
        "/t/acme/orgs/engineering/children",
        "/t/acme/orgs/switch",
    ]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
    assert "&lt;script&gt;" in client.get("/t/acme/orgs/engineering/").get_data(as_text=True)


def test_logo_url_must_be_https(client, signed_in_owner):
    response = client.post(
        "/t/acme/orgs/engineering/settings",
        data={"name": "Engineering", "slug": "engineering", "logo_url": "javascript:alert(1)"},
    )
    assert response.status_code == 422
    assert 'id="logo_url-error"' in response.get_data(as_text=True)


# --- personal orgs -------------------------------------------------------------------


def test_personal_org_at_sign_up_cannot_be_deleted(app, client, create_tenant):
    create_tenant("Open", slug="open", allow_signup=True, personal_orgs=True)
    client.post(
        "/t/open/signup",
        data={"name": "Pat Person", "email": "pat@example.com", "password": "long-enough-pw"},
    )
    # Pat proves the address with the emailed link, then signs in.
    with app.app_context():
        [mail] = db.session.scalars(
            sa.select(OutboxEmail).where(OutboxEmail.kind == "email_verification")
        )
        link = re.search(r"/t/open/account/confirm/\S+", mail.text_body).group(0)
    assert client.post(link).status_code == 303
    signed_in = client.post(
        "/t/open/login", data={"email": "pat@example.com", "password": "long-enough-pw"}
    )
    assert signed_in.status_code == 303
    home = client.get("/t/open/")
    assert home.headers["Location"] == "/t/open/orgs/pat-s-organization/"
    with app.app_context():
        org = db.session.scalar(sa.select(Organization).where(Organization.is_personal))
        membership = db.session.scalar(sa.select(Membership).where(Membership.org_id == org.id))
        assert membership.role == "owner"
    response = client.post(
        "/t/open/orgs/pat-s-organization/settings/danger-zone",
        data={"confirm_name": "Pat's organization"},
    )
    assert response.status_code == 409
    assert client.get("/t/open/orgs/pat-s-organization/").status_code == 200


def test_tenant_settings_toggle_the_rules(app, client, auth, owner):
    auth.login(owner)
    signup = client.post(
        "/t/acme/settings/sign-up",
        data={"allow_signup": "y", "signup_email_domains": "Example.com, corp.example"},
    )
    assert signup.status_code == 303
    orgs_rules = client.post("/t/acme/settings", data={"personal_orgs": "y"})
    assert orgs_rules.status_code == 303
    bad = client.post("/t/acme/settings/sign-up", data={"signup_email_domains": "not a domain!"})
    assert bad.status_code == 422
    with app.app_context():
        from app.models import Tenant

        tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "acme"))
        assert tenant.allow_signup
        assert tenant.signup_email_domains == ["corp.example", "example.com"]
        assert tenant.personal_orgs
        assert not tenant.members_can_create_orgs


def test_tenant_settings_page_shows_the_current_domains(client, auth, owner, app):
    with app.app_context():
        from app.models import Tenant

        db.session.get(Tenant, owner.tenant_id).signup_email_domains = ["corp.example"]
        db.session.commit()
    auth.login(owner)
    html = client.get("/t/acme/settings/sign-up").get_data(as_text=True)
    settings = find_form(html, action="/t/acme/settings/sign-up#sign-up-form")
    assert field_value(settings, "signup_email_domains") == "corp.example"  # not "['corp…']"


def test_tenant_settings_are_for_tenant_admins_only(client, auth, tenant, create_user):
    auth.login(create_user(tenant))
    assert client.get("/t/acme/settings").status_code == 403


def test_services_write_one_audit_event_each(app, tenant, create_user):
    with app.app_context():
        user = create_user(tenant, tenant_role=TenantRole.OWNER)
        actor = Actor.for_user(user)

        def count():
            return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))

        start = count()
        org = orgs.create_org(actor, tenant, name="One")
        child = orgs.create_org(actor, tenant, name="Two", parent=org)
        orgs.update_org(actor, tenant, child, name="Two!", slug="two", logo_url="")
        orgs.move_org(actor, tenant, child, None)
        orgs.delete_org(actor, tenant, child)
        orgs.restore_org(actor, tenant, child)
        assert count() - start == 6
        db.session.rollback()
