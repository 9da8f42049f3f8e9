"""Load the org named in the URL once per request, and what the viewer may do there."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, request, url_for

from app.orgs import bp
from app.policy import access
from app.services import orgs
from app.services.errors import NotFound


@bp.url_value_preprocessor
def pull_org_slug(_endpoint: str | None, values: dict[str, Any] | None) -> None:
    g.org_slug = values.pop("org", None) if values else None


@bp.url_defaults
def add_org_slug(endpoint: str, values: dict[str, Any]) -> None:
    org = g.get("org")
    if (
        org is not None
        and "org" not in values
        and current_app.url_map.is_endpoint_expecting(endpoint, "org")
    ):
        values["org"] = org.slug


@bp.before_request
def load_org():
    if g.get("org_slug") is None or g.get("user") is None:
        return None
    try:
        g.org = orgs.get_org(g.tenant, g.org_slug)
    except NotFound:
        new_slug = orgs.current_slug_for(g.tenant, g.org_slug)
        if new_slug is None:
            abort(404)
        args = {**(request.view_args or {}), "org": new_slug, **request.args.to_dict()}
        return redirect(url_for(request.endpoint or "tenant.orgs.index", **args), code=301)
    g.access = access(g.user, g.org)
    return None
