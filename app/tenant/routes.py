import re

from flask import abort, flash, g, redirect, url_for

from app.extensions import db
from app.rendering import render
from app.services import tenants
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.tenant import bp
from app.tenant.forms import UpdateTenantRulesForm


@bp.get("/")
def home():
    """The current organization if there is one, else the organization list."""
    org = g.get("current_org")
    if org is not None:
        return redirect(url_for("tenant.orgs.dashboard", org=org.slug))
    return redirect(url_for("tenant.orgs.index"))


@bp.route("/settings", methods=["GET", "POST"])
def settings():
    if not g.user.is_tenant_admin:
        abort(403, "Only tenant owners and admins can change tenant settings.")
    tenant = g.tenant
    form = UpdateTenantRulesForm(
        data={
            "allow_signup": tenant.allow_signup,
            "signup_email_domains": "\n".join(tenant.signup_email_domains),
            "personal_orgs": tenant.personal_orgs,
            "members_can_create_orgs": tenant.members_can_create_orgs,
        }
    )
    if form.validate_on_submit():
        try:
            tenants.update_tenant_rules(
                Actor.for_user(g.user),
                tenant,
                allow_signup=form.allow_signup.data,
                signup_email_domains=re.split(r"[\s,;]+", form.signup_email_domains.data or ""),
                personal_orgs=form.personal_orgs.data,
                members_can_create_orgs=form.members_can_create_orgs.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Tenant settings saved.", "success")
            return redirect(url_for("tenant.settings"), code=303)
    status = 422 if form.errors or form.form_errors else 200
    return render("tenant/settings.html", form=form, status=status)
