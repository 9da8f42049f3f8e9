"""Development-only pages: the outbox as a mailbox at /dev/mail (debug mode only)."""

from flask import Blueprint

bp = Blueprint("dev", __name__, url_prefix="/dev")

from app.web.dev import routes  # noqa: E402, F401
