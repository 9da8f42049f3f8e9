"""Who may do what on the org pages: every org route for every kind of visitor."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Organization

# (method, path, data) for each org route; {org} is Engineering, a child of Acme HQ.
ROUTES = {
    "dashboard": ("GET", "/t/acme/orgs/{org}/", None),
    "children": ("GET", "/t/acme/orgs/{org}/children", None),
    "new_child_page": ("GET", "/t/acme/orgs/{org}/new", None),
    "new_child": ("POST", "/t/acme/orgs/{org}/new", {"name": "Sub"}),
    "settings_page": ("GET", "/t/acme/orgs/{org}/settings", None),
    "settings": ("POST", "/t/acme/orgs/{org}/settings", {"name": "Renamed", "slug": "engineering"}),
    "metadata_page": ("GET", "/t/acme/orgs/{org}/settings/metadata", None),
    "data": (
        "POST",
        "/t/acme/orgs/{org}/settings/metadata",
        {"field_name": "settings", "rows-0-key": "tz", "rows-0-value": "UTC"},
    ),
    "move_page": ("GET", "/t/acme/orgs/{org}/settings/move", None),
    "move": ("POST", "/t/acme/orgs/{org}/settings/move", {"parent": ""}),
    "danger_zone_page": ("GET", "/t/acme/orgs/{org}/settings/danger-zone", None),
    "delete": (
        "POST",
        "/t/acme/orgs/{org}/settings/danger-zone",
        {"confirm_name": "Engineering"},
    ),
}

# What each visitor gets: 2xx/3xx allowed, 403 refused. Roles are held in the parent
# (Acme HQ), so they reach Engineering by inheritance.
ALLOWED = {
    "outsider": set(),
    "viewer": {"dashboard", "children"},
    "member": {"dashboard", "children"},
    "admin": {
        "dashboard",
        "children",
        "new_child_page",
        "new_child",
        "settings_page",
        "settings",
        "metadata_page",
        "data",
        "move_page",
    },
    "owner": set(ROUTES) - {"move"},
    "tenant_admin": set(ROUTES),
}
# Moving to the top level needs the right to create top-level orgs: tenant admins only.


@pytest.fixture
def visitor(request, world, create_user, add_member, auth):
    """A tenant admin and an outsider from the world; the rest hold their role in Acme HQ."""
    kind = request.param
    if kind in ("tenant_admin", "outsider"):
        user = getattr(world, kind)
    else:
        user = create_user(world.tenant)
        add_member(world.hq, user, kind)
    auth.login(user)
    return kind


def _state(app):
    with app.app_context():
        rows = db.session.execute(
            sa.select(
                Organization.slug,
                Organization.name,
                Organization.parent_id,
                Organization.deleted_at,
                Organization.settings,
            ).order_by(Organization.id)
        ).all()
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("visitor", list(ALLOWED), indirect=True)
@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("as_htmx", [False, True], ids=["page", "htmx"])
def test_role_matrix(app, client, world, visitor, route, as_htmx):
    method, path, data = ROUTES[route]
    url = path.format(org=world.engineering.slug)
    headers = {"HX-Request": "true"} if as_htmx else {}
    before = _state(app)
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        response = client.post(url, data=dict(data or {}), headers=headers)
    if route in ALLOWED[visitor]:
        assert response.status_code < 400, (visitor, route, response.status_code)
    else:
        # An org outside someone's tree doesn't exist for its tree's children listing.
        refused = 404 if route == "children" else 403
        assert response.status_code == refused, (visitor, route, response.status_code)
        assert _state(app) == before
        if as_htmx:
            assert response.headers["HX-Retarget"] == "#flash-region"


def test_top_level_creation_follows_the_tenant_setting(app, client, auth, tenant, create_user):
    member = create_user(tenant)
    auth.login(member)
    assert client.get("/t/acme/orgs/new").status_code == 403
    assert "New organization" not in client.get("/t/acme/orgs/").get_data(as_text=True)
    with app.app_context():
        from app.models import Tenant

        db.session.get(Tenant, tenant.id).members_can_create_orgs = True
        db.session.commit()
    assert client.post("/t/acme/orgs/new", data={"name": "Mine"}).status_code == 303


def test_other_tenants_org_is_404(client, auth, owner, create_tenant, create_org):
    globex = create_tenant("Globex", slug="globex")
    secret = create_org(globex, "Secret Project")
    auth.login(owner)
    assert client.get(f"/t/acme/orgs/{secret.slug}/").status_code == 404
    assert client.get(f"/t/globex/orgs/{secret.slug}/").status_code == 404
    response = client.post("/t/acme/orgs/switch", data={"org": secret.public_id})
    assert response.status_code == 404


def test_private_metadata_only_for_admins(app, client, auth, world):
    with app.app_context():
        org = db.session.get(Organization, world.engineering.id)
        org.public_metadata = {"plan": "gold-plan"}
        org.private_metadata = {"billing": "secret-billing-id"}
        db.session.commit()
    auth.login(world.hq_member)  # a member of Acme HQ, so of Engineering too
    html = client.get("/t/acme/orgs/engineering/").get_data(as_text=True)
    assert "gold-plan" in html
    assert "secret-billing-id" not in html
