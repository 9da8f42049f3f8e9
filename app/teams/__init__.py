"""Teams: sub-groups of an org's members, at /t/<tenant>/orgs/<org>/teams."""

from flask import Blueprint

from app.orgs import scope as org_scope

bp = Blueprint("teams", __name__, url_prefix="/orgs/<org>/teams")
# The same org loading and access check as the org pages themselves.
bp.url_value_preprocessor(org_scope.pull_org_slug)
bp.url_defaults(org_scope.add_org_slug)
bp.before_request(org_scope.load_org)

from app.teams import routes  # noqa: E402, F401
