from flask import g, redirect, url_for

from app.tenant import bp


@bp.get("/")
def home():
    """The current organization if there is one, else the organization list."""
    org = g.get("current_org")
    if org is not None:
        return redirect(url_for("tenant.orgs.dashboard", org=org.slug))
    return redirect(url_for("tenant.orgs.index"))
