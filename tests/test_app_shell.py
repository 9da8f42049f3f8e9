"""Issue 15: the app shell says where you are, shows people only what they can open, and
a support view-as shows nothing it would refuse. One test (or a few) per problem the
issue lists, named by its number: 3, 4, 6, 7, 11, 13, 15.

The world (tests/conftest.py): Acme HQ > Engineering > Platform, and Sales; Milo is a
member of Engineering, Olive owns the tenant.
"""

from __future__ import annotations

import pytest

from app.services import orgs
from tests.markup import select, text_of


def _html(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


# --- 3. you can tell where you are ---------------------------------------------------


def test_p3_the_header_names_the_org_on_screen_not_the_remembered_one(client, auth, world):
    auth.login(world.tenant_owner)
    client.post("/t/acme/orgs/switch", data={"org": world.hq.public_id})  # the current org
    html = _html(client, "/t/acme/orgs/platform/")
    assert text_of(html, ".org-switcher .switcher-current") == "Platform"
    assert text_of(html, ".app-header .brand") == "Acme"  # the tenant, beside it


def test_p3_the_switcher_lists_every_org_you_can_open_with_path_and_role(client, auth, world):
    auth.login(world.member)  # a direct member of Engineering only
    html = _html(client, "/t/acme/orgs/switch")
    names = [text_of(item, ".switch-name") for item in select(html, ".switch-list li")]
    assert names == ["Engineering", "Platform"]  # Platform by inheritance; HQ and Sales not
    platform = select(html, ".switch-list li")[1]
    assert text_of(platform, ".org-path") == "Acme HQ › Engineering"
    assert text_of(platform, ".badge") == "Member"


def test_p3_a_tenant_owner_filtering_finds_orgs_without_a_membership(client, auth, world):
    auth.login(world.tenant_owner)  # in no org directly
    fragment = client.get("/t/acme/orgs/switch?q=eng", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "Engineering" in body
    assert "None of your" not in body


def test_p3_the_switcher_marks_the_org_on_screen(client, auth, world):
    auth.login(world.member)
    fragment = client.get(
        f"/t/acme/orgs/switch?on_screen={world.platform.public_id}",
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    (current,) = select(fragment, '.switch-choice[aria-current="true"]')
    assert "Platform" in text_of(current, ".switch-name")


@pytest.mark.parametrize(
    ("path", "section"),
    [
        ("/t/acme/orgs/engineering/", "Overview"),
        ("/t/acme/orgs/engineering/new", "Overview"),
        ("/t/acme/orgs/engineering/members", "Members"),
        ("/t/acme/orgs/engineering/members/transfer", "Members"),
        ("/t/acme/orgs/engineering/invitations", "Invitations"),
        ("/t/acme/orgs/engineering/teams/", "Teams"),
        ("/t/acme/orgs/engineering/audit", "Audit log"),
        ("/t/acme/orgs/engineering/settings", "Settings"),
    ],
)
def test_p3_every_org_page_shows_the_section_nav_with_its_section_marked(
    client, auth, world, path, section
):
    auth.login(world.owner)
    html = _html(client, path)
    (nav,) = select(html, "nav.org-sections")
    labels = [link.text for link in select(nav, "a")]
    assert labels == ["Overview", "Members", "Invitations", "Teams", "Audit log", "Settings"]
    (marked,) = select(nav, 'a[aria-current="page"]')
    assert marked.text == section


def test_p3_sections_the_role_cannot_open_are_not_offered(client, auth, world):
    auth.login(world.viewer)
    html = _html(client, "/t/acme/orgs/engineering/")
    labels = [link.text for link in select(html, "nav.org-sections a")]
    assert "Settings" not in labels
    assert "Invitations" not in labels


# --- 4. breadcrumbs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/t/acme/orgs/platform/",
        "/t/acme/orgs/platform/members",
        "/t/acme/orgs/platform/teams/",
        "/t/acme/orgs/platform/audit",
        "/t/acme/orgs/platform/settings",
    ],
)
def test_p4_breadcrumbs_are_complete_and_styled_as_breadcrumbs(client, auth, world, path):
    auth.login(world.owner)
    html = _html(client, path)
    (crumbs,) = select(html, 'nav[aria-label="breadcrumb"]')  # what Pico separates
    trail = [item.text for item in select(crumbs, "li")]
    assert trail[:4] == ["Organizations", "Acme HQ", "Engineering", "Platform"]


# --- 6. members see only what they can open ----------------------------------------


def test_p6_a_members_tree_shows_only_the_way_to_their_orgs(client, auth, world):
    auth.login(world.member)
    top = _html(client, "/t/acme/orgs/")
    assert "Sales" not in top  # nothing of theirs there
    (hq,) = select(top, '[role="treeitem"]')
    assert text_of(hq, ".org-closed") == "Acme HQ"  # the way in, without a link
    assert not select(hq, "a[href$='/orgs/acme-hq/']")
    below = _html(client, "/t/acme/orgs/acme-hq/children")
    assert "/t/acme/orgs/engineering/" in below  # theirs, with a link


def test_p6_a_tenant_owner_still_sees_the_whole_tree(client, auth, world):
    auth.login(world.tenant_owner)
    top = _html(client, "/t/acme/orgs/")
    assert "/t/acme/orgs/sales/" in top
    assert "/t/acme/orgs/acme-hq/" in top


def test_p6_search_and_children_keep_to_the_members_tree(client, auth, world):
    auth.login(world.member)
    assert "Sales" not in _html(client, "/t/acme/orgs/?q=sal")
    assert client.get("/t/acme/orgs/sales/children").status_code == 404


def test_p6_a_refusal_page_keeps_the_apps_header_and_a_way_back(client, auth, world):
    auth.login(world.member)
    refused = client.get(
        "/t/acme/orgs/acme-hq/", headers={"Referer": "http://localhost/t/acme/orgs/"}
    )
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert select(html, ".app-header .org-switcher")  # the tenant's header
    ways = [link.get("href") for link in select(html, ".error-ways a")]
    assert "/t/acme/orgs/" in ways  # back where they came from, and their organizations


def test_p6_a_member_sees_no_activity_without_audit_permission(client, auth, world):
    auth.login(world.member)
    assert "Recent activity" not in _html(client, "/t/acme/orgs/engineering/")
    auth.logout("acme")
    auth.login(world.owner)
    assert "Recent activity" in _html(client, "/t/acme/orgs/engineering/")


# --- 7. view-as shows nothing it would refuse ----------------------------------------


@pytest.fixture
def viewing_as_owner(world, auth, create_staff):
    from app.models import StaffRole

    staff = create_staff(role=StaffRole.SUPPORT, email="helper@platform.example")
    auth.login_staff(staff)
    started = auth.client.post(
        f"/staff/users/{world.owner.public_id}/view-as", data={"reason": "Ticket 7: check roles"}
    )
    assert started.status_code == 303
    return world


def test_p7_view_as_hides_every_editing_control(client, viewing_as_owner):
    dashboard = _html(client, "/t/acme/orgs/engineering/")
    assert "New sub-organization" not in dashboard
    assert 'href="/t/acme/orgs/engineering/settings"' not in dashboard
    members = _html(client, "/t/acme/orgs/engineering/members")
    assert not select(members, ".member-table select")
    assert "Remove" not in text_of(members, "#member-results")
    assert "Invite members" not in members
    assert "Tenant settings" not in _html(client, "/t/acme/orgs/")


def test_p7_a_refusal_while_viewing_as_keeps_the_banner(client, viewing_as_owner):
    refused = client.post("/t/acme/orgs/engineering/settings", data={"name": "Sneaky"})
    assert refused.status_code == 403
    html = refused.get_data(as_text=True)
    assert "Viewing as" in html
    assert "read-only" in html
    typed = client.get("/t/acme/orgs/engineering/settings")  # an editing page, typed in
    assert typed.status_code == 403
    assert "Viewing as" in typed.get_data(as_text=True)


# --- 11. the switcher reads as a list; Move's list reads as the tree ----------------


def test_p11_the_switcher_is_one_org_per_line(client, auth, world):
    auth.login(world.tenant_owner)
    html = _html(client, "/t/acme/orgs/switch")
    items = select(html, "ul.switch-list > li")
    assert len(items) == 4
    for item in items:
        assert len(select(item, ".switch-name")) == 1


def test_p11_move_choices_come_in_tree_order_with_depth(app, world, create_org):
    create_org(world.tenant, "Americas", parent=world.sales)
    with app.app_context():
        from app.extensions import db
        from app.models import Organization

        platform = db.session.get(Organization, world.platform.id)
        choices = orgs.org_choices_for_move(world.tenant, platform, world.tenant_owner)
    assert [(c.name, c.depth) for c in choices] == [
        ("Acme HQ", 0),
        ("Engineering", 1),
        ("Sales", 0),
        ("Americas", 1),
    ]  # Platform itself (and anything below it) is not a place to move it to


# --- 15. copy --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("below", "message"),
    [
        (0, "Sales restored."),
        (1, "Sales restored with 1 sub-organization."),
        (3, "Sales restored with 3 sub-organizations."),
    ],
)
def test_p15_restore_counts_sub_organizations_properly(below, message):
    from app.web.orgs.routes import restored_message

    assert restored_message("Sales", below) == message


