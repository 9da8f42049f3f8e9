from __future__ import annotations

from flask import abort, flash, redirect, request, url_for

from app.errors import ValidationFailed
from app.extensions import db
from app.policy import TenantPerm
from app.services import invitations, orgs
from app.services.pagination import cursor_from
from app.web.orgs import bp
from app.web.orgs.forms import (
    CreateOrgForm,
    SwitchOrgForm,
)
from app.web.rendering import render, wants_fragment
from app.web.scope import current_org, here
from app.web.search_text import query_text
from app.web.views import form_status, require_tenant


@bp.get("/")
def index():
    query = query_text("q")
    cursor = None if query else cursor_from(request.args, 2, types=orgs.LEVEL_KEY_TYPES)
    return render(
        "orgs/index.html",
        # The tree's "Show more" (after a key) swaps in the next top-level orgs alone.
        block="tree_area" if cursor is None else "tree_nodes",
        found=orgs.search(here.tenant, query, here.user) if query else [],
        page=None if query else orgs.children(here.tenant, None, here.user, cursor=cursor),
        paged=cursor is not None,  # an empty page past the start is no empty tree
        query=query,
        level=1,
        can_create=here.tenant_can(TenantPerm.ORGS_CREATE_TOP_LEVEL),
        can_restore=here.tenant_can(TenantPerm.ORGS_RESTORE),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    require_tenant(TenantPerm.ORGS_CREATE_TOP_LEVEL)
    return create_org_page(parent=None)


def create_org_page(parent):
    form = CreateOrgForm()
    if form.validate_on_submit():
        try:
            org = orgs.create_org(
                here.actor, here.tenant, name=form.name.data, slug=form.slug.data, parent=parent
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{org.name} created.", "success")
            return redirect(url_for("tenant.org.dashboard", org=org.slug), code=303)
    return render("orgs/new.html", form=form, parent=parent, status=form_status(form))


# --- deleted orgs --------------------------------------------------------------------


@bp.get("/deleted")
def deleted():
    require_tenant(TenantPerm.ORGS_RESTORE)
    return render("orgs/deleted.html", deleted=orgs.list_deleted(here.tenant))


@bp.post("/deleted/<public_id>/restore")
def restore(public_id: str):
    require_tenant(TenantPerm.ORGS_RESTORE)
    org = orgs.get_org_by_public_id(here.tenant, public_id, deleted=True)
    restored = orgs.restore_org(here.actor, here.tenant, org)
    db.session.commit()
    flash(restored_message(org.name, restored - 1), "success")
    return redirect(url_for("tenant.org.dashboard", org=org.slug), code=303)


def restored_message(name: str, below: int) -> str:
    if below == 0:
        return f"{name} restored."
    return f"{name} restored with {below} sub-organization{'' if below == 1 else 's'}."


# --- the switcher --------------------------------------------------------------------


@bp.get("/switch")
def switcher():
    query = query_text("q")
    openable, more = orgs.list_openable_orgs(here.user, query=query)
    current = current_org.get()
    return render(
        "orgs/switch.html",
        block="switch_list",
        openable=openable,
        more=more,
        # the header's dropdown names the org of the page it was opened on
        on_screen_id=request.args.get("on_screen") or (current.public_id if current else None),
        query=query,
        form=SwitchOrgForm(),
        # the header dropdown and the filter swap only the list: no invitations there
        pending_invitations=[] if wants_fragment() else invitations.pending_for(here.user),
        # the "My organizations" page (and its filter) also offers Leave; the dropdown not
        offer_leave=not wants_fragment() or request.args.get("manage") == "1",
    )


@bp.post("/switch")
def switch():
    form = SwitchOrgForm()
    if not form.validate_on_submit():
        abort(400, "Choose an organization.")
    org = orgs.accessible_org(here.user, form.org.data)
    if org is None:
        abort(404, "That organization doesn't exist or you are not a member of it.")
    orgs.switch_org(here.user, org)
    db.session.commit()
    current_org.remember(org)
    return redirect(url_for("tenant.org.dashboard", org=org.slug), code=303)


@bp.post("/switch/invitations/<public_id>/accept")
def accept_invitation(public_id: str):
    """Accept one of "My invitations": join with the invited role and land in the org."""
    invitation = invitations.get_pending_for(here.user, public_id)  # else 404
    org = invitations.accept(invitation, here.user)
    db.session.commit()
    current_org.remember(org)
    flash(f"Welcome to {org.name}!", "success")
    return redirect(url_for("tenant.org.dashboard", org=org.slug), code=303)


@bp.post("/switch/invitations/<public_id>/decline")
def decline_invitation(public_id: str):
    invitation = invitations.get_pending_for(here.user, public_id)  # else 404
    invitations.decline(invitation, here.user)
    db.session.commit()
    flash("Invitation declined.", "success")
    return redirect(url_for("tenant.orgs.switcher"), code=303)
