"""Deliberate member actions in a real browser (issue 15: problems 1, 9 and 10).

A row's Change role opens its form (in the row with JavaScript, a page of its own
without); keyboard browsing of its Role select sends nothing; a role changes with Save,
and Owner is asked for again; Remove asks first and can be
undone; on a phone the members table is stacked cards that keep every control.
"""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import Dialog, Locator, Page, Request, expect

from tests.e2e import test_manage_members_and_teams as members_journey
from tests.e2e.screen import SIZES, fits
from tests.e2e.test_manage_members_and_teams import create_top_level_org, member_row, sign_in

# ``add_members(org_slug, [(email, name, role), ...])``: the other members journey's fixture.
add_members = members_journey.add_members


def _people(suffix: str, *names: str) -> list[tuple[str, str, str]]:
    return [
        (f"{name.lower()}.{suffix}@initech.example", f"{name} {suffix}", "member") for name in names
    ]


def _open_members(page: Page, org: str) -> None:
    page.get_by_role("navigation", name=f"{org} sections").get_by_role(
        "link", name="Members", exact=True
    ).click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()


def _no_axe(_page: Page) -> None:
    """Stands in for assert_accessible where JavaScript is off (axe is a script)."""


def _role(row: Locator) -> Locator:
    """The role a row shows (its badge)."""
    return row.locator(".badge")


def test_keyboard_browsing_saves_nothing_and_changes_are_deliberate(
    page: Page, assert_accessible, add_members
):
    suffix = uuid.uuid4().hex[:6]
    org = f"Hooli {suffix}"
    (_, alex, _), (_, blake, _) = people = _people(suffix, "Alex", "Blake")

    sign_in(page, assert_accessible)
    slug = create_top_level_org(page, org, assert_accessible)
    add_members(slug, people)
    _open_members(page, org)
    alex_row, blake_row = member_row(page, org, alex), member_row(page, org, blake)
    expect(_role(alex_row)).to_have_text("Member")
    expect(alex_row.get_by_role("combobox")).to_have_count(0)  # the choices come when asked
    assert_accessible(page)

    # --- Change role opens the row's form; browsing its select sends nothing ------------
    sent: list[str] = []

    def record(request: Request) -> None:
        if request.method != "GET":
            sent.append(f"{request.method} {request.url}")

    page.on("request", record)
    with page.expect_response(re.compile(r"/role$")) as answer:
        alex_row.get_by_role("link", name="Change role").click()
    assert answer.value.status == 200
    role = alex_row.get_by_role("combobox", name="Role")
    expect(role).to_be_focused()  # the form is where the keyboard is
    expect(role).to_have_value("member")
    assert_accessible(page)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.wait_for_timeout(600)  # longer than any htmx trigger delay
    assert sent == []
    alex_row.get_by_role("button", name="Cancel").click()  # a link styled as a button
    expect(role).to_have_count(0)
    expect(_role(alex_row)).to_have_text("Member")
    assert sent == []
    page.remove_listener("request", record)

    # --- a deliberate change: choose, then Save ----------------------------------------
    alex_row.get_by_role("link", name="Change role").click()
    alex_row.get_by_role("combobox", name="Role").select_option(label="Admin")
    with page.expect_response(re.compile(r"/role$")) as answer:
        alex_row.get_by_role("button", name="Save role").click()
    assert answer.value.status == 200
    expect(alex_row.get_by_role("status")).to_have_text("Role changed to Admin.")
    expect(_role(alex_row)).to_have_text("Admin")
    assert_accessible(page)

    # --- Owner is asked for again, in the row ------------------------------------------
    alex_row.get_by_role("link", name="Change role").click()
    alex_row.get_by_role("combobox", name="Role").select_option(label="Owner")
    alex_row.get_by_role("button", name="Save role").click()
    expect(alex_row).to_contain_text(f"Make {alex} an owner of {org}?")
    assert_accessible(page)
    alex_row.get_by_role("button", name="Cancel").click()
    expect(_role(alex_row)).to_have_text("Admin")
    alex_row.get_by_role("link", name="Change role").click()
    alex_row.get_by_role("combobox", name="Role").select_option(label="Owner")
    alex_row.get_by_role("button", name="Save role").click()
    make_owner = alex_row.get_by_role("button", name="Make owner")
    expect(make_owner).to_be_focused()  # the question is where the keyboard is
    with page.expect_response(re.compile(r"/role$")) as answer:
        make_owner.click()
    assert answer.value.status == 200
    expect(_role(alex_row)).to_have_text("Owner")

    # --- remove, then Undo -------------------------------------------------------------
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    with page.expect_response(re.compile(r"/remove$")) as answer:
        blake_row.get_by_role("button", name="Remove").click()
    assert answer.value.status == 200
    assert dialogs == [f"Remove {blake} from {org}?"]
    notice = page.get_by_role("status").filter(has_text=f"{blake} was removed from {org}.")
    expect(notice).to_be_visible()
    undo = page.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    assert_accessible(page)
    with page.expect_response(re.compile(r"/restore$")) as answer:
        undo.click()
    assert answer.value.status == 200
    expect(blake_row.get_by_role("status")).to_have_text("Removal undone.")
    expect(_role(blake_row)).to_have_text("Member")
    page.reload()
    expect(_role(blake_row)).to_have_text("Member")
    expect(_role(alex_row)).to_have_text("Owner")

    # --- at 1280 px the table fits; at 390 px it is cards that keep every control -------
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    fits(page)
    expect(blake_row.get_by_role("button", name="Remove")).to_be_in_viewport()
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    fits(page)
    for row in (alex_row, blake_row):
        expect(row.get_by_role("link", name="Change role")).to_be_visible()
        expect(row.get_by_role("button", name="Remove")).to_be_visible()
    email = blake_row.locator("td").first  # each cell under its label
    expect(email).to_be_visible()
    assert email.evaluate("td => getComputedStyle(td).display") == "block"
    assert email.evaluate("td => getComputedStyle(td, '::before').content") == '"Email: "'
    blake_row.get_by_role("link", name="Change role").click()
    expect(blake_row.get_by_role("combobox", name="Role")).to_be_visible()
    expect(blake_row.get_by_role("button", name="Save role")).to_be_visible()
    fits(page)
    assert_accessible(page)


