"""Inviting people to an org, and the org's invitations and join links, at
/t/<tenant>/orgs/<org>/invitations.

Named "invitations" inside the tenant blueprint (endpoints ``tenant.invitations.*``);
the invitee's own pages are the top-level ``invitations`` blueprint (``invitations.*``).
"""

from flask import Blueprint

from app.orgs import scope as org_scope

bp = Blueprint("invitations", __name__, url_prefix="/orgs/<org>/invitations")
# The same org loading and access check as the org pages themselves.
bp.url_value_preprocessor(org_scope.pull_org_slug)
bp.url_defaults(org_scope.add_org_slug)
bp.before_request(org_scope.load_org)

from app.org_invitations import routes  # noqa: E402, F401
