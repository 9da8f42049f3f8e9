"""The audit log as a tenant reads it: one org's at ``/t/<tenant>/orgs/<org>/audit`` and
the whole tenant's at ``/t/<tenant>/audit``, each with a CSV export beside it.

Nested in the tenant blueprint with no prefix of its own, so both sit where they read
best. The org rules load the org named in the URL (g.org, g.access; old slugs redirect)
with the very functions the organizations blueprint uses; the tenant-wide rules have no
``<org>`` in them, so those functions leave them alone.
"""

from flask import Blueprint

from app.orgs import scope as org_scope

bp = Blueprint("audit", __name__)
bp.url_value_preprocessor(org_scope.pull_org_slug)
bp.url_defaults(org_scope.add_org_slug)
bp.before_request(org_scope.load_org)

from app.audit import routes  # noqa: E402, F401
