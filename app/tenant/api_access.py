"""How code reaches a tenant: API keys and signing keys on the settings page, a signed-in
user's access token (``POST /t/<tenant>/token``) and the public JWKS that verifies it."""

from __future__ import annotations

from flask import abort, current_app, flash, g, jsonify, redirect, url_for

from app.extensions import db, limiter
from app.rendering import returns_json
from app.services import access_tokens, api_keys
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.tenant import bp
from app.tenant.forms import CreateApiKeyForm, UpdateTokenSettingsForm
from app.tenant.routes import require_tenant_manager, settings_page
from app.tenant.scope import current_org, public


def _token_limit() -> str:
    return current_app.config["TOKEN_RATE_LIMIT"]


@bp.post("/token")
@returns_json
@limiter.limit(_token_limit)
def access_token():
    """A short-lived JWT for the signed-in user, carrying their current organization."""
    token = access_tokens.mint(g.tenant, g.user, current_org())
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
    response = jsonify(access_tokens.jwks(g.tenant))
    # Verifiers cache it; after a rotation they refetch when they meet an unknown kid.
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _require_key_manager() -> None:
    if not api_keys.can_manage(g.user):
        abort(403, "Only tenant owners and admins manage API keys.")


@bp.get("/settings/api-keys")
def api_keys_page():
    """Where a reload after creating a key lands: the list, without the secret."""
    return redirect(url_for("tenant.settings", _anchor="api-keys"))


@bp.post("/settings/api-keys")
def create_api_key():
    _require_key_manager()
    form = CreateApiKeyForm()
    if form.validate_on_submit():
        try:
            made = api_keys.create_key(
                Actor.for_user(g.user),
                g.tenant,
                name=form.key_name.data,
                expires_in_days=form.expires_in_days.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            # Shown once, on this response only: it is never stored, so never shown again.
            response = settings_page(new_key=made)
            response.headers["HX-Push-Url"] = url_for("tenant.settings")
            return response
    return settings_page(key_form=form, status=422)


@bp.post("/settings/api-keys/<public_id>/revoke")
def revoke_api_key(public_id: str):
    _require_key_manager()
    key = api_keys.get_key(g.tenant, public_id)
    api_keys.revoke_key(Actor.for_user(g.user), g.tenant, key)
    db.session.commit()
    flash(f"The key “{key.name}” is revoked: requests with it now get 401.", "success")
    return redirect(url_for("tenant.settings", _anchor="api-keys"), code=303)


@bp.post("/settings/tokens")
def update_token_settings():
    require_tenant_manager()
    form = UpdateTokenSettingsForm()
    if form.validate_on_submit():
        try:
            access_tokens.update_settings(
                Actor.for_user(g.user),
                g.tenant,
                audience=form.token_audience.data,
                lifetime_minutes=form.token_lifetime_minutes.data,
            )
        except ValidationFailed as error:
            form.apply_service_error(error)
        else:
            db.session.commit()
            flash("Access token settings saved.", "success")
            return redirect(url_for("tenant.settings", _anchor="tokens"), code=303)
    return settings_page(token_form=form, status=422)


@bp.post("/settings/signing-keys/rotate")
def rotate_signing_key():
    require_tenant_manager()
    key = access_tokens.rotate(Actor.for_user(g.user), g.tenant)
    db.session.commit()
    flash(
        f"New signing key {key.kid}. The old one stays published until its tokens expire.",
        "success",
    )
    return redirect(url_for("tenant.settings", _anchor="signing-keys"), code=303)
