"""The tenant scope: everything under ``/t/<tenant>``.

The tenant is loaded and the visitor checked once per request, here; nested blueprints
(auth now, organizations, members and invitations later) inherit both.
"""

from flask import Blueprint

bp = Blueprint("tenant", __name__, url_prefix="/t/<tenant>")

from app.auth import bp as auth_bp  # noqa: E402
from app.tenant import routes, scope  # noqa: E402, F401

bp.register_blueprint(auth_bp)
