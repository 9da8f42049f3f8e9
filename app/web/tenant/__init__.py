"""The tenant scope: everything under ``/t/<tenant>``.

The tenant named in the URL is loaded and the visitor checked once per request, here,
into ``app.web.scope.here``; nested blueprints (sign-in, the org tree, each org and its
sections) inherit both, and ``url_for`` fills the tenant's slug in by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for

from app.errors import NotFound
from app.extensions import db, htmx
from app.policy import Perm
from app.services import email_verification
from app.services.view_as import VIEW_AS_MINUTES
from app.web import view_as
from app.web.identity import prefetch_user, user_id_in_session, visitor_in
from app.web.rendering import endpoint_expects, htmx_redirect, render, wants_fragment, wants_json
from app.web.scope import Scope, current_org, first_read

bp = Blueprint("tenant", __name__, url_prefix="/t/<tenant>")
F = TypeVar("F", bound=Callable[..., Any])


def public(view: F) -> F:
    """Mark a tenant view as open to visitors who are not signed in (sign-in, sign-up)."""
    view.tenant_public = True  # type: ignore[attr-defined]
    return view


def open_to_unverified(view: F) -> F:
    """Mark a signed-in view as open to an account whose address is not proven yet (its
    account page, the "check your inbox" page). Every other view answers such an account
    with that page: it sees nothing of any org until the address is proven."""
    view.open_to_unverified = True  # type: ignore[attr-defined]
    return view


@bp.url_value_preprocessor
def pull_tenant_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.tenant_slug = values.pop("tenant") if values else None


@bp.url_defaults
def add_tenant_slug(endpoint: str, values: dict[str, Any]) -> None:
    scope: Scope | None = g.get("scope")
    if scope is not None and "tenant" not in values and endpoint_expects(endpoint, "tenant"):
        values["tenant"] = scope.tenant.slug


@bp.before_request
def load_tenant_and_check_visitor():
    # The tenant (from this process's cache, under its current stamp), the user the
    # session names and the switcher's org, in one query; Flask-Login then checks that
    # user as always.
    read = first_read(g.tenant_slug, user_id_in_session(), current_org.remembered_id())
    if read is None:
        raise NotFound("No such tenant.")
    prefetch_user(read.user)
    tenant = read.tenant
    g.scope = scope = Scope(tenant)
    if tenant.is_suspended:
        if wants_json():
            abort(403, f"{tenant.name} is suspended.")
        return render("tenant/suspended.html", status=403)

    visitor = visitor_in(tenant)
    if visitor.view_ended is not None:
        return _end_expired_view_as(visitor.view_ended)
    if visitor.viewing is not None:
        # Support staff viewing as a user: read-only, before any view runs (the refusal
        # page still shows whose view it is, with its banner).
        scope.viewing = visitor.viewing
        if request.method not in ("GET", "HEAD"):
            scope.user = visitor.user
            abort(403, view_as.READ_ONLY)

    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "tenant_public", False):
        return None
    if visitor.user is not None:
        scope.user = visitor.user
        if not visitor.user.email_verified and not _open_to_unverified(view):
            return _confirm_address_first()
        return None
    if visitor.other_tenant:
        abort(404)  # another tenant's user: this tenant does not exist for them
    if wants_json():
        abort(401, "Sign in to this tenant first.")
    login_url = url_for("tenant.auth.login", next=request.full_path.rstrip("?"))
    if htmx and wants_fragment():
        return htmx_redirect(login_url)
    return redirect(login_url)


def _open_to_unverified(view: Callable[..., Any] | None) -> bool:
    return getattr(view, "open_to_unverified", False)


def _confirm_address_first():
    """An unproven account asked for a page of the tenant: the "check your inbox" page
    instead (for htmx, the browser goes there; JSON callers get a 403 saying why)."""
    if wants_json():
        raise email_verification.EmailNotVerified(email_verification.UNVERIFIED)
    target = url_for("tenant.account.verify_pending")
    if htmx and wants_fragment():
        return htmx_redirect(target)
    return redirect(target, code=303)


def _end_expired_view_as(viewing: view_as.Viewing):
    view_as.end_expired(viewing)
    db.session.commit()
    flash(
        f"Your view as {viewing.user.email} has ended: its {VIEW_AS_MINUTES} minutes are up.",
        "info",
    )
    target = url_for("staff.user", public_id=viewing.user.public_id)
    if htmx and wants_fragment():
        return htmx_redirect(target)
    return redirect(target)


def _org_on_screen(scope: Scope | None):
    """The org the page is about (one the visitor may open), else the switcher's choice:
    what the header names."""
    if scope is not None and scope.org is not None and scope.access.can(Perm.ORG_READ):
        return scope.org
    return current_org.get()


@bp.context_processor
def tenant_template_context() -> dict[str, Any]:
    scope: Scope | None = g.get("scope")
    return {
        "tenant": scope.tenant if scope else None,
        "user": scope.user if scope else None,
        "current_org": current_org.get(),
        "org_on_screen": _org_on_screen(scope),
        "viewing_as": scope.viewing if scope else None,
    }


from app.web.account import bp as account_bp  # noqa: E402
from app.web.audit import tenant_bp as audit_bp  # noqa: E402
from app.web.auth import bp as auth_bp  # noqa: E402
from app.web.org import bp as org_bp  # noqa: E402
from app.web.orgs import bp as orgs_bp  # noqa: E402
from app.web.tenant import api_access, routes  # noqa: E402, F401

bp.register_blueprint(auth_bp)
bp.register_blueprint(account_bp)
bp.register_blueprint(orgs_bp)
bp.register_blueprint(org_bp)
bp.register_blueprint(audit_bp)
