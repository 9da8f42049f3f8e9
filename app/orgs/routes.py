from __future__ import annotations

from flask import abort, flash, g, redirect, request, session, url_for
from wtforms import SelectChoice

from app.extensions import db
from app.orgs import bp
from app.orgs.forms import (
    CreateOrgForm,
    MoveOrgForm,
    SwitchOrgForm,
    UpdateOrgDataForm,
    UpdateOrgForm,
)
from app.policy import Perm, can_create_top_level_org
from app.rendering import render, wants_fragment
from app.search_text import query_text
from app.services import invitations, orgs
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.tenant.scope import CURRENT_ORG_KEY

DATA_TITLES = {
    "public_metadata": "Public metadata",
    "private_metadata": "Private metadata",
    "settings": "Settings",
}


def _require(permission: str) -> None:
    if not g.access.can(permission):
        abort(403, "You don't have permission to do that in this organization.")


def _actor() -> Actor:
    return Actor.for_user(g.user)


def _status(form) -> int:
    return 422 if form.errors or form.form_errors else 200


# --- the tree ------------------------------------------------------------------------


@bp.get("/")
def index():
    query = query_text("q")
    if query:
        nodes, more = orgs.search(g.tenant, query, g.user), False
    else:
        nodes, more = orgs.children(g.tenant, None, g.user)
    return render(
        "orgs/index.html",
        block="tree_area",
        nodes=nodes,
        more=more,
        query=query,
        level=1,
        can_create=can_create_top_level_org(g.user),
        can_restore=orgs.can_restore(g.user),
    )


@bp.get("/<org>/children")
def children():
    offset = max(0, request.args.get("offset", 0, type=int))
    nodes, more = orgs.children(g.tenant, g.org, g.user, offset=offset)
    level = max(1, min(request.args.get("level", 2, type=int), 1000))
    return render(
        "orgs/_tree_nodes.html",
        nodes=nodes,
        more=more,
        level=level,
        parent=g.org,
        offset=offset + len(nodes),
    )


@bp.route("/new", methods=["GET", "POST"])
def new():
    if not can_create_top_level_org(g.user):
        abort(403, "You can't create top-level organizations in this tenant.")
    return _create(parent=None)


@bp.route("/<org>/new", methods=["GET", "POST"])
def new_child():
    _require(Perm.ORG_CREATE_CHILD)
    return _create(parent=g.org)


