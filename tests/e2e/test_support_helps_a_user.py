"""Support helps a tenant user: finds them, changes their role, resends their invitation,
looks at the tenant as them (read-only) and ends that; the tenant's owner then sees what
support did, marked as support, in the orgs' audit logs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Response, expect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STAFF_EMAIL = "staff@tenantry.example"  # the demo superadmin
OWNER_EMAIL = "owner@acme.example"  # the demo tenant's owner
PASSWORD = "demo-password-1"

# --- the user support helps ---------------------------------------------------------------
#
# Two fresh top-level orgs of the demo owner: the user is a member of the first and has a
# pending invitation to the second (the staff user view lists the invitations addressed to
# that user, and nobody can be invited to an org they already belong to, directly or from a
# parent). Prepared with the app's own services in a subprocess against the live server's
# database, the way the members journey does it: audit events and limits all apply.

PREPARE = """
import json
import sys

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.services import accounts, invitations, members, orgs
from app.actors import Actor
from wsgi import app

org_name, other_name, email, name, owner_email = sys.argv[1:]
with app.test_request_context():
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.slug == "acme"))
    owner = db.session.scalar(
        sa.select(User).where(User.tenant_id == tenant.id, User.email == owner_email)
    )
    actor = Actor.for_user(owner)
    org = orgs.create_org(actor, tenant, name=org_name)
    other = orgs.create_org(actor, tenant, name=other_name)
    user = accounts.create_user(
        tenant, email=email, name=name, password=None, email_verified=True
    )
    members.add_member(actor, tenant, org, user, "member")
    results = invitations.invite(actor, tenant, other, addresses=[email], role="member")
    assert [r.outcome for r in results] == [invitations.Outcome.INVITED], results
    db.session.commit()
    print(json.dumps({"org": org.slug, "other": other.slug}))
"""


@pytest.fixture
def helped_user(live_server_env) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    person = {
        "suffix": suffix,
        "org_name": f"Umbrella {suffix}",
        "other_name": f"Vandelay {suffix}",
        "email": f"sam.{suffix}@umbrella.example",
        "name": f"Sam Support {suffix}",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PREPARE,
            person["org_name"],
            person["other_name"],
            person["email"],
            person["name"],
            OWNER_EMAIL,
        ],
        cwd=PROJECT_ROOT,
        env=live_server_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"preparing the user failed:\n{result.stdout}{result.stderr}"
    slugs = json.loads(result.stdout.strip().splitlines()[-1])
    return {**person, "org_slug": slugs["org"], "other_slug": slugs["other"]}


# --- helpers ------------------------------------------------------------------------------


def row_of(table: Locator, text: str) -> Locator:
    return table.get_by_role("row").filter(has_text=text)


def ends_with(suffix: str):
    return lambda response: response.url.endswith(suffix)


def audit_row(page: Page, action: str, target: str) -> Locator:
    """The log's entries with the raw action code ``action`` that mention ``target``."""
    table = page.get_by_role("table", name=re.compile(r"^Audit events"))
    return table.locator(f'tr[data-action="{action}"]').filter(has_text=target)


