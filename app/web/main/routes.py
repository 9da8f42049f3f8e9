"""The site root: where to find your workspace."""

from flask import redirect, request, url_for

from app.errors import ValidationFailed
from app.services.validation import make_slug
from app.web.main import bp
from app.web.rendering import render


@bp.get("/")
def index():
    workspace = (request.args.get("workspace") or "").strip()
    error = None
    if workspace:
        try:
            return redirect(url_for("tenant.auth.login", tenant=make_slug(workspace)))
        except ValidationFailed:
            error = "That is not a workspace address."
    return render("index.html", workspace=workspace, error=error)
