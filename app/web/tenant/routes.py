"""The tenant's home and its settings, a page each: General (how organizations come to
be), Sign-up, Seats and Roles here; API keys and tokens, and Signing keys in api_access.

Each page's form posts to the page's own URL (a form shown again with its errors keeps
the page's address, and reloading it is a GET of the page); a destructive action's URL
answers GET with its confirmation page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Response, flash, redirect, request, url_for
from wtforms import SelectChoice

from app.errors import ServiceError, ValidationFailed
from app.extensions import db
from app.models import CustomRole
from app.policy import BUILT_IN_ROLES, PERMISSION_LABELS, Role, TenantPerm, role_catalog
from app.services import roles, tenants
from app.web.forms import BaseForm
from app.web.rendering import render
from app.web.scope import current_org, here
from app.web.tenant import bp
from app.web.tenant.forms import (
    DeleteRoleForm,
    RoleForm,
    UpdateOrgRulesForm,
    UpdateSeatsForm,
    UpdateSignUpForm,
)
from app.web.views import confirmation_page, form_status, require_tenant


@bp.get("/")
def home():
    """The current organization if there is one, else the organization list."""
    org = current_org.get()
    if org is not None:
        return redirect(url_for("tenant.org.dashboard", org=org.slug))
    return redirect(url_for("tenant.orgs.index"))


# --- the settings pages and their frame --------------------------------------------------


@dataclass(frozen=True)
class SettingsPage:
    endpoint: str
    label: str
    needs: TenantPerm
    within: tuple[str, ...] = ()  # endpoints of pages that belong to it (a role's page)


SETTINGS_PAGES = (
    SettingsPage("tenant.settings", "General", TenantPerm.SETTINGS_UPDATE),
    SettingsPage("tenant.settings_sign_up", "Sign-up", TenantPerm.SETTINGS_UPDATE),
    SettingsPage("tenant.settings_seats", "Seats", TenantPerm.SETTINGS_UPDATE),
    SettingsPage("tenant.settings_roles", "Roles", TenantPerm.ROLES_MANAGE, ("tenant.edit_role",)),
    SettingsPage(
        "tenant.settings_api_keys",
        "API keys and tokens",
        TenantPerm.API_KEYS_MANAGE,
        ("tenant.narrow_api_key", "tenant.update_token_settings"),
    ),
    SettingsPage("tenant.settings_signing_keys", "Signing keys", TenantPerm.SIGNING_KEYS_MANAGE),
)


def settings_page(template: str, *, status: int = 200, **context: Any) -> Response:
    """A settings page inside the frame: the pages the visitor may open, the one shown."""
    endpoint = request.endpoint or ""
    shown = next(
        (page for page in SETTINGS_PAGES if endpoint == page.endpoint or endpoint in page.within),
        None,
    )
    return render(
        template,
        settings_pages=[page for page in SETTINGS_PAGES if here.tenant_can(page.needs)],
        shown_page=shown,
        status=status,
        **context,
    )


# --- General, Sign-up, Seats: the tenant's rules -----------------------------------------


def _current_rules() -> dict[str, Any]:
    tenant = here.tenant
    return {
        "allow_signup": tenant.allow_signup,
        "signup_email_domains": list(tenant.signup_email_domains),
        "personal_orgs": tenant.personal_orgs,
        "members_can_create_orgs": tenant.members_can_create_orgs,
        "seat_limit": tenant.seat_limit,
    }


def _save_rules(form: BaseForm, saved: str, **changed: Any) -> Response | None:
    """Save the rules one page changes (the others as they are) and go back to the page;
    None with the service's refusal shown on ``form``."""
    try:
        tenants.update_tenant_rules(here.actor, here.tenant, **(_current_rules() | changed))
    except ValidationFailed as error:
        db.session.rollback()
        form.apply_service_error(error)
        return None
    db.session.commit()
    flash(saved, "success")
    return redirect(url_for(request.endpoint or "tenant.settings"), code=303)


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require_tenant(TenantPerm.SETTINGS_UPDATE)
    form = UpdateOrgRulesForm(data=_current_rules())
    if form.validate_on_submit():
        saved = _save_rules(
            form,
            "Organization rules saved.",
            personal_orgs=form.personal_orgs.data,
            members_can_create_orgs=form.members_can_create_orgs.data,
        )
        if saved is not None:
            return saved
    return settings_page("tenant/settings/general.html", form=form, status=form_status(form))


