"""One organization's settings, a page each: General (name, address, logo), Metadata,
Move, and the Danger zone.

Each page's forms post to the page's own URL, so a form shown again with its errors
keeps the page's address, and reloading it is a plain GET of the page. The addresses the
forms posted to before the pages were split (``/settings/data``, ``/move``, ``/delete``)
answer with the same views (see the end of this module)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, g, redirect, request, url_for
from wtforms import SelectChoice

from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Organization
from app.policy import Perm
from app.services import org_data, org_deletion, orgs
from app.web.org import bp
from app.web.orgs.forms import DeleteOrgForm, MoveOrgForm, UpdateOrgDataForm, UpdateOrgForm
from app.web.rendering import render, wants_fragment
from app.web.scope import here
from app.web.views import form_status, require

DATA_TITLES = {
    "public_metadata": "Public metadata",
    "private_metadata": "Private metadata",
    "settings": "Settings",
}


@dataclass(frozen=True)
class SettingsPage:
    endpoint: str
    label: str
    needs: tuple[str, ...]  # every permission it takes


SETTINGS_PAGES = (
    SettingsPage("tenant.org.settings", "General", (Perm.ORG_UPDATE,)),
    SettingsPage(
        "tenant.org.settings_metadata", "Metadata", (Perm.ORG_UPDATE, Perm.SETTINGS_UPDATE)
    ),
    SettingsPage("tenant.org.settings_move", "Move", (Perm.ORG_UPDATE,)),
    SettingsPage("tenant.org.settings_danger", "Danger zone", (Perm.ORG_DELETE,)),
)


def _open_pages() -> list[SettingsPage]:
    return [page for page in SETTINGS_PAGES if all(map(here.access.can, page.needs))]


def _page(template: str, org: Organization, *, status: int = 200, **context):
    return render(
        template,
        org=org,
        breadcrumbs=orgs.ancestors(org),
        settings_pages=_open_pages(),
        access=here.access,
        status=status,
        **context,
    )


# --- General ---------------------------------------------------------------------------


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
    return _page("orgs/settings/general.html", org, form=form, status=form_status(form))


# --- Metadata --------------------------------------------------------------------------


@bp.route("/settings/metadata", methods=["GET", "POST"])
def settings_metadata():
    # Private metadata is on this page: the settings permission as well as the org's.
    require(Perm.ORG_UPDATE)
    require(Perm.SETTINGS_UPDATE)
    submitted = None
    if request.method == "POST":
        submitted = UpdateOrgDataForm()
        field_name = submitted.field_name.data
        if field_name not in DATA_TITLES:
            abort(400, "Unknown settings section.")
        if submitted.validate_on_submit():
            rows = [(row.key.data or "", row.value.data or "") for row in submitted.rows]
            try:
                data = org_data.from_rows(field_name, rows)
                org_data.update(here.actor, here.tenant, here.org, field_name, data)
            except ValidationFailed as error:
                submitted.form_errors.append(error.message)
            else:
                db.session.commit()
                flash(f"{DATA_TITLES[field_name]} saved.", "success")
                return redirect(
                    url_for("tenant.org.settings_metadata", _anchor=data_form_id(field_name)),
                    code=303,
                )
        elif any(submitted.rows.errors) and not submitted.form_errors:
            submitted.form_errors.append(
                f"Keys are at most {org_data.MAX_KEY_LENGTH} characters, "
                f"values at most {org_data.MAX_VALUE_LENGTH:,}."
            )
    forms = {name: _data_form(name, submitted) for name in DATA_TITLES}
    return _page(
        "orgs/settings/metadata.html",
        here.org,
        data_forms=forms,
        data_titles=DATA_TITLES,
        status=422 if submitted is not None else 200,
    )


def data_form_id(field_name: str) -> str:
    return field_name.replace("_", "-") + "-form"


def _data_form(field_name: str, submitted: UpdateOrgDataForm | None) -> UpdateOrgDataForm:
    """The form for one document: the one just submitted (with its errors), or the org's
    current rows and three empty ones to add to."""
    if submitted is not None and submitted.field_name.data == field_name:
        return submitted
    current = getattr(here.org, field_name) or {}
    rows = [{"key": k, "value": org_data.format_value(v)} for k, v in current.items()]
    rows += [{"key": "", "value": ""}] * 3
    return UpdateOrgDataForm(formdata=None, field_name=field_name, rows=rows)


# --- Move ------------------------------------------------------------------------------


@bp.route("/settings/move", methods=["GET", "POST"])
def settings_move():
    require(Perm.ORG_UPDATE)
    org = here.org
    form = MoveOrgForm()
    form.parent.choices = _parent_choices(org)
    refused_with: int | None = None
    if not form.is_submitted():
        form.parent.data = _current_parent_id(org)
    elif form.validate():
        try:
            new_parent = (
                orgs.get_org_by_public_id(here.tenant, form.parent.data)
                if form.parent.data
                else None
            )
            orgs.move_org(here.actor, here.tenant, org, new_parent)
        except ValidationFailed as error:
            form.apply_service_error(error)
        except NotFound:
            form.parent.errors = ["That organization no longer exists: choose another."]
        except (PermissionDenied, Conflict) as error:
            if wants_fragment():
                raise  # the error policy's fragment, as for any refused htmx request
            # Refused for where it would go (or where it is): said next to the choice,
            # under the refusal's own status.
            form.parent.errors = [error.message]
            refused_with = error.status_code
        else:
            db.session.commit()
            flash(f"{org.name} moved.", "success")
            return redirect(url_for("tenant.org.settings_move", org=org.slug), code=303)
        db.session.rollback()
    status = refused_with or form_status(form)
    return _page("orgs/settings/move.html", org, form=form, status=status)


def _current_parent_id(org: Organization) -> str:
    if org.parent_id is None:
        return ""
    return orgs.public_ids([org.parent_id]).get(org.parent_id, "")


def _parent_choices(org: Organization) -> list[SelectChoice]:
    candidates = orgs.org_choices_for_move(here.tenant, org, here.user)
    # Indented by depth (non-breaking spaces survive in an <option>), so the list reads as the tree.
    return [SelectChoice("", "— Top level —")] + [
        SelectChoice(c.public_id, "\u00a0\u00a0" * c.depth + ("└ " if c.depth else "") + c.name)
        for c in candidates
    ]


# --- Danger zone -----------------------------------------------------------------------


@bp.route("/settings/danger-zone", methods=["GET", "POST"])
def settings_danger():
    """Deleting the org and everything below it. This page is its confirmation, with
    JavaScript or without: it takes the org's name, typed."""
    require(Perm.ORG_DELETE)
    org = here.org
    form = DeleteOrgForm(org_name=org.name)
    refused_with: int | None = None
    if form.validate_on_submit():
        try:
            hidden = orgs.delete_org(here.actor, here.tenant, org)
        except Conflict as error:
            db.session.rollback()
            form.form_errors.append(error.message)
            refused_with = error.status_code
        else:
            db.session.commit()
            below = hidden - 1
            went = f" with {below} sub-organization{'' if below == 1 else 's'}" if below else ""
            flash(f"{org.name} deleted{went}. A tenant owner can restore it.", "success")
            return redirect(url_for("tenant.orgs.index"), code=303)
    return _page(
        "orgs/settings/danger.html",
        org,
        form=form,
        preview=org_deletion.preview(here.tenant, org),
        status=refused_with or form_status(form),
    )


# The addresses these forms posted to before settings had a page each, kept working:
# registered after the pages' own, so ``url_for`` builds the new ones.
for old_address, view in (
    ("/settings/data", settings_metadata),
    ("/move", settings_move),
    ("/delete", settings_danger),
):
    bp.add_url_rule(old_address, view_func=view, methods=["GET", "POST"])
