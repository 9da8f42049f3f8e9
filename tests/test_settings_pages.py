"""Settings as pages of their own (issue 15).

Org settings: General, Metadata, Move and Danger zone; tenant settings: General, Sign-up,
Seats, Roles, API keys and tokens, Signing keys. Each page has its own URL and the
settings' sub-nav with the page shown marked (5); each form posts to its page, shows its
errors at the top and next to the field (5), and a reload is never a 405 (5). Deleting
an org takes its name, typed, and says what goes with it (10); the tenant's destructive
actions have GET confirmation pages that change nothing (10); the Move list reads as the
tree (11); a new API key has a copy button (12); tenant settings link to the audit log
(13); settings tables stack on phones (2/9); messages match their hints (15).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import ApiKey, CustomRole, Organization, SigningKey
from tests.markup import find_form, one, select

ORG = "/t/acme/orgs/engineering"
ORG_PAGES = {
    "general": f"{ORG}/settings",
    "metadata": f"{ORG}/settings/metadata",
    "move": f"{ORG}/settings/move",
    "danger": f"{ORG}/settings/danger-zone",
}
# Who opens which org settings page: roles held in Engineering itself.
ORG_PAGE_ACCESS = {
    "owner": set(ORG_PAGES),
    "admin": {"general", "metadata", "move"},
    "member": set(),
    "viewer": set(),
}
TENANT_PAGES = {
    "General": "/t/acme/settings",
    "Sign-up": "/t/acme/settings/sign-up",
    "Seats": "/t/acme/settings/seats",
    "Roles": "/t/acme/settings/roles",
    "API keys and tokens": "/t/acme/settings/api-keys",
    "Signing keys": "/t/acme/settings/signing-keys",
}


def _html(response) -> str:
    return response.get_data(as_text=True)


def _current_in_settings_nav(html: str) -> str:
    return one(html, 'nav[aria-label="Settings pages"] a[aria-current=page]').text


# --- 5: each page its own URL, the one shown marked ---------------------------------


@pytest.mark.parametrize("role", list(ORG_PAGE_ACCESS))
@pytest.mark.parametrize("page", list(ORG_PAGES))
def test_org_settings_pages_open_for_the_roles_that_may_use_them(client, auth, world, role, page):
    auth.login(getattr(world, role))
    response = client.get(ORG_PAGES[page])
    if page in ORG_PAGE_ACCESS[role]:
        assert response.status_code == 200
        html = _html(response)
        shown = _current_in_settings_nav(html)
        assert shown == {"general": "General", "metadata": "Metadata", "move": "Move"}.get(
            page, "Danger zone"
        )
        # …inside the org's own sections, Settings marked
        assert one(html, "nav.org-sections a[aria-current=page]").text == "Settings"
    else:
        assert response.status_code == 403


def test_an_admin_is_not_offered_the_danger_zone(client, auth, world):
    auth.login(world.admin)
    html = _html(client.get(ORG_PAGES["general"]))
    offered = [a.text for a in select(html, 'nav[aria-label="Settings pages"] a')]
    assert offered == ["General", "Metadata", "Move"]


@pytest.mark.parametrize("who", ["tenant_owner", "tenant_admin", "member"])
@pytest.mark.parametrize("label", list(TENANT_PAGES))
def test_tenant_settings_pages_open_for_tenant_owners_and_admins(client, auth, world, who, label):
    auth.login(getattr(world, who))
    response = client.get(TENANT_PAGES[label])
    if who == "member":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert _current_in_settings_nav(_html(response)) == label


def test_the_old_settings_addresses_show_their_pages(client, auth, world):
    """The URLs forms posted to before the split answer GET with their page now."""
    auth.login(world.owner)
    for old, shown in (
        (f"{ORG}/settings/data", "Metadata"),
        (f"{ORG}/move", "Move"),
        (f"{ORG}/delete", "Danger zone"),
    ):
        response = client.get(old)
        assert response.status_code == 200, old
        assert _current_in_settings_nav(_html(response)) == shown


# --- 5: errors at the page's URL, summarised and next to the field -------------------

# (where the form is, what it posts, the field with the error, the form's id)
FAILED_SAVES = {
    "org general": (ORG_PAGES["general"], {"name": "", "slug": "engineering"}, "name"),
    "org move": (ORG_PAGES["move"], {"parent": "org_nope"}, "parent"),
    "org delete": (ORG_PAGES["danger"], {"confirm_name": "Engineerin"}, "confirm_name"),
    "tenant sign-up": (
        TENANT_PAGES["Sign-up"],
        {"signup_email_domains": "not a domain!"},
        "signup_email_domains",
    ),
    "tenant seats": (TENANT_PAGES["Seats"], {"seat_limit": "lots"}, "seat_limit"),
    "new role": (TENANT_PAGES["Roles"], {"key": "x_role", "permissions": ["org:read"]}, "name"),
    "new API key": (TENANT_PAGES["API keys and tokens"], {"key_name": ""}, "key_name"),
    "token settings": (
        "/t/acme/settings/tokens",
        {"token_lifetime_minutes": "0"},
        "token_lifetime_minutes",
    ),
}


@pytest.mark.parametrize("case", list(FAILED_SAVES))
def test_a_failed_save_shows_the_page_again_with_its_errors(client, auth, world, case):
    url, data, field = FAILED_SAVES[case]
    auth.login(world.tenant_owner if url.startswith("/t/acme/settings") else world.owner)
    response = client.post(url, data=data)
    assert response.status_code == 422
    html = _html(response)
    summary = one(html, "[data-error-summary]")
    assert summary["role"] == "alert"
    assert summary.one(f'a[href="#{field}"]')  # each problem links to its field
    assert one(html, f"#{field}-error").text  # and the field says it too
    assert one(html, f"#{field}")["aria-invalid"] == "true"
    # the form that failed posts to this URL (opening at the form, except the danger
    # zone's: it is the page's first thing, and its success leaves for the org list, where
    # a kept #fragment would be noise), and a reload is a GET
    form = _form_with(html, field)
    action, _, anchor = form["action"].partition("#")
    assert action == url
    assert anchor == ("" if case == "org delete" else form["id"])
    assert client.get(url).status_code == 200


def _form_with(html: str, field_id: str):
    [form] = [f for f in select(html, "form") if f.select(f"#{field_id}")]
    return form


def test_messages_say_what_the_hints_say(client, auth, world):
    """No WTForms stock messages ("Number must be between…", "Not a valid integer value.")."""
    auth.login(world.tenant_owner)
    for url, data in (
        ("/t/acme/settings/seats", {"seat_limit": "0"}),
        ("/t/acme/settings/seats", {"seat_limit": "2.5"}),
        ("/t/acme/settings/tokens", {"token_lifetime_minutes": "x"}),
        ("/t/acme/settings/api-keys", {"key_name": "k", "expires_in_days": "99999"}),
    ):
        html = _html(client.post(url, data=data))
        for stock in ("Number must be", "Not a valid", "Field must be", "This field is required"):
            assert stock not in html, (url, data)
    seats = _html(client.post("/t/acme/settings/seats", data={"seat_limit": "0"}))
    assert one(seats, "#seat_limit-hint").text == "From 1 to 1,000,000. Empty: no limit."
    assert one(seats, "#seat_limit-error").text == (
        "Use a whole number from 1 to 1,000,000, or leave it empty."
    )


# --- 5: every URL a settings form posts to answers GET ------------------------------


def test_every_form_on_every_settings_page_posts_where_a_reload_is_a_page(
    app, client, auth, world, create_api_key
):
    create_api_key(world.tenant, "Reload probe", permissions=["org:read"])
    auth.login(world.tenant_owner)
    client.post(
        "/t/acme/settings/roles",
        data={"name": "Auditor", "key": "auditor", "permissions": ["org:read"]},
    )
    with app.app_context():
        role_id = db.session.scalar(sa.select(CustomRole.public_id))
        key_id = db.session.scalar(sa.select(ApiKey.public_id))
    pages = [
        *ORG_PAGES.values(),
        *TENANT_PAGES.values(),
        f"/t/acme/settings/roles/{role_id}",
        f"/t/acme/settings/api-keys/{key_id}",
    ]
    actions = set()
    for page in pages:
        html = _html(client.get(page))
        for form in select(html, "form"):
            if (form.get("method") or "get").lower() == "post":
                actions.add(form["action"].partition("#")[0])
        # a destructive action's link is the same URL its confirmation page answers at
        for link in select(html, "a[hx-post]"):
            actions.add(link["href"])
    actions.discard("/t/acme/logout")  # the header's sign-out
    assert len(actions) >= 10
    for action in sorted(actions):
        assert client.get(action).status_code == 200, action


# --- 5: success is a 303 back to the page --------------------------------------------


@pytest.mark.parametrize(
    ("url", "data", "back_to"),
    [
        (
            ORG_PAGES["general"],
            {"name": "Engineering", "slug": "engineering", "logo_url": ""},
            ORG_PAGES["general"],
        ),
        (
            ORG_PAGES["metadata"],
            {"field_name": "settings", "rows-0-key": "tz", "rows-0-value": "UTC"},
            ORG_PAGES["metadata"] + "#settings-form",
        ),
        (TENANT_PAGES["General"], {"personal_orgs": "y"}, TENANT_PAGES["General"]),
        (TENANT_PAGES["Sign-up"], {"allow_signup": "y"}, TENANT_PAGES["Sign-up"]),
        (TENANT_PAGES["Seats"], {"seat_limit": "12"}, TENANT_PAGES["Seats"]),
        (
            TENANT_PAGES["Roles"],
            {"name": "Auditor", "key": "auditor", "permissions": ["org:read"]},
            TENANT_PAGES["Roles"],
        ),
        (
            "/t/acme/settings/tokens",
            {"token_lifetime_minutes": "30"},
            TENANT_PAGES["API keys and tokens"] + "#tokens",
        ),
    ],
)
def test_a_successful_save_goes_back_to_its_page(client, auth, world, url, data, back_to):
    auth.login(world.owner if "/orgs/" in url else world.tenant_owner)
    response = client.post(url, data=data)
    assert response.status_code == 303
    assert response.headers["Location"] == back_to
    assert 'class="alert alert-success' in _html(client.get(back_to.partition("#")[0]))


def test_a_move_goes_back_to_the_move_page_showing_where_it_is_now(client, auth, world):
    auth.login(world.tenant_owner)
    moved = client.post(ORG_PAGES["move"], data={"parent": world.sales.public_id})
    assert moved.status_code == 303
    assert moved.headers["Location"] == ORG_PAGES["move"]
    html = _html(client.get(ORG_PAGES["move"]))
    assert "Engineering moved." in html
    assert "under Sales" in select(html, ".settings-body p")[0].text


# --- 10: deleting an org takes its name, typed ----------------------------------------


def test_the_danger_zone_says_how_many_sub_organizations_go_with_it(client, auth, world):
    auth.login(world.tenant_owner)
    engineering = _html(client.get(ORG_PAGES["danger"]))
    scope = one(engineering, "p.deletion-scope").text
    assert "Deleting hides Engineering together with the 1 sub-organization below it" in scope
    hq = _html(client.get("/t/acme/orgs/acme-hq/settings/danger-zone"))
    assert "together with the 2 sub-organizations below it" in one(hq, "p.deletion-scope").text
    platform = _html(client.get("/t/acme/orgs/platform/settings/danger-zone"))
    assert "It has no sub-organizations." in one(platform, "p.deletion-scope").text
    form = find_form(engineering, action=ORG_PAGES["danger"])
    assert form.one("#confirm_name-hint").text == (
        "Its name is “Engineering”, exactly as written here."
    )


def _live(app, org) -> bool:
    with app.app_context():
        return db.session.get(Organization, org.id).deleted_at is None


@pytest.mark.parametrize("typed", ["", "engineering", "Engineering Team", "Platform"])
def test_deleting_with_the_wrong_name_deletes_nothing(app, client, auth, world, typed):
    auth.login(world.owner)
    response = client.post(ORG_PAGES["danger"], data={"confirm_name": typed})
    assert response.status_code == 422
    assert one(_html(response), "#confirm_name-error").text
    assert _live(app, world.engineering)
    assert _live(app, world.platform)


def test_deleting_with_the_right_name_deletes_it_and_its_subtree(app, client, auth, world):
    auth.login(world.owner)
    response = client.post(ORG_PAGES["danger"], data={"confirm_name": "Engineering"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/t/acme/orgs/"
    assert not _live(app, world.engineering)
    assert not _live(app, world.platform)
    flashed = _html(client.get("/t/acme/orgs/"))
    assert "Engineering deleted with 1 sub-organization. A tenant owner can restore it." in (
        flashed
    )


def test_a_personal_org_offers_no_delete_form(client, auth, world, create_org):
    create_org(world.tenant, "Pat's organization", is_personal=True)
    auth.login(world.tenant_owner)
    html = _html(client.get("/t/acme/orgs/pat-s-organization/settings/danger-zone"))
    assert "can't be deleted while its owner exists" in html
    assert not select(html, "#delete-form")


# --- 10: the tenant's destructive actions ask first, on a page that changes nothing --


def test_revoking_a_key_without_javascript_goes_through_its_confirmation_page(
    app, client, auth, world, create_api_key
):
    create_api_key(world.tenant, "Billing sync", permissions=["org:read"])
    auth.login(world.tenant_owner)
    with app.app_context():
        key_id = db.session.scalar(sa.select(ApiKey.public_id))
    page = _html(client.get(TENANT_PAGES["API keys and tokens"]))
    revoke = one(page, "a[hx-post$=/revoke]")
    assert revoke["href"] == revoke["hx-post"] == f"/t/acme/settings/api-keys/{key_id}/revoke"
    assert revoke["hx-confirm"]

    confirm = client.get(revoke["href"])
    assert confirm.status_code == 200
    html = _html(confirm)
    assert "Revoke the API key “Billing sync”?" in html
    form = find_form(html, action=revoke["href"])
    assert form["method"] == "post"
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.revoked_at)) is None  # asked, not done

    done = client.post(revoke["href"])
    assert done.status_code == 303
    assert done.headers["Location"] == TENANT_PAGES["API keys and tokens"]
    with app.app_context():
        assert db.session.scalar(sa.select(ApiKey.revoked_at)) is not None


def test_rotating_the_signing_key_asks_first(app, client, auth, world):
    auth.login(world.tenant_owner)
    client.post("/t/acme/token")  # the first token makes the first key
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(SigningKey))
    page = _html(client.get(TENANT_PAGES["Signing keys"]))
    rotate = one(page, "a[hx-post$=/rotate]")
    confirm = client.get(rotate["href"])
    assert confirm.status_code == 200
    assert "Start signing access tokens with a new key?" in _html(confirm)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SigningKey)) == before
    assert client.post(rotate["href"]).status_code == 303
    with app.app_context():
        after = db.session.scalar(sa.select(sa.func.count()).select_from(SigningKey))
    assert after == before + 1


def test_deleting_a_role_in_use_asks_which_role_its_members_get_then_confirms(
    app, client, auth, world
):
    auth.login(world.tenant_owner)
    client.post(
        "/t/acme/settings/roles",
        data={"name": "Auditor", "key": "auditor", "permissions": ["org:read"]},
    )
    with app.app_context():
        role_id = db.session.scalar(sa.select(CustomRole.public_id))
    with app.app_context():
        from app.models import Membership

        membership = db.session.scalar(
            sa.select(Membership).where(Membership.user_id == world.member.id)
        )
        membership.role = "auditor"
        db.session.commit()
    role_page = _html(client.get(f"/t/acme/settings/roles/{role_id}"))
    assert "1 member has this role." in role_page
    choose = find_form(role_page, action=f"/t/acme/settings/roles/{role_id}/delete")
    assert (choose.get("method") or "get") == "get"

    confirm = client.get(f"/t/acme/settings/roles/{role_id}/delete?reassign_to=viewer")
    html = _html(confirm)
    assert confirm.status_code == 200
    assert "1 member has it now: they get the Viewer role instead." in html
    form = find_form(html, action=f"/t/acme/settings/roles/{role_id}/delete")
    assert form.one("input[name=reassign_to]")["value"] == "viewer"
    with app.app_context():
        assert db.session.scalar(sa.select(CustomRole.key)) == "auditor"  # nothing yet

    done = client.post(f"/t/acme/settings/roles/{role_id}/delete", data={"reassign_to": "viewer"})
    assert done.status_code == 303
    assert "Auditor role deleted; 1 member moved to another role." in _html(
        client.get(done.headers["Location"])
    )
    with app.app_context():
        assert db.session.scalar(sa.select(CustomRole.key)) is None


# --- 11: the Move list reads as the tree ---------------------------------------------


def test_the_move_list_reads_as_the_tree(client, auth, world, create_org):
    create_org(world.tenant, "Field Sales", parent=world.sales)
    auth.login(world.tenant_owner)
    html = _html(client.get("/t/acme/orgs/platform/settings/move"))
    select_box = one(html, "select#parent")
    assert one(html, "label[for=parent]").text == "New parent"
    assert "moves with everything below it" in one(html, "#parent-hint").text
    assert select_box["aria-describedby"] == "parent-hint"
    options = [o.text for o in select_box.select("option")]
    # the raw text keeps its indentation (two non-breaking spaces a level)
    assert options == [
        "— Top level —",
        "Acme HQ",
        "└ Engineering",
        "Sales",
        "└ Field Sales",
    ]
    raw = [o.html for o in select_box.select("option")]
    assert "\u00a0\u00a0└ Engineering" in raw[2]
    assert select_box.one("option[selected]").text == "└ Engineering"  # where it is


# --- 12, 13: copy buttons, the audit log link ----------------------------------------


def test_a_new_api_key_comes_with_a_copy_button(client, auth, world):
    auth.login(world.tenant_owner)
    response = client.post(
        TENANT_PAGES["API keys and tokens"],
        data={"key_name": "CI", "key_permissions": ["org:read"]},
    )
    html = _html(response)
    assert response.status_code == 200
    button = one(html, "button[data-copy]")
    assert button["data-copy"] == "#new-key-secret"
    assert one(html, "#new-key-secret")["value"].startswith("tk_")


def test_tenant_settings_link_to_the_tenant_audit_log(client, auth, world):
    auth.login(world.tenant_admin)
    for url in TENANT_PAGES.values():
        html = _html(client.get(url))
        link = one(html, 'nav[aria-label="Settings pages"] a[href="/t/acme/audit"]')
        assert link.text == "Audit log"


# --- 2/9: settings tables stack on phones --------------------------------------------


def test_settings_tables_stack_on_phones_with_every_cell_labelled(
    app, client, auth, world, create_api_key
):
    create_api_key(world.tenant, "Labelled", permissions=["org:read"])
    auth.login(world.tenant_owner)
    client.post("/t/acme/token")
    client.post(
        "/t/acme/settings/roles",
        data={"name": "Auditor", "key": "auditor", "permissions": ["org:read"]},
    )
    for url in (
        TENANT_PAGES["Roles"],
        TENANT_PAGES["API keys and tokens"],
        TENANT_PAGES["Signing keys"],
    ):
        html = _html(client.get(url))
        for table in select(html, "table"):
            assert "stack-on-phone" in table["class"], url
            for cell in table.select("tbody td"):
                if cell.text:
                    assert cell.get("data-label") or "row-actions" in (cell.get("class") or ""), (
                        url,
                        cell.html,
                    )
