import re

from flask import flash, redirect, url_for
from wtforms import SelectChoice

from app.errors import ServiceError, ValidationFailed
from app.extensions import db
from app.models import utcnow
from app.policy import BUILT_IN_ROLES, PERMISSION_LABELS, Role, TenantPerm, role_catalog
from app.services import access_tokens, api_keys, roles, tenants
from app.web.rendering import render
from app.web.scope import current_org, here
from app.web.tenant import bp
from app.web.tenant.forms import (
    CreateApiKeyForm,
    DeleteRoleForm,
    RoleForm,
    UpdateTenantRulesForm,
    UpdateTokenSettingsForm,
)
from app.web.views import form_status, require_tenant


@bp.get("/")
def home():
    """The current organization if there is one, else the organization list."""
    org = current_org.get()
    if org is not None:
        return redirect(url_for("tenant.org.dashboard", org=org.slug))
    return redirect(url_for("tenant.orgs.index"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    require_tenant(TenantPerm.SETTINGS_UPDATE)
    form = rules_form()
    if form.validate_on_submit():
        try:
            tenants.update_tenant_rules(
                here.actor,
                here.tenant,
                allow_signup=form.allow_signup.data,
                signup_email_domains=re.split(r"[\s,;]+", form.signup_email_domains.data or ""),
                personal_orgs=form.personal_orgs.data,
                members_can_create_orgs=form.members_can_create_orgs.data,
                seat_limit=form.seat_limit.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Tenant settings saved.", "success")
            return redirect(url_for("tenant.settings"), code=303)
    return settings_page(rules=form, status=form_status(form))


def rules_form(*, submitted: bool = True) -> UpdateTenantRulesForm:
    """The sign-up rules form, filled with the tenant's current rules (and, when
    ``submitted``, with what the request posted over them)."""
    tenant = here.tenant
    data = {
        "allow_signup": tenant.allow_signup,
        "signup_email_domains": "\n".join(tenant.signup_email_domains),
        "personal_orgs": tenant.personal_orgs,
        "members_can_create_orgs": tenant.members_can_create_orgs,
        "seat_limit": tenant.seat_limit,
    }
    if submitted:
        return UpdateTenantRulesForm(data=data)
    return UpdateTenantRulesForm(formdata=None, data=data)


def settings_page(
    *, rules=None, role_form=None, key_form=None, token_form=None, new_key=None, status=200
):
    """The whole settings page; each form is fresh unless the caller brings it with errors."""
    tenant = here.tenant
    if token_form is None:
        token_form = UpdateTokenSettingsForm(
            formdata=None,
            data={
                "token_audience": tenant.token_audience or "",
                "token_lifetime_minutes": tenant.token_lifetime_minutes,
            },
        )
    return render(
        "tenant/settings.html",
        form=rules if rules is not None else rules_form(submitted=False),
        role_form=role_form or RoleForm(formdata=None),
        built_in_roles=BUILT_IN_ROLES.values(),
        custom_roles=roles.list_custom_roles(tenant),
        permission_labels=PERMISSION_LABELS,
        key_form=key_form
        or CreateApiKeyForm(formdata=None, data={"key_permissions": ["org:read"]}),
        token_form=token_form,
        new_key=new_key,
        keys=api_keys.list_keys_with_scope(tenant),
        signing_keys=access_tokens.published_keys(tenant),
        issuer=access_tokens.issuer(tenant),
        audience=tenant.effective_token_audience,
        now=utcnow(),
        status=status,
    )


@bp.post("/settings/roles")
def create_role():
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
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash(f"The {role.name} role is created.", "success")
            return redirect(url_for("tenant.settings", _anchor="roles"), code=303)
    return settings_page(role_form=form, status=422)


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
            flash(f"The {role.name} role is saved.", "success")
            return redirect(url_for("tenant.settings", _anchor="roles"), code=303)
        db.session.rollback()
    return render(
        "tenant/role.html",
        role=role,
        form=form,
        delete_form=_delete_form(role),
        status=form_status(form),
    )


def _delete_form(role, formdata=None):
    form = DeleteRoleForm(formdata=formdata) if formdata is not None else DeleteRoleForm()
    catalog = role_catalog(here.tenant.id)
    form.reassign_to.choices = [
        SelectChoice(key, definition.name)
        for key, definition in catalog.items()
        if key not in (role.key, Role.OWNER)
    ]
    return form


@bp.post("/settings/roles/<public_id>/delete")
def delete_role(public_id: str):
    require_tenant(TenantPerm.ROLES_MANAGE)
    role = roles.get_role(here.tenant, public_id)
    form = _delete_form(role)
    name = role.name
    try:
        moved = roles.delete_role(
            here.actor, here.tenant, role, reassign_to=form.reassign_to.data or None
        )
    except ServiceError as error:
        db.session.rollback()
        if error.status_code == 403:
            raise
        flash(error.message, "error")
        return redirect(url_for("tenant.edit_role", public_id=public_id), code=303)
    db.session.commit()
    suffix = f"; {moved} membership(s) moved to another role" if moved else ""
    flash(f"The {name} role is deleted{suffix}.", "success")
    return redirect(url_for("tenant.settings", _anchor="roles"), code=303)
