"""One organization, at ``/t/<tenant>/orgs/<org>``: its dashboard and settings, and the
sections that live inside it (members, teams, invitations, the audit log).

The org named in the URL and what the visitor may do there are loaded once per request
here, into ``here.org`` and ``here.access``; an old slug answers with a 301 to the new
one. Nested blueprints inherit both, and ``url_for`` fills the org's slug in by itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, request, url_for

from app.errors import NotFound
from app.policy import access_from_roles, read_only, role_catalog
from app.services import orgs
from app.web.rendering import endpoint_expects
from app.web.scope import here

bp = Blueprint("org", __name__, url_prefix="/orgs/<org>")


@bp.url_value_preprocessor
def pull_org_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.org_slug = values.pop("org", None) if values else None


@bp.url_defaults
def add_org_slug(endpoint: str, values: dict[str, Any]) -> None:
    scope = g.get("scope")
    if (
        scope is not None
        and scope.org is not None
        and "org" not in values
        and endpoint_expects(endpoint, "org")
    ):
        values["org"] = scope.org.slug


@bp.before_request
def load_org():
    if here.user is None:
        return None  # the tenant scope has already answered (sign-in, suspended)
    try:
        here.org, roles = orgs.get_org_and_roles(here.tenant, g.org_slug, here.user)
    except NotFound:
        new_slug = orgs.current_slug_for(here.tenant, g.org_slug)
        if new_slug is None:
            raise
        return redirect(_same_page_at(new_slug), code=301)
    granted = access_from_roles(here.user, roles, role_catalog(here.tenant.id))
    # Support viewing as the user: what they may see, nothing they may change.
    here.access = read_only(granted) if here.viewing is not None else granted
    return None


def _same_page_at(slug: str) -> str:
    """This page's URL under the org's new slug, with the query string as it came."""
    url = url_for(request.endpoint or "tenant.orgs.index", **(request.view_args or {}), org=slug)
    query = request.query_string.decode("latin-1")
    return f"{url}?{query}" if query else url


from app.web.audit import org_bp as audit_bp  # noqa: E402
from app.web.org import routes, settings  # noqa: E402, F401
from app.web.org.invitations import bp as invitations_bp  # noqa: E402
from app.web.org.members import bp as members_bp  # noqa: E402
from app.web.org.teams import bp as teams_bp  # noqa: E402

bp.register_blueprint(members_bp)
bp.register_blueprint(teams_bp)
bp.register_blueprint(invitations_bp)
bp.register_blueprint(audit_bp)
