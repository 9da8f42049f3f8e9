"""An org owner manages members in place (role change, removal; the only owner is offered
neither) and builds a team that then shows on the members page."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Locator, Page, Request, Response, expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
OWNER_EMAIL = "owner@acme.example"  # the demo tenant's owner
OWNER_NAME = "Olivia Owner"
PASSWORD = "demo-password-1"

# --- people for the journey ----------------------------------------------------------
#
# The journey needs a fresh org with members other than the owner, and the UI has no
# "add an existing user" (people join through invitations, whose org-side pages aren't
# in the app yet). So the test seeds them the way `flask demo seed` seeds the demo: the
# app's own services (accounts.create_user, members.add_member with a system actor), in
# a subprocess, against the live server's database. Nothing is written behind the app's
# back (audit events, seat limits and the rest apply), and the browser still does every
# step the journey is about.

ADD_MEMBERS = """
import sys

import sqlalchemy as sa

from app.extensions import db
from app.models import Organization, Tenant
from app.services import accounts, members
from app.actors import Actor
from wsgi import app

tenant_slug, org_slug, *people = sys.argv[1:]
with app.app_context():
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == tenant_slug))
    org = db.session.scalar(
        sa.select(Organization).where(
            Organization.tenant_id == tenant.id, Organization.slug == org_slug
        )
    )
    actor = Actor.system("e2e test")
    for person in people:
        email, name, role = person.split("|")
        user = accounts.create_user(
            tenant, email=email, name=name, password=None, email_verified=True
        )
        members.add_member(actor, tenant, org, user, role)
    db.session.commit()
"""


@pytest.fixture
def add_members(live_server_env) -> Callable[[str, list[tuple[str, str, str]]], None]:
    """``add_members(org_slug, [(email, name, role), ...])``: new users, direct members."""
    env = live_server_env

    def add(org_slug: str, people: list[tuple[str, str, str]]) -> None:
        specs = ["|".join(person) for person in people]
        result = subprocess.run(
            [sys.executable, "-c", ADD_MEMBERS, "acme", org_slug, *specs],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, f"adding members failed:\n{result.stdout}{result.stderr}"

    return add


# --- helpers ---------------------------------------------------------------------------


def sign_in(page: Page, assert_accessible) -> None:
    page.goto("/t/acme/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def create_top_level_org(page: Page, name: str, assert_accessible) -> str:
    """From the tree's New organization form; returns the new org's slug."""
    page.get_by_role("banner").get_by_role("link", name="Organizations", exact=True).click()
    page.get_by_role("button", name="New organization").click()
    expect(page.get_by_role("heading", level=1, name="New organization")).to_be_visible()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create organization").click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(name)
    assert_accessible(page)
    match = re.search(r"/t/acme/orgs/([a-z0-9-]+)/(#[\w-]*)?$", page.url)
    assert match, page.url
    return match.group(1)


def open_org_page(page: Page, org: str, link: str) -> None:
    """Members or Teams, from the org's dashboard (reached through the breadcrumb)."""
    page.get_by_role("navigation", name="Breadcrumb").get_by_role(
        "link", name=org, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name=org, exact=True)).to_be_visible()
    page.get_by_role("navigation", name=f"{org} sections").get_by_role(
        "link", name=link, exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name=link, exact=True)).to_be_visible()


def member_row(page: Page, org: str, name: str) -> Locator:
    table = page.get_by_role("table", name=f"Members of {org}")
    return table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=name, exact=True))


def ends_with(suffix: str) -> Callable[[Response], bool]:
    return lambda response: response.url.endswith(suffix)