@bp.route("/settings/sign-up", methods=["GET", "POST"])
def settings_sign_up():
    require_tenant(TenantPerm.SETTINGS_UPDATE)
    rules = _current_rules()
    form = UpdateSignUpForm(
        data=rules | {"signup_email_domains": "\n".join(rules["signup_email_domains"])}
    )
    if form.validate_on_submit():
        saved = _save_rules(
            form,
            "Sign-up rules saved.",
            allow_signup=form.allow_signup.data,
            signup_email_domains=re.split(r"[\s,;]+", form.signup_email_domains.data or ""),
        )
        if saved is not None:
            return saved
    return settings_page("tenant/settings/sign_up.html", form=form, status=form_status(form))


@bp.route("/settings/seats", methods=["GET", "POST"])
def settings_seats():
    require_tenant(TenantPerm.SETTINGS_UPDATE)
    form = UpdateSeatsForm(data=_current_rules())
    if form.validate_on_submit():
        saved = _save_rules(form, "Seat limit saved.", seat_limit=form.seat_limit.data)
        if saved is not None:
            return saved
    return settings_page("tenant/settings/seats.html", form=form, status=form_status(form))


# --- Roles -----------------------------------------------------------------------------


@bp.route("/settings/roles", methods=["GET", "POST"])
def settings_roles():
    require_tenant(TenantPerm.ROLES_MANAGE)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            role = roles.create_role(
                here.actor,
                here.tenant,
                key=form.key.data,
                name=form.name.data,
                description=form.description.data or "",
                permissions=form.permissions.data or [],
            )
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{role.name} role created.", "success")
            return redirect(url_for("tenant.settings_roles"), code=303)
    return settings_page(
        "tenant/settings/roles.html",
        role_form=form,
        built_in_roles=BUILT_IN_ROLES.values(),
        custom_roles=roles.list_custom_roles(here.tenant),
        permission_labels=PERMISSION_LABELS,
        status=form_status(form),
    )


@bp.route("/settings/roles/<public_id>", methods=["GET", "POST"])
def edit_role(public_id: str):
    require_tenant(TenantPerm.ROLES_MANAGE)
    role = roles.get_role(here.tenant, public_id)
    form = RoleForm(obj=role)
    form.key.render_kw = {"readonly": True}
    if form.validate_on_submit():
        try:
            roles.update_role(
                here.actor,
                here.tenant,
                role,
                name=form.name.data,
                description=form.description.data or "",
                permissions=form.permissions.data or [],
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"{role.name} role saved.", "success")
            return redirect(url_for("tenant.edit_role", public_id=public_id), code=303)
        db.session.rollback()
    return settings_page(
        "tenant/role.html",
        role=role,
        form=form,
        uses=_uses_of(role),
        delete_form=_delete_form(role),  # blank: the role page's choice for its deletion
        status=form_status(form),
    )


def _uses_of(role: CustomRole) -> int:
    listed = roles.list_custom_roles(here.tenant)
    return next((uses for custom, uses in listed if custom.id == role.id), 0)


def _delete_form(role: CustomRole, formdata: Any = None) -> DeleteRoleForm:
    form = DeleteRoleForm(formdata=formdata)
    form.reassign_to.choices = [
        SelectChoice(key, definition.name)
        for key, definition in role_catalog(here.tenant.id).items()
        if key not in (role.key, Role.OWNER)
    ]
    return form


@bp.route("/settings/roles/<public_id>/delete", methods=["GET", "POST"])
def delete_role(public_id: str):
    require_tenant(TenantPerm.ROLES_MANAGE)
    role = roles.get_role(here.tenant, public_id)
    # The role its members get instead: chosen on the role's page, carried to the
    # confirmation page in the query string and from there in its form.
    form = _delete_form(role, request.args if request.method == "GET" else request.form)
    instead = form.reassign_to.data or ""
    if request.method == "GET":
        uses = _uses_of(role)
        instead_name = {choice.value: choice.label for choice in form.reassign_to.choices}.get(
            instead
        )
        return confirmation_page(
            title=f"Delete the {role.name} role?",
            question=f"Delete the {role.name} role? This can't be undone.",
            consequence=(
                f"{_members(uses)} {'has' if uses == 1 else 'have'} it now: "
                f"they get the {instead_name} role instead."
                if uses and instead_name
                else None
            ),
            button="Delete role",
            cancel_url=url_for("tenant.edit_role", public_id=public_id),
            fields={"reassign_to": instead} if instead else None,
        )
    name = role.name
    try:
        moved = roles.delete_role(here.actor, here.tenant, role, reassign_to=instead or None)
    except ServiceError as error:
        db.session.rollback()
        if error.status_code == 403:
            raise
        flash(error.message, "error")
        return redirect(url_for("tenant.edit_role", public_id=public_id), code=303)
    db.session.commit()
    suffix = f"; {_members(moved)} moved to another role" if moved else ""
    flash(f"{name} role deleted{suffix}.", "success")
    return redirect(url_for("tenant.settings_roles"), code=303)


def _members(count: int) -> str:
    return f"{count} member{'' if count == 1 else 's'}"