def test_support_finds_helps_and_views_as_a_user_and_the_owner_sees_it(
    page: Page, new_context, assert_accessible, helped_user
):
    p = helped_user
    org, other, email, name = p["org_name"], p["other_name"], p["email"], p["name"]
    reason = f"Ticket {p['suffix']}: can't find the Vandelay invitation"

    # --- support signs in and finds the user by the start of their email --------------
    page.goto("/staff/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Email", exact=True).fill(STAFF_EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Tenants", exact=True)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("link", name="Search", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Search")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("searchbox", name="Users, organizations, tenants or an id").fill(
        f"sam.{p['suffix']}"
    )
    results = page.locator("#search-results")
    users = results.get_by_role("table").first
    expect(results.get_by_role("heading", name="Users")).to_be_visible()
    expect(row_of(users, email)).to_have_count(1)
    expect(users.get_by_role("row")).to_have_count(2)  # the header, and Sam
    expect(page).to_have_url(re.compile(rf"/staff/search\?q=sam\.{p['suffix']}$"))
    assert_accessible(page)

    results.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1, name=name, exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/staff/users/usr_[0-9A-Z]+$"))
    user_url = page.url
    assert_accessible(page)

    # --- change their role in the first org --------------------------------------------
    memberships = page.get_by_role("region", name="Organizations")
    role = memberships.get_by_role("combobox", name=f"Role in {org}", exact=True)
    expect(role).to_have_value("member")
    role.select_option("viewer")
    row_of(memberships, org).get_by_role("button", name="Change role").click()
    expect(page.get_by_role("status").filter(has_text="is now")).to_have_text(
        f"{name} is now Viewer in {org}."
    )
    expect(role).to_have_value("viewer")
    assert_accessible(page)

    # --- resend their pending invitation to the second org -----------------------------
    invited = page.get_by_role("region", name="Pending invitations")
    invitation = row_of(invited, other)
    expect(invitation).to_have_count(1)
    expect(invitation.get_by_role("cell", name=re.compile(r"^1×"))).to_have_count(1)
    invitation.get_by_role("button", name="Resend").click()
    expect(page.get_by_role("status").filter(has_text="sent again")).to_have_text(
        f"The invitation to {other} is sent again; the earlier link no longer works."
    )
    expect(invitation.get_by_role("cell", name=re.compile(r"^2×"))).to_have_count(1)
    assert_accessible(page)

    # --- view the tenant as them: a reason is required ---------------------------------
    view_as = page.get_by_role("region", name="View as this user")
    view_as.get_by_role("button", name="View as this user").click()
    reason_box = page.get_by_label("Reason", exact=True)
    expect(reason_box).to_have_attribute("aria-invalid", "true")
    expect(reason_box).to_have_accessible_description(
        re.compile(r"Say why you need to see what this user sees\.")
    )
    assert_accessible(page)

    reason_box.fill(reason)
    page.get_by_role("button", name="View as this user").click()
    expect(page).to_have_url(re.compile(r"/t/acme/(orgs/)?$"))  # home: the org tree
    banner = page.get_by_role("status").filter(has_text="Viewing as")
    expect(banner).to_contain_text(f"Viewing as {email} (read-only) — reason: {reason}")
    expect(banner.get_by_role("button", name="End")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)
    assert_accessible(page)

    # Their own page: the org they belong to (as a viewer now), the pending invitation.
    page.goto("/t/acme/orgs/switch")
    expect(page.get_by_role("heading", level=1, name="My organizations")).to_be_visible()
    expect(banner).to_be_visible()
    mine = page.get_by_role("button", name=re.compile(rf"^{re.escape(org)}\b"))
    expect(mine).to_contain_text(re.compile("viewer", re.IGNORECASE))
    expect(page.get_by_role("button", name=re.compile(rf"^{re.escape(other)}\b"))).to_have_count(0)
    pending = page.get_by_role("region", name="My invitations")
    expect(pending.get_by_role("listitem").filter(has_text=other)).to_have_count(1)
    assert_accessible(page)

    # Accepting it would change things: refused (read-only), and nothing changes.
    with page.expect_response(ends_with("/accept")) as answer:
        pending.get_by_role("button", name="Accept").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1, name="Not allowed")).to_be_visible()
    expect(page.get_by_text("You are viewing as this user: read-only.")).to_be_visible()
    assert_accessible(page)

    # A change sent straight to the server (with the page's CSRF token) is refused too.
    page.goto("/t/acme/orgs/switch")
    token = json.loads(page.locator("body").get_attribute("hx-headers"))["X-CSRFToken"]
    refused: Response = page.request.post(
        "/t/acme/orgs/switch",
        form={"csrf_token": token, "org": "org_does_not_matter"},
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )
    assert refused.status == 403, refused.status
    page.reload()
    expect(pending.get_by_role("listitem").filter(has_text=other)).to_have_count(1)
    expect(page.get_by_role("button", name=re.compile(rf"^{re.escape(other)}\b"))).to_have_count(0)
    expect(mine).to_contain_text(re.compile("viewer", re.IGNORECASE))

    # --- end the view: back on the user's support page, nothing else changed -----------
    banner.get_by_role("button", name="End").click()
    expect(page).to_have_url(user_url)
    expect(page.get_by_role("status").filter(has_text="no longer viewing")).to_have_text(
        f"You are no longer viewing as {email}."
    )
    expect(role).to_have_value("viewer")
    expect(invitation).to_have_count(1)  # still pending
    assert_accessible(page)
    page.goto("/t/acme/")
    expect(page.get_by_text("Viewing as")).to_have_count(0)

    # --- the tenant owner sees support's changes in the orgs' audit logs ----------------
    owner = new_context().new_page()
    owner.goto("/t/acme/login")
    expect(owner.get_by_role("heading", name="Sign in")).to_be_visible()
    owner.get_by_label("Email", exact=True).fill(OWNER_EMAIL)
    owner.get_by_label("Password", exact=True).fill(PASSWORD)
    owner.get_by_role("button", name="Sign in").click()
    expect(owner.get_by_role("button", name="Sign out")).to_be_visible()

    owner.goto(f"/t/acme/orgs/{p['org_slug']}/audit")
    expect(owner.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    changed = audit_row(owner, "member.role_changed", email)
    expect(changed).to_have_count(1)
    expect(changed.locator(".audit-sentence")).to_contain_text(f"Support ({STAFF_EMAIL})")
    expect(changed).to_contain_text("role: member → viewer")
    added = audit_row(owner, "member.added", email)  # the owner's own doing: not support
    expect(added).to_have_count(1)
    expect(added).not_to_contain_text("Support (")
    assert_accessible(owner)

    owner.goto(f"/t/acme/orgs/{p['other_slug']}/audit")
    expect(owner.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    resent = audit_row(owner, "invitation.resent", email)
    expect(resent).to_have_count(1)
    expect(resent.locator(".audit-sentence")).to_contain_text(f"Support ({STAFF_EMAIL})")
    assert_accessible(owner)

    # The look at the tenant as the user is on the tenant's log, with its reason.
    owner.goto("/t/acme/audit")
    expect(owner.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    started = audit_row(owner, "staff.view_as_started", email)
    expect(started).to_have_count(1)
    expect(started).to_contain_text(reason)
    expect(started.locator(".audit-sentence")).to_contain_text(f"Support ({STAFF_EMAIL})")
    ended = audit_row(owner, "staff.view_as_ended", email)
    expect(ended.locator(".audit-sentence")).to_contain_text(f"Support ({STAFF_EMAIL})")
    assert_accessible(owner)
