"""The support console for the platform's own staff, at ``/staff/``."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from app.web.staff import routes  # noqa: E402, F401
