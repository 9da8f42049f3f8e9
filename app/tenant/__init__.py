"""The tenant scope: everything under ``/t/<tenant>``.

The tenant is loaded and the visitor checked once per request, here; nested blueprints
(auth, organizations, and later members and invitations) inherit both.
"""

from flask import Blueprint

bp = Blueprint("tenant", __name__, url_prefix="/t/<tenant>")

from app.audit import bp as audit_bp  # noqa: E402
from app.auth import bp as auth_bp  # noqa: E402
from app.members import bp as members_bp  # noqa: E402
from app.org_invitations import bp as org_invitations_bp  # noqa: E402
from app.orgs import bp as orgs_bp  # noqa: E402
from app.teams import bp as teams_bp  # noqa: E402
from app.tenant import api_access, routes, scope  # noqa: E402, F401

bp.register_blueprint(auth_bp)
bp.register_blueprint(orgs_bp)
bp.register_blueprint(members_bp)
bp.register_blueprint(teams_bp)
bp.register_blueprint(audit_bp)
bp.register_blueprint(org_invitations_bp)
