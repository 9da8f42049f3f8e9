"""Teams: sub-groups of an org's members, at ``…/orgs/<org>/teams``."""

from flask import Blueprint

bp = Blueprint("teams", __name__, url_prefix="/teams")

from app.web.org.teams import routes  # noqa: E402, F401