def test_p15_no_http_words_in_refusals(client, auth, world):
    auth.login(world.member)
    fragment = client.post("/t/acme/orgs/engineering/members/leave", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    for word in ("Conflict", "Forbidden", "Bad Request", "Gone."):
        assert word not in body


def test_p15_a_short_password_is_answered_in_the_hints_words(client, create_tenant):
    create_tenant("Open", slug="open", allow_signup=True)
    response = client.post(
        "/t/open/signup", data={"name": "Pat", "email": "pat@open.example", "password": "short"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "At least 10 characters." in html  # the hint
    assert "Use at least 10 characters." in html  # the error beside it
    assert "Field must be between" not in html


def test_p6_a_referer_that_is_no_url_still_gets_its_error_page(client, auth, world):
    auth.login(world.member)
    refused = client.get("/t/acme/orgs/acme-hq/", headers={"Referer": "http://0[/x"})
    assert refused.status_code == 403
    assert "Back to the previous page" not in refused.get_data(as_text=True)


def test_a_logo_address_that_is_no_url_is_a_field_error(client, auth, world):
    auth.login(world.owner)
    response = client.post(
        "/t/acme/orgs/engineering/settings",
        data={"name": "Engineering", "slug": "engineering", "logo_url": "https://0["},
    )
    assert response.status_code == 422
    assert "Use an https:// address" in response.get_data(as_text=True)
