"""Load the tenant from the URL and make sure the visitor may be here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, flash, g, redirect, request, session, url_for

from app.auth_session import signed_in_user
from app.extensions import db, htmx
from app.models import Tenant, User
from app.policy import Perm
from app.rendering import htmx_redirect, render, wants_fragment, wants_json
from app.services import orgs
from app.services.errors import NotFound
from app.services.tenants import get_tenant
from app.staff import view_as
from app.tenant import bp

F = TypeVar("F", bound=Callable[..., Any])
CURRENT_ORG_KEY = "current_org"


def public(view: F) -> F:
    """Mark a tenant view as open to visitors who are not signed in (sign-in, sign-up)."""
    view.tenant_public = True  # type: ignore[attr-defined]
    return view


@bp.url_value_preprocessor
def pull_tenant_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.tenant_slug = values.pop("tenant") if values else None


@bp.url_defaults
def add_tenant_slug(endpoint: str, values: dict[str, Any]) -> None:
    tenant: Tenant | None = g.get("tenant")
    if (
        tenant is not None
        and "tenant" not in values
        and current_app.url_map.is_endpoint_expecting(endpoint, "tenant")
    ):
        values["tenant"] = tenant.slug


@bp.before_request
def load_tenant_and_check_visitor():
    try:
        g.tenant = get_tenant(g.tenant_slug)
    except NotFound:
        abort(404)
    if g.tenant.is_suspended:
        if wants_json():
            abort(403, f"{g.tenant.name} is suspended.")
        return render("tenant/suspended.html", status=403)

    # Support staff viewing as a user of this tenant: read-only, before any view runs.
    viewing, expired = view_as.viewing_in(g.tenant)
    if expired:
        return _end_expired_view_as(viewing)
    if viewing is not None:
        if request.method not in ("GET", "HEAD"):
            abort(403, view_as.READ_ONLY)
        g.viewing_as = viewing

    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "tenant_public", False):
        return None

    if viewing is not None:
        # Only g.user: Flask-Login's current_user stays the staff account.
        g.user = viewing.user
        g.current_org = orgs.remembered_org(viewing.user)
        return None

    user: User | None = signed_in_user(g.tenant)
    if user is not None:
        g.user = user
        return None
    if isinstance(_current_account(), User):
        abort(404)  # another tenant's user: this tenant does not exist for them
    if wants_json():
        abort(401, "Sign in to this tenant first.")
    login_url = url_for("tenant.auth.login", next=request.full_path.rstrip("?"))
    if htmx and wants_fragment():
        return htmx_redirect(login_url)
    return redirect(login_url)


def _end_expired_view_as(viewing: view_as.Viewing):
    view_as.end(viewing.staff, "expired")
    db.session.commit()
    flash(f"Your view as {viewing.user.email} has ended: its 30 minutes are up.", "info")
    target = url_for("staff.user", public_id=viewing.user.public_id)
    if htmx and wants_fragment():
        return htmx_redirect(target)
    return redirect(target)


def current_org():
    """The switcher's choice, re-checked on each request at its first use: a membership
    removed or an org deleted meanwhile clears it instead of leaving a stale one."""
    if "current_org" not in g:
        g.current_org = _current_org(g.user) if g.get("user") is not None else None
    return g.current_org


def _current_org(user: User):
    public_id = session.get(CURRENT_ORG_KEY)
    if not public_id:
        return None
    here = g.get("org")
    granted = g.get("access")
    if here is not None and here.public_id == public_id and granted and granted.can(Perm.ORG_READ):
        return here  # the page's own org, already loaded and checked
    org = orgs.accessible_org(user, public_id)
    if org is None:
        session.pop(CURRENT_ORG_KEY, None)
    return org


def _current_account():
    from flask_login import current_user

    return current_user._get_current_object()


@bp.context_processor
def tenant_template_context() -> dict[str, Any]:
    return {
        "tenant": g.get("tenant"),
        "user": g.get("user"),
        "current_org": current_org(),
        "viewing_as": g.get("viewing_as"),
    }
