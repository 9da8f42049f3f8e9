"""How code reaches a tenant: the settings pages for API keys (with access token
settings) and for signing keys, a signed-in user's access token
(``POST /t/<tenant>/token``) and the public JWKS that verifies it."""

from __future__ import annotations

from flask import current_app, flash, jsonify, redirect, request, url_for

from app.errors import NotFound, ValidationFailed
from app.extensions import db, limiter
from app.models import Organization, utcnow
from app.policy import KEY_PERMISSIONS, TenantPerm
from app.services import access_tokens, api_keys, orgs
from app.web.rendering import returns_json
from app.web.scope import current_org, here
from app.web.tenant import bp, open_to_unverified, public
from app.web.tenant.forms import CreateApiKeyForm, NarrowApiKeyForm, UpdateTokenSettingsForm
from app.web.tenant.routes import settings_page
from app.web.views import confirmation_page, form_status, require_tenant


def _token_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


@bp.post("/token")
@open_to_unverified
@returns_json
@limiter.limit(_token_limit)
def access_token():
    """A short-lived JWT for the signed-in user, carrying their current organization.
    An account whose address is not proven gets one too: it says ``email_verified:
    false`` and names no org, so the product's backend can decide."""
    token = access_tokens.mint(here.tenant, here.user, current_org.get())
    db.session.commit()  # the tenant's first token also makes its first signing key
    response = jsonify(
        access_token=token.value,
        token_type="Bearer",  # noqa: S106 - the OAuth token type, not a secret
        expires_in=token.expires_in,
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/jwks.json")
@public
def jwks():
    response = jsonify(access_tokens.jwks(here.tenant))
    # Verifiers cache it; after a rotation they refetch when they meet an unknown kid.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/settings/api-keys", methods=["GET", "POST"])
def settings_api_keys():
    require_tenant(TenantPerm.API_KEYS_MANAGE)
    form = CreateApiKeyForm()
    if not form.is_submitted():
        form.key_permissions.data = ["org:read"]
    elif form.validate():
        org, found = _limit_org(form)
        if found:
            try:
                made = api_keys.create_key(
                    here.actor,
                    here.tenant,
                    name=form.key_name.data,
                    permissions=form.key_permissions.data or [],
                    org=org,
                    expires_in_days=form.expires_in_days.data,
                )
            except ValidationFailed as error:
                db.session.rollback()
                _show_on(form, error)
            else:
                db.session.commit()
                # Shown once, on this answer only: never stored, so never shown again (a
                # reload is a GET of the page, which lists the key without its secret).
                response = _api_keys_page(new_key=made)
                # The form stays in view after a swap (its errors are there); the new
                # key is at the top of the page.
                response.headers["HX-Reswap"] = "innerHTML show:window:top"
                return response
    return _api_keys_page(key_form=form, status=form_status(form))


def _api_keys_page(*, key_form=None, token_form=None, new_key=None, status=200):
    tenant = here.tenant
    if token_form is None:
        token_form = UpdateTokenSettingsForm(
            formdata=None,
            data={
                "token_audience": tenant.token_audience or "",
                "token_lifetime_minutes": tenant.token_lifetime_minutes,
            },
        )
    return settings_page(
        "tenant/settings/api_keys.html",
        key_form=key_form
        or CreateApiKeyForm(formdata=None, data={"key_permissions": ["org:read"]}),
        token_form=token_form,
        new_key=new_key,
        keys=api_keys.list_keys_with_scope(tenant),
        issuer=access_tokens.issuer(tenant),
        audience=tenant.effective_token_audience,
        now=utcnow(),
        status=status,
    )


def _limit_org(form) -> tuple[Organization | None, bool]:
    """The org the form limits a key to (None: the whole tenant), and whether the slug
    named one; an unknown slug is an error next to its field."""
    slug = (form.limit_to_org.data or "").strip().strip("/")
    if not slug:
        return None, True
    try:
        return orgs.get_org(here.tenant, slug), True
    except NotFound:
        form.limit_to_org.errors = [*form.limit_to_org.errors, "No organization has that slug."]
        return None, False


def _show_on(form, error: ValidationFailed) -> None:
    """The service names the key's ``permissions``; the form's field is key_permissions
    (the role form on the settings page has its own ``permissions``)."""
    if "permissions" in error.field_errors:
        error.field_errors["key_permissions"] = error.field_errors.pop("permissions")
    form.apply_service_error(error)


@bp.route("/settings/api-keys/<public_id>", methods=["GET", "POST"])
def narrow_api_key(public_id: str):
    """What a key may do, narrowed: fewer permissions or a smaller subtree, never more."""
    require_tenant(TenantPerm.API_KEYS_MANAGE)
    key = api_keys.get_key(here.tenant, public_id)
    row = api_keys.row_of(key)
    form = NarrowApiKeyForm(
        data={
            "key_permissions": sorted(row.scope.permissions & KEY_PERMISSIONS),
            "limit_to_org": row.org.slug if row.org is not None else "",
        }
    )
    if form.validate_on_submit():  # a revoked key: the service refuses (409)
        org, found = _limit_org(form)
        if found:
            try:
                api_keys.narrow_key(
                    here.actor,
                    here.tenant,
                    key,
                    permissions=form.key_permissions.data or [],
                    org=org,
                )
            except ValidationFailed as error:
                _show_on(form, error)
            else:
                db.session.commit()
                flash(f"“{key.name}” narrowed.", "success")
                return redirect(url_for("tenant.narrow_api_key", public_id=public_id), code=303)
        db.session.rollback()
    return settings_page(
        "tenant/api_key.html",
        row=row,
        form=form,
        now=utcnow(),
        status=form_status(form),
    )


@bp.route("/settings/api-keys/<public_id>/revoke", methods=["GET", "POST"])
def revoke_api_key(public_id: str):
    require_tenant(TenantPerm.API_KEYS_MANAGE)
    key = api_keys.get_key(here.tenant, public_id)
    if request.method == "GET":
        return confirmation_page(
            title=f"Revoke “{key.name}”?",
            question=f"Revoke the API key “{key.name}”?",
            consequence="Code using it stops working at once. This can't be undone: "
            "for access again, make a new key.",
            button="Revoke key",
            cancel_url=url_for("tenant.settings_api_keys"),
        )
    api_keys.revoke_key(here.actor, here.tenant, key)
    db.session.commit()
    flash(f"“{key.name}” revoked: requests with it are refused from now on.", "success")
    return redirect(url_for("tenant.settings_api_keys"), code=303)


@bp.route("/settings/tokens", methods=["GET", "POST"])
def update_token_settings():
    """The access token settings' form, on the API keys and tokens page; this address
    answers GET with that page, so reloading a form shown with its errors shows it again."""
    require_tenant(TenantPerm.SIGNING_KEYS_MANAGE)
    require_tenant(TenantPerm.API_KEYS_MANAGE)
    form = UpdateTokenSettingsForm()
    if form.validate_on_submit():
        try:
            access_tokens.update_settings(
                here.actor,
                here.tenant,
                audience=form.token_audience.data,
                lifetime_minutes=form.token_lifetime_minutes.data,
            )
        except ValidationFailed as error:
            db.session.rollback()
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Access token settings saved.", "success")
            return redirect(url_for("tenant.settings_api_keys", _anchor="tokens"), code=303)
    if not form.is_submitted():
        return _api_keys_page()
    return _api_keys_page(token_form=form, status=form_status(form))


@bp.get("/settings/signing-keys")
def settings_signing_keys():
    require_tenant(TenantPerm.SIGNING_KEYS_MANAGE)
    return settings_page(
        "tenant/settings/signing_keys.html",
        signing_keys=access_tokens.published_keys(here.tenant),
        issuer=access_tokens.issuer(here.tenant),
    )


@bp.route("/settings/signing-keys/rotate", methods=["GET", "POST"])
def rotate_signing_key():
    require_tenant(TenantPerm.SIGNING_KEYS_MANAGE)
    if request.method == "GET":
        return confirmation_page(
            title="Rotate the signing key?",
            question="Start signing access tokens with a new key?",
            consequence="Tokens already issued stay valid until they expire: the old key "
            "stays in the JWKS until then. Verifiers fetch the new key when they meet it.",
            button="Rotate signing key",
            cancel_url=url_for("tenant.settings_signing_keys"),
            danger=False,
        )
    key = access_tokens.rotate(here.actor, here.tenant)
    db.session.commit()
    flash(
        f"New signing key {key.kid}. The old one stays published until its tokens expire.",
        "success",
    )
    return redirect(url_for("tenant.settings_signing_keys"), code=303)
