"""One organization's settings: its name and address, its metadata, where it sits in the
tree, and deleting it."""

from __future__ import annotations

from flask import abort, flash, g, redirect, url_for
from wtforms import SelectChoice

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.policy import Perm
from app.services import org_data, orgs
from app.web.org import bp
from app.web.orgs.forms import MoveOrgForm, UpdateOrgDataForm, UpdateOrgForm
from app.web.rendering import render
from app.web.scope import here
from app.web.views import form_status, require

DATA_TITLES = {
    "public_metadata": "Public metadata",
    "private_metadata": "Private metadata",
    "settings": "Settings",
}


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require(Perm.ORG_UPDATE)
    org = here.org
    form = UpdateOrgForm(obj=org)
    if form.validate_on_submit():
        try:
            orgs.update_org(
                here.actor,
                here.tenant,
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
            return redirect(url_for("tenant.org.settings", org=org.slug), code=303)
        db.session.rollback()  # an unsaved rename must not leak into the page's links
        org = orgs.get_org(here.tenant, g.org_slug)
    return _settings_page(org, general_form=form, status=form_status(form))


@bp.post("/settings/data")
def update_data():
    # The form lives on the settings page, which shows private metadata: that page's
    # permission as well as the section's.
    require(Perm.ORG_UPDATE)
    require(Perm.SETTINGS_UPDATE)
    form = UpdateOrgDataForm()
    field_name = form.field_name.data
    if field_name not in DATA_TITLES:
        abort(400, "Unknown settings section.")
    if form.validate_on_submit():
        rows = [(row.key.data or "", row.value.data or "") for row in form.rows]
        try:
            data = org_data.from_rows(field_name, rows)
            org_data.update(here.actor, here.tenant, here.org, field_name, data)
        except ValidationFailed as error:
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(f"{DATA_TITLES[field_name]} saved.", "success")
            return redirect(
                url_for("tenant.org.settings", _anchor=field_name.replace("_", "-")), code=303
            )
    return _settings_page(here.org, data_form=form, status=422)


@bp.post("/move")
def move():
    require(Perm.ORG_UPDATE)
    form = MoveOrgForm()
    form.parent.choices = _parent_choices(here.org)
    if form.validate_on_submit():
        try:
            new_parent = (
                orgs.get_org_by_public_id(here.tenant, form.parent.data)
                if form.parent.data
                else None
            )
            orgs.move_org(here.actor, here.tenant, here.org, new_parent)
        except ValidationFailed as error:
            form.apply_service_error(error)
        except NotFound:
            form.parent.errors = ["That organization no longer exists."]
        else:
            db.session.commit()
            flash(f"{here.org.name} is moved.", "success")
            return redirect(url_for("tenant.org.dashboard"), code=303)
    return _settings_page(here.org, move_form=form, status=422)


@bp.post("/delete")
def delete():
    require(Perm.ORG_DELETE)
    org = here.org
    hidden = orgs.delete_org(here.actor, here.tenant, org)
    db.session.commit()
    below = hidden - 1
    suffix = f" with {below} sub-organization{'s' if below != 1 else ''}" if below else ""
    flash(f"{org.name} is deleted{suffix}. A tenant owner can restore it.", "success")
    return redirect(url_for("tenant.orgs.index"), code=303)


def _parent_choices(org) -> list[SelectChoice]:
    candidates = orgs.org_choices_for_move(here.tenant, org, here.user)
    # Indented by depth (non-breaking spaces survive in an <option>), so the list reads as the tree.
    return [SelectChoice("", "— Top level —")] + [
        SelectChoice(c.public_id, "\u00a0\u00a0" * c.depth + ("└ " if c.depth else "") + c.name)
        for c in candidates
    ]


def _settings_page(org, *, general_form=None, data_form=None, move_form=None, status=200):
    data_forms = {}
    for field_name in DATA_TITLES:
        if data_form is not None and data_form.field_name.data == field_name:
            data_forms[field_name] = data_form
            continue
        current = getattr(org, field_name) or {}
        rows = [{"key": k, "value": org_data.format_value(v)} for k, v in current.items()]
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
        access=here.access,
        status=status,
    )