def test_without_javascript_roles_and_removal_go_through_pages(new_context, add_members):
    """(axe runs as a script, so it can't check these pages here: the journey with
    JavaScript checks the same pages.)"""
    suffix = uuid.uuid4().hex[:6]
    org = f"Pied Piper {suffix}"
    (_, casey, _), (_, drew, _) = people = _people(suffix, "Casey", "Drew")

    # Setting up needs no JavaScript either: the same journey as with it.
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    sign_in(page, _no_axe)
    slug = create_top_level_org(page, org, _no_axe)
    add_members(slug, people)
    _open_members(page, org)
    casey_row, drew_row = member_row(page, org, casey), member_row(page, org, drew)

    # --- Change role is a page with the form; Save posts it ----------------------------
    casey_row.get_by_role("link", name="Change role").click()
    expect(page.get_by_role("heading", level=1, name=f"Change {casey}’s role")).to_be_visible()
    page.get_by_label("Role", exact=True).select_option(label="Admin")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("status").filter(has_text=f"{casey} is now Admin")).to_be_visible()
    expect(_role(casey_row)).to_have_text("Admin")

    # --- Owner: a confirmation page first ----------------------------------------------
    casey_row.get_by_role("link", name="Change role").click()
    page.get_by_label("Role", exact=True).select_option(label="Owner")
    page.get_by_role("button", name="Save role").click()
    expect(page.get_by_role("heading", level=1, name=f"Make {casey} an owner?")).to_be_visible()
    expect(page.get_by_text(f"Owners can do everything in {org}")).to_be_visible()
    page.get_by_role("button", name="Make owner").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    expect(_role(casey_row)).to_have_text("Owner")

    # --- Cancel on the role page changes nothing ---------------------------------------
    drew_row.get_by_role("link", name="Change role").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", level=1, name="Members")).to_be_visible()
    expect(_role(drew_row)).to_have_text("Member")

    # --- Remove: a confirmation page, then the list with an Undo ----------------------
    drew_row.get_by_role("button", name="Remove").click()
    expect(page.get_by_role("heading", level=1, name=f"Remove {drew}?")).to_be_visible()
    page.get_by_role("button", name="Remove").click()
    expect(
        page.get_by_role("status").filter(has_text=f"{drew} was removed from {org}.")
    ).to_be_visible()
    expect(drew_row).to_have_count(0)
    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status").filter(has_text=f"{drew} is back in {org}")).to_be_visible()
    expect(_role(drew_row)).to_have_text("Member")
    context.close()


def test_a_long_list_pages_by_key_and_jumps_by_letter_on_a_phone(
    page: Page, assert_accessible, add_members
):
    """61 members: a count, Next/Previous, and A to Z links that wrap on a phone and
    start the list at their letter; all links, so the keyboard reaches them."""
    suffix = uuid.uuid4().hex[:6]
    org = f"Globex {suffix}"
    surnames = ("Adams", "Mills", "Nash", "Young")
    people = [
        (f"p{n:02d}.{suffix}@initech.example", f"{surnames[n % 4]} {n:02d}", "member")
        for n in range(60)
    ]
    sign_in(page, assert_accessible)
    slug = create_top_level_org(page, org, assert_accessible)
    add_members(slug, people)
    page.set_viewport_size(SIZES["phone"])
    page.goto(f"/t/acme/orgs/{slug}/members")
    table = page.get_by_role("table", name=f"Members of {org}")
    expect(page.get_by_text("61 members", exact=True)).to_be_visible()
    expect(table.get_by_role("rowheader")).to_have_count(50)
    letters = page.get_by_role("navigation", name="Names starting with")
    expect(letters.get_by_role("link")).to_have_count(26)
    z = letters.get_by_role("link", name="Z", exact=True).bounding_box()
    assert z is not None
    assert z["x"] + z["width"] <= SIZES["phone"]["width"]  # the letters wrap
    fits(page)
    assert_accessible(page)

    # --- the keyboard reaches a letter, Enter starts the list there -------------------
    letters.get_by_role("link", name="M", exact=True).focus()
    page.keyboard.press("Enter")
    expect(table.get_by_role("rowheader").first).to_have_text("Mills 01")
    expect(letters.get_by_role("link", name="M", exact=True)).to_have_attribute(
        "aria-current", "true"
    )
    fits(page)

    # --- Previous and Next walk the pages by key ---------------------------------------
    page.get_by_role("link", name="← Previous").click()
    expect(table.get_by_role("rowheader").last).to_have_text("Adams 56")
    page.goto(f"/t/acme/orgs/{slug}/members")  # the first page again
    page.get_by_role("link", name="Next →").click()
    expect(table.get_by_role("rowheader")).to_have_count(11)
    expect(table.get_by_role("rowheader").last).to_have_text("Young 59")
    fits(page)
    assert_accessible(page)
