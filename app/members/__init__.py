"""Members of an organization: the list, role changes, removal, leaving, ownership.

Nested in the tenant blueprint. The prefix stops at the org so the export sits beside
the page (``…/orgs/<org>/members`` and ``…/orgs/<org>/members.csv``); every rule here
starts with ``/members``.
"""

from flask import Blueprint

from app.orgs import scope as org_scope

bp = Blueprint("members", __name__, url_prefix="/orgs/<org>")

# The org named in the URL and the viewer's access to it, loaded once per request by the
# very functions the organizations blueprint uses (g.org, g.access; old slugs redirect).
bp.url_value_preprocessor(org_scope.pull_org_slug)
bp.url_defaults(org_scope.add_org_slug)
bp.before_request(org_scope.load_org)

from app.members import routes  # noqa: E402, F401