def test_owner_manages_members_in_place_and_builds_a_team(
    page: Page, assert_accessible, add_members
):
    suffix = uuid.uuid4().hex[:6]
    org = f"Initech {suffix}"
    alex, alex_email = f"Alex Rivera {suffix}", f"alex.{suffix}@initech.example"
    blake, blake_email = f"Blake Chen {suffix}", f"blake.{suffix}@initech.example"
    team = f"On-call {suffix}"

    # --- a fresh org: the owner is its only owner; two members join ---------------------
    sign_in(page, assert_accessible)
    slug = create_top_level_org(page, org, assert_accessible)
    add_members(slug, [(alex_email, alex, "member"), (blake_email, blake, "member")])

    page.get_by_role("navigation", name=f"{org} sections").get_by_role(
        "link", name="Members", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    table = page.get_by_role("table", name=f"Members of {org}")
    expect(table.get_by_role("rowheader")).to_have_text(sorted([OWNER_NAME, alex, blake]))
    owner_row, alex_row, blake_row = (member_row(page, org, n) for n in (OWNER_NAME, alex, blake))
    expect(alex_row.locator(".badge")).to_have_text("Member")
    expect(alex_row.get_by_role("link", name="Change role")).to_be_visible()
    # The only owner can be neither demoted nor removed, so neither is offered.
    expect(owner_row.get_by_role("link", name="Change role")).to_have_count(0)
    expect(owner_row.get_by_role("button", name="Remove")).to_have_count(0)
    expect(owner_row).to_contain_text("Only owner")
    expect(page.get_by_role("button", name="Leave organization")).to_have_count(0)
    expect(page.get_by_text(f"You are the only owner of {org}")).to_be_visible()
    assert_accessible(page)

    # Proof that nothing below reloads the page: a full load drops the window marker, and
    # a boosted navigation (the body is hx-boost) swaps the body, table and all. Only
    # the row's own POST goes out.
    page.evaluate("window.__samePage = true")
    table.evaluate("el => { window.__membersTable = el; }")
    requests: list[str] = []

    def record(request: Request) -> None:
        requests.append(f"{request.method} {request.url}")

    page.on("request", record)

    def still_same_page() -> None:
        assert page.evaluate("window.__samePage === true"), "the page was reloaded"
        assert table.evaluate("el => el === window.__membersTable"), "the table was replaced"
        # (the role form's GET is the row's own request, not a navigation)
        assert not [r for r in requests if r.startswith("GET ") and not r.endswith("/role")]

    # --- change a member's role in place: open the form, choose, then Save --------------
    with page.expect_response(ends_with("/role")) as answer:
        alex_row.get_by_role("link", name="Change role").click()
    assert answer.value.status == 200
    alex_row.get_by_role("combobox", name="Role").select_option(label="Admin")
    with page.expect_response(ends_with("/role")) as answer:
        alex_row.get_by_role("button", name="Save role").click()
    assert answer.value.status == 200
    expect(alex_row.get_by_role("status")).to_have_text("Role changed to Admin.")
    expect(alex_row.locator(".badge")).to_have_text("Admin")
    assert [r.split(" ")[0] for r in requests] == ["GET", "POST"]
    still_same_page()
    assert_accessible(page)

    # --- remove another member in place -------------------------------------------------
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_response(ends_with("/remove")) as answer:
        blake_row.get_by_role("button", name="Remove").click()
    assert answer.value.status == 200
    expect(blake_row).to_have_count(0)
    expect(table.get_by_role("rowheader")).to_have_text(sorted([OWNER_NAME, alex]))
    removed = f"{blake} was removed from {org}."
    expect(table.get_by_role("status").filter(has_text=removed)).to_have_text(removed)
    assert dialogs == [f"Remove {blake} from {org}?"]
    still_same_page()
    assert_accessible(page)

    # All of it was saved: a fresh load shows the same, without the messages.
    page.remove_listener("request", record)
    page.reload()
    expect(table.get_by_role("rowheader")).to_have_text(sorted([OWNER_NAME, alex]))
    expect(alex_row.locator(".badge")).to_have_text("Admin")
    expect(owner_row).to_contain_text("Owner")
    expect(table.get_by_role("alert")).to_have_count(0)

    # --- a team is created and filled --------------------------------------------------
    open_org_page(page, org, "Teams")
    expect(page.get_by_text("No teams yet.")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Team name", exact=True).fill(team)
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", level=1, name=team, exact=True)).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text(f"Team {team} created.")
    expect(page.get_by_text("Nobody is in this team yet.")).to_be_visible()
    assert_accessible(page)

    # Blake was removed from the org, so he can't join its team.
    email = page.get_by_label("Member's email", exact=True)
    email.fill(blake_email)
    page.get_by_role("button", name="Add to team").click()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_have_accessible_description(
        re.compile(re.escape(f"No member of {org} has that email address."))
    )
    expect(page.get_by_text("Nobody is in this team yet.")).to_be_visible()
    assert_accessible(page)

    email = page.get_by_label("Member's email", exact=True)
    email.fill(alex_email)
    page.get_by_role("button", name="Add to team").click()
    expect(page.get_by_role("status")).to_contain_text(f"{alex} added to {team}.")
    people = page.get_by_role("table")  # the team's only table: its members
    expect(people.get_by_role("cell", name=alex_email, exact=True)).to_be_visible()
    expect(people.get_by_role("row")).to_have_count(2)  # the header, and Alex
    expect(page.get_by_role("button", name=f"Remove {alex} from team", exact=True)).to_be_visible()
    assert_accessible(page)

    # --- the members page shows the team in that member's row --------------------------
    open_org_page(page, org, "Members")
    expect(alex_row.get_by_role("cell", name=team, exact=True)).to_be_visible()
    expect(owner_row.get_by_role("cell", name=team, exact=True)).to_have_count(0)
    assert_accessible(page)