def _create(parent):
    form = CreateOrgForm()
    if form.validate_on_submit():
        try:
            org = orgs.create_org(
                _actor(), g.tenant, name=form.name.data, slug=form.slug.data, parent=parent
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{org.name} is created.", "success")
            return redirect(url_for("tenant.orgs.dashboard", org=org.slug), code=303)
    return render("orgs/new.html", form=form, parent=parent, status=_status(form))


# --- one org -------------------------------------------------------------------------


@bp.get("/<org>/")
def dashboard():
    _require(Perm.ORG_READ)
    org = g.org
    children, more = orgs.children(g.tenant, org, g.user)
    return render(
        "orgs/dashboard.html",
        org=org,
        breadcrumbs=orgs.ancestors(org),
        children=children,
        more_children=more,
        member_count=orgs.member_counts_for([org.id]).get(org.id, 0),
        activity=orgs.recent_activity(org),
        access=g.access,
    )


@bp.route("/<org>/settings", methods=["GET", "POST"])
def settings():
    _require(Perm.ORG_UPDATE)
    org = g.org
    form = UpdateOrgForm(obj=org)
    if form.validate_on_submit():
        try:
            orgs.update_org(
                _actor(),
                g.tenant,
                org,
                name=form.name.data,
                slug=form.slug.data,
                logo_url=form.logo_url.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Changes saved.", "success")
            return redirect(url_for("tenant.orgs.settings", org=org.slug), code=303)
        db.session.rollback()  # an unsaved rename must not leak into the page's links
        org = orgs.get_org(g.tenant, g.org_slug)
    return _settings_page(org, general_form=form, status=_status(form))


@bp.post("/<org>/settings/data")
def update_data():
    _require(Perm.SETTINGS_UPDATE)
    form = UpdateOrgDataForm()
    field_name = form.field_name.data
    if field_name not in DATA_TITLES:
        abort(400, "Unknown settings section.")
    if form.validate_on_submit():
        rows = [(row.key.data or "", row.value.data or "") for row in form.rows]
        try:
            data = orgs.validate_data(field_name, rows)
            orgs.update_org_data(_actor(), g.tenant, g.org, field_name, data)
        except ValidationFailed as error:
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(f"{DATA_TITLES[field_name]} saved.", "success")
            return redirect(
                url_for("tenant.orgs.settings", _anchor=field_name.replace("_", "-")), code=303
            )
    return _settings_page(g.org, data_form=form, status=422)


@bp.post("/<org>/move")
def move():
    _require(Perm.ORG_UPDATE)
    form = MoveOrgForm()
    form.parent.choices = _parent_choices(g.org)
    if form.validate_on_submit():
        try:
            new_parent = (
                orgs.get_org_by_public_id(g.tenant, form.parent.data) if form.parent.data else None
            )
            orgs.move_org(_actor(), g.tenant, g.org, new_parent)
        except ValidationFailed as error:
            form.apply_service_error(error)
        except NotFound:
            form.parent.errors = ["That organization no longer exists."]
        else:
            db.session.commit()
            flash(f"{g.org.name} is moved.", "success")
            return redirect(url_for("tenant.orgs.dashboard"), code=303)
    return _settings_page(g.org, move_form=form, status=422)


@bp.post("/<org>/delete")
def delete():
    _require(Perm.ORG_DELETE)
    org = g.org
    hidden = orgs.delete_org(_actor(), g.tenant, org)
    db.session.commit()
    below = hidden - 1
    suffix = f" with {below} sub-organization{'s' if below != 1 else ''}" if below else ""
    flash(f"{org.name} is deleted{suffix}. A tenant owner can restore it.", "success")
    return redirect(url_for("tenant.orgs.index"), code=303)


def _parent_choices(org) -> list[SelectChoice]:
    candidates = orgs.org_choices_for_move(g.tenant, org, g.user)
    return [SelectChoice("", "— Top level —")] + [
        SelectChoice(o.public_id, o.name) for o in candidates
    ]


def _settings_page(org, *, general_form=None, data_form=None, move_form=None, status=200):
    data_forms = {}
    for field_name in DATA_TITLES:
        if data_form is not None and data_form.field_name.data == field_name:
            data_forms[field_name] = data_form
            continue
        current = getattr(org, field_name) or {}
        rows = [{"key": k, "value": orgs.format_value(v)} for k, v in current.items()]
        rows += [{"key": "", "value": ""}] * 3
        data_forms[field_name] = UpdateOrgDataForm(formdata=None, field_name=field_name, rows=rows)
    breadcrumbs = orgs.ancestors(org)
    if move_form is None:
        move_form = MoveOrgForm(formdata=None)
        move_form.parent.choices = _parent_choices(org)
        move_form.parent.data = breadcrumbs[-1].public_id if breadcrumbs else ""
    return render(
        "orgs/settings.html",
        org=org,
        breadcrumbs=breadcrumbs,
        general_form=general_form or UpdateOrgForm(formdata=None, obj=org),
        data_forms=data_forms,
        data_titles=DATA_TITLES,
        move_form=move_form,
        access=g.access,
        status=status,
    )


# --- deleted orgs --------------------------------------------------------------------


@bp.get("/deleted")
def deleted():
    if not orgs.can_restore(g.user):
        abort(403, "Only a tenant owner can see and restore deleted organizations.")
    return render("orgs/deleted.html", deleted=orgs.list_deleted(g.tenant))


@bp.post("/deleted/<public_id>/restore")
def restore(public_id: str):
    if not orgs.can_restore(g.user):
        abort(403, "Only a tenant owner can restore organizations.")
    try:
        org = orgs.get_org_by_public_id(g.tenant, public_id, deleted=True)
    except NotFound:
        abort(404)
    restored = orgs.restore_org(_actor(), g.tenant, org)
    db.session.commit()
    flash(f"{org.name} is restored with {restored - 1} sub-organization(s).", "success")
    return redirect(url_for("tenant.orgs.dashboard", org=org.slug), code=303)


# --- the switcher --------------------------------------------------------------------


@bp.get("/switch")
def switcher():
    query = query_text("q")
    return render(
        "orgs/switch.html",
        block="switch_list",
        memberships=orgs.list_user_orgs(g.user, query=query),
        query=query,
        form=SwitchOrgForm(),
        # the header dropdown and the filter swap only the list: no invitations there
        pending_invitations=[] if wants_fragment() else invitations.pending_for(g.user),
        # the "My organizations" page (and its filter) also offers Leave; the dropdown not
        can_leave=not wants_fragment() or request.args.get("manage") == "1",
    )


@bp.post("/switch")
def switch():
    form = SwitchOrgForm()
    if not form.validate_on_submit():
        abort(400, "Choose an organization.")
    org = orgs.accessible_org(g.user, form.org.data)
    if org is None:
        abort(404, "That organization doesn't exist or you are not a member of it.")
    orgs.switch_org(g.user, org)
    db.session.commit()
    session[CURRENT_ORG_KEY] = org.public_id
    return redirect(url_for("tenant.orgs.dashboard", org=org.slug), code=303)


@bp.post("/switch/invitations/<public_id>/accept")
def accept_invitation(public_id: str):
    """Accept one of "My invitations": join with the invited role and land in the org."""
    invitation = invitations.get_pending_for(g.user, public_id)  # else 404
    org = invitations.accept(invitation, g.user)
    db.session.commit()
    session[CURRENT_ORG_KEY] = org.public_id
    flash(f"Welcome to {org.name}!", "success")
    return redirect(url_for("tenant.orgs.dashboard", org=org.slug), code=303)


@bp.post("/switch/invitations/<public_id>/decline")
def decline_invitation(public_id: str):
    invitation = invitations.get_pending_for(g.user, public_id)  # else 404
    invitations.decline(invitation, g.user)
    db.session.commit()
    flash("Invitation declined.", "success")
    return redirect(url_for("tenant.orgs.switcher"), code=303)
